package bus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// fakeMsg is a jetstream.Msg recording how it was settled.
type fakeMsg struct {
	jetstream.Msg // unused methods panic
	data          string
	delivered     uint64
	seq           uint64

	mu      sync.Mutex
	settled []string // "ack", "nak", "nak 20ms", "term", guarded by mu
}

func (m *fakeMsg) Metadata() (*jetstream.MsgMetadata, error) {
	return &jetstream.MsgMetadata{NumDelivered: m.delivered, Sequence: jetstream.SequencePair{Stream: m.seq}}, nil
}
func (m *fakeMsg) Data() []byte         { return []byte(m.data) }
func (m *fakeMsg) Headers() nats.Header { return nil }
func (m *fakeMsg) Subject() string      { return "s" }
func (m *fakeMsg) record(s string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.settled = append(m.settled, s)
	return nil
}
func (m *fakeMsg) Ack() error                         { return m.record("ack") }
func (m *fakeMsg) Nak() error                         { return m.record("nak") }
func (m *fakeMsg) NakWithDelay(d time.Duration) error { return m.record("nak " + d.String()) }
func (m *fakeMsg) Term() error                        { return m.record("term") }
func (m *fakeMsg) InProgress() error                  { return nil }

func (m *fakeMsg) outcome() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return strings.Join(m.settled, ",")
}

func TestProcess(t *testing.T) {
	t.Parallel()
	poison := errors.New("poison")
	// The handler fails any batch containing a message "bad*".
	handler := func(_ context.Context, batch []Msg) error {
		for _, m := range batch {
			if strings.HasPrefix(string(m.Data), "bad") {
				return fmt.Errorf("%s: %w", m.Data, poison)
			}
		}
		return nil
	}
	type in struct {
		data      string
		delivered uint64
	}
	tests := []struct {
		name       string
		msgs       []in
		cancelled  bool     // handler context already cancelled (shutdown)
		want       []string // settlement per message
		wantTerm   string   // data of terminated messages, comma separated
		wantResult bool
	}{
		{"AllGood", []in{{"a", 1}, {"b", 2}}, false, []string{"ack", "ack"}, "", true},
		{"FailFirstDelivery", []in{{"a", 1}, {"bad", 1}}, false, []string{"nak 20ms", "nak 20ms"}, "", false},
		{"BackoffDoubles", []in{{"a", 3}, {"bad", 4}}, false, []string{"nak 80ms", "nak 160ms"}, "", false},
		{"LastChanceIsolated", []in{{"a", 5}, {"bad", 5}, {"c", 2}}, false, []string{"ack", "term", "nak 40ms"}, "bad", false},
		{"LastChanceAlone", []in{{"bad", 5}}, false, []string{"term"}, "bad", false},
		{"TwoBadOnLastChance", []in{{"bad1", 5}, {"bad2", 6}}, false, []string{"term", "term"}, "bad1,bad2", false},
		{"ShutdownReleases", []in{{"a", 5}, {"bad", 5}}, true, []string{"nak", "nak"}, "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var terms []string
			c := &consumer{
				cfg: withConsumerDefaults(ConsumerConfig{
					Stream: "S", Durable: "d", MaxDeliver: 5, NakDelay: 20 * time.Millisecond,
					OnTerminate: func(m Msg, cause error) {
						if !errors.Is(cause, poison) {
							t.Errorf("OnTerminate(%s) cause = %v, want %v", m.Data, cause, poison)
						}
						terms = append(terms, string(m.Data))
					},
				}),
				handle: handler,
				log:    slog.New(slog.DiscardHandler),
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tc.cancelled {
				cancel()
			}
			var fakes []*fakeMsg
			var jms []jetstream.Msg
			for i, m := range tc.msgs {
				f := &fakeMsg{data: m.data, delivered: m.delivered, seq: uint64(i + 1)}
				fakes = append(fakes, f)
				jms = append(jms, f)
			}
			if got := c.process(ctx, jms); got != tc.wantResult {
				t.Errorf("process(%v) = %v, want %v", tc.msgs, got, tc.wantResult)
			}
			for i, f := range fakes {
				if got := f.outcome(); got != tc.want[i] {
					t.Errorf("settlement(%s, delivered %d) = %q, want %q", f.data, f.delivered, got, tc.want[i])
				}
			}
			if got := strings.Join(terms, ","); got != tc.wantTerm {
				t.Errorf("terminated = %q, want %q", got, tc.wantTerm)
			}
		})
	}
}
