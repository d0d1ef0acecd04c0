package ui

import (
	"net/http"

	"focal/internal/focal"
)

// accountPage is the data of the caller's own account page.
type accountPage struct {
	base
	User *focal.User
	Err  *fieldError
}

// ErrorFor returns the error message about field, or "".
func (p accountPage) ErrorFor(field string) string {
	if p.Err != nil && p.Err.Field == field {
		return p.Err.Message
	}
	return ""
}

// account serves GET /account: the caller's account and the password form.
func (h *handlers) account(w http.ResponseWriter, r *http.Request) {
	p := focal.PrincipalFromContext(r.Context())
	u, err := h.store.User(r.Context(), p.UserID)
	if err != nil {
		h.error(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, "account", accountPage{base: h.base(r, "Your account"), User: u})
}
