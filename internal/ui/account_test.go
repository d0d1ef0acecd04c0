package ui_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestPasswordChange posts the password form: bad cases keep the account
// unchanged; a good one keeps this session and ends the others.
func TestPasswordChange(t *testing.T) {
	e := newEnv(t)
	const newPassword = "a completely different passphrase"
	tests := []struct {
		name   string
		form   url.Values
		status int
		msg    string
	}{
		{"wrong-current", url.Values{"current_password": {"nope"}, "new_password": {newPassword}, "confirm_password": {newPassword}}, http.StatusBadRequest, "Current password</a>: wrong password"},
		{"weak-new", url.Values{"current_password": {testPassword}, "new_password": {"aaaaaaaaaaaaaaa"}, "confirm_password": {"aaaaaaaaaaaaaaa"}}, http.StatusBadRequest, "New password</a>: password must not be a single repeated character"},
		{"mismatch", url.Values{"current_password": {testPassword}, "new_password": {newPassword}, "confirm_password": {newPassword + "x"}}, http.StatusBadRequest, "Repeat the new password</a>: does not match the new password"},
		{"ok", url.Values{"current_password": {testPassword}, "new_password": {newPassword}, "confirm_password": {newPassword}}, http.StatusSeeOther, ""},
	}
	other := e.newSession(t, e.users["analyst"])
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.post(t, "analyst", "/account/password", tt.form)
			if r.status != tt.status {
				t.Fatalf("POST /account/password = %d, want %d\n%s", r.status, tt.status, r.body)
			}
			if !strings.Contains(r.body, tt.msg) {
				t.Errorf("POST /account/password lacks %q", tt.msg)
			}
		})
	}
	if r := e.get(t, "analyst", "/account?notice=password"); r.status != http.StatusOK || !strings.Contains(r.body, "Your password was changed") {
		t.Errorf("GET /account after the change = %d, want 200 with the notice", r.status)
	}
	e.sessions["analyst-other"] = other
	if r := e.get(t, "analyst-other", "/account"); r.status != http.StatusSeeOther {
		t.Errorf("GET /account with another session of the account = %d, want 303 (ended)", r.status)
	}
	if r := e.post(t, "", "/login", url.Values{"name": {"analyst"}, "password": {newPassword}}); r.status != http.StatusSeeOther {
		t.Errorf("login with the new password = %d, want 303", r.status)
	}
}
