package federation

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"focal/internal/auth"
	"focal/internal/bus"
	"focal/internal/focal"
	"focal/internal/httpauth"
	"focal/internal/lookup"
	"focal/internal/pipeline"
	"focal/internal/server"
	"focal/internal/store"
	"focal/internal/store/storetest"
	"focal/internal/taxii"
)

var testParams = auth.Params{Time: 1, Memory: 64, Threads: 1, SaltLen: 16, KeyLen: 32}

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }

// node is one focal node on loopback over HTTPS with its own store: the
// TAXII server and the federation routes mounted as the app mounts them.
type node struct {
	st     *store.Store
	srv    *server.Server
	url    string
	caPEM  []byte
	poller *Poller
}

// startNode serves st over HTTPS with a self-signed certificate, with
// the TAXII surface and the federation API (hints wake poller, if set).
func startNode(t *testing.T, st *store.Store, poller *Poller) *node {
	t.Helper()
	logger := discard()
	ts, err := taxii.New(context.Background(), taxii.Config{Store: st, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	a := httpauth.New(st, logger)
	a.Limiter = auth.NewLimiter(auth.LimiterConfig{Burst: 1000, FailuresBeforeLockout: -1})
	tlsCfg, caPEM, err := taxii.SelfSigned(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	srv := &server.Server{
		Addr:         "127.0.0.1:0",
		Logger:       logger,
		Registry:     prometheus.NewRegistry(),
		Authenticate: a.Authenticate,
		Protect:      http.NewCrossOriginProtection().Handler,
		TLSConfig:    tlsCfg,
		PrefixErrors: map[string]server.ErrorFunc{taxii.PathPrefix: ts.Error},
	}
	if err := srv.Mount(ts.Routes(), ts.Error); err != nil {
		t.Fatal(err)
	}
	api := &API{Store: st, Logger: logger, Poller: poller}
	if err := srv.Mount(api.Routes(), api.Error); err != nil {
		t.Fatal(err)
	}
	if err := srv.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Close(ctx); err != nil {
			t.Errorf("close server: %v", err)
		}
	})
	return &node{st: st, srv: srv, url: srv.URL(), caPEM: caPEM, poller: poller}
}

func addUser(t *testing.T, st *store.Store, name string, role focal.Role) *focal.User {
	t.Helper()
	hash, err := auth.HashPassword(name+"-pw", testParams)
	if err != nil {
		t.Fatal(err)
	}
	u := &focal.User{Name: name, Role: role}
	if err := st.CreateUser(sysCtx(), u, hash); err != nil {
		t.Fatal(err)
	}
	return u
}

func addToken(t *testing.T, st *store.Store, u *focal.User) string {
	t.Helper()
	tok, hash, err := auth.NewToken(auth.APITokenPrefix)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.CreateToken(sysCtx(), &focal.Token{UserID: u.ID, Name: "federation", Scope: "write", ExpiresAt: time.Now().Add(time.Hour)}, hash); err != nil {
		t.Fatal(err)
	}
	return tok
}

// startPipeline runs a pipeline over st with an embedded bus and a
// constituency of one organisation owning 198.51.100.0/24.
func startPipeline(t *testing.T, st *store.Store) (*pipeline.Pipeline, int64) {
	t.Helper()
	ctx := sysCtx()
	org := &focal.Organisation{Name: "Org A", Sector: "isp", Country: "FR", Networks: []netip.Prefix{netip.MustParsePrefix("198.51.100.0/24")}}
	if err := st.CreateOrganisation(ctx, org); err != nil {
		t.Fatal(err)
	}
	tbl, err := lookup.Build([]lookup.Entry{{OrgID: org.ID, Networks: org.Networks}})
	if err != nil {
		t.Fatal(err)
	}
	h := &lookup.Holder{}
	h.Store(tbl)
	bctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	b, err := bus.Open(bctx, bus.Config{DataDir: t.TempDir(), Name: "focal-test"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	p := pipeline.New(pipeline.Config{Store: st, Bus: b, Lookup: h, Logger: discard(), Stream: "TEST_" + rand.Text()[:10]})
	wctx, stop := context.WithCancel(context.Background())
	if err := p.Start(wctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stop(); p.Wait() })
	return p, org.ID
}

// federation is two focal nodes: A publishes a collection that B's peer
// account reads; B polls A (every hour: only hints make it fast), feeds
// the pipeline and imports into its own collection; A hints B.
type federation struct {
	a, b      *node
	coll      string // A's shared collection
	imported  string // B's import collection
	peerOfB   *store.Peer
	hinter    *Hinter
	orgA      int64
	tokens    map[string]string // B's accounts' tokens
	bClient   *http.Client
	pollStart time.Time
}

func newFederation(t *testing.T, d store.Dialect) *federation {
	t.Helper()
	fed := &federation{tokens: map[string]string{}}
	ctx := sysCtx()

	// Node A: the account B uses, a collection granted to it.
	stA := storetest.Open(t, d)
	nodeB := addUser(t, stA, "node-b", focal.RolePeer)
	c := &store.TaxiiCollection{Title: "Indicators", Alias: "indicators"}
	if err := stA.CreateTaxiiCollection(ctx, c); err != nil {
		t.Fatal(err)
	}
	fed.coll = c.ID
	g := &store.SharingGroup{Name: "community", Ceiling: focal.TLPAmber}
	if err := stA.CreateSharingGroup(ctx, g); err != nil {
		t.Fatal(err)
	}
	if err := stA.AddSharingMember(ctx, g.ID, store.SharingMember{UserID: nodeB.ID}); err != nil {
		t.Fatal(err)
	}
	if err := stA.GrantSharingCollection(ctx, g.ID, store.SharingGrant{CollectionID: c.ID, CanRead: true}); err != nil {
		t.Fatal(err)
	}
	fed.a = startNode(t, stA, nil)

	// Node B: A's account there, the constituency, pipeline and poller.
	stB := storetest.Open(t, d)
	for _, u := range []struct {
		name string
		role focal.Role
	}{{"node-a", focal.RolePeer}, {"stranger", focal.RolePeer}, {"ana", focal.RoleAnalyst}, {"boss", focal.RoleCoordinator}} {
		fed.tokens[u.name] = addToken(t, stB, addUser(t, stB, u.name, u.role))
	}
	var pl *pipeline.Pipeline
	pl, fed.orgA = startPipeline(t, stB)
	local := &store.TaxiiCollection{Title: "From node A"}
	if err := stB.CreateTaxiiCollection(ctx, local); err != nil {
		t.Fatal(err)
	}
	fed.imported = local.ID
	fed.peerOfB = &store.Peer{Name: "node-a", APIRoot: fed.a.url + taxii.APIRootPath, Collection: fed.coll, CAPEM: string(fed.a.caPEM),
		Auth: store.PeerAuthBasic, Username: "node-b", Secret: "node-b-pw", Account: "node-a", ImportCollection: local.ID,
		PollInterval: time.Hour, Enabled: true}
	if err := stB.CreatePeer(ctx, fed.peerOfB); err != nil {
		t.Fatal(err)
	}
	// The poller ticks hourly: after its first round, only a wake (a
	// hint) makes it poll again.
	fed.b = startNode(t, stB, runPoller(t, PollerConfig{Store: stB, Pipeline: pl, Tick: time.Hour}))

	// A's side of the peering: B as a peer, for the hints.
	pb := &store.Peer{Name: "node-b", APIRoot: fed.b.url + taxii.APIRootPath, Collection: "unused", CAPEM: string(fed.b.caPEM),
		Auth: store.PeerAuthBearer, Secret: fed.tokens["node-a"], PollInterval: time.Hour, Enabled: true}
	if err := stA.CreatePeer(ctx, pb); err != nil {
		t.Fatal(err)
	}
	fed.hinter = NewHinter(HinterConfig{Store: stA, Logger: discard()})
	hctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = fed.hinter.Run(hctx) }()
	t.Cleanup(func() { cancel(); <-done })

	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(fed.b.caPEM)
	fed.bClient = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	return fed
}

// publish adds objects to A's collection and tells the hinter.
func (fed *federation) publish(t *testing.T, raws ...string) {
	t.Helper()
	objs := make([]store.TaxiiObject, len(raws))
	for i, r := range raws {
		h, err := taxii.DecodeHeader([]byte(r))
		if err != nil {
			t.Fatal(err)
		}
		objs[i] = store.TaxiiObject{ID: h.ID, Type: h.Type, SpecVersion: h.SpecVersion, Version: h.Version, TLP: h.TLP, Body: []byte(r)}
	}
	if _, err := fed.a.st.AddTaxiiObjects(sysCtx(), fed.coll, objs); err != nil {
		t.Fatal(err)
	}
	fed.hinter.Changed(fed.coll)
}

// hint posts a push hint to B as account (its token; "" for none).
func (fed *federation) hint(t *testing.T, account string) int {
	t.Helper()
	status, _ := fed.call(t, account, "POST", HintPath, `{"collection":"`+fed.coll+`"}`)
	return status
}

// call sends a request to B's API as account and returns the status and
// body.
func (fed *federation) call(t *testing.T, account, method, path, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, fed.b.url+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if account != "" {
		req.Header.Set("Authorization", "Bearer "+fed.tokens[account])
	}
	resp, err := fed.bClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

func TestHintBringsIndicatorToConstituency(t *testing.T) {
	for _, d := range storetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			fed := newFederation(t, d)
			stB := fed.b.st
			// The first poll (a new peer is due at once): nothing yet.
			first := waitPeer(t, stB, fed.peerOfB.ID, 10*time.Second, "the first poll", func(p *store.Peer) bool { return !p.LastSuccess.IsZero() })
			if first.ObjectsImported != 0 || first.NextPollAt.Before(time.Now().Add(50*time.Minute)) {
				t.Fatalf("after the first poll: imported %d, next poll %v; want 0 and an hour away", first.ObjectsImported, first.NextPollAt)
			}

			start := time.Now()
			fed.publish(t, indicatorJSON(1, "198.51.100.7", focal.TLPGreen), indicatorJSON(2, "198.51.100.8", ""))
			got := waitPeer(t, stB, fed.peerOfB.ID, 10*time.Second, "the hint", func(p *store.Peer) bool { return p.ObjectsImported == 2 })
			elapsed := time.Since(start)
			t.Logf("hint to import on node B: %v (poll interval 1h)", elapsed)
			if elapsed > 5*time.Second {
				t.Errorf("the objects took %v to arrive, want well under the 1h interval", elapsed)
			}
			if got.Failures != 0 || Health(got) != HealthOK {
				t.Errorf("peer after import: failures %d, health %s", got.Failures, Health(got))
			}
			if n := collectionCount(t, stB, fed.imported); n != 2 {
				t.Errorf("B's import collection holds %d objects, want 2", n)
			}

			// The indicators become events of the local organisation, each
			// with its object's TLP (unlabelled: AMBER).
			var evs []*focal.Event
			deadline := time.Now().Add(15 * time.Second)
			for len(evs) < 2 && time.Now().Before(deadline) {
				evs = evs[:0]
				err := stB.EachEvent(sysCtx(), focal.EventFilter{Feed: FeedPrefix + "node-a"}, func(e *focal.Event) error {
					evs = append(evs, e)
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
				time.Sleep(50 * time.Millisecond)
			}
			if len(evs) != 2 {
				t.Fatalf("events from feed %snode-a = %d, want 2", FeedPrefix, len(evs))
			}
			tlps := map[string]focal.TLP{}
			for _, e := range evs {
				if !slices.Contains(e.Orgs, fed.orgA) {
					t.Errorf("event %s → orgs %v, want Org A (%d)", e.Destination.IP, e.Orgs, fed.orgA)
				}
				ip := e.Destination.IP
				if !ip.IsValid() {
					ip = e.Source.IP
				}
				tlps[ip.String()] = e.TLP
			}
			if tlps["198.51.100.7"] != focal.TLPGreen || tlps["198.51.100.8"] != focal.TLPAmber {
				t.Errorf("event TLPs = %v, want 198.51.100.7 GREEN (its marking) and 198.51.100.8 AMBER (unlabelled)", tlps)
			}
		})
	}
}

func TestHintAuthorization(t *testing.T) {
	fed := newFederation(t, store.SQLite)
	stB := fed.b.st
	waitPeer(t, stB, fed.peerOfB.ID, 10*time.Second, "the first poll", func(p *store.Peer) bool { return !p.LastSuccess.IsZero() })
	due := func() bool {
		p, err := stB.PeerForPoll(sysCtx(), fed.peerOfB.ID)
		if err != nil {
			t.Fatal(err)
		}
		return !p.NextPollAt.After(time.Now())
	}
	for _, tt := range []struct {
		account string
		status  int
	}{
		{"", http.StatusUnauthorized},
		{"ana", http.StatusForbidden},
		{"stranger", http.StatusAccepted},
	} {
		if got := fed.hint(t, tt.account); got != tt.status {
			t.Errorf("hint as %q = %d, want %d", tt.account, got, tt.status)
		}
		if due() {
			t.Errorf("after a hint as %q the peer is due; want only node-a's hints to count", tt.account)
		}
	}
	if got := fed.hint(t, "node-a"); got != http.StatusAccepted {
		t.Errorf("hint as node-a = %d, want 202", got)
	}
	if !due() {
		t.Error("after node-a's hint the peer is not due")
	}
}

func TestHinterStopsAtNonFocalPeer(t *testing.T) {
	st := storetest.Open(t, store.SQLite)
	f := newFakeTAXII(t, "") // answers 404 to everything but its collection
	p := addPeer(t, st, "plain-taxii", f, nil)
	h := NewHinter(HinterConfig{Store: st, Interval: 10 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = h.Run(ctx) }()
	defer func() { cancel(); <-done }()
	h.Changed("some-collection")
	waitPeer(t, st, p.ID, 5*time.Second, "the 404 remembered", func(p *store.Peer) bool { return p.NoHints })
	n := len(f.queries())
	for range 5 {
		h.Changed("some-collection")
		time.Sleep(30 * time.Millisecond)
	}
	if m := len(f.queries()); m != n {
		t.Errorf("%d more requests after the 404, want none", m-n)
	}
}

func TestPeersAPI(t *testing.T) {
	fed := newFederation(t, store.SQLite)
	const body = `{"name":"node-c","api_root":"https://c.example/taxii2/focal/","collection":"` + fakeCollection +
		`","auth":"bearer","secret":"tok-c-secret","account":"node-c","poll_interval_ms":5000}`
	if st, b := fed.call(t, "ana", "POST", "/api/v1/peers", body); st != http.StatusForbidden {
		t.Errorf("POST /api/v1/peers as an analyst = %d %s, want 403", st, b)
	}
	if st, b := fed.call(t, "boss", "POST", "/api/v1/peers", strings.Replace(body, `"auth"`, `"colour":"red","auth"`, 1)); st != http.StatusBadRequest || !strings.Contains(b, "colour") {
		t.Errorf("POST with an unknown field = %d %s, want 400 naming it", st, b)
	}
	st, b := fed.call(t, "boss", "POST", "/api/v1/peers", body)
	if st != http.StatusCreated {
		t.Fatalf("POST /api/v1/peers = %d %s, want 201", st, b)
	}
	var created PeerBody
	if err := json.Unmarshal([]byte(b), &created); err != nil {
		t.Fatal(err)
	}
	if created.Secret != "(set)" || created.Health != HealthNever || created.PollIntervalMS != 5000 || !created.Enabled {
		t.Errorf("created = %+v, want secret (set), health never, 5 s, enabled", created)
	}
	id := strconv.FormatInt(created.ID, 10)
	st, b = fed.call(t, "ana", "GET", "/api/v1/peers", "")
	if st != http.StatusOK || !strings.Contains(b, `"node-c"`) || strings.Contains(b, "tok-c-secret") {
		t.Errorf("GET /api/v1/peers as an analyst = %d %s, want 200, node-c listed, no secret", st, b)
	}
	// PUT with the secret as shown keeps it.
	put := strings.Replace(strings.Replace(body, `"tok-c-secret"`, `"(set)"`, 1), `5000`, `2000`, 1)
	if st, b := fed.call(t, "boss", "PUT", "/api/v1/peers/"+id, put); st != http.StatusOK || !strings.Contains(b, `"poll_interval_ms":2000`) {
		t.Errorf("PUT = %d %s, want 200 with the new interval", st, b)
	}
	if p, err := fed.b.st.PeerForPoll(sysCtx(), created.ID); err != nil || p.Secret != "tok-c-secret" {
		t.Errorf("secret after PUT with (set) = %q, %v; want it kept", p.Secret, err)
	}
	if st, b := fed.call(t, "boss", "POST", "/api/v1/peers/"+id+"/poll", ""); st != http.StatusAccepted {
		t.Errorf("POST poll = %d %s, want 202", st, b)
	}
	if st, b := fed.call(t, "boss", "GET", "/api/v1/peers/999", ""); st != http.StatusNotFound {
		t.Errorf("GET unknown peer = %d %s, want 404", st, b)
	}
	if st, b := fed.call(t, "boss", "DELETE", "/api/v1/peers/"+id, ""); st != http.StatusNoContent {
		t.Errorf("DELETE = %d %s, want 204", st, b)
	}
	if st, _ := fed.call(t, "boss", "GET", "/api/v1/peers/"+id, ""); st != http.StatusNotFound {
		t.Errorf("GET deleted peer = %d, want 404", st)
	}
}

// share creates a collection on st that account may read, through a
// group of ceiling AMBER, and returns its id.
func share(t *testing.T, st *store.Store, title string, account *focal.User) string {
	t.Helper()
	ctx := sysCtx()
	c := &store.TaxiiCollection{Title: title}
	if err := st.CreateTaxiiCollection(ctx, c); err != nil {
		t.Fatal(err)
	}
	g := &store.SharingGroup{Name: title + " readers", Ceiling: focal.TLPAmber}
	if err := st.CreateSharingGroup(ctx, g); err != nil {
		t.Fatal(err)
	}
	if err := st.AddSharingMember(ctx, g.ID, store.SharingMember{UserID: account.ID}); err != nil {
		t.Fatal(err)
	}
	if err := st.GrantSharingCollection(ctx, g.ID, store.SharingGrant{CollectionID: c.ID, CanRead: true}); err != nil {
		t.Fatal(err)
	}
	return c.ID
}

// runHinter runs a hinter over st until the test ends.
func runHinter(t *testing.T, st *store.Store) *Hinter {
	t.Helper()
	h := NewHinter(HinterConfig{Store: st})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = h.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return h
}

// TestChainPropagation: A → B → C. B imports A's objects into a
// collection that C reads; the hints make each hop immediate although
// every poll interval is an hour.
func TestChainPropagation(t *testing.T) {
	ctx := sysCtx()
	stA, stB, stC := storetest.Open(t, store.SQLite), storetest.Open(t, store.SQLite), storetest.Open(t, store.SQLite)

	// Accounts: B on A (Basic), C on B (Basic); A on B and B on C (tokens,
	// for the hints).
	collA := share(t, stA, "A indicators", addUser(t, stA, "node-b", focal.RolePeer))
	tokAonB := addToken(t, stB, addUser(t, stB, "node-a", focal.RolePeer))
	collB := share(t, stB, "B imports", addUser(t, stB, "node-c", focal.RolePeer))
	tokBonC := addToken(t, stC, addUser(t, stC, "node-b", focal.RolePeer))

	hA, hB := runHinter(t, stA), runHinter(t, stB)
	pollB := NewPoller(PollerConfig{Store: stB, Tick: time.Hour, Changed: hB.Changed})
	pollC := NewPoller(PollerConfig{Store: stC, Tick: time.Hour})
	a, b, c := startNode(t, stA, nil), startNode(t, stB, pollB), startNode(t, stC, pollC)

	peer := func(st *store.Store, name string, to *node, coll, auth, user, secret, account string) *store.Peer {
		p := &store.Peer{Name: name, APIRoot: to.url + taxii.APIRootPath, Collection: coll, CAPEM: string(to.caPEM), Auth: auth,
			Username: user, Secret: secret, Account: account, PollInterval: time.Hour, Enabled: true}
		if st == stB {
			p.ImportCollection = collB
		}
		if err := st.CreatePeer(ctx, p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	peer(stA, "node-b", b, "unused", store.PeerAuthBearer, "", tokAonB, "")
	peer(stB, "node-a", a, collA, store.PeerAuthBasic, "node-b", "node-b-pw", "node-a")
	peer(stB, "node-c", c, "unused", store.PeerAuthBearer, "", tokBonC, "")
	pc := peer(stC, "node-b", b, collB, store.PeerAuthBasic, "node-c", "node-c-pw", "node-b")
	for _, p := range []*Poller{pollB, pollC} {
		pctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); _ = p.Run(pctx) }()
		t.Cleanup(func() { cancel(); <-done })
	}
	waitPeer(t, stC, pc.ID, 10*time.Second, "C's first poll", func(p *store.Peer) bool { return !p.LastSuccess.IsZero() })

	start := time.Now()
	raw := indicatorJSON(7, "198.51.100.9", focal.TLPGreen)
	h, err := taxii.DecodeHeader([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := stA.AddTaxiiObjects(ctx, collA, []store.TaxiiObject{{ID: h.ID, Type: h.Type, SpecVersion: h.SpecVersion, Version: h.Version, TLP: h.TLP, Body: []byte(raw)}}); err != nil {
		t.Fatal(err)
	}
	hA.Changed(collA)
	waitPeer(t, stC, pc.ID, 10*time.Second, "the object on C", func(p *store.Peer) bool { return p.ObjectsImported == 1 })
	elapsed := time.Since(start)
	t.Logf("A → B → C with hints: %v (poll intervals 1h)", elapsed)
	if elapsed > 2*time.Second {
		t.Errorf("A → B → C took %v, want under 2 s", elapsed)
	}
}

func TestClientAgainstFocal(t *testing.T) {
	ctx := sysCtx()
	st := storetest.Open(t, store.SQLite)
	w := addUser(t, st, "writer", focal.RolePeer)
	coll := share(t, st, "Inbox", w)
	g, err := st.SharingGroups(ctx)
	if err != nil || len(g) != 1 {
		t.Fatalf("SharingGroups = %v, %v", g, err)
	}
	if err := st.GrantSharingCollection(ctx, g[0].ID, store.SharingGrant{CollectionID: coll, CanRead: true, CanWrite: true}); err != nil {
		t.Fatal(err)
	}
	n := startNode(t, st, nil)
	p := &store.Peer{Name: "n", APIRoot: n.url + taxii.APIRootPath, CAPEM: string(n.caPEM), Auth: store.PeerAuthBasic, Username: "writer", Secret: "writer-pw"}
	c, err := NewClient(p, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var objs []json.RawMessage
	for _, r := range indicators(1, 3) {
		objs = append(objs, json.RawMessage(r))
	}
	if ok, failed, err := c.AddObjects(context.Background(), coll, objs); err != nil || ok != 3 || failed != 0 {
		t.Fatalf("AddObjects = %d, %d, %v; want 3 successes", ok, failed, err)
	}
	page, err := c.Objects(context.Background(), coll, Query{Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Objects) != 2 || !page.More || page.Next == "" || page.AddedLast == "" {
		t.Fatalf("first page: %d objects, more %v, next %q, last %q; want 2, more, a next and the header", len(page.Objects), page.More, page.Next, page.AddedLast)
	}
	rest, err := c.Objects(context.Background(), coll, Query{Next: page.Next, Limit: 2})
	if err != nil || len(rest.Objects) != 1 || rest.More {
		t.Fatalf("second page = %+v, %v; want the last object", rest, err)
	}
	empty, err := c.Objects(context.Background(), coll, Query{AddedAfter: rest.AddedLast})
	if err != nil || len(empty.Objects) != 0 || empty.More {
		t.Errorf("after the last: %+v, %v; want an empty envelope", empty, err)
	}
	p.Secret = "Xq9-bad-secret"
	bad, err := NewClient(p, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bad.Objects(context.Background(), coll, Query{}); err == nil || !strings.Contains(err.Error(), "401") || strings.Contains(err.Error(), "Xq9") {
		t.Errorf("with a wrong password: %v; want a 401 without the password", err)
	}
}
