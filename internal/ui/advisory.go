package ui

import (
	"errors"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"strings"

	"focal/internal/csaf"
	"focal/internal/focal"
	"focal/internal/store"
)

func asFocal(err error, target **focal.Error) bool { return errors.As(err, target) }

func htmlEscape(s string) string { return template.HTMLEscapeString(s) }

// csafProblem is the message of a model error without its field prefix.
func csafProblem(err error) string {
	var fe *focal.Error
	if errors.As(err, &fe) {
		return fe.Message
	}
	return focal.ErrorMessage(err)
}

// advisoryListPage is the data of the advisory list.
type advisoryListPage struct {
	base
	Advisories []*store.Advisory
	State      string
	MayWrite   bool
}

// advisoryList serves GET /advisories.
func (h *handlers) advisoryList(w http.ResponseWriter, r *http.Request) {
	state := r.URL.Query().Get("state")
	switch state {
	case "", store.AdvisoryDraft, store.AdvisoryReview, store.AdvisoryPublished:
	default:
		state = ""
	}
	as, err := h.store.Advisories(r.Context(), store.AdvisoryFilter{State: state, Limit: 500})
	if err != nil {
		h.error(w, r, err)
		return
	}
	p := focal.PrincipalFromContext(r.Context())
	h.render(w, r, http.StatusOK, "advisory_list", advisoryListPage{base: h.base(r, "Advisories"), Advisories: as, State: state,
		MayWrite: focal.Authorize(p, focal.ActionCreate, focal.Resource{Kind: focal.KindAdvisory}) == nil})
}

// advisoryPage is the data of one advisory's page.
type advisoryPage struct {
	base
	A          *store.Advisory
	Problems   []csaf.Problem
	Doc        *store.PublishedDocument
	DocURL     string
	PublicURL  string
	Orgs       []store.AdvisoryOrg
	MayWrite   bool
	MayApprove bool // someone other than the author and last editor
	Error      string
	Published  bool
}

// advisoryDetail serves GET /advisories/{id}: the advisory, what keeps it
// from publication, its workflow buttons and, once published, its CSAF
// document and the organisations it concerned.
func (h *handlers) advisoryDetail(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		h.error(w, r, err)
		return
	}
	ctx := r.Context()
	a, err := h.store.Advisory(ctx, id)
	if err != nil {
		h.error(w, r, err)
		return
	}
	p := focal.PrincipalFromContext(ctx)
	page := advisoryPage{base: h.base(r, a.Body.Title), A: a, Problems: a.Body.Check(),
		MayWrite: focal.Authorize(p, focal.ActionUpdate, focal.Resource{Kind: focal.KindAdvisory, Object: true}) == nil,
		Error:    r.URL.Query().Get("error"), Published: r.URL.Query().Get("published") != ""}
	page.MayApprove = page.MayWrite && a.State == store.AdvisoryReview && p.UserID != a.EditorID && (a.Version > 0 || p.UserID != a.AuthorID)
	if page.Published {
		page.Notice = "Published."
	}
	if a.Version > 0 {
		d, err := h.store.AdvisoryDocument(ctx, id)
		if err != nil && focal.ErrorCode(err) != focal.ENOTFOUND {
			h.error(w, r, err)
			return
		}
		if d != nil {
			page.Doc, page.DocURL = d, "/.well-known/csaf/"+d.Path()
			if d.Label == "white" {
				page.PublicURL = "/warnings/" + strings.TrimSuffix(d.Filename, ".json")
			}
		}
		if p.Role.Staff() {
			if page.Orgs, err = h.store.AdvisoryOrganisations(ctx, id); err != nil {
				h.error(w, r, err)
				return
			}
		}
	}
	h.render(w, r, http.StatusOK, "advisory_detail", page)
}

// advisorySubmit serves POST /advisories/{id}/submit.
func (h *handlers) advisorySubmit(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		h.error(w, r, err)
		return
	}
	if _, err := h.store.SubmitAdvisory(r.Context(), id); err != nil {
		h.advisoryRefused(w, r, id, err)
		return
	}
	redirect(w, r, withNotice(fmt.Sprintf("/advisories/%d", id), "saved"))
}

// advisoryRevise serves POST /advisories/{id}/revise: a correction.
func (h *handlers) advisoryRevise(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		h.error(w, r, err)
		return
	}
	if err := parseForm(r); err != nil {
		h.error(w, r, err)
		return
	}
	if _, err := h.store.ReviseAdvisory(r.Context(), id, r.PostForm.Get("summary")); err != nil {
		h.advisoryRefused(w, r, id, err)
		return
	}
	redirect(w, r, fmt.Sprintf("/advisories/%d/edit", id))
}

// advisoryRefused shows a refused workflow step on the advisory's page.
func (h *handlers) advisoryRefused(w http.ResponseWriter, r *http.Request, id int64, err error) {
	switch focal.ErrorCode(err) {
	case focal.EINVALID, focal.ECONFLICT, focal.EFORBIDDEN:
		redirect(w, r, fmt.Sprintf("/advisories/%d?error=%s", id, url.QueryEscape(focal.ErrorMessage(err))))
	default:
		h.error(w, r, err)
	}
}

// advisoryImportPage is the data of the import form.
type advisoryImportPage struct {
	base
	Err string
}

// advisoryImportForm serves GET /advisories/import.
func (h *handlers) advisoryImportForm(w http.ResponseWriter, r *http.Request) {
	h.render(w, r, http.StatusOK, "advisory_import", advisoryImportPage{base: h.base(r, "Import a CSAF advisory")})
}

// advisoryImport serves POST /advisories/import: a CSAF 2.0 file becomes
// a draft.
func (h *handlers) advisoryImport(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseMultipartForm(1 << 20); err != nil {
		h.render(w, r, http.StatusBadRequest, "advisory_import", advisoryImportPage{base: h.base(r, "Import a CSAF advisory"), Err: "choose a CSAF JSON file"})
		return
	}
	var data []byte
	if f, _, err := r.FormFile("file"); err == nil {
		data, err = io.ReadAll(io.LimitReader(f, csaf.MaxDocumentSize+1))
		f.Close()
		if err != nil {
			h.error(w, r, err)
			return
		}
	}
	if len(data) == 0 {
		data = []byte(r.FormValue("document"))
	}
	body, err := csaf.Import(data)
	if err == nil {
		a := &store.Advisory{Body: *body}
		if err = h.store.CreateAdvisory(r.Context(), a); err == nil {
			redirect(w, r, withNotice(fmt.Sprintf("/advisories/%d", a.ID), "saved"))
			return
		}
	}
	if code := focal.ErrorCode(err); code != focal.EINVALID && code != focal.ETOOLARGE {
		h.error(w, r, err)
		return
	}
	h.render(w, r, http.StatusBadRequest, "advisory_import", advisoryImportPage{base: h.base(r, "Import a CSAF advisory"), Err: focal.ErrorMessage(err)})
}
