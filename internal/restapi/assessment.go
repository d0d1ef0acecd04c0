package restapi

import (
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"focal/internal/assess"
	"focal/internal/focal"
	"focal/internal/store"
)

// assessmentBody is an assessment as the API shows it: its answers and
// evidence, its scores with their per-item trace and ruler stamp (the
// frozen ones once validated, else computed now from the stored
// answers), and its targets with progress.
type assessmentBody struct {
	*store.Assessment
	Answers     []assess.Answer `json:"answers"`
	Current     *assess.Result  `json:"current_score,omitempty"`  // before validation: computed now
	CurrentPub  *assess.Result  `json:"current_public,omitempty"` // the same, public evidence only
	Targets     []targetBody    `json:"targets"`
	FrameworkID string          `json:"framework_ref"`
}

// targetBody is a target with the progress of the assessment it is shown
// with, when they are on the same ruler.
type targetBody struct {
	store.AssessTarget
	Progress *float64 `json:"progress,omitempty"` // 0 at the baseline, 1 at the target
	Note     string   `json:"progress_note,omitempty"`
}

func (a *API) assessmentToBody(r *http.Request, x *store.Assessment) (*assessmentBody, error) {
	b := &assessmentBody{Assessment: x, Answers: make([]assess.Answer, 0, len(x.Answers)), FrameworkID: x.Framework.Ref()}
	f, err := a.Store.FrameworkOf(r.Context(), x)
	if err != nil {
		return nil, err
	}
	for _, q := range f.Questions() {
		if ans, ok := x.Answers[q.ID]; ok {
			b.Answers = append(b.Answers, ans)
		}
	}
	if x.Score == nil {
		if b.Current, err = assess.Score(f, x.Answers, assess.Options{Method: x.Method}); err != nil {
			return nil, err
		}
		if b.CurrentPub, err = assess.Score(f, x.Answers, assess.Options{Method: x.Method, PublicOnly: true}); err != nil {
			return nil, err
		}
	}
	targets, err := a.Store.Targets(r.Context(), x.Subject)
	if err != nil {
		return nil, err
	}
	b.Targets = []targetBody{}
	for _, t := range targets {
		if t.FrameworkKey != x.Framework.Key {
			continue
		}
		b.Targets = append(b.Targets, a.progress(r, t, x))
	}
	return b, nil
}

// progress measures x against target t: only on the baseline's ruler,
// directly or through the crosswalk.
func (a *API) progress(r *http.Request, t store.AssessTarget, x *store.Assessment) targetBody {
	tb := targetBody{AssessTarget: t}
	base, err := a.Store.Assessment(r.Context(), t.AssessmentID)
	if err != nil {
		tb.Note = focal.ErrorMessage(err)
		return tb
	}
	cmp, err := a.Store.CompareAssessments(r.Context(), base, x, assess.Options{Method: base.Method}, 0)
	if err != nil {
		tb.Note = focal.ErrorMessage(err)
		return tb
	}
	if cmp.Crossed {
		tb.Note = fmt.Sprintf("through the crosswalk: %d of %d questions in common", cmp.Overlap.Common, cmp.Overlap.Total)
		return tb // the target's value is on the old ruler: no progress figure
	}
	p := assess.Progress(t.Definition.Baseline, t.Value.Value, cmp.After.Total)
	tb.Progress = &p
	return tb
}

// listAssessments serves GET /api/v1/assessments?subject=&framework=&state=:
// assessments without their answers.
func (a *API) listAssessments(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	found, err := a.Store.Assessments(r.Context(), store.AssessmentFilter{Subject: q.Get("subject"), Framework: q.Get("framework"), State: q.Get("state"),
		Current: q.Get("current") == "true"})
	if err != nil {
		a.Error(w, r, err)
		return
	}
	a.writeJSON(w, http.StatusOK, list[store.Assessment]{Items: deref(found), Total: len(found), Limit: len(found)})
}

func deref[T any](in []*T) []T {
	out := make([]T, 0, len(in))
	for _, p := range in {
		out = append(out, *p)
	}
	return out
}

// createAssessmentRequest is the body of POST /api/v1/assessments.
type createAssessmentRequest struct {
	SubjectKind string   `json:"subject_kind"`
	Subject     string   `json:"subject"`
	SubjectName string   `json:"subject_name"`
	Period      string   `json:"period"`
	Year        int      `json:"year"`
	Framework   string   `json:"framework"` // key@version
	Method      string   `json:"method"`
	Respondents []string `json:"respondents"`
}

// createAssessment serves POST /api/v1/assessments: a new draft.
func (a *API) createAssessment(w http.ResponseWriter, r *http.Request) {
	var req createAssessmentRequest
	if err := decode(r, &req); err != nil {
		a.Error(w, r, err)
		return
	}
	key, version, ok := strings.Cut(req.Framework, "@")
	if !ok {
		a.Error(w, r, focal.FieldErrorf("framework", "want key@version, e.g. focal-national@1.0"))
		return
	}
	x := &store.Assessment{SubjectKind: req.SubjectKind, Subject: req.Subject, SubjectName: req.SubjectName, Period: req.Period, Year: req.Year,
		Framework: store.FrameworkInfo{Key: key, Version: version}, Method: req.Method, Respondents: req.Respondents}
	if err := a.Store.CreateAssessment(r.Context(), x); err != nil {
		a.Error(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/assessments/"+strconv.FormatInt(x.ID, 10))
	a.writeJSON(w, http.StatusCreated, x)
}

// getAssessment serves GET /api/v1/assessments/{id}.
func (a *API) getAssessment(w http.ResponseWriter, r *http.Request) {
	x, ok := a.loadAssessment(w, r)
	if !ok {
		return
	}
	b, err := a.assessmentToBody(r, x)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	a.writeJSON(w, http.StatusOK, b)
}

func (a *API) loadAssessment(w http.ResponseWriter, r *http.Request) (*store.Assessment, bool) {
	id, err := pathID(r)
	if err != nil {
		a.Error(w, r, err)
		return nil, false
	}
	x, err := a.Store.Assessment(r.Context(), id)
	if err != nil {
		a.Error(w, r, err)
		return nil, false
	}
	return x, true
}

// answerRequest is the body of PUT /api/v1/assessments/{id}/answers/{item}.
type answerRequest struct {
	Value    string          `json:"value"`
	Comment  string          `json:"comment"`
	Evidence assess.Evidence `json:"evidence"`
}

// putAnswer serves PUT /api/v1/assessments/{id}/answers/{item}.
func (a *API) putAnswer(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	var req answerRequest
	if err := decode(r, &req); err != nil {
		a.Error(w, r, err)
		return
	}
	// The checker owns these; a client does not set them.
	req.Evidence.LinkBroken, req.Evidence.LinkStatus, req.Evidence.LinkCheckedAt, req.Evidence.UploadedAt = false, "", time.Time{}, time.Time{}
	ans := assess.Answer{Item: r.PathValue("item"), Value: req.Value, Comment: req.Comment, Evidence: req.Evidence}
	if err := a.Store.SaveAnswer(r.Context(), id, ans); err != nil {
		a.Error(w, r, err)
		return
	}
	x, err := a.Store.Assessment(r.Context(), id)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	a.writeJSON(w, http.StatusOK, x.Answers[ans.Item])
}

// measureAnswer serves POST /api/v1/assessments/{id}/answers/{item}/measure:
// focal computes the metric the question is bound to over the
// assessment's year and stores it as the answer, with its window and
// definition.
func (a *API) measureAnswer(w http.ResponseWriter, r *http.Request) {
	x, ok := a.loadAssessment(w, r)
	if !ok {
		return
	}
	ans, err := measure(r, a.Store, x, r.PathValue("item"), a.calendar())
	if err != nil {
		a.Error(w, r, err)
		return
	}
	a.writeJSON(w, http.StatusOK, ans)
}

// measure computes and saves the measured answer to question item of x.
func measure(r *http.Request, st *store.Store, x *store.Assessment, item string, cal focal.Calendar) (*assess.Answer, error) {
	f, err := st.FrameworkOf(r.Context(), x)
	if err != nil {
		return nil, err
	}
	q := f.Item(item)
	if q == nil || q.Metric == "" {
		return nil, focal.FieldErrorf("item", "%q is not a measured question of %s", item, f.Ref())
	}
	m, err := st.MeasureMetric(r.Context(), q.Metric, q.MetricClass, assess.YearWindow(x.Year), cal)
	if err != nil {
		return nil, err
	}
	ans := assess.Answer{Item: item, Value: strconv.FormatFloat(m.Value, 'f', -1, 64), Measured: m,
		Comment: "measured by focal: " + m.Detail}
	if err := st.SaveAnswer(r.Context(), x.ID, ans); err != nil {
		return nil, err
	}
	return &ans, nil
}

// uploadEvidence serves POST /api/v1/assessments/{id}/evidence?name=: the
// body is a file, stored by its SHA-256; the answer then refers to it
// with evidence.sha256.
func (a *API) uploadEvidence(w http.ResponseWriter, r *http.Request) {
	x, ok := a.loadAssessment(w, r)
	if !ok {
		return
	}
	if x.State != store.AssessDraft {
		a.Error(w, r, focal.Errorf(focal.ECONFLICT, "assessment %d is %s: only a draft takes evidence", x.ID, x.State))
		return
	}
	if a.Attachments == nil {
		a.Error(w, r, focal.Errorf(focal.EUNAVAILABLE, "file storage is not configured"))
		return
	}
	saved, err := a.Attachments.Save(r.Body, r.Header.Get("Content-Type"))
	if err != nil {
		a.Error(w, r, err)
		return
	}
	a.writeJSON(w, http.StatusCreated, map[string]any{"sha256": saved.SHA256, "size": saved.Size, "content_type": saved.ContentType,
		"file_name": r.URL.Query().Get("name")})
}

// getEvidence serves GET /api/v1/assessments/{id}/evidence/{item}: the
// file an answer refers to.
func (a *API) getEvidence(w http.ResponseWriter, r *http.Request) {
	x, ok := a.loadAssessment(w, r)
	if !ok {
		return
	}
	ans, found := x.Answers[r.PathValue("item")]
	if !found || ans.Evidence.SHA256 == "" || a.Attachments == nil {
		a.Error(w, r, focal.Errorf(focal.ENOTFOUND, "no evidence file for %q", r.PathValue("item")))
		return
	}
	serveEvidence(w, r, func(sha string) (io.ReadCloser, error) { return a.Attachments.Open(sha) }, ans, func(err error) { a.Error(w, r, err) })
}

// serveEvidence writes an evidence file as a download.
func serveEvidence(w http.ResponseWriter, r *http.Request, open func(string) (io.ReadCloser, error), ans assess.Answer, fail func(error)) {
	f, err := open(ans.Evidence.SHA256)
	if err != nil {
		fail(err)
		return
	}
	defer f.Close()
	name := ans.Evidence.FileName
	if name == "" {
		name = ans.Item + ".bin"
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", strings.Map(func(r rune) rune {
		if r < 32 || r == '"' || r == '\\' {
			return '_'
		}
		return r
	}, name)))
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, _ = io.Copy(w, f) // the client went away: nothing to tell it
}

// transitionRequest is the body of POST /api/v1/assessments/{id}/transitions.
type transitionRequest struct {
	Action string `json:"action"` // submit, return, validate, publish
}

// transition serves POST /api/v1/assessments/{id}/transitions.
func (a *API) transition(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	var req transitionRequest
	if err := decode(r, &req); err != nil {
		a.Error(w, r, err)
		return
	}
	x, err := a.Store.Transition(r.Context(), id, req.Action)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	a.writeJSON(w, http.StatusOK, x)
}

// revise serves POST /api/v1/assessments/{id}/revisions: a correction of
// a published assessment as a new draft revision.
func (a *API) revise(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	x, err := a.Store.Revise(r.Context(), id)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/assessments/"+strconv.FormatInt(x.ID, 10))
	a.writeJSON(w, http.StatusCreated, x)
}

// exportAssessmentCSV serves GET /api/v1/assessments/{id}/export.csv: one
// row per question with its answer, evidence and score trace.
func (a *API) exportAssessmentCSV(w http.ResponseWriter, r *http.Request) {
	x, ok := a.loadAssessment(w, r)
	if !ok {
		return
	}
	f, err := a.Store.FrameworkOf(r.Context(), x)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=\"assessment-%d.csv\"", x.ID))
	if err := x.WriteCSV(w, f, false); err != nil {
		a.Logger.Debug("write assessment csv", "err", err)
	}
}

// frameworkBody is a framework version in a listing.
type frameworkBody struct {
	store.FrameworkInfo
	Questions int `json:"questions"`
}

// listFrameworks serves GET /api/v1/assessment-frameworks.
func (a *API) listFrameworks(w http.ResponseWriter, r *http.Request) {
	list, err := a.Store.Frameworks(r.Context())
	if err != nil {
		a.Error(w, r, err)
		return
	}
	out := make([]frameworkBody, 0, len(list))
	for _, fi := range list {
		f, _, err := a.Store.Framework(r.Context(), fi.Key, fi.Version)
		if err != nil {
			a.Error(w, r, err)
			return
		}
		out = append(out, frameworkBody{FrameworkInfo: fi, Questions: len(f.Questions())})
	}
	a.writeJSON(w, http.StatusOK, map[string]any{"items": out, "methods": assess.MethodNames(), "metrics": assess.Metrics()})
}

// importFramework serves POST /api/v1/assessment-frameworks: the body is
// a framework file (JSON). Problems are named by JSON path and byte.
func (a *API) importFramework(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		a.Error(w, r, jsonError(err))
		return
	}
	fi, err := a.Store.ImportFramework(r.Context(), body)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	a.writeJSON(w, http.StatusCreated, fi)
}

// exportFramework serves GET /api/v1/assessment-frameworks/{key}/{version}:
// the framework file as imported.
func (a *API) exportFramework(w http.ResponseWriter, r *http.Request) {
	_, body, err := a.Store.Framework(r.Context(), r.PathValue("key"), r.PathValue("version"))
	if err != nil {
		a.Error(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=\"%s-%s.json\"", r.PathValue("key"), r.PathValue("version")))
	_, _ = w.Write(body) // the client went away: nothing to tell it
}

// listTargets serves GET /api/v1/assessment-targets?subject=.
func (a *API) listTargets(w http.ResponseWriter, r *http.Request) {
	list, err := a.Store.Targets(r.Context(), r.URL.Query().Get("subject"))
	if err != nil {
		a.Error(w, r, err)
		return
	}
	a.writeJSON(w, http.StatusOK, map[string]any{"items": list})
}

// targetRequest is the body of POST /api/v1/assessment-targets.
type targetRequest struct {
	Baseline int64         `json:"baseline_assessment_id"`
	Target   assess.Target `json:"target"`
	Peers    []string      `json:"peers"` // subjects, for a penetration-adjusted target
}

// createTarget serves POST /api/v1/assessment-targets.
func (a *API) createTarget(w http.ResponseWriter, r *http.Request) {
	var req targetRequest
	if err := decode(r, &req); err != nil {
		a.Error(w, r, err)
		return
	}
	t, err := a.Store.SetTarget(r.Context(), req.Baseline, req.Target, req.Peers)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	a.writeJSON(w, http.StatusCreated, t)
}

// listSeries serves GET /api/v1/reference-series.
func (a *API) listSeries(w http.ResponseWriter, r *http.Request) {
	list, err := a.Store.ListSeries(r.Context())
	if err != nil {
		a.Error(w, r, err)
		return
	}
	a.writeJSON(w, http.StatusOK, map[string]any{"items": list})
}

// importSeries serves POST /api/v1/reference-series?name=&vintage=&source=&licence=&unit=:
// the body is CSV with the header subject,year,value.
func (a *API) importSeries(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	sr, err := a.Store.ImportSeries(r.Context(), store.Series{Name: q.Get("name"), Vintage: q.Get("vintage"), Source: q.Get("source"),
		Licence: q.Get("licence"), Unit: q.Get("unit")}, r.Body)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	a.writeJSON(w, http.StatusCreated, sr)
}

// rescore serves GET /api/v1/assessments/{id}/rescore?framework=key@version&method=&public=true:
// the assessment's stored answers scored under another framework version
// through its crosswalk, with the overlap. Nothing is stored.
func (a *API) rescore(w http.ResponseWriter, r *http.Request) {
	x, ok := a.loadAssessment(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	key, version, found := strings.Cut(q.Get("framework"), "@")
	if !found {
		a.Error(w, r, focal.FieldErrorf("framework", "want key@version"))
		return
	}
	res, ov, err := a.Store.RescoreAssessment(r.Context(), x, key, version, assess.Options{Method: q.Get("method"), PublicOnly: q.Get("public") == "true"})
	if err != nil {
		a.Error(w, r, err)
		return
	}
	a.writeJSON(w, http.StatusOK, map[string]any{"overlap": ov, "score": res})
}
