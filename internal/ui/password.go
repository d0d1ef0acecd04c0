package ui

import (
	"errors"
	"net/http"

	"focal/internal/auth"
	"focal/internal/focal"
	"focal/internal/httpauth"
)

// passwordChange serves POST /account/password: with the current password
// verified (and rate limited like a login), it sets the new one and ends
// the account's other sessions, keeping this one.
func (h *handlers) passwordChange(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	p := focal.PrincipalFromContext(ctx)
	if err := parseForm(r); err != nil {
		h.error(w, r, err)
		return
	}
	current, next, confirm := r.PostForm.Get("current_password"), r.PostForm.Get("new_password"), r.PostForm.Get("confirm_password")
	err := h.verifyPassword(r, p.Name, current)
	if err == nil {
		err = checkPassword("new_password", next)
	}
	if err == nil && next != confirm {
		err = focal.FieldErrorf("confirm_password", "does not match the new password")
	}
	if err != nil {
		h.passwordError(w, r, err)
		return
	}
	hash, err := auth.HashPassword(next, auth.DefaultParams)
	if err != nil {
		h.error(w, r, err)
		return
	}
	if err := h.store.SetPassword(ctx, p.UserID, hash, httpauth.SessionHash(r)); err != nil {
		h.error(w, r, err)
		return
	}
	redirect(w, r, withNotice("/account", "password"))
}

// verifyPassword checks the caller's current password. Guesses count
// against the same limits as logins, so a session left open cannot be
// used to guess the password.
func (h *handlers) verifyPassword(r *http.Request, name, password string) error {
	key := "user:" + name
	if ok, _ := h.auth.Limiter.Allow(key); !ok {
		return focal.Errorf(focal.ETOOMANY, "too many wrong passwords; try again later")
	}
	_, hash, err := h.store.Credentials(r.Context(), name)
	if err != nil {
		return err
	}
	ok, _, verr := auth.VerifyPassword(password, hash)
	if verr != nil && !errors.Is(verr, auth.ErrMalformedHash) {
		return verr
	}
	if !ok {
		h.auth.Limiter.Failure(key)
		return focal.FieldErrorf("current_password", "wrong password")
	}
	return nil
}

// checkPassword applies the password policy, naming field.
func checkPassword(field, password string) error {
	if err := auth.CheckPasswordPolicy(password); err != nil {
		if reason, ok := httpauth.IsPolicyError(err); ok {
			return focal.FieldErrorf(field, "%s", reason)
		}
		return err
	}
	return nil
}

// passwordError shows the account page again with the error next to its
// field, or the error page.
func (h *handlers) passwordError(w http.ResponseWriter, r *http.Request, err error) {
	var e *focal.Error
	if !errors.As(err, &e) || e.Code != focal.EINVALID {
		h.error(w, r, err)
		return
	}
	p := focal.PrincipalFromContext(r.Context())
	u, uerr := h.store.User(r.Context(), p.UserID)
	if uerr != nil {
		h.error(w, r, uerr)
		return
	}
	labels := map[string]string{"current_password": "Current password", "new_password": "New password", "confirm_password": "Repeat the new password"}
	h.render(w, r, http.StatusBadRequest, "account", accountPage{
		base: h.base(r, "Your account"),
		User: u,
		Err:  &fieldError{Field: e.Field, Label: labels[e.Field], Message: e.Message},
	})
}
