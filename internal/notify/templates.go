package notify

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"
	"text/template"
	"time"

	"focal/internal/focal"
)

//go:embed templates
var embeddedTemplates embed.FS

// templateFiles are the files of one language, under templates/<lang>/.
// subject.txt.tmpl renders the subject without the TLP label (Build puts
// "[TLP:…] " in front); digest.txt.tmpl renders the body, which must
// start with the TLP label; tlp.txt.tmpl defines "tlp-meaning", the
// label's meaning in the language.
var templateFiles = []string{"subject.txt.tmpl", "digest.txt.tmpl", "tlp.txt.tmpl"}

// DigestData is what the subject and digest templates are executed with.
type DigestData struct {
	Team      Team
	Org       Org
	Reference string    // this message's reference
	Part      int       // 1-based
	Parts     int       // 1 when the digest was not split
	TLP       focal.TLP // the highest label of the message's events
	Label     string    // TLP in marking form, e.g. "TLP:AMBER"
	Generated time.Time
	First     time.Time // earliest source time of the message's events
	Last      time.Time // latest
	Total     int       // events in the message
	Sightings int       // sum of the events' counts
	Rows      []SummaryRow
	Format    string   // FormatText or FormatXARF
	Files     []string // attachment file names
	Encrypted bool
	Signed    bool
}

// SummaryRow counts the events of one RSIT class and type.
type SummaryRow struct {
	Class, Type string
	Name        string // the type's English name in RSIT
	Events      int
	Sightings   int
}

// Templates are the message templates of every language. Build them with
// LoadTemplates; they are read-only and safe for concurrent use.
type Templates struct {
	langs map[string]*template.Template
}

// defaultTemplates parses the embedded templates once.
var defaultTemplates = sync.OnceValues(func() (*Templates, error) { return LoadTemplates("") })

// LoadTemplates returns the embedded templates (languages en and fr),
// overridden by the files of dir when dir is not "": dir/<lang>/<file>
// replaces the embedded file of that language and name, and a language
// directory the embedded set lacks (dir/de/) adds that language, taking
// any file it lacks from English (dir/en/, else the embedded one). Every template is parsed and executed
// once with sample data, so a broken override fails here, at startup,
// rather than when a notification is due.
func LoadTemplates(dir string) (*Templates, error) {
	langs := map[string]bool{}
	entries, err := fs.ReadDir(embeddedTemplates, "templates")
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		if e.IsDir() {
			langs[e.Name()] = true
		}
	}
	if dir != "" {
		entries, err := os.ReadDir(dir)
		if err != nil {
			return nil, fmt.Errorf("notification templates: %w", err)
		}
		for _, e := range entries {
			if e.IsDir() && validLanguage(e.Name()) {
				langs[strings.ToLower(e.Name())] = true
			}
		}
	}
	t := &Templates{langs: map[string]*template.Template{}}
	for lang := range langs {
		set := template.New(lang).Funcs(templateFuncs).Option("missingkey=error")
		for _, name := range templateFiles {
			src, from, err := templateSource(dir, lang, name)
			if err != nil {
				return nil, err
			}
			if _, err := set.New(name).Parse(src); err != nil {
				return nil, fmt.Errorf("notification template %s: %w", from, err)
			}
		}
		t.langs[lang] = set
		if err := t.check(lang); err != nil {
			return nil, err
		}
	}
	if t.langs[defaultLanguage] == nil {
		return nil, errors.New("notification templates: no English templates")
	}
	return t, nil
}

// templateSource finds a template file: the language's override, its
// embedded file, then the same for English.
func templateSource(dir, lang, name string) (src, from string, err error) {
	for _, l := range []string{lang, defaultLanguage} {
		if dir != "" {
			p := filepath.Join(dir, l, name)
			b, err := os.ReadFile(p)
			if err == nil {
				return string(b), p, nil
			}
			if !errors.Is(err, fs.ErrNotExist) {
				return "", "", fmt.Errorf("notification template: %w", err)
			}
		}
		p := "templates/" + l + "/" + name
		if b, err := embeddedTemplates.ReadFile(p); err == nil {
			return string(b), "embedded " + p, nil
		}
	}
	return "", "", fmt.Errorf("notification template %s/%s: not found", lang, name)
}

// check executes a language's templates with sample data for every label.
func (t *Templates) check(lang string) error {
	for _, label := range []focal.TLP{focal.TLPClear, focal.TLPGreen, focal.TLPAmber, focal.TLPAmberStrict} {
		for _, parts := range []int{1, 2} {
			for _, format := range formats {
				d := sampleData(label, parts, format)
				if _, _, err := t.render(lang, d); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func sampleData(label focal.TLP, parts int, format string) *DigestData {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	return &DigestData{
		Team:      Team{Name: "CERT-XX", Email: "cert@example.org", Website: "https://cert.example.org"},
		Org:       Org{ID: 1, Name: "Example Org"},
		Reference: "FOCAL-N-20260102-SAMPLE00",
		Part:      parts, Parts: parts,
		TLP: label, Label: label.String(),
		Generated: now, First: now.Add(-time.Hour), Last: now,
		Total: 1, Sightings: 2,
		Rows:   []SummaryRow{{Class: "malicious-code", Type: "infected-system", Name: "Infected System", Events: 1, Sightings: 2}},
		Format: format,
		Files:  []string{"FOCAL-N-20260102-SAMPLE00.csv"},
	}
}

// render executes the subject and body templates of lang (English when
// there are none) and enforces the TLP marking: the subject gets the
// label in front, and the body must start with it.
func (t *Templates) render(lang string, d *DigestData) (subject, body string, err error) {
	set := t.langs[baseLanguage(lang)]
	if set == nil {
		set = t.langs[defaultLanguage]
	}
	var b bytes.Buffer
	if err := set.ExecuteTemplate(&b, "subject.txt.tmpl", d); err != nil {
		return "", "", fmt.Errorf("notification template %s/subject.txt.tmpl: %w", set.Name(), err)
	}
	subject = "[" + d.Label + "] " + strings.Join(strings.Fields(b.String()), " ")
	b.Reset()
	if err := set.ExecuteTemplate(&b, "digest.txt.tmpl", d); err != nil {
		return "", "", fmt.Errorf("notification template %s/digest.txt.tmpl: %w", set.Name(), err)
	}
	body = strings.TrimLeft(b.String(), " \t\r\n")
	if !strings.HasPrefix(body, d.Label) {
		return "", "", fmt.Errorf("notification template %s/digest.txt.tmpl: the body must start with the TLP label ({{.Label}})", set.Name())
	}
	return subject, body, nil
}

// Languages lists the languages the templates have, sorted.
func (t *Templates) Languages() []string {
	var out []string
	for l := range t.langs {
		out = append(out, l)
	}
	slices.Sort(out)
	return out
}

var templateFuncs = template.FuncMap{
	// date formats a time in UTC, e.g. "2026-01-02 15:04 UTC".
	"date": func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") },
	// table aligns the summary rows under the given column titles
	// (class, type, events, sightings).
	"table": func(rows []SummaryRow, titles ...string) (string, error) {
		if len(titles) != 4 {
			return "", fmt.Errorf("table wants 4 column titles, got %d", len(titles))
		}
		var b bytes.Buffer
		w := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", titles[0], titles[1], titles[2], titles[3])
		for _, r := range rows {
			fmt.Fprintf(w, "%s\t%s\t%d\t%d\n", r.Class, r.Type, r.Events, r.Sightings)
		}
		if err := w.Flush(); err != nil {
			return "", err
		}
		return strings.TrimRight(b.String(), "\n"), nil
	},
}
