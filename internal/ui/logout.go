package ui

import "net/http"

// logout serves POST /logout: it ends the session, if any, and goes to
// the login page.
func (h *handlers) logout(w http.ResponseWriter, r *http.Request) {
	if err := h.auth.Logout(w, r); err != nil {
		h.error(w, r, err)
		return
	}
	redirect(w, r, "/login")
}
