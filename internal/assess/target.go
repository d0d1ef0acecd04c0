package assess

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"focal/internal/focal"
)

// The target definitions. "+40%" is ambiguous, so a target names which
// one it means.
const (
	// TargetGapClosure closes Share of the distance from the baseline to
	// the maximum: T = S₀ + Share·(Max − S₀). The default.
	TargetGapClosure = "gap-closure"
	// TargetRelative grows the baseline by Share: T = min(Max, S₀·(1+Share)).
	// Above Max ÷ (1+Share) (71.4 of 100 for +40%) the cap makes it
	// infeasible in full; the result says so.
	TargetRelative = "relative"
	// TargetAbsolute is a score to reach (Points), or the lowest score of
	// a named tier (Tier).
	TargetAbsolute = "absolute"
	// TargetPenetration compares readiness with what the country's ICT
	// penetration predicts across a stated peer set (a least-squares line
	// of score on penetration): T = S₀ + Share·max(0, Ŝ(p) − S₀), i.e.
	// close Share of the shortfall against peers; a country already at or
	// above its expectation gets a gap-closure target instead.
	TargetPenetration = "penetration"
)

// DefaultShare is the "40%" of the WSIS+10 target.
const DefaultShare = 0.4

// Target is a goal for a subject's score on one ruler.
type Target struct {
	Kind         string  `json:"kind"`
	Share        float64 `json:"share,omitempty"`  // relative, gap-closure, penetration; default 0.4
	Points       float64 `json:"points,omitempty"` // absolute
	Tier         string  `json:"tier,omitempty"`   // absolute, instead of Points
	Baseline     float64 `json:"baseline"`
	BaselineYear int     `json:"baseline_year"`
	TargetYear   int     `json:"target_year"`
	Max          float64 `json:"max"` // the ruler's maximum, e.g. 100
	// Penetration-adjusted targets only.
	Penetration float64     `json:"penetration,omitempty"` // the subject's own, e.g. % of individuals online
	Peers       []PeerPoint `json:"peers,omitempty"`
	Series      string      `json:"series,omitempty"` // the reference series and vintage used
}

// PeerPoint is one peer's score and ICT penetration.
type PeerPoint struct {
	Subject     string  `json:"subject"`
	Score       float64 `json:"score"`
	Penetration float64 `json:"penetration"`
}

// TargetValue is a computed target with how it was computed.
type TargetValue struct {
	Value    float64 `json:"value"`
	Feasible bool    `json:"feasible"` // false when a cap made the goal unreachable as stated
	Note     string  `json:"note"`
	// Penetration-adjusted: the fitted line and the expected score.
	Intercept float64 `json:"intercept,omitempty"`
	Slope     float64 `json:"slope,omitempty"`
	Expected  float64 `json:"expected,omitempty"`
	Residual  float64 `json:"residual,omitempty"` // S₀ − Ŝ(p)
}

// Validate checks a target's definition.
func (t *Target) Validate() error {
	if t.Kind == "" {
		t.Kind = TargetGapClosure
	}
	switch t.Kind {
	case TargetGapClosure, TargetRelative, TargetPenetration:
		if t.Share == 0 {
			t.Share = DefaultShare
		}
		if t.Share < 0 || t.Share > 10 {
			return focal.FieldErrorf("share", "want a share from 0 to 10 (0.4 = 40%%)")
		}
	case TargetAbsolute:
		if t.Tier == "" && t.Points <= 0 {
			return focal.FieldErrorf("points", "an absolute target needs points or a tier")
		}
	default:
		return focal.FieldErrorf("kind", "unknown target kind %q; want gap-closure, relative, absolute or penetration", t.Kind)
	}
	if t.Max <= 0 {
		t.Max = 100
	}
	if t.Baseline < 0 || t.Baseline > t.Max {
		return focal.FieldErrorf("baseline", "want a score from 0 to %s", num(t.Max))
	}
	if t.TargetYear != 0 && t.BaselineYear != 0 && t.TargetYear <= t.BaselineYear {
		return focal.FieldErrorf("target_year", "must come after the baseline year %d", t.BaselineYear)
	}
	if t.Kind == TargetPenetration {
		if len(t.Peers) < 3 {
			return focal.FieldErrorf("peers", "a penetration-adjusted target needs a peer set of at least three")
		}
		if t.Penetration <= 0 {
			return focal.FieldErrorf("penetration", "the subject's ICT penetration is missing")
		}
	}
	return nil
}

// Compute returns the target value; f resolves tier names (may be nil
// when no tier is used).
func (t Target) Compute(f *Framework) (TargetValue, error) {
	if err := t.Validate(); err != nil {
		return TargetValue{}, err
	}
	s0, max := t.Baseline, t.Max
	switch t.Kind {
	case TargetGapClosure:
		v := s0 + t.Share*(max-s0)
		note := fmt.Sprintf("close %s%% of the gap to %s: %s + %s × (%s − %s)", num(t.Share*100), num(max), num(s0), num(t.Share), num(max), num(s0))
		if s0 >= max {
			note = "the baseline is already the maximum: nothing left to close"
		}
		return TargetValue{Value: round(v), Feasible: true, Note: note}, nil
	case TargetRelative:
		v := s0 * (1 + t.Share)
		tv := TargetValue{Value: round(v), Feasible: true, Note: fmt.Sprintf("%s × %s", num(s0), num(1+t.Share))}
		if v > max {
			tv.Value, tv.Feasible = max, false
			tv.Note = fmt.Sprintf("%s × %s = %s exceeds the maximum: capped at %s (infeasible above a baseline of %s)",
				num(s0), num(1+t.Share), num(v), num(max), num(max/(1+t.Share)))
		}
		return tv, nil
	case TargetAbsolute:
		if t.Tier != "" {
			if f == nil {
				return TargetValue{}, focal.FieldErrorf("tier", "no framework to look the tier up in")
			}
			for _, tr := range f.Tiers {
				if strings.EqualFold(tr.Name, t.Tier) {
					v := tr.Min * max / f.Total
					return TargetValue{Value: round(v), Feasible: true, Note: fmt.Sprintf("reach tier %s (from %s)", tr.Name, num(v))}, nil
				}
			}
			return TargetValue{}, focal.FieldErrorf("tier", "%s has no tier %q", f.Ref(), t.Tier)
		}
		tv := TargetValue{Value: round(math.Min(t.Points, max)), Feasible: t.Points <= max, Note: fmt.Sprintf("reach %s points", num(t.Points))}
		return tv, nil
	case TargetPenetration:
		a, b, err := fitLine(t.Peers)
		if err != nil {
			return TargetValue{}, err
		}
		exp := math.Max(0, math.Min(max, a+b*t.Penetration))
		tv := TargetValue{Intercept: round(a), Slope: round(b), Expected: round(exp), Residual: round(s0 - exp), Feasible: true}
		if exp > s0 {
			tv.Value = round(s0 + t.Share*(exp-s0))
			tv.Note = fmt.Sprintf("peers at %s%% penetration are expected to score %s; close %s%% of the shortfall of %s", num(t.Penetration), num(exp), num(t.Share*100), num(exp-s0))
		} else {
			tv.Value = round(s0 + t.Share*(max-s0))
			tv.Note = fmt.Sprintf("already %s above what peers at %s%% penetration score (%s): close %s%% of the gap to %s instead", num(s0-exp), num(t.Penetration), num(exp), num(t.Share*100), num(max))
		}
		return tv, nil
	}
	return TargetValue{}, focal.FieldErrorf("kind", "unknown target kind %q", t.Kind)
}

// fitLine fits score = a + b·penetration by least squares.
func fitLine(peers []PeerPoint) (a, b float64, err error) {
	n := float64(len(peers))
	var sx, sy, sxx, sxy float64
	for _, p := range peers {
		sx += p.Penetration
		sy += p.Score
		sxx += p.Penetration * p.Penetration
		sxy += p.Penetration * p.Score
	}
	d := n*sxx - sx*sx
	if d == 0 {
		return 0, 0, focal.FieldErrorf("peers", "the peers' penetration does not vary: no line to fit")
	}
	b = (n*sxy - sx*sy) / d
	a = (sy - b*sx) / n
	return a, b, nil
}

// Progress is how far a current score has come from the baseline toward
// the target: 0 at the baseline, 1 at the target. A zero gap (target equal
// to the baseline) is complete when the score holds.
func Progress(baseline, target, current float64) float64 {
	gap := target - baseline
	if gap == 0 {
		if current >= baseline {
			return 1
		}
		return 0
	}
	return round((current - baseline) / gap)
}

// DefaultOverlap is the least share of a framework's questions a
// crosswalk must cover before progress across versions is reported.
const DefaultOverlap = 0.6

// Overlap is what a crosswalk comparison had in common.
type Overlap struct {
	From     string            `json:"from"` // framework@version of the old answers
	To       string            `json:"to"`
	Common   int               `json:"common"` // questions of To answered through an equivalent link
	Total    int               `json:"total"`  // questions of To
	Share    float64           `json:"share"`
	Mapping  map[string]string `json:"mapping"`  // To item → From item
	Unmapped []string          `json:"unmapped"` // To questions with no equivalent
}

// Translate carries answers given under framework from to framework to
// through to's equivalent crosswalk links (a question of to linked to a
// question of from), returning the answers keyed by to's items and the
// overlap. Answers whose value is not on the new scale are dropped.
func Translate(from, to *Framework, answers map[string]Answer) (map[string]Answer, Overlap) {
	ov := Overlap{From: from.Ref(), To: to.Ref(), Mapping: map[string]string{}, Unmapped: []string{}}
	out := map[string]Answer{}
	for _, q := range to.Questions() {
		ov.Total++
		mapped := ""
		for _, l := range q.Crosswalk {
			if l.Relation == RelEquivalent && l.Framework == from.ID && l.Version == from.Version {
				if oq := from.Item(l.Item); oq != nil && oq.Kind == KindQuestion {
					mapped = l.Item
					break
				}
			}
		}
		if mapped == "" && from.ID == to.ID {
			// Same framework, new version: an unchanged id is equivalent
			// unless its scale changed.
			if oq := from.Item(q.ID); oq != nil && oq.Kind == KindQuestion && sameScale(from.ScaleOf(oq), to.ScaleOf(q)) {
				mapped = q.ID
			}
		}
		if mapped == "" {
			ov.Unmapped = append(ov.Unmapped, q.ID)
			continue
		}
		ov.Common++
		ov.Mapping[q.ID] = mapped
		if a, ok := answers[mapped]; ok {
			a.Item = q.ID
			if a.Value == ValueNA || a.Value == "" {
				out[q.ID] = a
				continue
			}
			if _, err := to.ScaleOf(q).Fraction(a.Value); err == nil {
				out[q.ID] = a
			}
		}
	}
	if ov.Total > 0 {
		ov.Share = round(float64(ov.Common) / float64(ov.Total))
	}
	sort.Strings(ov.Unmapped)
	return out, ov
}

func sameScale(a, b *Scale) bool {
	if a == nil || b == nil || a.Type != b.Type || a.Min != b.Min || a.Max != b.Max || len(a.Options) != len(b.Options) {
		return false
	}
	for i := range a.Options {
		if a.Options[i] != b.Options[i] {
			return false
		}
	}
	return true
}

// Comparison is progress between two scores on one ruler.
type Comparison struct {
	Ruler   Ruler    `json:"ruler"`
	Before  *Result  `json:"before"`
	After   *Result  `json:"after"`
	Change  float64  `json:"change"` // After.Percent − Before.Percent
	Overlap *Overlap `json:"overlap,omitempty"`
	Crossed bool     `json:"crosswalked"` // the frameworks differ: scored on common items
}

// Compare scores old answers (under oldF) and new answers (under newF)
// on one ruler. Same framework version: both are scored as they are. A
// different version or framework: the old answers are translated through
// the crosswalk, and both are scored on the common items only; below
// minOverlap (DefaultOverlap when 0) the comparison is refused with an
// ECONFLICT error that states the overlap.
func Compare(oldF *Framework, oldAnswers map[string]Answer, newF *Framework, newAnswers map[string]Answer, o Options, minOverlap float64) (*Comparison, error) {
	if minOverlap <= 0 {
		minOverlap = DefaultOverlap
	}
	if oldF.ID == newF.ID && oldF.Version == newF.Version && oldF.Hash == newF.Hash {
		before, err := Score(oldF, oldAnswers, o)
		if err != nil {
			return nil, err
		}
		after, err := Score(newF, newAnswers, o)
		if err != nil {
			return nil, err
		}
		return &Comparison{Ruler: after.Ruler, Before: before, After: after, Change: round(after.Percent - before.Percent)}, nil
	}
	translated, ov := Translate(oldF, newF, oldAnswers)
	if ov.Share < minOverlap {
		return nil, focal.Errorf(focal.ECONFLICT, "%s and %s share %d of %d questions (%s%%), below the %s%% needed to compare",
			ov.From, ov.To, ov.Common, ov.Total, num(ov.Share*100), num(minOverlap*100))
	}
	o.Only = map[string]bool{}
	for id := range ov.Mapping {
		o.Only[id] = true
	}
	before, err := Score(newF, translated, o)
	if err != nil {
		return nil, err
	}
	after, err := Score(newF, newAnswers, o)
	if err != nil {
		return nil, err
	}
	return &Comparison{Ruler: after.Ruler, Before: before, After: after, Change: round(after.Percent - before.Percent), Overlap: &ov, Crossed: true}, nil
}
