package ui

import "net/http"

// userNew serves GET /users/new: the form for a new account.
func (h *handlers) userNew(w http.ResponseWriter, r *http.Request) {
	page, err := h.userFormPage(r, "New account", nil, userForm{Role: "handler"})
	if err != nil {
		h.error(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, "user_form", page)
}
