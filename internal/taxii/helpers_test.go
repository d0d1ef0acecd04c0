package taxii_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"focal/internal/auth"
	"focal/internal/focal"
	"focal/internal/httpauth"
	"focal/internal/server"
	"focal/internal/store"
	"focal/internal/store/storetest"
	"focal/internal/taxii"
)

// testParams hash test passwords cheaply; Basic verification accepts any
// valid parameters.
var testParams = auth.Params{Time: 1, Memory: 64, Threads: 1, SaltLen: 16, KeyLen: 32}

// env is a running focal HTTPS server with the TAXII surface mounted the
// way the app mounts it, over a real store, with accounts and sharing
// groups:
//
//   - boss (coordinator), ana (analyst, publishes), hal (handler, reads);
//   - peer1, a peer in group "community" (GREEN) granted read on coll;
//   - peer2, a peer in no group;
//   - con (constituent of orgA, which is in "community" too).
//
// Every account's password is its name + "-pw".
type env struct {
	t      testing.TB
	st     *store.Store
	srv    *server.Server
	taxii  *taxii.Server
	url    string
	caPEM  []byte
	client *http.Client
	users  map[string]*focal.User
	orgA   int64
	orgB   int64
	coll   string // the main collection
	group  int64  // "community"
}

func discard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// sys is a context acting as the command line operator.
func sys() context.Context {
	return focal.NewContextWithPrincipal(context.Background(), focal.System())
}

// startServer mounts the TAXII surface on a new focal server over st and
// serves it over HTTPS with a self-signed certificate from tlsDir. It is
// the wiring the app uses.
func startServer(tb testing.TB, st *store.Store, tlsDir string) (*server.Server, *taxii.Server, []byte) {
	tb.Helper()
	logger := discard()
	ts, err := taxii.New(context.Background(), taxii.Config{Store: st, Logger: logger, Title: "focal test", MaxContentLength: 1 << 20, PageSize: 500})
	if err != nil {
		tb.Fatal(err)
	}
	a := httpauth.New(st, logger)
	a.Limiter = auth.NewLimiter(auth.LimiterConfig{Burst: 1000, FailuresBeforeLockout: -1})
	tlsCfg, caPEM, err := taxii.SelfSigned(tlsDir)
	if err != nil {
		tb.Fatal(err)
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
		tb.Fatal(err)
	}
	if err := srv.Open(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Close(ctx); err != nil {
			tb.Errorf("close server: %v", err)
		}
	})
	return srv, ts, caPEM
}

func httpsClient(tb testing.TB, caPEM []byte) *http.Client {
	tb.Helper()
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		tb.Fatal("bad CA PEM")
	}
	return &http.Client{
		Timeout:       30 * time.Second,
		Transport:     &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// newEnv starts an env over a fresh store of dialect d.
func newEnv(tb testing.TB, d store.Dialect) *env {
	tb.Helper()
	return newEnvOn(tb, storetest.Open(tb, d))
}

func newEnvOn(tb testing.TB, st *store.Store) *env {
	tb.Helper()
	e := &env{t: tb, st: st, users: map[string]*focal.User{}}
	ctx := sys()
	for _, name := range []string{"Org A", "Org B"} {
		o := &focal.Organisation{Name: name, Sector: "isp", Country: "FR"}
		if err := st.CreateOrganisation(ctx, o); err != nil {
			tb.Fatal(err)
		}
		if e.orgA == 0 {
			e.orgA = o.ID
		} else {
			e.orgB = o.ID
		}
	}
	for _, u := range []*focal.User{
		{Name: "boss", Role: focal.RoleCoordinator},
		{Name: "ana", Role: focal.RoleAnalyst},
		{Name: "hal", Role: focal.RoleHandler},
		{Name: "peer1", Role: focal.RolePeer},
		{Name: "peer2", Role: focal.RolePeer},
		{Name: "peer3", Role: focal.RolePeer},
		{Name: "con", Role: focal.RoleConstituent, OrgID: e.orgA},
	} {
		e.addUser(u)
	}
	c := &store.TaxiiCollection{Title: "Indicators", Alias: "indicators", Description: "shared indicators"}
	if err := st.CreateTaxiiCollection(ctx, c); err != nil {
		tb.Fatal(err)
	}
	e.coll = c.ID
	g := &store.SharingGroup{Name: "community", Ceiling: focal.TLPGreen}
	if err := st.CreateSharingGroup(ctx, g); err != nil {
		tb.Fatal(err)
	}
	e.group = g.ID
	for _, m := range []store.SharingMember{{UserID: e.users["peer1"].ID}, {OrgID: e.orgA}} {
		if err := st.AddSharingMember(ctx, g.ID, m); err != nil {
			tb.Fatal(err)
		}
	}
	if err := st.GrantSharingCollection(ctx, g.ID, store.SharingGrant{CollectionID: c.ID, CanRead: true}); err != nil {
		tb.Fatal(err)
	}
	e.srv, e.taxii, e.caPEM = startServer(tb, st, tb.TempDir())
	e.url = e.srv.URL()
	e.client = httpsClient(tb, e.caPEM)
	return e
}

func (e *env) addUser(u *focal.User) {
	e.t.Helper()
	hash, err := auth.HashPassword(u.Name+"-pw", testParams)
	if err != nil {
		e.t.Fatal(err)
	}
	if err := e.st.CreateUser(sys(), u, hash); err != nil {
		e.t.Fatal(err)
	}
	e.users[u.Name] = u
}

// eachDialect runs fn on a fresh env per dialect (PostgreSQL when
// FOCAL_TEST_POSTGRES_URL is set).
func eachDialect(t *testing.T, fn func(t *testing.T, e *env)) {
	t.Helper()
	for _, d := range storetest.Dialects() {
		t.Run(string(d), func(t *testing.T) { fn(t, newEnv(t, d)) })
	}
}

// call is one HTTP request to the env.
type call struct {
	method, path, body string
	user               string // HTTP Basic as this account; "" sends no credentials
	password           string // "" means user + "-pw"
	accept             string // "" means MediaType; "-" sends none
	ctype              string // "" means MediaType for bodies
	header             map[string]string
}

type reply struct {
	status int
	header http.Header
	body   []byte
}

func (r reply) String() string { return fmt.Sprintf("%d %s", r.status, truncate(string(r.body), 300)) }

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// json decodes the body into v.
func (r reply) json(tb testing.TB, v any) {
	tb.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		tb.Fatalf("decode %s: %v", r, err)
	}
}

func (e *env) do(c call) reply {
	e.t.Helper()
	method := c.method
	if method == "" {
		method = "GET"
	}
	var body io.Reader
	if c.body != "" {
		body = strings.NewReader(c.body)
	}
	req, err := http.NewRequest(method, e.url+c.path, body)
	if err != nil {
		e.t.Fatal(err)
	}
	switch c.accept {
	case "":
		req.Header.Set("Accept", taxii.MediaType)
	case "-":
	default:
		req.Header.Set("Accept", c.accept)
	}
	if c.body != "" {
		ct := c.ctype
		if ct == "" {
			ct = taxii.MediaType
		}
		req.Header.Set("Content-Type", ct)
	}
	if c.user != "" {
		pw := c.password
		if pw == "" {
			pw = c.user + "-pw"
		}
		req.SetBasicAuth(c.user, pw)
	}
	for k, v := range c.header {
		req.Header.Set(k, v)
	}
	resp, err := e.client.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return reply{status: resp.StatusCode, header: resp.Header, body: b}
}

// get is a GET as user.
func (e *env) get(user, path string) reply {
	e.t.Helper()
	return e.do(call{path: path, user: user})
}

func (e *env) root() string { return taxii.APIRootPath }

func (e *env) objectsPath(coll string) string {
	return taxii.APIRootPath + "collections/" + coll + "/objects/"
}

var stixSeq atomic.Int64

// newID returns a fresh STIX id of type typ.
func newID(typ string) string { return typ + "--" + store.NewUUID() }

// sdo returns a STIX 2.1 SDO of type typ with id, modified at mod, with a
// TLP marking (none for "").
func sdo(typ, id string, mod time.Time, tlp focal.TLP) map[string]any {
	stixSeq.Add(1)
	o := map[string]any{
		"type": typ, "spec_version": "2.1", "id": id,
		"created":  "2020-01-01T00:00:00.000Z",
		"modified": mod.UTC().Format("2006-01-02T15:04:05.000Z"),
		"name":     fmt.Sprintf("object %d", stixSeq.Load()),
	}
	if typ == "indicator" {
		o["pattern"] = "[ipv4-addr:value = '198.51.100.1']"
		o["pattern_type"] = "stix"
		o["valid_from"] = "2020-01-01T00:00:00Z"
	}
	if tlp != "" {
		o["object_marking_refs"] = []string{taxii.MarkingID(tlp)}
	}
	return o
}

func envelope(objs ...map[string]any) string {
	b, err := json.Marshal(map[string]any{"objects": objs})
	if err != nil {
		panic(err)
	}
	return string(b)
}

// post adds objs to coll as user and checks the 202.
func (e *env) post(user, coll string, objs ...map[string]any) statusRes {
	e.t.Helper()
	r := e.do(call{method: "POST", path: e.objectsPath(coll), user: user, body: envelope(objs...)})
	if r.status != http.StatusAccepted {
		e.t.Fatalf("POST objects = %s, want 202", r)
	}
	var st statusRes
	r.json(e.t, &st)
	if st.FailureCount != 0 {
		e.t.Fatalf("POST objects: failures %+v", st.Failures)
	}
	return st
}

type statusRes struct {
	ID           string `json:"id"`
	Status       string `json:"status"`
	TotalCount   int    `json:"total_count"`
	SuccessCount int    `json:"success_count"`
	FailureCount int    `json:"failure_count"`
	PendingCount int    `json:"pending_count"`
	Successes    []struct {
		ID, Version string
	} `json:"successes"`
	Failures []struct {
		ID, Version, Message string
	} `json:"failures"`
}

type envelopeRes struct {
	More    bool              `json:"more"`
	Next    string            `json:"next"`
	Objects []json.RawMessage `json:"objects"`
}

type manifestRes struct {
	More    bool   `json:"more"`
	Next    string `json:"next"`
	Objects []struct {
		ID        string `json:"id"`
		DateAdded string `json:"date_added"`
		Version   string `json:"version"`
		MediaType string `json:"media_type"`
	} `json:"objects"`
}

// ids returns the ids of an envelope's objects, in order.
func (env envelopeRes) ids(tb testing.TB) []string {
	tb.Helper()
	var out []string
	for _, raw := range env.Objects {
		var o struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(raw, &o); err != nil {
			tb.Fatal(err)
		}
		out = append(out, o.ID)
	}
	return out
}

// collection creates a collection and grants group access to it.
func (e *env) collection(title string, public bool) string {
	e.t.Helper()
	c := &store.TaxiiCollection{Title: title, Public: public}
	if err := e.st.CreateTaxiiCollection(sys(), c); err != nil {
		e.t.Fatal(err)
	}
	return c.ID
}

// grant gives a new group of one peer read/write on coll.
func (e *env) grant(peer, coll string, read, write bool) {
	e.t.Helper()
	g := &store.SharingGroup{Name: peer + "-" + coll, Ceiling: focal.TLPAmber}
	ctx := sys()
	if err := e.st.CreateSharingGroup(ctx, g); err != nil {
		e.t.Fatal(err)
	}
	if err := e.st.AddSharingMember(ctx, g.ID, store.SharingMember{UserID: e.users[peer].ID}); err != nil {
		e.t.Fatal(err)
	}
	if err := e.st.GrantSharingCollection(ctx, g.ID, store.SharingGrant{CollectionID: coll, CanRead: read, CanWrite: write}); err != nil {
		e.t.Fatal(err)
	}
}

// timestampRE is a TAXII timestamp.
var timestampRE = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$`)

// taxii2ClientCheck ports taxii2-client's response check
// (_TAXIIEndpoint._raise_for_status / check_content_type): strip spaces,
// split on ';', the first token must be exactly application/taxii+json
// and every token of the Accept sent must be present.
func taxii2ClientCheck(tb testing.TB, r reply, accept string) {
	tb.Helper()
	ct := strings.ReplaceAll(r.header.Get("Content-Type"), " ", "")
	got := strings.Split(ct, ";")
	if got[0] != "application/taxii+json" {
		tb.Errorf("Content-Type %q: first token is not application/taxii+json", ct)
	}
	for _, want := range strings.Split(strings.ReplaceAll(accept, " ", ""), ";") {
		found := false
		for _, g := range got {
			if g == want {
				found = true
			}
		}
		if !found {
			tb.Errorf("Content-Type %q lacks %q", ct, want)
		}
	}
}

// noEmptyArrays fails if the JSON body holds an empty array anywhere.
func noEmptyArrays(tb testing.TB, what string, body []byte) {
	tb.Helper()
	if len(bytes.TrimSpace(body)) == 0 {
		return
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		tb.Fatalf("%s: not JSON: %v", what, err)
	}
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch x := v.(type) {
		case []any:
			if len(x) == 0 {
				tb.Errorf("%s: empty array at %s", what, path)
			}
			for i, y := range x {
				walk(fmt.Sprintf("%s[%d]", path, i), y)
			}
		case map[string]any:
			for k, y := range x {
				walk(path+"."+k, y)
			}
		}
	}
	walk("$", v)
}
