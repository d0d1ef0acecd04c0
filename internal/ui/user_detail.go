package ui

import "net/http"

// userDetail serves GET /users/{id}: the account, with the form to change
// its role, organisation and whether it is disabled.
func (h *handlers) userDetail(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		h.error(w, r, err)
		return
	}
	u, err := h.store.User(r.Context(), id)
	if err != nil {
		h.error(w, r, err)
		return
	}
	page, err := h.userFormPage(r, u.Name, u, userForm{Name: u.Name, Role: string(u.Role), OrgID: u.OrgID, Disabled: u.Disabled})
	if err != nil {
		h.error(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, "user_form", page)
}
