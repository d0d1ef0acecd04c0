package ui

import (
	"net/http"
	"strings"

	"focal/internal/focal"
	"focal/internal/httpauth"
	"focal/internal/server"
)

// loginPage is the data of the login form.
type loginPage struct {
	base
	Name  string // what the user typed, kept after a failure
	Next  string
	Error string
}

// loginForm serves GET /login; a caller already logged in goes on to next.
func (h *handlers) loginForm(w http.ResponseWriter, r *http.Request) {
	next := httpauth.SafeNext(r.URL.Query().Get("next"))
	if !focal.PrincipalFromContext(r.Context()).IsAnonymous() {
		redirect(w, r, next)
		return
	}
	h.render(w, r, http.StatusOK, "login", loginPage{base: h.base(r, "Log in"), Next: next})
}

// login serves POST /login: on success 303 to next, else the form again
// with the reason (401 wrong credentials, 429 rate limited, 400 empty).
func (h *handlers) login(w http.ResponseWriter, r *http.Request) {
	if err := parseForm(r); err != nil {
		h.error(w, r, err)
		return
	}
	page := loginPage{
		base: h.base(r, "Log in"),
		Name: strings.TrimSpace(r.PostForm.Get("name")),
		Next: httpauth.SafeNext(r.PostForm.Get("next")),
	}
	password := r.PostForm.Get("password")
	// An empty form is not a login attempt: it costs no rate-limit token.
	if page.Name == "" || password == "" {
		page.Error = "Enter your name and your password."
		h.render(w, r, http.StatusBadRequest, "login", page)
		return
	}
	_, err := h.auth.Login(w, r, page.Name, password)
	switch focal.ErrorCode(err) {
	case "":
		redirect(w, r, page.Next)
	case focal.EUNAUTHORIZED, focal.ETOOMANY:
		page.Error = focal.ErrorMessage(err)
		h.render(w, r, server.StatusCode(err), "login", page)
	default:
		h.error(w, r, err)
	}
}
