package collect

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"focal/internal/focal"
)

const lastModified = "Mon, 02 Nov 2026 10:00:00 GMT"

// listServer serves iplistBody at /list.txt with an ETag and a
// Last-Modified, answering 304 to a request that has either, and keeps
// the conditional headers it received.
type listServer struct {
	*httptest.Server
	mu      sync.Mutex
	ifNone  []string
	ifSince []string
}

func newListServer(t *testing.T) *listServer {
	ls := &listServer{}
	ls.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ls.mu.Lock()
		ls.ifNone = append(ls.ifNone, r.Header.Get("If-None-Match"))
		ls.ifSince = append(ls.ifSince, r.Header.Get("If-Modified-Since"))
		ls.mu.Unlock()
		if r.URL.Path != "/list.txt" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("ETag", `"v1"`)
		w.Header().Set("Last-Modified", lastModified)
		if r.Header.Get("If-None-Match") == `"v1"` {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		fmt.Fprint(w, iplistBody)
	}))
	t.Cleanup(ls.Close)
	return ls
}

func (ls *listServer) last() (ifNone, ifSince string) {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	if len(ls.ifNone) == 0 {
		return "", ""
	}
	return ls.ifNone[len(ls.ifNone)-1], ls.ifSince[len(ls.ifSince)-1]
}

func TestPollConditional(t *testing.T) {
	e := newEnv(t)
	srv := newListServer(t)
	f := e.feed(t, focal.FeedDef{Name: "bf", Format: "iplist", Options: iplistOptions, URL: srv.URL + "/list.txt"})
	p := &Poller{Store: e.s, Pipeline: e.p, Logger: e.log}

	p.poll(e.ctx, f)
	runs := e.runs(t, f.ID)
	if len(runs) != 1 || runs[0].State != focal.RunDone || runs[0].Source != "poll" || runs[0].Input != f.URL || runs[0].Events != 3 {
		t.Fatalf("runs after the first poll = %+v, want one done poll run of 3 events", runs)
	}
	if n := e.events(t); n != 3 {
		t.Errorf("events after the first poll = %d, want 3", n)
	}
	if none, since := srv.last(); none != "" || since != "" {
		t.Errorf("first poll sent If-None-Match %q, If-Modified-Since %q; want neither", none, since)
	}
	f = e.reload(t, f.ID)
	if f.ETag != `"v1"` || f.LastModified != lastModified {
		t.Errorf("validators kept = %q, %q; want %q, %q", f.ETag, f.LastModified, `"v1"`, lastModified)
	}

	p.poll(e.ctx, f)
	if none, since := srv.last(); none != `"v1"` || since != lastModified {
		t.Errorf("second poll sent If-None-Match %q, If-Modified-Since %q; want %q, %q", none, since, `"v1"`, lastModified)
	}
	runs = e.runs(t, f.ID)
	if len(runs) != 2 || runs[0].State != focal.RunUnchanged {
		t.Fatalf("runs after the second poll = %+v, want an unchanged run on top", runs)
	}
	if n := e.events(t); n != 3 {
		t.Errorf("events after the second poll = %d, want still 3", n)
	}
}

func TestPollFailures(t *testing.T) {
	e := newEnv(t)
	big := strings.Repeat("192.0.2.1\n", 100)
	mux := http.NewServeMux()
	mux.HandleFunc("/500", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "boom", http.StatusInternalServerError)
	})
	mux.HandleFunc("/503", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	})
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, big) })
	mux.HandleFunc("/zip", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "PK\x03\x04 not really a zip") })
	mux.HandleFunc("/loop", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/loop", http.StatusFound) })
	mux.HandleFunc("/ftp", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "ftp://example.org/list", http.StatusFound)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	gone := httptest.NewServer(http.NotFoundHandler())
	gone.Close()

	tests := []struct {
		name, url, want string
	}{
		{"status-500", srv.URL + "/500", "GET " + srv.URL + "/500: 500 Internal Server Error"},
		{"status-503", srv.URL + "/503", "GET " + srv.URL + "/503: 503 Service Unavailable"},
		{"not-found", srv.URL + "/nothing", "404 Not Found"},
		{"too-large", srv.URL + "/big", "the response body of " + srv.URL + "/big is larger than the limit of 100 B"},
		{"zip", srv.URL + "/zip", "zip archive"},
		{"redirect-loop", srv.URL + "/loop", "stopped after 5 redirects"},
		{"redirect-ftp", srv.URL + "/ftp", "only http and https"},
		{"refused", gone.URL + "/list.txt", "GET " + gone.URL + "/list.txt: "},
	}
	p := &Poller{Store: e.s, Pipeline: e.p, Logger: e.log, MaxBytes: 100}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := e.feed(t, focal.FeedDef{Name: tt.name, Format: "iplist", Options: iplistOptions, URL: tt.url})
			p.poll(e.ctx, f)
			runs := e.runs(t, f.ID)
			if len(runs) != 1 || runs[0].State != focal.RunFailed || runs[0].Source != "poll" || !strings.Contains(runs[0].Error, tt.want) {
				t.Fatalf("runs of a poll of %s = %+v, want one failed poll run with %q in its error", tt.url, runs, tt.want)
			}
			if f = e.reload(t, f.ID); f.ETag != "" || f.LastModified != "" {
				t.Errorf("validators kept after a failed poll: %q, %q", f.ETag, f.LastModified)
			}
		})
	}
	if n := e.events(t); n != 0 {
		t.Errorf("events after failed polls = %d, want 0", n)
	}
}

func TestPollGzip(t *testing.T) {
	e := newEnv(t)
	gz := gzipped(t, iplistBody)
	mux := http.NewServeMux()
	// Content-Encoding, undone by net/http.
	mux.HandleFunc("/encoded.txt", func(w http.ResponseWriter, r *http.Request) {
		if !strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
			http.Error(w, "want gzip", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Encoding", "gzip")
		w.Write(gz) //nolint:errcheck // test server
	})
	// A .gz file.
	mux.HandleFunc("/list.txt.gz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/gzip")
		w.Write(gz) //nolint:errcheck // test server
	})
	mux.HandleFunc("/moved", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/list.txt.gz", http.StatusMovedPermanently)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	p := &Poller{Store: e.s, Pipeline: e.p, Logger: e.log}
	for _, path := range []string{"/encoded.txt", "/list.txt.gz", "/moved"} {
		t.Run(strings.TrimPrefix(path, "/"), func(t *testing.T) {
			f := e.feed(t, focal.FeedDef{Name: strings.ReplaceAll(path[1:], ".", "-"), Format: "iplist", Options: iplistOptions, URL: srv.URL + path})
			p.poll(e.ctx, f)
			runs := e.runs(t, f.ID)
			if len(runs) != 1 || runs[0].State != focal.RunDone || runs[0].Events != 3 || runs[0].Problems != 0 {
				t.Fatalf("runs of a poll of %s = %+v, want one done run of 3 events", path, runs)
			}
		})
	}
}

// TestPollerRun drives Run: a due feed is polled, and polled again when
// it is made due again.
func TestPollerRun(t *testing.T) {
	e := newEnv(t)
	srv := newListServer(t)
	f := e.feed(t, focal.FeedDef{Name: "bf", Format: "iplist", Options: iplistOptions, URL: srv.URL + "/list.txt"})
	ctx, cancel := context.WithCancel(e.ctx)
	p := &Poller{Store: e.s, Pipeline: e.p, Logger: e.log, Interval: 10 * time.Millisecond}
	errc := make(chan error, 1)
	go func() { errc <- p.Run(ctx) }()
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			cancel()
			if err := <-errc; err != nil {
				t.Errorf("Run = %v, want nil after cancel", err)
			}
		}
	}
	defer stop()

	waitFor(t, "a done run", func() bool {
		runs := e.runs(t, f.ID)
		return len(runs) > 0 && runs[0].State == focal.RunDone
	})
	if f = e.reload(t, f.ID); !f.NextRun.After(time.Now()) {
		t.Errorf("next run after a poll = %v, want in the future", f.NextRun)
	}
	if err := e.s.SetFeedNextRun(e.ctx, f.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "an unchanged run", func() bool {
		runs := e.runs(t, f.ID)
		return len(runs) > 0 && runs[0].State == focal.RunUnchanged
	})
	stop()
	if runs := e.runs(t, f.ID); len(runs) != 2 {
		t.Errorf("runs = %+v, want a done and an unchanged run", runs)
	}
	if n := e.events(t); n != 3 {
		t.Errorf("events = %d, want 3", n)
	}
}

func TestPollerRunNeedsDependencies(t *testing.T) {
	if err := (&Poller{}).Run(context.Background()); err == nil {
		t.Error("Run of a Poller without Store = nil, want an error")
	}
}

// mispServer serves a MISP feed under /feed/: a manifest (ETag = hash of
// its content) and the events, counting the requests of each path.
type mispServer struct {
	*httptest.Server
	mu     sync.Mutex
	events map[string]mispEvent // uuid -> event
	hits   map[string]int
}

type mispEvent struct {
	ts   int64
	ips  []string
	gone bool // listed in the manifest, but answered with 404
}

func (ms *mispServer) set(uuid string, ev mispEvent) {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	ms.events[uuid] = ev
}

func (ms *mispServer) count(path string) int {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	return ms.hits[path]
}

func newMISPServer(t *testing.T) *mispServer {
	ms := &mispServer{events: map[string]mispEvent{}, hits: map[string]int{}}
	ms.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ms.mu.Lock()
		defer ms.mu.Unlock()
		ms.hits[r.URL.Path]++
		name, ok := strings.CutPrefix(r.URL.Path, "/feed/")
		if !ok {
			http.NotFound(w, r)
			return
		}
		if name == "manifest.json" {
			var b strings.Builder
			b.WriteString("{")
			i := 0
			for uuid, ev := range ms.events {
				if i > 0 {
					b.WriteString(",")
				}
				i++
				fmt.Fprintf(&b, "%q: {\"info\": \"test event\", \"date\": \"2026-11-10\", \"timestamp\": \"%d\"}", uuid, ev.ts)
			}
			b.WriteString("}")
			sum := sha256.Sum256([]byte(b.String()))
			etag := `"` + hex.EncodeToString(sum[:8]) + `"`
			w.Header().Set("ETag", etag)
			if r.Header.Get("If-None-Match") == etag {
				w.WriteHeader(http.StatusNotModified)
				return
			}
			fmt.Fprint(w, b.String())
			return
		}
		ev, ok := ms.events[strings.TrimSuffix(name, ".json")]
		if !ok || ev.gone {
			http.NotFound(w, r)
			return
		}
		var attrs []string
		for i, ip := range ev.ips {
			attrs = append(attrs, fmt.Sprintf(`{"uuid": "a0000001-0000-4000-8000-%012d", "type": "ip-dst", "category": "Network activity",
				"to_ids": true, "value": %q, "timestamp": "1762790000"}`, i, ip))
		}
		fmt.Fprintf(w, `{"Event": {"uuid": %q, "info": "test event", "date": "2026-11-10", "timestamp": "%d",
			"threat_level_id": "2", "analysis": "2", "Orgc": {"name": "Test CERT"},
			"Attribute": [%s]}}`, strings.TrimSuffix(name, ".json"), ev.ts, strings.Join(attrs, ",\n"))
	}))
	t.Cleanup(ms.Close)
	return ms
}

func TestPollMISP(t *testing.T) {
	e := newEnv(t)
	ms := newMISPServer(t)
	const (
		evA = "11111111-2222-4333-8444-555555555555"
		evB = "22222222-2222-4333-8444-555555555555"
	)
	ms.set(evA, mispEvent{ts: 1762800000, ips: []string{"198.51.100.10"}})
	ms.set(evB, mispEvent{ts: 1762800100, ips: []string{"192.0.2.20"}})
	f := e.feed(t, focal.FeedDef{Name: "misp-test", Format: "misp", URL: ms.URL + "/feed/"})
	p := &Poller{Store: e.s, Pipeline: e.p, Logger: e.log}

	// First poll: both events.
	p.poll(e.ctx, f)
	runs := e.runs(t, f.ID)
	keys := map[string]string{}
	for _, r := range runs {
		keys[r.Key] = r.State
	}
	wantA := fmt.Sprintf("misp:%d:%s:%d", f.ID, evA, 1762800000)
	wantB := fmt.Sprintf("misp:%d:%s:%d", f.ID, evB, 1762800100)
	if len(runs) != 2 || keys[wantA] != focal.RunDone || keys[wantB] != focal.RunDone {
		t.Fatalf("runs after the first poll = %+v, want done runs %s and %s", runs, wantA, wantB)
	}
	if n := e.events(t); n != 2 {
		t.Errorf("events after the first poll = %d, want 2", n)
	}

	// Second poll: the manifest is unchanged (304), nothing is fetched.
	p.poll(e.ctx, e.reload(t, f.ID))
	if runs := e.runs(t, f.ID); len(runs) != 3 || runs[0].State != focal.RunUnchanged {
		t.Fatalf("runs after the second poll = %+v, want an unchanged run on top", runs)
	}
	if a, b := ms.count("/feed/"+evA+".json"), ms.count("/feed/"+evB+".json"); a != 1 || b != 1 {
		t.Errorf("event fetches after the second poll = %d, %d; want 1, 1", a, b)
	}

	// Event B changes: only B is fetched.
	ms.set(evB, mispEvent{ts: 1762900000, ips: []string{"192.0.2.20", "203.0.113.30"}})
	p.poll(e.ctx, e.reload(t, f.ID))
	if a, b := ms.count("/feed/"+evA+".json"), ms.count("/feed/"+evB+".json"); a != 1 || b != 2 {
		t.Errorf("event fetches after B changed = %d, %d; want 1, 2", a, b)
	}
	runs = e.runs(t, f.ID)
	wantB2 := fmt.Sprintf("misp:%d:%s:%d", f.ID, evB, 1762900000)
	if len(runs) != 4 || runs[0].Key != wantB2 || runs[0].State != focal.RunDone || runs[0].Events != 2 {
		t.Fatalf("runs after B changed = %+v, want a done run %s of 2 events on top", runs, wantB2)
	}
	if n := e.events(t); n != 3 {
		t.Errorf("events after B changed = %d, want 3", n)
	}

	// The state lost: events are fetched again but not counted twice.
	if err := e.s.SetMeta(e.ctx, mispStateKey(f.ID), "{}"); err != nil {
		t.Fatal(err)
	}
	if err := e.s.SetFeedHTTPState(e.ctx, f.ID, "", ""); err != nil {
		t.Fatal(err)
	}
	p.poll(e.ctx, e.reload(t, f.ID))
	if runs := e.runs(t, f.ID); len(runs) != 4 {
		t.Errorf("runs after a poll without state = %+v, want no new run", runs)
	}
	if _, sightings, _ := e.s.CountEvents(e.ctx); sightings != 4 {
		t.Errorf("sightings after a poll without state = %d, want 4", sightings)
	}
}

func TestPollMISPFailedEvent(t *testing.T) {
	e := newEnv(t)
	ms := newMISPServer(t)
	const evA = "11111111-2222-4333-8444-555555555555"
	ms.set(evA, mispEvent{ts: 1762800000, ips: []string{"198.51.100.10"}})
	f := e.feed(t, focal.FeedDef{Name: "misp-test", Format: "misp", URL: ms.URL + "/feed"})
	p := &Poller{Store: e.s, Pipeline: e.p, Logger: e.log}
	// The manifest lists an event the server does not have.
	const missing = "33333333-2222-4333-8444-555555555555"
	ms.set(missing, mispEvent{ts: 1762800000, gone: true})

	p.poll(e.ctx, f)
	runs := e.runs(t, f.ID)
	var failed *focal.FeedRun
	for _, r := range runs {
		if r.State == focal.RunFailed {
			failed = r
		}
	}
	if len(runs) != 2 || failed == nil || !strings.Contains(failed.Error, missing+".json: 404 Not Found") {
		t.Fatalf("runs = %+v, want a done run and a failed one for the missing event", runs)
	}
	if f = e.reload(t, f.ID); f.ETag != "" {
		t.Errorf("manifest ETag kept (%q) although an event failed; want none, so that the next poll retries", f.ETag)
	}
	// The next poll retries the missing event only.
	p.poll(e.ctx, f)
	if n := ms.count("/feed/" + evA + ".json"); n != 1 {
		t.Errorf("fetches of the ingested event = %d, want 1", n)
	}
	if n := ms.count("/feed/" + missing + ".json"); n != 2 {
		t.Errorf("fetches of the missing event = %d, want 2", n)
	}
}

func TestMISPURL(t *testing.T) {
	tests := []struct{ base, want string }{
		{"https://host/feed/", "https://host/feed/x.json"},
		{"https://host/feed", "https://host/feed/x.json"},
		{"https://host/feed/manifest.json", "https://host/feed/x.json"},
		{"https://host", "https://host/x.json"},
		{"https://host/feed/?token=abc", "https://host/feed/x.json?token=abc"},
	}
	for _, tt := range tests {
		if got := mispURL(tt.base, "x.json"); got != tt.want {
			t.Errorf("mispURL(%q) = %q, want %q", tt.base, got, tt.want)
		}
	}
}
