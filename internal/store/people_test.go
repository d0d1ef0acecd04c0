package store_test

import (
	"context"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"focal/internal/focal"
	"focal/internal/store"
	"focal/internal/store/storetest"
)

func sys() context.Context {
	return focal.NewContextWithRemote(focal.NewContextWithPrincipal(context.Background(), focal.System()), "test")
}

func as(p focal.Principal) context.Context {
	return focal.NewContextWithPrincipal(context.Background(), p)
}

func sampleOrg(name string) *focal.Organisation {
	return &focal.Organisation{
		Name: name, Sector: "isp", Country: "fr",
		Networks: []netip.Prefix{netip.MustParsePrefix("198.51.100.7/24"), netip.MustParsePrefix("2001:db8::/32")},
		ASNs:     []uint32{64500, 64496, 64500},
		Domains:  []string{"Example.NET.", "example.org"},
		Contacts: []focal.Contact{{Email: "abuse@example.net", Role: "abuse", Language: "fr"}},
	}
}

func TestOrganisationLifecycle(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := sys()
		o := sampleOrg("Example Networks")
		if err := s.CreateOrganisation(ctx, o); err != nil {
			t.Fatal(err)
		}
		got, err := s.Organisation(ctx, o.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Country != "FR" || len(got.ASNs) != 2 || got.Networks[0].String() != "198.51.100.0/24" ||
			strings.Join(got.Domains, ",") != "example.net,example.org" || got.Contacts[0].Email != "abuse@example.net" || got.Notify.Schedule != "daily" {
			t.Errorf("Organisation = %+v, want the normalised sample", got)
		}
		// Names are unique regardless of case.
		dup := sampleOrg("EXAMPLE networks")
		if err := s.CreateOrganisation(ctx, dup); focal.ErrorCode(err) != focal.EINVALID || !strings.Contains(err.Error(), "already exists") {
			t.Errorf("CreateOrganisation(duplicate) = %v, want invalid name", err)
		}
		got.Domains = []string{"example.com"}
		got.Contacts = append(got.Contacts, focal.Contact{Email: "soc@example.com", Role: "security"})
		if err := s.UpdateOrganisation(ctx, got); err != nil {
			t.Fatal(err)
		}
		again, err := s.OrganisationByName(ctx, "example NETWORKS")
		if err != nil {
			t.Fatal(err)
		}
		if strings.Join(again.Domains, ",") != "example.com" || len(again.Contacts) != 2 {
			t.Errorf("after update: domains %v contacts %d, want [example.com] and 2", again.Domains, len(again.Contacts))
		}
		list, total, err := s.Organisations(ctx, store.OrgFilter{Query: "networks"})
		if err != nil || total != 1 || len(list) != 1 {
			t.Errorf("Organisations(networks) = %d of %d, %v; want 1 of 1", len(list), total, err)
		}
		if err := s.DeleteOrganisation(ctx, o.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Organisation(ctx, o.ID); focal.ErrorCode(err) != focal.ENOTFOUND {
			t.Errorf("Organisation after delete = %v, want not_found", err)
		}
		recs, err := s.AuditRecords(ctx, store.AuditFilter{ObjectType: "organisation", ObjectID: strconv.FormatInt(o.ID, 10)})
		if err != nil {
			t.Fatal(err)
		}
		var actions []string
		for _, r := range recs {
			actions = append(actions, r.Action)
		}
		if strings.Join(actions, ",") != "delete,update,create" {
			t.Errorf("audit actions = %v, want delete,update,create", actions)
		}
		if recs[1].Before == "" || recs[1].After == "" || !strings.Contains(recs[1].Before, "example.net") || !strings.Contains(recs[1].After, "example.com") {
			t.Errorf("update record before/after = %q / %q", recs[1].Before, recs[1].After)
		}
		if recs[0].Actor != "system" || recs[0].Remote != "test" {
			t.Errorf("audit actor/remote = %q/%q, want system/test", recs[0].Actor, recs[0].Remote)
		}
	})
}

func TestOrganisationValidation(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(o *focal.Organisation)
		field string
	}{
		{"no-name", func(o *focal.Organisation) { o.Name = "  " }, "name"},
		{"bad-sector", func(o *focal.Organisation) { o.Sector = "pirates" }, "sector"},
		{"bad-country", func(o *focal.Organisation) { o.Country = "FRA" }, "country"},
		{"reserved-asn", func(o *focal.Organisation) { o.ASNs = []uint32{23456} }, "asns[0]"},
		{"bad-domain", func(o *focal.Organisation) { o.Domains = []string{"exa mple.org"} }, "domains[0]"},
		{"single-label", func(o *focal.Organisation) { o.Domains = []string{"localhost"} }, "domains[0]"},
		{"bad-email", func(o *focal.Organisation) { o.Contacts[0].Email = "Abuse <a@example.org>" }, "contacts[0].email"},
		{"bad-contact-role", func(o *focal.Organisation) { o.Contacts[0].Role = "boss" }, "contacts[0].role"},
		{"bad-key", func(o *focal.Organisation) { o.Contacts[0].PGPKey = "not a key" }, "contacts[0].pgp_key"},
		{"bad-schedule", func(o *focal.Organisation) { o.Notify.Schedule = "weekly" }, "notify.schedule"},
	}
	s := storetest.Open(t, store.SQLite)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := sampleOrg("Org " + tt.name)
			tt.edit(o)
			err := s.CreateOrganisation(sys(), o)
			if focal.ErrorCode(err) != focal.EINVALID || !strings.HasPrefix(focal.ErrorMessage(err), tt.field+":") {
				t.Errorf("CreateOrganisation = %v, want invalid %s", err, tt.field)
			}
		})
	}
}

// The store enforces the policy whatever the caller: constituents see only
// their own organisation, the public nothing.
func TestOrganisationIsolation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		a, b := sampleOrg("Alpha"), sampleOrg("Bravo")
		for _, o := range []*focal.Organisation{a, b} {
			if err := s.CreateOrganisation(sys(), o); err != nil {
				t.Fatal(err)
			}
		}
		alice := as(focal.Principal{UserID: 10, Name: "alice", Role: focal.RoleConstituent, OrgID: a.ID})
		list, total, err := s.Organisations(alice, store.OrgFilter{})
		if err != nil || total != 1 || len(list) != 1 || list[0].ID != a.ID {
			t.Errorf("constituent list = %d orgs (total %d), %v; want only Alpha", len(list), total, err)
		}
		if _, err := s.Organisation(alice, b.ID); focal.ErrorCode(err) != focal.EFORBIDDEN {
			t.Errorf("constituent reading another org = %v, want forbidden", err)
		}
		if _, err := s.OrganisationByName(alice, "Bravo"); focal.ErrorCode(err) != focal.EFORBIDDEN {
			t.Errorf("constituent reading another org by name = %v, want forbidden", err)
		}
		if err := s.UpdateOrganisation(alice, a); focal.ErrorCode(err) != focal.EFORBIDDEN {
			t.Errorf("constituent updating its org = %v, want forbidden", err)
		}
		if _, _, err := s.Organisations(context.Background(), store.OrgFilter{}); focal.ErrorCode(err) != focal.EUNAUTHORIZED {
			t.Errorf("anonymous list = %v, want unauthorized", err)
		}
		handler := as(focal.Principal{UserID: 11, Name: "hank", Role: focal.RoleHandler})
		if names, err := s.OrganisationNames(alice, 10); err != nil || len(names) != 1 || names[0].Name != "Alpha" {
			t.Errorf("constituent OrganisationNames = %v, %v; want only Alpha", names, err)
		}
		if names, err := s.OrganisationNames(handler, 10); err != nil || len(names) != 2 {
			t.Errorf("handler OrganisationNames = %v, %v; want both", names, err)
		}
		if _, total, err := s.Organisations(handler, store.OrgFilter{}); err != nil || total != 2 {
			t.Errorf("handler list total = %d, %v; want 2", total, err)
		}
		if err := s.DeleteOrganisation(handler, a.ID); focal.ErrorCode(err) != focal.EFORBIDDEN {
			t.Errorf("handler delete = %v, want forbidden", err)
		}
	})
}

func TestUsersSessionsTokens(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := sys()
		org := sampleOrg("Alpha")
		if err := s.CreateOrganisation(ctx, org); err != nil {
			t.Fatal(err)
		}
		u := &focal.User{Name: "carol", Role: focal.RoleConstituent, OrgID: org.ID}
		if err := s.CreateUser(ctx, u, "hash-1"); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateUser(ctx, &focal.User{Name: "carol", Role: focal.RoleHandler}, "x"); focal.ErrorCode(err) != focal.EINVALID {
			t.Errorf("duplicate user = %v, want invalid", err)
		}
		if err := s.CreateUser(ctx, &focal.User{Name: "dave", Role: focal.RoleConstituent}, "x"); focal.ErrorCode(err) != focal.EINVALID {
			t.Errorf("constituent without org = %v, want invalid", err)
		}
		if err := s.DeleteOrganisation(ctx, org.ID); focal.ErrorCode(err) != focal.ECONFLICT {
			t.Errorf("deleting an org with accounts = %v, want conflict", err)
		}
		got, hash, err := s.Credentials(ctx, "carol")
		if err != nil || hash != "hash-1" || got.OrgName != "Alpha" {
			t.Fatalf("Credentials = %+v, %q, %v", got, hash, err)
		}
		if err := s.CreateSession(ctx, got, "sess-1", time.Hour, "203.0.113.9", "test"); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateSession(ctx, got, "sess-2", time.Hour, "203.0.113.9", "test"); err != nil {
			t.Fatal(err)
		}
		if su, err := s.SessionUser(ctx, "sess-1"); err != nil || su.ID != u.ID {
			t.Errorf("SessionUser = %v, %v", su, err)
		}
		if _, err := s.SessionUser(ctx, "nope"); focal.ErrorCode(err) != focal.EUNAUTHORIZED {
			t.Errorf("SessionUser(unknown) = %v, want unauthorized", err)
		}
		// A password change ends the other sessions.
		self := as(got.Principal())
		if err := s.SetPassword(self, u.ID, "hash-2", "sess-1"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SessionUser(ctx, "sess-2"); focal.ErrorCode(err) != focal.EUNAUTHORIZED {
			t.Errorf("other session after password change = %v, want unauthorized", err)
		}
		if _, err := s.SessionUser(ctx, "sess-1"); err != nil {
			t.Errorf("current session after password change = %v, want kept", err)
		}
		// Someone else may not change carol's password.
		other := as(focal.Principal{UserID: 999, Name: "mallory", Role: focal.RoleHandler})
		if err := s.SetPassword(other, u.ID, "evil", ""); focal.ErrorCode(err) != focal.EFORBIDDEN {
			t.Errorf("SetPassword by another = %v, want forbidden", err)
		}
		// Tokens.
		tok := &focal.Token{UserID: u.ID, Name: "script", Scope: "read", ExpiresAt: time.Now().Add(time.Hour)}
		if err := s.CreateToken(self, tok, "tok-1"); err != nil {
			t.Fatal(err)
		}
		if tu, tt, err := s.TokenUser(ctx, "tok-1"); err != nil || tu.ID != u.ID || tt.Scope != "read" {
			t.Errorf("TokenUser = %v, %v, %v", tu, tt, err)
		}
		expired := &focal.Token{UserID: u.ID, Scope: "read", ExpiresAt: time.Now().Add(-time.Second)}
		if err := s.CreateToken(ctx, expired, "tok-2"); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.TokenUser(ctx, "tok-2"); focal.ErrorCode(err) != focal.EUNAUTHORIZED {
			t.Errorf("expired token = %v, want unauthorized", err)
		}
		// Disabling ends sessions and tokens.
		got.Disabled = true
		if err := s.UpdateUser(ctx, got); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SessionUser(ctx, "sess-1"); focal.ErrorCode(err) != focal.EUNAUTHORIZED {
			t.Errorf("session of a disabled user = %v, want unauthorized", err)
		}
		if _, _, err := s.TokenUser(ctx, "tok-1"); focal.ErrorCode(err) != focal.EUNAUTHORIZED {
			t.Errorf("token of a disabled user = %v, want unauthorized", err)
		}
		if _, err := s.Users(self); focal.ErrorCode(err) != focal.EFORBIDDEN {
			t.Errorf("constituent listing users = %v, want forbidden", err)
		}
		users, err := s.Users(ctx)
		if err != nil || len(users) != 1 {
			t.Errorf("Users = %d, %v; want 1", len(users), err)
		}
	})
}

func TestAuditChainDetectsTampering(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := sys()
		for i := 0; i < 5; i++ {
			if err := s.CreateOrganisation(ctx, sampleOrg("Org "+strconv.Itoa(i))); err != nil {
				t.Fatal(err)
			}
		}
		v, err := s.VerifyAudit(ctx)
		if err != nil || len(v.Problems) != 0 || v.Records != 5 || len(v.Head) != 64 {
			t.Fatalf("VerifyAudit on an intact chain = %+v, %v", v, err)
		}
		tests := []struct {
			name   string
			sql    string
			wantID int64
			reason string
		}{
			{"edit", "UPDATE audit_log SET actor = 'mallory' WHERE id = 3", 3, "edited"},
			{"delete", "DELETE FROM audit_log WHERE id = 4", 5, "deleted"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				if _, err := s.WithTxExec(ctx, tt.sql); err != nil {
					t.Fatal(err)
				}
				v, err := s.VerifyAudit(ctx)
				if err != nil {
					t.Fatal(err)
				}
				found := false
				for _, p := range v.Problems {
					if p.ID == tt.wantID && strings.Contains(p.Reason, tt.reason) {
						found = true
					}
				}
				if !found {
					t.Errorf("VerifyAudit after %s = %+v, want a problem at record %d saying %q", tt.name, v.Problems, tt.wantID, tt.reason)
				}
			})
		}
	})
}
