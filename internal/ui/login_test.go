package ui_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"focal/internal/httpauth"
)

// TestLogin checks the login form: the outcomes, the messages, the kept
// name, the redirect only to local paths.
func TestLogin(t *testing.T) {
	tests := []struct {
		name     string
		form     url.Values
		status   int
		location string
		body     string
		cookie   bool
	}{
		{"ok", url.Values{"name": {"handler"}, "password": {testPassword}, "next": {"/organisations?q=a"}}, http.StatusSeeOther, "/organisations?q=a", "", true},
		{"ok-case-and-space", url.Values{"name": {" Handler "}, "password": {testPassword}}, http.StatusSeeOther, "/", "", true},
		{"next-elsewhere", url.Values{"name": {"handler"}, "password": {testPassword}, "next": {"//evil.example/x"}}, http.StatusSeeOther, "/", "", true},
		{"wrong-password", url.Values{"name": {"handler"}, "password": {"not the password"}}, http.StatusUnauthorized, "", "wrong name or password", false},
		{"unknown-user", url.Values{"name": {"nobody"}, "password": {"not the password"}}, http.StatusUnauthorized, "", "wrong name or password", false},
		{"empty", url.Values{"name": {"handler"}}, http.StatusBadRequest, "", "Enter your name and your password", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t) // a fresh rate limiter for each case
			r := e.post(t, "", "/login", tt.form)
			if r.status != tt.status {
				t.Fatalf("POST /login %v = %d, want %d\n%s", tt.form, r.status, tt.status, r.body)
			}
			if got := r.header.Get("Location"); got != tt.location {
				t.Errorf("POST /login Location = %q, want %q", got, tt.location)
			}
			if got := strings.Contains(strings.Join(r.header.Values("Set-Cookie"), ";"), httpauth.CookieName+"=focal_s_"); got != tt.cookie {
				t.Errorf("POST /login sets a session cookie = %v, want %v", got, tt.cookie)
			}
			if !strings.Contains(r.body, tt.body) {
				t.Errorf("POST /login body lacks %q:\n%s", tt.body, r.body)
			}
			if tt.status != http.StatusSeeOther && !strings.Contains(r.body, `value="`+strings.TrimSpace(tt.form.Get("name"))+`"`) {
				t.Errorf("POST /login does not keep the name typed")
			}
			if strings.Contains(r.body, tt.form.Get("password")) && tt.form.Get("password") != "" {
				t.Errorf("POST /login echoes the password")
			}
		})
	}
}

// TestLoginLockout checks that repeated failures end in 429 with the
// limiter's message, even with the right password.
func TestLoginLockout(t *testing.T) {
	e := newEnv(t)
	wrong := url.Values{"name": {"handler"}, "password": {"not the password"}}
	for i := range 5 {
		if r := e.post(t, "", "/login", wrong); r.status != http.StatusUnauthorized {
			t.Fatalf("attempt %d: POST /login = %d, want 401", i+1, r.status)
		}
	}
	r := e.post(t, "", "/login", url.Values{"name": {"handler"}, "password": {testPassword}})
	if r.status != http.StatusTooManyRequests {
		t.Fatalf("attempt 6: POST /login = %d, want 429\n%s", r.status, r.body)
	}
	if !strings.Contains(r.body, "too many login attempts; try again in") {
		t.Errorf("attempt 6: body lacks the limiter's message:\n%s", r.body)
	}
	if len(r.header.Values("Set-Cookie")) != 0 {
		t.Errorf("attempt 6: a locked-out login set a cookie")
	}
}

// TestLogout checks logout ends the session and goes to the login page.
func TestLogout(t *testing.T) {
	e := newEnv(t)
	r := e.post(t, "handler", "/logout", url.Values{})
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/login" {
		t.Fatalf("POST /logout = %d to %q, want 303 to /login", r.status, r.header.Get("Location"))
	}
	if r := e.get(t, "handler", "/"); r.status != http.StatusSeeOther {
		t.Errorf("GET / with the ended session = %d, want 303 to the login page", r.status)
	}
	if r := e.get(t, "coordinator", "/login"); r.status != http.StatusSeeOther || r.header.Get("Location") != "/" {
		t.Errorf("GET /login when logged in = %d to %q, want 303 to /", r.status, r.header.Get("Location"))
	}
}

// TestCrossOriginPost checks a form posted from another site is refused
// (the App's cross-origin protection, which the UI relies on).
func TestCrossOriginPost(t *testing.T) {
	e := newEnv(t)
	r := e.post(t, "coordinator", "/organisations", url.Values{"name": {"Evil"}, "sector": {"isp"}, "country": {"FR"}}, "Sec-Fetch-Site", "cross-site")
	if r.status != http.StatusForbidden {
		t.Errorf("cross-site POST /organisations = %d, want 403", r.status)
	}
}
