package demo_test

import (
	"context"
	"testing"

	"focal/internal/assess"
	"focal/internal/demo"
	"focal/internal/focal"
	"focal/internal/store"
	"focal/internal/store/storetest"
)

func TestSeedAssessments(t *testing.T) {
	st := storetest.Open(t, store.SQLite)
	sys := focal.NewContextWithPrincipal(context.Background(), focal.System())
	for _, u := range []*focal.User{{Name: "coordinator", Role: focal.RoleCoordinator}, {Name: "assessor", Role: focal.RoleAssessor}, {Name: "validator", Role: focal.RoleAssessor}} {
		if err := st.CreateUser(sys, u, ""); err != nil {
			t.Fatal(err)
		}
	}
	if err := demo.SeedAssessments(context.Background(), st); err != nil {
		t.Fatal(err)
	}
	pub, err := st.PublishedAssessments(context.Background(), store.AssessmentFilter{Framework: "focal-national"})
	if err != nil {
		t.Fatal(err)
	}
	subjects := map[string]int{}
	for _, a := range pub {
		subjects[a.Subject]++
		if a.Validator != "validator" || a.Publisher != "coordinator" || a.Author != "assessor" {
			t.Errorf("assessment %d: author %q, validator %q, publisher %q", a.ID, a.Author, a.Validator, a.Publisher)
		}
	}
	if len(subjects) != 3 || subjects["XAL"] != 2 {
		t.Errorf("published national assessments by subject = %v, want three countries with two rounds each", subjects)
	}
	targets, err := st.Targets(sys, "XAL")
	if err != nil || len(targets) != 2 {
		t.Fatalf("Targets(XAL) = %d, %v; want the gap-closure and the penetration-adjusted targets", len(targets), err)
	}
	var gap store.AssessTarget
	for _, tg := range targets {
		if tg.Definition.Kind == assess.TargetGapClosure {
			gap = tg
		}
	}
	// The second round moved toward the target.
	var second *store.Assessment
	for _, a := range pub {
		if a.Subject == "XAL" && a.Year == 2025 {
			second = a
		}
	}
	if second == nil || gap.ID == 0 {
		t.Fatalf("no second round or gap-closure target for XAL")
	}
	if p := assess.Progress(gap.Definition.Baseline, gap.Value.Value, second.Score.Total); p <= 0 {
		t.Errorf("XAL progress toward its target = %v, want some", p)
	}
}
