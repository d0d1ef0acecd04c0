package store_test

import (
	"context"
	"testing"

	"focal/internal/focal"
	"focal/internal/store"
	"focal/internal/store/storetest"
)

// asUser returns a context acting as u.
func asUser(u *focal.User) context.Context {
	return focal.NewContextWithPrincipal(context.Background(), u.Principal())
}

// federationFixture creates two organisations, peers p1 and p2, an
// analyst, a handler, a constituent of the first organisation and one
// collection.
type federationFixture struct {
	orgA, orgB                  *focal.Organisation
	p1, p2, ana, hal, con, boss *focal.User
	coll                        *store.TaxiiCollection
}

func newFederation(t *testing.T, s *store.Store) *federationFixture {
	t.Helper()
	ctx := sys()
	f := &federationFixture{orgA: sampleOrg("Alpha"), orgB: sampleOrg("Bravo")}
	for _, o := range []*focal.Organisation{f.orgA, f.orgB} {
		if err := s.CreateOrganisation(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	f.p1 = &focal.User{Name: "p1", Role: focal.RolePeer}
	f.p2 = &focal.User{Name: "p2", Role: focal.RolePeer}
	f.ana = &focal.User{Name: "ana", Role: focal.RoleAnalyst}
	f.hal = &focal.User{Name: "hal", Role: focal.RoleHandler}
	f.boss = &focal.User{Name: "boss", Role: focal.RoleCoordinator}
	f.con = &focal.User{Name: "con", Role: focal.RoleConstituent, OrgID: f.orgA.ID}
	for _, u := range []*focal.User{f.p1, f.p2, f.ana, f.hal, f.con, f.boss} {
		if err := s.CreateUser(ctx, u, ""); err != nil {
			t.Fatal(err)
		}
	}
	f.coll = &store.TaxiiCollection{Title: "Shared"}
	if err := s.CreateTaxiiCollection(ctx, f.coll); err != nil {
		t.Fatal(err)
	}
	return f
}

func TestSharingGroups(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFederation(t, s)
		ctx := asUser(f.boss)
		g := &store.SharingGroup{Name: "CSIRTs", Description: "national community", Ceiling: focal.TLPGreen}
		if err := s.CreateSharingGroup(ctx, g); err != nil {
			t.Fatal(err)
		}
		for _, tt := range []struct {
			name string
			ctx  context.Context
			g    *store.SharingGroup
			code string
		}{
			{"analyst", asUser(f.ana), &store.SharingGroup{Name: "x", Ceiling: focal.TLPGreen}, focal.EFORBIDDEN},
			{"peer", asUser(f.p1), &store.SharingGroup{Name: "x", Ceiling: focal.TLPGreen}, focal.EFORBIDDEN},
			{"red-ceiling", ctx, &store.SharingGroup{Name: "x", Ceiling: focal.TLPRed}, focal.EINVALID},
			{"no-name", ctx, &store.SharingGroup{Name: " ", Ceiling: focal.TLPAmber}, focal.EINVALID},
			{"duplicate", ctx, &store.SharingGroup{Name: "CSIRTs", Ceiling: focal.TLPAmber}, focal.EINVALID},
		} {
			if err := s.CreateSharingGroup(tt.ctx, tt.g); focal.ErrorCode(err) != tt.code {
				t.Errorf("CreateSharingGroup(%s) = %v, want %s", tt.name, err, tt.code)
			}
		}
		if err := s.AddSharingMember(ctx, g.ID, store.SharingMember{UserID: f.p1.ID}); err != nil {
			t.Fatal(err)
		}
		if err := s.AddSharingMember(ctx, g.ID, store.SharingMember{UserID: f.p1.ID}); err != nil {
			t.Errorf("adding a member twice = %v, want no-op", err)
		}
		if err := s.AddSharingMember(ctx, g.ID, store.SharingMember{OrgID: f.orgA.ID}); err != nil {
			t.Fatal(err)
		}
		if err := s.AddSharingMember(ctx, g.ID, store.SharingMember{UserID: f.ana.ID}); focal.ErrorCode(err) != focal.EINVALID {
			t.Errorf("adding an analyst as member = %v, want EINVALID", err)
		}
		if err := s.AddSharingMember(ctx, g.ID, store.SharingMember{UserID: f.p2.ID, OrgID: f.orgB.ID}); focal.ErrorCode(err) != focal.EINVALID {
			t.Errorf("adding a member that is both = %v, want EINVALID", err)
		}
		if err := s.GrantSharingCollection(ctx, g.ID, store.SharingGrant{CollectionID: f.coll.ID, CanRead: true}); err != nil {
			t.Fatal(err)
		}
		got, err := s.SharingGroup(asUser(f.hal), g.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Members) != 2 || got.Members[0].Name != "p1" || got.Members[1].Name != "Alpha" || len(got.Collections) != 1 || !got.Collections[0].CanRead {
			t.Errorf("SharingGroup = %+v", got)
		}
		if _, err := s.SharingGroups(asUser(f.con)); focal.ErrorCode(err) != focal.EFORBIDDEN {
			t.Errorf("SharingGroups as a constituent = %v, want EFORBIDDEN", err)
		}
		g.Ceiling = focal.TLPAmber
		if err := s.UpdateSharingGroup(ctx, g); err != nil {
			t.Fatal(err)
		}
		if err := s.RemoveSharingMember(ctx, g.ID, store.SharingMember{UserID: f.p1.ID}); err != nil {
			t.Fatal(err)
		}
		if err := s.RemoveSharingMember(ctx, g.ID, store.SharingMember{UserID: f.p1.ID}); focal.ErrorCode(err) != focal.ENOTFOUND {
			t.Errorf("removing a non-member = %v, want ENOTFOUND", err)
		}
		if err := s.DeleteSharingGroup(ctx, g.ID); err != nil {
			t.Fatal(err)
		}
		recs, err := s.AuditRecords(ctx, store.AuditFilter{ObjectType: "sharing_group"})
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for _, r := range recs {
			seen[r.Action] = true
		}
		for _, a := range []string{"create", "add_member", "grant_collection", "update", "remove_member", "delete"} {
			if !seen[a] {
				t.Errorf("no %q audit record for sharing groups (have %v)", a, seen)
			}
		}
	})
}

func TestRecipientsPreview(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFederation(t, s)
		ctx := sys()
		community := &store.SharingGroup{Name: "community", Ceiling: focal.TLPGreen}
		ntk := &store.SharingGroup{Name: "need-to-know", Ceiling: focal.TLPAmber}
		for _, g := range []*store.SharingGroup{community, ntk} {
			if err := s.CreateSharingGroup(ctx, g); err != nil {
				t.Fatal(err)
			}
			if err := s.GrantSharingCollection(ctx, g.ID, store.SharingGrant{CollectionID: f.coll.ID, CanRead: true}); err != nil {
				t.Fatal(err)
			}
		}
		for _, m := range []struct {
			g *store.SharingGroup
			m store.SharingMember
		}{
			{community, store.SharingMember{UserID: f.p1.ID}},
			{community, store.SharingMember{OrgID: f.orgA.ID}},
			{community, store.SharingMember{OrgID: f.orgB.ID}},
			{ntk, store.SharingMember{UserID: f.p2.ID}},
		} {
			if err := s.AddSharingMember(ctx, m.g.ID, m.m); err != nil {
				t.Fatal(err)
			}
		}
		names := func(tlp focal.TLP, org int64) []string {
			t.Helper()
			rs, err := s.Recipients(asUser(f.hal), f.coll.ID, tlp, org)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, r := range rs {
				if r.Reason == "" {
					t.Errorf("recipient %+v without reason", r)
				}
				out = append(out, r.Recipient.Name)
			}
			return out
		}
		for _, tt := range []struct {
			tlp  focal.TLP
			org  int64
			want []string
		}{
			{focal.TLPGreen, 0, []string{"p1", "Alpha", "Bravo", "p2"}},
			{focal.TLPAmber, 0, []string{"p2"}},
			{"", 0, []string{"p2"}},
			{focal.TLPAmber, f.orgA.ID, []string{"Alpha", "p2"}},
			{focal.TLPAmberStrict, f.orgB.ID, []string{"Bravo"}},
			{focal.TLPRed, f.orgA.ID, nil},
		} {
			got := names(tt.tlp, tt.org)
			if len(got) != len(tt.want) {
				t.Errorf("Recipients(%s, org %d) = %v, want %v", tt.tlp, tt.org, got, tt.want)
				continue
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("Recipients(%s, org %d) = %v, want %v", tt.tlp, tt.org, got, tt.want)
					break
				}
			}
		}
		f.coll.Public = true
		if err := s.UpdateTaxiiCollection(ctx, f.coll); err != nil {
			t.Fatal(err)
		}
		if got := names(focal.TLPClear, 0); len(got) != 5 || got[4] != "the public" {
			t.Errorf("Recipients(CLEAR) of a public collection = %v, want the members and the public", got)
		}
		if _, err := s.Recipients(asUser(f.p1), f.coll.ID, focal.TLPClear, 0); focal.ErrorCode(err) != focal.EFORBIDDEN {
			t.Errorf("Recipients as a peer = %v, want EFORBIDDEN", err)
		}
	})
}
