package assess

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"sort"
	"strconv"

	"focal/internal/focal"
)

// The scoring methods.
const (
	// MethodWeightedSum (GCI-like): each top-level item scores up to its
	// Max (20 of 100 for five pillars) as the weighted mean of its
	// children, recursively; the total is the sum.
	MethodWeightedSum = "weighted-sum"
	// MethodFulfilment (NCSI-like): points earned ÷ points applicable ×
	// 100, a question's weight being its points; PublicOnly counts only
	// answers with public evidence.
	MethodFulfilment = "fulfilment"
	// MethodStageGate (CMM-like): each factor (a question's parent)
	// reaches the highest stage whose criteria, and all lower ones, are
	// met in full.
	MethodStageGate = "stage-gate"
	// MethodCategoryMean (internet.nl-like): each top-level category
	// scores its non-optional questions' weighted points ÷ their maximum;
	// the total is the unweighted mean of the categories.
	MethodCategoryMean = "category-mean"
)

// methods maps each method to its version: a change to how a method
// computes is a new version, so old scores keep their meaning.
var methods = map[string]string{
	MethodWeightedSum:  "1",
	MethodFulfilment:   "1",
	MethodStageGate:    "1",
	MethodCategoryMean: "1",
}

// MethodNames lists the scoring methods.
func MethodNames() []string {
	out := make([]string, 0, len(methods))
	for m := range methods {
		out = append(out, m)
	}
	sort.Strings(out)
	return out
}

// MethodVersion returns the version of method m ("" for an unknown one).
func MethodVersion(m string) string { return methods[m] }

// Options choose how Score computes.
type Options struct {
	Method     string // "" = the framework's default
	PublicOnly bool   // count only answers whose evidence is public
	// Only, when not nil, limits scoring to these questions (the common
	// items of a crosswalk comparison); the rest are left out like n/a.
	Only map[string]bool
}

// Ruler is the stamp every score carries: two scores are comparable only
// when their rulers are equal.
type Ruler struct {
	ID            string             `json:"id"` // hash of everything below
	Framework     string             `json:"framework"`
	Version       string             `json:"version"`
	FrameworkHash string             `json:"framework_hash"`
	Method        string             `json:"method"`
	MethodVersion string             `json:"method_version"`
	PublicOnly    bool               `json:"public_only"`
	Subset        int                `json:"subset,omitempty"` // number of items when limited to common items
	Weights       map[string]float64 `json:"weights"`
}

// Part is the score of one top-level item (pillar, dimension, category)
// or, for the stage gate, of one factor.
type Part struct {
	Item      string  `json:"item"`
	Title     string  `json:"title"`
	Score     float64 `json:"score"`
	Max       float64 `json:"max"`
	Stage     int     `json:"stage,omitempty"` // stage gate: 0 = none reached
	StageName string  `json:"stage_name,omitempty"`
	Parent    string  `json:"parent,omitempty"` // stage gate factors: their top-level item
}

// Line explains one question's contribution.
type Line struct {
	Item     string  `json:"item"`
	Top      string  `json:"top"`
	Value    string  `json:"value"`
	Fraction float64 `json:"fraction"` // what the answer is worth, 0–1
	Weight   float64 `json:"weight"`
	Points   float64 `json:"points"` // contribution to the total
	Max      float64 `json:"max"`    // the most it could contribute
	Counted  bool    `json:"counted"`
	Note     string  `json:"note,omitempty"`
}

// Result is an explained, stamped score.
type Result struct {
	Ruler     Ruler   `json:"ruler"`
	Total     float64 `json:"total"`
	Max       float64 `json:"max"`
	Percent   float64 `json:"percent"` // Total ÷ Max × 100
	Tier      string  `json:"tier,omitempty"`
	Parts     []Part  `json:"parts"`
	Factors   []Part  `json:"factors,omitempty"` // stage gate only
	Trace     []Line  `json:"trace"`
	Questions int     `json:"questions"` // counted questions
	Answered  int     `json:"answered"`
	NA        int     `json:"not_applicable"`
}

// Score scores answers (by question id) under framework f. It is
// deterministic: the same framework, answers and options always give the
// same result, stamped with the same ruler.
func Score(f *Framework, answers map[string]Answer, o Options) (*Result, error) {
	if o.Method == "" {
		o.Method = f.Method
	}
	ver, ok := methods[o.Method]
	if !ok {
		return nil, focal.FieldErrorf("method", "unknown scoring method %q", o.Method)
	}
	if o.Method == MethodStageGate && len(f.Stages) < 2 {
		return nil, focal.FieldErrorf("method", "%s has no stages to gate", f.Ref())
	}
	r := &Result{Ruler: newRuler(f, o, ver)}
	s := scorer{f: f, answers: answers, o: o, r: r}
	switch o.Method {
	case MethodWeightedSum:
		s.weightedSum()
	case MethodFulfilment:
		s.fulfilment()
	case MethodStageGate:
		s.stageGate()
	case MethodCategoryMean:
		s.categoryMean()
	}
	r.Total, r.Max = round(r.Total), round(r.Max)
	if r.Max > 0 {
		r.Percent = round(r.Total / r.Max * 100)
	}
	if o.Method != MethodStageGate {
		r.Tier = f.TierOf(r.Percent * f.Total / 100)
	}
	return r, nil
}

func newRuler(f *Framework, o Options, ver string) Ruler {
	r := Ruler{Framework: f.ID, Version: f.Version, FrameworkHash: f.Hash, Method: o.Method, MethodVersion: ver,
		PublicOnly: o.PublicOnly, Weights: f.Weights()}
	if o.Only != nil {
		r.Subset = len(o.Only)
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%s\x00%s\x00%s\x00%t\x00%d\x00", r.Framework, r.Version, r.FrameworkHash, r.Method, ver, r.PublicOnly, r.Subset)
	ids := make([]string, 0, len(r.Weights))
	for id := range r.Weights {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		fmt.Fprintf(h, "%s=%s\x00", id, strconv.FormatFloat(r.Weights[id], 'g', -1, 64))
	}
	if o.Only != nil {
		only := make([]string, 0, len(o.Only))
		for id := range o.Only {
			only = append(only, id)
		}
		sort.Strings(only)
		for _, id := range only {
			fmt.Fprintf(h, "only=%s\x00", id)
		}
	}
	r.ID = hex.EncodeToString(h.Sum(nil))[:16]
	return r
}

func round(v float64) float64 { return math.Round(v*10000) / 10000 }

type scorer struct {
	f       *Framework
	answers map[string]Answer
	o       Options
	r       *Result
}

// eval is one question's answer as scoring sees it.
type eval struct {
	value    string
	fraction float64
	included bool // false: n/a or outside Only
	note     string
}

func (s *scorer) eval(q *Item) eval {
	if s.o.Only != nil && !s.o.Only[q.ID] {
		return eval{value: "", note: "not a common item"}
	}
	a, ok := s.answers[q.ID]
	if !ok || a.Value == "" {
		return eval{included: true, note: "unanswered: counts as 0"}
	}
	if a.Value == ValueNA {
		return eval{value: ValueNA, note: "not applicable: left out"}
	}
	fr, err := s.f.ScaleOf(q).Fraction(a.Value)
	if err != nil {
		return eval{value: a.Value, included: true, note: "off the scale: counts as 0"}
	}
	if s.o.PublicOnly && !a.Evidence.Public() {
		return eval{value: a.Value, included: true, note: "no public evidence: counts as 0"}
	}
	return eval{value: a.Value, fraction: fr, included: true}
}

// count tallies a question for the result's counters.
func (s *scorer) count(e eval) {
	switch {
	case e.value == ValueNA:
		s.r.NA++
	case e.included:
		s.r.Questions++
		if e.value != "" {
			s.r.Answered++
		}
	}
}

// weightedSum: frac(group) = Σ w·frac(child) ÷ Σ w over included
// children; a question's share of its pillar's maximum is the product of
// its normalised weights down the path.
func (s *scorer) weightedSum() {
	for _, top := range s.f.Children("") {
		frac, ok := s.groupFraction(top)
		pts := 0.0
		if ok {
			pts = frac * top.Max
		}
		s.r.Parts = append(s.r.Parts, Part{Item: top.ID, Title: top.Title, Score: round(pts), Max: top.Max})
		s.r.Total += pts
		s.r.Max += top.Max
		s.traceShares(top, top.ID, top.Max, ok)
	}
}

// groupFraction returns the weighted fraction of a group and whether any
// of its questions is included.
func (s *scorer) groupFraction(g *Item) (float64, bool) {
	if g.Kind == KindQuestion {
		e := s.eval(g)
		return e.fraction, e.included
	}
	var num, den float64
	any := false
	for _, c := range s.f.Children(g.ID) {
		fr, ok := s.groupFraction(c)
		if !ok {
			continue
		}
		any = true
		num += c.weight() * fr
		den += c.weight()
	}
	if den == 0 {
		return 0, any
	}
	return num / den, any
}

// traceShares writes the trace lines of g's questions, share being the
// points g can contribute.
func (s *scorer) traceShares(g *Item, top string, share float64, included bool) {
	if g.Kind == KindQuestion {
		e := s.eval(g)
		s.count(e)
		l := Line{Item: g.ID, Top: top, Value: e.value, Fraction: round(e.fraction), Weight: g.weight(), Counted: e.included && included, Note: e.note}
		if l.Counted {
			l.Max = round(share)
			l.Points = round(share * e.fraction)
		}
		s.r.Trace = append(s.r.Trace, l)
		return
	}
	var den float64
	for _, c := range s.f.Children(g.ID) {
		if _, ok := s.groupFraction(c); ok {
			den += c.weight()
		}
	}
	for _, c := range s.f.Children(g.ID) {
		_, ok := s.groupFraction(c)
		sh := 0.0
		if ok && den > 0 {
			sh = share * c.weight() / den
		}
		s.traceShares(c, top, sh, ok && included)
	}
}

// fulfilment: Σ points·fraction ÷ Σ points × 100 over included questions.
func (s *scorer) fulfilment() {
	var earned, possible float64
	for _, top := range s.f.Children("") {
		var e, p float64
		for _, q := range s.descendants(top) {
			ev := s.eval(q)
			s.count(ev)
			l := Line{Item: q.ID, Top: top.ID, Value: ev.value, Fraction: round(ev.fraction), Weight: q.weight(), Counted: ev.included, Note: ev.note}
			if ev.included {
				l.Max = q.weight()
				l.Points = round(q.weight() * ev.fraction)
				e += q.weight() * ev.fraction
				p += q.weight()
			}
			s.r.Trace = append(s.r.Trace, l)
		}
		pct := 0.0
		if p > 0 {
			pct = e / p * 100
		}
		s.r.Parts = append(s.r.Parts, Part{Item: top.ID, Title: top.Title, Score: round(pct), Max: 100})
		earned += e
		possible += p
	}
	s.r.Max = 100
	if possible > 0 {
		s.r.Total = earned / possible * 100
	}
	// Line points are in points; say so once.
	if len(s.r.Trace) > 0 && possible > 0 {
		s.r.Trace[0].Note = joinNote(s.r.Trace[0].Note, fmt.Sprintf("points earned %s of %s applicable", num(earned), num(possible)))
	}
}

func joinNote(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}

// descendants returns the questions under g in file order.
func (s *scorer) descendants(g *Item) []*Item {
	if g.Kind == KindQuestion {
		return []*Item{g}
	}
	var out []*Item
	for _, c := range s.f.Children(g.ID) {
		out = append(out, s.descendants(c)...)
	}
	return out
}

// stageGate: a factor (a question's parent) reaches the highest stage s
// such that every included question of stage ≤ s is met in full; the
// top-level score is the mean stage of its factors (ordinal, for charts).
func (s *scorer) stageGate() {
	n := len(s.f.Stages)
	var all []float64
	for _, top := range s.f.Children("") {
		var factors []*Item
		var find func(g *Item)
		find = func(g *Item) {
			hasQ := false
			for _, c := range s.f.Children(g.ID) {
				if c.Kind == KindQuestion {
					hasQ = true
				} else {
					find(c)
				}
			}
			if hasQ {
				factors = append(factors, g)
			}
		}
		find(top)
		var sum float64
		for _, fac := range factors {
			stage := n
			for _, q := range s.f.Children(fac.ID) {
				if q.Kind != KindQuestion {
					continue
				}
				ev := s.eval(q)
				s.count(ev)
				met := ev.included && ev.fraction >= 1
				l := Line{Item: q.ID, Top: top.ID, Value: ev.value, Fraction: round(ev.fraction), Weight: float64(q.Stage), Counted: ev.included, Note: ev.note}
				if ev.included {
					l.Max = 1
					if met {
						l.Points = 1
					} else {
						l.Note = joinNote(l.Note, "criterion of stage "+s.f.Stages[q.Stage-1]+" not met")
						if q.Stage-1 < stage {
							stage = q.Stage - 1
						}
					}
				}
				s.r.Trace = append(s.r.Trace, l)
			}
			name := "none"
			if stage > 0 {
				name = s.f.Stages[stage-1]
			}
			s.r.Factors = append(s.r.Factors, Part{Item: fac.ID, Title: fac.Title, Score: float64(stage), Max: float64(n), Stage: stage, StageName: name, Parent: top.ID})
			sum += float64(stage)
			all = append(all, float64(stage))
		}
		mean := 0.0
		if len(factors) > 0 {
			mean = sum / float64(len(factors))
		}
		s.r.Parts = append(s.r.Parts, Part{Item: top.ID, Title: top.Title, Score: round(mean), Max: float64(n)})
	}
	s.r.Max = float64(n)
	if len(all) > 0 {
		var sum float64
		for _, v := range all {
			sum += v
		}
		s.r.Total = sum / float64(len(all))
	}
}

// categoryMean: category = Σ w·fraction ÷ Σ w over its included,
// non-optional questions; total = unweighted mean of the categories that
// have any, × 100.
func (s *scorer) categoryMean() {
	var sum float64
	cats := 0
	for _, top := range s.f.Children("") {
		var e, p float64
		for _, q := range s.descendants(top) {
			ev := s.eval(q)
			l := Line{Item: q.ID, Top: top.ID, Value: ev.value, Fraction: round(ev.fraction), Weight: q.weight(), Note: ev.note}
			if q.Optional {
				l.Note = joinNote(l.Note, "optional: does not count")
			} else {
				s.count(ev)
				if ev.included {
					l.Counted = true
					l.Max = q.weight()
					l.Points = round(q.weight() * ev.fraction)
					e += q.weight() * ev.fraction
					p += q.weight()
				}
			}
			s.r.Trace = append(s.r.Trace, l)
		}
		part := Part{Item: top.ID, Title: top.Title, Max: 100}
		if p > 0 {
			part.Score = round(e / p * 100)
			sum += e / p * 100
			cats++
		}
		s.r.Parts = append(s.r.Parts, part)
	}
	s.r.Max = 100
	if cats > 0 {
		s.r.Total = sum / float64(cats)
	}
}
