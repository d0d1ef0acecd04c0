package assess_test

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"focal/internal/assess"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// small is a hand-computable framework: two pillars of 20 points.
//
//	P1 (max 20)
//	  I1 (weight 2): q1, q2
//	  I2 (weight 1): q3, q4
//	P2 (max 20)
//	  q5 (weight 3), q6 (weight 1, optional for category mean)
const small = `{
 "id": "small", "version": "1", "title": "Small", "method": "weighted-sum", "total": 40,
 "tiers": [{"name": "high", "min": 30}, {"name": "low", "min": 0}],
 "scales": [{"id": "ynp", "type": "choice", "options": [
   {"value": "yes", "score": 1}, {"value": "partial", "score": 0.5}, {"value": "no", "score": 0}]}],
 "items": [
  {"id": "P1", "kind": "pillar", "title": "One", "max": 20},
  {"id": "I1", "parent": "P1", "kind": "indicator", "title": "I1", "weight": 2},
  {"id": "q1", "parent": "I1", "kind": "question", "title": "q1", "scale": "ynp"},
  {"id": "q2", "parent": "I1", "kind": "question", "title": "q2", "scale": "ynp"},
  {"id": "I2", "parent": "P1", "kind": "indicator", "title": "I2", "weight": 1},
  {"id": "q3", "parent": "I2", "kind": "question", "title": "q3", "scale": "ynp"},
  {"id": "q4", "parent": "I2", "kind": "question", "title": "q4", "scale": "ynp"},
  {"id": "P2", "kind": "pillar", "title": "Two", "max": 20, "weight_sum": 4},
  {"id": "q5", "parent": "P2", "kind": "question", "title": "q5", "scale": "ynp", "weight": 3},
  {"id": "q6", "parent": "P2", "kind": "question", "title": "q6", "scale": "ynp", "weight": 1, "optional": true}
 ]}`

// smallAnswers: q1 yes, q2 partial, q3 no, q4 not applicable, q5 yes
// with public evidence, q6 unanswered.
func smallAnswers() map[string]assess.Answer {
	pub := assess.Evidence{URL: "https://gov.example/law", Visibility: assess.VisibilityPublic}
	restricted := assess.Evidence{URL: "https://intra.example/doc", Visibility: assess.VisibilityRestricted}
	return map[string]assess.Answer{
		"q1": {Item: "q1", Value: "yes", Evidence: restricted},
		"q2": {Item: "q2", Value: "partial"},
		"q3": {Item: "q3", Value: "no"},
		"q4": {Item: "q4", Value: assess.ValueNA},
		"q5": {Item: "q5", Value: "yes", Evidence: pub},
	}
}

func mustParse(tb testing.TB, s string) *assess.Framework {
	tb.Helper()
	f, err := assess.Parse([]byte(s))
	if err != nil {
		tb.Fatalf("Parse = %v", err)
	}
	return f
}

func TestScoreMethods(t *testing.T) {
	f := mustParse(t, small)
	tests := []struct {
		name       string
		o          assess.Options
		total, max float64
		parts      []float64
		points     map[string]float64 // trace points by question
	}{
		// P1 = (2·0.75 + 1·0) ÷ 3 × 20 = 10; P2 = (3·1 + 1·0) ÷ 4 × 20 = 15.
		{"weighted-sum", assess.Options{}, 25, 40, []float64{10, 15},
			map[string]float64{"q1": 6.6667, "q2": 3.3333, "q3": 0, "q4": 0, "q5": 15, "q6": 0}},
		// (1 + 0.5 + 0 + 3 + 0) ÷ (1+1+1+3+1) = 4.5 ÷ 7.
		{"fulfilment", assess.Options{Method: assess.MethodFulfilment}, 64.2857, 100, []float64{50, 75},
			map[string]float64{"q1": 1, "q2": 0.5, "q5": 3}},
		// Only q5 has public evidence: 3 ÷ 7.
		{"fulfilment-public", assess.Options{Method: assess.MethodFulfilment, PublicOnly: true}, 42.8571, 100, []float64{0, 75},
			map[string]float64{"q1": 0, "q2": 0, "q5": 3}},
		// P1 = 1.5 ÷ 3 = 50%; P2 counts q5 only (q6 optional) = 100%.
		{"category-mean", assess.Options{Method: assess.MethodCategoryMean}, 75, 100, []float64{50, 100},
			map[string]float64{"q5": 3, "q6": 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := assess.Score(f, smallAnswers(), tt.o)
			if err != nil {
				t.Fatal(err)
			}
			if r.Total != tt.total || r.Max != tt.max {
				t.Errorf("Score(%s) = %v of %v, want %v of %v", tt.name, r.Total, r.Max, tt.total, tt.max)
			}
			for i, want := range tt.parts {
				if r.Parts[i].Score != want {
					t.Errorf("Score(%s).Parts[%d] = %v, want %v", tt.name, i, r.Parts[i].Score, want)
				}
			}
			got := map[string]float64{}
			for _, l := range r.Trace {
				got[l.Item] = l.Points
			}
			for q, want := range tt.points {
				if got[q] != want {
					t.Errorf("Score(%s) trace %s = %v points, want %v", tt.name, q, got[q], want)
				}
			}
			if r.Ruler.Framework != "small" || r.Ruler.Version != "1" || r.Ruler.MethodVersion == "" || r.Ruler.Weights["I1"] != 2 || r.Ruler.ID == "" {
				t.Errorf("Score(%s).Ruler = %+v, want the framework, method version and weights stamped", tt.name, r.Ruler)
			}
			golden(t, tt.name, r)
			// Reproducible: the same inputs give the same result.
			again, err := assess.Score(f, smallAnswers(), tt.o)
			if err != nil {
				t.Fatal(err)
			}
			a, _ := json.Marshal(r)
			b, _ := json.Marshal(again)
			if string(a) != string(b) {
				t.Errorf("Score(%s) is not reproducible:\n%s\n%s", tt.name, a, b)
			}
		})
	}
	// The public-evidence switch changes the ruler.
	a, _ := assess.Score(f, smallAnswers(), assess.Options{Method: assess.MethodFulfilment})
	b, _ := assess.Score(f, smallAnswers(), assess.Options{Method: assess.MethodFulfilment, PublicOnly: true})
	if a.Ruler.ID == b.Ruler.ID {
		t.Errorf("declared and public-evidence scores share ruler %s", a.Ruler.ID)
	}
	w, _ := assess.Score(f, smallAnswers(), assess.Options{})
	if w.Tier != "low" {
		t.Errorf("Score(weighted).Tier = %q, want low (25 of 40 is below 30)", w.Tier)
	}
}

// gated: stages a < b < c; each factor has one criterion of stage b and
// one of stage c.
const gated = `{
 "id": "gated", "version": "1", "title": "Gated", "method": "stage-gate", "stages": ["a", "b", "c"],
 "scales": [{"id": "met", "type": "choice", "options": [{"value": "met", "score": 1}, {"value": "not-met", "score": 0}]}],
 "items": [
  {"id": "D", "kind": "dimension", "title": "D"},
  {"id": "F1", "parent": "D", "kind": "factor", "title": "F1"},
  {"id": "F1.b", "parent": "F1", "kind": "question", "title": "b", "scale": "met", "stage": 2},
  {"id": "F1.c", "parent": "F1", "kind": "question", "title": "c", "scale": "met", "stage": 3},
  {"id": "F2", "parent": "D", "kind": "factor", "title": "F2"},
  {"id": "F2.b", "parent": "F2", "kind": "question", "title": "b", "scale": "met", "stage": 2},
  {"id": "F2.c", "parent": "F2", "kind": "question", "title": "c", "scale": "met", "stage": 3},
  {"id": "F3", "parent": "D", "kind": "factor", "title": "F3"},
  {"id": "F3.b", "parent": "F3", "kind": "question", "title": "b", "scale": "met", "stage": 2},
  {"id": "F3.c", "parent": "F3", "kind": "question", "title": "c", "scale": "met", "stage": 3}
 ]}`

func TestScoreStageGate(t *testing.T) {
	f := mustParse(t, gated)
	answers := map[string]assess.Answer{
		"F1.b": {Value: "met"}, "F1.c": {Value: "not-met"}, // stage b
		"F2.b": {Value: "not-met"}, "F2.c": {Value: "met"}, // a higher criterion does not lift it: stage a
		"F3.b": {Value: assess.ValueNA}, "F3.c": {Value: "met"}, // n/a is skipped: stage c
	}
	r, err := assess.Score(f, answers, assess.Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"F1": "b", "F2": "a", "F3": "c"}
	for _, p := range r.Factors {
		if p.StageName != want[p.Item] {
			t.Errorf("Score(gated) factor %s = stage %q, want %q", p.Item, p.StageName, want[p.Item])
		}
	}
	if r.Total != 2 || r.Max != 3 {
		t.Errorf("Score(gated) = %v of %v, want mean stage 2 of 3", r.Total, r.Max)
	}
	golden(t, "stage-gate", r)
}

// golden compares r with testdata/golden/name.json; -update rewrites it.
func golden(t *testing.T, name string, r *assess.Result) {
	t.Helper()
	got, err := json.MarshalIndent(r, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	path := filepath.Join("testdata", "golden", name+".json")
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if string(got) != string(want) {
		t.Errorf("Score(%s) differs from %s:\n%s", name, path, got)
	}
}
