package ui_test

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"focal/internal/focal"
)

// TestPagesRender renders every page for every role allowed to see it and
// checks it is a whole page: no template error, the layout's landmarks,
// the page's heading.
func TestPagesRender(t *testing.T) {
	e := newEnv(t)
	staff := []string{"coordinator", "handler", "analyst", "assessor"}
	everyone := append(append([]string{}, staff...), "constituent", "constituent-b")
	a, userID := fmt.Sprint(e.orgA.ID), fmt.Sprint(e.users["handler"].ID)
	readers := []string{"coordinator", "handler", "analyst", "constituent", "constituent-b"}
	inc := e.addIncident(t, &focal.Incident{Title: "Phishing wave", Description: "links to hxxp://phish.example/x", OrgID: e.orgA.ID,
		Classifications: []focal.Classification{{Class: "fraud", Type: "phishing"}}, Reporter: focal.Reporter{Name: "Ada", Email: "ada@example.org"}},
		focal.Observable{Kind: "url", Value: "http://phish.example/x"}, focal.Observable{Kind: "domain", Value: "phish.example"})
	e.addIncident(t, &focal.Incident{Title: "Related", OrgID: e.orgA.ID}, focal.Observable{Kind: "domain", Value: "phish.example"})
	incPath := fmt.Sprintf("/incidents/%d", inc.ID)
	ownReaders := []string{"coordinator", "handler", "analyst", "constituent"}
	tests := []struct {
		name  string
		path  string
		roles []string
		h1    string
	}{
		{"dashboard", "/", everyone, "Welcome"},
		{"org-list", "/organisations", everyone, "Organisations"},
		{"org-list-filtered", "/organisations?q=alpha&sector=isp&country=fr&page=1", everyone, "Organisations"},
		{"org-list-page-beyond", "/organisations?page=99", staff, "Organisations"},
		{"org-new", "/organisations/new", []string{"coordinator"}, "New organisation"},
		{"org-detail", "/organisations/" + a, append(append([]string{}, staff...), "constituent"), "Alpha Telecom"},
		{"org-edit", "/organisations/" + a + "/edit", []string{"coordinator"}, "Edit Alpha Telecom"},
		{"user-list", "/users", []string{"coordinator"}, "Users"},
		{"user-new", "/users/new", []string{"coordinator"}, "New account"},
		{"user-detail", "/users/" + userID, []string{"coordinator"}, "handler"},
		{"account", "/account", append(append([]string{}, everyone...), "peer"), "Your account"},
		{"audit", "/audit", []string{"coordinator"}, "Audit log"},
		{"audit-filtered", "/audit?actor=system&action=create&object_type=organisation&object_id=" + a + "&before=1000", []string{"coordinator"}, "Audit log"},
		{"login", "/login", []string{""}, "Log in to focal"},
		{"report", "/report", append(append([]string{""}, everyone...), "peer"), "Report an incident"},
		{"incident-list", "/incidents", readers, "Incidents"},
		{"incident-queue", "/incidents?view=queue", readers, "Triage queue"},
		{"incident-list-filtered", "/incidents?status=new&status=triaged&class=fraud&tlp=amber&org=" + a + "&assignee=me&overdue=1&q=x&before=1000", readers, "Incidents"},
		{"incident-new", "/incidents/new", []string{"coordinator", "handler", "constituent"}, "New incident"},
		{"incident-metrics", "/incidents/metrics", readers, "Handling metrics"},
		{"incident-metrics-org", "/incidents/metrics?by=org&since=2020-01-01&until=2099-12-31", readers, "Handling metrics"},
		{"incident-metrics-class", "/incidents/metrics?by=class", readers, "Handling metrics"},
		{"incident-metrics-sector", "/incidents/metrics?by=sector", readers, "Handling metrics"},
		{"incident-metrics-severity", "/incidents/metrics?by=severity", readers, "Handling metrics"},
		{"incident-detail", incPath, ownReaders, inc.Ref + " Phishing wave"},
		{"incident-content", incPath + "/content", ownReaders, inc.Ref + " Phishing wave"},
	}
	h1 := regexp.MustCompile(`<h1>([^<]*)`)
	for _, tt := range tests {
		for _, role := range tt.roles {
			t.Run(tt.name+"/"+role, func(t *testing.T) {
				r := e.get(t, role, tt.path)
				if r.status != http.StatusOK {
					t.Fatalf("GET %s as %q = %d, want 200\n%s", tt.path, role, r.status, r.body)
				}
				if ct := r.header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
					t.Errorf("GET %s Content-Type = %q, want text/html; charset=utf-8", tt.path, ct)
				}
				if cc := r.header.Get("Cache-Control"); cc != "no-store" {
					t.Errorf("GET %s Cache-Control = %q, want no-store", tt.path, cc)
				}
				for _, want := range []string{`<!doctype html>`, `<meta name="viewport"`, `class="skip" href="#main"`, `<main id="main"`, `</html>`} {
					if !strings.Contains(r.body, want) {
						t.Errorf("GET %s as %q lacks %q", tt.path, role, want)
					}
				}
				if m := h1.FindStringSubmatch(r.body); m == nil || !strings.Contains(m[1], tt.h1) {
					t.Errorf("GET %s as %q: h1 = %q, want it to contain %q", tt.path, role, m, tt.h1)
				}
				if strings.Contains(r.body, " style=") || strings.Contains(r.body, "<style") {
					t.Errorf("GET %s has inline style, which the CSP blocks", tt.path)
				}
				if regexp.MustCompile(`<script(?:\s[^>]*)?>[^<]`).MatchString(r.body) || strings.Contains(r.body, " onclick=") {
					t.Errorf("GET %s has inline script, which the CSP blocks", tt.path)
				}
			})
		}
	}
}

// TestNav checks the navigation shows exactly what each role may reach,
// and marks the current page.
func TestNav(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		role string
		want []string
	}{
		{"coordinator", []string{"Dashboard", "Incidents", "Quarantine", "SLA", "Events", "Notifications", "Feeds", "Advisories", "Sharing", "Focal points", "Organisations", "Change requests", "Assessments", "Users", "Audit log", "Account", "Report an incident"}},
		{"handler", []string{"Dashboard", "Incidents", "Quarantine", "SLA", "Events", "Notifications", "Feeds", "Advisories", "Sharing", "Focal points", "Organisations", "Change requests", "Assessments", "Account", "Report an incident"}},
		{"analyst", []string{"Dashboard", "Incidents", "SLA", "Events", "Feeds", "Advisories", "Sharing", "Focal points", "Organisations", "Change requests", "Assessments", "Account", "Report an incident"}},
		{"assessor", []string{"Dashboard", "Advisories", "Sharing", "Focal points", "Organisations", "Change requests", "Assessments", "Account", "Report an incident"}},
		{"constituent", []string{"Dashboard", "Incidents", "SLA", "Events", "Live", "Notifications", "Advisories", "My organisation", "Account", "Report an incident"}},
		{"peer", []string{"Account", "Report an incident"}},
	}
	item := regexp.MustCompile(`<li><a href="[^"]*"(?: aria-current="page")?>([^<]+)</a></li>`)
	for _, tt := range tests {
		t.Run(tt.role, func(t *testing.T) {
			r := e.get(t, tt.role, "/account")
			nav := r.body[strings.Index(r.body, "<nav"):strings.Index(r.body, "</nav>")]
			var got []string
			for _, m := range item.FindAllStringSubmatch(nav, -1) {
				got = append(got, m[1])
			}
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Errorf("nav for %s = %v, want %v", tt.role, got, tt.want)
			}
			if !strings.Contains(nav, `<a href="/account" aria-current="page">Account</a>`) {
				t.Errorf("nav for %s on /account does not mark Account current:\n%s", tt.role, nav)
			}
			if strings.Count(nav, "aria-current") != 1 {
				t.Errorf("nav for %s marks %d items current, want 1", tt.role, strings.Count(nav, "aria-current"))
			}
		})
	}
	r := e.get(t, "", "/login")
	if strings.Contains(r.body, "<nav") {
		t.Errorf("login page for anonymous shows a navigation bar")
	}
	if !strings.Contains(r.body, `<a href="/report"`) {
		t.Errorf("login page for anonymous has no link to the report form")
	}
}

// TestErrors checks the UI's error answers: a login redirect for an
// anonymous GET (and an htmx one), a 401 page for an anonymous POST, the
// 403 and 404 pages.
func TestErrors(t *testing.T) {
	e := newEnv(t)
	b := fmt.Sprint(e.orgB.ID)
	tests := []struct {
		name     string
		as       string
		method   string
		path     string
		header   []string
		status   int
		location string
		body     string
	}{
		{"anonymous-get", "", "GET", "/organisations?q=x", nil, http.StatusSeeOther, "/login?next=%2Forganisations%3Fq%3Dx", ""},
		{"anonymous-dashboard", "", "GET", "/", nil, http.StatusSeeOther, "/login?next=%2F", ""},
		{"anonymous-htmx", "", "GET", "/organisations?q=x", []string{"HX-Request", "true"}, http.StatusUnauthorized, "", ""},
		{"anonymous-post", "", "POST", "/organisations", nil, http.StatusUnauthorized, "", "log in first"},
		{"constituent-other-org", "constituent", "GET", "/organisations/" + b, nil, http.StatusForbidden, "", "may not read this organisation"},
		{"handler-users", "handler", "GET", "/users", nil, http.StatusForbidden, "", "may not read this user"},
		{"handler-create-org", "handler", "POST", "/organisations", nil, http.StatusForbidden, "", "may not create"},
		{"peer-dashboard", "peer", "GET", "/", nil, http.StatusForbidden, "", "may not read this dashboard"},
		{"no-such-org", "coordinator", "GET", "/organisations/999999", nil, http.StatusNotFound, "", "organisation 999999 not found"},
		{"bad-org-id", "coordinator", "GET", "/organisations/abc", nil, http.StatusNotFound, "", "no such page"},
		{"audit-bad-before", "coordinator", "GET", "/audit?before=x", nil, http.StatusBadRequest, "", "want a record number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do(t, tt.as, tt.method, tt.path, nil, tt.header...)
			if r.status != tt.status {
				t.Fatalf("%s %s as %q = %d, want %d\n%s", tt.method, tt.path, tt.as, r.status, tt.status, r.body)
			}
			if got := r.header.Get("Location"); got != tt.location {
				t.Errorf("%s %s Location = %q, want %q", tt.method, tt.path, got, tt.location)
			}
			if tt.name == "anonymous-htmx" {
				if got, want := r.header.Get("HX-Redirect"), "/login?next=%2Forganisations%3Fq%3Dx"; got != want {
					t.Errorf("HX-Redirect = %q, want %q", got, want)
				}
			}
			if tt.body != "" {
				if !strings.Contains(r.body, tt.body) || !strings.Contains(r.body, "</html>") {
					t.Errorf("%s %s body lacks %q or is not a whole page:\n%s", tt.method, tt.path, tt.body, r.body)
				}
				if ct := r.header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
					t.Errorf("%s %s Content-Type = %q, want an HTML page", tt.method, tt.path, ct)
				}
			}
		})
	}
}
