package ui

import (
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"strings"

	"focal/internal/assess"
	"focal/internal/focal"
	"focal/internal/store"
)

// targetRow is a target with the progress of the assessment shown.
type targetRow struct {
	Kind, Definition         string
	Baseline, Value, Current string
	BaselineYear, TargetYear int
	Progress                 string // e.g. "35%", "" when not on the same ruler
	ProgressPct              int    // 0–100 for the meter
	Note                     string
	Feasible                 bool
}

// targetRows measures s against each target on its framework: progress
// only on the baseline's ruler (the same framework version and method),
// else through the crosswalk (the overlap is shown, no figure).
func (h *handlers) targetRows(r *http.Request, targets []store.AssessTarget, s *scored, public bool) []targetRow {
	var out []targetRow
	for _, t := range targets {
		if t.FrameworkKey != s.A.Framework.Key {
			continue
		}
		d := t.Definition
		row := targetRow{Kind: d.Kind, Definition: assessTargetLabel(d), Baseline: num1(d.Baseline), Value: num1(t.Value.Value), BaselineYear: d.BaselineYear,
			TargetYear: d.TargetYear, Note: t.Value.Note, Feasible: t.Value.Feasible}
		var base *store.Assessment
		var err error
		if public {
			base, err = h.store.PublishedAssessment(r.Context(), t.AssessmentID)
		} else {
			base, err = h.store.Assessment(r.Context(), t.AssessmentID)
		}
		if err != nil || s.Declared == nil {
			out = append(out, row)
			continue
		}
		cmp, err := h.store.CompareAssessments(r.Context(), base, s.A, assess.Options{Method: base.Method}, 0)
		switch {
		case err != nil:
			row.Note = focal.ErrorMessage(err)
		case cmp.Crossed:
			row.Note = fmt.Sprintf("Different framework version: compared through the crosswalk on %d of %d questions (change %s points); the target stays on its own ruler.",
				cmp.Overlap.Common, cmp.Overlap.Total, num1(cmp.Change))
		default:
			p := assess.Progress(d.Baseline, t.Value.Value, cmp.After.Total)
			row.Current = num1(cmp.After.Total)
			row.Progress = num1(p*100) + "%"
			if p >= 1 {
				row.Progress = "reached (" + num1(p*100) + "%)"
			}
			row.ProgressPct = int(maxf(0, minf(1, p)) * 100)
		}
		out = append(out, row)
	}
	return out
}

func minf(a, b float64) float64 {
	if a < b {
		return a
	}
	return b
}

// assessTargetLabel says what a target definition means, for people.
func assessTargetLabel(d assess.Target) string {
	switch d.Kind {
	case assess.TargetGapClosure:
		return fmt.Sprintf("close %s%% of the gap to the maximum", num1(d.Share*100))
	case assess.TargetRelative:
		return fmt.Sprintf("+%s%% of the baseline (capped)", num1(d.Share*100))
	case assess.TargetAbsolute:
		if d.Tier != "" {
			return "reach tier " + d.Tier
		}
		return "reach " + num1(d.Points) + " points"
	case assess.TargetPenetration:
		return fmt.Sprintf("close %s%% of the shortfall against peers of equal ICT penetration (%s)", num1(d.Share*100), d.Series)
	}
	return d.Kind
}

// assessDetailPage is the data of an assessment's dashboard and editor.
type assessDetailPage struct {
	base
	A           *store.Assessment
	Ref         string
	Declared    *assess.Result
	Public      *assess.Result
	Frozen      bool
	Pillars     []pillarRow
	Factors     []assess.Part
	Bars        template.HTML
	Radar       template.HTML
	Sections    []sectionRows
	Targets     []targetRow
	Compare     *comparison
	Diff        []store.AnswerChange
	Error       string // a refused action or answer
	ErrorItem   string
	MayEdit     bool // answer questions (a draft)
	MaySubmit   bool
	MayReturn   bool
	MayValidate bool
	MayPublish  bool
	MayRevise   bool
	MayTarget   bool
	TargetKinds []string
	Stages      []string
	Reference   []referenceRow // published numbers by others, kept apart
	// The scores formatted for people.
	DeclaredText, PublicText, PercentText, MaxText string
}

// referenceRow is one value of a reference series for the subject.
type referenceRow struct {
	Series, Vintage, Unit, Source string
	Year                          int
	Value                         string
}

// assessDetail serves GET /assess/{id}: the assessment's score (declared
// and publicly evidenced), its breakdown by pillar, the progress toward
// its targets, the comparison with the other subjects, and — while a
// draft — the answer forms; the actions its state allows.
func (h *handlers) assessDetail(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		h.error(w, r, err)
		return
	}
	h.showAssessment(w, r, id, http.StatusOK, nil, "")
}

func (h *handlers) showAssessment(w http.ResponseWriter, r *http.Request, id int64, status int, actionErr error, item string) {
	ctx := r.Context()
	p := focal.PrincipalFromContext(ctx)
	a, err := h.store.Assessment(ctx, id)
	if err != nil {
		h.error(w, r, err)
		return
	}
	s, err := h.scoreOf(ctx, a)
	if err != nil {
		h.error(w, r, err)
		return
	}
	write := may(r, focal.ActionUpdate, focal.Resource{Kind: focal.KindAssessment})
	page := assessDetailPage{base: h.base(r, a.SubjectName+" "+a.Period), A: a, Ref: a.Framework.Ref(), Declared: s.Declared, Public: s.Public,
		Frozen: s.Frozen, Pillars: pillarRows(s), Bars: pillarBars(s), Sections: questionSections(s, false), Diff: a.Diff,
		MayEdit: write && a.State == store.AssessDraft, MaySubmit: write && a.State == store.AssessDraft,
		MayReturn:   write && a.State == store.AssessSubmitted,
		MayValidate: write && a.State == store.AssessSubmitted && p.UserID != a.AuthorID,
		MayPublish:  a.State == store.AssessValidated && p.Role == focal.RoleCoordinator && !p.ReadOnly,
		MayRevise:   write && a.State == store.AssessPublished && !a.Superseded,
		MayTarget:   write && a.Score != nil,
		TargetKinds: []string{assess.TargetGapClosure, assess.TargetRelative, assess.TargetAbsolute, assess.TargetPenetration},
		Stages:      s.F.Stages,
	}
	if s.Declared != nil {
		page.DeclaredText, page.PercentText, page.MaxText = num1(s.Declared.Total), num1(s.Declared.Percent), num1(s.Declared.Max)
		page.PublicText = num1(pubTotal(s))
		page.Factors = s.Declared.Factors
		if len(s.Declared.Parts) >= 3 {
			var axes []string
			var dv, pv []float64
			for i, pt := range s.Declared.Parts {
				axes = append(axes, pt.Title)
				dv = append(dv, pt.Score/maxf(pt.Max, 1e-9))
				if s.Public != nil && i < len(s.Public.Parts) {
					pv = append(pv, s.Public.Parts[i].Score/maxf(pt.Max, 1e-9))
				}
			}
			page.Radar = radarChart("pillar-radar", "Profile", "share of each maximum, declared and publicly evidenced", axes,
				[]string{"Declared", "Public evidence only"}, [][]float64{dv, pv})
		}
	}
	if actionErr != nil {
		page.Error, page.ErrorItem = focal.ErrorMessage(actionErr), item
	}
	targets, err := h.store.Targets(ctx, a.Subject)
	if err != nil {
		h.error(w, r, err)
		return
	}
	page.Targets = h.targetRows(r, targets, s, false)
	if page.Reference, err = h.referenceRows(r, a.Subject); err != nil {
		h.error(w, r, err)
		return
	}
	if page.Compare, err = h.comparison(ctx, a.Framework.Key, a.Method, false, a.Subject, func(id int64) string { return "/assess/" + strconv.FormatInt(id, 10) }); err != nil {
		h.error(w, r, err)
		return
	}
	h.render(w, r, status, "assess_detail", page)
}

// refuse shows the assessment again with err when it is the user's
// (invalid input, wrong state, wrong person), else the error page.
func (h *handlers) refuse(w http.ResponseWriter, r *http.Request, id int64, err error, item string) {
	switch focal.ErrorCode(err) {
	case focal.EINVALID:
		h.showAssessment(w, r, id, http.StatusBadRequest, err, item)
	case focal.ECONFLICT, focal.EFORBIDDEN:
		h.showAssessment(w, r, id, http.StatusConflict, err, item)
	default:
		h.error(w, r, err)
	}
}

// assessAnswer serves POST /assess/{id}/answers: one question's answer
// with its evidence (a URL, or a file uploaded with the form), the date
// the evidence applies to, its visibility and review date.
func (h *handlers) assessAnswer(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		h.error(w, r, err)
		return
	}
	if err := r.ParseMultipartForm(1 << 20); err != nil && !errors.Is(err, http.ErrNotMultipart) {
		h.error(w, r, focal.Wrap(focal.EINVALID, err, "malformed form"))
		return
	}
	if err := parseForm(r); err != nil {
		h.error(w, r, err)
		return
	}
	item := r.FormValue("item")
	ans := assess.Answer{Item: item, Value: r.FormValue("value"), Comment: strings.TrimSpace(r.FormValue("comment")), Evidence: assess.Evidence{
		URL: strings.TrimSpace(r.FormValue("evidence_url")), Date: r.FormValue("evidence_date"), Visibility: r.FormValue("visibility"),
		ReviewBy: r.FormValue("review_by"), SHA256: r.FormValue("evidence_sha256"), FileName: r.FormValue("evidence_name")}}
	if r.MultipartForm != nil {
		if fhs := r.MultipartForm.File["evidence_file"]; len(fhs) > 0 && fhs[0].Size > 0 {
			if h.files == nil {
				h.refuse(w, r, id, focal.Errorf(focal.EUNAVAILABLE, "file uploads are off"), item)
				return
			}
			f, err := fhs[0].Open()
			if err != nil {
				h.error(w, r, err)
				return
			}
			saved, err := h.files.Save(f, fhs[0].Header.Get("Content-Type"))
			f.Close()
			if err != nil {
				h.refuse(w, r, id, err, item)
				return
			}
			ans.Evidence.SHA256, ans.Evidence.FileName = saved.SHA256, safeFileName(fhs[0].Filename)
		}
	}
	if r.FormValue("remove_file") != "" {
		ans.Evidence.SHA256, ans.Evidence.FileName = "", ""
	}
	if err := h.store.SaveAnswer(r.Context(), id, ans); err != nil {
		h.refuse(w, r, id, err, item)
		return
	}
	redirect(w, r, withNotice(fmt.Sprintf("/assess/%d", id), "saved")+"#q-"+item)
}

// assessMeasure serves POST /assess/{id}/measure: focal measures the
// metric a question is bound to over the assessment's year and stores it
// as the answer.
func (h *handlers) assessMeasure(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		h.error(w, r, err)
		return
	}
	if err := parseForm(r); err != nil {
		h.error(w, r, err)
		return
	}
	ctx := r.Context()
	item := r.FormValue("item")
	a, err := h.store.Assessment(ctx, id)
	if err != nil {
		h.error(w, r, err)
		return
	}
	f, err := h.store.FrameworkOf(ctx, a)
	if err != nil {
		h.error(w, r, err)
		return
	}
	q := f.Item(item)
	if q == nil || q.Metric == "" {
		h.refuse(w, r, id, focal.FieldErrorf("item", "%q is not a measured question", item), item)
		return
	}
	m, err := h.store.MeasureMetric(ctx, q.Metric, q.MetricClass, assess.YearWindow(a.Year), h.calendar)
	if err != nil {
		h.refuse(w, r, id, err, item)
		return
	}
	ans := assess.Answer{Item: item, Value: strconv.FormatFloat(m.Value, 'f', -1, 64), Measured: m, Comment: "measured by focal: " + m.Detail}
	if err := h.store.SaveAnswer(ctx, id, ans); err != nil {
		h.refuse(w, r, id, err, item)
		return
	}
	redirect(w, r, withNotice(fmt.Sprintf("/assess/%d", id), "saved")+"#q-"+item)
}

// assessState serves POST /assess/{id}/state: submit, return, validate,
// publish, or revise (a correction of a published assessment).
func (h *handlers) assessState(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		h.error(w, r, err)
		return
	}
	if err := parseForm(r); err != nil {
		h.error(w, r, err)
		return
	}
	action := r.FormValue("action")
	if action == "revise" {
		if !may(r, focal.ActionCreate, focal.Resource{Kind: focal.KindAssessment}) {
			h.error(w, r, focal.Errorf(focal.EFORBIDDEN, "you may not correct assessments"))
			return
		}
		rev, err := h.store.Revise(r.Context(), id)
		if err != nil {
			h.refuse(w, r, id, err, "")
			return
		}
		redirect(w, r, withNotice(fmt.Sprintf("/assess/%d", rev.ID), "created"))
		return
	}
	if _, err := h.store.Transition(r.Context(), id, action); err != nil {
		h.refuse(w, r, id, err, "")
		return
	}
	redirect(w, r, withNotice(fmt.Sprintf("/assess/%d", id), "saved"))
}

// assessTarget serves POST /assess/{id}/target: a target from this
// (validated) assessment as the baseline; gap closure of 40% by default.
func (h *handlers) assessTarget(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		h.error(w, r, err)
		return
	}
	if err := parseForm(r); err != nil {
		h.error(w, r, err)
		return
	}
	def := assess.Target{Kind: r.FormValue("kind"), Tier: strings.TrimSpace(r.FormValue("tier")), Series: strings.TrimSpace(r.FormValue("series"))}
	var bad error
	num := func(name string) float64 {
		v := strings.TrimSpace(r.FormValue(name))
		if v == "" {
			return 0
		}
		f, err := strconv.ParseFloat(v, 64)
		if err != nil && bad == nil {
			bad = focal.FieldErrorf(name, "want a number, got %q", v)
		}
		return f
	}
	def.Share = num("share") / 100
	def.Points = num("points")
	def.TargetYear = int(num("target_year"))
	if bad != nil {
		h.refuse(w, r, id, bad, "")
		return
	}
	var peers []string
	for _, p := range strings.FieldsFunc(r.FormValue("peers"), func(c rune) bool { return c == ',' || c == ' ' }) {
		peers = append(peers, p)
	}
	if _, err := h.store.SetTarget(r.Context(), id, def, peers); err != nil {
		h.refuse(w, r, id, err, "")
		return
	}
	redirect(w, r, withNotice(fmt.Sprintf("/assess/%d", id), "saved"))
}

// assessExport serves GET /assess/{id}/export.{csv,json}: everything,
// restricted evidence included (staff only).
func (h *handlers) assessExport(format string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, err := pathID(r)
		if err != nil {
			h.error(w, r, err)
			return
		}
		a, err := h.store.Assessment(r.Context(), id)
		if err != nil {
			h.error(w, r, err)
			return
		}
		h.exportAssessment(w, r, a, format, false)
	}
}

// assessEvidence serves GET /assess/{id}/evidence/{item}: the file behind
// an answer (staff).
func (h *handlers) assessEvidence(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		h.error(w, r, err)
		return
	}
	a, err := h.store.Assessment(r.Context(), id)
	if err != nil {
		h.error(w, r, err)
		return
	}
	h.serveEvidence(w, r, a, r.PathValue("item"))
}

// referenceRows lists the reference series' values for subject.
func (h *handlers) referenceRows(r *http.Request, subject string) ([]referenceRow, error) {
	series, err := h.store.ListSeries(r.Context())
	if err != nil {
		return nil, err
	}
	var out []referenceRow
	for _, sr := range series {
		pts, err := h.store.SeriesPoints(r.Context(), sr.Name, []string{subject})
		if err != nil {
			return nil, err
		}
		for _, p := range pts {
			if p.Vintage != sr.Vintage {
				continue
			}
			out = append(out, referenceRow{Series: sr.Name, Vintage: sr.Vintage, Unit: sr.Unit, Source: sr.Source, Year: p.Year, Value: num2(p.Value)})
		}
	}
	return out, nil
}
