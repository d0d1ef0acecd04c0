package federation

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"focal/internal/focal"
	"focal/internal/store"
	"focal/internal/store/storetest"
	"focal/internal/taxii"
)

// localCollection creates a local TAXII collection to import into.
func localCollection(t testing.TB, st *store.Store) string {
	t.Helper()
	c := &store.TaxiiCollection{Title: "Imported"}
	if err := st.CreateTaxiiCollection(sysCtx(), c); err != nil {
		t.Fatal(err)
	}
	return c.ID
}

// collectionCount counts every object version in a local collection.
func collectionCount(t testing.TB, st *store.Store, coll string) int {
	t.Helper()
	recs, _, err := st.TaxiiObjects(sysCtx(), false, coll, store.TaxiiFilter{Versions: store.TaxiiVersionMatch{All: true}, Limit: 100000}, false)
	if err != nil {
		t.Fatal(err)
	}
	return len(recs)
}

func TestPollPagesWithNext(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newFakeTAXII(t, "")
		f.add(indicators(1, 25)...)
		coll := localCollection(t, st)
		p := addPeer(t, st, "node-b", f, func(p *store.Peer) { p.ImportCollection = coll })
		runPoller(t, PollerConfig{Store: st, PageLimit: 10})
		got := waitPeer(t, st, p.ID, 10*time.Second, "a successful poll", func(p *store.Peer) bool { return !p.LastSuccess.IsZero() })
		if got.ObjectsImported != 25 || got.Failures != 0 || got.LastError != "" {
			t.Errorf("imported %d, failures %d, last error %q; want 25, 0, none", got.ObjectsImported, got.Failures, got.LastError)
		}
		qs := f.queries()
		if len(qs) != 3 {
			t.Fatalf("requests = %d (%v), want 3 pages of at most 10", len(qs), qs)
		}
		for i, want := range []string{"", "10", "20"} {
			if qs[i].Get("next") != want || qs[i].Get("limit") != "10" || qs[i].Get("added_after") != "" {
				t.Errorf("request %d = %v, want next=%q, limit=10 and the original (empty) added_after", i, qs[i], want)
			}
		}
		f.mu.Lock()
		last := taxii.FormatTimestamp(f.objects[24].added)
		f.mu.Unlock()
		if got.Cursor != last {
			t.Errorf("cursor = %q, want the last X-TAXII-Date-Added-Last %q", got.Cursor, last)
		}
		if n := collectionCount(t, st, coll); n != 25 {
			t.Errorf("import collection holds %d objects, want 25", n)
		}
		if h := Health(got); h != HealthOK {
			t.Errorf("Health = %q, want ok", h)
		}
	})
}

func TestPollFallsBackToAddedAfter(t *testing.T) {
	st := storetest.Open(t, store.SQLite)
	f := newFakeTAXII(t, "no-next")
	f.add(indicators(1, 25)...)
	p := addPeer(t, st, "node-b", f, nil)
	runPoller(t, PollerConfig{Store: st, PageLimit: 10})
	got := waitPeer(t, st, p.ID, 10*time.Second, "a successful poll", func(p *store.Peer) bool { return !p.LastSuccess.IsZero() })
	if got.ObjectsImported != 25 {
		t.Errorf("imported %d, want 25", got.ObjectsImported)
	}
	qs := f.queries()
	if len(qs) != 3 {
		t.Fatalf("requests = %d (%v), want 3", len(qs), qs)
	}
	f.mu.Lock()
	want := []string{"", taxii.FormatTimestamp(f.objects[9].added), taxii.FormatTimestamp(f.objects[19].added)}
	f.mu.Unlock()
	for i := range qs {
		if qs[i].Get("added_after") != want[i] || qs[i].Get("next") != "" {
			t.Errorf("request %d = %v, want added_after=%q and no next", i, qs[i], want[i])
		}
	}
}

func TestCursorSurvivesRestart(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newFakeTAXII(t, "")
		f.add(indicators(1, 10)...)
		p := addPeer(t, st, "node-b", f, func(p *store.Peer) { p.PollInterval = time.Second })

		first := NewPoller(PollerConfig{Store: st, Tick: 20 * time.Millisecond, Timeout: 2 * time.Second})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); _ = first.Run(ctx) }()
		got := waitPeer(t, st, p.ID, 10*time.Second, "10 imports", func(p *store.Peer) bool { return p.ObjectsImported == 10 && !p.LastSuccess.IsZero() })
		cancel()
		<-done
		cursor := got.Cursor
		if cursor == "" {
			t.Fatal("no cursor after the first poller")
		}

		f.add(indicators(11, 5)...)
		before := len(f.queries())
		runPoller(t, PollerConfig{Store: st})
		waitPeer(t, st, p.ID, 10*time.Second, "15 imports", func(p *store.Peer) bool { return p.ObjectsImported == 15 })
		qs := f.queries()[before:]
		if len(qs) == 0 || qs[0].Get("added_after") != cursor {
			t.Errorf("first request of the new poller = %v, want added_after=%q (the persisted cursor)", qs, cursor)
		}
	})
}

func TestReservedObjectsAreDeduplicated(t *testing.T) {
	st := storetest.Open(t, store.SQLite)
	f := newFakeTAXII(t, "ignore-added-after")
	f.add(indicators(1, 5)...)
	coll := localCollection(t, st)
	p := addPeer(t, st, "node-b", f, func(p *store.Peer) { p.PollInterval = time.Second; p.ImportCollection = coll })
	runPoller(t, PollerConfig{Store: st})
	waitPeer(t, st, p.ID, 10*time.Second, "three polls", func(*store.Peer) bool { return len(f.queries()) >= 3 })
	got := waitPeer(t, st, p.ID, 5*time.Second, "the third poll recorded", func(p *store.Peer) bool { return p.LastAttempt.After(p.CreatedAt) })
	if got.ObjectsImported != 5 {
		t.Errorf("imported %d after %d polls re-serving 5 objects, want 5", got.ObjectsImported, len(f.queries()))
	}
	if n := collectionCount(t, st, coll); n != 5 {
		t.Errorf("import collection holds %d objects, want 5", n)
	}
	// A new version of one object is imported.
	f.add(strings.Replace(indicatorJSON(1, "203.0.113.2", focal.TLPGreen), `"modified":"2026-01-01T00:00:00.000Z"`, `"modified":"2026-01-02T00:00:00.000Z"`, 1))
	waitPeer(t, st, p.ID, 10*time.Second, "the new version", func(p *store.Peer) bool { return p.ObjectsImported == 6 })
}

func TestInvalidObjectsAreCountedNotFatal(t *testing.T) {
	st := storetest.Open(t, store.SQLite)
	f := newFakeTAXII(t, "")
	f.add(indicators(1, 3)...)
	f.add(`{"type":"indicator","id":"indicator--not-a-uuid","spec_version":"2.1"}`,
		strings.Replace(indicatorJSON(9, "203.0.113.9", ""), `"pattern_type":"stix",`, ``, 1),
		`{"type": 42}`)
	f.add(indicators(4, 2)...)
	p := addPeer(t, st, "node-b", f, nil)
	runPoller(t, PollerConfig{Store: st})
	got := waitPeer(t, st, p.ID, 10*time.Second, "a poll", func(p *store.Peer) bool { return !p.LastAttempt.IsZero() })
	if got.ObjectsImported != 5 || got.Failures != 0 || got.LastSuccess.IsZero() {
		t.Errorf("imported %d, failures %d, success %v; want the 5 valid objects and a successful poll", got.ObjectsImported, got.Failures, got.LastSuccess)
	}
	if !strings.HasPrefix(got.LastError, "3 invalid object(s) skipped") {
		t.Errorf("last error = %q, want the 3 invalid objects counted", got.LastError)
	}
}

func TestBadPeersAreIsolated(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		good := newFakeTAXII(t, "")
		good.add(indicators(1, 3)...)
		gp := addPeer(t, st, "good", good, func(p *store.Peer) { p.PollInterval = time.Second })
		bad := map[string]*store.Peer{}
		for _, mode := range []string{"html", "truncated", "wrong-type", "500", "hang"} {
			f := newFakeTAXII(t, mode)
			bad[mode] = addPeer(t, st, mode, f, func(p *store.Peer) { p.PollInterval = 10 * time.Second })
		}
		// An unreachable server, and one whose certificate we do not trust.
		closed := newFakeTAXII(t, "")
		closed.srv.Close()
		bad["refused"] = addPeer(t, st, "refused", closed, nil)
		untrusted := newFakeTAXII(t, "")
		bad["untrusted"] = addPeer(t, st, "untrusted", untrusted, func(p *store.Peer) { p.CAPEM = "" })

		start := time.Now()
		runPoller(t, PollerConfig{Store: st, Timeout: 2 * time.Second, Concurrency: 8})
		waitPeer(t, st, gp.ID, 5*time.Second, "the good peer's import", func(p *store.Peer) bool { return p.ObjectsImported == 3 })
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("the good peer took %v, want it unaffected by the hanging one", d)
		}
		want := map[string]string{"html": "Content-Type", "truncated": "not valid JSON", "wrong-type": "Content-Type",
			"500": "database is down", "hang": "timed out", "refused": "refused", "untrusted": "certificate"}
		for mode, p := range bad {
			got := waitPeer(t, st, p.ID, 8*time.Second, "a failure", func(p *store.Peer) bool { return p.Failures > 0 })
			if !strings.Contains(got.LastError, want[mode]) {
				t.Errorf("%s: last error = %q, want it to mention %q", mode, got.LastError, want[mode])
			}
			if strings.Contains(got.LastError, "token-for-") {
				t.Errorf("%s: last error holds the secret: %q", mode, got.LastError)
			}
			wait := min(2*p.PollInterval, MaxBackoff)
			if earliest := got.LastAttempt.Add(wait).Add(-time.Second); got.NextPollAt.Before(earliest) {
				t.Errorf("%s: next poll %v, want a backoff of %v after %v", mode, got.NextPollAt, wait, got.LastAttempt)
			}
			if h := Health(got); h != HealthFailing {
				t.Errorf("%s: Health = %q, want failing", mode, h)
			}
		}
		// The good peer keeps being polled while the others back off.
		n := len(good.queries())
		good.add(indicators(4, 1)...)
		waitPeer(t, st, gp.ID, 5*time.Second, "the next import", func(p *store.Peer) bool { return p.ObjectsImported == 4 })
		if len(good.queries()) <= n {
			t.Error("the good peer was not polled again")
		}
	})
}

func TestOneProcessPollsAPeer(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newFakeTAXII(t, "")
		f.delay = 50 * time.Millisecond
		f.add(indicators(1, 30)...)
		p := addPeer(t, st, "node-b", f, func(p *store.Peer) { p.PollInterval = time.Second })
		// Three "processes" on one database.
		for i := range 3 {
			runPoller(t, PollerConfig{Store: st, PageLimit: 5, Tick: 5 * time.Millisecond, Holder: fmt.Sprintf("process-%d", i)})
		}
		waitPeer(t, st, p.ID, 10*time.Second, "all imported", func(p *store.Peer) bool { return p.ObjectsImported == 30 })
		f.add(indicators(31, 10)...)
		waitPeer(t, st, p.ID, 10*time.Second, "the next poll", func(p *store.Peer) bool { return p.ObjectsImported == 40 })
		f.mu.Lock()
		defer f.mu.Unlock()
		if f.maxInflight > 2 {
			// One poll at a time, with at most one page fetched ahead.
			t.Errorf("at most %d requests at once to one peer, want at most 2 (one poller, one page ahead)", f.maxInflight)
		}
	})
}

func TestBackoff(t *testing.T) {
	tests := []struct {
		interval time.Duration
		failures int
		want     time.Duration
	}{
		{time.Second, 0, time.Second},
		{time.Second, 1, 2 * time.Second},
		{time.Second, 3, 8 * time.Second},
		{time.Minute, 6, time.Hour},
		{time.Minute, 60, time.Hour},
		{2 * time.Hour, 3, 2 * time.Hour},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%v-%d", tt.interval, tt.failures), func(t *testing.T) {
			if got := Backoff(tt.interval, tt.failures); got != tt.want {
				t.Errorf("Backoff(%v, %d) = %v, want %v", tt.interval, tt.failures, got, tt.want)
			}
		})
	}
}

func TestHealth(t *testing.T) {
	now := time.Date(2026, 11, 23, 3, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		p    store.Peer
		want string
	}{
		{"new", store.Peer{PollInterval: time.Minute}, HealthNever},
		{"failing", store.Peer{PollInterval: time.Minute, LastSuccess: now.Add(-time.Minute), Failures: 2}, HealthFailing},
		{"failing-never", store.Peer{PollInterval: time.Minute, Failures: 1}, HealthFailing},
		{"ok", store.Peer{PollInterval: time.Minute, LastSuccess: now.Add(-time.Minute)}, HealthOK},
		{"stale", store.Peer{PollInterval: time.Minute, LastSuccess: now.Add(-5 * time.Minute)}, HealthLagging},
		{"late-objects", store.Peer{PollInterval: time.Second, LastSuccess: now, Lag: 2 * time.Minute}, HealthLagging},
		{"small-lag", store.Peer{PollInterval: time.Second, LastSuccess: now, Lag: 30 * time.Second}, HealthOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := healthAt(&tt.p, now); got != tt.want {
				t.Errorf("Health(%s) = %q, want %q", tt.name, got, tt.want)
			}
		})
	}
}

func TestCheckMediaType(t *testing.T) {
	tests := []struct {
		ct string
		ok bool
	}{
		{"application/taxii+json;version=2.1", true},
		{"application/taxii+json; version=2.1", true},
		{"application/taxii+json;charset=utf-8;version=2.1", true},
		{"application/taxii+json", false},
		{"application/taxii+json;version=2.0", false},
		{"application/json", false},
		{"text/html; charset=utf-8", false},
		{"", false},
	}
	for _, tt := range tests {
		t.Run(strings.NewReplacer("/", "_", ";", "_", " ", "").Replace(tt.ct), func(t *testing.T) {
			if err := checkMediaType(tt.ct); (err == nil) != tt.ok {
				t.Errorf("checkMediaType(%q) = %v, want ok=%v", tt.ct, err, tt.ok)
			}
		})
	}
}
