package ui_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"focal/internal/focal"
	"focal/internal/httpauth"
	"focal/internal/store"
)

// upload is a file part of a multipart form.
type upload struct {
	field, name, ctype string
	data               []byte
}

// postMultipart submits fields and files as multipart/form-data to path
// as the account label ("" for anonymous).
func (e *env) postMultipart(tb testing.TB, as, path string, fields url.Values, files ...upload) response {
	tb.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, vs := range fields {
		for _, v := range vs {
			if err := mw.WriteField(k, v); err != nil {
				tb.Fatal(err)
			}
		}
	}
	for _, f := range files {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", fmt.Sprintf(`form-data; name=%q; filename=%q`, f.field, f.name))
		if f.ctype != "" {
			h.Set("Content-Type", f.ctype)
		}
		w, err := mw.CreatePart(h)
		if err != nil {
			tb.Fatal(err)
		}
		if _, err := w.Write(f.data); err != nil {
			tb.Fatal(err)
		}
	}
	if err := mw.Close(); err != nil {
		tb.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, e.srv.URL+path, &buf)
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	if as != "" {
		req.AddCookie(&http.Cookie{Name: httpauth.CookieName, Value: e.sessions[as]})
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

// allAccess is the system with access to restricted categories too.
func allAccess() context.Context {
	return focal.NewContextWithPrincipal(context.Background(), focal.Principal{UserID: -1, Name: "system", Role: focal.RoleCoordinator, RestrictedAccess: true})
}

// attachments lists incident id's attachments as the system.
func (e *env) attachments(tb testing.TB, id int64) []store.Attachment {
	tb.Helper()
	list, err := e.st.Attachments(allAccess(), id)
	if err != nil {
		tb.Fatal(err)
	}
	return list
}

// exe is the start of a Windows executable.
var exe = append([]byte("MZ\x90\x00\x03\x00\x00\x00"), bytes.Repeat([]byte{0}, 100)...)

// TestAttachmentUpload uploads files to an incident: a good one is stored
// and listed; a file too large or whose declared type contradicts its
// bytes is refused with the reason in words and nothing is stored.
func TestAttachmentUpload(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name       string
		file       upload
		tlp        string
		wantStatus int
		wantMsg    string
	}{
		{"ok", upload{"file", "headers 1.txt", "text/plain", []byte("Received: from evil.example\n")}, "GREEN", http.StatusSeeOther, ""},
		{"too-large", upload{"file", "big.bin", "application/octet-stream", bytes.Repeat([]byte("a"), 25<<20+10)}, "", http.StatusRequestEntityTooLarge, "is too large: at most 25 MiB"},
		{"type-mismatch", upload{"file", "cat.png", "image/png", exe}, "", http.StatusBadRequest, "does not match its type (declared image/png, but the file is an executable)"},
		{"no-file", upload{"file", "", "", nil}, "", http.StatusBadRequest, "choose a file to attach"},
		{"bad-tlp", upload{"file", "a.txt", "text/plain", []byte("x")}, "PURPLE", http.StatusBadRequest, "choose a TLP label from the list"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			i := e.addIncident(t, &focal.Incident{Title: "Upload " + tt.name, OrgID: e.orgA.ID, Classifications: phishing()})
			r := e.postMultipart(t, "handler", incidentPath(i)+"/attachments", url.Values{"tlp": {tt.tlp}}, tt.file)
			if r.status != tt.wantStatus {
				t.Fatalf("POST attachment %s = %d, want %d\n%s", tt.name, r.status, tt.wantStatus, r.body)
			}
			list := e.attachments(t, i.ID)
			if tt.wantStatus != http.StatusSeeOther {
				if !strings.Contains(r.body, tt.wantMsg) {
					t.Errorf("POST attachment %s page lacks %q\n%s", tt.name, tt.wantMsg, r.body)
				}
				if len(list) != 0 {
					t.Errorf("attachments after %s = %d, want 0", tt.name, len(list))
				}
				return
			}
			if len(list) != 1 {
				t.Fatalf("attachments = %d, want 1", len(list))
			}
			sum := sha256.Sum256(tt.file.data)
			a := list[0]
			got := fmt.Sprintf("%s|%s|%d|%s|%s", a.Name, a.ContentType, a.Size, a.SHA256, a.TLP)
			want := fmt.Sprintf("%s|text/plain|%d|%s|TLP:GREEN", tt.file.name, len(tt.file.data), hex.EncodeToString(sum[:]))
			if got != want {
				t.Errorf("attachment = %s, want %s", got, want)
			}
			page := e.get(t, "handler", incidentPath(i))
			checkBody(t, "incident page", page.body, []string{
				fmt.Sprintf(`href="/incidents/%d/attachments/%d" download>headers 1.txt</a>`, i.ID, a.ID), a.SHA256, "28 bytes",
			}, nil)
		})
	}
}

// TestAttachmentDownload checks the download's headers and bytes, and who
// may download: another organisation's constituent may not.
func TestAttachmentDownload(t *testing.T) {
	e := newEnv(t)
	i := e.addIncident(t, &focal.Incident{Title: "Download", OrgID: e.orgA.ID, TLP: focal.TLPAmber, Classifications: phishing()})
	data := []byte("<html><script>alert(1)</script></html>")
	if r := e.postMultipart(t, "handler", incidentPath(i)+"/attachments", nil, upload{"file", "page é;1.html", "text/html", data}); r.status != http.StatusSeeOther {
		t.Fatalf("POST attachment = %d, want 303\n%s", r.status, r.body)
	}
	a := e.attachments(t, i.ID)[0]
	path := fmt.Sprintf("%s/attachments/%d", incidentPath(i), a.ID)
	tests := []struct {
		as   string
		want int
	}{
		{"handler", http.StatusOK},
		{"constituent", http.StatusOK},
		{"analyst", http.StatusOK},
		{"constituent-b", http.StatusForbidden},
		{"assessor", http.StatusForbidden},
		{"", http.StatusSeeOther},
	}
	for _, tt := range tests {
		t.Run("as-"+tt.as, func(t *testing.T) {
			r := e.get(t, tt.as, path)
			if r.status != tt.want {
				t.Fatalf("GET %s as %q = %d, want %d", path, tt.as, r.status, tt.want)
			}
			if tt.want != http.StatusOK {
				return
			}
			for name, want := range map[string]string{
				"Content-Type":           "application/octet-stream",
				"Content-Disposition":    "attachment; filename*=UTF-8''page%20%C3%A9%3B1.html",
				"X-Content-Type-Options": "nosniff",
			} {
				if got := r.header.Get(name); got != want {
					t.Errorf("GET %s: %s = %q, want %q", path, name, got, want)
				}
			}
			if r.body != string(data) {
				t.Errorf("GET %s body = %q, want %q", path, r.body, data)
			}
		})
	}
	if r := e.get(t, "handler", fmt.Sprintf("%s/attachments/%d", incidentPath(i), a.ID+100)); r.status != http.StatusNotFound {
		t.Errorf("GET unknown attachment = %d, want 404", r.status)
	}
}

// TestAttachmentRestricted checks that a restricted incident's files are
// listed, by hash only, on the content page and not on the main page.
func TestAttachmentRestricted(t *testing.T) {
	e := newEnv(t)
	granted := &focal.User{Name: "granted", Role: focal.RoleHandler, RestrictedAccess: true}
	if err := e.st.CreateUser(e.sys, granted, ""); err != nil {
		t.Fatal(err)
	}
	e.sessions["granted"] = e.newSession(t, granted)
	i := &focal.Incident{Title: "Restricted", Classifications: []focal.Classification{{Class: "abusive-content", Type: "violence"}}}
	if err := e.st.CreateIncident(allAccess(), i, nil); err != nil {
		t.Fatal(err)
	}
	if r := e.postMultipart(t, "granted", incidentPath(i)+"/attachments", nil, upload{"file", "evidence.txt", "text/plain", []byte("evidence")}); r.status != http.StatusSeeOther {
		t.Fatalf("POST attachment = %d, want 303\n%s", r.status, r.body)
	}
	a := e.attachments(t, i.ID)[0]
	link := fmt.Sprintf("/attachments/%d", a.ID)
	main := e.get(t, "granted", incidentPath(i))
	// The journal records the file (name and hash); the list is not on
	// the main page.
	checkBody(t, "restricted incident page", main.body, []string{"Listed, by hash only, with the description."}, []string{`id="attachment-list"`, link})
	content := e.get(t, "granted", incidentPath(i)+"/content")
	checkBody(t, "restricted content page", content.body, []string{a.SHA256, "evidence.txt"}, []string{link})
	if r := e.get(t, "granted", incidentPath(i)+link); r.status != http.StatusForbidden {
		t.Errorf("GET restricted attachment = %d, want 403", r.status)
	}
}

// TestTasks adds a task, marks it done and reopens it.
func TestTasks(t *testing.T) {
	e := newEnv(t)
	i := e.addIncident(t, &focal.Incident{Title: "Tasks", OrgID: e.orgA.ID, Classifications: phishing()})
	path := incidentPath(i) + "/tasks"
	r := e.post(t, "handler", path, url.Values{"title": {"Call the ISP"}, "due": {"2030-01-31T17:00"}, "owner": {"me"}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("POST %s = %d, want 303\n%s", path, r.status, r.body)
	}
	tasks, err := e.st.Tasks(e.sys, i.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(tasks) != 1 {
		t.Fatalf("tasks = %d, want 1", len(tasks))
	}
	tk := tasks[0]
	if got, want := fmt.Sprintf("%s|%d|%s", tk.Title, tk.OwnerID, tk.Due.UTC().Format("2006-01-02 15:04")), fmt.Sprintf("Call the ISP|%d|2030-01-31 17:00", e.users["handler"].ID); got != want {
		t.Errorf("task = %s, want %s", got, want)
	}
	page := e.get(t, "handler", incidentPath(i))
	checkBody(t, "incident page", page.body, []string{"Call the ISP", "2030-01-31 17:00 UTC", fmt.Sprintf(`id="task-done-%d"`, tk.ID)}, nil)

	steps := []struct {
		done     string
		wantDone bool
	}{{"1", true}, {"0", false}}
	for _, s := range steps {
		t.Run("done-"+s.done, func(t *testing.T) {
			r := e.post(t, "handler", fmt.Sprintf("%s/%d", path, tk.ID), url.Values{"done": {s.done}})
			if r.status != http.StatusSeeOther {
				t.Fatalf("POST task done=%s = %d, want 303\n%s", s.done, r.status, r.body)
			}
			tasks, err := e.st.Tasks(e.sys, i.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got := !tasks[0].Done.IsZero(); got != s.wantDone {
				t.Errorf("task done after done=%s = %v, want %v", s.done, got, s.wantDone)
			}
		})
	}

	errs := []struct {
		name string
		form url.Values
		want string
	}{
		{"no-title", url.Values{"title": {""}, "owner": {"me"}}, "say what is to be done"},
		{"bad-due", url.Values{"title": {"x"}, "due": {"tomorrow"}, "owner": {"me"}}, "write the date and time as 2026-01-31T17:00 (UTC)"},
		{"bad-owner", url.Values{"title": {"x"}, "owner": {fmt.Sprint(e.users["analyst"].ID)}}, "choose someone from the list"},
	}
	for _, tt := range errs {
		t.Run(tt.name, func(t *testing.T) {
			r := e.post(t, "handler", path, tt.form)
			if r.status != http.StatusBadRequest || !strings.Contains(r.body, tt.want) {
				t.Errorf("POST %s %s = %d, want 400 with %q\n%s", path, tt.name, r.status, tt.want, r.body)
			}
		})
	}
	if r := e.post(t, "analyst", path, url.Values{"title": {"x"}}); r.status != http.StatusForbidden {
		t.Errorf("POST %s as analyst = %d, want 403", path, r.status)
	}
}

// TestIncidentMerge merges an incident into another by reference, and
// shows an unknown reference next to the field.
func TestIncidentMerge(t *testing.T) {
	e := newEnv(t)
	dup := e.addIncident(t, &focal.Incident{Title: "Duplicate", OrgID: e.orgA.ID, Classifications: phishing()})
	surv := e.addIncident(t, &focal.Incident{Title: "Survivor", OrgID: e.orgA.ID, Classifications: phishing()})
	tests := []struct {
		name       string
		into       string
		wantStatus int
		wantMsg    string
	}{
		{"unknown", "FOC-1999-000001", http.StatusBadRequest, "no incident FOC-1999-000001"},
		{"empty", "", http.StatusBadRequest, "write the reference of the incident"},
		{"itself", dup.Ref, http.StatusBadRequest, "an incident cannot be merged into itself"},
		{"ok", strings.ToLower(surv.Ref), http.StatusSeeOther, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.post(t, "handler", incidentPath(dup)+"/merge", url.Values{"into": {tt.into}})
			if r.status != tt.wantStatus {
				t.Fatalf("POST merge into %q = %d, want %d\n%s", tt.into, r.status, tt.wantStatus, r.body)
			}
			if tt.wantStatus != http.StatusSeeOther {
				if !strings.Contains(r.body, tt.wantMsg) {
					t.Errorf("POST merge into %q lacks %q\n%s", tt.into, tt.wantMsg, r.body)
				}
				return
			}
			if loc, want := r.header.Get("Location"), incidentPath(surv)+"?notice=merged"; loc != want {
				t.Errorf("POST merge Location = %q, want %q", loc, want)
			}
			if d := e.load(t, dup.ID); d.Status != focal.StatusMerged || d.MergedInto != surv.ID {
				t.Errorf("duplicate after merge = %s into %d, want merged into %d", d.Status, d.MergedInto, surv.ID)
			}
		})
	}
}

// TestQuarantinePage lists quarantined intake for handlers and refuses
// analysts and constituents.
func TestQuarantinePage(t *testing.T) {
	e := newEnv(t)
	q := &store.QuarantineItem{Source: "smtp", Sender: "spammer@bad.example", Reason: "malformed MIME", Size: 2048, SHA256: strings.Repeat("ab", 32), Path: "quarantine/x"}
	if err := e.st.Quarantine(e.sys, q); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		as   string
		want int
	}{{"handler", http.StatusOK}, {"coordinator", http.StatusOK}, {"analyst", http.StatusForbidden}, {"constituent", http.StatusForbidden}}
	for _, tt := range tests {
		t.Run(tt.as, func(t *testing.T) {
			r := e.get(t, tt.as, "/quarantine")
			if r.status != tt.want {
				t.Fatalf("GET /quarantine as %s = %d, want %d", tt.as, r.status, tt.want)
			}
			if tt.want == http.StatusOK {
				checkBody(t, "quarantine page", r.body, []string{"smtp", "spammer@bad.example", "malformed MIME", "2.0 KiB", q.SHA256}, nil)
			}
		})
	}
}

// TestSLAPage shows the targets in force, edits them as a coordinator and
// refuses a handler's edit.
func TestSLAPage(t *testing.T) {
	e := newEnv(t)
	r := e.get(t, "handler", "/sla")
	if r.status != http.StatusOK {
		t.Fatalf("GET /sla as handler = %d, want 200", r.status)
	}
	if n := strings.Count(r.body, `<span class="badge">built-in default</span>`); n != len(focal.DefaultSLATargets) {
		t.Errorf("GET /sla marks %d defaults, want %d", n, len(focal.DefaultSLATargets))
	}
	if strings.Contains(r.body, `id="sla-form"`) {
		t.Errorf("GET /sla as handler shows the form")
	}
	form := url.Values{"rows": {"0"}, "add": {"1"}}
	r = e.post(t, "coordinator", "/sla", form)
	if r.status != http.StatusOK || !strings.Contains(r.body, `name="severity.0"`) {
		t.Fatalf("POST /sla add = %d, want 200 with an empty row\n%s", r.status, r.body)
	}
	form = url.Values{"rows": {"2"}, "save": {"1"},
		"org.0": {"0"}, "severity.0": {"high"}, "ack.0": {"15"}, "triage.0": {"60"}, "resolve.0": {"1440"}, "bh.0": {"1"},
		"org.1": {fmt.Sprint(e.orgA.ID)}, "severity.1": {"low"}, "ack.1": {"1"}, "remove.1": {"1"}}
	r = e.post(t, "coordinator", "/sla", form)
	if r.status != http.StatusSeeOther {
		t.Fatalf("POST /sla save = %d, want 303\n%s", r.status, r.body)
	}
	got, err := e.st.SLATargets(e.sys)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || fmt.Sprintf("%d|%s|%s|%s|%s|%v", got[0].OrgID, got[0].Severity, got[0].Acknowledge, got[0].Triage, got[0].Resolve, got[0].BusinessHours) != "0|high|15m0s|1h0m0s|24h0m0s|true" {
		t.Errorf("SLA targets = %+v, want high 15m/1h/24h in working hours for everyone", got)
	}
	r = e.get(t, "coordinator", "/sla")
	if n := strings.Count(r.body, `<span class="badge">built-in default</span>`); n != len(focal.DefaultSLATargets)-1 {
		t.Errorf("GET /sla after saving marks %d defaults, want %d", n, len(focal.DefaultSLATargets)-1)
	}
	bad := url.Values{"rows": {"1"}, "org.0": {"0"}, "severity.0": {"high"}, "ack.0": {"soon"}}
	if r := e.post(t, "coordinator", "/sla", bad); r.status != http.StatusBadRequest || !strings.Contains(r.body, "row 1: write whole minutes") {
		t.Errorf("POST /sla with a bad duration = %d, want 400 with the reason\n%s", r.status, r.body)
	}
	if r := e.post(t, "handler", "/sla", form); r.status != http.StatusForbidden {
		t.Errorf("POST /sla as handler = %d, want 403", r.status)
	}
}

// The incident page suggests the organisations that own its observables,
// and one click makes a suggestion the affected organisation.
func TestIncidentSuggestsOrganisation(t *testing.T) {
	e := newEnv(t)
	i := e.addIncident(t, &focal.Incident{Title: "Scanner"}, focal.Observable{Kind: "ipv4", Value: "192.0.2.10"})
	path := "/incidents/" + strconv.FormatInt(i.ID, 10)
	res := e.get(t, "handler", path)
	if !strings.Contains(res.body, "Suggested by the constituency lookup") || !strings.Contains(res.body, "Alpha Telecom") || !strings.Contains(res.body, "192[.]0[.]2[.]10") {
		t.Fatalf("incident page lacks the suggestion:\n%s", res.body)
	}
	_, list, _ := strings.Cut(res.body, `<ul class="suggested"`)
	list, _, _ = strings.Cut(list, "</ul>")
	if strings.Contains(list, "Beta Bank") || !strings.Contains(list, "Alpha Telecom") {
		t.Errorf("suggestions = %s, want Alpha Telecom only (192.0.2.10 is outside Beta Bank's network)", list)
	}
	if res := e.get(t, "analyst", path); strings.Contains(res.body, "Suggested by the constituency lookup") {
		t.Errorf("an analyst, who cannot change the incident, sees suggestions")
	}
	res = e.post(t, "handler", path, url.Values{"org": {strconv.FormatInt(e.orgA.ID, 10)}})
	if res.status != http.StatusSeeOther {
		t.Fatalf("set organisation = %d, want 303: %s", res.status, res.body)
	}
	got, err := e.st.Incident(e.sys, i.ID)
	if err != nil || got.OrgID != e.orgA.ID {
		t.Errorf("affected organisation = %+v, %v; want %d", got, err, e.orgA.ID)
	}
	if res := e.get(t, "handler", path); !strings.Contains(res.body, "(the affected organisation)") {
		t.Errorf("the chosen organisation is not marked as current")
	}
}
