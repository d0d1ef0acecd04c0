package ui

import (
	"net/http"
	"net/url"

	"focal/internal/focal"
	"focal/internal/server"
)

// errorPage is the data of the error page.
type errorPage struct {
	base
	Status  int
	Message string
	Login   string // a link to log in, for 401
}

// error renders err: a redirect to the login page for an anonymous GET,
// otherwise the error page with the mapped status and the public message.
func (h *handlers) error(w http.ResponseWriter, r *http.Request, err error) {
	status := server.StatusCode(err)
	msg := focal.ErrorMessage(err)
	if status == http.StatusRequestEntityTooLarge && focal.ErrorCode(err) == focal.EINTERNAL {
		msg = "the form is too large"
	}
	if status >= 500 {
		h.logger.Error("request failed", "method", r.Method, "path", r.URL.Path, "status", status, "err", err)
	}
	if status == http.StatusUnauthorized {
		login := "/login?next=" + url.QueryEscape(r.URL.RequestURI())
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			if r.Header.Get("HX-Request") == "true" {
				// htmx would follow a 303 inside its request and swap the
				// login page into the table; ask it to navigate instead.
				w.Header().Set("HX-Redirect", login)
				w.WriteHeader(status)
				return
			}
			http.Redirect(w, r, login, http.StatusSeeOther)
			return
		}
		h.render(w, r, status, "error", errorPage{base: h.base(r, "Log in first"), Status: status, Message: msg, Login: login})
		return
	}
	h.renderError(w, r, status, msg)
}

// renderError shows the error page with status and a public message.
func (h *handlers) renderError(w http.ResponseWriter, r *http.Request, status int, msg string) {
	h.render(w, r, status, "error", errorPage{base: h.base(r, http.StatusText(status)), Status: status, Message: msg})
}
