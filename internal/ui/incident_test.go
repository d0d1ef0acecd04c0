package ui_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"focal/internal/focal"
	"focal/internal/store"
)

// phishing returns the classification most fixtures use.
func phishing() []focal.Classification {
	return []focal.Classification{{Class: "fraud", Type: "phishing"}}
}

// incidentPath is the page of incident i.
func incidentPath(i *focal.Incident) string { return fmt.Sprintf("/incidents/%d", i.ID) }

// load reads incident id back as the system.
func (e *env) load(tb testing.TB, id int64) *focal.Incident {
	tb.Helper()
	i, err := e.st.Incident(e.sys, id)
	if err != nil {
		tb.Fatal(err)
	}
	return i
}

// checkBody fails for each of has missing from body and each of hasNot in it.
func checkBody(tb testing.TB, what, body string, has, hasNot []string) {
	tb.Helper()
	for _, s := range has {
		if !strings.Contains(body, s) {
			tb.Errorf("%s lacks %q", what, s)
		}
	}
	for _, s := range hasNot {
		if strings.Contains(body, s) {
			tb.Errorf("%s has %q", what, s)
		}
	}
}

// TestIncidentScoping checks who sees which incidents: a constituent only
// its own organisation's, an assessor none.
func TestIncidentScoping(t *testing.T) {
	e := newEnv(t)
	a := e.addIncident(t, &focal.Incident{Title: "Alpha outage", OrgID: e.orgA.ID})
	b := e.addIncident(t, &focal.Incident{Title: "Beta phishing", OrgID: e.orgB.ID})
	red := e.addIncident(t, &focal.Incident{Title: "Alpha red", OrgID: e.orgA.ID, TLP: focal.TLPRed})
	tests := []struct {
		as         string
		sees, hide []string
		pages      map[*focal.Incident]int
	}{
		{"handler", []string{"Alpha outage", "Beta phishing", "Alpha red"}, nil, map[*focal.Incident]int{a: 200, b: 200, red: 200}},
		{"analyst", []string{"Alpha outage", "Beta phishing"}, nil, map[*focal.Incident]int{a: 200, b: 200}},
		{"constituent", []string{"Alpha outage"}, []string{"Beta phishing", "Alpha red"}, map[*focal.Incident]int{a: 200, b: 403, red: 403}},
		{"constituent-b", []string{"Beta phishing"}, []string{"Alpha outage"}, map[*focal.Incident]int{a: 403, b: 200}},
	}
	for _, tt := range tests {
		t.Run(tt.as, func(t *testing.T) {
			r := e.get(t, tt.as, "/incidents")
			checkBody(t, "GET /incidents as "+tt.as, r.body, tt.sees, tt.hide)
			for i, want := range tt.pages {
				if r := e.get(t, tt.as, incidentPath(i)); r.status != want {
					t.Errorf("GET %s (%s) as %s = %d, want %d", incidentPath(i), i.Title, tt.as, r.status, want)
				}
			}
			if r := e.get(t, tt.as, incidentPath(b)+"/content"); tt.pages[b] == 403 && r.status != 403 {
				t.Errorf("GET %s/content as %s = %d, want 403", incidentPath(b), tt.as, r.status)
			}
		})
	}
	for _, as := range []string{"assessor", "peer"} {
		if r := e.get(t, as, "/incidents"); r.status != http.StatusForbidden {
			t.Errorf("GET /incidents as %s = %d, want 403", as, r.status)
		}
	}
}

// TestIncidentListFilters checks each filter of the list, the triage
// queue's order and the htmx partial.
func TestIncidentListFilters(t *testing.T) {
	e := newEnv(t)
	old := e.addIncident(t, &focal.Incident{Title: "Oldest new", OrgID: e.orgA.ID, Severity: focal.SeverityCritical,
		Milestones: focal.Milestones{Reported: time.Now().Add(-48 * time.Hour)}})
	triaged := e.addIncident(t, &focal.Incident{Title: "Triaged one", OrgID: e.orgB.ID, Classifications: phishing(), TLP: focal.TLPGreen})
	st := focal.StatusTriaged
	if _, err := e.st.UpdateIncident(e.sys, triaged.ID, store.IncidentChange{Status: &st}); err != nil {
		t.Fatal(err)
	}
	mine := e.addIncident(t, &focal.Incident{Title: "Mine triaged", Classifications: []focal.Classification{{Class: "malicious-code", Type: "infected-system"}}})
	handler := focal.NewContextWithPrincipal(context.Background(), e.users["handler"].Principal())
	me := e.users["handler"].ID
	if _, err := e.st.UpdateIncident(handler, mine.ID, store.IncidentChange{Status: &st, AssigneeID: &me}); err != nil {
		t.Fatal(err)
	}
	e.addIncident(t, &focal.Incident{Title: "Newest new", Description: "a needle in the text"})

	tests := []struct {
		name    string
		path    string
		header  []string
		partial bool
		has     []string
		hasNot  []string
	}{
		{"all", "/incidents", nil, false, []string{"4 incidents, newest first.", "Oldest new", "Triaged one", "Mine triaged", "Newest new"}, nil},
		{"status", "/incidents?status=triaged", nil, false, []string{"Triaged one", "Mine triaged", `id="st-triaged" name="status" value="triaged" checked`}, []string{"Oldest new", "Newest new"}},
		{"status-comma", "/incidents?status=new,triaged", nil, false, []string{"4 incidents"}, nil},
		{"class", "/incidents?class=fraud", nil, false, []string{"Triaged one", "Fraud: Phishing"}, []string{"Oldest new", "Mine triaged"}},
		{"tlp", "/incidents?tlp=green", nil, false, []string{"Triaged one", `<span class="tlp tlp-green">TLP:GREEN</span>`}, []string{"Oldest new"}},
		{"org", fmt.Sprintf("/incidents?org=%d", e.orgA.ID), nil, false, []string{"Oldest new", "1 incident,"}, []string{"Triaged one"}},
		{"mine", "/incidents?assignee=me", nil, false, []string{"Mine triaged", "1 incident,"}, []string{"Triaged one"}},
		{"overdue", "/incidents?overdue=1", nil, false, []string{"Oldest new", `<tr class="overdue">`, "acknowledge overdue by"}, []string{"Newest new"}},
		{"text", "/incidents?q=NEEDLE", nil, false, []string{"Newest new"}, []string{"Oldest new"}},
		{"queue", "/incidents?view=queue", nil, false, []string{"4 incidents waiting, oldest first.", `name="view" value="queue"`}, nil},
		{"queue-overdue", "/incidents?view=queue&overdue=1", nil, false, []string{"1 incident waiting"}, []string{"Newest new"}},
		{"htmx", "/incidents?q=needle", []string{"HX-Request", "true"}, true, []string{`<p id="result-count">`, "Newest new", `<table id="incident-table"`}, []string{"<html", "<form"}},
		{"none", "/incidents?q=nothing-matches", nil, false, []string{"No incident matches."}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.get(t, "handler", tt.path, tt.header...)
			if r.status != http.StatusOK {
				t.Fatalf("GET %s = %d, want 200\n%s", tt.path, r.status, r.body)
			}
			if got := strings.Contains(r.body, "<!doctype html>"); got == tt.partial {
				t.Errorf("GET %s whole page = %v, want %v", tt.path, got, !tt.partial)
			}
			checkBody(t, "GET "+tt.path, r.body, tt.has, tt.hasNot)
		})
	}

	// The queue lists the oldest first; the list the newest first.
	r := e.get(t, "handler", "/incidents?view=queue")
	if o, n := strings.Index(r.body, "Oldest new"), strings.Index(r.body, "Newest new"); o < 0 || n < 0 || o > n {
		t.Errorf("the queue does not list the oldest first")
	}
	r = e.get(t, "handler", "/incidents")
	if o, n := strings.Index(r.body, "Oldest new"), strings.Index(r.body, "Newest new"); o < 0 || n < 0 || o < n {
		t.Errorf("the list does not list the newest first")
	}
	if r := e.get(t, "handler", incidentPath(old)); !strings.Contains(r.body, `<span class="sla sla-overdue">overdue</span>`) {
		t.Errorf("the overdue incident's page does not show the overdue clock")
	}
	for _, bad := range []string{"status=sleeping", "tlp=purple", "org=x", "before=-1", "class=nonsense"} {
		if r := e.get(t, "handler", "/incidents?"+bad); r.status != http.StatusBadRequest {
			t.Errorf("GET /incidents?%s = %d, want 400", bad, r.status)
		}
	}
}

// TestIncidentListPaging checks the "older" link of a long list.
func TestIncidentListPaging(t *testing.T) {
	e := newEnv(t)
	var ids []int64
	for n := range 55 {
		ids = append(ids, e.addIncident(t, &focal.Incident{Title: fmt.Sprintf("Paged %02d", n)}).ID)
	}
	r := e.get(t, "handler", "/incidents?status=new")
	older := fmt.Sprintf(`href="/incidents?before=%d&amp;status=new" rel="next"`, ids[5])
	checkBody(t, "page 1", r.body, []string{"50 incidents on this page", older, "Paged 54", "Paged 05"}, []string{"Paged 04"})
	r = e.get(t, "handler", fmt.Sprintf("/incidents?before=%d&status=new", ids[5]))
	checkBody(t, "page 2", r.body, []string{"5 incidents on this page", "Paged 04", "Paged 00", `href="/incidents?status=new">Newest</a>`}, []string{"Paged 05", `rel="next"`})
}

// postOK posts form to path as as and checks the 303 to want.
func (e *env) postOK(tb testing.TB, as, path string, form url.Values, want string) {
	tb.Helper()
	r := e.post(tb, as, path, form)
	if r.status != http.StatusSeeOther || r.header.Get("Location") != want {
		tb.Fatalf("POST %s %v = %d to %q, want 303 to %s\n%s", path, form, r.status, r.header.Get("Location"), want, errorSummary(r.body))
	}
}

// errorSummary returns the error summary of a page, or the page.
func errorSummary(body string) string {
	if m := regexp.MustCompile(`(?s)<div class="error-summary".*?</div>`).FindString(body); m != "" {
		return m
	}
	return body
}

// TestIncidentWorkflow takes a reported incident through its life with
// the page's forms: triage with a classification, assign, work, wait,
// resolve; each change is stored, journalled and stamps its milestone.
func TestIncidentWorkflow(t *testing.T) {
	e := newEnv(t)
	i := e.addIncident(t, &focal.Incident{Title: "Reported by phone", Channel: "phone"})
	path := incidentPath(i)
	saved := path + "?notice=saved"

	r := e.get(t, "handler", path)
	checkBody(t, "GET "+path, r.body, []string{
		`<option value="triaged">triaged</option>`, `<option value="rejected">rejected</option>`, `id="save-triaged"`, `id="assign-me"`,
		`<optgroup label="Fraud">`, `<option value="fraud/phishing">`, `action="` + path + `/journal"`,
	}, []string{`<option value="in_progress">`, `<option value="merged">`, `id="unassign"`})

	e.postOK(t, "handler", path, url.Values{"classification": {"fraud/phishing"}, "severity": {"high"}, "tlp": {"AMBER"}, "pap": {"AMBER"}, "status": {"triaged"}}, saved)
	e.postOK(t, "handler", path, url.Values{"assignee": {"me"}}, saved)
	e.postOK(t, "handler", path, url.Values{"org": {fmt.Sprint(e.orgA.ID)}}, saved)
	e.postOK(t, "handler", path, url.Values{"status": {"in_progress"}, "waiting_on": {""}}, saved)
	e.postOK(t, "handler", path, url.Values{"status": {"waiting"}, "waiting_on": {"reporter"}}, saved)
	e.postOK(t, "handler", path, url.Values{"status": {"in_progress"}}, saved)
	e.postOK(t, "handler", path, url.Values{"status": {"resolved"}}, saved)

	got := e.load(t, i.ID)
	if s := fmt.Sprintf("%s %v %s %d %d", got.Status, got.Classifications, got.Severity, got.AssigneeID, got.OrgID); s != fmt.Sprintf("resolved [fraud/phishing] high %d %d", e.users["handler"].ID, e.orgA.ID) {
		t.Errorf("after the workflow: %s", s)
	}
	m := got.Milestones
	if m.Acknowledged.IsZero() || m.Triaged.IsZero() || m.Resolved.IsZero() || got.Sector != "isp" {
		t.Errorf("milestones %+v, sector %q: want acknowledged, triaged, resolved, sector isp", m, got.Sector)
	}
	r = e.get(t, "handler", saved)
	checkBody(t, "GET "+saved, r.body, []string{
		"Saved.", "status new → triaged", "status in_progress → waiting (on reporter)", "severity medium → high",
		`<a href="/organisations/` + fmt.Sprint(e.orgA.ID) + `">Alpha Telecom</a>`, "<dt>Assignee</dt><dd>you</dd>",
		`<option value="closed">closed</option>`, `id="unassign"`,
	}, []string{`id="assign-me"`})

	// A coordinator picks the assignee from the handler accounts.
	r = e.get(t, "coordinator", path)
	sel := regexp.MustCompile(`(?s)<select id="f-assignee" name="assignee">.*?</select>`).FindString(r.body)
	checkBody(t, "the assignee select of "+path+" for a coordinator", sel, []string{`>handler</option>`, `>coordinator</option>`}, []string{`>analyst</option>`, `>constituent</option>`})
	e.postOK(t, "coordinator", path, url.Values{"assignee": {fmt.Sprint(e.users["coordinator"].ID)}}, saved)
	if got := e.load(t, i.ID); got.AssigneeID != e.users["coordinator"].ID {
		t.Errorf("assignee = %d, want the coordinator", got.AssigneeID)
	}
	e.postOK(t, "handler", path, url.Values{"assignee": {"none"}}, saved)
	if got := e.load(t, i.ID); got.AssigneeID != 0 {
		t.Errorf("assignee after unassigning = %d, want 0", got.AssigneeID)
	}
}

// TestIncidentUpdateErrors posts bad changes: each is refused with 400,
// the incident's page with the message in the user's terms next to the
// field, and nothing changes.
func TestIncidentUpdateErrors(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name  string
		form  url.Values
		field string
		msg   string
	}{
		{"beyond-next", url.Values{"status": {"resolved"}}, "status", "New status</a>: a new incident cannot become resolved; it can become triaged, rejected or merged"},
		{"unknown-status", url.Values{"status": {"asleep"}}, "status", "New status</a>: choose a status from the list"},
		{"triage-unclassified", url.Values{"status": {"triaged"}}, "", "classify the incident before triaging it"},
		{"bad-class", url.Values{"classification": {"fraud/nonsense"}}, "classification", "Classification</a>: choose a classification from the list"},
		{"bad-severity", url.Values{"severity": {"apocalyptic"}}, "severity", "Severity</a>: choose a severity from the list"},
		{"bad-tlp", url.Values{"tlp": {"purple"}}, "tlp", "TLP</a>: choose a TLP label from the list"},
		{"bad-pap", url.Values{"pap": {"purple"}}, "pap", "PAP</a>: choose a PAP label from the list"},
		{"assign-other", url.Values{"assignee": {fmt.Sprint(e.users["analyst"].ID)}}, "assignee", "Assignee</a>: choose someone from the list"},
		{"no-such-org", url.Values{"org": {"999999"}}, "org", "Organisation</a>: organisation 999999 does not exist"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			i := e.addIncident(t, &focal.Incident{Title: "Untouched " + tt.name})
			r := e.post(t, "handler", incidentPath(i), tt.form)
			if r.status != http.StatusBadRequest {
				t.Fatalf("POST %s %v = %d, want 400\n%s", incidentPath(i), tt.form, r.status, errorSummary(r.body))
			}
			if !strings.Contains(r.body, tt.msg) || !strings.Contains(r.body, "The change was not saved") {
				t.Errorf("POST %s %v: the page lacks %q\n%s", incidentPath(i), tt.form, tt.msg, errorSummary(r.body))
			}
			if tt.field != "" && !strings.Contains(r.body, `id="e-`+tt.field+`"`) {
				t.Errorf("POST %s %v: no message next to %s", incidentPath(i), tt.form, tt.field)
			}
			if got := e.load(t, i.ID); got.Status != focal.StatusNew || got.Severity != focal.SeverityMedium || got.AssigneeID != 0 || got.OrgID != 0 || len(got.Classifications) != 0 {
				t.Errorf("a refused change changed the incident: %+v", got)
			}
		})
	}
	// Waiting needs whom the incident waits for.
	i := e.addIncident(t, &focal.Incident{Title: "Waiting", Classifications: phishing()})
	e.postOK(t, "handler", incidentPath(i), url.Values{"status": {"triaged"}}, incidentPath(i)+"?notice=saved")
	r := e.post(t, "handler", incidentPath(i), url.Values{"status": {"waiting"}, "waiting_on": {""}})
	if r.status != http.StatusBadRequest || !strings.Contains(r.body, `Waiting on</a>: say whom the incident waits for`) {
		t.Errorf("waiting without whom = %d, want 400 naming Waiting on\n%s", r.status, errorSummary(r.body))
	}
	for _, as := range []string{"analyst", "constituent"} {
		if r := e.post(t, as, incidentPath(i), url.Values{"severity": {"high"}}); r.status != http.StatusForbidden {
			t.Errorf("POST %s as %s = %d, want 403", incidentPath(i), as, r.status)
		}
		if r := e.get(t, as, incidentPath(i)); strings.Contains(r.body, `id="status-form"`) || strings.Contains(r.body, `id="journal-form"`) {
			t.Errorf("GET %s as %s shows the handling forms", incidentPath(i), as)
		}
	}
}

// TestIncidentJournal adds notes and e-mail records: each appears with its
// TLP; a TLP:RED note is hidden from the constituent; an e-mail sent
// stamps the first response.
func TestIncidentJournal(t *testing.T) {
	e := newEnv(t)
	i := e.addIncident(t, &focal.Incident{Title: "Journalled", OrgID: e.orgA.ID})
	path := incidentPath(i)
	noted := path + "?notice=noted#journal"
	e.postOK(t, "handler", path+"/journal", url.Values{"kind": {"note"}, "tlp": {"RED"}, "body": {"called the <ISP>\r\nno answer"}}, noted)
	e.postOK(t, "handler", path+"/journal", url.Values{"kind": {"email_out"}, "tlp": {"AMBER"}, "body": {"Dear Alpha, please look at this."}}, noted)

	r := e.get(t, "handler", path)
	checkBody(t, "GET "+path, r.body, []string{
		`<span class="tlp tlp-red">TLP:RED</span> <strong>Note</strong> by handler`, "called the &lt;ISP&gt;\nno answer",
		`<strong>E-mail sent</strong> by handler`, "<strong>System</strong> by system",
	}, []string{"<dt>First response</dt><dd><span class=\"muted\">not yet"})
	if got := e.load(t, i.ID); got.Milestones.FirstResponse.IsZero() {
		t.Errorf("an e-mail sent did not stamp the first response")
	}
	if n, s := strings.Index(r.body, "called the"), strings.Index(r.body, "Dear Alpha"); n > s {
		t.Errorf("the journal is not oldest first")
	}
	r = e.get(t, "constituent", path)
	checkBody(t, "GET "+path+" as constituent", r.body, []string{"Dear Alpha"}, []string{"called the", "TLP:RED"})

	for _, tt := range []struct {
		name string
		form url.Values
		msg  string
	}{
		{"empty", url.Values{"kind": {"note"}, "body": {"  "}}, "Text</a>: write something to add"},
		{"bad-kind", url.Values{"kind": {"state"}, "body": {"sneaky"}}, "Kind</a>: choose a kind from the list"},
		{"bad-tlp", url.Values{"kind": {"note"}, "tlp": {"purple"}, "body": {"kept text"}}, `href="#f-note_tlp">TLP of the entry</a>: choose a TLP label from the list`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := e.post(t, "handler", path+"/journal", tt.form)
			if r.status != http.StatusBadRequest || !strings.Contains(r.body, tt.msg) {
				t.Errorf("POST %s/journal %v = %d, want 400 with %q\n%s", path, tt.form, r.status, tt.msg, errorSummary(r.body))
			}
			if body := tt.form.Get("body"); strings.TrimSpace(body) != "" && !strings.Contains(r.body, ">"+body+"</textarea>") {
				t.Errorf("the journal form lost the typed %q", body)
			}
		})
	}
	if r := e.post(t, "analyst", path+"/journal", url.Values{"body": {"x"}}); r.status != http.StatusForbidden {
		t.Errorf("POST %s/journal as analyst = %d, want 403", path, r.status)
	}
}

// TestIncidentReporter checks reporter details, personal data, are shown
// only to those who work the incident, and that showing them is audited.
func TestIncidentReporter(t *testing.T) {
	e := newEnv(t)
	i := e.addIncident(t, &focal.Incident{Title: "With a reporter", OrgID: e.orgA.ID, Reporter: focal.Reporter{Name: "Ada Lovelace", Email: "ada@example.org", Phone: "01 23 45 67 89"}})
	path := incidentPath(i)
	for _, tt := range []struct {
		as    string
		shown bool
	}{{"coordinator", true}, {"handler", true}, {"analyst", false}, {"constituent", false}} {
		t.Run(tt.as, func(t *testing.T) {
			r := e.get(t, tt.as, path)
			if r.status != http.StatusOK {
				t.Fatalf("GET %s as %s = %d", path, tt.as, r.status)
			}
			for _, s := range []string{"Ada Lovelace", "ada@example.org", "01 23 45 67 89"} {
				if got := strings.Contains(r.body, s); got != tt.shown {
					t.Errorf("GET %s as %s shows %q = %v, want %v", path, tt.as, s, got, tt.shown)
				}
			}
			recs, err := e.st.AuditRecords(e.sys, store.AuditFilter{Actor: tt.as, Action: "view", ObjectType: "incident", ObjectID: fmt.Sprint(i.ID)})
			if err != nil {
				t.Fatal(err)
			}
			// The store may audit views of its own; the UI records that
			// it showed the reporter.
			shown := 0
			for _, rec := range recs {
				if strings.Contains(rec.After, `"reporter":true`) && strings.Contains(rec.After, `"via":"ui"`) {
					shown++
				}
			}
			if want := map[bool]int{true: 1, false: 0}[tt.shown]; shown != want {
				t.Errorf("audit records of %s viewing the reporter via the UI = %d, want %d: %+v", tt.as, shown, want, recs)
			}
		})
	}
}

// TestIncidentDefang checks addresses in descriptions and observables are
// shown defanged and never as links.
func TestIncidentDefang(t *testing.T) {
	e := newEnv(t)
	i := e.addIncident(t, &focal.Incident{Title: "Links", Description: "Go to https://evil.example/login?x=1 or mail boss@evil.example from 192.0.2.7."},
		focal.Observable{Kind: "url", Value: "https://evil.example/login?x=1"}, focal.Observable{Kind: "domain", Value: "evil.example"},
		focal.Observable{Kind: "ipv4", Value: "192.0.2.7"}, focal.Observable{Kind: "sha256", Value: strings.Repeat("ab", 32)})
	for _, path := range []string{incidentPath(i), incidentPath(i) + "/content"} {
		r := e.get(t, "handler", path)
		checkBody(t, "GET "+path, r.body,
			[]string{"Go to hxxps://evil[.]example/login?x=1 or mail boss[@]evil[.]example from 192[.]0[.]2[.]7.", "<code>hxxps://evil[.]example/login?x=1</code>", "<code>evil[.]example</code>", "<code>192[.]0[.]2[.]7</code>", strings.Repeat("ab", 32)},
			[]string{"https://evil", `href="http`, "evil.example"})
	}
}

// TestIncidentCreate records incidents with the new-incident form.
func TestIncidentCreate(t *testing.T) {
	e := newEnv(t, fastReports)
	form := func(title string) url.Values {
		return url.Values{"title": {title}, "description": {"seen at hxxp://c2.example/gate"}, "classification": {"malicious-code/c2-server"},
			"severity": {"high"}, "tlp": {"AMBER+STRICT"}, "pap": {"GREEN"}, "org": {fmt.Sprint(e.orgB.ID)}, "channel": {"phone"},
			"reporter_name": {"Bob"}, "reporter_email": {"bob@example.org"}}
	}
	r := e.post(t, "handler", "/incidents", form("C2 seen"))
	if r.status != http.StatusSeeOther || !strings.HasSuffix(r.header.Get("Location"), "?notice=created") {
		t.Fatalf("POST /incidents = %d to %q, want 303 to the new incident\n%s", r.status, r.header.Get("Location"), errorSummary(r.body))
	}
	i := e.incidentByRef(t, "C2 seen")
	if got := fmt.Sprintf("%s|%v|%s|%s|%s|%d|%s|%s", i.Title, i.Classifications, i.Severity, i.TLP, i.PAP, i.OrgID, i.Channel, i.Reporter.Email); got != fmt.Sprintf("C2 seen|[malicious-code/c2-server]|high|TLP:AMBER+STRICT|GREEN|%d|phone|bob@example.org", e.orgB.ID) {
		t.Errorf("stored incident = %s", got)
	}
	if r.header.Get("Location") != incidentPath(i)+"?notice=created" {
		t.Errorf("redirect to %s, want %s", r.header.Get("Location"), incidentPath(i))
	}
	if obs, err := e.st.Observables(e.sys, i.ID); err != nil || len(obs) == 0 {
		t.Errorf("observables = %v, %v; want those extracted from the text", obs, err)
	}

	// A constituent reports for its own organisation, whatever it posts.
	f := form("Constituent report")
	f.Set("tlp", "AMBER")
	if r := e.post(t, "constituent", "/incidents", f); r.status != http.StatusSeeOther {
		t.Fatalf("POST /incidents as constituent = %d, want 303\n%s", r.status, errorSummary(r.body))
	}
	if i := e.incidentByRef(t, "Constituent report"); i.OrgID != e.orgA.ID {
		t.Errorf("a constituent's incident belongs to organisation %d, want its own %d", i.OrgID, e.orgA.ID)
	}
}

// TestIncidentCreateErrors posts bad new-incident forms.
func TestIncidentCreateErrors(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name string
		as   string
		form url.Values
		msg  string
	}{
		{"no-title", "handler", url.Values{"title": {" "}, "description": {"kept description"}}, `Title</a>: give the incident a title`},
		{"bad-class", "handler", url.Values{"title": {"x"}, "classification": {"nope/nope"}}, "Classification</a>: choose a classification"},
		{"bad-email", "handler", url.Values{"title": {"x"}, "reporter_email": {"bob at example"}}, "Reporter&#39;s e-mail</a>: not a valid e-mail address"},
		{"bad-phone", "handler", url.Values{"title": {"x"}, "reporter_phone": {"call me"}}, "Reporter&#39;s phone</a>: write the number"},
		{"bad-channel", "handler", url.Values{"title": {"x"}, "channel": {"pigeon"}}, "Channel</a>: unknown channel"},
		{"no-such-org", "handler", url.Values{"title": {"x"}, "org": {"999999"}}, "Organisation</a>: organisation 999999 does not exist"},
		{"constituent-red", "constituent", url.Values{"title": {"x"}, "tlp": {"RED"}}, "TLP</a>: choose a TLP label from the list"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.post(t, tt.as, "/incidents", tt.form)
			if r.status != http.StatusBadRequest || !strings.Contains(r.body, tt.msg) {
				t.Fatalf("POST /incidents %v = %d, want 400 with %q\n%s", tt.form, r.status, tt.msg, errorSummary(r.body))
			}
			if d := tt.form.Get("description"); d != "" && !strings.Contains(r.body, ">"+d+"</textarea>") {
				t.Errorf("the form lost the typed description")
			}
		})
	}
	if n := e.countIncidents(t); n != 0 {
		t.Errorf("refused forms stored %d incident(s)", n)
	}
	if r := e.post(t, "analyst", "/incidents", url.Values{"title": {"x"}}); r.status != http.StatusForbidden {
		t.Errorf("POST /incidents as analyst = %d, want 403", r.status)
	}
}

// TestIncidentMetricsPage checks the metrics table, the chart and the CSV
// link.
func TestIncidentMetricsPage(t *testing.T) {
	e := newEnv(t)
	handler := focal.NewContextWithPrincipal(context.Background(), e.users["handler"].Principal())
	fast := e.addIncident(t, &focal.Incident{Title: "Fast", OrgID: e.orgA.ID, Classifications: phishing(), Severity: focal.SeverityCritical})
	for _, s := range []focal.Status{focal.StatusTriaged, focal.StatusInProgress, focal.StatusResolved} {
		if _, err := e.st.UpdateIncident(handler, fast.ID, store.IncidentChange{Status: &s}); err != nil {
			t.Fatal(err)
		}
	}
	e.addIncident(t, &focal.Incident{Title: "Late", OrgID: e.orgB.ID, Severity: focal.SeverityCritical, Milestones: focal.Milestones{Reported: time.Now().Add(-72 * time.Hour)}})

	r := e.get(t, "analyst", "/incidents/metrics")
	today := time.Now().UTC().Format(time.DateOnly)
	checkBody(t, "GET /incidents/metrics", r.body, []string{
		"<th scope=\"row\">All incidents</th>", `<td class="num">2</td><td class="num">1</td><td class="num overdue">1</td>`,
		`id="sla-chart"`, `class="bar-bad"`, `value="` + today + `"`,
		`href="/api/v1/metrics/incidents?format=csv&amp;since=`,
	}, []string{" style="})
	r = e.get(t, "analyst", "/incidents/metrics?by=org&since=2000-01-01&until="+today)
	checkBody(t, "GET /incidents/metrics?by=org", r.body, []string{
		`<th scope="row">Alpha Telecom</th>`, `<th scope="row">Beta Bank</th>`, `<option value="org" selected>`,
		`<text x="0" y="`, `>Alpha Telecom</text>`, `by=org`, `until=` + time.Now().UTC().AddDate(0, 0, 1).Format(time.DateOnly),
	}, nil)
	r = e.get(t, "constituent", "/incidents/metrics?by=org")
	checkBody(t, "GET /incidents/metrics?by=org as constituent", r.body, []string{"Alpha Telecom"}, []string{"Beta Bank"})
	r = e.get(t, "analyst", "/incidents/metrics?since=2030-01-01&until=2030-01-31")
	checkBody(t, "an empty period", r.body, []string{`id="no-metrics"`}, []string{`id="sla-chart"`})
	for _, bad := range []string{"since=yesterday", "until=2026-13-01", "by=colour", "since=2026-02-01&until=2026-01-01"} {
		if r := e.get(t, "analyst", "/incidents/metrics?"+bad); r.status != http.StatusBadRequest {
			t.Errorf("GET /incidents/metrics?%s = %d, want 400", bad, r.status)
		}
	}
}

// TestDashboardIncidents checks the dashboard's counts of open incidents.
func TestDashboardIncidents(t *testing.T) {
	e := newEnv(t)
	e.addIncident(t, &focal.Incident{Title: "A new", OrgID: e.orgA.ID, Severity: focal.SeverityCritical, Milestones: focal.Milestones{Reported: time.Now().Add(-24 * time.Hour)}})
	e.addIncident(t, &focal.Incident{Title: "B new", OrgID: e.orgB.ID})
	for _, tt := range []struct {
		as     string
		has    []string
		hasNot []string
	}{
		{"handler", []string{`<a href="/incidents?status=new">new</a> <strong>2</strong>`, `<strong id="overdue-count">1</strong>`, `href="/incidents?view=queue"`}, nil},
		{"constituent", []string{`<a href="/incidents?status=new">new</a> <strong>1</strong>`}, nil},
		{"constituent-b", []string{`<a href="/incidents?status=new">new</a> <strong>1</strong>`, `<strong id="overdue-count">0</strong>`}, nil},
		{"assessor", nil, []string{`id="panel-incidents"`}},
	} {
		t.Run(tt.as, func(t *testing.T) {
			r := e.get(t, tt.as, "/")
			checkBody(t, "GET / as "+tt.as, r.body, tt.has, tt.hasNot)
		})
	}
}
