package ui_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"focal/internal/store"
)

// TestSharingPages has a coordinator set up a collection and a
// need-to-know sharing group from the sharing page, then an analyst
// share indicators: the preview names who would receive them and why,
// TLP:AMBER+STRICT about another organisation reaches nobody, TLP:RED is
// refused, and what is shared lands in the collection.
func TestSharingPages(t *testing.T) {
	e := newEnv(t)
	if r := e.post(t, "coordinator", "/sharing/collections", url.Values{"title": {"National feed"}, "alias": {"national"}}); r.status != http.StatusSeeOther {
		t.Fatalf("POST collection = %d\n%s", r.status, r.body)
	}
	if r := e.post(t, "coordinator", "/sharing/groups", url.Values{"name": {"Telecom operators"}, "ceiling": {"AMBER"}}); r.status != http.StatusSeeOther {
		t.Fatalf("POST group = %d\n%s", r.status, r.body)
	}
	if r := e.post(t, "coordinator", "/sharing/groups", url.Values{"name": {"Bad"}, "ceiling": {"RED"}}); r.status != http.StatusBadRequest || !strings.Contains(r.body, `id="sharing-error"`) {
		t.Errorf("POST a group with ceiling RED = %d; want 400 with the reason", r.status)
	}
	if r := e.post(t, "analyst", "/sharing/groups", url.Values{"name": {"Mine"}, "ceiling": {"GREEN"}}); r.status != http.StatusForbidden {
		t.Errorf("POST group as analyst = %d, want 403", r.status)
	}
	cols, err := e.st.TaxiiCollections(e.sys, false)
	if err != nil || len(cols) != 1 {
		t.Fatalf("collections = %v, %v", cols, err)
	}
	groups, err := e.st.SharingGroups(e.sys)
	if err != nil || len(groups) != 1 {
		t.Fatalf("groups = %v, %v", groups, err)
	}
	g, c := groups[0], cols[0]
	if r := e.post(t, "coordinator", fmt.Sprintf("/sharing/groups/%d/members", g.ID), url.Values{"member": {fmt.Sprintf("org:%d", e.orgA.ID)}}); r.status != http.StatusSeeOther {
		t.Fatalf("POST member = %d\n%s", r.status, r.body)
	}
	if r := e.post(t, "coordinator", fmt.Sprintf("/sharing/groups/%d/collections", g.ID), url.Values{"collection": {c.ID}, "can_read": {"1"}}); r.status != http.StatusSeeOther {
		t.Fatalf("POST grant = %d\n%s", r.status, r.body)
	}
	r := e.get(t, "handler", "/sharing")
	checkPage(t, "GET /sharing", r, "Sharing")
	for _, want := range []string{"National feed", "Telecom operators", "need-to-know", "Alpha Telecom (organisation)", "National feed (read)"} {
		if !strings.Contains(r.body, want) {
			t.Errorf("the sharing page lacks %q", want)
		}
	}
	if strings.Contains(r.body, `id="group-form"`) {
		t.Errorf("a handler is offered the group form")
	}

	preview := func(tlp string, org int64, action string) response {
		return e.post(t, "analyst", "/sharing/publish", url.Values{"collection": {c.ID}, "tlp": {tlp}, "org": {fmt.Sprint(org)},
			"text": {"C2 at hxxp://bad[.]example/gate and 198.51.100.66"}, "action": {action}})
	}
	r = preview("AMBER", 0, "preview")
	if r.status != http.StatusOK || !strings.Contains(r.body, `id="recipients-table"`) || !strings.Contains(r.body, "Alpha Telecom") ||
		!strings.Contains(r.body, "need-to-know") || !strings.Contains(r.body, "198.51.100.66") || !strings.Contains(r.body, "http://bad.example/gate") {
		t.Errorf("AMBER preview = %d; want the indicators and Alpha Telecom with the reason\n%s", r.status, r.body)
	}
	if r = preview("AMBER+STRICT", e.orgB.ID, "preview"); !strings.Contains(r.body, `id="recipients-none"`) {
		t.Errorf("AMBER+STRICT about Beta Bank previews recipients, want none")
	}
	if r = preview("RED", 0, "publish"); r.status != http.StatusBadRequest || !strings.Contains(r.body, "never leaves") {
		t.Errorf("sharing TLP:RED = %d; want 400 saying it never leaves", r.status)
	}
	if r = preview("GREEN", 0, "publish"); r.status != http.StatusOK || !strings.Contains(r.body, `id="published"`) {
		t.Fatalf("publish = %d\n%s", r.status, r.body)
	}
	recs, _, err := e.st.TaxiiObjects(e.sys, false, c.ID, store.TaxiiFilter{Types: []string{"indicator"}, Limit: 10}, true)
	if err != nil {
		t.Fatal(err)
	}
	// The URL, its domain and the address.
	if len(recs) != 3 {
		t.Fatalf("the collection holds %d indicators, want 3", len(recs))
	}
	for _, rec := range recs {
		// TLP:GREEN's marking definition (TLP 2.0).
		if !strings.Contains(string(rec.Body), "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb") || !strings.Contains(string(rec.Body), `"pattern"`) {
			t.Errorf("stored indicator %s lacks the TLP:GREEN marking or its pattern:\n%s", rec.ID, rec.Body)
		}
	}
	if r := e.post(t, "constituent", "/sharing/publish", url.Values{"collection": {c.ID}, "tlp": {"GREEN"}, "text": {"198.51.100.67"}, "action": {"publish"}}); r.status != http.StatusForbidden {
		t.Errorf("a constituent publishing = %d, want 403", r.status)
	}
}

// TestTeamProfilePages has a coordinator publish the team's RFC 2350
// profile, which the public then reads as HTML and text; a handler may
// not change it, and a bad field comes back with its error.
func TestTeamProfilePages(t *testing.T) {
	e := newEnv(t)
	if r := e.get(t, "", "/rfc2350"); r.status != http.StatusNotFound {
		t.Errorf("GET /rfc2350 before any profile = %d, want 404", r.status)
	}
	form := url.Values{"name": {"CERT-EX"}, "email": {"cert@cert.example"}, "constituency": {"The networks of Exampleland"},
		"services": {"Incident response\nAlerts and warnings"}, "website": {"https://cert.example/"}}
	if r := e.post(t, "handler", "/federation/profile", form); r.status != http.StatusForbidden {
		t.Errorf("POST profile as handler = %d, want 403", r.status)
	}
	bad := url.Values{"name": {"CERT-EX"}, "email": {"cert@cert.example"}, "website": {"ftp://cert.example"}}
	if r := e.post(t, "coordinator", "/federation/profile", bad); r.status != http.StatusBadRequest || !strings.Contains(r.body, `id="e-website"`) {
		t.Errorf("POST a bad website = %d; want 400 with the error at the field", r.status)
	}
	if r := e.post(t, "coordinator", "/federation/profile", form); r.status != http.StatusSeeOther {
		t.Fatalf("POST profile = %d\n%s", r.status, r.body)
	}
	r := e.get(t, "", "/rfc2350")
	if r.status != http.StatusOK || !strings.Contains(r.body, "3.2 Constituency") || !strings.Contains(r.body, "The networks of Exampleland") {
		t.Errorf("GET /rfc2350 = %d\n%s", r.status, r.body)
	}
	r = e.get(t, "", "/rfc2350.txt")
	if r.status != http.StatusOK || !strings.HasPrefix(r.header.Get("Content-Type"), "text/plain") || !strings.Contains(r.body, "   - Alerts and warnings") {
		t.Errorf("GET /rfc2350.txt = %d %s\n%s", r.status, r.header.Get("Content-Type"), r.body)
	}
}
