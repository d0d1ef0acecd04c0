package ui

import (
	"net/http"
	"strconv"
)

// orgUpdate serves POST /organisations/{id}: it replaces the organisation
// with the form's contents and goes to its page, or shows the form again
// with the error.
func (h *handlers) orgUpdate(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		h.error(w, r, err)
		return
	}
	f, addRow, err := parseOrgForm(r)
	if err != nil {
		h.error(w, r, err)
		return
	}
	page := h.newOrgFormPage(r, id, f)
	if addRow {
		page.Form.Contacts = append(page.Form.Contacts, blankContact())
		h.render(w, r, http.StatusOK, "org_form", page)
		return
	}
	o, rows, err := f.toOrg()
	if err == nil {
		o.ID = id
		err = h.store.UpdateOrganisation(r.Context(), o)
	}
	if err != nil {
		h.orgFormError(w, r, page, rows, err)
		return
	}
	h.constituencyChanged()
	redirect(w, r, withNotice("/organisations/"+strconv.FormatInt(id, 10), "saved"))
}
