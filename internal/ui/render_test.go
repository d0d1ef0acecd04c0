package ui

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
)

// TestParsePages checks that a template that does not parse, or a page
// without "content", stops New instead of failing at request time.
func TestParsePages(t *testing.T) {
	tests := []struct {
		dir  string
		want string // "" for success
	}{
		{"testdata/broken", "ui: parse template page.html"},
		{"testdata/nocontent", `ui: template page.html defines no "content"`},
		{"testdata/failing", ""},
	}
	static := func(string) (string, error) { return "/static/x", nil }
	for _, tt := range tests {
		t.Run(strings.TrimPrefix(tt.dir, "testdata/"), func(t *testing.T) {
			_, err := parsePages(os.DirFS("."), tt.dir, static)
			got := ""
			if err != nil {
				got = err.Error()
			}
			if tt.want == "" && err != nil || !strings.HasPrefix(got, tt.want) {
				t.Errorf("parsePages(%s) = %q, want prefix %q", tt.dir, got, tt.want)
			}
		})
	}
}

// TestEmbeddedTemplatesParse checks the shipped templates and static
// files load.
func TestEmbeddedTemplatesParse(t *testing.T) {
	a, err := newAssets(staticFS, "static")
	if err != nil {
		t.Fatal(err)
	}
	p, err := parsePages(templateFS, "templates", a.url)
	if err != nil {
		t.Fatal(err)
	}
	for _, page := range []string{"account", "audit", "dashboard", "error", "login", "org_detail", "org_form", "org_list", "user_form", "user_list",
		"report_form", "report_sent", "incident_list", "incident_detail", "incident_content", "incident_form", "incident_metrics"} {
		if p.sets[page] == nil {
			t.Errorf("page %s not parsed", page)
		}
	}
}

// TestRenderFailure checks that a template failing half-way gives a clean
// 500 page and never half a page.
func TestRenderFailure(t *testing.T) {
	a := &assets{files: map[string]asset{}}
	p, err := parsePages(os.DirFS("."), "testdata/failing", a.url)
	if err != nil {
		t.Fatal(err)
	}
	h := &handlers{logger: slog.New(slog.NewTextHandler(io.Discard, nil)), pages: p, assets: a}
	tests := []struct {
		name   string
		page   string
		status int
		body   string
	}{
		{"template-error", "boom", http.StatusInternalServerError, "clean error page"},
		{"unknown-page", "nope", http.StatusInternalServerError, "clean error page"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			h.render(w, httptest.NewRequest("GET", "/x", nil), http.StatusOK, tt.page, struct{}{})
			if w.Code != tt.status {
				t.Errorf("render(%s) status = %d, want %d", tt.page, w.Code, tt.status)
			}
			if body := w.Body.String(); !strings.Contains(body, tt.body) || strings.Contains(body, "half a page") {
				t.Errorf("render(%s) body = %q, want the clean error page only", tt.page, body)
			}
		})
	}
}

// TestNew checks New refuses an incomplete configuration.
func TestNew(t *testing.T) {
	if _, err := New(Config{}); err == nil || !strings.HasPrefix(err.Error(), "ui: ") {
		t.Errorf("New(Config{}) = %v, want an error naming the missing fields", err)
	}
}
