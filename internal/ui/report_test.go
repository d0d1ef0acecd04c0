package ui_test

import (
	"bytes"
	"context"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"focal/internal/auth"
	"focal/internal/focal"
	"focal/internal/observable"
	"focal/internal/store"
	"focal/internal/ui"
)

// fastReports lets tests send the report form at once and without limit,
// and extracts observables as the App does.
func fastReports(c *ui.Config) {
	c.MinReportFillTime = time.Nanosecond
	c.ReportLimiter = auth.NewLimiter(auth.LimiterConfig{Rate: rate.Inf})
	c.Extract = extract
}

// extract adapts the observable extractor to the UI's Config.Extract.
func extract(text string) []focal.Observable {
	var out []focal.Observable
	for _, o := range observable.Extract(text).Observables {
		out = append(out, focal.Observable{Kind: string(o.Kind), Value: o.Value, Source: "extracted"})
	}
	return out
}

// reportForm opens the report form as as and returns a valid submission
// of category with description: its token and the right answer.
func (e *env) reportForm(tb testing.TB, as, category, description string) url.Values {
	tb.Helper()
	r := e.get(tb, as, "/report")
	if r.status != http.StatusOK {
		tb.Fatalf("GET /report = %d, want 200", r.status)
	}
	return formFrom(tb, r.body, url.Values{"category": {category}, "description": {description}})
}

// formFrom completes f with the token and the answer of the form in body.
func formFrom(tb testing.TB, body string, f url.Values) url.Values {
	tb.Helper()
	tok := regexp.MustCompile(`name="token" value="([^"]+)"`).FindStringSubmatch(body)
	q := regexp.MustCompile(`What is (\d) plus (\d)\?`).FindStringSubmatch(body)
	if tok == nil || q == nil {
		tb.Fatalf("report form without token or question:\n%s", body)
	}
	a, b := int(q[1][0]-'0'), int(q[2][0]-'0') // the pattern matched one digit each
	f.Set("token", html.UnescapeString(tok[1]))
	f.Set("answer", strconv.Itoa(a+b))
	return f
}

// incidentByRef finds the incident with reference ref, as the system.
func (e *env) incidentByRef(tb testing.TB, ref string) *focal.Incident {
	tb.Helper()
	ctx := focal.NewContextWithPrincipal(context.Background(), focal.Principal{UserID: -1, Name: "system", Role: focal.RoleCoordinator, RestrictedAccess: true})
	list, err := e.st.Incidents(ctx, store.IncidentFilter{Query: ref})
	if err != nil {
		tb.Fatal(err)
	}
	if len(list) != 1 {
		tb.Fatalf("incidents with ref %s = %d, want 1", ref, len(list))
	}
	i, err := e.st.Incident(ctx, list[0].ID)
	if err != nil {
		tb.Fatal(err)
	}
	return i
}

// countIncidents returns how many incidents there are, restricted or not.
func (e *env) countIncidents(tb testing.TB) int {
	tb.Helper()
	ctx := focal.NewContextWithPrincipal(context.Background(), focal.Principal{UserID: -1, Name: "system", Role: focal.RoleCoordinator, RestrictedAccess: true})
	list, err := e.st.Incidents(ctx, store.IncidentFilter{Limit: 500})
	if err != nil {
		tb.Fatal(err)
	}
	return len(list)
}

// sendReport posts a report and follows the redirect to the receipt; it
// returns the tracking reference.
func (e *env) sendReport(tb testing.TB, as string, f url.Values) string {
	tb.Helper()
	r := e.post(tb, as, "/report", f)
	if r.status != http.StatusSeeOther || !strings.HasPrefix(r.header.Get("Location"), "/report/sent?") {
		tb.Fatalf("POST /report = %d to %q, want 303 to the receipt\n%s", r.status, r.header.Get("Location"), r.body)
	}
	loc := r.header.Get("Location")
	r = e.get(tb, as, loc)
	if r.status != http.StatusOK {
		tb.Fatalf("GET %s = %d, want 200", loc, r.status)
	}
	m := regexp.MustCompile(`<strong id="ref">(FOC-\d{4}-\d{6})</strong>`).FindStringSubmatch(r.body)
	if m == nil || !strings.Contains(r.body, "What happens next") {
		tb.Fatalf("receipt lacks the reference or what happens next:\n%s", r.body)
	}
	return m[1]
}

// TestReportSubmit sends a valid report anonymously and checks the
// receipt and the stored incident: channel web, TLP AMBER, status new, the
// category's classification, the reporter and the extracted observables.
func TestReportSubmit(t *testing.T) {
	e := newEnv(t, fastReports)
	f := e.reportForm(t, "", "phishing", "I got a mail from bank@phish.example linking to hxxp://login.phish[.]example/verify — <b>urgent</b>")
	f.Set("name", "Ada Citizen")
	f.Set("email", "ada@example.org")
	f.Set("phone", "+33 1 23 45 67 89")
	f.Set("consent", "1")
	ref := e.sendReport(t, "", f)

	i := e.incidentByRef(t, ref)
	got := fmt.Sprintf("%s|%s|%s|%s|%v|%v|%s", i.Channel, i.TLP, i.Status, i.Title, i.Classifications, i.Restricted(), i.Reporter.Email)
	want := "web|TLP:AMBER|new|Web report: Phishing or fraud e-mail / website|[fraud/phishing]|false|ada@example.org"
	if got != want {
		t.Errorf("stored report = %s, want %s", got, want)
	}
	sys := focal.NewContextWithPrincipal(context.Background(), focal.System())
	obs, err := e.st.Observables(sys, i.ID)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, o := range obs {
		kinds = append(kinds, o.Kind+" "+o.Value)
	}
	if s := strings.Join(kinds, ","); !strings.Contains(s, "url http://login.phish.example/verify") || !strings.Contains(s, "email bank@phish.example") {
		t.Errorf("observables = %s, want the URL and the e-mail address", s)
	}

	// A logged-in account sending the public form reports as the public too.
	f = e.reportForm(t, "constituent", "ddos", "our site is down")
	ref = e.sendReport(t, "constituent", f)
	if i := e.incidentByRef(t, ref); i.OrgID != 0 || i.Channel != "web" || i.Classifications[0].String() != "availability/ddos" {
		t.Errorf("report sent by a constituent = org %d, channel %s, %v; want no organisation, web, availability/ddos", i.OrgID, i.Channel, i.Classifications)
	}
}

// TestReportRejected checks the human check and the validation: each bad
// submission stores nothing and is answered 400, with a neutral message
// for bots and the form again, with what was typed, for people.
func TestReportRejected(t *testing.T) {
	e := newEnv(t, fastReports)
	tests := []struct {
		name    string
		edit    func(url.Values)
		has     []string // in the answer
		reshown bool     // the form is shown again with the typed text
	}{
		{"honeypot", func(f url.Values) { f.Set("website", "http://spam.example") }, []string{"your report could not be accepted"}, false},
		{"forged-token", func(f url.Values) { f.Set("token", "1700000000000.AAAA.BBBB.CCCC") }, []string{"your report could not be accepted"}, false},
		{"no-token", func(f url.Values) { f.Del("token") }, []string{"your report could not be accepted"}, false},
		{"tampered-time", func(f url.Values) {
			parts := strings.SplitN(f.Get("token"), ".", 2)
			f.Set("token", "2"+parts[0][1:]+"."+parts[1])
		}, []string{"your report could not be accepted"}, false},
		{"wrong-answer", func(f url.Values) { f.Set("answer", "99") }, []string{`href="#f-answer">Question</a>: that is not the answer`, `id="e-answer"`}, true},
		{"not-a-number", func(f url.Values) { f.Set("answer", "seven") }, []string{"that is not the answer"}, true},
		{"no-category", func(f url.Values) { f.Set("category", "") }, []string{`href="#f-category">What happened</a>: choose what happened from the list`}, true},
		{"no-description", func(f url.Values) { f.Set("description", "  ") }, []string{`Description</a>: describe what happened`}, false},
		{"too-long", func(f url.Values) { f.Set("description", strings.Repeat("é", 20_001)) }, []string{"is too long: at most 20,000 characters, yours has 20001"}, false},
		{"bad-email", func(f url.Values) { f.Set("email", "not an address"); f.Set("consent", "1") }, []string{`Your e-mail</a>: &#34;not an address&#34; is not an e-mail address`}, true},
		{"bad-phone", func(f url.Values) { f.Set("phone", "call me"); f.Set("consent", "1") }, []string{"Your phone number</a>: write the number"}, true},
		{"no-consent", func(f url.Values) { f.Set("email", "ada@example.org") }, []string{`Consent</a>: tick the box`}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := e.reportForm(t, "", "malware", "my laptop shows <script>alert(1)</script> popups")
			tt.edit(f)
			r := e.post(t, "", "/report", f)
			if r.status != http.StatusBadRequest {
				t.Fatalf("POST /report = %d, want 400\n%s", r.status, r.body)
			}
			for _, s := range tt.has {
				if !strings.Contains(r.body, s) {
					t.Errorf("POST /report answer lacks %q\n%s", s, r.body)
				}
			}
			if got := strings.Contains(r.body, "my laptop shows &lt;script&gt;alert(1)&lt;/script&gt; popups</textarea>"); got != tt.reshown {
				t.Errorf("form shown again with the escaped typed text = %v, want %v", got, tt.reshown)
			}
			if strings.Contains(r.body, "<script>alert(1)") {
				t.Errorf("the typed text is echoed unescaped")
			}
			if n := e.countIncidents(t); n != 0 {
				t.Errorf("a rejected report stored %d incident(s)", n)
			}
		})
	}

	// Answering the new question of the form shown again works.
	f := e.reportForm(t, "", "spam", "lots of spam")
	f.Set("answer", "99")
	r := e.post(t, "", "/report", f)
	f = formFrom(t, r.body, url.Values{"category": {"spam"}, "description": {"lots of spam"}})
	e.sendReport(t, "", f)
}

// TestReportTooFast checks that a form sent sooner than the minimum fill
// time is shown again and stores nothing.
func TestReportTooFast(t *testing.T) {
	e := newEnv(t) // the default: 3 s
	f := e.reportForm(t, "", "spam", "quick")
	r := e.post(t, "", "/report", f)
	if r.status != http.StatusBadRequest || !strings.Contains(r.body, "was sent very soon after it was shown") || !strings.Contains(r.body, ">quick</textarea>") {
		t.Errorf("POST /report at once = %d, want 400 with the form again\n%s", r.status, r.body)
	}
	if n := e.countIncidents(t); n != 0 {
		t.Errorf("a report sent too fast stored %d incident(s)", n)
	}
}

// TestReportRateLimit sends more reports from one address than allowed.
func TestReportRateLimit(t *testing.T) {
	e := newEnv(t, func(c *ui.Config) { c.MinReportFillTime = time.Nanosecond })
	for n := range 5 {
		e.sendReport(t, "", e.reportForm(t, "", "spam", fmt.Sprintf("spam %d", n)))
	}
	r := e.post(t, "", "/report", e.reportForm(t, "", "spam", "one too many"))
	if r.status != http.StatusTooManyRequests || !strings.Contains(r.body, "too many reports from your address") {
		t.Fatalf("6th POST /report = %d, want 429\n%s", r.status, r.body)
	}
	if ra, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || ra <= 0 {
		t.Errorf("Retry-After = %q, want seconds", r.header.Get("Retry-After"))
	}
	if n := e.countIncidents(t); n != 5 {
		t.Errorf("incidents = %d, want 5", n)
	}
}

// TestReportRestricted reports child sexual abuse material: the incident
// is restricted, hidden from an ungranted handler, and its description is
// shown to a granted one only when opened deliberately, which the journal
// records.
func TestReportRestricted(t *testing.T) {
	e := newEnv(t, fastReports)
	granted := &focal.User{Name: "granted", Role: focal.RoleHandler, RestrictedAccess: true}
	if err := e.st.CreateUser(e.sys, granted, ""); err != nil {
		t.Fatal(err)
	}
	e.sessions["granted"] = e.newSession(t, granted)

	ref := e.sendReport(t, "", e.reportForm(t, "", "csam", "material at hxxps://bad.example/gallery"))
	i := e.incidentByRef(t, ref)
	if !i.Restricted() || i.Classifications[0].String() != "abusive-content/violence" {
		t.Fatalf("CSAM report = %v restricted %v, want abusive-content/violence, restricted", i.Classifications, i.Restricted())
	}
	ref2 := e.sendReport(t, "", e.reportForm(t, "", "harassment", "threats on a forum"))
	if i2 := e.incidentByRef(t, ref2); !i2.Restricted() {
		t.Errorf("harassment report is not restricted: %v", i2.Classifications)
	}

	if r := e.get(t, "handler", "/incidents"); strings.Contains(r.body, ref) || strings.Contains(r.body, ref2) {
		t.Errorf("an ungranted handler's list shows restricted incidents")
	}
	page := fmt.Sprintf("/incidents/%d", i.ID)
	if r := e.get(t, "handler", page); r.status != http.StatusForbidden {
		t.Errorf("GET %s as an ungranted handler = %d, want 403", page, r.status)
	}
	if r := e.get(t, "granted", "/incidents"); !strings.Contains(r.body, ref) {
		t.Errorf("a granted handler's list lacks %s", ref)
	}
	r := e.get(t, "granted", page)
	if r.status != http.StatusOK || !strings.Contains(r.body, "Restricted category: description hidden; open it deliberately") || strings.Contains(r.body, "gallery") {
		t.Errorf("GET %s as a granted handler = %d, want the description hidden\n%s", page, r.status, r.body)
	}
	r = e.get(t, "granted", page+"/content")
	if r.status != http.StatusOK || !strings.Contains(r.body, "material at hxxps://bad[.]example/gallery") || strings.Contains(r.body, "https://bad") {
		t.Errorf("GET %s/content = %d, want the description, defanged\n%s", page, r.status, r.body)
	}
	ctx := focal.NewContextWithPrincipal(context.Background(), granted.Principal())
	entries, err := e.st.Journal(ctx, i.ID)
	if err != nil {
		t.Fatal(err)
	}
	views := 0
	for _, en := range entries {
		if en.Kind == "view" && en.Author == "granted" {
			views++
		}
	}
	if views == 0 {
		t.Errorf("opening a restricted incident left no view in its journal: %+v", entries)
	}
}

// TestReportReceipt checks that the receipt shows only references focal
// signed.
func TestReportReceipt(t *testing.T) {
	e := newEnv(t)
	for _, path := range []string{"/report/sent", "/report/sent?ref=FOC-2026-000001", "/report/sent?ref=FOC-2026-000001&sig=forged"} {
		if r := e.get(t, "", path); r.status != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 404", path, r.status)
		}
	}
}

// TestReportFile sends reports with a file: a good file is attached to
// the new incident; a refused one shows the form again with the reason
// and creates no incident.
func TestReportFile(t *testing.T) {
	e := newEnv(t, fastReports)
	png := append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{0}, 64)...)
	tests := []struct {
		name    string
		files   []upload
		wantMsg string // "" for success
	}{
		{"ok", []upload{{"file", "screenshot.png", "image/png", png}}, ""},
		{"no-file", []upload{{"file", "", "application/octet-stream", nil}}, ""},
		{"type-mismatch", []upload{{"file", "cat.jpg", "image/jpeg", exe}}, "does not match its type"},
		{"too-large", []upload{{"file", "big.txt", "text/plain", bytes.Repeat([]byte("a"), 10<<20+1)}}, "is too large: at most 10 MiB"},
		{"two-files", []upload{{"file", "a.txt", "text/plain", []byte("a")}, {"file", "b.txt", "text/plain", []byte("b")}}, "attach one file at most"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := e.countIncidents(t)
			f := e.reportForm(t, "", "phishing", "see the file")
			r := e.postMultipart(t, "", "/report", f, tt.files...)
			if tt.wantMsg != "" {
				// A body over the route's limit cannot be read, so the
				// typed text is not shown again then.
				if r.status != http.StatusBadRequest || !strings.Contains(r.body, tt.wantMsg) || tt.name != "too-large" && !strings.Contains(r.body, "see the file") {
					t.Errorf("POST /report %s = %d, want 400 with %q and the typed text\n%s", tt.name, r.status, tt.wantMsg, r.body)
				}
				if n := e.countIncidents(t); n != before {
					t.Errorf("incidents after %s = %d, want %d", tt.name, n, before)
				}
				return
			}
			if r.status != http.StatusSeeOther {
				t.Fatalf("POST /report %s = %d, want 303\n%s", tt.name, r.status, r.body)
			}
			ref, err := url.ParseQuery(strings.TrimPrefix(r.header.Get("Location"), "/report/sent?"))
			if err != nil {
				t.Fatal(err)
			}
			i := e.incidentByRef(t, ref.Get("ref"))
			list := e.attachments(t, i.ID)
			want := 0
			if tt.files[0].name != "" {
				want = 1
			}
			if len(list) != want {
				t.Fatalf("attachments of the report = %d, want %d", len(list), want)
			}
			if want == 1 && (list[0].Name != "screenshot.png" || list[0].ContentType != "image/png" || list[0].Size != int64(len(png))) {
				t.Errorf("attachment = %+v, want screenshot.png, image/png, %d bytes", list[0], len(png))
			}
		})
	}
}
