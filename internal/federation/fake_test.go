package federation

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"focal/internal/focal"
	"focal/internal/stix"
	"focal/internal/store"
	"focal/internal/taxii"
)

// fakeCollection is the collection id every fake server serves.
const fakeCollection = "91a7b528-80eb-42ed-a74d-c6fbd5a26116"

// fakeTAXII is a TAXII 2.1 server over TLS that serves spec-shaped pages
// of one collection from memory, or misbehaves as mode says:
//
//   - "": a conforming server (next cursors are offsets);
//   - "no-next": more:true without next (the client must page with
//     added_after = X-TAXII-Date-Added-Last);
//   - "ignore-added-after": re-serves everything on every poll;
//   - "html": a 200 HTML page; "truncated": TAXII content type, broken
//     JSON; "wrong-type": a valid envelope as application/json;
//     "500": an error resource;
//   - "hang": never answers (until the client gives up).
type fakeTAXII struct {
	t    testing.TB
	srv  *httptest.Server
	mode string

	// delay slows every answer down.
	delay time.Duration

	mu          sync.Mutex
	objects     []fakeObject
	requests    []url.Values
	inflight    int
	maxInflight int
}

type fakeObject struct {
	added time.Time
	raw   string
}

func newFakeTAXII(t testing.TB, mode string) *fakeTAXII {
	t.Helper()
	f := &fakeTAXII{t: t, mode: mode}
	hang := make(chan struct{})
	f.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.serve(w, r, hang)
	}))
	f.srv.Config.ErrorLog = log.New(io.Discard, "", 0) // TLS handshake errors are expected
	f.srv.StartTLS()
	t.Cleanup(func() {
		close(hang)
		f.srv.Close()
	})
	return f
}

// caPEM returns the PEM of the server's certificate, to trust it.
func (f *fakeTAXII) caPEM() string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: f.srv.Certificate().Raw}))
}

func (f *fakeTAXII) apiRoot() string { return f.srv.URL + "/taxii2/api/" }

// add appends objects, each added a millisecond after the last.
func (f *fakeTAXII) add(raws ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var at time.Time
	if n := len(f.objects); n > 0 {
		at = f.objects[n-1].added
	}
	for _, r := range raws {
		at = at.Add(time.Microsecond)
		if now := time.Now().UTC().Truncate(time.Microsecond); now.After(at) {
			at = now
		}
		f.objects = append(f.objects, fakeObject{at, r})
	}
}

func (f *fakeTAXII) queries() []url.Values {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]url.Values(nil), f.requests...)
}

func (f *fakeTAXII) serve(w http.ResponseWriter, r *http.Request, hang chan struct{}) {
	f.mu.Lock()
	f.requests = append(f.requests, r.URL.Query())
	f.inflight++
	f.maxInflight = max(f.maxInflight, f.inflight)
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		f.inflight--
		f.mu.Unlock()
	}()
	if f.delay > 0 {
		time.Sleep(f.delay)
	}
	switch f.mode {
	case "hang":
		select {
		case <-hang:
		case <-r.Context().Done():
		}
		return
	case "html":
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, "<html><body>Maintenance</body></html>")
		return
	case "truncated":
		w.Header().Set("Content-Type", taxiiMedia)
		fmt.Fprint(w, `{"more": false, "objects": [{"type": "indicator", "id": "indic`)
		return
	case "500":
		w.Header().Set("Content-Type", taxiiMedia)
		w.WriteHeader(http.StatusInternalServerError)
		fmt.Fprint(w, `{"title": "database is down", "http_status": "500"}`)
		return
	}
	if r.URL.Path != "/taxii2/api/collections/"+fakeCollection+"/objects/" || !strings.Contains(r.Header.Get("Accept"), "application/taxii+json") {
		w.Header().Set("Content-Type", taxiiMedia)
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, `{"title": "not found"}`)
		return
	}
	q := r.URL.Query()
	var after time.Time
	if s := q.Get("added_after"); s != "" && f.mode != "ignore-added-after" {
		t, err := taxii.ParseTimestamp(s)
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		after = t
	}
	limit := 1000
	if s := q.Get("limit"); s != "" {
		limit, _ = strconv.Atoi(s)
	}
	start, _ := strconv.Atoi(q.Get("next"))
	f.mu.Lock()
	var match []fakeObject
	for _, o := range f.objects {
		if o.added.After(after) {
			match = append(match, o)
		}
	}
	f.mu.Unlock()
	start = min(start, len(match))
	page := match[start:min(start+limit, len(match))]
	env := struct {
		More    bool              `json:"more,omitempty"`
		Next    string            `json:"next,omitempty"`
		Objects []json.RawMessage `json:"objects,omitempty"`
	}{}
	for _, o := range page {
		env.Objects = append(env.Objects, json.RawMessage(o.raw))
	}
	if start+len(page) < len(match) {
		env.More = true
		if f.mode != "no-next" {
			env.Next = strconv.Itoa(start + len(page))
		}
	}
	ct := taxiiMedia
	if f.mode == "wrong-type" {
		ct = "application/json"
	}
	w.Header().Set("Content-Type", ct)
	if len(page) > 0 {
		w.Header().Set("X-TAXII-Date-Added-First", taxii.FormatTimestamp(page[0].added))
		w.Header().Set("X-TAXII-Date-Added-Last", taxii.FormatTimestamp(page[len(page)-1].added))
	}
	if err := json.NewEncoder(w).Encode(env); err != nil {
		f.t.Log(err)
	}
}

// indicatorJSON is a valid STIX 2.1 indicator of a C2 server at ip,
// marked tlp ("" for none); n makes its id.
func indicatorJSON(n int, ip string, tlp focal.TLP) string {
	marks := ""
	if tlp != "" {
		ref, _ := stix.MarkingRef(tlp)
		marks = `,"object_marking_refs":["` + ref + `"]`
	}
	return fmt.Sprintf(`{"type":"indicator","spec_version":"2.1","id":"indicator--%08d-0000-4000-8000-000000000000",`+
		`"created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z","name":"c2 server",`+
		`"indicator_types":["malicious-activity"],"pattern":"[ipv4-addr:value = '%s']","pattern_type":"stix",`+
		`"valid_from":"2026-01-01T00:00:00Z"%s}`, n, ip, marks)
}

// indicators returns n valid indicators numbered from first.
func indicators(first, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = indicatorJSON(first+i, fmt.Sprintf("203.0.113.%d", (first+i)%250+1), focal.TLPGreen)
	}
	return out
}

// sysCtx acts as the operator.
func sysCtx() context.Context {
	return focal.NewContextWithPrincipal(context.Background(), focal.System())
}

// addPeer registers a peer of the fake server f.
func addPeer(t testing.TB, st *store.Store, name string, f *fakeTAXII, mod func(*store.Peer)) *store.Peer {
	t.Helper()
	p := &store.Peer{Name: name, APIRoot: f.apiRoot(), Collection: fakeCollection, CAPEM: f.caPEM(), Auth: store.PeerAuthBearer,
		Secret: "token-for-" + name, PollInterval: time.Hour, Enabled: true}
	if mod != nil {
		mod(p)
	}
	if err := st.CreatePeer(sysCtx(), p); err != nil {
		t.Fatal(err)
	}
	return p
}

// runPoller runs a poller over st until the test ends.
func runPoller(t testing.TB, cfg PollerConfig) *Poller {
	t.Helper()
	if cfg.Tick == 0 {
		cfg.Tick = 20 * time.Millisecond
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 2 * time.Second
	}
	p := NewPoller(cfg)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := p.Run(ctx); err != nil {
			t.Error(err)
		}
	}()
	t.Cleanup(func() { cancel(); <-done })
	return p
}

// waitPeer waits until cond holds for peer id, or fails after d.
func waitPeer(t testing.TB, st *store.Store, id int64, d time.Duration, what string, cond func(*store.Peer) bool) *store.Peer {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		p, err := st.PeerForPoll(sysCtx(), id)
		if err != nil {
			t.Fatal(err)
		}
		if cond(p) {
			return p
		}
		if time.Now().After(deadline) {
			t.Fatalf("peer %s: waited %v for %s; state: imported %d, cursor %q, failures %d, last error %q",
				p.Name, d, what, p.ObjectsImported, p.Cursor, p.Failures, p.LastError)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
