package ui

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"focal/internal/focal"
	"focal/internal/store"
)

// userForm is the account form as the user typed it. The password is never
// shown again.
type userForm struct {
	Name     string
	Role     string
	OrgID    int64
	Disabled bool
}

// orgOption is an organisation in a select.
type orgOption struct {
	ID   int64
	Name string
}

// userFormPage is the data of the new-account form and of an account's
// page, which holds the form to change it.
type userFormPage struct {
	base
	User  *focal.User // nil for a new account
	Form  userForm
	Err   *fieldError
	Roles []focal.Role
	Orgs  []orgOption
}

// ErrorFor returns the error message about field, or "".
func (p userFormPage) ErrorFor(field string) string {
	if p.Err != nil && p.Err.Field == field {
		return p.Err.Message
	}
	return ""
}

// maxOrgOptions bounds the organisations offered in the account form.
const maxOrgOptions = 1000

// userFormPage returns the form data with the organisations to choose from.
func (h *handlers) userFormPage(r *http.Request, title string, u *focal.User, f userForm) (userFormPage, error) {
	orgs, _, err := h.store.Organisations(r.Context(), store.OrgFilter{Limit: maxOrgOptions})
	if err != nil {
		return userFormPage{}, err
	}
	page := userFormPage{base: h.base(r, title), User: u, Form: f, Roles: focal.Roles}
	for _, o := range orgs {
		page.Orgs = append(page.Orgs, orgOption{ID: o.ID, Name: o.Name})
	}
	return page, nil
}

// parseUserForm reads the role, organisation and disabled fields (and the
// name, for a new account).
func parseUserForm(r *http.Request) (userForm, error) {
	if err := parseForm(r); err != nil {
		return userForm{}, err
	}
	v := r.PostForm
	f := userForm{
		Name:     strings.ToLower(strings.TrimSpace(v.Get("name"))),
		Role:     v.Get("role"),
		Disabled: v.Get("disabled") != "",
	}
	if s := v.Get("org"); s != "" {
		id, err := strconv.ParseInt(s, 10, 64)
		if err != nil || id < 0 {
			return f, focal.FieldErrorf("org", "choose an organisation from the list")
		}
		f.OrgID = id
	}
	return f, nil
}

// userFieldError places a validation error next to its field; ok is false
// for other errors.
func userFieldError(err error) (*fieldError, bool) {
	var e *focal.Error
	if !errors.As(err, &e) || e.Code != focal.EINVALID {
		return nil, false
	}
	labels := map[string]string{"name": "Name", "role": "Role", "org": "Organisation", "password": "Initial password"}
	label, ok := labels[e.Field]
	if !ok {
		return &fieldError{Label: e.Field, Message: e.Message}, true
	}
	return &fieldError{Field: e.Field, Label: label, Message: e.Message}, true
}
