package ui_test

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
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

// TestPortalContactsAndPolicy has a constituent keep its organisation's
// contacts and notification policy from the portal: invalid entries come
// back with the reason next to the field, another organisation's pages
// are not found, and the network fields are not on the form.
func TestPortalContactsAndPolicy(t *testing.T) {
	e := newEnv(t)
	a, b := e.orgA.ID, e.orgB.ID
	page := fmt.Sprintf("/organisations/%d", a)
	r := e.get(t, "constituent", page)
	for _, want := range []string{`id="edit-contacts"`, `id="edit-policy"`, `id="change-form"`} {
		if !strings.Contains(r.body, want) {
			t.Errorf("the constituent's organisation page lacks %s", want)
		}
	}
	if strings.Contains(r.body, `/organisations/`+fmt.Sprint(a)+`/edit"`) {
		t.Errorf("the constituent's organisation page offers the full edit form")
	}
	for _, p := range []string{"/contacts", "/notify-policy"} {
		if r := e.get(t, "constituent-b", page+p); r.status != http.StatusNotFound {
			t.Errorf("GET %s as another organisation's constituent = %d, want 404", page+p, r.status)
		}
		if r := e.get(t, "handler", page+p); r.status != http.StatusForbidden {
			t.Errorf("GET %s as handler = %d, want 403", page+p, r.status)
		}
	}
	r = e.get(t, "constituent", page+"/contacts")
	checkPage(t, "GET contacts form", r, "Contacts of Alpha Telecom")
	if strings.Contains(r.body, `name="networks"`) || !strings.Contains(r.body, `name="contact.0.email"`) {
		t.Errorf("the contacts form shows network fields or lacks the contact rows")
	}
	bad := url.Values{"contacts": {"1"}, "contact.0.email": {"no-at-sign"}, "contact.0.role": {"abuse"}, "notify_schedule": {"daily"}}
	r = e.post(t, "constituent", page+"/contacts", bad)
	if r.status != http.StatusBadRequest || !strings.Contains(r.body, `id="e-contact.0.email"`) || !strings.Contains(r.body, "no-at-sign") {
		t.Errorf("POST bad contact = %d; want 400 with the error at contact 1 and the typed value", r.status)
	}
	good := url.Values{"contacts": {"2"}, "contact.0.email": {"cert@alpha.example"}, "contact.0.role": {"abuse"}, "contact.0.language": {"fr"},
		"contact.1.email": {""}, "contact.1.role": {"abuse"}, "notify_schedule": {"hourly"}}
	if r = e.post(t, "constituent", page+"/contacts", good); r.status != http.StatusSeeOther {
		t.Fatalf("POST contacts = %d\n%s", r.status, r.body)
	}
	o, err := e.st.Organisation(e.sys, a)
	if err != nil {
		t.Fatal(err)
	}
	if len(o.Contacts) != 1 || o.Contacts[0].Email != "cert@alpha.example" || o.Notify.Schedule != "hourly" || len(o.Networks) != 1 {
		t.Errorf("after the contacts form the organisation is %+v", o)
	}
	if r := e.post(t, "constituent-b", page+"/contacts", good); r.status != http.StatusNotFound {
		t.Errorf("POST contacts of another organisation = %d, want 404", r.status)
	}

	r = e.get(t, "constituent", page+"/notify-policy")
	checkPage(t, "GET policy form", r, "Notification policy of Alpha Telecom")
	if !strings.Contains(r.body, `id="policy-default"`) {
		t.Errorf("the policy form does not say the policy is the default")
	}
	hook := url.Values{"channel": {"webhook"}, "schedule": {"hourly"}, "format": {"text"}, "language": {"en"}, "max_tlp": {"AMBER"}, "webhook_url": {"http://hooks.example/x"}, "webhook_secret": {"0123456789abcdef"}}
	r = e.post(t, "constituent", page+"/notify-policy", hook)
	if r.status != http.StatusBadRequest || !strings.Contains(r.body, `id="e-webhook_url"`) {
		t.Errorf("POST a policy with an http webhook = %d; want 400 with the error at the webhook URL\n%s", r.status, r.body)
	}
	if strings.Contains(r.body, "0123456789abcdef") {
		t.Errorf("a refused policy form shows the webhook secret back")
	}
	digest := url.Values{"channel": {"email-digest"}, "schedule": {"daily"}, "format": {"xarf"}, "language": {"fr"}, "max_tlp": {"GREEN"},
		"min_confidence": {"50"}, "classes": {"malicious-code\nvulnerable"}, "recipients": {"soc@alpha.example"}}
	if r = e.post(t, "constituent", page+"/notify-policy", digest); r.status != http.StatusSeeOther {
		t.Fatalf("POST policy = %d\n%s", r.status, r.body)
	}
	pol, err := e.st.NotifyPolicy(e.sys, a)
	if err != nil {
		t.Fatal(err)
	}
	if pol.Format != "xarf" || pol.MaxTLP != focal.TLPGreen || pol.MinConfidence != 50 || len(pol.Classes) != 2 || pol.Recipients[0] != "soc@alpha.example" {
		t.Errorf("stored policy = %+v", pol)
	}
	if _, err := e.st.NotifyPolicy(e.sys, b); focal.ErrorCode(err) != focal.ENOTFOUND {
		t.Errorf("B's policy changed: %v", err)
	}
}

// TestPortalChangeRequests files a network change request from the
// portal, has it refused when malformed, and approved by a coordinator
// on the change requests page: the organisation then holds the network
// and the constituency lookup is rebuilt.
func TestPortalChangeRequests(t *testing.T) {
	e := newEnv(t)
	a := e.orgA.ID
	page := fmt.Sprintf("/organisations/%d", a)
	r := e.post(t, "constituent", page+"/change-requests", url.Values{"add": {"203.0.113.128/25\nnot_a_domain!"}, "note": {"from our upstream"}})
	if r.status != http.StatusBadRequest || !strings.Contains(r.body, `id="change-error"`) || !strings.Contains(r.body, "not_a_domain!") {
		t.Errorf("POST a malformed change request = %d; want 400 with the reason and the typed text\n%s", r.status, r.body)
	}
	if r := e.post(t, "constituent-b", page+"/change-requests", url.Values{"add": {"203.0.113.0/25"}}); r.status != http.StatusNotFound {
		t.Errorf("POST a change request for another organisation = %d, want 404", r.status)
	}
	r = e.post(t, "constituent", page+"/change-requests", url.Values{"add": {"203.0.113.128/25\nAS64511"}, "remove": {"alpha.example"}, "note": {"from our upstream"}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("POST change request = %d\n%s", r.status, r.body)
	}
	r = e.get(t, "constituent", page)
	if !strings.Contains(r.body, `<code>203.0.113.128/25</code>`) || !strings.Contains(r.body, "state-pending") {
		t.Errorf("the organisation page does not list the pending request")
	}
	list, err := e.st.ChangeRequests(e.sys, store.ChangeFilter{State: focal.ChangePending})
	if err != nil || len(list) != 1 {
		t.Fatalf("pending requests = %v, %v", list, err)
	}
	id := list[0].ID
	r = e.get(t, "coordinator", "/change-requests")
	checkPage(t, "GET /change-requests", r, "Change requests")
	if !strings.Contains(r.body, fmt.Sprintf(`id="approve-%d"`, id)) || !strings.Contains(r.body, "from our upstream") {
		t.Errorf("the coordinator's change requests page lacks the request or its approve button")
	}
	if r := e.get(t, "handler", "/change-requests"); strings.Contains(r.body, "approve-") {
		t.Errorf("a handler is offered to approve")
	}
	decide := fmt.Sprintf("/change-requests/%d/decide", id)
	if r := e.post(t, "handler", decide, url.Values{"decision": {"approve"}}); r.status != http.StatusForbidden {
		t.Errorf("POST decide as handler = %d, want 403", r.status)
	}
	if r := e.post(t, "constituent", decide, url.Values{"decision": {"approve"}}); r.status != http.StatusForbidden {
		t.Errorf("POST decide as the requester = %d, want 403", r.status)
	}
	before := e.changed.Load()
	if r := e.post(t, "coordinator", decide, url.Values{"decision": {"approve"}, "note": {"checked"}}); r.status != http.StatusSeeOther {
		t.Fatalf("POST approve = %d\n%s", r.status, r.body)
	}
	if e.changed.Load() == before {
		t.Errorf("approving a change did not rebuild the constituency lookup")
	}
	o, err := e.st.Organisation(e.sys, a)
	if err != nil {
		t.Fatal(err)
	}
	if len(o.Networks) != 2 || !slices.Contains(o.ASNs, 64511) || slices.Contains(o.Domains, "alpha.example") {
		t.Errorf("after approval: networks %v, ASNs %v, domains %v", o.Networks, o.ASNs, o.Domains)
	}
	if r := e.post(t, "coordinator", decide, url.Values{"decision": {"reject"}}); r.status != http.StatusConflict {
		t.Errorf("deciding again = %d, want 409", r.status)
	}
	// A pending request is withdrawn by its organisation, not another.
	if r := e.post(t, "constituent", page+"/change-requests", url.Values{"add": {"portal.alpha.example"}}); r.status != http.StatusSeeOther {
		t.Fatal(r.status)
	}
	list, _ = e.st.ChangeRequests(e.sys, store.ChangeFilter{State: focal.ChangePending})
	withdraw := fmt.Sprintf("/change-requests/%d/withdraw", list[0].ID)
	if r := e.post(t, "constituent-b", withdraw, nil); r.status != http.StatusNotFound {
		t.Errorf("POST withdraw as another organisation = %d, want 404", r.status)
	}
	if r := e.post(t, "constituent", withdraw, nil); r.status != http.StatusSeeOther {
		t.Errorf("POST withdraw = %d", r.status)
	}
}

// TestRecipientsPreviewPages shows "who will receive this" on an event's
// and a feed's page to staff, naming the organisation, the match and the
// policy's decision, and never to a constituent.
func TestRecipientsPreviewPages(t *testing.T) {
	w := newWWEnv(t)
	shared := fmt.Sprintf("/events/%d", w.events["192.0.2.200"]) // Alpha's /24 and Beta's /25
	r := w.get(t, "handler", shared)
	for _, want := range []string{`id="recipients-table"`, "Alpha Telecom", "Beta Bank", "source address 192.0.2.200", "default policy"} {
		if !strings.Contains(r.body, want) {
			t.Errorf("the event page's preview lacks %q", want)
		}
	}
	if r := w.get(t, "constituent", shared); strings.Contains(r.body, `id="recipients"`) || strings.Contains(r.body, "Beta Bank") {
		t.Errorf("a constituent sees who else receives the event")
	}
	outside := fmt.Sprintf("/events/%d", w.events["198.51.100.7"])
	if r := w.get(t, "handler", outside); !strings.Contains(r.body, `id="recipients-none"`) {
		t.Errorf("an event matching no organisation does not say so")
	}
	r = w.get(t, "analyst", fmt.Sprintf("/feeds/%d", w.feed.ID))
	if !strings.Contains(r.body, `id="recipients-table"`) || !strings.Contains(r.body, "Alpha Telecom") {
		t.Errorf("the feed page's preview lacks the organisations with its events")
	}
}

// TestLivePage serves the live view to a constituent, with its newest
// events and the script that follows the stream; staff are refused.
func TestLivePage(t *testing.T) {
	w := newWWEnv(t)
	r := w.get(t, "constituent", "/live")
	checkPage(t, "GET /live", r, "Live events")
	for _, want := range []string{`id="live-events"`, `data-stream="/api/v1/my/stream"`, "live.js", fmt.Sprintf(`data-id="%d"`, w.events["192.0.2.10"])} {
		if !strings.Contains(r.body, want) {
			t.Errorf("the live page lacks %q", want)
		}
	}
	if strings.Contains(r.body, fmt.Sprintf(`data-id="%d"`, w.events["198.51.100.7"])) {
		t.Errorf("the live page lists an event of no organisation")
	}
	if r := w.get(t, "handler", "/live"); r.status != http.StatusForbidden {
		t.Errorf("GET /live as handler = %d, want 403", r.status)
	}
}

// TestPortalProducts: a constituent declares the products its
// organisation runs (advisories about them then reach it); a malformed
// line comes back with the reason, another organisation's form is not
// found.
func TestPortalProducts(t *testing.T) {
	e := newEnv(t)
	page := fmt.Sprintf("/organisations/%d", e.orgA.ID)
	r := e.post(t, "constituent", page+"/products", url.Values{"products": {"Example Corp / Router OS\nno slash here"}})
	if r.status != http.StatusBadRequest || !strings.Contains(r.body, `id="products-error"`) || !strings.Contains(r.body, "line 2") {
		t.Errorf("POST a malformed products list = %d; want 400 naming line 2", r.status)
	}
	if r := e.post(t, "constituent-b", page+"/products", url.Values{"products": {"A / B"}}); r.status != http.StatusNotFound {
		t.Errorf("POST products of another organisation = %d, want 404", r.status)
	}
	if r := e.post(t, "constituent", page+"/products", url.Values{"products": {"Example Corp / Router OS\nMailCo / *"}}); r.status != http.StatusSeeOther {
		t.Fatalf("POST products = %d\n%s", r.status, r.body)
	}
	ps, err := e.st.OrgProducts(e.sys, e.orgA.ID)
	if err != nil || len(ps) != 2 || ps[0].Vendor != "example corp" || ps[1].Product != "*" {
		t.Errorf("declared products = %+v, %v", ps, err)
	}
	if r := e.get(t, "constituent", page); !strings.Contains(r.body, "mailco / *") {
		t.Errorf("the organisation page does not list the declared products")
	}
}
