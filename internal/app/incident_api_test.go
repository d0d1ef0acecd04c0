package app_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"focal/internal/app"
	"focal/internal/auth"
	"focal/internal/config"
	"focal/internal/focal"
)

// An incident goes through its lifecycle over the API, and the handling
// metrics move with it.
func TestIncidentAPILifecycle(t *testing.T) {
	a := mustRun(t)
	tok := coordinatorToken(t, a)
	const js = "application/json"
	status, body := call(t, a, tok, "POST", "/api/v1/incidents", js,
		`{"title":"Phishing kit on a hacked site","description":"see hxxps://bank-login[.]example[.]net/","classification":[{"class":"fraud","type":"phishing"}],"tlp":"AMBER","severity":"high"}`)
	if status != http.StatusCreated {
		t.Fatalf("create = %d %s", status, body)
	}
	var inc struct {
		ID           int64    `json:"id"`
		Ref          string   `json:"ref"`
		Status       string   `json:"status"`
		NextStatuses []string `json:"next_statuses"`
	}
	if err := json.Unmarshal([]byte(body), &inc); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(inc.Ref, "FOC-") || inc.Status != "new" || strings.Join(inc.NextStatuses, ",") != "triaged,rejected,merged" {
		t.Errorf("created incident = %+v", inc)
	}
	path := "/api/v1/incidents/" + jsonInt(inc.ID)
	if status, body := call(t, a, tok, "PATCH", path, js, `{"status":"closed"}`); status != http.StatusBadRequest || !strings.Contains(body, "cannot become closed") {
		t.Errorf("closing a new incident = %d %s, want 400 naming the rule", status, body)
	}
	for _, step := range []string{`{"status":"triaged"}`, `{"status":"in_progress","note":"asked the host to take it down"}`, `{"status":"waiting","waiting_on":"third-party"}`, `{"status":"resolved"}`} {
		if status, body := call(t, a, tok, "PATCH", path, js, step); status != http.StatusOK {
			t.Fatalf("PATCH %s = %d %s", step, status, body)
		}
	}
	if status, body := call(t, a, tok, "POST", path+"/journal", js, `{"kind":"email_out","body":"Dear reporter, the site is down."}`); status != http.StatusNoContent {
		t.Fatalf("journal = %d %s", status, body)
	}
	_, body = call(t, a, tok, "GET", path+"/journal", "", "")
	for _, want := range []string{"incident reported", "status new → triaged", "asked the host", "(on third-party)", "site is down"} {
		if !strings.Contains(body, want) {
			t.Errorf("journal lacks %q: %s", want, body)
		}
	}
	_, body = call(t, a, tok, "GET", path, "", "")
	if strings.Contains(body, "suggested_organisations") {
		t.Errorf("suggestions for observables no organisation owns: %s", body)
	}
	if !strings.Contains(body, `"value":"https://bank-login.example.net/"`) || !strings.Contains(body, `"value":"bank-login.example.net"`) {
		t.Errorf("the defanged URL in the description was not extracted (refanged) as observables: %s", body)
	}
	_, body = call(t, a, tok, "GET", "/api/v1/incidents?status=resolved&q=phishing", "", "")
	if !strings.Contains(body, inc.Ref) {
		t.Errorf("filtered list lacks %s: %s", inc.Ref, body)
	}
	status, body = call(t, a, tok, "GET", "/api/v1/metrics/incidents?by=class", "", "")
	if status != http.StatusOK || !strings.Contains(body, `"key":"fraud"`) || !strings.Contains(body, `"incidents":1`) {
		t.Errorf("metrics = %d %s, want one fraud incident", status, body)
	}
	status, body = call(t, a, tok, "GET", "/api/v1/metrics/incidents?format=csv", "", "")
	if status != http.StatusOK || !strings.HasPrefix(body, "group,incidents,open") || !strings.Contains(body, "\nall,1,0,") {
		t.Errorf("metrics CSV = %d %q", status, body)
	}
	if status, _ := call(t, a, tok, "GET", "/api/v1/metrics/incidents?by=colour", "", ""); status != http.StatusBadRequest {
		t.Errorf("metrics by=colour = %d, want 400", status)
	}
}

func jsonInt(n int64) string {
	b, _ := json.Marshal(n) // an int64 always marshals
	return string(b)
}

// With --smtp-addr, an e-mailed report becomes an incident visible in the
// API, and focal stops cleanly with the listener open.
func TestSMTPIntakeInApp(t *testing.T) {
	cfg := config.Default()
	cfg.Addr, cfg.SMTPAddr = "127.0.0.1:0", "127.0.0.1:0"
	cfg.DataDir = filepath.Join(t.TempDir(), "data")
	a := app.New(cfg, nullLogger())
	if err := a.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := a.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	}()
	tok := coordinatorToken(t, a)
	c, err := smtp.Dial(a.Mail.Addr())
	if err != nil {
		t.Fatal(err)
	}
	msg := "From: citizen@example.org\r\nSubject: Fake parcel SMS\r\nDate: Mon, 02 Nov 2026 10:00:00 +0000\r\n\r\nA text message links to hxxp://parcel-fee[.]example[.]com\r\n"
	if err := c.SendMail("citizen@example.org", []string{"report@focal.example"}, strings.NewReader(msg)); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	_, body := call(t, a, tok, "GET", "/api/v1/incidents?q=parcel", "", "")
	if !strings.Contains(body, "Fake parcel SMS") || !strings.Contains(body, `"channel":"email"`) {
		t.Errorf("incidents after e-mail = %s", body)
	}
}

// The IODEF export names the team, maps the TLP and carries the incident.
func TestIODEFExport(t *testing.T) {
	a := mustRun(t)
	tok := coordinatorToken(t, a)
	status, body := call(t, a, tok, "POST", "/api/v1/incidents", "application/json",
		`{"title":"Scanner hitting our VPN","classification":[{"class":"information-gathering","type":"scanner"}],"tlp":"AMBER+STRICT","observables":[{"kind":"ipv4","value":"203.0.113.9"}]}`)
	if status != http.StatusCreated {
		t.Fatalf("create = %d %s", status, body)
	}
	var inc struct{ ID int64 }
	if err := json.Unmarshal([]byte(body), &inc); err != nil {
		t.Fatal(err)
	}
	status, body = call(t, a, tok, "GET", "/api/v1/incidents/"+jsonInt(inc.ID)+"/iodef", "", "")
	if status != http.StatusOK {
		t.Fatalf("iodef = %d %s", status, body)
	}
	for _, want := range []string{"urn:ietf:params:xml:ns:iodef-2.0", `name="focal.invalid"`, `ext-restriction="amber+strict"`, "203.0.113.9", "Scanner hitting our VPN"} {
		if !strings.Contains(body, want) {
			t.Errorf("IODEF lacks %q", want)
		}
	}
}

// A public report belongs to no organisation: no constituent may read it.
func TestConstituentCannotReadUnassignedIncident(t *testing.T) {
	a := mustRun(t)
	sys := focal.NewContextWithPrincipal(context.Background(), focal.System())
	org := &focal.Organisation{Name: "Alpha", Sector: "isp", Country: "FR"}
	if err := a.Store.CreateOrganisation(sys, org); err != nil {
		t.Fatal(err)
	}
	pub := &focal.Incident{Title: "Citizen report"}
	if err := a.Store.CreateIncident(focal.NewContextWithPrincipal(context.Background(), focal.Anonymous()), pub, nil); err != nil {
		t.Fatal(err)
	}
	u := &focal.User{Name: "cons", Role: focal.RoleConstituent, OrgID: org.ID}
	if err := a.Store.CreateUser(sys, u, ""); err != nil {
		t.Fatal(err)
	}
	tok, hash, err := auth.NewToken(auth.APITokenPrefix)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Store.CreateToken(sys, &focal.Token{UserID: u.ID, Scope: "read", ExpiresAt: time.Now().Add(time.Hour)}, hash); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/api/v1/incidents/" + jsonInt(pub.ID), "/api/v1/incidents/" + jsonInt(pub.ID) + "/journal", "/api/v1/incidents/" + jsonInt(pub.ID) + "/iodef"} {
		if status, body := call(t, a, tok, "GET", path, "", ""); status != http.StatusForbidden {
			t.Errorf("constituent GET %s = %d %s, want 403", path, status, body)
		}
	}
	if _, body := call(t, a, tok, "GET", "/api/v1/incidents", "", ""); strings.Contains(body, "Citizen report") {
		t.Errorf("constituent list shows a report of no organisation: %s", body)
	}
}

// Attachments go in as raw bodies, are checked against their declared
// type and size, and come out as opaque downloads with the same bytes.
func TestAttachmentAPI(t *testing.T) {
	a := mustRun(t)
	tok := coordinatorToken(t, a)
	status, body := call(t, a, tok, "POST", "/api/v1/incidents", "application/json", `{"title":"Malware sample"}`)
	if status != http.StatusCreated {
		t.Fatalf("create = %d %s", status, body)
	}
	var inc struct{ ID int64 }
	if err := json.Unmarshal([]byte(body), &inc); err != nil {
		t.Fatal(err)
	}
	base := "/api/v1/incidents/" + jsonInt(inc.ID) + "/attachments"
	status, body = call(t, a, tok, "POST", base+"?name=mail-headers.txt", "text/plain", "Received: from mx.example.net")
	if status != http.StatusCreated || !strings.Contains(body, `"sha256":"`) {
		t.Fatalf("upload = %d %s", status, body)
	}
	var att struct {
		ID     int64
		SHA256 string
	}
	if err := json.Unmarshal([]byte(body), &att); err != nil {
		t.Fatal(err)
	}
	// 3 MiB is over the 1 MiB default for bodies but within the 25 MiB
	// allowed for attachments.
	if status, body := call(t, a, tok, "POST", base+"?name=capture.bin", "application/octet-stream", strings.Repeat("y", 3<<20)); status != http.StatusCreated {
		t.Errorf("3 MiB upload = %d %s, want 201", status, body)
	}
	if status, body := call(t, a, tok, "POST", "/api/v1/incidents", "application/json", `{"title":"`+strings.Repeat("t", 2<<20)+`"}`); status != http.StatusRequestEntityTooLarge {
		t.Errorf("2 MiB JSON body on a default route = %d %.80s, want 413", status, body)
	}
	// Indicators in a textual attachment become observables of the incident.
	_, body = call(t, a, tok, "GET", "/api/v1/incidents/"+jsonInt(inc.ID), "", "")
	if !strings.Contains(body, `"value":"mx.example.net"`) {
		t.Errorf("the attachment's domain was not extracted: %s", body)
	}
	_, body = call(t, a, tok, "GET", "/api/v1/incidents/"+jsonInt(inc.ID)+"/journal", "", "")
	if !strings.Contains(body, "extracted from attachment mail-headers.txt") {
		t.Errorf("journal does not say where the observables came from: %s", body)
	}
	if status, body := call(t, a, tok, "POST", base+"?name=invoice.txt", "text/plain", "MZ\x90\x00 pretend executable"); status != http.StatusBadRequest || !strings.Contains(body, "executable") {
		t.Errorf("executable declared as text = %d %s, want 400 naming it", status, body)
	}
	if status, _ := call(t, a, tok, "POST", base+"?name=big.bin", "application/octet-stream", strings.Repeat("x", 27<<20)); status != http.StatusRequestEntityTooLarge {
		t.Errorf("27 MiB upload = %d, want 413", status)
	}
	if status, body := call(t, a, tok, "POST", base, "text/plain", "no name"); status != http.StatusBadRequest || !strings.Contains(body, "name") {
		t.Errorf("upload without a name = %d %s, want 400", status, body)
	}
	_, body = call(t, a, tok, "GET", base, "", "")
	if !strings.Contains(body, "mail-headers.txt") || !strings.Contains(body, "capture.bin") || strings.Contains(body, "invoice.txt") {
		t.Errorf("list = %s, want only the accepted file", body)
	}
	req, err := http.NewRequest("GET", a.URL()+base+"/"+jsonInt(att.ID), nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got := new(strings.Builder)
	if _, err := io.Copy(got, resp.Body); err != nil {
		t.Fatal(err)
	}
	if got.String() != "Received: from mx.example.net" || resp.Header.Get("Content-Type") != "application/octet-stream" ||
		!strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment;") || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("download = %q with headers %v", got, resp.Header)
	}
}

// A coordinator grants a handler sight of restricted categories.
func TestGrantRestrictedAccess(t *testing.T) {
	a := mustRun(t)
	tok := coordinatorToken(t, a)
	status, body := call(t, a, tok, "POST", "/api/v1/users", "application/json", `{"name":"gina","role":"handler","password":"correct horse battery staple"}`)
	if status != http.StatusCreated || !strings.Contains(body, `"restricted_access":false`) {
		t.Fatalf("create user = %d %s", status, body)
	}
	var u struct{ ID int64 }
	if err := json.Unmarshal([]byte(body), &u); err != nil {
		t.Fatal(err)
	}
	status, body = call(t, a, tok, "PATCH", "/api/v1/users/"+jsonInt(u.ID), "application/json", `{"restricted_access":true}`)
	if status != http.StatusOK || !strings.Contains(body, `"restricted_access":true`) {
		t.Fatalf("grant = %d %s", status, body)
	}
	sys := focal.NewContextWithPrincipal(context.Background(), focal.System())
	got, err := a.Store.User(sys, u.ID)
	if err != nil || !got.RestrictedAccess {
		t.Errorf("stored user = %+v, %v; want restricted access", got, err)
	}
}
