package demo_test

import (
	"context"
	"testing"

	"focal/internal/auth"
	"focal/internal/demo"
	"focal/internal/focal"
	"focal/internal/store"
	"focal/internal/store/storetest"
)

func TestSeed(t *testing.T) {
	s := storetest.Open(t, store.SQLite)
	ctx := context.Background()
	res, err := demo.Seed(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	if res.Incidents < 100 {
		t.Errorf("Seed made %d incidents, want a month's worth (at least 100)", res.Incidents)
	}
	handler, _, err := s.Credentials(ctx, "handler")
	if err != nil {
		t.Fatal(err)
	}
	hctx := focal.NewContextWithPrincipal(ctx, handler.Principal())
	for _, st := range []focal.Status{focal.StatusNew, focal.StatusInProgress, focal.StatusClosed} {
		list, err := s.Incidents(hctx, store.IncidentFilter{Status: []focal.Status{st}})
		if err != nil || len(list) == 0 {
			t.Errorf("demo has no %s incidents (%v)", st, err)
		}
	}
	if res.Organisations < 12 {
		t.Errorf("Seed made %d organisations, want at least a dozen", res.Organisations)
	}
	roles := map[focal.Role]bool{}
	for _, l := range res.Logins {
		roles[l.Role] = true
		u, hash, err := s.Credentials(ctx, l.Name)
		if err != nil {
			t.Fatalf("Credentials(%s): %v", l.Name, err)
		}
		if ok, _, err := auth.VerifyPassword(l.Password, hash); !ok || err != nil {
			t.Errorf("demo login %s: printed password does not verify (%v)", l.Name, err)
		}
		if (u.Role == focal.RoleConstituent) != (u.OrgID != 0) {
			t.Errorf("demo login %s: role %s with org %d", l.Name, u.Role, u.OrgID)
		}
	}
	for _, r := range []focal.Role{focal.RoleCoordinator, focal.RoleHandler, focal.RoleAnalyst, focal.RoleAssessor, focal.RoleConstituent} {
		if !roles[r] {
			t.Errorf("no demo login for role %s", r)
		}
	}
	if _, err := demo.Seed(ctx, s); err == nil {
		t.Error("Seed twice succeeded, want a refusal")
	}
	sys := focal.NewContextWithPrincipal(ctx, focal.System())
	if v, err := s.VerifyAudit(sys); err != nil || len(v.Problems) != 0 || v.Records == 0 {
		t.Errorf("audit after seeding = %+v, %v; want an intact, non-empty chain", v, err)
	}
}
