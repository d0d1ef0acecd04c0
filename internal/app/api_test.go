package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"focal/internal/app"
	"focal/internal/auth"
	"focal/internal/focal"
)

// coordinatorToken creates a coordinator and returns a bearer token for it.
func coordinatorToken(tb testing.TB, a *app.App) string {
	tb.Helper()
	sys := focal.NewContextWithPrincipal(context.Background(), focal.System())
	u := &focal.User{Name: "boss", Role: focal.RoleCoordinator}
	if err := a.Store.CreateUser(sys, u, ""); err != nil {
		tb.Fatal(err)
	}
	tok, hash, err := auth.NewToken(auth.APITokenPrefix)
	if err != nil {
		tb.Fatal(err)
	}
	if err := a.Store.CreateToken(sys, &focal.Token{UserID: u.ID, Scope: "write", ExpiresAt: time.Now().Add(time.Hour)}, hash); err != nil {
		tb.Fatal(err)
	}
	return tok
}

func call(tb testing.TB, a *app.App, token, method, path, contentType, body string) (int, string) {
	tb.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, a.URL()+path, r)
	if err != nil {
		tb.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// Client mistakes get a 4xx problem that says what is wrong and where;
// never a 500.
func TestAPIBadInput(t *testing.T) {
	a := mustRun(t)
	tok := coordinatorToken(t, a)
	const js = "application/json"
	tests := []struct {
		name, method, path, ctype, body string
		status                          int
		detail                          string
	}{
		{"unknown-field", "POST", "/api/v1/organisations", js, `{"name":"A","sector":"isp","country":"FR","colour":"red"}`, 400, "colour: unknown field"},
		{"bad-cidr", "POST", "/api/v1/organisations", js, `{"name":"A","sector":"isp","country":"FR","networks":["192.0.2.0/33"]}`, 400, "networks[0]"},
		{"bad-asn", "POST", "/api/v1/organisations", js, `{"name":"A","sector":"isp","country":"FR","asns":["ASX"]}`, 400, "asns"},
		{"wrong-type", "POST", "/api/v1/organisations", js, `{"name":7,"sector":"isp","country":"FR"}`, 400, "name"},
		{"malformed", "POST", "/api/v1/organisations", js, `{"name":"A",`, 400, "JSON"},
		{"syntax", "POST", "/api/v1/organisations", js, `{"name" "A"}`, 400, "byte"},
		{"two-objects", "POST", "/api/v1/organisations", js, `{"name":"A","sector":"isp","country":"FR"}{}`, 400, "exactly one"},
		{"empty", "POST", "/api/v1/organisations", js, ``, 400, "empty"},
		{"content-type", "POST", "/api/v1/organisations", "text/plain", `{}`, 400, "content type"},
		{"too-large", "POST", "/api/v1/organisations", js, `{"name":"` + strings.Repeat("x", 2<<20) + `"}`, 413, "larger than 1048576 bytes"},
		{"bad-id", "GET", "/api/v1/organisations/abc", "", "", 404, "abc"},
		{"missing", "GET", "/api/v1/organisations/999999", "", "", 404, "not found"},
		{"bad-limit", "GET", "/api/v1/organisations?limit=-1", "", "", 400, "limit"},
		{"lookup-no-param", "GET", "/api/v1/lookup", "", "", 400, "ip, asn, domain or url"},
		{"lookup-bad-ip", "GET", "/api/v1/lookup?ip=300.1.1.1", "", "", 400, "ip"},
		{"weak-password", "POST", "/api/v1/users", js, `{"name":"newbie","role":"handler","password":"short"}`, 400, "password"},
		{"bad-role", "POST", "/api/v1/users", js, `{"name":"newbie","role":"king","password":"correct horse battery staple"}`, 400, "role"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := call(t, a, tok, tt.method, tt.path, tt.ctype, tt.body)
			if status != tt.status {
				t.Fatalf("%s %s = %d %s, want %d", tt.method, tt.path, status, body, tt.status)
			}
			var p struct {
				Status int    `json:"status"`
				Detail string `json:"detail"`
			}
			if err := json.Unmarshal([]byte(body), &p); err != nil || p.Status != status {
				t.Fatalf("body %q is not a problem document with status %d", body, status)
			}
			if !strings.Contains(strings.ToLower(p.Detail), strings.ToLower(tt.detail)) {
				t.Errorf("detail = %q, want it to mention %q", p.Detail, tt.detail)
			}
		})
	}
	// A bad bearer token is refused, not treated as anonymous.
	if status, _ := call(t, a, "focal_t_forged", "GET", "/api/v1/me", "", ""); status != http.StatusUnauthorized {
		t.Errorf("GET /api/v1/me with a forged token = %d, want 401", status)
	}
}

// Creating an organisation through the API makes the lookup answer for its
// networks, ASNs and domains soon after, without a restart.
func TestLookupFollowsRegistry(t *testing.T) {
	a := mustRun(t)
	tok := coordinatorToken(t, a)
	status, body := call(t, a, tok, "POST", "/api/v1/organisations", "application/json",
		`{"name":"Lookup Test","sector":"isp","country":"FR","networks":["198.51.100.0/24","2001:db8::/32"],"asns":["AS64500"],"domains":["example.net"]}`)
	if status != http.StatusCreated {
		t.Fatalf("create = %d %s", status, body)
	}
	queries := []string{"ip=198.51.100.77", "ip=2001:db8::1", "asn=AS64500", "domain=www.example.net", "url=https://mail.example.net/login"}
	deadline := time.Now().Add(10 * time.Second)
	for _, q := range queries {
		for {
			_, body := call(t, a, tok, "GET", "/api/v1/lookup?"+q, "", "")
			if strings.Contains(body, `"name":"Lookup Test"`) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("lookup %s = %s, want Lookup Test", q, body)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	if _, body := call(t, a, tok, "GET", "/api/v1/lookup?ip=203.0.113.1", "", ""); strings.Contains(body, "Lookup Test") {
		t.Errorf("lookup of an unclaimed address = %s, want no organisation", body)
	}
	// An incident whose text names the organisation's address gets it
	// suggested as the affected organisation.
	status, body = call(t, a, tok, "POST", "/api/v1/incidents", "application/json", `{"title":"Scans from 198.51.100.77"}`)
	if status != http.StatusCreated {
		t.Fatalf("create incident = %d %s", status, body)
	}
	var inc struct{ ID int64 }
	if err := json.Unmarshal([]byte(body), &inc); err != nil {
		t.Fatal(err)
	}
	_, body = call(t, a, tok, "GET", fmt.Sprintf("/api/v1/incidents/%d", inc.ID), "", "")
	if !strings.Contains(body, `"suggested_organisations":[{"org_id":`) || !strings.Contains(body, `"name":"Lookup Test","matched":["198.51.100.77"]`) {
		t.Errorf("incident = %s, want Lookup Test suggested for 198.51.100.77", body)
	}
}
