package store_test

import (
	"strings"
	"testing"

	"focal/internal/focal"
	"focal/internal/store"
	"focal/internal/store/storetest"
)

func TestEventFeedbackScoping(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := sys()
		a, b := sampleOrg("Alpha"), sampleOrg("Bravo")
		for _, o := range []*focal.Organisation{a, b} {
			if err := s.CreateOrganisation(ctx, o); err != nil {
				t.Fatal(err)
			}
		}
		evA := commitNotifyEvents(t, s, a.ID, focal.TLPAmber, "198.51.100.1")[0]
		redA := commitNotifyEvents(t, s, a.ID, focal.TLPRed, "198.51.100.9")[0]
		evB := commitNotifyEvents(t, s, b.ID, focal.TLPGreen, "203.0.113.1")[0]
		// An event of A that gets no feedback.
		quiet := commitNotifyEvents(t, s, a.ID, focal.TLPAmber, "192.0.2.7")[0]
		if _, err := s.SetEventFeedback(sys(), quiet, focal.FeedbackHandled, ""); focal.ErrorCode(err) != focal.EFORBIDDEN {
			t.Errorf("SetEventFeedback(as the system) = %v, want %s", err, focal.EFORBIDDEN)
		}

		users := map[string]*focal.User{
			"alice": {Name: "alice", Role: focal.RoleConstituent, OrgID: a.ID},
			"bob":   {Name: "bob", Role: focal.RoleConstituent, OrgID: b.ID},
			"hank":  {Name: "hank", Role: focal.RoleHandler},
		}
		for _, u := range users {
			if err := s.CreateUser(ctx, u, ""); err != nil {
				t.Fatal(err)
			}
		}
		principal := func(name string) focal.Principal {
			u := users[name]
			return focal.Principal{UserID: u.ID, Name: u.Name, Role: u.Role, OrgID: u.OrgID}
		}
		alice, bob, hank := as(principal("alice")), as(principal("bob")), as(principal("hank"))

		f, err := s.SetEventFeedback(alice, evA, focal.FeedbackHandled, "  patched the host  ")
		if err != nil {
			t.Fatalf("SetEventFeedback(A's own event) = %v", err)
		}
		if f.OrgID != a.ID || f.Note != "patched the host" || f.Author != "alice" {
			t.Errorf("SetEventFeedback = %+v, want organisation %d, trimmed note, author alice", f, a.ID)
		}
		// Again: replaces.
		if _, err := s.SetEventFeedback(alice, evA, focal.FeedbackFalsePositive, "a sinkhole"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SetEventFeedback(bob, evB, focal.FeedbackHandled, ""); err != nil {
			t.Fatal(err)
		}

		refused := []struct {
			name string
			who  string
			id   int64
			code string
		}{
			{"other-organisation", "alice", evB, focal.ENOTFOUND},
			{"other-organisation-b", "bob", evA, focal.ENOTFOUND},
			{"tlp-red", "alice", redA, focal.ENOTFOUND},
			{"no-such-event", "alice", 1 << 40, focal.ENOTFOUND},
			{"staff", "hank", evA, focal.EFORBIDDEN},
		}
		for _, tc := range refused {
			t.Run(tc.name, func(t *testing.T) {
				_, err := s.SetEventFeedback(as(principal(tc.who)), tc.id, focal.FeedbackHandled, "")
				if focal.ErrorCode(err) != tc.code {
					t.Errorf("SetEventFeedback(%s, %d) = %v, want %s", tc.who, tc.id, err, tc.code)
				}
			})
		}
		ro := principal("alice")
		ro.ReadOnly = true
		if _, err := s.SetEventFeedback(as(ro), evA, focal.FeedbackHandled, ""); focal.ErrorCode(err) != focal.EFORBIDDEN {
			t.Errorf("SetEventFeedback(read-only token) = %v, want %s", err, focal.EFORBIDDEN)
		}
		for _, bad := range []struct{ state, note string }{{"done", ""}, {"", ""}, {focal.FeedbackHandled, strings.Repeat("é", focal.MaxFeedbackNote+1)}} {
			if _, err := s.SetEventFeedback(alice, evA, bad.state, bad.note); focal.ErrorCode(err) != focal.EINVALID {
				t.Errorf("SetEventFeedback(%q, %d-character note) = %v, want %s", bad.state, len([]rune(bad.note)), err, focal.EINVALID)
			}
		}

		// Staff see every organisation's feedback; a constituent its own.
		for _, id := range []int64{evA, evB} {
			got, err := s.EventFeedback(hank, id)
			if err != nil || len(got) != 1 {
				t.Fatalf("EventFeedback(handler, %d) = %+v, %v; want one", id, got, err)
			}
		}
		if got, _ := s.EventFeedback(hank, evA); got[0].State != focal.FeedbackFalsePositive || got[0].Note != "a sinkhole" {
			t.Errorf("EventFeedback(handler, A's event) = %+v, want the replaced false-positive", got[0])
		}
		if got, err := s.EventFeedback(alice, evA); err != nil || len(got) != 1 || got[0].OrgID != a.ID {
			t.Errorf("EventFeedback(alice, own event) = %+v, %v", got, err)
		}
		if _, err := s.EventFeedback(alice, evB); focal.ErrorCode(err) != focal.ENOTFOUND {
			t.Errorf("EventFeedback(alice, B's event) = %v, want %s", err, focal.ENOTFOUND)
		}
		if got, err := s.EventFeedback(hank, quiet); err != nil || len(got) != 0 {
			t.Errorf("EventFeedback(no feedback) = %+v, %v; want empty", got, err)
		}

		recs, err := s.AuditRecords(ctx, store.AuditFilter{Action: "event.feedback"})
		if err != nil || len(recs) != 3 {
			t.Errorf("audit records of event.feedback = %d, %v; want 3", len(recs), err)
		}
	})
}
