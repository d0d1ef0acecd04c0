package app_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"

	"focal/internal/csaf"
	"focal/internal/focal"
	"focal/internal/server"
	"focal/internal/store"
)

// Advisories and the CSAF provider (issue #8): handlers, analysts and
// coordinators write advisories, the other staff read them, constituents
// read published ones; the public reads TLP:CLEAR ones on /warnings and
// in the provider, whose GREEN/AMBER/RED folders need an account (a
// constituent never reads RED). The test app has no team key, so
// approval is refused as unavailable (the API's 503; the UI goes back to
// the advisory, which says why).
func init() {
	advRead := expect{"*": forbid, "anonymous": unauth, "coordinator": ok, "handler": ok, "analyst": ok, "assessor": ok,
		"constituent": ok, "constituent-other": ok, "coordinator-readonly": ok}
	advWrite := expect{"*": forbid, "anonymous": unauth, "coordinator": ok, "handler": ok, "analyst": ok}
	advCreate := with(advWrite, expect{"coordinator": created, "handler": created, "analyst": created})
	advForm := with(advWrite, expect{"coordinator": see, "handler": see, "analyst": see})
	advPage := with(advRead, expect{"anonymous": see})
	advWritePage := with(advWrite, expect{"anonymous": see})
	noKey := http.StatusServiceUnavailable
	for route, e := range map[string]expect{
		"GET /api/v1/advisories":                  advRead,
		"POST /api/v1/advisories":                 advCreate,
		"POST /api/v1/advisories/import":          advCreate,
		"GET /api/v1/advisories/{id}":             advRead,
		"PUT /api/v1/advisories/{id}":             advWrite,
		"POST /api/v1/advisories/{id}/submit":     advWrite,
		"POST /api/v1/advisories/{id}/revise":     advWrite,
		"POST /api/v1/advisories/{id}/approve":    with(advWrite, expect{"coordinator": noKey, "handler": noKey, "analyst": noKey}),
		"GET /api/v1/advisories/{id}/csaf":        advRead,
		"GET /api/v1/organisations/{id}/products": with(staffRead, expect{"constituent": ok, "constituent-other": notFound}),
		"PUT /api/v1/organisations/{id}/products": ownContacts,

		"GET /advisories":                              advPage,
		"GET /advisories/new":                          advWritePage,
		"POST /advisories":                             advForm,
		"GET /advisories/import":                       advWritePage,
		"POST /advisories/import":                      with(advWrite, expect{"coordinator": badForm, "handler": badForm, "analyst": badForm}), // not a file
		"GET /advisories/cvss":                         advPage,
		"GET /advisories/{id}":                         advPage,
		"GET /advisories/{id}/edit":                    advWritePage,
		"POST /advisories/{id}":                        advForm,
		"POST /advisories/{id}/submit":                 advForm,
		"POST /advisories/{id}/revise":                 advForm,
		"POST /advisories/{id}/approve":                advForm,
		"GET /warnings":                                public,
		"GET /warnings/feed.atom":                      public,
		"GET /warnings/{name}":                         public,
		"GET /.well-known/security.txt":                public,
		"GET /.well-known/csaf/{$}":                    public,
		"GET /.well-known/csaf/provider-metadata.json": public,
		"GET /.well-known/csaf/service.json":           public,
		"GET /.well-known/csaf/index.txt":              public,
		"GET /.well-known/csaf/changes.csv":            public,
		"GET /.well-known/csaf/openpgp/{file}":         expect{"*": notFound}, // no team key
		"GET /.well-known/csaf/white/{path...}":        public,
		"GET /.well-known/csaf/green/{path...}":        advRead,
		"GET /.well-known/csaf/amber/{path...}":        advRead,
		"GET /.well-known/csaf/red/{path...}":          with(advRead, expect{"constituent": forbid, "constituent-other": forbid}),
	} {
		matrix[route] = e
	}
	extraFixtures = append(extraFixtures, advisoryFixture)
}

// fixtureSigner signs the fixtures' published advisories (the store
// takes any team key; the app under test has none).
var fixtureSigner = func() *csaf.Signer {
	priv, _, _, err := csaf.GenerateKey("Fixture", "fixture@example.org", "", 0)
	if err != nil {
		panic(err)
	}
	s, err := csaf.NewSigner(string(priv), "")
	if err != nil {
		panic(err)
	}
	return s
}()

// advisoryFixture makes the advisory a route acts on: a draft to edit, a
// complete draft to submit, one in review to approve, a published
// TLP:CLEAR one to read or revise.
func advisoryFixture(t *testing.T, st *store.Store, sys context.Context, rt server.Route, target *focal.Organisation, unique string) (string, string, bool) {
	t.Helper()
	p := rt.Path
	if !strings.HasPrefix(p, "/api/v1/advisories") && p != "/api/v1/organisations/{id}/products" && !strings.HasPrefix(p, "/advisories") && !strings.HasPrefix(p, "/warnings") && !strings.HasPrefix(p, "/.well-known/") {
		return "", "", false
	}
	ui := !strings.HasPrefix(p, "/api/")
	body := func(api, form string) string {
		if ui {
			return form
		}
		return api
	}
	const draftAPI = `{"advisory": {"title": "Fixture", "tlp": "CLEAR"}}`
	const draftForm = "title=Fixture&tlp=CLEAR"
	switch {
	case strings.HasPrefix(p, "/.well-known/security.txt"):
		if err := st.SetTeamProfile(sys, &focal.TeamProfile{Name: "CERT-Fixture", Email: "cert@fixture.example"}); err != nil {
			t.Fatal(err)
		}
		return p, "", true
	case strings.HasPrefix(p, "/.well-known/"):
		p = strings.NewReplacer("{$}", "", "{path...}", "index.txt", "{file}", "0000.asc").Replace(p)
		return p, "", true
	case p == "/api/v1/organisations/{id}/products":
		return strings.Replace(p, "{id}", fmt.Sprint(target.ID), 1), `{"products": [{"vendor": "Example", "product": "*"}]}`, true
	case p == "/api/v1/advisories" || p == "/advisories" && rt.Method == "POST":
		return p, body(draftAPI, draftForm), true
	case strings.HasSuffix(p, "/import"):
		if rt.Method == "GET" {
			return p, "", true
		}
		if ui {
			return p, "", true
		}
		b, err := os.ReadFile("../csaf/testdata/roundtrip/focal-2026-0001.json")
		if err != nil {
			t.Fatal(err)
		}
		return p, strings.ReplaceAll(string(b), "FOCAL-2026-0001", "FIX-"+unique), true
	case !strings.Contains(p, "{"):
		return p, "", true
	}
	a := fixtureAdvisory(unique)
	author := focal.NewContextWithPrincipal(sys, focal.Principal{UserID: -1, Name: "system", Role: focal.RoleCoordinator})
	if err := st.CreateAdvisory(author, a); err != nil {
		t.Fatal(err)
	}
	state := "published"
	switch {
	case strings.HasSuffix(p, "/edit") || rt.Method == "PUT" || rt.Method == "POST" && strings.HasSuffix(p, "{id}"):
		state = "draft"
	case strings.HasSuffix(p, "/submit"):
		state = "draft"
	case strings.HasSuffix(p, "/approve"):
		state = "review"
	}
	if state != "draft" {
		if _, err := st.SubmitAdvisory(author, a.ID); err != nil {
			t.Fatal(err)
		}
	}
	var doc *store.PublishedDocument
	if state == "published" {
		approver := focal.NewContextWithPrincipal(sys, focal.Principal{UserID: -7, Name: "fixture-approver", Role: focal.RoleCoordinator})
		var err error
		doc, err = st.ApproveAdvisory(approver, a.ID, store.PublishOptions{Signer: fixtureSigner, TrackingPrefix: "FIX",
			Publisher: csaf.Publisher{Name: "Fixture", Namespace: "https://fixture.example"}})
		if err != nil {
			t.Fatal(err)
		}
	}
	if strings.HasPrefix(p, "/warnings/") {
		return strings.Replace(p, "{name}", strings.TrimSuffix(doc.Filename, ".json"), 1), "", true
	}
	path := strings.Replace(p, "{id}", fmt.Sprint(a.ID), 1)
	switch {
	case rt.Method == "GET":
		return path, "", true
	case strings.HasSuffix(p, "/revise"):
		return path, body(`{"summary": "Fixture correction"}`, "summary=Fixture+correction"), true
	case rt.Method == "PUT" || strings.HasSuffix(p, "{id}"):
		return path, body(draftAPI, draftForm), true
	}
	return path, "", true
}

func fixtureAdvisory(unique string) *store.Advisory {
	return &store.Advisory{Body: csaf.Advisory{
		Title: "Fixture " + unique, Summary: "Update.", TLP: focal.TLPClear,
		Products: []csaf.Product{{Vendor: "Fixture", Name: "Widget", Version: "1.0"}},
		Vulnerabilities: []csaf.Vulnerability{{CVE: "CVE-2026-9999", Description: "Broken.",
			CVSS: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", Affected: []string{"CSAFPID-0001"}}},
	}}
}
