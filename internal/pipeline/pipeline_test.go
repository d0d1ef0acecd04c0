package pipeline

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"focal/internal/bus"
	"focal/internal/focal"
	"focal/internal/lookup"
	"focal/internal/store"
	"focal/internal/store/storetest"
)

// env is a store, a bus and a pipeline on them, with a small
// constituency: org A owns 192.0.2.0/25, org B 198.51.100.0/24 and AS64500,
// org C the domain univ.example.
type env struct {
	s    *store.Store
	b    *bus.Bus
	p    *Pipeline
	orgs map[string]int64
	ctx  context.Context
}

type setup struct {
	dialect  store.Dialect
	external bool
}

func setups(t *testing.T) []setup {
	out := []setup{{store.SQLite, false}, {store.Postgres, false}}
	out = append(out, setup{store.Postgres, true})
	return out
}

func (s setup) String() string {
	if s.external {
		return string(s.dialect) + "+external-nats"
	}
	return string(s.dialect) + "+embedded-nats"
}

func openBus(tb testing.TB, external bool, dir string) *bus.Bus {
	tb.Helper()
	cfg := bus.Config{DataDir: dir, Name: "focal-test"}
	if external {
		u := os.Getenv("FOCAL_TEST_NATS_URL")
		if u == "" {
			storetest.Missing(tb, "FOCAL_TEST_NATS_URL not set: skipping pipeline tests against an external NATS server")
		}
		cfg = bus.Config{URL: u, Name: "focal-test"}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	b, err := bus.Open(ctx, cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { b.Close() })
	return b
}

func newEnv(t *testing.T, su setup, mod func(*Config)) *env {
	t.Helper()
	s := storetest.Open(t, su.dialect)
	b := openBus(t, su.external, t.TempDir())
	ctx := focal.NewContextWithPrincipal(context.Background(), focal.System())
	e := &env{s: s, b: b, orgs: map[string]int64{}, ctx: ctx}
	var entries []lookup.Entry
	for _, o := range []struct {
		name   string
		nets   []string
		asns   []uint32
		domain string
	}{
		{"Org A", []string{"192.0.2.0/25"}, nil, ""},
		{"Org B", []string{"198.51.100.0/24"}, []uint32{64500}, ""},
		{"Org C", nil, nil, "univ.example"},
	} {
		org := &focal.Organisation{Name: o.name, Sector: "isp", Country: "FR", ASNs: o.asns}
		for _, n := range o.nets {
			org.Networks = append(org.Networks, netip.MustParsePrefix(n))
		}
		if o.domain != "" {
			org.Domains = []string{o.domain}
		}
		if err := s.CreateOrganisation(ctx, org); err != nil {
			t.Fatal(err)
		}
		e.orgs[o.name] = org.ID
		entries = append(entries, lookup.Entry{OrgID: org.ID, Networks: org.Networks, ASNs: org.ASNs, Domains: org.Domains})
	}
	tbl, err := lookup.Build(entries)
	if err != nil {
		t.Fatal(err)
	}
	h := &lookup.Holder{}
	h.Store(tbl)
	cfg := Config{Store: s, Bus: b, Lookup: h, Logger: slog.New(slog.DiscardHandler), Stream: "TEST_" + rand.Text()[:10], ChunkSize: 64}
	if mod != nil {
		mod(&cfg)
	}
	e.p = New(cfg)
	if su.external {
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			b.DeleteStream(ctx, cfg.Stream)
		})
	}
	if cfg.Workers >= 0 {
		wctx, cancel := context.WithCancel(context.Background())
		if err := e.p.Start(wctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cancel(); e.p.Wait() })
	} else if err := e.p.EnsureStream(ctx); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *env) feed(t *testing.T, f focal.FeedDef) *focal.FeedDef {
	t.Helper()
	if f.Confidence == 0 {
		f.Confidence = 80
	}
	if err := e.s.CreateFeed(e.ctx, &f); err != nil {
		t.Fatal(err)
	}
	return &f
}

func (e *env) ingest(t *testing.T, f *focal.FeedDef, key, body string) *focal.FeedRun {
	t.Helper()
	ctx, cancel := context.WithTimeout(e.ctx, 30*time.Second)
	defer cancel()
	r, err := e.p.Ingest(ctx, Request{Feed: f, Source: "test", Input: "test-input", Key: key, Body: strings.NewReader(body)})
	if err != nil {
		t.Fatalf("Ingest: %v", err)
	}
	r, err = e.p.WaitRun(ctx, r.ID, nil)
	if err != nil {
		t.Fatalf("WaitRun: %v", err)
	}
	return r
}

func (e *env) events(t *testing.T, f focal.EventFilter) []*focal.Event {
	t.Helper()
	var out []*focal.Event
	if err := e.s.EachEvent(e.ctx, f, func(ev *focal.Event) error { out = append(out, ev); return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

const iplistBody = `# test list
192.0.2.10
198.51.100.7
not-an-address
203.0.113.5
192.0.2.10
2001:db8::1
`

func TestIngestEndToEnd(t *testing.T) {
	for _, su := range setups(t) {
		t.Run(su.String(), func(t *testing.T) {
			e := newEnv(t, su, nil)
			f := e.feed(t, focal.FeedDef{Name: "bf", Format: "iplist", TLP: focal.TLPGreen, Provider: "example",
				Options: map[string]string{"class": "intrusion-attempts", "type": "brute-force"}})
			r := e.ingest(t, f, "", iplistBody)
			if r.State != focal.RunDone || r.Events != 5 || r.Problems != 1 || r.Lines != 6 || r.Stored != 4 {
				t.Errorf("run = %+v; want done, 6 lines, 5 events, 4 stored, 1 problem", r)
			}
			ps, err := e.s.RunProblems(e.ctx, r.ID, 0)
			if err != nil || len(ps) != 1 || ps[0].Line != 4 || ps[0].Raw != "not-an-address" {
				t.Errorf("problems = %+v, %v; want line 4 kept with its text", ps, err)
			}
			evs := e.events(t, focal.EventFilter{})
			if len(evs) != 4 {
				t.Fatalf("%d events stored, want 4 (192.0.2.10 twice is one event)", len(evs))
			}
			byIP := map[string]*focal.Event{}
			for _, ev := range evs {
				byIP[ev.Source.IP.String()] = ev
			}
			if ev := byIP["192.0.2.10"]; ev == nil || ev.Count != 2 || len(ev.Orgs) != 1 || ev.Orgs[0] != e.orgs["Org A"] {
				t.Errorf("192.0.2.10 = %+v; want count 2, matched to org A", ev)
			}
			if ev := byIP["198.51.100.7"]; ev == nil || len(ev.Orgs) != 1 || ev.Orgs[0] != e.orgs["Org B"] || ev.TLP != focal.TLPGreen || ev.Feed != "bf" {
				t.Errorf("198.51.100.7 = %+v; want org B, TLP GREEN, feed bf", ev)
			}
			if ev := byIP["203.0.113.5"]; ev == nil || len(ev.Orgs) != 0 {
				t.Errorf("203.0.113.5 = %+v; want no organisation", ev)
			}
			// Filters.
			if got := e.events(t, focal.EventFilter{OrgID: e.orgs["Org A"]}); len(got) != 1 {
				t.Errorf("org A filter: %d events, want 1", len(got))
			}
			if got := e.events(t, focal.EventFilter{CIDR: netip.MustParsePrefix("192.0.2.0/24")}); len(got) != 1 {
				t.Errorf("cidr filter: %d events, want 1", len(got))
			}
			if got := e.events(t, focal.EventFilter{CIDR: netip.MustParsePrefix("2001:db8::/32")}); len(got) != 1 {
				t.Errorf("v6 cidr filter: %d events, want 1", len(got))
			}
			if got := e.events(t, focal.EventFilter{IP: netip.MustParseAddr("198.51.100.7")}); len(got) != 1 {
				t.Errorf("ip filter: %d events, want 1", len(got))
			}
			if got := e.events(t, focal.EventFilter{Feed: "nope"}); len(got) != 0 {
				t.Errorf("feed filter: %d events, want 0", len(got))
			}
			// Pagination walks every event once.
			seen := map[int64]bool{}
			cursor := ""
			for {
				page, next, err := e.s.Events(e.ctx, focal.EventFilter{Limit: 1, Cursor: cursor})
				if err != nil {
					t.Fatal(err)
				}
				for _, ev := range page {
					if seen[ev.ID] {
						t.Fatalf("event %d on two pages", ev.ID)
					}
					seen[ev.ID] = true
				}
				if next == "" {
					break
				}
				cursor = next
			}
			if len(seen) != 4 {
				t.Errorf("pages held %d events, want 4", len(seen))
			}
		})
	}
}

// TestRedeliveryIsIdempotent hands the same chunks to a worker twice, as
// JetStream does after a crash between commit and ack: nothing counts
// twice.
func TestRedeliveryIsIdempotent(t *testing.T) {
	for _, su := range setups(t)[:2] {
		t.Run(su.String(), func(t *testing.T) {
			e := newEnv(t, su, func(c *Config) { c.Workers = -1 })
			f := e.feed(t, focal.FeedDef{Name: "bf", Format: "iplist", Options: map[string]string{"class": "intrusion-attempts", "type": "brute-force"}})
			r, err := e.p.Ingest(e.ctx, Request{Feed: f, Source: "test", Body: strings.NewReader(iplistBody)})
			if err != nil {
				t.Fatal(err)
			}
			msgs := e.fetchAll(t)
			if len(msgs) < 2 {
				t.Fatalf("%d chunks, want several (chunk size 64)", len(msgs))
			}
			w := &worker{p: e.p}
			if err := w.handle(e.ctx, msgs); err != nil {
				t.Fatal(err)
			}
			if err := w.handle(e.ctx, msgs); err != nil {
				t.Fatalf("second delivery: %v", err)
			}
			if err := w.handle(e.ctx, msgs[:1]); err != nil {
				t.Fatalf("third delivery: %v", err)
			}
			run, err := e.s.Run(e.ctx, r.ID)
			if err != nil {
				t.Fatal(err)
			}
			if run.State != focal.RunDone || run.Events != 5 || run.ChunksDone != int64(len(msgs)) {
				t.Errorf("run = %+v, want done with 5 events and %d chunks", run, len(msgs))
			}
			n, sightings, err := e.s.CountEvents(e.ctx)
			if err != nil || n != 4 || sightings != 5 {
				t.Errorf("CountEvents = %d, %d, %v; want 4 events, 5 sightings", n, sightings, err)
			}
		})
	}
}

// fetchAll reads every chunk in the stream without acknowledging.
func (e *env) fetchAll(t *testing.T) []bus.Msg {
	t.Helper()
	var got []bus.Msg
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := e.b.Consume(ctx, bus.ConsumerConfig{Stream: e.p.cfg.Stream, Durable: "peek", BatchSize: 100, MaxWait: 200 * time.Millisecond},
		func(_ context.Context, batch []bus.Msg) error {
			got = append(got, batch...)
			cancel()
			return errors.New("peek only")
		})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func TestResumeSameKey(t *testing.T) {
	e := newEnv(t, setup{store.SQLite, false}, nil)
	f := e.feed(t, focal.FeedDef{Name: "bf", Format: "iplist", Options: map[string]string{"class": "intrusion-attempts", "type": "brute-force"}})
	r1 := e.ingest(t, f, "file:/x:42", iplistBody)
	r2 := e.ingest(t, f, "file:/x:42", iplistBody)
	if r1.ID != r2.ID {
		t.Errorf("same key gave runs %d and %d, want one", r1.ID, r2.ID)
	}
	if _, s, _ := e.s.CountEvents(e.ctx); s != 5 {
		t.Errorf("%d sightings after feeding the same input twice under one key, want 5", s)
	}
	e.ingest(t, f, "", iplistBody)
	if _, s, _ := e.s.CountEvents(e.ctx); s != 10 {
		t.Errorf("%d sightings after a new run, want 10", s)
	}
}

func TestSnapshotLifecycle(t *testing.T) {
	for _, su := range setups(t)[:2] {
		t.Run(su.String(), func(t *testing.T) {
			e := newEnv(t, su, nil)
			f := e.feed(t, focal.FeedDef{Name: "list", Format: "iplist", ExpireAfter: time.Millisecond,
				Options: map[string]string{"class": "intrusion-attempts", "type": "brute-force"}})
			e.ingest(t, f, "", "192.0.2.1\n192.0.2.2\n")
			states := func() string {
				ls, err := e.s.Listings(e.ctx, f.ID, "", 0)
				if err != nil {
					t.Fatal(err)
				}
				var parts []string
				for _, l := range ls {
					parts = append(parts, l.Indicator+"="+l.State)
				}
				return strings.Join(parts, " ")
			}
			if got := states(); got != "192.0.2.1=new 192.0.2.2=new" {
				t.Errorf("after run 1: %s", got)
			}
			e.ingest(t, f, "", "192.0.2.2\n192.0.2.3\n")
			if got := states(); got != "192.0.2.1=delisted 192.0.2.2=listed 192.0.2.3=new" {
				t.Errorf("after run 2: %s", got)
			}
			time.Sleep(5 * time.Millisecond)
			e.ingest(t, f, "", "192.0.2.3\n192.0.2.1\n")
			if got := states(); got != "192.0.2.1=listed 192.0.2.2=delisted 192.0.2.3=listed" {
				t.Errorf("after run 3: %s", got)
			}
			time.Sleep(5 * time.Millisecond)
			e.ingest(t, f, "", "192.0.2.3\n")
			if got := states(); got != "192.0.2.1=delisted 192.0.2.2=expired 192.0.2.3=listed" {
				t.Errorf("after run 4: %s", got)
			}
		})
	}
}

func TestFormatChangeFailsRun(t *testing.T) {
	e := newEnv(t, setup{store.SQLite, false}, nil)
	f := e.feed(t, focal.FeedDef{Name: "feodo", Format: "feodo-csv"})
	_, err := e.p.Ingest(e.ctx, Request{Feed: f, Source: "test", Body: strings.NewReader("# ip,port,when\n1,2,3\n")})
	if err == nil || !strings.Contains(err.Error(), "feodo-csv") {
		t.Fatalf("Ingest of a changed format = %v, want an error naming the format", err)
	}
	runs, _ := e.s.Runs(e.ctx, f.ID, 0)
	if len(runs) != 1 || runs[0].State != focal.RunFailed || runs[0].Error == "" {
		t.Errorf("runs = %+v, want one failed run with its error", runs)
	}
	if n, _, _ := e.s.CountEvents(e.ctx); n != 0 {
		t.Errorf("%d events stored from a changed format", n)
	}
}

// TestBackpressure fills a small stream with no worker: intake waits, then
// gives up with ErrBusy, having lost nothing it acknowledged.
func TestBackpressure(t *testing.T) {
	e := newEnv(t, setup{store.SQLite, false}, func(c *Config) { c.Workers = -1; c.StreamMaxBytes = 4096; c.ChunkSize = 512 })
	f := e.feed(t, focal.FeedDef{Name: "bf", Format: "iplist", Options: map[string]string{"class": "intrusion-attempts", "type": "brute-force"}})
	var body bytes.Buffer
	for i := range 2000 {
		fmt.Fprintf(&body, "192.0.2.%d\n", i%250)
	}
	_, err := e.p.Ingest(e.ctx, Request{Feed: f, Source: "test", Body: &body, FullWait: 300 * time.Millisecond})
	if !errors.Is(err, ErrBusy) {
		t.Fatalf("Ingest into a full stream = %v, want ErrBusy", err)
	}
}

func TestDedupFieldsAndOverride(t *testing.T) {
	e := newEnv(t, setup{store.SQLite, false}, nil)
	// Keyed on the source address only, in one-hour windows, and
	// reclassified.
	f := e.feed(t, focal.FeedDef{Name: "dp", Format: "dataplane", DedupFields: []string{"source.ip"}, DedupWindow: time.Hour,
		Class: "information-gathering", Type: "scanner"})
	body := `64500 | EX | 198.51.100.9 | 2026-11-20 10:00:00 | sshpwauth
64500 | EX | 198.51.100.9 | 2026-11-20 10:30:00 | telnetlogin
64500 | EX | 198.51.100.9 | 2026-11-20 11:30:00 | sshpwauth
`
	e.ingest(t, f, "", body)
	evs := e.events(t, focal.EventFilter{})
	if len(evs) != 2 {
		t.Fatalf("%d events, want 2 (two hour windows)", len(evs))
	}
	for _, ev := range evs {
		if ev.Class != "information-gathering" || ev.Type != "scanner" {
			t.Errorf("event %+v not reclassified", ev)
		}
	}
	if evs[1].Count != 2 || !evs[1].FirstSeen.Equal(time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)) || !evs[1].LastSeen.Equal(time.Date(2026, 11, 20, 10, 30, 0, 0, time.UTC)) {
		t.Errorf("aggregated event = count %d, %v–%v; want 2, 10:00–10:30", evs[1].Count, evs[1].FirstSeen, evs[1].LastSeen)
	}
}

func TestReverseDNSNames(t *testing.T) {
	names := map[string]string{"198.51.100.7": "mail.example-telecom.example", "192.0.2.10": "not a name"}
	e := newEnv(t, setup{store.SQLite, false}, func(c *Config) {
		c.RDNS = func(ip netip.Addr) (string, bool) {
			n, ok := names[ip.String()]
			return n, ok
		}
	})
	f := e.feed(t, focal.FeedDef{Name: "bf", Format: "iplist", Options: map[string]string{"class": "intrusion-attempts", "type": "brute-force"}})
	e.ingest(t, f, "", iplistBody)
	got := map[string]string{}
	for _, ev := range e.events(t, focal.EventFilter{}) {
		got[ev.Source.IP.String()] = ev.Source.FQDN
	}
	if got["198.51.100.7"] != "mail.example-telecom.example" || got["192.0.2.10"] != "" || got["203.0.113.5"] != "" {
		t.Errorf("host names = %v; want the valid reverse name only", got)
	}
}
