package assess_test

import (
	"testing"

	"focal/internal/assess"
)

// TestEmbeddedFrameworks checks the shipped frameworks parse and have the
// shape the issue asks for.
func TestEmbeddedFrameworks(t *testing.T) {
	fws, err := assess.Frameworks()
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]*assess.Framework{}
	for _, f := range fws {
		byID[f.ID] = f
	}
	nat := byID["focal-national"]
	if nat == nil || len(nat.Children("")) != 5 || len(nat.Questions()) < 45 {
		t.Fatalf("national framework missing or not five pillars with about 50 questions")
	}
	mat := byID["focal-maturity"]
	if mat == nil || len(mat.Stages) != 5 || mat.Stages[0] != "start-up" || mat.Stages[4] != "dynamic" {
		t.Fatalf("maturity framework missing or not on five stages")
	}
	if byID["focal-cop"] == nil {
		t.Fatalf("child online protection module missing")
	}
	for _, f := range fws {
		r, err := assess.Score(f, nil, assess.Options{})
		if err != nil {
			t.Fatalf("Score(%s, no answers) = %v", f.Ref(), err)
		}
		want := 0.0
		if f.Method == assess.MethodStageGate {
			want = 1 // start-up is the floor every factor starts on
		}
		if r.Total != want {
			t.Errorf("Score(%s, no answers).Total = %v, want %v", f.Ref(), r.Total, want)
		}
	}
}
