package ui

import (
	"net/http"
	"strconv"
)

// orgCreate serves POST /organisations: it stores a new organisation and
// goes to its page, or shows the form again with the error.
func (h *handlers) orgCreate(w http.ResponseWriter, r *http.Request) {
	f, addRow, err := parseOrgForm(r)
	if err != nil {
		h.error(w, r, err)
		return
	}
	page := h.newOrgFormPage(r, 0, f)
	if addRow {
		page.Form.Contacts = append(page.Form.Contacts, blankContact())
		h.render(w, r, http.StatusOK, "org_form", page)
		return
	}
	o, rows, err := f.toOrg()
	if err == nil {
		err = h.store.CreateOrganisation(r.Context(), o)
	}
	if err != nil {
		h.orgFormError(w, r, page, rows, err)
		return
	}
	h.constituencyChanged()
	redirect(w, r, withNotice("/organisations/"+strconv.FormatInt(o.ID, 10), "created"))
}

// orgFormError shows the form again with a validation error next to its
// field, or the error page for any other error.
func (h *handlers) orgFormError(w http.ResponseWriter, r *http.Request, page orgFormPage, rows []int, err error) {
	fe, ok := orgFieldError(err, rows)
	if !ok {
		h.error(w, r, err)
		return
	}
	page.Err = fe
	h.render(w, r, http.StatusBadRequest, "org_form", page)
}
