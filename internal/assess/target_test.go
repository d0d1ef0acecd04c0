package assess_test

import (
	"strings"
	"testing"

	"focal/internal/assess"
	"focal/internal/focal"
)

func TestTargets(t *testing.T) {
	f := mustParse(t, small)                                                 // tiers: high from 30 of 40
	peers := []assess.PeerPoint{{"A", 30, 20}, {"B", 50, 40}, {"C", 70, 60}} // score = 10 + penetration
	tests := []struct {
		name     string
		t        assess.Target
		want     float64
		feasible bool
	}{
		{"gap-closure", assess.Target{Kind: assess.TargetGapClosure, Baseline: 50}, 70, true},
		{"gap-closure-default-kind", assess.Target{Baseline: 30}, 58, true},
		{"gap-closure-zero-gap", assess.Target{Kind: assess.TargetGapClosure, Baseline: 100}, 100, true},
		{"relative", assess.Target{Kind: assess.TargetRelative, Baseline: 50}, 70, true},
		{"relative-at-71.4", assess.Target{Kind: assess.TargetRelative, Baseline: 71.4}, 99.96, true},
		{"relative-above-71.4", assess.Target{Kind: assess.TargetRelative, Baseline: 80}, 100, false},
		{"relative-zero-baseline", assess.Target{Kind: assess.TargetRelative, Baseline: 0}, 0, true},
		{"absolute-points", assess.Target{Kind: assess.TargetAbsolute, Baseline: 40, Points: 60}, 60, true},
		{"absolute-tier", assess.Target{Kind: assess.TargetAbsolute, Baseline: 40, Tier: "high"}, 75, true},
		// Expected at 50% penetration: 60; shortfall 20; 40 + 0.4 × 20.
		{"penetration-short", assess.Target{Kind: assess.TargetPenetration, Baseline: 40, Penetration: 50, Peers: peers}, 48, true},
		// Above the expectation: gap closure instead, 70 + 0.4 × 30.
		{"penetration-above", assess.Target{Kind: assess.TargetPenetration, Baseline: 70, Penetration: 50, Peers: peers}, 82, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.t.Compute(f)
			if err != nil {
				t.Fatal(err)
			}
			if got.Value != tt.want || got.Feasible != tt.feasible {
				t.Errorf("Compute(%+v) = %v feasible %v (%s), want %v feasible %v", tt.t, got.Value, got.Feasible, got.Note, tt.want, tt.feasible)
			}
		})
	}
	pen, _ := assess.Target{Kind: assess.TargetPenetration, Baseline: 40, Penetration: 50, Peers: peers}.Compute(nil)
	if pen.Slope != 1 || pen.Intercept != 10 || pen.Residual != -20 {
		t.Errorf("penetration fit = %+v, want slope 1, intercept 10, residual -20", pen)
	}
	for _, bad := range []struct {
		t     assess.Target
		field string
	}{
		{assess.Target{Kind: "double"}, "kind"},
		{assess.Target{Kind: assess.TargetAbsolute}, "points"},
		{assess.Target{Baseline: 120}, "baseline"},
		{assess.Target{BaselineYear: 2026, TargetYear: 2025}, "target_year"},
		{assess.Target{Kind: assess.TargetPenetration, Penetration: 50, Peers: peers[:2]}, "peers"},
		{assess.Target{Kind: assess.TargetPenetration, Peers: []assess.PeerPoint{{"A", 1, 5}, {"B", 2, 5}, {"C", 3, 5}}, Penetration: 5}, "peers"},
	} {
		_, err := bad.t.Compute(f)
		var fe *focal.Error
		if !asFocal(err, &fe) || fe.Field != bad.field {
			t.Errorf("Compute(%+v) = %v, want an error on %s", bad.t, err, bad.field)
		}
	}
}

func TestProgress(t *testing.T) {
	tests := []struct {
		baseline, target, current, want float64
	}{
		{50, 70, 60, 0.5},
		{50, 70, 70, 1},
		{50, 70, 45, -0.25},
		{100, 100, 100, 1}, // zero gap, held
		{100, 100, 90, 0},  // zero gap, lost
	}
	for _, tt := range tests {
		if got := assess.Progress(tt.baseline, tt.target, tt.current); got != tt.want {
			t.Errorf("Progress(%v, %v, %v) = %v, want %v", tt.baseline, tt.target, tt.current, got, tt.want)
		}
	}
}

// v2 of small: q1 kept, q2 renamed q2b with an equivalent link, q3 on a
// new scale (not carried), q5 kept, q6 dropped, q7 new.
const smallV2 = `{
 "id": "small", "version": "2", "title": "Small", "method": "weighted-sum", "total": 40,
 "scales": [{"id": "ynp", "type": "choice", "options": [
   {"value": "yes", "score": 1}, {"value": "partial", "score": 0.5}, {"value": "no", "score": 0}]},
   {"id": "pts", "type": "points", "max": 4}],
 "items": [
  {"id": "P1", "kind": "pillar", "title": "One", "max": 20},
  {"id": "q1", "parent": "P1", "kind": "question", "title": "q1", "scale": "ynp", "weight": 5},
  {"id": "q2b", "parent": "P1", "kind": "question", "title": "q2", "scale": "ynp",
   "crosswalk": [{"framework": "small", "version": "1", "item": "q2", "relation": "equivalent"}]},
  {"id": "q3", "parent": "P1", "kind": "question", "title": "q3", "scale": "pts"},
  {"id": "P2", "kind": "pillar", "title": "Two", "max": 20},
  {"id": "q5", "parent": "P2", "kind": "question", "title": "q5", "scale": "ynp"},
  {"id": "q7", "parent": "P2", "kind": "question", "title": "q7", "scale": "ynp"}
 ]}`

func TestVersionsAndCrosswalk(t *testing.T) {
	v1 := mustParse(t, small)
	old, err := assess.Score(v1, smallAnswers(), assess.Options{})
	if err != nil {
		t.Fatal(err)
	}
	v2 := mustParse(t, smallV2)
	// A new version changes nothing of an old score.
	again, err := assess.Score(v1, smallAnswers(), assess.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if again.Total != old.Total || again.Ruler.ID != old.Ruler.ID {
		t.Errorf("after v2: Score(v1) = %v on %s, want %v on %s", again.Total, again.Ruler.ID, old.Total, old.Ruler.ID)
	}
	translated, ov := assess.Translate(v1, v2, smallAnswers())
	if ov.Common != 3 || ov.Total != 5 || ov.Share != 0.6 || ov.Mapping["q2b"] != "q2" {
		t.Errorf("Translate overlap = %+v, want 3 of 5 with q2b ← q2", ov)
	}
	if strings.Join(ov.Unmapped, ",") != "q3,q7" {
		t.Errorf("Translate unmapped = %v, want [q3 q7]", ov.Unmapped)
	}
	if translated["q2b"].Value != "partial" || translated["q1"].Value != "yes" {
		t.Errorf("Translate answers = %+v, want q1 yes and q2b partial", translated)
	}
	now := map[string]assess.Answer{"q1": {Value: "yes"}, "q2b": {Value: "yes"}, "q3": {Value: "4"}, "q5": {Value: "yes"}, "q7": {Value: "no"}}
	c, err := assess.Compare(v1, smallAnswers(), v2, now, assess.Options{}, 0.6)
	if err != nil {
		t.Fatalf("Compare(v1, v2) = %v", err)
	}
	if !c.Crossed || c.Overlap == nil || c.Overlap.Common != 3 {
		t.Fatalf("Compare(v1, v2) = %+v, want a crosswalked comparison showing 3 common items", c)
	}
	// On the common items: before P1 = (5·1 + 1·0.5) ÷ 6 × 20 = 18.3333,
	// P2 = 20; after P1 = 20, P2 = 20.
	if c.Before.Total != 38.3333 || c.After.Total != 40 || c.Before.Ruler.ID != c.After.Ruler.ID {
		t.Errorf("Compare(v1, v2) = %v → %v (rulers %s, %s), want 38.3333 → 40 on one ruler", c.Before.Total, c.After.Total, c.Before.Ruler.ID, c.After.Ruler.ID)
	}
	if _, err := assess.Compare(v1, smallAnswers(), v2, now, assess.Options{}, 0.8); focal.ErrorCode(err) != focal.ECONFLICT || !strings.Contains(err.Error(), "3 of 5") {
		t.Errorf("Compare(v1, v2, min 80%%) = %v, want a refusal stating 3 of 5", err)
	}
	same, err := assess.Compare(v1, smallAnswers(), v1, smallAnswers(), assess.Options{}, 0)
	if err != nil || same.Crossed || same.Change != 0 {
		t.Errorf("Compare(v1, v1) = %+v, %v; want a direct comparison with no change", same, err)
	}
}

func asFocal(err error, target **focal.Error) bool {
	fe, ok := err.(*focal.Error)
	if ok {
		*target = fe
	}
	return ok
}
