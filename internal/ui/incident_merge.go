package ui

import (
	"net/http"
	"strings"
)

// incidentMerge serves POST /incidents/{id}/merge: the incident is merged
// into the one whose reference ("into", e.g. FOC-2026-000042) is given,
// and the survivor's page is shown. An unknown reference is shown next
// to the field.
func (h *handlers) incidentMerge(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id, err := pathID(r)
	if err != nil {
		h.error(w, r, err)
		return
	}
	if err := parseForm(r); err != nil {
		h.error(w, r, err)
		return
	}
	mf := mergeForm{Into: strings.ToUpper(formValue(r, "into"))}
	survivor, err := h.incidentByRef(ctx, "into", mf.Into)
	if err == nil {
		err = h.store.MergeIncident(ctx, id, survivor, "")
	}
	if err != nil {
		fe, ok := incidentFieldError(err)
		if !ok {
			h.error(w, r, err)
			return
		}
		if fe.Field == "" && fe.Label == "into" {
			fe.Field, fe.Label = "into", "Merge into"
		}
		h.showIncidentWith(w, r, id, http.StatusBadRequest, fe, func(p *incidentDetailPage) { p.Merge = mf })
		return
	}
	redirect(w, r, withNotice(incidentPath(survivor), "merged"))
}
