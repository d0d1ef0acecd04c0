package store_test

import (
	"context"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"focal/internal/focal"
	"focal/internal/store"
	"focal/internal/store/storetest"
)

// TestChangeRequests files, lists, decides and withdraws network change
// requests as constituents of two organisations, a handler and a
// coordinator: a constituent reaches only its own organisation's, only a
// coordinator decides, approval changes the holdings, and every step is
// audited.
func TestChangeRequests(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := sys()
		a, b := sampleOrg("Alpha"), sampleOrg("Bravo")
		for _, o := range []*focal.Organisation{a, b} {
			if err := s.CreateOrganisation(ctx, o); err != nil {
				t.Fatal(err)
			}
		}
		users := map[string]*focal.User{
			"alice": {Name: "alice", Role: focal.RoleConstituent, OrgID: a.ID},
			"bob":   {Name: "bob", Role: focal.RoleConstituent, OrgID: b.ID},
			"hank":  {Name: "hank", Role: focal.RoleHandler},
			"cora":  {Name: "cora", Role: focal.RoleCoordinator},
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
		alice, bob, hank, cora := as(principal("alice")), as(principal("bob")), as(principal("hank")), as(principal("cora"))

		add, err := focal.ParseHoldings("add", "203.0.113.0/25, AS64501\nportal.example.net")
		if err != nil {
			t.Fatal(err)
		}
		remove := focal.Holdings{Networks: []netip.Prefix{a.Networks[0]}}
		c := &focal.ChangeRequest{OrgID: a.ID, Add: add, Remove: remove, Note: " new range from our upstream "}
		if err := s.RequestChange(alice, c); err != nil {
			t.Fatalf("RequestChange(own organisation) = %v", err)
		}
		if c.ID == 0 || c.State != focal.ChangePending || c.Note != "new range from our upstream" || c.OrgName != "Alpha" {
			t.Fatalf("filed request = %+v", c)
		}
		// Another organisation's: not found, not forbidden (no probing).
		if err := s.RequestChange(bob, &focal.ChangeRequest{OrgID: a.ID, Add: add}); focal.ErrorCode(err) != focal.ENOTFOUND {
			t.Errorf("RequestChange(B for A) = %v, want %s", err, focal.ENOTFOUND)
		}
		if err := s.RequestChange(hank, &focal.ChangeRequest{OrgID: a.ID, Add: add}); focal.ErrorCode(err) != focal.EFORBIDDEN {
			t.Errorf("RequestChange(handler) = %v, want %s", err, focal.EFORBIDDEN)
		}
		if err := s.RequestChange(alice, &focal.ChangeRequest{OrgID: a.ID}); focal.ErrorCode(err) != focal.EINVALID {
			t.Errorf("RequestChange(nothing) = %v, want %s", err, focal.EINVALID)
		}
		both := &focal.ChangeRequest{OrgID: a.ID, Add: focal.Holdings{ASNs: []uint32{64502}}, Remove: focal.Holdings{ASNs: []uint32{64502}}}
		if err := s.RequestChange(alice, both); focal.ErrorCode(err) != focal.EINVALID || !strings.Contains(err.Error(), "both added and removed") {
			t.Errorf("RequestChange(add and remove the same) = %v", err)
		}

		for _, tt := range []struct {
			name string
			ctx  context.Context
			want int
		}{{"alice", alice, 1}, {"bob", bob, 0}, {"hank", hank, 1}, {"cora", cora, 1}} {
			list, err := s.ChangeRequests(tt.ctx, store.ChangeFilter{})
			if err != nil || len(list) != tt.want {
				t.Errorf("ChangeRequests as %s = %d requests, %v; want %d", tt.name, len(list), err, tt.want)
			}
		}
		if list, _ := s.ChangeRequests(bob, store.ChangeFilter{OrgID: a.ID}); len(list) != 0 {
			t.Errorf("B asking for A's requests by filter got %d", len(list))
		}
		if _, err := s.ChangeRequest(bob, c.ID); focal.ErrorCode(err) != focal.ENOTFOUND {
			t.Errorf("ChangeRequest(B reads A's) = %v, want %s", err, focal.ENOTFOUND)
		}
		// Only a coordinator decides.
		for _, ctx := range []context.Context{alice, hank} {
			if _, err := s.DecideChange(ctx, c.ID, true, ""); focal.ErrorCode(err) != focal.EFORBIDDEN {
				t.Errorf("DecideChange(not a coordinator) = %v, want %s", err, focal.EFORBIDDEN)
			}
		}
		got, err := s.DecideChange(cora, c.ID, true, "checked with RIPE")
		if err != nil {
			t.Fatalf("DecideChange(approve) = %v", err)
		}
		if got.State != focal.ChangeApproved || got.Decider != "cora" || got.DecisionNote != "checked with RIPE" {
			t.Errorf("decided request = %+v", got)
		}
		after, err := s.Organisation(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		if slices.Contains(after.Networks, a.Networks[0]) || !slices.Contains(after.Networks, netip.MustParsePrefix("203.0.113.0/25")) ||
			!slices.Contains(after.ASNs, 64501) || !slices.Contains(after.Domains, "portal.example.net") {
			t.Errorf("after approval the organisation holds %v %v %v", after.Networks, after.ASNs, after.Domains)
		}
		if _, err := s.DecideChange(cora, c.ID, false, ""); focal.ErrorCode(err) != focal.ECONFLICT {
			t.Errorf("deciding twice = %v, want %s", err, focal.ECONFLICT)
		}

		// Rejection leaves the organisation as it was; withdrawal too.
		r := &focal.ChangeRequest{OrgID: a.ID, Add: focal.Holdings{Domains: []string{"rejected.example.org"}}}
		w := &focal.ChangeRequest{OrgID: a.ID, Add: focal.Holdings{Domains: []string{"withdrawn.example.org"}}}
		for _, x := range []*focal.ChangeRequest{r, w} {
			if err := s.RequestChange(alice, x); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.DecideChange(cora, r.ID, false, "not yours"); err != nil {
			t.Fatal(err)
		}
		if err := s.WithdrawChange(bob, w.ID); focal.ErrorCode(err) != focal.ENOTFOUND {
			t.Errorf("WithdrawChange(B withdraws A's) = %v, want %s", err, focal.ENOTFOUND)
		}
		if err := s.WithdrawChange(alice, w.ID); err != nil {
			t.Fatal(err)
		}
		if err := s.WithdrawChange(alice, w.ID); focal.ErrorCode(err) != focal.ECONFLICT {
			t.Errorf("withdrawing twice = %v, want %s", err, focal.ECONFLICT)
		}
		final, _ := s.Organisation(ctx, a.ID)
		if slices.Contains(final.Domains, "rejected.example.org") || slices.Contains(final.Domains, "withdrawn.example.org") {
			t.Errorf("a rejected or withdrawn request changed the organisation: %v", final.Domains)
		}
		pending, err := s.ChangeRequests(cora, store.ChangeFilter{State: focal.ChangePending})
		if err != nil || len(pending) != 0 {
			t.Errorf("pending requests = %d, %v; want none", len(pending), err)
		}
		recs, err := s.AuditRecords(ctx, store.AuditFilter{})
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]int{}
		for _, rec := range recs {
			seen[rec.Action]++
		}
		for _, action := range []string{"change.request", "change.approve", "change.reject", "change.withdraw"} {
			if seen[action] == 0 {
				t.Errorf("no %s audit record (have %v)", action, seen)
			}
		}
	})
}

// TestUpdateContacts lets a constituent keep its own organisation's
// contacts, never another's and never its networks.
func TestUpdateContacts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := sys()
		a, b := sampleOrg("Alpha"), sampleOrg("Bravo")
		for _, o := range []*focal.Organisation{a, b} {
			if err := s.CreateOrganisation(ctx, o); err != nil {
				t.Fatal(err)
			}
		}
		alice := &focal.User{Name: "alice", Role: focal.RoleConstituent, OrgID: a.ID}
		if err := s.CreateUser(ctx, alice, ""); err != nil {
			t.Fatal(err)
		}
		actx := as(focal.Principal{UserID: alice.ID, Name: "alice", Role: focal.RoleConstituent, OrgID: a.ID})
		contacts := []focal.Contact{{Email: "soc@alpha.example", Role: "abuse", Language: "fr"}}
		o, err := s.UpdateContacts(actx, a.ID, contacts, &focal.NotifyPrefs{Schedule: "hourly"})
		if err != nil {
			t.Fatalf("UpdateContacts(own) = %v", err)
		}
		if len(o.Contacts) != 1 || o.Contacts[0].Email != "soc@alpha.example" || o.Notify.Schedule != "hourly" {
			t.Errorf("updated organisation = %+v", o)
		}
		if !slices.Equal(o.Networks, a.Networks) {
			t.Errorf("contacts update changed the networks: %v, want %v", o.Networks, a.Networks)
		}
		if _, err := s.UpdateContacts(actx, b.ID, contacts, nil); focal.ErrorCode(err) != focal.ENOTFOUND {
			t.Errorf("UpdateContacts(another organisation) = %v, want %s", err, focal.ENOTFOUND)
		}
		bad := []focal.Contact{{Email: "not an address", Role: "abuse"}}
		if _, err := s.UpdateContacts(actx, a.ID, bad, nil); focal.ErrorCode(err) != focal.EINVALID || !strings.Contains(err.Error(), "contacts[0].email") {
			t.Errorf("UpdateContacts(bad address) = %v, want EINVALID naming contacts[0].email", err)
		}
		// Bypassing with UpdateOrganisation is refused.
		o.Networks = append(o.Networks, netip.MustParsePrefix("198.18.0.0/15"))
		if err := s.UpdateOrganisation(actx, o); focal.ErrorCode(err) != focal.EFORBIDDEN {
			t.Errorf("UpdateOrganisation(as constituent) = %v, want %s", err, focal.EFORBIDDEN)
		}
	})
}
