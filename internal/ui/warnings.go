package ui

import (
	"bytes"
	"encoding/xml"
	"net/http"
	"strings"
	"time"

	"focal/internal/csaf"
	"focal/internal/focal"
	"focal/internal/store"
)

// warning is one public advisory: its published document and the model
// read back from it (what the public sees is exactly what was signed).
type warning struct {
	Name string // the document's file name without .json: its page
	Doc  *store.PublishedDocument
	A    *csaf.Advisory
}

// publicWarnings returns the published TLP:CLEAR (CSAF WHITE) advisories,
// newest first, with their documents' content.
func (h *handlers) publicWarnings(r *http.Request, limit int) ([]warning, error) {
	ctx := focal.NewContextWithPrincipal(r.Context(), focal.Anonymous())
	docs, err := h.store.PublishedDocuments(ctx, "white")
	if err != nil {
		return nil, err
	}
	if limit > 0 && len(docs) > limit {
		docs = docs[:limit]
	}
	var out []warning
	for _, d := range docs {
		full, err := h.store.PublishedDocument(ctx, d.Label, d.Year, d.Filename)
		if err != nil {
			return nil, err
		}
		a, err := csaf.Import(full.Document)
		if err != nil {
			return nil, err
		}
		out = append(out, warning{Name: strings.TrimSuffix(d.Filename, ".json"), Doc: full, A: a})
	}
	return out, nil
}

// warningsPage is the data of the public warnings pages.
type warningsPage struct {
	base
	Warnings []warning
	W        *warning
}

// warnings serves GET /warnings: the current public warnings and
// TLP:CLEAR advisories, for anyone.
func (h *handlers) warnings(w http.ResponseWriter, r *http.Request) {
	ws, err := h.publicWarnings(r, 200)
	if err != nil {
		h.error(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, "warnings", warningsPage{base: h.base(r, "Security warnings"), Warnings: ws})
}

// warningDetail serves GET /warnings/{name}: one public advisory.
func (h *handlers) warningDetail(w http.ResponseWriter, r *http.Request) {
	ws, err := h.publicWarnings(r, 0)
	if err != nil {
		h.error(w, r, err)
		return
	}
	for i := range ws {
		if ws[i].Name == r.PathValue("name") {
			h.render(w, r, http.StatusOK, "warning_detail", warningsPage{base: h.base(r, ws[i].A.Title), W: &ws[i]})
			return
		}
	}
	h.error(w, r, focal.Errorf(focal.ENOTFOUND, "no such warning"))
}

// The Atom (RFC 4287) shapes of the warnings feed.
type (
	atomFeed struct {
		XMLName xml.Name    `xml:"http://www.w3.org/2005/Atom feed"`
		ID      string      `xml:"id"`
		Title   string      `xml:"title"`
		Updated string      `xml:"updated"`
		Author  atomPerson  `xml:"author"`
		Links   []atomLink  `xml:"link"`
		Entries []atomEntry `xml:"entry"`
	}
	atomPerson struct {
		Name string `xml:"name"`
	}
	atomLink struct {
		Rel  string `xml:"rel,attr,omitempty"`
		Type string `xml:"type,attr,omitempty"`
		Href string `xml:"href,attr"`
	}
	atomEntry struct {
		ID        string     `xml:"id"`
		Title     string     `xml:"title"`
		Updated   string     `xml:"updated"`
		Published string     `xml:"published"`
		Links     []atomLink `xml:"link"`
		Summary   string     `xml:"summary"`
		Category  []atomCat  `xml:"category"`
	}
	atomCat struct {
		Term string `xml:"term,attr"`
	}
)

// warningsFeed serves GET /warnings/feed.atom: the public warnings as an
// Atom feed.
func (h *handlers) warningsFeed(w http.ResponseWriter, r *http.Request) {
	ws, err := h.publicWarnings(r, 50)
	if err != nil {
		h.error(w, r, err)
		return
	}
	origin := "https://" + r.Host
	if r.TLS == nil {
		origin = "http://" + r.Host
	}
	team := "focal"
	if p, err := h.store.TeamProfile(r.Context()); err == nil && p.Name != "" {
		team = p.Name
	}
	f := atomFeed{ID: origin + "/warnings", Title: team + " security warnings", Author: atomPerson{Name: team},
		Updated: time.Unix(0, 0).UTC().Format(time.RFC3339),
		Links:   []atomLink{{Rel: "self", Type: "application/atom+xml", Href: origin + "/warnings/feed.atom"}, {Rel: "alternate", Type: "text/html", Href: origin + "/warnings"}}}
	if len(ws) > 0 {
		f.Updated = ws[0].Doc.CurrentRelease.Format(time.RFC3339)
	}
	for _, x := range ws {
		e := atomEntry{ID: "urn:csaf:" + x.Doc.TrackingID, Title: "[" + x.Doc.TrackingID + "] " + x.A.Title,
			Updated: x.Doc.CurrentRelease.Format(time.RFC3339), Published: x.Doc.InitialRelease.Format(time.RFC3339), Summary: x.A.Summary,
			Links: []atomLink{{Rel: "alternate", Type: "text/html", Href: origin + "/warnings/" + x.Name},
				{Rel: "related", Type: "application/json", Href: origin + "/.well-known/csaf/" + x.Doc.Path()}}}
		if x.A.Severity != "" {
			e.Category = append(e.Category, atomCat{Term: x.A.Severity})
		}
		f.Entries = append(f.Entries, e)
	}
	var b bytes.Buffer
	b.WriteString(xml.Header)
	enc := xml.NewEncoder(&b)
	enc.Indent("", "  ")
	if err := enc.Encode(f); err != nil {
		h.error(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/atom+xml; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=300")
	_, _ = w.Write(b.Bytes())
}
