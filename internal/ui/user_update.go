package ui

import (
	"net/http"
	"strconv"

	"focal/internal/focal"
)

// userUpdate serves POST /users/{id}: it changes the account's role,
// organisation and disabled flag (disabling ends its sessions) and goes
// back to its page, or shows the form again with the error.
func (h *handlers) userUpdate(w http.ResponseWriter, r *http.Request) {
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
	f, err := parseUserForm(r)
	f.Name = u.Name
	if err != nil {
		h.userFormError(w, r, u.Name, u, f, err)
		return
	}
	role, err := focal.ParseRole(f.Role)
	if err != nil {
		h.userFormError(w, r, u.Name, u, f, err)
		return
	}
	if role != focal.RoleConstituent {
		f.OrgID = 0 // the organisation select applies to constituents only
	}
	changed := *u
	changed.Role, changed.OrgID, changed.Disabled = role, f.OrgID, f.Disabled
	if err := h.store.UpdateUser(r.Context(), &changed); err != nil {
		h.userFormError(w, r, u.Name, u, f, err)
		return
	}
	redirect(w, r, withNotice("/users/"+strconv.FormatInt(id, 10), "saved"))
}
