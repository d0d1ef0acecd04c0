package bus

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

const (
	kindEmbedded = "embedded"
	kindExternal = "external"
)

var kinds = []string{kindEmbedded, kindExternal}

// externalURL returns the external NATS server to test against, skipping
// (or failing, if services are required) when there is none.
func externalURL(tb testing.TB) string {
	tb.Helper()
	u := os.Getenv("FOCAL_TEST_NATS_URL")
	if u == "" {
		const msg = "FOCAL_TEST_NATS_URL not set: skipping tests against an external NATS server"
		if os.Getenv("FOCAL_TEST_REQUIRE_SERVICES") == "1" {
			tb.Fatal(msg)
		}
		tb.Skip(msg)
	}
	return u
}

// testConfig returns a Config of the given kind, logging into a recorder.
func testConfig(tb testing.TB, kind string) Config {
	tb.Helper()
	rec := &recorder{}
	tb.Cleanup(func() {
		if tb.Failed() {
			rec.dump(tb)
		}
	})
	cfg := Config{Logger: slog.New(rec), Name: "focal-test"}
	switch kind {
	case kindEmbedded:
		cfg.DataDir = tb.TempDir()
	case kindExternal:
		cfg.URL = externalURL(tb)
	default:
		tb.Fatalf("unknown bus kind %q", kind)
	}
	return cfg
}

// openTest opens a Bus of the given kind that is closed when the test ends.
func openTest(tb testing.TB, kind string) *Bus {
	tb.Helper()
	return openConfig(tb, testConfig(tb, kind))
}

// reopen opens another Bus with the configuration of b (same DataDir or
// same server).
func reopen(tb testing.TB, b *Bus) *Bus {
	tb.Helper()
	return openConfig(tb, b.cfg)
}

func openConfig(tb testing.TB, cfg Config) *Bus {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	b, err := Open(ctx, cfg)
	if err != nil {
		tb.Fatalf("Open(%s) = %v, want nil error", redactURLs(cfg.URL)+cfg.DataDir, err)
	}
	tb.Cleanup(func() {
		if err := b.Close(); err != nil {
			tb.Errorf("Close() = %v, want nil", err)
		}
	})
	return b
}

// logs returns the recorder b logs into.
func logs(tb testing.TB, b *Bus) *recorder {
	tb.Helper()
	rec, ok := b.cfg.Logger.Handler().(*recorder)
	if !ok {
		tb.Fatalf("bus logger handler is %T, want *recorder", b.cfg.Logger.Handler())
	}
	return rec
}

// unique returns a name unique across tests and test processes.
func unique(prefix string) string { return prefix + rand.Text() }

// newStream creates a fresh stream with a unique name and subject prefix,
// deleted when the test ends. mod may adjust the config.
func newStream(tb testing.TB, b *Bus, mod func(*StreamConfig)) (stream, subject string) {
	tb.Helper()
	id := rand.Text()
	stream, subject = "TEST_"+id, "focaltest."+id
	cfg := StreamConfig{Name: stream, Subjects: []string{subject + ".>"}, MaxAge: time.Hour}
	if mod != nil {
		mod(&cfg)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := b.EnsureStream(ctx, cfg); err != nil {
		tb.Fatalf("EnsureStream(%s) = %v, want nil", stream, err)
	}
	tb.Cleanup(func() { deleteTestStream(tb, b, stream) })
	return stream, subject
}

// deleteTestStream removes a test stream from the server, through b or, if b
// was closed, a fresh connection. Embedded streams vanish with TempDir.
func deleteTestStream(tb testing.TB, b *Bus, stream string) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if b.isClosed() {
		if b.Embedded() {
			return
		}
		nb, err := Open(ctx, b.cfg)
		if err != nil {
			tb.Errorf("cleanup: Open(%s) = %v, want nil", redactURLs(b.cfg.URL), err)
			return
		}
		defer func() {
			if err := nb.Close(); err != nil {
				tb.Errorf("cleanup: Close() = %v, want nil", err)
			}
		}()
		b = nb
	}
	if err := b.DeleteStream(ctx, stream); err != nil {
		tb.Errorf("cleanup: DeleteStream(%s) = %v, want nil", stream, err)
	}
}

func publishN(tb testing.TB, b *Bus, subject string, n int) []string {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var sent []string
	for i := range n {
		data := fmt.Sprintf("msg-%04d", i)
		if err := b.Publish(ctx, subject, []byte(data)); err != nil {
			tb.Fatalf("Publish(%s, %s) = %v, want nil", subject, data, err)
		}
		sent = append(sent, data)
	}
	return sent
}

func consumerInfo(tb testing.TB, b *Bus, stream, durable string) *jetstream.ConsumerInfo {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := b.js.Consumer(ctx, stream, durable)
	if err != nil {
		tb.Fatalf("Consumer(%s, %s) = %v, want nil", stream, durable, err)
	}
	info, err := c.Info(ctx)
	if err != nil {
		tb.Fatalf("Consumer(%s, %s).Info() = %v, want nil", stream, durable, err)
	}
	return info
}

func streamMsgs(tb testing.TB, b *Bus, stream string) uint64 {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s, err := b.js.Stream(ctx, stream)
	if err != nil {
		tb.Fatalf("Stream(%s) = %v, want nil", stream, err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		tb.Fatalf("Stream(%s).Info() = %v, want nil", stream, err)
	}
	return info.State.Msgs
}

// waitSettled waits until the durable has no message pending or awaiting an
// ack and has acknowledged (or terminated) up to stream sequence floor.
func waitSettled(tb testing.TB, b *Bus, stream, durable string, floor uint64) {
	tb.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		info := consumerInfo(tb, b, stream, durable)
		if info.NumAckPending == 0 && info.NumPending == 0 && info.AckFloor.Stream == floor {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("consumer %s/%s: ack pending %d, pending %d, ack floor %d; want 0, 0, %d",
				stream, durable, info.NumAckPending, info.NumPending, info.AckFloor.Stream, floor)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// consumeUntil runs Consume until done reports true (checked after every
// handler call) or the timeout expires, which fails the test. handle and
// done run on the calling goroutine (Consume calls its handler there).
func consumeUntil(tb testing.TB, b *Bus, cfg ConsumerConfig, timeout time.Duration,
	handle func(batch []Msg) error, done func() bool,
) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	err := b.Consume(ctx, cfg, func(_ context.Context, batch []Msg) error {
		err := handle(batch)
		if done() {
			cancel()
		}
		return err
	})
	if err != nil {
		tb.Fatalf("Consume(%s/%s) = %v, want nil", cfg.Stream, cfg.Durable, err)
	}
	if !done() {
		tb.Fatalf("Consume(%s/%s) did not finish within %s", cfg.Stream, cfg.Durable, timeout)
	}
}

// recorder is a slog.Handler keeping the records in memory.
type recorder struct {
	mu       sync.Mutex
	records  []string // guarded by mu, in the root recorder only
	attrs    []slog.Attr
	parentOf *recorder // the root recorder, nil for the root itself
}

func (r *recorder) Enabled(context.Context, slog.Level) bool { return true }

func (r *recorder) Handle(_ context.Context, rec slog.Record) error {
	var sb strings.Builder
	sb.WriteString(rec.Level.String() + " " + rec.Message)
	for _, a := range r.attrs {
		sb.WriteString(" " + a.String())
	}
	rec.Attrs(func(a slog.Attr) bool {
		sb.WriteString(" " + a.String())
		return true
	})
	r.root().add(sb.String())
	return nil
}

func (r *recorder) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &recorder{attrs: append(append([]slog.Attr{}, r.attrs...), attrs...), parentOf: r.root()}
}

func (r *recorder) WithGroup(string) slog.Handler { return r }

func (r *recorder) root() *recorder {
	if r.parentOf != nil {
		return r.parentOf
	}
	return r
}

func (r *recorder) add(s string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.records = append(r.records, s)
}

// find returns the records containing all of the given substrings.
func (r *recorder) find(subs ...string) []string {
	root := r.root()
	root.mu.Lock()
	defer root.mu.Unlock()
	var out []string
next:
	for _, rec := range root.records {
		for _, s := range subs {
			if !strings.Contains(rec, s) {
				continue next
			}
		}
		out = append(out, rec)
	}
	return out
}

func (r *recorder) dump(tb testing.TB) {
	tb.Helper()
	for _, rec := range r.find() {
		tb.Log("log: " + rec)
	}
}
