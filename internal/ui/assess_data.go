package ui

import (
	"context"
	"fmt"
	"html/template"
	"sort"
	"strconv"
	"time"

	"focal/internal/assess"
	"focal/internal/store"
)

// scored is an assessment with the scores the pages show: the frozen
// ones once validated, else computed now from the stored answers.
type scored struct {
	A        *store.Assessment
	F        *assess.Framework
	Declared *assess.Result
	Public   *assess.Result
	Frozen   bool
}

// scoreOf returns a's declared and public-evidence scores.
func (h *handlers) scoreOf(ctx context.Context, a *store.Assessment) (*scored, error) {
	f, err := h.store.FrameworkOf(ctx, a)
	if err != nil {
		return nil, err
	}
	s := &scored{A: a, F: f, Declared: a.Score, Public: a.PublicScore, Frozen: a.Score != nil}
	if s.Declared == nil {
		if a.Answers == nil {
			return s, nil
		}
		if s.Declared, err = assess.Score(f, a.Answers, assess.Options{Method: a.Method}); err != nil {
			return nil, err
		}
		if s.Public, err = assess.Score(f, a.Answers, assess.Options{Method: a.Method, PublicOnly: true}); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// pillarRow is one top-level item's declared and public scores.
type pillarRow struct {
	Title    string
	Declared string
	Public   string
	Max      string
}

func pillarRows(s *scored) []pillarRow {
	var out []pillarRow
	if s.Declared == nil {
		return nil
	}
	for i, p := range s.Declared.Parts {
		row := pillarRow{Title: p.Title, Declared: num1(p.Score), Max: num1(p.Max)}
		if s.Public != nil && i < len(s.Public.Parts) {
			row.Public = num1(s.Public.Parts[i].Score)
		}
		out = append(out, row)
	}
	return out
}

// pillarBars draws the declared and public-evidence score of each
// top-level item.
func pillarBars(s *scored) template.HTML {
	if s.Declared == nil {
		return ""
	}
	var groups []barGroup
	max := 0.0
	for i, p := range s.Declared.Parts {
		g := barGroup{Label: p.Title, Values: []float64{p.Score}}
		if s.Public != nil && i < len(s.Public.Parts) {
			g.Values = append(g.Values, s.Public.Parts[i].Score)
		}
		max = maxf(max, p.Max)
		groups = append(groups, g)
	}
	return barChart("pillar-bars", "Score by "+topKind(s.F), fmt.Sprintf("%s: declared %s, publicly evidenced %s of %s",
		s.A.SubjectName, num1(s.Declared.Total), num1(pubTotal(s)), num1(s.Declared.Max)), []string{"Declared", "Public evidence only"}, groups, max)
}

func pubTotal(s *scored) float64 {
	if s.Public == nil {
		return 0
	}
	return s.Public.Total
}

func maxf(a, b float64) float64 {
	if a > b {
		return a
	}
	return b
}

func topKind(f *assess.Framework) string {
	if tops := f.Children(""); len(tops) > 0 {
		return tops[0].Kind
	}
	return "pillar"
}

// peerScore is the latest validated (staff) or published (public)
// assessment of one subject on a framework.
type peerScore struct {
	Subject string
	Name    string
	Year    int
	Score   *assess.Result
	ID      int64
}

// comparison gathers, for framework key and method, every subject's
// scored assessments (validated or published for staff, published only
// for the public), and draws the comparison charts: the latest score of
// each subject by top-level item (bars and radar) and their totals over
// the years (trend lines, with the targets dashed). highlight names the
// subject shown first.
type comparison struct {
	Bars, Radar, Trend template.HTML
	Rows               []peerRow
	Note               string
}

// peerRow is one subject in the comparison table.
type peerRow struct {
	Subject, Name, Year, Total, Percent, Tier string
	URL                                       string
}

func (h *handlers) comparison(ctx context.Context, key, method string, public bool, highlight string, urlFor func(id int64) string) (*comparison, error) {
	var list []*store.Assessment
	var err error
	if public {
		list, err = h.store.PublishedAssessments(ctx, store.AssessmentFilter{Framework: key})
	} else {
		list, err = h.store.Assessments(ctx, store.AssessmentFilter{Framework: key, Current: true})
	}
	if err != nil {
		return nil, err
	}
	bySubject := map[string][]*store.Assessment{}
	var subjects []string
	for _, a := range list {
		if a.Score == nil || a.Method != method {
			continue
		}
		if _, ok := bySubject[a.Subject]; !ok {
			subjects = append(subjects, a.Subject)
		}
		bySubject[a.Subject] = append(bySubject[a.Subject], a)
	}
	sort.Slice(subjects, func(i, j int) bool {
		if (subjects[i] == highlight) != (subjects[j] == highlight) {
			return subjects[i] == highlight
		}
		return subjects[i] < subjects[j]
	})
	c := &comparison{}
	if len(subjects) == 0 {
		c.Note = "No validated scores to compare yet."
		return c, nil
	}
	var latest []*store.Assessment
	var names []string
	var trend []lineSeries
	var max float64
	ruler := ""
	for _, subj := range subjects {
		as := bySubject[subj]
		sort.Slice(as, func(i, j int) bool { return as[i].Year > as[j].Year })
		l := as[0]
		latest = append(latest, l)
		names = append(names, l.SubjectName)
		max = l.Score.Max
		if ruler == "" {
			ruler = l.Score.Ruler.ID
		}
		ls := lineSeries{Name: l.SubjectName}
		for _, a := range as {
			// Only scores on one framework version share a ruler.
			if a.Framework.Version == l.Framework.Version {
				ls.Points = append(ls.Points, linePoint{X: a.Year, Y: a.Score.Total, Label: fmt.Sprintf("%s %s: %s", a.SubjectName, a.Period, num1(a.Score.Total))})
			}
		}
		trend = append(trend, ls)
		row := peerRow{Subject: subj, Name: l.SubjectName, Year: l.Period, Total: num1(l.Score.Total) + " / " + num1(l.Score.Max),
			Percent: num1(l.Score.Percent) + "%", Tier: l.Score.Tier}
		if urlFor != nil {
			row.URL = urlFor(l.ID)
		}
		c.Rows = append(c.Rows, row)
	}
	// Bars and radar: latest per subject, by top-level item.
	first := latest[0].Score
	var groups []barGroup
	var axes []string
	radar := make([][]float64, len(latest))
	for pi, p := range first.Parts {
		g := barGroup{Label: p.Title}
		axes = append(axes, p.Title)
		for li, l := range latest {
			v := 0.0
			if pi < len(l.Score.Parts) && l.Score.Parts[pi].Item == p.Item {
				v = l.Score.Parts[pi].Score
			}
			g.Values = append(g.Values, v)
			frac := 0.0
			if p.Max > 0 {
				frac = v / p.Max
			}
			radar[li] = append(radar[li], frac)
		}
		groups = append(groups, g)
	}
	partMax := 0.0
	for _, p := range first.Parts {
		partMax = maxf(partMax, p.Max)
	}
	c.Bars = barChart("compare-bars", "Latest scores side by side", fmt.Sprintf("%d subjects compared by %s", len(latest), topKind(mustFramework(h, ctx, latest[0]))), names, groups, partMax)
	c.Radar = radarChart("compare-radar", "Profile by "+topKind(mustFramework(h, ctx, latest[0])), "each axis is the share of its maximum", axes, names, radar)
	var targets []store.AssessTarget
	switch {
	case highlight == "": // no subject of its own: no target to draw
	case public:
		targets, err = h.store.PublishedTargets(ctx, highlight)
	default:
		targets, err = h.store.Targets(ctx, highlight)
	}
	if err != nil {
		return nil, err
	}
	// The default definition (gap closure) first.
	sort.SliceStable(targets, func(i, j int) bool {
		return targets[i].Definition.Kind == assess.TargetGapClosure && targets[j].Definition.Kind != assess.TargetGapClosure
	})
	for _, t := range targets {
		if t.FrameworkKey != key || t.Definition.TargetYear == 0 {
			continue
		}
		trend = append(trend, lineSeries{Name: "Target for " + t.Subject + " (" + t.Definition.Kind + ")", Dashed: true, Points: []linePoint{
			{X: t.Definition.BaselineYear, Y: t.Definition.Baseline}, {X: t.Definition.TargetYear, Y: t.Value.Value}}})
		break
	}
	c.Trend = lineChart("compare-trend", "Totals over time", "each subject's total by year on the same framework version; the dashed line is the target", trend, max)
	return c, nil
}

// mustFramework returns a's framework for labels, nil-safe for topKind.
func mustFramework(h *handlers, ctx context.Context, a *store.Assessment) *assess.Framework {
	f, err := h.store.FrameworkOf(ctx, a)
	if err != nil {
		return &assess.Framework{}
	}
	return f
}

// questionRow is one question on the assessment page.
type questionRow struct {
	ID, Title, Text, Help string
	Scale                 string // choice, stage, points, number
	Options               []optionRow
	Value, Comment        string
	Points, Max, Note     string
	Evidence              assess.Evidence
	Metric                string // bound metric title, if any
	Measured              *assess.Measurement
	Counted               bool
	ReviewDue             bool // the evidence's review-by date has passed
}

// optionRow is one answer option of a question.
type optionRow struct {
	Value, Label string
	Selected     bool
}

// sectionRows is a top-level item and its questions.
type sectionRows struct {
	ID, Title string
	Questions []questionRow
}

// questionSections lays out f's questions with a's answers and the
// score's trace; publicOnly hides restricted evidence and comments.
func questionSections(s *scored, publicOnly bool) []sectionRows {
	lines := map[string]assess.Line{}
	if s.Declared != nil {
		for _, l := range s.Declared.Trace {
			lines[l.Item] = l
		}
	}
	var out []sectionRows
	for _, top := range s.F.Children("") {
		sec := sectionRows{ID: top.ID, Title: top.Title}
		var walk func(id string)
		walk = func(id string) {
			for _, it := range s.F.Children(id) {
				if it.Kind != assess.KindQuestion {
					walk(it.ID)
					continue
				}
				ans := s.A.Answers[it.ID]
				sc := s.F.ScaleOf(it)
				q := questionRow{ID: it.ID, Title: it.Title, Text: it.Text, Help: it.Help, Scale: sc.Type, Value: ans.Value, Comment: ans.Comment,
					Evidence: ans.Evidence, Measured: ans.Measured}
				if m, ok := assess.MetricByID(it.Metric); ok {
					q.Metric = m.Title
				}
				q.ReviewDue = ans.Evidence.ReviewBy != "" && ans.Evidence.ReviewBy < time.Now().UTC().Format(time.DateOnly)
				for _, o := range sc.Options {
					label := o.Label
					if label == "" {
						label = o.Value
					}
					q.Options = append(q.Options, optionRow{Value: o.Value, Label: label, Selected: o.Value == ans.Value})
				}
				if l, ok := lines[it.ID]; ok {
					q.Points, q.Max, q.Note, q.Counted = num2(l.Points), num2(l.Max), l.Note, l.Counted
				}
				if publicOnly {
					q.Comment = ""
					if q.Evidence.Visibility != assess.VisibilityPublic {
						q.Evidence = assess.Evidence{}
					}
				}
				sec.Questions = append(sec.Questions, q)
			}
		}
		walk(top.ID)
		out = append(out, sec)
	}
	return out
}

func num2(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
