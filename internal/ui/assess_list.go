package ui

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"focal/internal/assess"
	"focal/internal/focal"
	"focal/internal/store"
)

// assessRow is one assessment in the workspace listing.
type assessRow struct {
	ID                                          int64
	Subject, Name, Period, Framework, State     string
	Score, Public, Author, Validator, Publisher string
	Revision                                    int
	Superseded                                  bool
}

// assessListPage is the data of the assessment workspace.
type assessListPage struct {
	base
	Rows       []assessRow
	Frameworks []store.FrameworkInfo
	Embedded   []string // shipped frameworks not yet stored: key@version
	MayCreate  bool
	Form       assessForm
	Error      string
	Kinds      []string
	Methods    []string
	Subject    string // filter
	Series     []store.Series
}

// assessForm is the new-assessment form as typed.
type assessForm struct {
	SubjectKind, Subject, SubjectName, Year, Period, Framework, Method, Respondents string
}

// assessList serves GET /assess: every assessment (drafts included) for
// staff, newest year first, and for assessors the form that starts one.
func (h *handlers) assessList(w http.ResponseWriter, r *http.Request) {
	h.showAssessList(w, r, http.StatusOK, assessForm{SubjectKind: "country", Framework: "focal-national@1.0"}, nil)
}

func (h *handlers) showAssessList(w http.ResponseWriter, r *http.Request, status int, form assessForm, formErr error) {
	ctx := r.Context()
	subject := r.URL.Query().Get("subject")
	list, err := h.store.Assessments(ctx, store.AssessmentFilter{Subject: subject})
	if err != nil {
		h.error(w, r, err)
		return
	}
	fws, err := h.store.Frameworks(ctx)
	if err != nil {
		h.error(w, r, err)
		return
	}
	page := assessListPage{base: h.base(r, "Assessments"), Frameworks: fws, Form: form, Kinds: store.SubjectKinds, Methods: assess.MethodNames(),
		MayCreate: may(r, focal.ActionCreate, focal.Resource{Kind: focal.KindAssessment}), Subject: subject}
	if formErr != nil {
		page.Error = focal.ErrorMessage(formErr)
	}
	if page.Series, err = h.store.ListSeries(ctx); err != nil {
		h.error(w, r, err)
		return
	}
	stored := map[string]bool{}
	for _, f := range fws {
		stored[f.Ref()] = true
	}
	shipped, err := assess.Frameworks()
	if err != nil {
		h.error(w, r, err)
		return
	}
	for _, f := range shipped {
		if !stored[f.Ref()] {
			page.Embedded = append(page.Embedded, f.Ref())
		}
	}
	for _, a := range list {
		row := assessRow{ID: a.ID, Subject: a.Subject, Name: a.SubjectName, Period: a.Period, Framework: a.Framework.Ref(), State: a.State,
			Author: a.Author, Validator: a.Validator, Publisher: a.Publisher, Revision: a.Revision, Superseded: a.Superseded}
		if a.Score != nil {
			row.Score = num1(a.Score.Total) + " / " + num1(a.Score.Max)
		}
		if a.PublicScore != nil {
			row.Public = num1(a.PublicScore.Total)
		}
		page.Rows = append(page.Rows, row)
	}
	h.render(w, r, status, "assess_list", page)
}

// assessCreate serves POST /assess: a new draft assessment.
func (h *handlers) assessCreate(w http.ResponseWriter, r *http.Request) {
	if err := parseForm(r); err != nil {
		h.error(w, r, err)
		return
	}
	form := assessForm{SubjectKind: r.FormValue("subject_kind"), Subject: r.FormValue("subject"), SubjectName: r.FormValue("subject_name"),
		Year: r.FormValue("year"), Period: r.FormValue("period"), Framework: r.FormValue("framework"), Method: r.FormValue("method"),
		Respondents: r.FormValue("respondents")}
	year, err := strconv.Atoi(strings.TrimSpace(form.Year))
	if err != nil {
		h.showAssessList(w, r, http.StatusBadRequest, form, focal.FieldErrorf("year", "want a year, e.g. 2025"))
		return
	}
	key, version, _ := strings.Cut(form.Framework, "@")
	var resp []string
	for _, l := range strings.Split(form.Respondents, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			resp = append(resp, l)
		}
	}
	a := &store.Assessment{SubjectKind: form.SubjectKind, Subject: form.Subject, SubjectName: form.SubjectName, Period: form.Period, Year: year,
		Framework: store.FrameworkInfo{Key: key, Version: version}, Method: form.Method, Respondents: resp}
	if err := h.store.CreateAssessment(r.Context(), a); err != nil {
		if c := focal.ErrorCode(err); c == focal.EINVALID || c == focal.ECONFLICT {
			h.showAssessList(w, r, http.StatusBadRequest, form, err)
			return
		}
		h.error(w, r, err)
		return
	}
	redirect(w, r, withNotice(fmt.Sprintf("/assess/%d", a.ID), "created"))
}

// frameworkNode is one item of a framework's tree, for the browser.
type frameworkNode struct {
	Item     *assess.Item
	Depth    int
	Scale    string
	Weight   string
	Metric   string
	Children int
}

// assessFrameworkPage is the data of one framework version's page.
type assessFrameworkPage struct {
	base
	F         *assess.Framework
	Nodes     []frameworkNode
	Questions int
	Scales    []assess.Scale
	MayImport bool
}

// assessFramework serves GET /assessment-frameworks/{key}/{version}: the
// tree of a stored framework (or a shipped one not stored yet) with its
// scales, weights, stages, metrics and crosswalks.
func (h *handlers) assessFramework(w http.ResponseWriter, r *http.Request) {
	key, version := r.PathValue("key"), r.PathValue("version")
	f, _, err := h.store.Framework(r.Context(), key, version)
	if focal.ErrorCode(err) == focal.ENOTFOUND {
		shipped, serr := assess.Frameworks()
		if serr != nil {
			h.error(w, r, serr)
			return
		}
		for _, s := range shipped {
			if s.ID == key && s.Version == version {
				f, err = s, nil
			}
		}
	}
	if err != nil {
		h.error(w, r, err)
		return
	}
	page := assessFrameworkPage{base: h.base(r, f.Title+" "+f.Version), F: f, Questions: len(f.Questions()), Scales: f.Scales}
	var walk func(parent string, depth int)
	walk = func(parent string, depth int) {
		for _, it := range f.Children(parent) {
			n := frameworkNode{Item: it, Depth: depth, Weight: num1(it.EffectiveWeight()), Children: len(f.Children(it.ID))}
			if it.Kind == assess.KindQuestion {
				n.Scale = it.Scale
				if m, ok := assess.MetricByID(it.Metric); ok {
					n.Metric = m.Title
				}
			}
			page.Nodes = append(page.Nodes, n)
			walk(it.ID, depth+1)
		}
	}
	walk("", 0)
	h.render(w, r, http.StatusOK, "assess_framework", page)
}

// assessFrameworkExport serves GET /assessment-frameworks/{key}/{version}/export.json.
func (h *handlers) assessFrameworkExport(w http.ResponseWriter, r *http.Request) {
	key, version := r.PathValue("key"), r.PathValue("version")
	_, body, err := h.store.Framework(r.Context(), key, version)
	if focal.ErrorCode(err) == focal.ENOTFOUND {
		for _, name := range []string{key + "-" + version + ".json"} {
			if b, ferr := assess.EmbeddedFile(strings.TrimPrefix(name, "focal-")); ferr == nil {
				body, err = b, nil
			}
		}
	}
	if err != nil {
		h.error(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Disposition", "attachment; filename="+strconv.Quote(safeFileName(key+"-"+version+".json")))
	_, _ = w.Write(body) // the client went away: nothing to tell it
}

// assessFrameworkImport serves POST /assessment-frameworks: a framework file
// uploaded (or pasted); problems are shown with their JSON path and byte.
func (h *handlers) assessFrameworkImport(w http.ResponseWriter, r *http.Request) {
	var body []byte
	if err := r.ParseMultipartForm(assess.MaxFrameworkBytes); err == nil {
		if fhs := r.MultipartForm.File["file"]; len(fhs) > 0 {
			f, err := fhs[0].Open()
			if err != nil {
				h.error(w, r, err)
				return
			}
			body, err = io.ReadAll(io.LimitReader(f, assess.MaxFrameworkBytes+1))
			f.Close()
			if err != nil {
				h.error(w, r, err)
				return
			}
		}
	}
	if body == nil {
		if err := parseForm(r); err != nil {
			h.error(w, r, err)
			return
		}
		body = []byte(r.FormValue("body"))
	}
	fi, err := h.store.ImportFramework(r.Context(), body)
	if err != nil {
		if c := focal.ErrorCode(err); c == focal.EINVALID || c == focal.ECONFLICT || c == focal.ETOOLARGE {
			h.showAssessList(w, r, http.StatusBadRequest, assessForm{SubjectKind: "country"}, err)
			return
		}
		h.error(w, r, err)
		return
	}
	redirect(w, r, withNotice("/assessment-frameworks/"+fi.Key+"/"+fi.Version, "saved"))
}

// assessSeriesImport serves POST /reference-series: a reference series
// (published benchmarks, ICT penetration) from a CSV file with the header
// subject,year,value, kept apart from the subjects' own scores.
func (h *handlers) assessSeriesImport(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseMultipartForm(8 << 20); err != nil && !errors.Is(err, http.ErrNotMultipart) {
		h.error(w, r, focal.Wrap(focal.EINVALID, err, "malformed form"))
		return
	}
	if err := parseForm(r); err != nil {
		h.error(w, r, err)
		return
	}
	var body io.Reader = strings.NewReader(r.FormValue("csv"))
	if r.MultipartForm != nil {
		if fhs := r.MultipartForm.File["file"]; len(fhs) > 0 {
			f, err := fhs[0].Open()
			if err != nil {
				h.error(w, r, err)
				return
			}
			defer f.Close()
			body = f
		}
	}
	meta := store.Series{Name: r.FormValue("name"), Vintage: r.FormValue("vintage"), Source: r.FormValue("source"), Licence: r.FormValue("licence"), Unit: r.FormValue("unit")}
	if _, err := h.store.ImportSeries(r.Context(), meta, body); err != nil {
		if c := focal.ErrorCode(err); c == focal.EINVALID || c == focal.ETOOLARGE {
			h.showAssessList(w, r, http.StatusBadRequest, assessForm{SubjectKind: "country"}, err)
			return
		}
		h.error(w, r, err)
		return
	}
	redirect(w, r, withNotice("/assess", "saved"))
}
