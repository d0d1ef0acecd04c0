package restapi

import (
	"io"
	"net/http"
	"strconv"
	"time"

	"focal/internal/csaf"
	"focal/internal/focal"
	"focal/internal/store"
)

// advisoryBody is an advisory as the API shows it: the model the authors
// write (csaf.Advisory, with scores computed from the CVSS vectors), its
// workflow, and what still keeps it from being published.
type advisoryBody struct {
	ID        int64          `json:"id"`
	State     string         `json:"state"`
	Advisory  csaf.Advisory  `json:"advisory"`
	Incidents []int64        `json:"incidents"`
	Author    string         `json:"author"`
	Editor    string         `json:"editor,omitempty"`
	Approver  string         `json:"approver,omitempty"`
	Version   int            `json:"version"`
	Created   time.Time      `json:"created"`
	Updated   time.Time      `json:"updated"`
	Published *time.Time     `json:"published,omitempty"`
	Problems  []csaf.Problem `json:"problems"`
}

func toAdvisoryBody(a *store.Advisory) advisoryBody {
	b := advisoryBody{ID: a.ID, State: a.State, Advisory: a.Body, Incidents: a.Incidents, Author: a.Author, Editor: a.Editor,
		Approver: a.Approver, Version: a.Version, Created: a.Created, Updated: a.Updated, Problems: a.Body.Check()}
	if b.Incidents == nil {
		b.Incidents = []int64{}
	}
	if b.Problems == nil {
		b.Problems = []csaf.Problem{}
	}
	if !a.Published.IsZero() {
		t := a.Published
		b.Published = &t
	}
	return b
}

// advisoryInput is what a client sends to create or change an advisory.
type advisoryInput struct {
	Advisory  csaf.Advisory `json:"advisory"`
	Incidents []int64       `json:"incidents"`
}

func (a *API) listAdvisories(w http.ResponseWriter, r *http.Request) {
	limit, err := queryInt(r, "limit", 100, 1000)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	state := r.URL.Query().Get("state")
	switch state {
	case "", store.AdvisoryDraft, store.AdvisoryReview, store.AdvisoryPublished:
	default:
		a.Error(w, r, focal.FieldErrorf("state", "want draft, review or published, got %q", state))
		return
	}
	as, err := a.Store.Advisories(r.Context(), store.AdvisoryFilter{State: state, Limit: limit})
	if err != nil {
		a.Error(w, r, err)
		return
	}
	out := list[advisoryBody]{Items: []advisoryBody{}, Total: len(as), Limit: limit}
	for _, x := range as {
		out.Items = append(out.Items, toAdvisoryBody(x))
	}
	a.writeJSON(w, http.StatusOK, out)
}

func (a *API) createAdvisory(w http.ResponseWriter, r *http.Request) {
	var in advisoryInput
	if err := decode(r, &in); err != nil {
		a.Error(w, r, err)
		return
	}
	adv := &store.Advisory{Body: in.Advisory, Incidents: in.Incidents}
	if err := a.Store.CreateAdvisory(r.Context(), adv); err != nil {
		a.Error(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/advisories/"+strconv.FormatInt(adv.ID, 10))
	a.writeJSON(w, http.StatusCreated, toAdvisoryBody(adv))
}

func (a *API) getAdvisory(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	adv, err := a.Store.Advisory(r.Context(), id)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	a.writeJSON(w, http.StatusOK, toAdvisoryBody(adv))
}

func (a *API) updateAdvisory(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	var in advisoryInput
	if err := decode(r, &in); err != nil {
		a.Error(w, r, err)
		return
	}
	adv := &store.Advisory{ID: id, Body: in.Advisory, Incidents: in.Incidents}
	if err := a.Store.UpdateAdvisory(r.Context(), adv); err != nil {
		a.Error(w, r, err)
		return
	}
	adv, err = a.Store.Advisory(r.Context(), id)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	a.writeJSON(w, http.StatusOK, toAdvisoryBody(adv))
}

func (a *API) submitAdvisory(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	adv, err := a.Store.SubmitAdvisory(r.Context(), id)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	a.writeJSON(w, http.StatusOK, toAdvisoryBody(adv))
}

func (a *API) reviseAdvisory(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	var in struct {
		Summary string `json:"summary"`
	}
	if err := decode(r, &in); err != nil {
		a.Error(w, r, err)
		return
	}
	adv, err := a.Store.ReviseAdvisory(r.Context(), id, in.Summary)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	a.writeJSON(w, http.StatusOK, toAdvisoryBody(adv))
}

// advisoryCSAF answers with the CSAF 2.0 document of the advisory's
// current published revision, exactly as the provider serves it.
func (a *API) advisoryCSAF(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	d, err := a.Store.AdvisoryDocument(r.Context(), id)
	if focal.ErrorCode(err) == focal.ENOTFOUND {
		if _, err2 := a.Store.Advisory(r.Context(), id); err2 == nil {
			err = focal.Errorf(focal.ENOTFOUND, "this advisory has not been published yet: its CSAF document is made on approval")
		}
	}
	if err != nil {
		a.Error(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if _, err := w.Write(d.Document); err != nil {
		a.Logger.Debug("write csaf", "err", err)
	}
}

// importAdvisory reads a CSAF 2.0 document (the request body) into a new
// draft, keeping its tracking information so a republication continues
// its revision history.
func (a *API) importAdvisory(w http.ResponseWriter, r *http.Request) {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		a.Error(w, r, jsonError(err))
		return
	}
	body, err := csaf.Import(b)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	adv := &store.Advisory{Body: *body}
	if err := a.Store.CreateAdvisory(r.Context(), adv); err != nil {
		a.Error(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/advisories/"+strconv.FormatInt(adv.ID, 10))
	a.writeJSON(w, http.StatusCreated, toAdvisoryBody(adv))
}

// orgProducts answers GET /api/v1/organisations/{id}/products: the
// products the organisation declared it runs, so advisories about them
// reach it.
func (a *API) orgProducts(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	ps, err := a.Store.OrgProducts(r.Context(), id)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	if ps == nil {
		ps = []store.ProductDeclaration{}
	}
	a.writeJSON(w, http.StatusOK, map[string]any{"products": ps})
}

// setOrgProducts answers PUT /api/v1/organisations/{id}/products,
// replacing the declared products.
func (a *API) setOrgProducts(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	var in struct {
		Products []store.ProductDeclaration `json:"products"`
	}
	if err := decode(r, &in); err != nil {
		a.Error(w, r, err)
		return
	}
	if err := a.Store.SetOrgProducts(r.Context(), id, in.Products); err != nil {
		a.Error(w, r, err)
		return
	}
	a.orgProducts(w, r)
}
