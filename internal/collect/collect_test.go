package collect

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"focal/internal/bus"
	"focal/internal/focal"
	"focal/internal/pipeline"
	"focal/internal/store"
	"focal/internal/store/storetest"
)

// env is a SQLite store, an embedded bus and a pipeline with workers.
type env struct {
	s   *store.Store
	p   *pipeline.Pipeline
	log *slog.Logger
	ctx context.Context
}

func newEnv(t *testing.T) *env {
	t.Helper()
	s := storetest.Open(t, store.SQLite)
	bctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	b, err := bus.Open(bctx, bus.Config{DataDir: t.TempDir(), Name: "focal-test"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
	p := pipeline.New(pipeline.Config{Store: s, Bus: b, Logger: log, Stream: "TEST_" + rand.Text()[:10]})
	wctx, stop := context.WithCancel(context.Background())
	if err := p.Start(wctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stop(); p.Wait() })
	return &env{s: s, p: p, log: log, ctx: focal.NewContextWithPrincipal(context.Background(), focal.System())}
}

func (e *env) feed(t *testing.T, f focal.FeedDef) *focal.FeedDef {
	t.Helper()
	if f.Confidence == 0 {
		f.Confidence = 80
	}
	if f.URL != "" && f.Interval == 0 {
		f.Interval = time.Minute
	}
	f.Enabled = true
	if err := e.s.CreateFeed(e.ctx, &f); err != nil {
		t.Fatal(err)
	}
	return e.reload(t, f.ID)
}

// reload returns the feed as stored (with its poll state).
func (e *env) reload(t *testing.T, id int64) *focal.FeedDef {
	t.Helper()
	f, err := e.s.Feed(e.ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func (e *env) runs(t *testing.T, feedID int64) []*focal.FeedRun {
	t.Helper()
	runs, err := e.s.Runs(e.ctx, feedID, 0)
	if err != nil {
		t.Fatal(err)
	}
	return runs
}

func (e *env) events(t *testing.T) int64 {
	t.Helper()
	n, _, err := e.s.CountEvents(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// waitFor polls cond until it holds, failing the test after a generous
// deadline.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

var iplistOptions = map[string]string{"class": "intrusion-attempts", "type": "brute-force"}

const iplistBody = "# test list\n192.0.2.10\n198.51.100.7\n203.0.113.5\n"

func gzipped(t testing.TB, s string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	if _, err := zw.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestDecodeBody(t *testing.T) {
	tests := []struct {
		name    string
		in      []byte
		limit   int64
		want    string
		wantErr string
	}{
		{"plain", []byte("a\nb\n"), 0, "a\nb\n", ""},
		{"empty", nil, 0, "", ""},
		{"gzip", gzipped(t, "a\nb\n"), 0, "a\nb\n", ""},
		{"at-limit", []byte("abcd"), 4, "abcd", ""},
		{"over-limit", []byte("abcde"), 4, "abcd", "the body is larger than the limit of 4 B"},
		{"gzip-over-limit", gzipped(t, strings.Repeat("x", 5000)), 1024, strings.Repeat("x", 1024), "larger than the limit of 1 KiB"},
		{"zip", []byte("PK\x03\x04rest"), 0, "", "zip archive"},
		{"broken-gzip", append(gzipped(t, "abc")[:12:12], 'x'), 0, "", "gunzip"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := decodeBody(bytes.NewReader(tt.in), "the body", tt.limit)
			var got []byte
			if err == nil {
				got, err = io.ReadAll(r)
			}
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("decodeBody(%q) error = %v, want %q", tt.in, err, tt.wantErr)
			}
			if tt.wantErr == "" || strings.Contains(tt.wantErr, "limit") {
				if string(got) != tt.want {
					t.Errorf("decodeBody(%q) = %q, want %q", tt.in, got, tt.want)
				}
			}
		})
	}
}

func TestFormatBytes(t *testing.T) {
	tests := []struct {
		in   int64
		want string
	}{
		{0, "0 B"}, {1023, "1023 B"}, {1024, "1 KiB"}, {1536, "1.5 KiB"}, {10 << 30, "10 GiB"}, {5 << 20, "5 MiB"},
	}
	for _, tt := range tests {
		if got := formatBytes(tt.in); got != tt.want {
			t.Errorf("formatBytes(%d) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestStallReader(t *testing.T) {
	pr, pw := io.Pipe()
	defer pw.Close()
	ctx, cancel := context.WithCancel(context.Background())
	// The pipe stands for a connection: cancelling closes it.
	go func() {
		<-ctx.Done()
		pr.CloseWithError(ctx.Err())
	}()
	s := newStallReader(pr, 10*time.Millisecond, cancel)
	_, err := s.Read(make([]byte, 10))
	if err == nil || !strings.Contains(err.Error(), "no data received") {
		t.Fatalf("Read of a stalled input = %v, want a stall error", err)
	}
	if !errors.Is(ctx.Err(), context.Canceled) {
		t.Errorf("ctx.Err() = %v, want context.Canceled", ctx.Err())
	}
}
