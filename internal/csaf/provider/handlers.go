package provider

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"html"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"

	"focal/internal/focal"
	"focal/internal/store"
)

// The ROLIE and provider-metadata shapes focal writes.
type (
	link struct {
		Rel  string `json:"rel"`
		Href string `json:"href"`
	}
	category struct {
		Scheme string `json:"scheme"`
		Term   string `json:"term"`
	}
	feedEntry struct {
		ID        string `json:"id"`
		Title     string `json:"title"`
		Link      []link `json:"link"`
		Published string `json:"published"`
		Updated   string `json:"updated"`
		Summary   *struct {
			Content string `json:"content"`
		} `json:"summary,omitempty"`
		Content struct {
			Type string `json:"type"`
			Src  string `json:"src"`
		} `json:"content"`
		Format struct {
			Schema  string `json:"schema"`
			Version string `json:"version"`
		} `json:"format"`
	}
	feedJSON struct {
		Feed struct {
			ID       string      `json:"id"`
			Title    string      `json:"title"`
			Link     []link      `json:"link"`
			Category []category  `json:"category"`
			Updated  string      `json:"updated"`
			Entry    []feedEntry `json:"entry"`
		} `json:"feed"`
	}
)

const (
	csafSchema = "https://docs.oasis-open.org/csaf/csaf/v2.0/csaf_json_schema.json"
	rolieTerm  = "urn:ietf:params:rolie:category:information-type"
)

func feedName(label string) string { return "csaf-feed-tlp-" + label + ".json" }

func (p *Provider) feedURL(base, label string) string {
	return base + PathPrefix + label + "/" + feedName(label)
}

// metadata serves provider-metadata.json.
func (p *Provider) metadata(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	base := p.base(r)
	updated, err := p.cfg.Store.LastPublication(ctx)
	if err != nil {
		p.Error(w, r, err)
		return
	}
	if updated.IsZero() {
		updated = p.started
	}
	type feed struct {
		Summary  string `json:"summary"`
		TLPLabel string `json:"tlp_label"`
		URL      string `json:"url"`
	}
	var feeds []feed
	for _, l := range Labels {
		feeds = append(feeds, feed{Summary: "TLP:" + strings.ToUpper(l) + " advisories", TLPLabel: strings.ToUpper(l), URL: p.feedURL(base, l)})
	}
	type key struct {
		Fingerprint string `json:"fingerprint,omitempty"`
		URL         string `json:"url"`
	}
	keys := []key{}
	if p.cfg.Signer != nil {
		fpr := p.cfg.Signer.Fingerprint()
		keys = append(keys, key{Fingerprint: fpr, URL: base + PathPrefix + "openpgp/" + fpr + ".asc"})
	}
	pmd := map[string]any{
		"canonical_url": base + PathPrefix + "provider-metadata.json",
		// ROLIE feeds; the directory distribution is the PMD's folder
		// itself (index.txt, changes.csv, label/year folders), whose
		// index lists what the client may read.
		"distributions":              []any{map[string]any{"rolie": map[string]any{"feeds": feeds}}},
		"last_updated":               updated.Format(time.RFC3339),
		"list_on_CSAF_aggregators":   true,
		"metadata_version":           "2.0",
		"mirror_on_CSAF_aggregators": true,
		"public_openpgp_keys":        keys,
		"publisher":                  p.publisher(ctx),
		"role":                       "csaf_trusted_provider",
	}
	writeJSON(w, pmd)
}

// service serves the ROLIE service document.
func (p *Provider) service(w http.ResponseWriter, r *http.Request) {
	base := p.base(r)
	var colls []any
	for _, l := range Labels {
		colls = append(colls, map[string]any{
			"title":      "CSAF feed (TLP:" + strings.ToUpper(l) + ")",
			"href":       p.feedURL(base, l),
			"categories": map[string]any{"category": []category{{Scheme: rolieTerm, Term: "csaf"}}},
		})
	}
	writeJSON(w, map[string]any{"service": map[string]any{"workspace": []any{map[string]any{"title": "CSAF feeds", "collection": colls}}}})
}

// publicKey serves the team's public key as openpgp/<FINGERPRINT>.asc.
func (p *Provider) publicKey(w http.ResponseWriter, r *http.Request) {
	if p.cfg.Signer == nil || !strings.EqualFold(r.PathValue("file"), p.cfg.Signer.Fingerprint()+".asc") {
		p.Error(w, r, focal.Errorf(focal.ENOTFOUND, "no such key"))
		return
	}
	b, err := p.cfg.Signer.PublicKey()
	if err != nil {
		p.Error(w, r, err)
		return
	}
	writeBytes(w, "application/pgp-keys", b)
}

// rootIndex serves the top-level index.txt and changes.csv: every
// document the client may read, as label/year/file.
func (p *Provider) rootIndex(w http.ResponseWriter, r *http.Request) {
	docs, err := p.cfg.Store.ReadableDocuments(r.Context())
	if err != nil {
		p.Error(w, r, err)
		return
	}
	if strings.HasSuffix(r.URL.Path, "index.txt") {
		writeIndex(w, docs, true)
		return
	}
	if err := writeChanges(w, docs, true); err != nil {
		p.Error(w, r, err)
	}
}

func docPath(d *store.PublishedDocument, withLabel bool) string {
	if withLabel {
		return d.Path()
	}
	return fmt.Sprintf("%d/%s", d.Year, d.Filename)
}

// writeIndex writes index.txt: one document path per line.
func writeIndex(w http.ResponseWriter, docs []*store.PublishedDocument, withLabel bool) {
	var b bytes.Buffer
	for _, d := range docs {
		b.WriteString(docPath(d, withLabel) + "\n")
	}
	writeBytes(w, "text/plain; charset=utf-8", b.Bytes())
}

// writeChanges writes changes.csv: path and current release, newest
// first (RFC 4180).
func writeChanges(w http.ResponseWriter, docs []*store.PublishedDocument, withLabel bool) error {
	var b bytes.Buffer
	cw := csv.NewWriter(&b)
	for _, d := range docs {
		if err := cw.Write([]string{docPath(d, withLabel), d.CurrentRelease.Format(time.RFC3339)}); err != nil {
			return err
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return err
	}
	writeBytes(w, "text/csv; charset=utf-8", b.Bytes())
	return nil
}

// rootListing lists the provider's top folder.
func (p *Provider) rootListing(w http.ResponseWriter, r *http.Request) {
	names := []string{"provider-metadata.json", "service.json", "index.txt", "changes.csv"}
	if p.cfg.Signer != nil {
		names = append(names, "openpgp/"+p.cfg.Signer.Fingerprint()+".asc")
	}
	for _, l := range Labels {
		names = append(names, l+"/")
	}
	listing(w, PathPrefix, names)
}

// folder serves everything below one label's folder: its ROLIE feed,
// index.txt, changes.csv, listings of the folder and its years, the
// documents and their .sha256, .sha512 and .asc.
func (p *Provider) folder(label string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		rest := r.PathValue("path")
		dir := PathPrefix + label + "/"
		if rest == "category-"+label+".json" {
			// The ROLIE category document (requirement 17): the feed's
			// information type.
			writeJSON(w, map[string]any{"categories": map[string]any{"category": []category{{Scheme: rolieTerm, Term: "csaf"}}}})
			return
		}
		if rest == "" || rest == feedName(label) || rest == "index.txt" || rest == "changes.csv" || strings.HasSuffix(rest, "/") {
			docs, err := p.cfg.Store.PublishedDocuments(ctx, label)
			if err != nil {
				p.Error(w, r, err)
				return
			}
			switch {
			case rest == "":
				names := []string{feedName(label), "category-" + label + ".json", "index.txt", "changes.csv"}
				seen := map[int]bool{}
				for _, d := range docs {
					if !seen[d.Year] {
						seen[d.Year] = true
						names = append(names, strconv.Itoa(d.Year)+"/")
					}
				}
				listing(w, dir, names)
			case rest == feedName(label):
				writeJSON(w, p.feed(p.base(r), label, docs))
			case rest == "index.txt":
				writeIndex(w, docs, false)
			case rest == "changes.csv":
				if err := writeChanges(w, docs, false); err != nil {
					p.Error(w, r, err)
				}
			default:
				year, err := strconv.Atoi(strings.TrimSuffix(rest, "/"))
				var names []string
				for _, d := range docs {
					if err == nil && d.Year == year {
						names = append(names, d.Filename, d.Filename+".sha256", d.Filename+".sha512", d.Filename+".asc")
					}
				}
				if len(names) == 0 {
					p.Error(w, r, focal.Errorf(focal.ENOTFOUND, "no such folder"))
					return
				}
				listing(w, dir+rest, names)
			}
			return
		}
		yearPart, file, ok := strings.Cut(rest, "/")
		year, err := strconv.Atoi(yearPart)
		if !ok || err != nil || strings.Contains(file, "/") {
			p.Error(w, r, focal.Errorf(focal.ENOTFOUND, "no such file"))
			return
		}
		name, suffix := file, ""
		for _, s := range []string{".sha256", ".sha512", ".asc"} {
			if strings.HasSuffix(file, ".json"+s) {
				name, suffix = strings.TrimSuffix(file, s), s
			}
		}
		d, err := p.cfg.Store.PublishedDocument(ctx, label, year, name)
		if err != nil {
			p.Error(w, r, err)
			return
		}
		switch suffix {
		case "":
			writeBytes(w, "application/json", d.Document)
		case ".sha256":
			writeBytes(w, "text/plain; charset=utf-8", []byte(d.SHA256+"  "+d.Filename+"\n"))
		case ".sha512":
			writeBytes(w, "text/plain; charset=utf-8", []byte(d.SHA512+"  "+d.Filename+"\n"))
		case ".asc":
			writeBytes(w, "application/pgp-signature", []byte(d.Signature))
		}
	}
}

// feed builds the ROLIE feed of one label.
func (p *Provider) feed(base, label string, docs []*store.PublishedDocument) feedJSON {
	var f feedJSON
	up := strings.ToUpper(label)
	f.Feed.ID = "csaf-feed-tlp-" + label
	f.Feed.Title = "CSAF feed (TLP:" + up + ")"
	f.Feed.Link = []link{{Rel: "self", Href: p.feedURL(base, label)}, {Rel: "service", Href: base + PathPrefix + "service.json"}}
	f.Feed.Category = []category{{Scheme: rolieTerm, Term: "csaf"}}
	f.Feed.Updated = p.started.Format(time.RFC3339)
	if len(docs) > 0 {
		f.Feed.Updated = docs[0].CurrentRelease.Format(time.RFC3339)
	}
	f.Feed.Entry = []feedEntry{}
	for _, d := range docs {
		u := base + PathPrefix + d.Path()
		e := feedEntry{
			ID: d.TrackingID, Title: d.Title,
			Link:      []link{{Rel: "self", Href: u}, {Rel: "hash", Href: u + ".sha256"}, {Rel: "hash", Href: u + ".sha512"}, {Rel: "signature", Href: u + ".asc"}},
			Published: d.InitialRelease.Format(time.RFC3339), Updated: d.CurrentRelease.Format(time.RFC3339),
		}
		e.Content.Type, e.Content.Src = "application/json", u
		e.Format.Schema, e.Format.Version = csafSchema, "2.0"
		f.Feed.Entry = append(f.Feed.Entry, e)
	}
	return f
}

// listing writes a server-side directory listing (CSAF requirement 14).
func listing(w http.ResponseWriter, dir string, names []string) {
	var b bytes.Buffer
	fmt.Fprintf(&b, "<!DOCTYPE html>\n<html><head><title>Index of %s</title></head><body>\n<h1>Index of %s</h1>\n<ul>\n", html.EscapeString(dir), html.EscapeString(dir))
	if dir != PathPrefix {
		b.WriteString("<li><a href=\"../\">../</a></li>\n")
	}
	for _, n := range names {
		fmt.Fprintf(&b, "<li><a href=\"%s\">%s</a></li>\n", html.EscapeString(n), html.EscapeString(path.Clean("/" + n)[1:]+suffixSlash(n)))
	}
	b.WriteString("</ul>\n</body></html>\n")
	writeBytes(w, "text/html; charset=utf-8", b.Bytes())
}

func suffixSlash(n string) string {
	if strings.HasSuffix(n, "/") {
		return "/"
	}
	return ""
}
