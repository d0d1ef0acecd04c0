package ui_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// TestStatic checks static files are served under their content hash,
// cached as immutable, and that any other hash is a 404.
func TestStatic(t *testing.T) {
	e := newEnv(t)
	login := e.get(t, "", "/login").body
	links := map[string]string{}
	for _, m := range regexp.MustCompile(`"(/static/([0-9a-f]{16})/([a-z.]+))"`).FindAllStringSubmatch(login, -1) {
		links[m[3]] = m[1]
	}
	css, js := links["app.css"], links["htmx.min.js"]
	if css == "" || js == "" {
		t.Fatalf("login page links %v, want app.css and htmx.min.js under /static/<hash>/", links)
	}
	tests := []struct {
		name   string
		path   string
		header []string
		status int
		ctype  string
		start  string
	}{
		{"css", css, nil, http.StatusOK, "text/css", "/* focal web UI"},
		{"htmx", js, nil, http.StatusOK, "javascript", "/*! htmx 2.0."},
		{"wrong-hash", "/static/0000000000000000/app.css", nil, http.StatusNotFound, "text/html", ""},
		{"other-files-hash", strings.Replace(js, "htmx.min.js", "app.css", 1), nil, http.StatusNotFound, "text/html", ""},
		{"unknown-name", strings.Replace(css, "app.css", "nope.css", 1), nil, http.StatusNotFound, "text/html", ""},
		{"not-embedded", strings.Replace(css, "app.css", "VERSIONS", 1), nil, http.StatusNotFound, "text/html", ""},
		{"revalidate", css, []string{"If-None-Match", `"` + strings.Split(css, "/")[2] + `"`}, http.StatusNotModified, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.get(t, "", tt.path, tt.header...)
			if r.status != tt.status {
				t.Fatalf("GET %s = %d, want %d", tt.path, r.status, tt.status)
			}
			if !strings.Contains(r.header.Get("Content-Type"), tt.ctype) {
				t.Errorf("GET %s Content-Type = %q, want %q", tt.path, r.header.Get("Content-Type"), tt.ctype)
			}
			if !strings.HasPrefix(r.body, tt.start) {
				t.Errorf("GET %s body starts %.40q, want %q", tt.path, r.body, tt.start)
			}
			cache := r.header.Get("Cache-Control")
			if tt.status == http.StatusOK || tt.status == http.StatusNotModified {
				if cache != "public, max-age=31536000, immutable" {
					t.Errorf("GET %s Cache-Control = %q, want public, max-age=31536000, immutable", tt.path, cache)
				}
			} else if strings.Contains(cache, "immutable") {
				t.Errorf("GET %s (a miss) Cache-Control = %q, must not be cached", tt.path, cache)
			}
		})
	}
}
