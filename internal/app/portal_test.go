package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"focal/internal/focal"
	"focal/internal/notify"
	"focal/internal/server"
	"focal/internal/store"
)

// isPortalRoute reports whether portalFixture makes the fixture of path:
// the constituent portal's routes that need a body or a notification.
func isPortalRoute(path string) bool {
	switch path {
	case "/api/v1/my/events/{id}/feedback", "/events/{id}/feedback", "/notifications/{id}":
		return true
	}
	return false
}

// portalFixture makes the object a portal route acts on (the matrix's
// event; a notification of target carrying it) and returns the path and
// body of the request.
func portalFixture(t *testing.T, st *store.Store, sys context.Context, rt server.Route, target *focal.Organisation, unique string) (string, string) {
	t.Helper()
	list, _, err := st.Events(sys, focal.EventFilter{Feed: matrixFeed, Limit: 1})
	if err != nil || len(list) == 0 {
		t.Fatalf("the matrix's event: %v %v", list, err)
	}
	id := list[0].ID
	switch rt.Path {
	case "/api/v1/my/events/{id}/feedback":
		return fmt.Sprintf("/api/v1/my/events/%d/feedback", id), `{"state":"handled","note":"done"}`
	case "/events/{id}/feedback":
		return fmt.Sprintf("/events/%d/feedback", id), "state=false-positive&note=ours"
	}
	n := &store.Notification{Reference: "MATRIX-" + unique, OrgID: target.ID, Channel: notify.ChannelDigest, From: "cert@cert.example",
		Recipients: []string{"abuse@target.example"}, Subject: "Matrix", TLP: focal.TLPAmber, Part: 1, Parts: 1,
		EventIDs: []int64{id}, Raw: []byte("raw")}
	if err := st.QueueNotifications(sys, target.ID, time.Time{}, []*store.Notification{n}); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("/notifications/%d", n.ID), ""
}

type feedbackJSON struct {
	EventID int64     `json:"event_id"`
	OrgID   int64     `json:"org_id"`
	State   string    `json:"state"`
	Note    string    `json:"note"`
	Author  string    `json:"author"`
	At      time.Time `json:"at"`
}

type notificationJSON struct {
	ID        int64     `json:"id"`
	Reference string    `json:"reference"`
	OrgID     int64     `json:"org_id"`
	Subject   string    `json:"subject"`
	TLP       string    `json:"tlp"`
	State     string    `json:"state"`
	Attempts  int       `json:"attempts"`
	Created   time.Time `json:"created"`
	SentAt    time.Time `json:"sent_at"`
	Events    int       `json:"events"`
}

// TestEventFeedbackAPI marks events through the API: a constituent its
// own organisation's only, staff read every organisation's feedback.
func TestEventFeedbackAPI(t *testing.T) {
	a := mustRun(t)
	sys := focal.NewContextWithPrincipal(context.Background(), focal.System())
	orgA := &focal.Organisation{Name: "Alpha", Sector: "isp", Country: "FR", Networks: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/25")}}
	orgB := &focal.Organisation{Name: "Bravo", Sector: "isp", Country: "FR", Networks: []netip.Prefix{netip.MustParsePrefix("198.51.100.0/24")}}
	for _, o := range []*focal.Organisation{orgA, orgB} {
		if err := a.Store.CreateOrganisation(sys, o); err != nil {
			t.Fatal(err)
		}
	}
	waitForLookup(t, a, netip.MustParseAddr("198.51.100.1"), orgB.ID)
	waitForLookup(t, a, netip.MustParseAddr("192.0.2.1"), orgA.ID)
	fd := &focal.FeedDef{Name: "bf", Format: "iplist", Enabled: true, Options: map[string]string{"class": "intrusion-attempts", "type": "brute-force"}}
	if err := a.Store.CreateFeed(sys, fd); err != nil {
		t.Fatal(err)
	}
	ingestAndWait(t, a, fd, "192.0.2.10\n198.51.100.10\n")
	list, _, err := a.Store.Events(sys, focal.EventFilter{Limit: 10})
	if err != nil || len(list) != 2 {
		t.Fatalf("events = %d, %v; want 2", len(list), err)
	}
	ev := map[string]int64{}
	for _, e := range list {
		ev[e.Source.IP.String()] = e.ID
	}
	evA, evB := ev["192.0.2.10"], ev["198.51.100.10"]
	tokA := userToken(t, a, "alpha", focal.RoleConstituent, orgA.ID)
	tokB := userToken(t, a, "bravo", focal.RoleConstituent, orgB.ID)
	handler := userToken(t, a, "a-handler", focal.RoleHandler, 0)
	analyst := userToken(t, a, "an-analyst", focal.RoleAnalyst, 0)

	put := func(tok string, id int64, body string) (int, string) {
		t.Helper()
		st, _, b := apiCall(t, a, tok, "PUT", fmt.Sprintf("/api/v1/my/events/%d/feedback", id), strings.NewReader(body), "Content-Type", "application/json")
		return st, b
	}
	status, body := put(tokA, evA, `{"state":"handled","note":"patched"}`)
	if status != http.StatusOK {
		t.Fatalf("PUT feedback on A's event as A = %d %s", status, body)
	}
	var got feedbackJSON
	if err := json.Unmarshal([]byte(body), &got); err != nil || got.EventID != evA || got.OrgID != orgA.ID || got.State != "handled" || got.Note != "patched" || got.Author != "alpha" {
		t.Errorf("PUT feedback = %+v, %v", got, err)
	}
	if status, body := put(tokB, evB, `{"state":"false-positive"}`); status != http.StatusOK {
		t.Fatalf("PUT feedback on B's event as B = %d %s", status, body)
	}

	refused := []struct {
		name   string
		tok    string
		id     int64
		body   string
		status int
	}{
		{"other-organisation", tokA, evB, `{"state":"handled"}`, http.StatusNotFound},
		{"other-organisation-b", tokB, evA, `{"state":"handled"}`, http.StatusNotFound},
		{"no-such-event", tokA, 1 << 40, `{"state":"handled"}`, http.StatusNotFound},
		{"staff", handler, evA, `{"state":"handled"}`, http.StatusForbidden},
		{"bad-state", tokA, evA, `{"state":"fixed"}`, http.StatusBadRequest},
		{"long-note", tokA, evA, `{"state":"handled","note":"` + strings.Repeat("x", focal.MaxFeedbackNote+1) + `"}`, http.StatusBadRequest},
		{"unknown-field", tokA, evA, `{"state":"handled","by":"me"}`, http.StatusBadRequest},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			if status, body := put(tt.tok, tt.id, tt.body); status != tt.status {
				t.Errorf("PUT feedback on %d = %d %s, want %d", tt.id, status, body, tt.status)
			}
		})
	}

	read := func(tok string, id int64) (int, []feedbackJSON) {
		t.Helper()
		status, _, body := apiCall(t, a, tok, "GET", fmt.Sprintf("/api/v1/events/%d/feedback", id), nil)
		var out struct {
			Feedback []feedbackJSON `json:"feedback"`
		}
		if status == http.StatusOK {
			if err := json.Unmarshal([]byte(body), &out); err != nil {
				t.Fatalf("feedback of %d: %v\n%s", id, err, body)
			}
		}
		return status, out.Feedback
	}
	for _, tok := range []string{handler, analyst} {
		for id, want := range map[int64]string{evA: "handled", evB: "false-positive"} {
			if status, fb := read(tok, id); status != http.StatusOK || len(fb) != 1 || fb[0].State != want {
				t.Errorf("GET feedback of %d as staff = %d %+v, want one %s", id, status, fb, want)
			}
		}
	}
	if status, fb := read(tokA, evA); status != http.StatusOK || len(fb) != 1 || fb[0].OrgID != orgA.ID {
		t.Errorf("GET feedback of A's event as A = %d %+v", status, fb)
	}
	if status, _ := read(tokA, evB); status != http.StatusNotFound {
		t.Errorf("GET feedback of B's event as A = %d, want 404", status)
	}
}

// TestNotificationsAPI reads the notification log: a constituent its own
// organisation's at /api/v1/my/notifications, coordinators and handlers
// every organisation's at /api/v1/notifications; never the raw message.
func TestNotificationsAPI(t *testing.T) {
	a := mustRun(t)
	sys := focal.NewContextWithPrincipal(context.Background(), focal.System())
	orgA := &focal.Organisation{Name: "Alpha", Sector: "isp", Country: "FR"}
	orgB := &focal.Organisation{Name: "Bravo", Sector: "isp", Country: "FR"}
	for _, o := range []*focal.Organisation{orgA, orgB} {
		if err := a.Store.CreateOrganisation(sys, o); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range []*store.Notification{
		{Reference: "N-A-1", OrgID: orgA.ID, Subject: "Alpha one"},
		{Reference: "N-B-1", OrgID: orgB.ID, Subject: "Bravo one"},
		{Reference: "N-A-2", OrgID: orgA.ID, Subject: "Alpha two"},
	} {
		n.Channel, n.From, n.Recipients, n.TLP, n.Part, n.Parts = notify.ChannelDigest, "cert@cert.example", []string{"abuse@example.net"}, focal.TLPAmber, 1, 1
		n.Raw = []byte("Subject: the raw message\r\n")
		if err := a.Store.QueueNotifications(sys, n.OrgID, time.Time{}, []*store.Notification{n}); err != nil {
			t.Fatal(err)
		}
		if n.Reference == "N-A-1" {
			if err := a.Store.MarkSent(sys, n.ID, time.Now()); err != nil {
				t.Fatal(err)
			}
		}
	}
	tokA := userToken(t, a, "alpha", focal.RoleConstituent, orgA.ID)
	tokB := userToken(t, a, "bravo", focal.RoleConstituent, orgB.ID)
	coordinator := userToken(t, a, "a-coordinator", focal.RoleCoordinator, 0)
	handler := userToken(t, a, "a-handler", focal.RoleHandler, 0)
	analyst := userToken(t, a, "an-analyst", focal.RoleAnalyst, 0)

	refs := func(tok, path string, want int) []notificationJSON {
		t.Helper()
		status, _, body := apiCall(t, a, tok, "GET", path, nil)
		if status != want {
			t.Fatalf("GET %s = %d %s, want %d", path, status, body, want)
		}
		if strings.Contains(body, "raw message") || strings.Contains(body, "abuse@example.net") {
			t.Errorf("GET %s shows the raw message or its recipients: %s", path, body)
		}
		var out struct {
			Notifications []notificationJSON `json:"notifications"`
		}
		if status == http.StatusOK {
			if err := json.Unmarshal([]byte(body), &out); err != nil {
				t.Fatal(err)
			}
		}
		return out.Notifications
	}
	names := func(ns []notificationJSON) string {
		var s []string
		for _, n := range ns {
			s = append(s, n.Reference)
		}
		return strings.Join(s, ",")
	}
	tests := []struct {
		name, tok, path string
		want            string
	}{
		{"my-a", tokA, "/api/v1/my/notifications", "N-A-2,N-A-1"},
		{"my-b", tokB, "/api/v1/my/notifications", "N-B-1"},
		{"my-limit", tokA, "/api/v1/my/notifications?limit=1", "N-A-2"},
		{"coordinator", coordinator, "/api/v1/notifications", "N-A-2,N-B-1,N-A-1"},
		{"handler-org", handler, fmt.Sprintf("/api/v1/notifications?org=%d", orgB.ID), "N-B-1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := names(refs(tt.tok, tt.path, http.StatusOK)); got != tt.want {
				t.Errorf("GET %s = %s, want %s", tt.path, got, tt.want)
			}
		})
	}
	got := refs(tokA, "/api/v1/my/notifications", http.StatusOK)
	if sent := got[1]; sent.State != store.NotificationSent || sent.SentAt.IsZero() || sent.Attempts != 1 || sent.TLP != "AMBER" || sent.Subject != "Alpha one" || sent.OrgID != orgA.ID {
		t.Errorf("the sent notification = %+v", sent)
	}
	if queued := got[0]; queued.State != store.NotificationQueued || !queued.SentAt.IsZero() || queued.Created.IsZero() {
		t.Errorf("the queued notification = %+v", queued)
	}
	refs(tokA, "/api/v1/notifications", http.StatusForbidden)
	refs(analyst, "/api/v1/notifications", http.StatusForbidden)
	refs(handler, "/api/v1/my/notifications", http.StatusForbidden)
	refs(handler, "/api/v1/notifications?org=x", http.StatusBadRequest)
}
