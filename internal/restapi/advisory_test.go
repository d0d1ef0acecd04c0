package restapi

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"focal/internal/csaf"
	"focal/internal/csaf/provider"
	"focal/internal/focal"
	"focal/internal/server"
	"focal/internal/store"
	"focal/internal/store/storetest"
)

// advisoryEnv serves the advisory API and the provider's approval over a
// store, identifying callers by the X-Test-User header (hal: handler,
// ana: analyst, con: constituent; none: anonymous).
func advisoryEnv(t *testing.T) (*httptest.Server, *store.Store) {
	t.Helper()
	st := storetest.Open(t, store.SQLite)
	ctx := focal.NewContextWithPrincipal(context.Background(), focal.System())
	o := &focal.Organisation{Name: "Org A", Sector: "isp", Country: "FR"}
	if err := st.CreateOrganisation(ctx, o); err != nil {
		t.Fatal(err)
	}
	users := map[string]*focal.User{}
	for _, u := range []*focal.User{{Name: "hal", Role: focal.RoleHandler}, {Name: "ana", Role: focal.RoleAnalyst}, {Name: "con", Role: focal.RoleConstituent, OrgID: o.ID}} {
		if err := st.CreateUser(ctx, u, ""); err != nil {
			t.Fatal(err)
		}
		users[u.Name] = u
	}
	priv, _, _, err := csaf.GenerateKey("CERT-T", "cert@t.example", "", 0)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := csaf.NewSigner(string(priv), "")
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.DiscardHandler)
	p, err := provider.New(provider.Config{Store: st, Logger: logger, Signer: signer, Publisher: csaf.Publisher{Name: "CERT-T", Namespace: "https://cert.t.example"}})
	if err != nil {
		t.Fatal(err)
	}
	srv := &server.Server{Logger: logger, Registry: prometheus.NewRegistry(), Authenticate: func(r *http.Request) (focal.Principal, string, error) {
		if u := users[r.Header.Get("X-Test-User")]; u != nil {
			return u.Principal(), "test", nil
		}
		return focal.Anonymous(), "test", nil
	}}
	a := &API{Store: st, Logger: logger}
	if err := srv.Mount(a.advisoryRoutes(), a.Error); err != nil {
		t.Fatal(err)
	}
	if err := srv.Mount(p.Routes(), p.Error); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return ts, st
}

func call(t *testing.T, ts *httptest.Server, user, method, path, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, ts.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Test-User", user)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		t.Fatalf("%s %s: %d, undecodable body: %v", method, path, res.StatusCode, err)
	}
	return res.StatusCode, out
}

// TestAdvisoryAPI writes, checks, submits, approves (as a second person),
// fetches the CSAF, revises and imports advisories through the API.
func TestAdvisoryAPI(t *testing.T) {
	ts, _ := advisoryEnv(t)
	draft := `{"advisory": {"title": "Router RCE", "summary": "Update.", "tlp": "CLEAR",
		"products": [{"vendor": "Example", "name": "Router", "version": "1.0"}],
		"vulnerabilities": [{"cve": "CVE-2026-4242", "description": "Overflow.", "cvss": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "affected": ["CSAFPID-0009"]}]}}`
	if code, _ := call(t, ts, "", "POST", "/api/v1/advisories", draft); code != http.StatusUnauthorized {
		t.Errorf("anonymous create = %d", code)
	}
	if code, _ := call(t, ts, "con", "POST", "/api/v1/advisories", draft); code != http.StatusForbidden {
		t.Errorf("constituent create = %d", code)
	}
	code, adv := call(t, ts, "hal", "POST", "/api/v1/advisories", draft)
	if code != http.StatusCreated {
		t.Fatalf("create = %d %v", code, adv)
	}
	id := int64(adv["id"].(float64))
	vulns := adv["advisory"].(map[string]any)["vulnerabilities"].([]any)
	if s := vulns[0].(map[string]any)["score"]; s != 9.8 {
		t.Errorf("computed score = %v, want 9.8", s)
	}
	probs := adv["problems"].([]any)
	if len(probs) == 0 || !strings.Contains(fmt.Sprint(probs), "not in the product list") {
		t.Errorf("problems = %v", probs)
	}
	if code, p := call(t, ts, "hal", "POST", fmt.Sprintf("/api/v1/advisories/%d/submit", id), ""); code != http.StatusBadRequest || !strings.Contains(fmt.Sprint(p["detail"]), "CSAFPID-0009") {
		t.Errorf("submit(bad reference) = %d %v", code, p)
	}
	fixed := strings.Replace(draft, "CSAFPID-0009", "CSAFPID-0001", 1)
	if code, p := call(t, ts, "hal", "PUT", fmt.Sprintf("/api/v1/advisories/%d", id), fixed); code != http.StatusOK || len(p["problems"].([]any)) != 0 {
		t.Fatalf("update = %d %v", code, p)
	}
	if code, p := call(t, ts, "hal", "PUT", fmt.Sprintf("/api/v1/advisories/%d", id), `{"advisory": {"title": "x", "tlp": "CLEAR", "bogus": 1}}`); code != http.StatusBadRequest {
		t.Errorf("update(unknown field) = %d %v", code, p)
	}
	if code, p := call(t, ts, "hal", "POST", fmt.Sprintf("/api/v1/advisories/%d/submit", id), ""); code != http.StatusOK || p["state"] != "review" {
		t.Fatalf("submit = %d %v", code, p)
	}
	if code, p := call(t, ts, "hal", "POST", fmt.Sprintf("/api/v1/advisories/%d/approve", id), ""); code != http.StatusForbidden {
		t.Errorf("approve(author) = %d %v", code, p)
	}
	if code, p := call(t, ts, "hal", "GET", fmt.Sprintf("/api/v1/advisories/%d/csaf", id), ""); code != http.StatusNotFound || !strings.Contains(fmt.Sprint(p["detail"]), "not been published") {
		t.Errorf("csaf before publication = %d %v", code, p)
	}
	code, pub := call(t, ts, "ana", "POST", fmt.Sprintf("/api/v1/advisories/%d/approve", id), "")
	if code != http.StatusOK || pub["version"] != "1" || !strings.Contains(pub["url"].(string), "/.well-known/csaf/white/") {
		t.Fatalf("approve = %d %v", code, pub)
	}
	code, doc := call(t, ts, "con", "GET", fmt.Sprintf("/api/v1/advisories/%d/csaf", id), "")
	if code != http.StatusOK || doc["document"].(map[string]any)["tracking"].(map[string]any)["id"] != pub["tracking_id"] {
		t.Errorf("csaf = %d %v", code, doc)
	}
	if code, p := call(t, ts, "hal", "POST", fmt.Sprintf("/api/v1/advisories/%d/revise", id), `{"summary": "Fix the CVSS vector"}`); code != http.StatusOK || p["state"] != "draft" {
		t.Errorf("revise = %d %v", code, p)
	}
	// Import: the round trip through the API.
	in, err := os.ReadFile("../csaf/testdata/roundtrip/focal-2026-0001.json")
	if err != nil {
		t.Fatal(err)
	}
	// The published advisory took FOCAL-2026-0001: the same ID again is refused.
	if code, p := call(t, ts, "hal", "POST", "/api/v1/advisories/import", string(in)); code != http.StatusBadRequest || !strings.Contains(fmt.Sprint(p["detail"]), "exists already") {
		t.Errorf("import(taken tracking ID) = %d %v", code, p)
	}
	other := strings.ReplaceAll(string(in), "FOCAL-2026-0001", "OTHER-2026-7")
	code, im := call(t, ts, "hal", "POST", "/api/v1/advisories/import", other)
	if code != http.StatusCreated || im["advisory"].(map[string]any)["tracking_id"] != "OTHER-2026-7" || len(im["problems"].([]any)) != 0 {
		t.Errorf("import = %d %v", code, im)
	}
	if code, p := call(t, ts, "hal", "POST", "/api/v1/advisories/import", `{"document": {"csaf_version": "1.0"}}`); code != http.StatusBadRequest || !strings.Contains(fmt.Sprint(p["detail"]), "not a CSAF 2.0") {
		t.Errorf("import(bad) = %d %v", code, p)
	}
	code, l := call(t, ts, "con", "GET", "/api/v1/advisories", "")
	if code != http.StatusOK || len(l["items"].([]any)) != 1 {
		t.Errorf("constituent list = %d %v", code, l)
	}
}
