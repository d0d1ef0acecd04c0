package ui

import (
	"encoding/json"
	"html/template"
	"io"
	"net/http"
	"strconv"

	"focal/internal/assess"
	"focal/internal/focal"
	"focal/internal/store"
)

// assessPublicRow is one published assessment in the public listing.
type assessPublicRow struct {
	ID                                     int64
	Subject, Name, Period, Framework, Tier string
	Declared, Public, Max                  string
	Revision                               int
}

// assessPublicPage is the data of the public /assessments page.
type assessPublicPage struct {
	base
	Rows      []assessPublicRow
	Compare   []publicCompare
	Workspace bool // the caller may open the staff workspace
}

// publicCompare is the comparison of one framework's published scores.
type publicCompare struct {
	Framework string
	*comparison
}

// assessPublic serves GET /assessments: published assessments (the
// current revision of each) with their declared and publicly evidenced
// scores, and the comparison across subjects.
func (h *handlers) assessPublic(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	list, err := h.store.PublishedAssessments(ctx, store.AssessmentFilter{})
	if err != nil {
		h.error(w, r, err)
		return
	}
	page := assessPublicPage{base: h.base(r, "Published assessments"), Workspace: may(r, focal.ActionRead, focal.Resource{Kind: focal.KindAssessment})}
	seen := map[string]bool{}
	for _, a := range list {
		row := assessPublicRow{ID: a.ID, Subject: a.Subject, Name: a.SubjectName, Period: a.Period, Framework: a.Framework.Title + " " + a.Framework.Version, Revision: a.Revision}
		if a.Score != nil {
			row.Declared, row.Max, row.Tier = num1(a.Score.Total), num1(a.Score.Max), a.Score.Tier
		}
		if a.PublicScore != nil {
			row.Public = num1(a.PublicScore.Total)
		}
		page.Rows = append(page.Rows, row)
		key := a.Framework.Key + "\x00" + a.Method
		if !seen[key] {
			seen[key] = true
			c, err := h.comparison(ctx, a.Framework.Key, a.Method, true, "", func(id int64) string { return "/assessments/" + strconv.FormatInt(id, 10) })
			if err != nil {
				h.error(w, r, err)
				return
			}
			page.Compare = append(page.Compare, publicCompare{Framework: a.Framework.Title, comparison: c})
		}
	}
	h.render(w, r, http.StatusOK, "assess_public", page)
}

// assessPublicDetailPage is the data of a published assessment's public page.
type assessPublicDetailPage struct {
	base
	A        *store.Assessment
	Declared *assess.Result
	Public   *assess.Result
	Pillars  []pillarRow
	Bars     template.HTML
	Sections []sectionRows
	Targets  []targetRow
	Compare  *comparison
	Diff     []store.AnswerChange
	// The scores formatted for people.
	DeclaredText, PublicText, MaxText string
}

// assessPublicDetail serves GET /assessments/{id}: a published assessment
// with public evidence only (restricted evidence and comments are not
// shown), its pillar breakdown, targets and the comparison.
func (h *handlers) assessPublicDetail(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id, err := pathID(r)
	if err != nil {
		h.error(w, r, err)
		return
	}
	a, err := h.store.PublishedAssessment(ctx, id)
	if err != nil {
		h.error(w, r, err)
		return
	}
	s, err := h.scoreOf(ctx, a)
	if err != nil {
		h.error(w, r, err)
		return
	}
	page := assessPublicDetailPage{base: h.base(r, a.SubjectName+" "+a.Period), A: a, Declared: s.Declared, Public: s.Public,
		Pillars: pillarRows(s), Bars: pillarBars(s), Sections: questionSections(s, true), Diff: a.Diff}
	if s.Declared != nil {
		page.DeclaredText, page.PublicText, page.MaxText = num1(s.Declared.Total), num1(pubTotal(s)), num1(s.Declared.Max)
	}
	targets, err := h.store.PublishedTargets(ctx, a.Subject)
	if err != nil {
		h.error(w, r, err)
		return
	}
	page.Targets = h.targetRows(r, targets, s, true)
	if page.Compare, err = h.comparison(ctx, a.Framework.Key, a.Method, true, a.Subject, func(id int64) string { return "/assessments/" + strconv.FormatInt(id, 10) }); err != nil {
		h.error(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, "assess_public_detail", page)
}

// assessPublicExport serves GET /assessments/{id}/export.{csv,json}: a
// published assessment with public evidence only.
func (h *handlers) assessPublicExport(format string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, err := pathID(r)
		if err != nil {
			h.error(w, r, err)
			return
		}
		a, err := h.store.PublishedAssessment(r.Context(), id)
		if err != nil {
			h.error(w, r, err)
			return
		}
		h.exportAssessment(w, r, a, format, true)
	}
}

// exportAssessment writes a as CSV or JSON; public leaves out restricted
// evidence and comments.
func (h *handlers) exportAssessment(w http.ResponseWriter, r *http.Request, a *store.Assessment, format string, public bool) {
	s, err := h.scoreOf(r.Context(), a)
	if err != nil {
		h.error(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	if format == "csv" {
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", "attachment; filename=\"assessment-"+strconv.FormatInt(a.ID, 10)+".csv\"")
		if err := a.WriteCSV(w, s.F, public); err != nil {
			h.logger.Debug("write assessment csv", "err", err)
		}
		return
	}
	out := struct {
		*store.Assessment
		Declared *assess.Result `json:"declared_score"`
		Public   *assess.Result `json:"public_evidence_score"`
	}{a, s.Declared, s.Public}
	if public {
		for k, ans := range a.Answers {
			if ans.Evidence.Visibility != assess.VisibilityPublic {
				ans.Evidence = assess.Evidence{}
			}
			ans.Comment = ""
			a.Answers[k] = ans
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Disposition", "attachment; filename=\"assessment-"+strconv.FormatInt(a.ID, 10)+".json\"")
	enc := json.NewEncoder(w)
	enc.SetIndent("", " ")
	if err := enc.Encode(out); err != nil {
		h.logger.Debug("write assessment json", "err", err)
	}
}

// assessPublicEvidence serves GET /assessments/{id}/evidence/{item}: the
// file behind a published answer, when its evidence is public.
func (h *handlers) assessPublicEvidence(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		h.error(w, r, err)
		return
	}
	a, err := h.store.PublishedAssessment(r.Context(), id)
	if err != nil {
		h.error(w, r, err)
		return
	}
	h.serveEvidence(w, r, a, r.PathValue("item"))
}

// serveEvidence sends the file of a's answer to item as a download.
func (h *handlers) serveEvidence(w http.ResponseWriter, r *http.Request, a *store.Assessment, item string) {
	ans, ok := a.Answers[item]
	if !ok || ans.Evidence.SHA256 == "" || h.files == nil {
		h.error(w, r, focal.Errorf(focal.ENOTFOUND, "no evidence file"))
		return
	}
	f, err := h.files.Open(ans.Evidence.SHA256)
	if err != nil {
		h.error(w, r, err)
		return
	}
	defer f.Close()
	name := ans.Evidence.FileName
	if name == "" {
		name = item + ".bin"
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", "attachment; filename="+strconv.Quote(safeFileName(name)))
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = io.Copy(w, f) // the client went away: nothing to tell it
}

func safeFileName(s string) string {
	out := []rune{}
	for _, r := range s {
		if r < 32 || r == '"' || r == '\\' || r == '/' || r > 126 {
			r = '_'
		}
		out = append(out, r)
	}
	return string(out)
}
