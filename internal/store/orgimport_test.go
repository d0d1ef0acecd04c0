package store_test

import (
	"context"
	"net/netip"
	"strings"
	"testing"

	"focal/internal/focal"
	"focal/internal/store"
	"focal/internal/store/storetest"
)

// importCtx is the command line's context: the system principal.
func importCtx() context.Context {
	return focal.NewContextWithRemote(focal.NewContextWithPrincipal(context.Background(), focal.System()), "cli")
}

// importOrg returns a valid organisation named name claiming domain.
func importOrg(name, domain string) *focal.Organisation {
	return &focal.Organisation{
		Name: name, Sector: "isp", Country: "FR",
		Networks: []netip.Prefix{netip.MustParsePrefix("198.51.100.0/24")},
		Domains:  []string{domain},
		Contacts: []focal.Contact{{Email: "abuse@" + domain, Role: "abuse"}},
	}
}

// orgCount returns how many organisations s holds.
func orgCount(tb testing.TB, s *store.Store) int {
	tb.Helper()
	_, total, err := s.Organisations(importCtx(), store.OrgFilter{})
	if err != nil {
		tb.Fatal(err)
	}
	return total
}

func TestImportOrganisations(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := importCtx()
		alpha := importOrg("Alpha", "alpha.example.org")
		if err := s.CreateOrganisation(ctx, alpha); err != nil {
			t.Fatal(err)
		}
		batch := []*focal.Organisation{
			importOrg("ALPHA", "changed.example.org"),
			importOrg("Bravo", "bravo.example.org"),
			importOrg("Charlie", "charlie.example.org"),
		}
		c, u, k, err := s.ImportOrganisations(ctx, batch, false)
		if err != nil || c != 2 || u != 0 || k != 1 {
			t.Fatalf("ImportOrganisations(replace=false) = %d, %d, %d, %v, want 2 created, 0 updated, 1 skipped", c, u, k, err)
		}
		if batch[0].ID != 0 || batch[1].ID == 0 || batch[2].ID == 0 {
			t.Errorf("ImportOrganisations IDs = %d, %d, %d, want 0 for the skipped one and set for the others", batch[0].ID, batch[1].ID, batch[2].ID)
		}
		got, err := s.OrganisationByName(ctx, "alpha")
		if err != nil || got.Domains[0] != "alpha.example.org" {
			t.Errorf("skipped Alpha = %v, %v, want it unchanged", got, err)
		}

		again := []*focal.Organisation{importOrg("alpha", "changed.example.org"), importOrg("Delta", "delta.example.org")}
		c, u, k, err = s.ImportOrganisations(ctx, again, true)
		if err != nil || c != 1 || u != 1 || k != 0 {
			t.Fatalf("ImportOrganisations(replace=true) = %d, %d, %d, %v, want 1 created, 1 updated, 0 skipped", c, u, k, err)
		}
		got, err = s.OrganisationByName(ctx, "alpha")
		if err != nil || got.ID != alpha.ID || got.Domains[0] != "changed.example.org" || got.Name != "alpha" {
			t.Errorf("replaced Alpha = %+v, %v, want id %d with the new name and domain", got, err, alpha.ID)
		}
		if n := orgCount(t, s); n != 4 {
			t.Errorf("organisations after imports = %d, want 4", n)
		}
		recs, err := s.AuditRecords(ctx, store.AuditFilter{ObjectType: "organisation"})
		if err != nil {
			t.Fatal(err)
		}
		var actions []string
		for _, r := range recs {
			actions = append(actions, r.Action+":"+r.Actor+":"+r.Remote)
		}
		want := "create:system:cli,update:system:cli,create:system:cli,create:system:cli,create:system:cli"
		if strings.Join(actions, ",") != want {
			t.Errorf("audit records = %v, want %s", actions, want)
		}
		if v, err := s.VerifyAudit(ctx); err != nil || len(v.Problems) > 0 {
			t.Errorf("VerifyAudit after imports = %+v, %v, want intact", v, err)
		}
	})
}

func TestImportOrganisationsRefuses(t *testing.T) {
	tests := []struct {
		name string
		ctx  context.Context
		orgs []*focal.Organisation
		code string
	}{
		{"invalid", importCtx(), []*focal.Organisation{importOrg("A", "a.example.org"), {Name: "B", Sector: "pirates", Country: "FR"}}, focal.EINVALID},
		{"duplicate", importCtx(), []*focal.Organisation{importOrg("A", "a.example.org"), importOrg(" a ", "b.example.org")}, focal.EINVALID},
		{"handler", focal.NewContextWithPrincipal(context.Background(), focal.Principal{UserID: 7, Name: "hank", Role: focal.RoleHandler}),
			[]*focal.Organisation{importOrg("A", "a.example.org")}, focal.EFORBIDDEN},
		{"anonymous", context.Background(), []*focal.Organisation{importOrg("A", "a.example.org")}, focal.EUNAUTHORIZED},
	}
	s := storetest.Open(t, store.SQLite)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, _, err := s.ImportOrganisations(tt.ctx, tt.orgs, true)
			if focal.ErrorCode(err) != tt.code {
				t.Errorf("ImportOrganisations(%s) = %v, want %s", tt.name, err, tt.code)
			}
			if n := orgCount(t, s); n != 0 {
				t.Errorf("organisations after ImportOrganisations(%s) = %d, want 0", tt.name, n)
			}
		})
	}
}

// A failure in the middle of an import leaves nothing behind: neither the
// organisations before it nor their audit records.
func TestImportOrganisationsAtomic(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := importCtx()
		trigger := []string{`CREATE TRIGGER boom BEFORE INSERT ON organisations WHEN NEW.name = 'Boom' BEGIN SELECT RAISE(ABORT, 'boom'); END`}
		if s.Dialect() == store.Postgres {
			trigger = []string{
				`CREATE FUNCTION boom() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF NEW.name = 'Boom' THEN RAISE EXCEPTION 'boom'; END IF; RETURN NEW; END $$`,
				`CREATE TRIGGER boom BEFORE INSERT ON organisations FOR EACH ROW EXECUTE FUNCTION boom()`,
			}
		}
		for _, q := range trigger {
			if _, err := s.WithTxExec(ctx, q); err != nil {
				t.Fatal(err)
			}
		}
		orgs := []*focal.Organisation{importOrg("A", "a.example.org"), importOrg("B", "b.example.org"), importOrg("Boom", "boom.example.org"), importOrg("C", "c.example.org")}
		if _, _, _, err := s.ImportOrganisations(ctx, orgs, false); err == nil || !strings.Contains(err.Error(), "boom") {
			t.Fatalf("ImportOrganisations(with Boom) = %v, want the trigger's error", err)
		}
		if n := orgCount(t, s); n != 0 {
			t.Errorf("organisations after a failed import = %d, want 0", n)
		}
		v, err := s.VerifyAudit(ctx)
		if err != nil || v.Records != 0 {
			t.Errorf("audit after a failed import = %+v, %v, want no records", v, err)
		}
	})
}
