package ui_test

import (
	"context"
	"focal/internal/publish"
	"focal/internal/stix"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"focal/internal/auth"
	"focal/internal/focal"
	"focal/internal/httpauth"
	"focal/internal/lookup"
	"focal/internal/server"
	"focal/internal/store"
	"focal/internal/store/storetest"
	"focal/internal/ui"
)

// testPassword is the password of every account env creates.
const testPassword = "correct horse battery staple"

// cheapParams make test password hashes fast; VerifyPassword reads the
// parameters from the hash, so logins work with any.
var cheapParams = auth.Params{Time: 1, Memory: 8 * 1024, Threads: 1, SaltLen: 16, KeyLen: 32}

// env is a UI mounted on a real server over a fresh SQLite store, with
// two organisations (A and B, whose networks overlap, each with a contact)
// and one logged-in account per role.
type env struct {
	srv      *httptest.Server
	st       *store.Store
	sys      context.Context
	orgA     *focal.Organisation
	orgB     *focal.Organisation
	users    map[string]*focal.User // by label: coordinator, handler, … constituent, constituent-b, peer
	sessions map[string]string      // session cookie values by label
	changed  *atomic.Int32          // ConstituencyChanged calls
	client   *http.Client
}

// roles are the account labels env creates.
var roles = []struct {
	label string
	role  focal.Role
	orgB  bool
}{
	{"coordinator", focal.RoleCoordinator, false},
	{"handler", focal.RoleHandler, false},
	{"analyst", focal.RoleAnalyst, false},
	{"assessor", focal.RoleAssessor, false},
	{"constituent", focal.RoleConstituent, false},
	{"constituent-b", focal.RoleConstituent, true},
	{"peer", focal.RolePeer, false},
}

type testLogWriter struct{ tb testing.TB }

func (w testLogWriter) Write(p []byte) (int, error) {
	w.tb.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// newEnv starts the env; opts adjust the UI's configuration.
func newEnv(tb testing.TB, opts ...func(*ui.Config)) *env {
	tb.Helper()
	return newEnvOn(tb, store.SQLite, opts...)
}

// newEnvOn starts the env on a store of dialect d.
func newEnvOn(tb testing.TB, d store.Dialect, opts ...func(*ui.Config)) *env {
	tb.Helper()
	st := storetest.Open(tb, d)
	logger := slog.New(slog.NewTextHandler(testLogWriter{tb}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	e := &env{
		st: st, sys: focal.NewContextWithPrincipal(context.Background(), focal.System()),
		users: map[string]*focal.User{}, sessions: map[string]string{}, changed: &atomic.Int32{},
		client: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
	}
	e.orgA = &focal.Organisation{Name: "Alpha Telecom", Sector: "isp", Country: "FR",
		Networks: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}, ASNs: []uint32{64496}, Domains: []string{"alpha.example"},
		Contacts: []focal.Contact{{Email: "abuse@alpha.example", Role: "abuse"}}}
	e.orgB = &focal.Organisation{Name: "Beta Bank", Sector: "banking", Country: "BE",
		Networks: []netip.Prefix{netip.MustParsePrefix("192.0.2.128/25")},
		Contacts: []focal.Contact{{Email: "soc@beta.example", Role: "security"}}}
	for _, o := range []*focal.Organisation{e.orgA, e.orgB} {
		if err := st.CreateOrganisation(e.sys, o); err != nil {
			tb.Fatal(err)
		}
	}
	hash, err := auth.HashPassword(testPassword, cheapParams)
	if err != nil {
		tb.Fatal(err)
	}
	for _, r := range roles {
		u := &focal.User{Name: r.label, Role: r.role}
		if r.role == focal.RoleConstituent {
			u.OrgID = e.orgA.ID
			if r.orgB {
				u.OrgID = e.orgB.ID
			}
		}
		if err := st.CreateUser(e.sys, u, hash); err != nil {
			tb.Fatal(err)
		}
		e.users[r.label] = u
		e.sessions[r.label] = e.newSession(tb, u)
	}

	holder := &lookup.Holder{}
	rebuild := func() {
		orgs, err := st.Constituency(context.Background())
		if err != nil {
			tb.Errorf("constituency: %v", err)
			return
		}
		var entries []lookup.Entry
		for _, o := range orgs {
			entries = append(entries, lookup.Entry{OrgID: o.ID, Networks: o.Networks, ASNs: o.ASNs, Domains: o.Domains})
		}
		t, err := lookup.Build(entries)
		if err != nil {
			tb.Errorf("build lookup: %v", err)
			return
		}
		holder.Store(t)
	}
	rebuild()
	authn := httpauth.New(st, logger)
	cfg := ui.Config{Store: st, Auth: authn, Logger: logger, Lookup: holder.Load,
		ConstituencyChanged: func() { e.changed.Add(1); rebuild() }, DataDir: tb.TempDir(),
		Publisher: &publish.Publisher{Store: st, Identity: stix.IdentityFor("cert.example", "cert@cert.example")}}
	for _, opt := range opts {
		opt(&cfg)
	}
	u, err := ui.New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	srv := &server.Server{Logger: logger, Registry: prometheus.NewRegistry(), Authenticate: authn.Authenticate,
		Protect: http.NewCrossOriginProtection().Handler}
	if err := srv.Mount(u.Routes(), u.Error); err != nil {
		tb.Fatal(err)
	}
	e.srv = httptest.NewServer(srv.Handler())
	tb.Cleanup(e.srv.Close)
	return e
}

// newSession starts a browser session for u and returns its cookie value.
func (e *env) newSession(tb testing.TB, u *focal.User) string {
	tb.Helper()
	tok, hash, err := auth.NewToken(auth.SessionTokenPrefix)
	if err != nil {
		tb.Fatal(err)
	}
	if err := e.st.CreateSession(context.Background(), u, hash, time.Hour, "127.0.0.1", "test"); err != nil {
		tb.Fatal(err)
	}
	return tok
}

// response is what a request returned.
type response struct {
	status int
	header http.Header
	body   string
}

// get requests path as the account label ("" for anonymous).
func (e *env) get(tb testing.TB, as, path string, header ...string) response {
	tb.Helper()
	return e.do(tb, as, http.MethodGet, path, nil, header...)
}

// post submits form to path as the account label ("" for anonymous).
func (e *env) post(tb testing.TB, as, path string, form url.Values, header ...string) response {
	tb.Helper()
	return e.do(tb, as, http.MethodPost, path, form, header...)
}

// do sends a request with a session cookie for as and extra header
// name/value pairs; redirects are not followed.
func (e *env) do(tb testing.TB, as, method, path string, form url.Values, header ...string) response {
	tb.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, e.srv.URL+path, body)
	if err != nil {
		tb.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if as != "" {
		tok, ok := e.sessions[as]
		if !ok {
			tb.Fatalf("no account %q", as)
		}
		req.AddCookie(&http.Cookie{Name: httpauth.CookieName, Value: tok})
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := e.client.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

// addIncident stores incident i with observables obs, as the system.
func (e *env) addIncident(tb testing.TB, i *focal.Incident, obs ...focal.Observable) *focal.Incident {
	tb.Helper()
	if err := e.st.CreateIncident(e.sys, i, obs); err != nil {
		tb.Fatal(err)
	}
	return i
}
