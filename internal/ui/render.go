package ui

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"
)

//go:embed templates/*.html
var templateFS embed.FS

// layoutFile is the page frame every page template is parsed with; it
// executes the page's "content" template.
const layoutFile = "layout.html"

// pages holds one parsed template set per page: the layout plus the page
// file, which defines "content" (and may define partials).
type pages struct {
	sets map[string]*template.Template // by page file name without .html
}

// parsePages parses every template of dir in fsys once, each page together
// with the layout. A template that does not parse is an error.
func parsePages(fsys fs.FS, dir string, static func(string) (string, error)) (*pages, error) {
	funcs := template.FuncMap{
		"static":      static,
		"date":        formatDate,
		"datetime":    formatDateTime,
		"inc":         func(i int) int { return i + 1 },
		"dict":        dict,
		"healthLabel": healthLabel,
	}
	names, err := fs.Glob(fsys, path.Join(dir, "*.html"))
	if err != nil {
		return nil, fmt.Errorf("ui: templates: %w", err)
	}
	p := &pages{sets: map[string]*template.Template{}}
	layout := path.Join(dir, layoutFile)
	for _, name := range names {
		if path.Base(name) == layoutFile {
			continue
		}
		t, err := template.New(layoutFile).Funcs(funcs).ParseFS(fsys, layout, name)
		if err != nil {
			return nil, fmt.Errorf("ui: parse template %s: %w", path.Base(name), err)
		}
		if t.Lookup("content") == nil {
			return nil, fmt.Errorf("ui: template %s defines no \"content\"", path.Base(name))
		}
		p.sets[strings.TrimSuffix(path.Base(name), ".html")] = t
	}
	for _, required := range []string{"error"} {
		if p.sets[required] == nil {
			return nil, fmt.Errorf("ui: template %s.html is missing", required)
		}
	}
	return p, nil
}

// dict builds a map from key, value pairs, to pass several values to a
// partial template.
func dict(kv ...any) (map[string]any, error) {
	if len(kv)%2 != 0 {
		return nil, fmt.Errorf("dict: odd number of arguments")
	}
	m := make(map[string]any, len(kv)/2)
	for i := 0; i < len(kv); i += 2 {
		k, ok := kv[i].(string)
		if !ok {
			return nil, fmt.Errorf("dict: key %v is not a string", kv[i])
		}
		m[k] = kv[i+1]
	}
	return m, nil
}

// formatDate shows a time in UTC to the minute, or "never" for the zero time.
func formatDate(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

// formatDateTime shows a time in UTC to the second.
func formatDateTime(t time.Time) string {
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

// render executes page (its whole layout) with data and writes it with
// status. The page is rendered into a buffer first, so a template error
// becomes a clean 500 page.
func (h *handlers) render(w http.ResponseWriter, r *http.Request, status int, page string, data any) {
	h.execute(w, r, status, page, layoutFile, data)
}

// renderPartial executes one named template of page, for htmx requests
// that replace part of a page.
func (h *handlers) renderPartial(w http.ResponseWriter, r *http.Request, status int, page, name string, data any) {
	h.execute(w, r, status, page, name, data)
}

func (h *handlers) execute(w http.ResponseWriter, r *http.Request, status int, page, name string, data any) {
	var buf bytes.Buffer
	t := h.pages.sets[page]
	err := fmt.Errorf("ui: no template %q", page)
	if t != nil {
		err = t.ExecuteTemplate(&buf, name, data)
	}
	if err != nil {
		h.logger.Error("render page", "page", page, "template", name, "path", r.URL.Path, "err", err)
		if page == "error" {
			// The error page itself failed: fall back to plain text.
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		}
		h.renderError(w, r, http.StatusInternalServerError, "internal error")
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	// Pages show personal data and depend on who asks: never cache them.
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Add("Vary", "Cookie")
	w.WriteHeader(status)
	if _, err := buf.WriteTo(w); err != nil {
		h.logger.Debug("write page", "path", r.URL.Path, "err", err)
	}
}
