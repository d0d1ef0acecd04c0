package ui

import (
	"net/http"
	"strconv"

	"focal/internal/auth"
	"focal/internal/focal"
)

// userCreate serves POST /users: it creates an account with an initial
// password (optional only for a peer's machine account) and goes to its
// page, or shows the form again with the error.
func (h *handlers) userCreate(w http.ResponseWriter, r *http.Request) {
	f, err := parseUserForm(r)
	if err != nil {
		h.userFormError(w, r, "New account", nil, f, err)
		return
	}
	role, err := focal.ParseRole(f.Role)
	if err != nil {
		h.userFormError(w, r, "New account", nil, f, err)
		return
	}
	if role != focal.RoleConstituent {
		f.OrgID = 0 // the organisation select applies to constituents only
	}
	password, hash := r.PostForm.Get("password"), ""
	if password != "" || role != focal.RolePeer {
		if err := checkPassword("password", password); err != nil {
			h.userFormError(w, r, "New account", nil, f, err)
			return
		}
		if hash, err = auth.HashPassword(password, auth.DefaultParams); err != nil {
			h.error(w, r, err)
			return
		}
	}
	u := &focal.User{Name: f.Name, Role: role, OrgID: f.OrgID}
	if err := h.store.CreateUser(r.Context(), u, hash); err != nil {
		h.userFormError(w, r, "New account", nil, f, err)
		return
	}
	redirect(w, r, withNotice("/users/"+strconv.FormatInt(u.ID, 10), "created"))
}

// userFormError shows the account form again with a validation error next
// to its field, or the error page for any other error.
func (h *handlers) userFormError(w http.ResponseWriter, r *http.Request, title string, u *focal.User, f userForm, err error) {
	fe, ok := userFieldError(err)
	if !ok {
		h.error(w, r, err)
		return
	}
	page, perr := h.userFormPage(r, title, u, f)
	if perr != nil {
		h.error(w, r, perr)
		return
	}
	page.Err = fe
	h.render(w, r, http.StatusBadRequest, "user_form", page)
}
