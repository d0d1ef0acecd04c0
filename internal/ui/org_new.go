package ui

import "net/http"

// orgNew serves GET /organisations/new: an empty organisation form.
func (h *handlers) orgNew(w http.ResponseWriter, r *http.Request) {
	f := orgForm{Critical: "default", Schedule: "daily", Contacts: []contactForm{blankContact()}}
	h.render(w, r, http.StatusOK, "org_form", h.newOrgFormPage(r, 0, f))
}
