package ui

import (
	"net/http"

	"focal/internal/focal"
)

// incidentContentPage is the data of an incident's content page.
type incidentContentPage struct {
	base
	Inc         *focal.Incident
	Restricted  bool
	Description string // defanged
	Observables []observableRow
	Attachments []attachmentRow // for a restricted category, by hash only: no links
}

// incidentContent serves GET /incidents/{id}/content: the description and
// observables, defanged. It is where a restricted category's content is
// opened deliberately; the store records the view in the journal.
func (h *handlers) incidentContent(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id, err := pathID(r)
	if err != nil {
		h.error(w, r, err)
		return
	}
	i, err := h.store.Incident(ctx, id)
	if err != nil {
		h.error(w, r, err)
		return
	}
	obs, err := h.store.Observables(ctx, id)
	if err != nil {
		h.error(w, r, err)
		return
	}
	page := incidentContentPage{
		base: h.base(r, i.Ref+" description"), Inc: i, Restricted: i.Restricted(), Description: defangText(i.Description),
	}
	for _, o := range obs {
		page.Observables = append(page.Observables, observableRow{Kind: o.Kind, Value: defangObservable(o), TLP: o.TLP, TLPClass: tlpClass(o.TLP), Source: o.Source})
	}
	if page.Attachments, err = h.attachmentRows(r, i); err != nil {
		h.error(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, "incident_content", page)
}
