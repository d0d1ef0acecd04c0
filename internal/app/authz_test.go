package app_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"focal/internal/app"
	"focal/internal/attachment"
	"focal/internal/auth"
	"focal/internal/config"
	"focal/internal/focal"
	"focal/internal/server"
	"focal/internal/store"
)

// caller is one column of the authorisation matrix.
type caller struct {
	label string
	role  focal.Role
	other bool // a constituent of an organisation other than the target's
	read  bool // a read-only token
}

var callers = []caller{
	{label: "anonymous"},
	{label: "coordinator", role: focal.RoleCoordinator},
	{label: "handler", role: focal.RoleHandler},
	{label: "analyst", role: focal.RoleAnalyst},
	{label: "assessor", role: focal.RoleAssessor},
	{label: "constituent", role: focal.RoleConstituent},
	{label: "constituent-other", role: focal.RoleConstituent, other: true},
	{label: "peer", role: focal.RolePeer},
	{label: "coordinator-readonly", role: focal.RoleCoordinator, read: true},
}

// expect gives the status each caller must get; "*" is the default.
type expect map[string]int

const (
	ok       = http.StatusOK
	created  = http.StatusCreated
	noBody   = http.StatusNoContent
	unauth   = http.StatusUnauthorized
	forbid   = http.StatusForbidden
	notFound = http.StatusNotFound
	see      = http.StatusSeeOther // a UI redirect: to the login page, or after a form
	badForm  = http.StatusBadRequest
	accepted = http.StatusAccepted
)

// staffRead: every staff role reads; constituents read their own
// organisation only; others are refused.
var (
	public        = expect{"*": ok}
	coordinatorRW = expect{"*": forbid, "anonymous": unauth, "coordinator": ok}
	staffRead     = expect{"*": forbid, "anonymous": unauth, "coordinator": ok, "handler": ok, "analyst": ok, "assessor": ok, "coordinator-readonly": ok}
	anyAccount    = expect{"*": ok, "anonymous": unauth}
	incidentRead  = expect{"*": forbid, "anonymous": unauth, "coordinator": ok, "handler": ok, "analyst": ok, "constituent": ok, "constituent-other": ok, "coordinator-readonly": ok}
	incidentWrite = expect{"*": forbid, "anonymous": unauth, "coordinator": ok, "handler": ok}
	// Events: handlers and analysts read them, a constituent its own
	// organisation's (an event of another is not found); feeds, runs,
	// ingest and alert rules: analysts manage them, handlers read them.
	eventRead   = expect{"*": forbid, "anonymous": unauth, "coordinator": ok, "handler": ok, "analyst": ok, "constituent": ok, "constituent-other": ok, "coordinator-readonly": ok}
	myRead      = expect{"*": forbid, "anonymous": unauth, "constituent": ok, "constituent-other": ok}
	feedRead    = expect{"*": forbid, "anonymous": unauth, "coordinator": ok, "handler": ok, "analyst": ok, "coordinator-readonly": ok}
	feedWrite   = expect{"*": forbid, "anonymous": unauth, "coordinator": ok, "analyst": ok}
	ownContacts = expect{"*": forbid, "anonymous": unauth, "coordinator": ok, "constituent": ok, "constituent-other": notFound}
	// The notification log: coordinators and handlers, who send them.
	notificationRead = expect{"*": forbid, "anonymous": unauth, "coordinator": ok, "handler": ok, "coordinator-readonly": ok}
)

func with(e expect, overrides expect) expect {
	out := expect{}
	for k, v := range e {
		out[k] = v
	}
	for k, v := range overrides {
		out[k] = v
	}
	return out
}

// matrix lists every route's expected statuses. A mounted route missing
// here fails the test: new routes must come with their rule.
var matrix = map[string]expect{
	"GET /healthz":                   public,
	"GET /readyz":                    public,
	"GET /metrics":                   public,
	"GET /api/v1/openapi.json":       public,
	"GET /api/v1/me":                 anyAccount,
	"GET /api/v1/organisations":      with(staffRead, expect{"constituent": ok, "constituent-other": ok}),
	"POST /api/v1/organisations":     with(coordinatorRW, expect{"coordinator": created}),
	"GET /api/v1/organisations/{id}": with(staffRead, expect{"constituent": ok}),
	"PUT /api/v1/organisations/{id}": coordinatorRW,
	// An organisation's notification policy and contacts: staff and its
	// own constituents read them; coordinators and its own constituents
	// set them (another organisation's is not found).
	"GET /api/v1/organisations/{id}/notify-policy": with(staffRead, expect{"constituent": ok}),
	"PUT /api/v1/organisations/{id}/notify-policy": ownContacts,
	"PUT /api/v1/organisations/{id}/contacts":      ownContacts,
	// Network change requests: its own constituents (and coordinators)
	// file and withdraw them, staff read them, coordinators decide.
	"POST /api/v1/organisations/{id}/change-requests": with(ownContacts, expect{"coordinator": created, "constituent": created}),
	"GET /api/v1/change-requests":                     with(staffRead, expect{"constituent": ok, "constituent-other": ok}),
	"GET /api/v1/change-requests/{id}":                with(staffRead, expect{"constituent": ok, "constituent-other": notFound}),
	"POST /api/v1/change-requests/{id}/approve":       coordinatorRW,
	"POST /api/v1/change-requests/{id}/reject":        coordinatorRW,
	"POST /api/v1/change-requests/{id}/withdraw":      ownContacts,
	// Collections and sharing groups: coordinators manage them, staff read
	// them; publishing needs write access to the collection (coordinators
	// and analysts; others have none, or only read).
	"GET /api/v1/collections":                           staffRead,
	"POST /api/v1/collections":                          with(coordinatorRW, expect{"coordinator": created}),
	"PUT /api/v1/collections/{cid}":                     coordinatorRW,
	"DELETE /api/v1/collections/{cid}":                  with(coordinatorRW, expect{"coordinator": noBody}),
	"GET /api/v1/collections/{cid}/recipients":          staffRead,
	"POST /api/v1/collections/{cid}/publish":            expect{"*": forbid, "anonymous": unauth, "coordinator": ok, "analyst": ok, "constituent": notFound, "constituent-other": notFound, "peer": notFound},
	"GET /api/v1/sharing-groups":                        staffRead,
	"GET /api/v1/federation/profile":                    staffRead,
	"PUT /api/v1/federation/profile":                    coordinatorRW,
	"GET /.well-known/focal-point.json":                 public,
	"POST /api/v1/sharing-groups":                       with(coordinatorRW, expect{"coordinator": created}),
	"GET /api/v1/sharing-groups/{id}":                   staffRead,
	"PUT /api/v1/sharing-groups/{id}":                   coordinatorRW,
	"DELETE /api/v1/sharing-groups/{id}":                with(coordinatorRW, expect{"coordinator": noBody}),
	"POST /api/v1/sharing-groups/{id}/members":          coordinatorRW,
	"DELETE /api/v1/sharing-groups/{id}/members":        coordinatorRW,
	"PUT /api/v1/sharing-groups/{id}/collections/{cid}": coordinatorRW,
	"DELETE /api/v1/organisations/{id}":                 with(coordinatorRW, expect{"coordinator": noBody}),
	"GET /api/v1/users":                                 with(coordinatorRW, expect{"coordinator-readonly": ok}),
	"POST /api/v1/users":                                with(coordinatorRW, expect{"coordinator": created}),
	"GET /api/v1/users/{id}":                            with(coordinatorRW, expect{"coordinator-readonly": ok}),
	"PATCH /api/v1/users/{id}":                          coordinatorRW,
	"DELETE /api/v1/users/{id}":                         with(coordinatorRW, expect{"coordinator": noBody}),
	"GET /api/v1/lookup":                                staffRead,
	"GET /api/v1/lookup/overlaps":                       staffRead,
	// Incidents: handlers work them, analysts read them, a constituent
	// reads and reports its own organisation's, assessors and peers none.
	"GET /api/v1/incidents":                               incidentRead,
	"POST /api/v1/incidents":                              expect{"*": forbid, "anonymous": unauth, "coordinator": created, "handler": created, "constituent": created, "constituent-other": created},
	"GET /api/v1/incidents/{id}":                          with(incidentRead, expect{"constituent-other": forbid}),
	"GET /api/v1/incidents/{id}/recipients":               with(incidentRead, expect{"constituent": forbid, "constituent-other": forbid}),
	"PATCH /api/v1/incidents/{id}":                        incidentWrite,
	"GET /api/v1/incidents/{id}/journal":                  with(incidentRead, expect{"constituent-other": forbid}),
	"POST /api/v1/incidents/{id}/journal":                 with(incidentWrite, expect{"coordinator": noBody, "handler": noBody}),
	"GET /api/v1/metrics/incidents":                       incidentRead,
	"GET /api/v1/sla-targets":                             incidentRead,
	"PUT /api/v1/sla-targets":                             coordinatorRW,
	"GET /api/v1/incidents/{id}/iodef":                    with(incidentRead, expect{"constituent-other": forbid}),
	"GET /api/v1/incidents/{id}/tasks":                    with(incidentRead, expect{"constituent-other": forbid}),
	"POST /api/v1/incidents/{id}/tasks":                   with(incidentWrite, expect{"coordinator": created, "handler": created}),
	"PATCH /api/v1/incidents/{id}/tasks/{task}":           with(incidentWrite, expect{"coordinator": noBody, "handler": noBody}),
	"POST /api/v1/incidents/{id}/merge":                   with(incidentWrite, expect{"coordinator": noBody, "handler": noBody}),
	"GET /api/v1/incidents/{id}/attachments":              with(incidentRead, expect{"constituent-other": forbid}),
	"POST /api/v1/incidents/{id}/attachments":             with(incidentWrite, expect{"coordinator": created, "handler": created}),
	"GET /api/v1/incidents/{id}/attachments/{attachment}": with(incidentRead, expect{"constituent-other": forbid}),
	"GET /api/v1/events":                                  eventRead,
	"GET /api/v1/events/stats":                            eventRead,
	// The caller's own organisation's events and stream: constituents only.
	"GET /api/v1/my/events":              myRead,
	"GET /api/v1/my/stream":              myRead,
	"GET /api/v1/events/{id}/recipients": with(eventRead, expect{"constituent": forbid, "constituent-other": forbid}),
	"GET /api/v1/events/{id}":            with(eventRead, expect{"constituent-other": notFound}),
	"GET /api/v1/formats":                feedRead,
	"GET /api/v1/feeds":                  feedRead,
	"POST /api/v1/feeds":                 with(feedWrite, expect{"coordinator": created, "analyst": created}),
	"GET /api/v1/feeds/{id}":             feedRead,
	"PUT /api/v1/feeds/{id}":             feedWrite,
	"DELETE /api/v1/feeds/{id}":          with(feedWrite, expect{"coordinator": noBody, "analyst": noBody}),
	"POST /api/v1/feeds/{id}/run":        with(feedWrite, expect{"coordinator": accepted, "analyst": accepted}),
	"GET /api/v1/feeds/{id}/runs":        feedRead,
	"GET /api/v1/feeds/{id}/recipients":  feedRead,
	"GET /api/v1/feeds/{id}/listings":    feedRead,
	"GET /api/v1/runs/{id}":              feedRead,
	"GET /api/v1/runs/{id}/problems":     feedRead,
	"POST /api/v1/ingest":                with(feedWrite, expect{"coordinator": accepted, "analyst": accepted}),
	"GET /api/v1/alert-rules":            feedRead,
	"POST /api/v1/alert-rules":           with(feedWrite, expect{"coordinator": created, "analyst": created}),
	"GET /api/v1/alert-rules/{id}":       feedRead,
	"PUT /api/v1/alert-rules/{id}":       feedWrite,
	"DELETE /api/v1/alert-rules/{id}":    with(feedWrite, expect{"coordinator": noBody, "analyst": noBody}),

	// The constituent portal: an organisation gives feedback on its own
	// events (another's is not found) and reads the notifications sent to
	// it; coordinators and handlers read every organisation's.
	"GET /api/v1/events/{id}/feedback":    with(eventRead, expect{"constituent-other": notFound}),
	"PUT /api/v1/my/events/{id}/feedback": expect{"*": forbid, "anonymous": unauth, "constituent": ok, "constituent-other": notFound},
	"GET /api/v1/my/notifications":        myRead,
	"GET /api/v1/notifications":           notificationRead,

	// The web UI: an anonymous GET is redirected to the login page, an
	// anonymous POST gets 401; a successful form answers 303.
	"GET /static/{hash}/{name}":    public,
	"GET /login":                   expect{"*": see, "anonymous": ok}, // logged in: on to next
	"POST /login":                  expect{"*": badForm},              // the fixture posts an empty form
	"POST /logout":                 expect{"*": see},
	"GET /{$}":                     with(staffRead, expect{"anonymous": see, "constituent": ok, "constituent-other": ok}),
	"GET /organisations":           with(staffRead, expect{"anonymous": see, "constituent": ok, "constituent-other": ok}),
	"GET /organisations/new":       with(coordinatorRW, expect{"anonymous": see}),
	"POST /organisations":          with(coordinatorRW, expect{"coordinator": see}),
	"GET /organisations/{id}":      with(staffRead, expect{"anonymous": see, "constituent": ok}),
	"GET /organisations/{id}/edit": with(coordinatorRW, expect{"anonymous": see}),
	"POST /organisations/{id}":     with(coordinatorRW, expect{"coordinator": see}),
	// The constituent portal in the UI, as in the API.
	"GET /organisations/{id}/contacts":         with(ownContacts, expect{"anonymous": see}),
	"POST /organisations/{id}/contacts":        with(ownContacts, expect{"coordinator": see, "constituent": see}),
	"GET /organisations/{id}/notify-policy":    with(ownContacts, expect{"anonymous": see}),
	"POST /organisations/{id}/notify-policy":   with(ownContacts, expect{"coordinator": see, "constituent": see}),
	"POST /organisations/{id}/change-requests": with(ownContacts, expect{"coordinator": see, "constituent": see}),
	"POST /organisations/{id}/products":        with(ownContacts, expect{"coordinator": see, "constituent": see}),
	"GET /change-requests":                     with(staffRead, expect{"anonymous": see, "constituent": ok, "constituent-other": ok}),
	"POST /change-requests/{id}/decide":        with(coordinatorRW, expect{"coordinator": see}),
	"POST /change-requests/{id}/withdraw":      with(ownContacts, expect{"coordinator": see, "constituent": see}),
	"GET /live":                                expect{"*": forbid, "anonymous": see, "constituent": ok, "constituent-other": ok},
	// The cooperative network in the UI: coordinators manage, staff read.
	"GET /sharing":                          with(staffRead, expect{"anonymous": see}),
	"POST /sharing/collections":             with(coordinatorRW, expect{"coordinator": see}),
	"POST /sharing/groups":                  with(coordinatorRW, expect{"coordinator": see}),
	"POST /sharing/groups/{id}/members":     with(coordinatorRW, expect{"coordinator": see}),
	"POST /sharing/groups/{id}/collections": with(coordinatorRW, expect{"coordinator": see}),
	"GET /sharing/publish":                  with(staffRead, expect{"anonymous": see}),
	"GET /federation/profile":               with(staffRead, expect{"anonymous": see}),
	"POST /federation/profile":              with(coordinatorRW, expect{"coordinator": see}),
	"GET /rfc2350":                          public,
	"GET /rfc2350.txt":                      public,
	"POST /sharing/publish":                 staffRead,
	"POST /organisations/{id}/delete":       with(coordinatorRW, expect{"coordinator": see}),
	"GET /users":                            with(coordinatorRW, expect{"anonymous": see, "coordinator-readonly": ok}),
	"GET /users/new":                        with(coordinatorRW, expect{"anonymous": see}),
	"POST /users":                           with(coordinatorRW, expect{"coordinator": see}),
	"GET /users/{id}":                       with(coordinatorRW, expect{"anonymous": see, "coordinator-readonly": ok}),
	"POST /users/{id}":                      with(coordinatorRW, expect{"coordinator": see}),
	"GET /account":                          with(anyAccount, expect{"anonymous": see}),
	"POST /account/password":                with(anyAccount, expect{"*": badForm, "coordinator-readonly": forbid}), // accounts have no password: "wrong password"
	"GET /audit":                            with(coordinatorRW, expect{"anonymous": see, "coordinator-readonly": ok}),
	// The public report form is open to everyone; the fixture posts a form
	// without the human check's token, which is refused.
	"GET /report":      public,
	"POST /report":     expect{"*": badForm},
	"GET /report/sent": expect{"*": notFound}, // without a signed reference
	// Incidents in the UI follow the API's rules.
	"GET /incidents":                        with(incidentRead, expect{"anonymous": see}),
	"GET /incidents/new":                    expect{"*": forbid, "anonymous": see, "coordinator": ok, "handler": ok, "constituent": ok, "constituent-other": ok},
	"POST /incidents":                       expect{"*": forbid, "anonymous": unauth, "coordinator": see, "handler": see, "constituent": see, "constituent-other": see},
	"GET /incidents/metrics":                with(incidentRead, expect{"anonymous": see}),
	"GET /incidents/{id}":                   with(incidentRead, expect{"anonymous": see, "constituent-other": forbid}),
	"GET /incidents/{id}/content":           with(incidentRead, expect{"anonymous": see, "constituent-other": forbid}),
	"POST /incidents/{id}":                  with(incidentWrite, expect{"coordinator": see, "handler": see}),
	"POST /incidents/{id}/journal":          with(incidentWrite, expect{"coordinator": see, "handler": see}),
	"GET /incidents/{id}/attachments/{aid}": with(incidentRead, expect{"anonymous": see, "constituent-other": forbid}),
	"POST /incidents/{id}/attachments":      with(incidentWrite, expect{"coordinator": see, "handler": see}),
	"POST /incidents/{id}/tasks":            with(incidentWrite, expect{"coordinator": see, "handler": see}),
	"POST /incidents/{id}/tasks/{task}":     with(incidentWrite, expect{"coordinator": see, "handler": see}),
	"POST /incidents/{id}/merge":            with(incidentWrite, expect{"coordinator": see, "handler": see}),
	// Quarantined intake: those who work incidents (KindIncident update).
	"GET /quarantine": expect{"*": forbid, "anonymous": see, "coordinator": ok, "handler": ok},
	// SLA targets: read by incident readers, changed by coordinators.
	"GET /sla":  with(incidentRead, expect{"anonymous": see}),
	"POST /sla": with(coordinatorRW, expect{"coordinator": see}),
	// Watch and warning in the UI follows the API's rules.
	"GET /events":                   with(eventRead, expect{"anonymous": see}),
	"GET /events/{id}":              with(eventRead, expect{"anonymous": see, "constituent-other": notFound}),
	"POST /events/{id}/feedback":    expect{"*": forbid, "anonymous": unauth, "constituent": see, "constituent-other": notFound},
	"GET /notifications":            with(notificationRead, expect{"anonymous": see, "constituent": ok, "constituent-other": ok}),
	"GET /notifications/{id}":       with(notificationRead, expect{"anonymous": see, "constituent": ok, "constituent-other": notFound}),
	"GET /feeds":                    with(feedRead, expect{"anonymous": see}),
	"GET /feeds/new":                with(feedWrite, expect{"anonymous": see}),
	"POST /feeds":                   with(feedWrite, expect{"coordinator": see, "analyst": see}),
	"GET /feeds/{id}":               with(feedRead, expect{"anonymous": see}),
	"GET /feeds/{id}/edit":          with(feedWrite, expect{"anonymous": see}),
	"POST /feeds/{id}":              with(feedWrite, expect{"coordinator": see, "analyst": see}),
	"POST /feeds/{id}/delete":       with(feedWrite, expect{"coordinator": see, "analyst": see}),
	"POST /feeds/{id}/run":          with(feedWrite, expect{"coordinator": see, "analyst": see}),
	"POST /feeds/{id}/upload":       with(feedWrite, expect{"coordinator": see, "analyst": see}),
	"GET /runs/{id}":                with(feedRead, expect{"anonymous": see}),
	"GET /alert-rules":              with(feedRead, expect{"anonymous": see}),
	"POST /alert-rules":             with(feedWrite, expect{"coordinator": see, "analyst": see}),
	"GET /alert-rules/{id}/edit":    with(feedWrite, expect{"anonymous": see}),
	"POST /alert-rules/{id}":        with(feedWrite, expect{"coordinator": see, "analyst": see}),
	"POST /alert-rules/{id}/delete": with(feedWrite, expect{"coordinator": see, "analyst": see}),
}

func (e expect) status(label string) int {
	if s, found := e[label]; found {
		return s
	}
	return e["*"]
}

func mustRun(tb testing.TB) *app.App {
	tb.Helper()
	cfg := config.Default()
	cfg.Addr = "127.0.0.1:0"
	cfg.DataDir = filepath.Join(tb.TempDir(), "data")
	a := app.New(cfg, nullLogger())
	if err := a.Run(context.Background()); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := a.Close(); err != nil {
			tb.Errorf("Close: %v", err)
		}
	})
	return a
}

// TestAuthorizationMatrix calls every mounted route as every kind of
// caller and checks the status: the policy, the route guards and the
// store's object checks together.
func TestAuthorizationMatrix(t *testing.T) {
	a := mustRun(t)
	sys := focal.NewContextWithPrincipal(context.Background(), focal.System())
	st := a.Store
	target := &focal.Organisation{Name: "Target", Sector: "isp", Country: "FR", Networks: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}}
	other := &focal.Organisation{Name: "Other", Sector: "banking", Country: "FR"}
	for _, o := range []*focal.Organisation{target, other} {
		if err := st.CreateOrganisation(sys, o); err != nil {
			t.Fatal(err)
		}
	}
	tokens := map[string]string{}
	for i, c := range callers {
		if c.role == "" {
			continue
		}
		u := &focal.User{Name: fmt.Sprintf("user%d", i), Role: c.role}
		if c.role == focal.RoleConstituent {
			u.OrgID = target.ID
			if c.other {
				u.OrgID = other.ID
			}
		}
		if err := st.CreateUser(sys, u, ""); err != nil {
			t.Fatal(err)
		}
		tok, hash, err := auth.NewToken(auth.APITokenPrefix)
		if err != nil {
			t.Fatal(err)
		}
		scope := "write"
		if c.read {
			scope = "read"
		}
		if err := st.CreateToken(sys, &focal.Token{UserID: u.ID, Scope: scope, ExpiresAt: time.Now().Add(time.Hour)}, hash); err != nil {
			t.Fatal(err)
		}
		tokens[c.label] = tok
	}

	matrixEvents(t, a, target)

	staticPath := assetPath(t, a, "app.css")
	// The UI answers with redirects, which the matrix checks as such.
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	routes := a.Server.Routes()
	seen := map[string]bool{}
	for _, rt := range routes {
		seen[rt.Pattern()] = true
		// TAXII routes speak TAXII (media types, error resources, 401
		// with WWW-Authenticate), and who reads which collection is the
		// sharing groups' business: internal/taxii's checklist tests
		// (T02, T03, T32, T33 and the public root's) call them as
		// anonymous, peer, constituent and staff callers. Here: the main
		// root needs an account, the public root only reads.
		if strings.HasPrefix(rt.Path, "/taxii2") {
			// Paths without their trailing slash only redirect (308), and
			// the public root refuses writes itself.
			redirect := !strings.HasSuffix(rt.Path, "/") && !strings.HasSuffix(rt.Path, "{$}")
			if strings.HasPrefix(rt.Path, "/taxii2/focal") && !redirect && rt.Kind != focal.KindCollection {
				t.Errorf("TAXII route %s has kind %s, want %s", rt.Pattern(), rt.Kind, focal.KindCollection)
			}
			continue
		}
		want, found := matrix[rt.Pattern()]
		if !found {
			t.Errorf("route %s has no row in the authorisation matrix", rt.Pattern())
			continue
		}
		for n, c := range callers {
			name := strings.NewReplacer(" ", "_", "/", "_", "{", "", "}", "").Replace(rt.Pattern()) + "/" + c.label
			t.Run(name, func(t *testing.T) {
				path, body := fixture(t, st, sys, rt, target, n, a.Config.DataDir)
				if rt.Path == "/static/{hash}/{name}" {
					path = staticPath
				}
				req, err := http.NewRequest(rt.Method, a.URL()+path, body)
				if err != nil {
					t.Fatal(err)
				}
				if body != nil {
					ct := "application/json"
					if !strings.HasPrefix(rt.Path, "/api/") {
						ct = "application/x-www-form-urlencoded" // the UI's forms
					}
					if rt.Path == "/incidents/{id}/attachments" || rt.Path == "/feeds/{id}/upload" {
						ct = "multipart/form-data; boundary=" + fixtureBoundary
					}
					req.Header.Set("Content-Type", ct)
				}
				if tok := tokens[c.label]; tok != "" {
					req.Header.Set("Authorization", "Bearer "+tok)
				}
				resp, err := client.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(resp.Body) // only for the failure message
				resp.Body.Close()
				if w := want.status(c.label); resp.StatusCode != w {
					t.Errorf("%s %s as %s = %d, want %d (%s)", rt.Method, path, c.label, resp.StatusCode, w, strings.TrimSpace(string(b)))
				}
			})
		}
	}
	var stale []string
	for p := range matrix {
		if !seen[p] {
			stale = append(stale, p)
		}
	}
	sort.Strings(stale)
	if len(stale) > 0 {
		t.Errorf("matrix rows for routes that are not mounted: %v", stale)
	}
}

// assetPath returns the versioned URL path of the UI's static file name,
// as the login page links it.
func assetPath(tb testing.TB, a *app.App, name string) string {
	tb.Helper()
	resp, err := http.Get(a.URL() + "/login")
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	m := regexp.MustCompile(`"(/static/[0-9a-f]+/` + regexp.QuoteMeta(name) + `)"`).FindSubmatch(b)
	if m == nil {
		tb.Fatalf("GET /login links no /static/…/%s", name)
	}
	return string(m[1])
}

// fixtureBoundary separates the parts of the UI attachment form's
// fixture.
const fixtureBoundary = "fixture-boundary"

// fixture makes the object a route acts on and returns the request path
// and body: each mutating call gets its own object, so calls do not
// interfere.
func fixture(t *testing.T, st *store.Store, sys context.Context, rt server.Route, target *focal.Organisation, n int, dataDir string) (string, io.Reader) {
	t.Helper()
	path := rt.Path
	var body string
	unique := fmt.Sprintf("%s-%d-%d", strings.ToLower(rt.Method), n, time.Now().UnixNano())
	for _, f := range extraFixtures {
		if p, b, ok := f(t, st, sys, rt, target, unique); ok {
			if rt.Method == "GET" || rt.Method == "DELETE" && b == "" {
				return p, nil
			}
			return p, strings.NewReader(b)
		}
	}
	switch {
	case rt.Path == "/api/v1/federation/profile" || rt.Path == "/federation/profile" || rt.Path == "/rfc2350" || rt.Path == "/rfc2350.txt" || rt.Path == "/.well-known/focal-point.json":
		if _, err := st.TeamProfile(sys); err != nil {
			if err := st.SetTeamProfile(sys, &focal.TeamProfile{Name: "CERT-TEST", Email: "cert@cert.example"}); err != nil {
				t.Fatal(err)
			}
		}
		if rt.Path == "/api/v1/federation/profile" {
			body = `{"name":"CERT-TEST","email":"cert@cert.example","mission":"fixture"}`
		} else {
			body = "name=CERT-TEST&email=cert%40cert.example"
		}
	case strings.HasPrefix(rt.Path, "/api/v1/collections") || strings.HasPrefix(rt.Path, "/api/v1/sharing-groups") || strings.HasPrefix(rt.Path, "/sharing"):
		path, body = sharingFixture(t, st, sys, rt, target, unique)
	case rt.Path == "/api/v1/organisations/{id}/contacts":
		path = strings.Replace(path, "{id}", fmt.Sprint(target.ID), 1)
		body = `{"contacts":[{"email":"abuse@target.example","role":"abuse"}]}`
	case rt.Path == "/api/v1/organisations/{id}/change-requests":
		path = strings.Replace(path, "{id}", fmt.Sprint(target.ID), 1)
		body = fmt.Sprintf(`{"add":{"domains":["%s.example.net"]},"note":"fixture"}`, unique)
	case strings.HasPrefix(rt.Path, "/api/v1/change-requests/{id}"):
		c := &focal.ChangeRequest{OrgID: target.ID, Add: focal.Holdings{Domains: []string{unique + ".example.org"}}}
		if err := st.RequestChange(sys, c); err != nil {
			t.Fatal(err)
		}
		path = strings.Replace(path, "{id}", fmt.Sprint(c.ID), 1)
	case rt.Path == "/api/v1/organisations/{id}/notify-policy":
		path = strings.Replace(path, "{id}", fmt.Sprint(target.ID), 1)
		if rt.Method == "PUT" {
			body = `{"recipients":["abuse@target.example"],"schedule":"hourly"}`
		}
	case strings.HasPrefix(rt.Path, "/api/v1/organisations/{id}"):
		id := target.ID
		if rt.Method != "GET" {
			o := &focal.Organisation{Name: "Fixture " + unique, Sector: "isp", Country: "FR"}
			if err := st.CreateOrganisation(sys, o); err != nil {
				t.Fatal(err)
			}
			id = o.ID
			body = fmt.Sprintf(`{"name":"Fixture %s b","sector":"isp","country":"FR"}`, unique)
		}
		path = strings.Replace(path, "{id}", fmt.Sprint(id), 1)
	case strings.HasPrefix(rt.Path, "/api/v1/users/{id}"):
		u := &focal.User{Name: "fixture-" + unique, Role: focal.RoleHandler}
		if err := st.CreateUser(sys, u, ""); err != nil {
			t.Fatal(err)
		}
		path = strings.Replace(path, "{id}", fmt.Sprint(u.ID), 1)
		body = `{"disabled":true}`
	case rt.Path == "/api/v1/organisations" && rt.Method == "POST":
		body = fmt.Sprintf(`{"name":"New %s","sector":"isp","country":"FR","networks":["198.51.100.0/24"]}`, unique)
	case rt.Path == "/api/v1/users" && rt.Method == "POST":
		body = fmt.Sprintf(`{"name":"new-%s","role":"handler","password":"correct horse battery staple"}`, unique)
	case rt.Path == "/api/v1/lookup":
		path += "?ip=192.0.2.1"
	case strings.HasPrefix(rt.Path, "/api/v1/incidents/{id}"):
		i := &focal.Incident{Title: "Fixture " + unique, OrgID: target.ID, Classifications: []focal.Classification{{Class: "fraud", Type: "phishing"}}}
		if err := st.CreateIncident(sys, i, nil); err != nil {
			t.Fatal(err)
		}
		path = strings.Replace(path, "{id}", fmt.Sprint(i.ID), 1)
		body = `{"severity":"high"}`
		switch {
		case strings.HasSuffix(rt.Path, "/journal"):
			body = `{"body":"a note"}`
		case strings.HasSuffix(rt.Path, "/tasks"):
			body = `{"title":"a task"}`
		case strings.HasSuffix(rt.Path, "/tasks/{task}"):
			tk := &store.Task{IncidentID: i.ID, Title: "a task"}
			if err := st.AddTask(sys, tk); err != nil {
				t.Fatal(err)
			}
			path = strings.Replace(path, "{task}", fmt.Sprint(tk.ID), 1)
			body = `{"done":true}`
		case strings.HasSuffix(rt.Path, "/attachments") && rt.Method == "POST":
			path += "?name=notes.txt"
			body = "some notes"
		case strings.HasSuffix(rt.Path, "/attachments/{attachment}"):
			saved, err := (&attachment.Store{Dir: filepath.Join(dataDir, "attachments")}).Save(strings.NewReader("evidence "+unique), "text/plain")
			if err != nil {
				t.Fatal(err)
			}
			rec := &store.Attachment{IncidentID: i.ID, Name: "evidence.txt", ContentType: saved.ContentType, Size: saved.Size, SHA256: saved.SHA256}
			if err := st.AddAttachment(sys, rec); err != nil {
				t.Fatal(err)
			}
			path = strings.Replace(path, "{attachment}", fmt.Sprint(rec.ID), 1)
		case strings.HasSuffix(rt.Path, "/merge"):
			survivor := &focal.Incident{Title: "Survivor " + unique, OrgID: target.ID}
			if err := st.CreateIncident(sys, survivor, nil); err != nil {
				t.Fatal(err)
			}
			body = fmt.Sprintf(`{"into":%d}`, survivor.ID)
		}
	case rt.Path == "/api/v1/sla-targets":
		body = `{"targets":[{"severity":"high","acknowledge_minutes":60,"triage_minutes":120,"resolve_minutes":1440}]}`
	case rt.Path == "/api/v1/incidents" && rt.Method == "POST":
		body = fmt.Sprintf(`{"title":"Report %s","description":"phishing at hxxp://phish[.]example[.]net","classification":[{"class":"fraud","type":"phishing"}],"tlp":"AMBER"}`, unique)
	case rt.Path == "/organisations/{id}/products":
		path = strings.Replace(path, "{id}", fmt.Sprint(target.ID), 1)
		body = "products=Example+Corp+%2F+Router+OS"
	case rt.Path == "/organisations/{id}/contacts" || rt.Path == "/organisations/{id}/notify-policy" || rt.Path == "/organisations/{id}/change-requests":
		path = strings.Replace(path, "{id}", fmt.Sprint(target.ID), 1)
		switch {
		case rt.Method == "GET":
		case strings.HasSuffix(rt.Path, "/contacts"):
			body = "contacts=1&contact.0.email=abuse%40target.example&contact.0.role=abuse&notify_schedule=daily"
		case strings.HasSuffix(rt.Path, "/notify-policy"):
			body = "channel=email-digest&schedule=daily&recipients=abuse%40target.example&max_tlp=AMBER"
		default:
			body = "add=" + unique + ".example.net&note=fixture"
		}
	case strings.HasPrefix(rt.Path, "/change-requests/{id}"):
		c := &focal.ChangeRequest{OrgID: target.ID, Add: focal.Holdings{Domains: []string{unique + ".example.org"}}}
		if err := st.RequestChange(sys, c); err != nil {
			t.Fatal(err)
		}
		path = strings.Replace(path, "{id}", fmt.Sprint(c.ID), 1)
		body = "decision=reject&note=fixture"
	case strings.HasPrefix(rt.Path, "/organisations/{id}"):
		id := target.ID
		if rt.Method != "GET" {
			o := &focal.Organisation{Name: "Fixture " + unique, Sector: "isp", Country: "FR"}
			if err := st.CreateOrganisation(sys, o); err != nil {
				t.Fatal(err)
			}
			id = o.ID
			body = "name=Fixture+" + unique + "+b&sector=isp&country=FR"
		}
		path = strings.Replace(path, "{id}", fmt.Sprint(id), 1)
	case strings.HasPrefix(rt.Path, "/users/{id}"):
		u := &focal.User{Name: "fixture-" + unique, Role: focal.RoleHandler}
		if err := st.CreateUser(sys, u, ""); err != nil {
			t.Fatal(err)
		}
		path = strings.Replace(path, "{id}", fmt.Sprint(u.ID), 1)
		body = "role=handler&disabled=1"
	case rt.Path == "/organisations" && rt.Method == "POST":
		body = "name=New+" + unique + "&sector=isp&country=FR&networks=198.51.100.0%2F24"
	case rt.Path == "/users" && rt.Method == "POST":
		body = "name=new-" + unique + "&role=handler&password=correct+horse+battery+staple"
	case strings.HasPrefix(rt.Path, "/incidents/{id}"):
		i := &focal.Incident{Title: "UI fixture " + unique, OrgID: target.ID, Classifications: []focal.Classification{{Class: "fraud", Type: "phishing"}}}
		if err := st.CreateIncident(sys, i, nil); err != nil {
			t.Fatal(err)
		}
		path = strings.Replace(path, "{id}", fmt.Sprint(i.ID), 1)
		body = "severity=high"
		switch {
		case strings.HasSuffix(rt.Path, "/journal"):
			body = "kind=note&body=a+note"
		case strings.HasSuffix(rt.Path, "/attachments"):
			body = "--" + fixtureBoundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\nContent-Type: text/plain\r\n\r\n" +
				"a file " + unique + "\r\n--" + fixtureBoundary + "--\r\n"
		case strings.HasSuffix(rt.Path, "/attachments/{aid}"):
			saved, err := (&attachment.Store{Dir: filepath.Join(dataDir, "attachments")}).Save(strings.NewReader("a file "+unique), "text/plain")
			if err != nil {
				t.Fatal(err)
			}
			att := &store.Attachment{IncidentID: i.ID, Name: "a.txt", ContentType: saved.ContentType, Size: saved.Size, SHA256: saved.SHA256}
			if err := st.AddAttachment(sys, att); err != nil {
				t.Fatal(err)
			}
			path = strings.Replace(path, "{aid}", fmt.Sprint(att.ID), 1)
		case strings.HasSuffix(rt.Path, "/tasks"):
			body = "title=a+task&owner="
		case strings.HasSuffix(rt.Path, "/tasks/{task}"):
			tk := &store.Task{IncidentID: i.ID, Title: "a task"}
			if err := st.AddTask(sys, tk); err != nil {
				t.Fatal(err)
			}
			path = strings.Replace(path, "{task}", fmt.Sprint(tk.ID), 1)
			body = "done=1"
		case strings.HasSuffix(rt.Path, "/merge"):
			survivor := &focal.Incident{Title: "Survivor " + unique, OrgID: target.ID}
			if err := st.CreateIncident(sys, survivor, nil); err != nil {
				t.Fatal(err)
			}
			body = "into=" + survivor.Ref
		}
	case rt.Path == "/sla" && rt.Method == "POST":
		body = "rows=0&save=1"
	case rt.Path == "/incidents" && rt.Method == "POST":
		body = "title=Report+" + unique + "&classification=fraud%2Fphishing&tlp=AMBER"
	case isPortalRoute(rt.Path):
		path, body = portalFixture(t, st, sys, rt, target, unique)
	case isWatchRoute(rt.Path):
		path, body = watchFixture(t, st, sys, rt, unique)
	case rt.Path == "/{$}":
		path = "/"
	case rt.Path == "/account/password":
		body = "current_password=wrong+password+here&new_password=correct+horse+battery+staple&confirm_password=correct+horse+battery+staple"
	}
	if rt.Method == "GET" || rt.Method == "DELETE" && body == "" {
		return path, nil
	}
	return path, strings.NewReader(body)
}

// extraFixtures make the objects of routes whose matrix rows live in
// their own files (authz_*_test.go add rows to matrix in init and a
// fixture here): ok is false for a route a fixture does not know.
var extraFixtures []func(t *testing.T, st *store.Store, sys context.Context, rt server.Route, target *focal.Organisation, unique string) (path, body string, ok bool)

// sharingFixture makes the collection and sharing group a route of the
// cooperative network acts on, and returns the path and body.
func sharingFixture(t *testing.T, st *store.Store, sys context.Context, rt server.Route, target *focal.Organisation, unique string) (string, string) {
	t.Helper()
	c := &store.TaxiiCollection{Title: "Fixture " + unique}
	if err := st.CreateTaxiiCollection(sys, c); err != nil {
		t.Fatal(err)
	}
	g := &store.SharingGroup{Name: "Fixture " + unique, Ceiling: focal.TLPGreen}
	if err := st.CreateSharingGroup(sys, g); err != nil {
		t.Fatal(err)
	}
	path := strings.NewReplacer("{cid}", c.ID, "{id}", fmt.Sprint(g.ID)).Replace(rt.Path)
	body := ""
	switch {
	case rt.Method == "GET" || rt.Method == "DELETE" && !strings.HasSuffix(rt.Path, "/members"):
	case rt.Path == "/api/v1/collections" || rt.Path == "/api/v1/collections/{cid}":
		body = fmt.Sprintf(`{"title":"Fixture %s b"}`, unique)
	case rt.Path == "/api/v1/collections/{cid}/publish":
		body = `{"indicators":[{"kind":"ipv4","value":"198.51.100.77","tlp":"GREEN"}]}`
	case rt.Path == "/api/v1/sharing-groups" || rt.Path == "/api/v1/sharing-groups/{id}":
		body = fmt.Sprintf(`{"name":"Fixture %s b","ceiling":"AMBER"}`, unique)
	case rt.Path == "/api/v1/sharing-groups/{id}/members":
		if rt.Method == "DELETE" {
			if err := st.AddSharingMember(sys, g.ID, store.SharingMember{OrgID: target.ID}); err != nil {
				t.Fatal(err)
			}
		}
		body = fmt.Sprintf(`{"org_id":%d}`, target.ID)
	case rt.Path == "/api/v1/sharing-groups/{id}/collections/{cid}":
		body = `{"can_read":true,"can_write":false}`
	case rt.Path == "/sharing/collections":
		body = "title=Fixture+" + unique + "+b"
	case rt.Path == "/sharing/groups":
		body = "name=Fixture+" + unique + "+b&ceiling=GREEN"
	case rt.Path == "/sharing/groups/{id}/members":
		body = fmt.Sprintf("member=org:%d", target.ID)
	case rt.Path == "/sharing/groups/{id}/collections":
		body = "collection=" + c.ID + "&can_read=1"
	case rt.Path == "/sharing/publish":
		body = "collection=" + c.ID + "&tlp=GREEN&text=198.51.100.77&action=preview"
	}
	return path, body
}
