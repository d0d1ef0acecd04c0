package ui_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"focal/internal/focal"
)

// TestUserCreate posts the new-account form: good and bad.
func TestUserCreate(t *testing.T) {
	e := newEnv(t)
	orgA := fmt.Sprint(e.orgA.ID)
	tests := []struct {
		name   string
		form   url.Values
		status int
		msg    string // for 400: the summary, label and message
	}{
		{"handler", url.Values{"name": {"Zoe"}, "role": {"handler"}, "org": {orgA}, "password": {testPassword}}, http.StatusSeeOther, ""},
		{"constituent", url.Values{"name": {"yann"}, "role": {"constituent"}, "org": {orgA}, "password": {testPassword}}, http.StatusSeeOther, ""},
		{"peer-without-password", url.Values{"name": {"peer-x"}, "role": {"peer"}}, http.StatusSeeOther, ""},
		{"weak-password", url.Values{"name": {"xavier"}, "role": {"handler"}, "password": {"short"}}, http.StatusBadRequest, "Initial password</a>: password must be at least 12 characters long"},
		{"no-password", url.Values{"name": {"xavier"}, "role": {"handler"}}, http.StatusBadRequest, "Initial password</a>: password must be at least 12 characters long, got 0"},
		{"constituent-without-org", url.Values{"name": {"xavier"}, "role": {"constituent"}, "password": {testPassword}}, http.StatusBadRequest, "Organisation</a>: a constituent account must belong to an organisation"},
		{"bad-name", url.Values{"name": {"-x"}, "role": {"handler"}, "password": {testPassword}}, http.StatusBadRequest, "Name</a>: may contain only"},
		{"taken-name", url.Values{"name": {"handler"}, "role": {"handler"}, "password": {testPassword}}, http.StatusBadRequest, "Name</a>: an account named &#34;handler&#34; already exists"},
		{"bad-role", url.Values{"name": {"xavier"}, "role": {"king"}, "password": {testPassword}}, http.StatusBadRequest, "Role</a>: unknown role"},
		{"bad-org", url.Values{"name": {"xavier"}, "role": {"constituent"}, "org": {"x"}, "password": {testPassword}}, http.StatusBadRequest, "Organisation</a>: choose an organisation from the list"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.post(t, "coordinator", "/users", tt.form)
			if r.status != tt.status {
				t.Fatalf("POST /users %v = %d, want %d\n%s", tt.form, r.status, tt.status, r.body)
			}
			if tt.status == http.StatusBadRequest {
				if !strings.Contains(r.body, tt.msg) {
					t.Errorf("POST /users %v lacks %q", tt.form, tt.msg)
				}
				if p := tt.form.Get("password"); p != "" && strings.Contains(r.body, p) {
					t.Errorf("POST /users echoes the password")
				}
				return
			}
			name := strings.ToLower(tt.form.Get("name"))
			users, err := e.st.Users(e.sys)
			if err != nil {
				t.Fatal(err)
			}
			for _, u := range users {
				if u.Name == name {
					if want := fmt.Sprintf("/users/%d?notice=created", u.ID); r.header.Get("Location") != want {
						t.Errorf("POST /users Location = %q, want %q", r.header.Get("Location"), want)
					}
					if u.Role != focal.Role(tt.form.Get("role")) || (u.OrgID != 0) != (u.Role == focal.RoleConstituent) {
						t.Errorf("created %+v from %v", u, tt.form)
					}
					return
				}
			}
			t.Errorf("POST /users %v created no account %q", tt.form, name)
		})
	}
	// The new handler logs in with the initial password.
	if r := e.post(t, "", "/login", url.Values{"name": {"zoe"}, "password": {testPassword}}); r.status != http.StatusSeeOther {
		t.Errorf("login with the initial password = %d, want 303", r.status)
	}
}

// TestUserUpdate changes an account and checks disabling ends its sessions.
func TestUserUpdate(t *testing.T) {
	e := newEnv(t)
	u := e.users["handler"]
	path := fmt.Sprintf("/users/%d", u.ID)
	r := e.post(t, "coordinator", path, url.Values{"role": {"analyst"}, "disabled": {"1"}})
	if r.status != http.StatusSeeOther || r.header.Get("Location") != path+"?notice=saved" {
		t.Fatalf("POST %s = %d to %q, want 303 to %s?notice=saved\n%s", path, r.status, r.header.Get("Location"), path, r.body)
	}
	got, err := e.st.User(e.sys, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Role != focal.RoleAnalyst || !got.Disabled {
		t.Errorf("after update: role %s disabled %v, want analyst true", got.Role, got.Disabled)
	}
	if r := e.get(t, "handler", "/"); r.status != http.StatusSeeOther {
		t.Errorf("GET / with a disabled account's session = %d, want 303 to the login page", r.status)
	}
	r = e.get(t, "coordinator", path+"?notice=saved")
	for _, want := range []string{"Saved.", `<option value="analyst" selected>`, `name="disabled" value="1" checked`} {
		if !strings.Contains(r.body, want) {
			t.Errorf("GET %s lacks %q", path, want)
		}
	}
	r = e.post(t, "coordinator", path, url.Values{"role": {"constituent"}})
	if r.status != http.StatusBadRequest || !strings.Contains(r.body, "Organisation</a>: a constituent account must belong to an organisation") {
		t.Errorf("POST %s as constituent without org = %d, want 400 naming Organisation\n%s", path, r.status, r.body)
	}
	if r := e.get(t, "coordinator", "/users"); !strings.Contains(r.body, `<span class="badge off">disabled</span>`) {
		t.Errorf("GET /users does not show the disabled account")
	}
}
