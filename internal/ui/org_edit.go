package ui

import (
	"net/http"
	"strconv"
)

// orgEdit serves GET /organisations/{id}/edit: the form filled with the
// stored organisation. It shows the contacts, so the view is audited.
func (h *handlers) orgEdit(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		h.error(w, r, err)
		return
	}
	o, err := h.store.Organisation(r.Context(), id)
	if err != nil {
		h.error(w, r, err)
		return
	}
	if len(o.Contacts) > 0 {
		if err := h.store.Audit(r.Context(), "view", "organisation", strconv.FormatInt(id, 10), map[string]any{"contacts": len(o.Contacts), "via": "ui-edit"}); err != nil {
			h.error(w, r, err)
			return
		}
	}
	h.render(w, r, http.StatusOK, "org_form", h.newOrgFormPage(r, id, orgToForm(o)))
}
