package ui_test

import (
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"focal/internal/focal"
	"focal/internal/store"
)

// tableIPs returns the source addresses listed in the events table of a
// page, in order.
func tableIPs(body string) []string {
	i := strings.Index(body, `id="event-table"`)
	if i < 0 {
		return nil
	}
	var out []string
	for _, m := range regexp.MustCompile(`<td><code>([^<]+)</code></td>`).FindAllStringSubmatch(body[i:], -1) {
		out = append(out, m[1])
	}
	return out
}

// TestEventPagesRender renders the explorer and an event's page for every
// role that reads events, and refuses the others.
func TestEventPagesRender(t *testing.T) {
	w := newWWEnv(t)
	own := fmt.Sprintf("/events/%d", w.events["192.0.2.10"])
	tests := []struct {
		name, path string
		roles      []string
		h1         string
	}{
		{"events", "/events", []string{"coordinator", "handler", "analyst", "constituent", "constituent-b"}, "Events"},
		{"events-filtered", fmt.Sprintf("/events?since=2020-01-01&until=2099-12-31&org=%d&class=intrusion-attempts%%2Fbrute-force&feed=test-bruteforce&ip=192.0.2.0%%2F24&asn=AS64496&country=fr", w.orgA.ID),
			[]string{"coordinator", "handler", "analyst", "constituent"}, "Events"},
		{"event-detail", own, []string{"coordinator", "handler", "analyst", "constituent"}, fmt.Sprintf("Event %d", w.events["192.0.2.10"])},
	}
	for _, tt := range tests {
		for _, role := range tt.roles {
			t.Run(tt.name+"/"+role, func(t *testing.T) {
				checkPage(t, "GET "+tt.path+" as "+role, w.get(t, role, tt.path), tt.h1)
			})
		}
		for _, role := range []string{"assessor", "peer"} {
			t.Run(tt.name+"/"+role+"-refused", func(t *testing.T) {
				if r := w.get(t, role, tt.path); r.status != http.StatusForbidden {
					t.Errorf("GET %s as %s = %d, want 403", tt.path, role, r.status)
				}
			})
		}
	}
	if r := w.get(t, "", "/events"); r.status != http.StatusSeeOther {
		t.Errorf("GET /events anonymously = %d, want a redirect to the login page", r.status)
	}
	detail := w.get(t, "analyst", own).body
	for _, want := range []string{`<pre id="raw">192.0.2.10</pre>`, `href="/organisations/` + fmt.Sprint(w.orgA.ID) + `">Alpha Telecom`,
		fmt.Sprintf(`href="/feeds/%d"`, w.feed.ID), "Intrusion Attempts: Login Attempts", "TLP:AMBER"} {
		if !strings.Contains(detail, want) {
			t.Errorf("event page lacks %q", want)
		}
	}
	if d := w.get(t, "constituent", own).body; strings.Contains(d, "/feeds/") {
		t.Errorf("an event page links a constituent to a feed it may not read")
	}
}

// The explorer lists what the caller may see, filters, pages, charts and
// links the exports.
func TestEventsExplorer(t *testing.T) {
	w := newWWEnv(t)
	all := w.get(t, "coordinator", "/events").body
	if got := tableIPs(all); len(got) != 4 {
		t.Errorf("coordinator's events = %v, want all four", got)
	}
	for _, want := range []string{`id="events-chart"`, `<rect x=`, `class="bar-events"`, `id="top-orgs"`, `>Alpha Telecom</a> <strong>3</strong>`,
		`id="export-csv"`, `href="/api/v1/events?format=csv"`, `href="/api/v1/events?format=ndjson"`, "4 events (4 sightings)"} {
		if !strings.Contains(all, want) {
			t.Errorf("the explorer lacks %q", want)
		}
	}
	tests := []struct {
		name, as, query string
		want            []string
	}{
		{"org-b", "coordinator", fmt.Sprintf("org=%d", w.orgB.ID), []string{"192.0.2.200"}},
		{"network", "handler", "ip=192.0.2.0%2F25", []string{"192.0.2.11", "192.0.2.10"}},
		{"address", "analyst", "ip=198.51.100.7", []string{"198.51.100.7"}},
		{"class", "coordinator", "class=information-gathering", []string{"192.0.2.11"}},
		{"class-type", "coordinator", "class=intrusion-attempts%2Fbrute-force&feed=test-bruteforce", []string{"198.51.100.7", "192.0.2.200", "192.0.2.10"}},
		{"feed", "coordinator", "feed=test-red", []string{"192.0.2.11"}},
		{"future", "coordinator", "since=2099-01-01", nil},
		// A constituent sees its own organisation's events, never TLP:RED.
		{"constituent", "constituent", "", []string{"192.0.2.200", "192.0.2.10"}},
		{"constituent-b", "constituent-b", "", []string{"192.0.2.200"}},
		{"constituent-other-org", "constituent-b", fmt.Sprintf("org=%d", w.orgA.ID), []string{"192.0.2.200"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := w.get(t, tt.as, "/events?"+tt.query)
			if r.status != http.StatusOK {
				t.Fatalf("GET /events?%s as %s = %d\n%s", tt.query, tt.as, r.status, r.body)
			}
			got := tableIPs(r.body)
			// Events of one run share their last seen time: compare as sets.
			if strings.Join(slices.Sorted(slices.Values(got)), ",") != strings.Join(slices.Sorted(slices.Values(tt.want)), ",") {
				t.Errorf("GET /events?%s as %s lists %v, want %v", tt.query, tt.as, got, tt.want)
			}
		})
	}
	// Beta's constituent does not learn which other organisation an event
	// concerns, nor who else is in the constituency.
	b := w.get(t, "constituent-b", "/events").body
	if strings.Contains(b, "Alpha Telecom") || strings.Contains(b, `id="org"`) {
		t.Errorf("constituent-b's explorer names Alpha Telecom or offers other organisations")
	}
	if !strings.Contains(b, ">Beta Bank</a>") {
		t.Errorf("constituent-b's explorer does not name its own organisation")
	}
	if r := w.get(t, "constituent-b", fmt.Sprintf("/events/%d", w.events["192.0.2.10"])); r.status != http.StatusNotFound {
		t.Errorf("Alpha's event for constituent-b = %d, want 404", r.status)
	}
	if r := w.get(t, "constituent", fmt.Sprintf("/events/%d", w.events["192.0.2.11"])); r.status != http.StatusNotFound {
		t.Errorf("a TLP:RED event for a constituent = %d, want 404", r.status)
	}

	// htmx gets the results only; paging follows the cursor.
	r := w.get(t, "coordinator", "/events?feed=test-bruteforce", "HX-Request", "true")
	if r.status != http.StatusOK || strings.Contains(r.body, "<html") || !strings.Contains(r.body, `id="event-table"`) {
		t.Errorf("htmx GET /events = %d, want the results alone:\n%s", r.status, r.body)
	}
	var lines strings.Builder
	for i := range 60 {
		fmt.Fprintf(&lines, "203.0.113.%d\n", i)
	}
	w.ingest(t, w.feed, lines.String())
	page1 := w.get(t, "coordinator", "/events").body
	older := regexp.MustCompile(`href="(/events\?cursor=[^"]+)" rel="next"`).FindStringSubmatch(page1)
	if len(tableIPs(page1)) != 50 || older == nil {
		t.Fatalf("first page lists %d events, older link %v; want 50 and a link", len(tableIPs(page1)), older)
	}
	page2 := w.get(t, "coordinator", strings.ReplaceAll(older[1], "&amp;", "&")).body
	if n := len(tableIPs(page2)); n != 14 || !strings.Contains(page2, `>Newest</a>`) {
		t.Errorf("second page lists %d events, want 14 and a link to the newest", n)
	}

	for _, q := range []string{"ip=nonsense", "asn=ASX", "country=France", "since=yesterday", "class=nope", "org=x"} {
		if r := w.get(t, "coordinator", "/events?"+q); r.status != http.StatusBadRequest {
			t.Errorf("GET /events?%s = %d, want 400", q, r.status)
		}
	}
}

// An incident's page lists the pipeline events linked to it; a
// constituent sees only its own organisation's, never TLP:RED.
func TestIncidentShowsEvents(t *testing.T) {
	w := newWWEnv(t)
	inc := w.addIncident(t, &focal.Incident{Title: "Brute force from Alpha", OrgID: w.orgA.ID,
		Classifications: []focal.Classification{{Class: "intrusion-attempts", Type: "brute-force"}}})
	err := w.st.WithTx(w.sys, func(tx *store.Tx) error {
		for _, ip := range []string{"192.0.2.10", "192.0.2.11"} {
			if _, err := tx.ExecContext(w.sys, "INSERT INTO incident_events (incident_id, event_id) VALUES ($1, $2)", inc.ID, w.events[ip]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	path := fmt.Sprintf("/incidents/%d", inc.ID)
	staff := w.get(t, "handler", path).body
	if !strings.Contains(staff, `id="incident-events"`) || !strings.Contains(staff, "<code>192.0.2.10</code>") || !strings.Contains(staff, "<code>192.0.2.11</code>") {
		t.Errorf("the incident page does not list its two events for a handler")
	}
	own := w.get(t, "constituent", path).body
	if !strings.Contains(own, "<code>192.0.2.10</code>") || strings.Contains(own, "192.0.2.11") {
		t.Errorf("the incident page for a constituent should list 192.0.2.10 and not the TLP:RED 192.0.2.11")
	}
	plain := w.addIncident(t, &focal.Incident{Title: "No events", OrgID: w.orgA.ID})
	if body := w.get(t, "handler", fmt.Sprintf("/incidents/%d", plain.ID)).body; strings.Contains(body, `id="incident-events"`) {
		t.Errorf("an incident without events shows an events table")
	}
}
