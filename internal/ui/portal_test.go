package ui_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"focal/internal/focal"
	"focal/internal/notify"
	"focal/internal/store"
)

// TestEventFeedbackPage gives feedback from an event's page: a
// constituent of the event's organisation marks it, staff see what every
// organisation said, others are refused.
func TestEventFeedbackPage(t *testing.T) {
	w := newWWEnv(t)
	onlyA := w.events["192.0.2.10"]
	shared := w.events["192.0.2.200"] // A's and B's
	pageA, pageShared := fmt.Sprintf("/events/%d", onlyA), fmt.Sprintf("/events/%d", shared)

	r := w.get(t, "constituent", pageA)
	checkPage(t, "GET "+pageA+" as constituent", r, "Event")
	for _, want := range []string{`id="feedback-form"`, `action="/events/` + fmt.Sprint(onlyA) + `/feedback"`, `id="feedback-handled"`, `id="feedback-false-positive"`} {
		if !strings.Contains(r.body, want) {
			t.Errorf("a constituent's event page lacks %q", want)
		}
	}
	for _, role := range []string{"coordinator", "handler", "analyst"} {
		if r := w.get(t, role, pageA); strings.Contains(r.body, `id="feedback-form"`) || !strings.Contains(r.body, `id="feedback-none"`) {
			t.Errorf("GET %s as %s: want no form and the empty feedback list", pageA, role)
		}
	}

	posts := []struct {
		name   string
		as     string
		path   string
		form   url.Values
		status int
	}{
		{"own-handled", "constituent", pageA + "/feedback", url.Values{"state": {"handled"}, "note": {"patched <b>it</b>"}}, http.StatusSeeOther},
		{"shared-a", "constituent", pageShared + "/feedback", url.Values{"state": {"handled"}}, http.StatusSeeOther},
		{"shared-b", "constituent-b", pageShared + "/feedback", url.Values{"state": {"false-positive"}, "note": {"our sinkhole"}}, http.StatusSeeOther},
		{"other-organisation", "constituent-b", pageA + "/feedback", url.Values{"state": {"handled"}}, http.StatusNotFound},
		{"staff", "handler", pageA + "/feedback", url.Values{"state": {"handled"}}, http.StatusForbidden},
		{"coordinator", "coordinator", pageA + "/feedback", url.Values{"state": {"handled"}}, http.StatusForbidden},
		{"peer", "peer", pageA + "/feedback", url.Values{"state": {"handled"}}, http.StatusForbidden},
		{"bad-state", "constituent", pageA + "/feedback", url.Values{"state": {"done"}}, http.StatusBadRequest},
		{"long-note", "constituent", pageA + "/feedback", url.Values{"state": {"handled"}, "note": {strings.Repeat("x", focal.MaxFeedbackNote+1)}}, http.StatusBadRequest},
	}
	for _, tt := range posts {
		t.Run(tt.name, func(t *testing.T) {
			r := w.post(t, tt.as, tt.path, tt.form)
			if r.status != tt.status {
				t.Fatalf("POST %s as %s = %d, want %d\n%s", tt.path, tt.as, r.status, tt.status, r.body)
			}
			if tt.status == http.StatusSeeOther && !strings.HasSuffix(r.header.Get("Location"), "?notice=saved#feedback") {
				t.Errorf("POST %s redirects to %q, want the event's page with a notice", tt.path, r.header.Get("Location"))
			}
		})
	}
	// A refused form comes back with the message and the typed note.
	r = w.post(t, "constituent", pageA+"/feedback", url.Values{"state": {"handled"}, "note": {strings.Repeat("y", focal.MaxFeedbackNote+1)}})
	if !strings.Contains(r.body, `id="e-note"`) || !strings.Contains(r.body, strings.Repeat("y", focal.MaxFeedbackNote+1)) {
		t.Errorf("a refused feedback form is not shown again with its note and message")
	}

	r = w.get(t, "constituent", pageA)
	if !strings.Contains(r.body, `id="feedback-current"`) || !strings.Contains(r.body, "Handled") ||
		!strings.Contains(r.body, "patched &lt;b&gt;it&lt;/b&gt;") {
		t.Errorf("the constituent's event page does not show its feedback, escaped:\n%s", r.body)
	}
	// Staff see both organisations' feedback; a constituent only its own.
	r = w.get(t, "handler", pageShared)
	for _, want := range []string{`id="feedback-received"`, "Alpha Telecom", "Beta Bank", "False positive", "our sinkhole"} {
		if !strings.Contains(r.body, want) {
			t.Errorf("the handler's event page lacks %q", want)
		}
	}
	if r := w.get(t, "constituent", pageShared); strings.Contains(r.body, "our sinkhole") || strings.Contains(r.body, `id="feedback-received"`) {
		t.Errorf("a constituent sees another organisation's feedback")
	}
	recs, err := w.st.AuditRecords(w.sys, store.AuditFilter{Action: "event.feedback"})
	if err != nil || len(recs) != 3 {
		t.Errorf("audit records of feedback = %d, %v; want 3", len(recs), err)
	}
}

// TestNotificationPages lists the notifications sent: coordinators and
// handlers see every organisation's, a constituent its own; each links to
// the events it carried.
func TestNotificationPages(t *testing.T) {
	w := newWWEnv(t)
	queue := func(org *focal.Organisation, ref string, ids ...int64) *store.Notification {
		t.Helper()
		n := &store.Notification{Reference: ref, OrgID: org.ID, Channel: notify.ChannelDigest, From: "cert@cert.example",
			Recipients: []string{"abuse@example.net"}, Subject: "Events for " + org.Name, TLP: focal.TLPAmber, Part: 1, Parts: 1,
			EventIDs: ids, Raw: []byte("Subject: secret raw message\r\n")}
		if err := w.st.QueueNotifications(w.sys, org.ID, time.Time{}, []*store.Notification{n}); err != nil {
			t.Fatal(err)
		}
		return n
	}
	nA := queue(w.orgA, "N-ALPHA-1", w.events["192.0.2.10"], w.events["192.0.2.200"])
	nB := queue(w.orgB, "N-BETA-1", w.events["192.0.2.200"])
	if err := w.st.MarkSent(w.sys, nA.ID, time.Now()); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		as        string
		path      string
		want, not []string
	}{
		{"coordinator", "/notifications", []string{"N-ALPHA-1", "N-BETA-1", `id="org"`}, nil},
		{"handler", "/notifications", []string{"N-ALPHA-1", "N-BETA-1"}, nil},
		{"handler", fmt.Sprintf("/notifications?org=%d", w.orgB.ID), []string{"N-BETA-1"}, []string{"N-ALPHA-1"}},
		{"constituent", "/notifications", []string{"N-ALPHA-1", fmt.Sprintf(`href="/notifications/%d"`, nA.ID)}, []string{"N-BETA-1", `id="org"`}},
		{"constituent", fmt.Sprintf("/notifications?org=%d", w.orgB.ID), []string{"N-ALPHA-1"}, []string{"N-BETA-1"}},
		{"constituent-b", "/notifications", []string{"N-BETA-1"}, []string{"N-ALPHA-1"}},
		{"constituent", fmt.Sprintf("/notifications/%d", nA.ID), []string{fmt.Sprintf(`href="/events/%d"`, w.events["192.0.2.10"]), "carried 2 events"}, nil},
		{"handler", fmt.Sprintf("/notifications/%d", nB.ID), []string{fmt.Sprintf(`href="/events/%d"`, w.events["192.0.2.200"]), "carried 1 event."}, nil},
	}
	for i, tt := range tests {
		t.Run(fmt.Sprintf("%s-%d", tt.as, i), func(t *testing.T) {
			r := w.get(t, tt.as, tt.path)
			checkPage(t, "GET "+tt.path+" as "+tt.as, r, "Notification")
			if strings.Contains(r.body, "secret raw message") || strings.Contains(r.body, "abuse@example.net") {
				t.Errorf("GET %s shows the raw message or its recipients", tt.path)
			}
			for _, s := range tt.want {
				if !strings.Contains(r.body, s) {
					t.Errorf("GET %s as %s lacks %q", tt.path, tt.as, s)
				}
			}
			for _, s := range tt.not {
				if strings.Contains(r.body, s) {
					t.Errorf("GET %s as %s shows %q", tt.path, tt.as, s)
				}
			}
		})
	}
	refused := []struct {
		as, path string
		status   int
	}{
		{"analyst", "/notifications", http.StatusForbidden},
		{"assessor", "/notifications", http.StatusForbidden},
		{"peer", "/notifications", http.StatusForbidden},
		{"", "/notifications", http.StatusSeeOther},
		{"constituent-b", fmt.Sprintf("/notifications/%d", nA.ID), http.StatusNotFound},
		{"analyst", fmt.Sprintf("/notifications/%d", nA.ID), http.StatusForbidden},
		{"handler", "/notifications/999999", http.StatusNotFound},
		{"handler", "/notifications?org=x", http.StatusBadRequest},
	}
	for _, tt := range refused {
		if r := w.get(t, tt.as, tt.path); r.status != tt.status {
			t.Errorf("GET %s as %q = %d, want %d", tt.path, tt.as, r.status, tt.status)
		}
	}
}
