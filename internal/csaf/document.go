package csaf

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"focal/internal/focal"
)

// The subset of the CSAF 2.0 document schema focal writes and reads. Field
// order follows the schema, so generated documents read naturally.
type (
	docJSON struct {
		Document        documentJSON        `json:"document"`
		ProductTree     *productTreeJSON    `json:"product_tree,omitempty"`
		Vulnerabilities []vulnerabilityJSON `json:"vulnerabilities,omitempty"`
	}
	documentJSON struct {
		AggregateSeverity *struct {
			Text string `json:"text"`
		} `json:"aggregate_severity,omitempty"`
		Category     string          `json:"category"`
		CSAFVersion  string          `json:"csaf_version"`
		Distribution *distribution   `json:"distribution,omitempty"`
		Lang         string          `json:"lang,omitempty"`
		Notes        []noteJSON      `json:"notes,omitempty"`
		Publisher    Publisher       `json:"publisher"`
		References   []referenceJSON `json:"references,omitempty"`
		Title        string          `json:"title"`
		Tracking     trackingJSON    `json:"tracking"`
	}
	distribution struct {
		Text string `json:"text,omitempty"`
		TLP  *struct {
			Label string `json:"label"`
			URL   string `json:"url,omitempty"`
		} `json:"tlp,omitempty"`
	}
	noteJSON struct {
		Category string `json:"category"`
		Text     string `json:"text"`
		Title    string `json:"title,omitempty"`
	}
	referenceJSON struct {
		Category string `json:"category,omitempty"`
		Summary  string `json:"summary"`
		URL      string `json:"url"`
	}
	trackingJSON struct {
		CurrentReleaseDate string         `json:"current_release_date"`
		Generator          *generatorJSON `json:"generator,omitempty"`
		ID                 string         `json:"id"`
		InitialReleaseDate string         `json:"initial_release_date"`
		RevisionHistory    []revisionJSON `json:"revision_history"`
		Status             string         `json:"status"`
		Version            string         `json:"version"`
	}
	generatorJSON struct {
		Date   string `json:"date,omitempty"`
		Engine struct {
			Name    string `json:"name"`
			Version string `json:"version,omitempty"`
		} `json:"engine"`
	}
	revisionJSON struct {
		Date    string `json:"date"`
		Number  string `json:"number"`
		Summary string `json:"summary"`
	}
	productTreeJSON struct {
		Branches         []branchJSON      `json:"branches,omitempty"`
		FullProductNames []fullProductJSON `json:"full_product_names,omitempty"`
	}
	branchJSON struct {
		Branches []branchJSON     `json:"branches,omitempty"`
		Category string           `json:"category"`
		Name     string           `json:"name"`
		Product  *fullProductJSON `json:"product,omitempty"`
	}
	fullProductJSON struct {
		Name   string `json:"name"`
		ID     string `json:"product_id"`
		Helper *struct {
			CPE string `json:"cpe,omitempty"`
		} `json:"product_identification_helper,omitempty"`
	}
	vulnerabilityJSON struct {
		CVE           string            `json:"cve,omitempty"`
		CWE           *cweJSON          `json:"cwe,omitempty"`
		Notes         []noteJSON        `json:"notes,omitempty"`
		ProductStatus *productStatus    `json:"product_status,omitempty"`
		Remediations  []remediationJSON `json:"remediations,omitempty"`
		Scores        []scoreJSON       `json:"scores,omitempty"`
		Title         string            `json:"title,omitempty"`
	}
	cweJSON struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	}
	productStatus struct {
		Fixed              []string `json:"fixed,omitempty"`
		KnownAffected      []string `json:"known_affected,omitempty"`
		KnownNotAffected   []string `json:"known_not_affected,omitempty"`
		UnderInvestigation []string `json:"under_investigation,omitempty"`
	}
	remediationJSON struct {
		Category   string   `json:"category"`
		Details    string   `json:"details"`
		ProductIDs []string `json:"product_ids,omitempty"`
		URL        string   `json:"url,omitempty"`
	}
	scoreJSON struct {
		CVSSv3   *cvssJSON `json:"cvss_v3,omitempty"`
		Products []string  `json:"products"`
	}
	cvssJSON struct {
		Version      string  `json:"version"`
		VectorString string  `json:"vectorString"`
		BaseScore    float64 `json:"baseScore"`
		BaseSeverity string  `json:"baseSeverity"`
	}
)

// timeFormat is how CSAF dates are written.
const timeFormat = time.RFC3339

// Document generates the CSAF 2.0 JSON of a (normalised, checked)
// advisory with its tracking fields set. It fails with EINVALID when the
// advisory has problems (see Check) or no tracking information.
func Document(a *Advisory) ([]byte, error) {
	if err := a.Validate(); err != nil {
		return nil, err
	}
	if a.TrackingID == "" || a.Version == "" || len(a.Revisions) == 0 || a.InitialRelease.IsZero() || a.CurrentRelease.IsZero() {
		return nil, focal.Errorf(focal.EINVALID, "the advisory has not been given a tracking ID, version and revision history yet")
	}
	if a.Publisher.Name == "" || a.Publisher.Namespace == "" {
		return nil, focal.Errorf(focal.EINVALID, "the publisher (the team's name and web address) is not configured")
	}
	d := docJSON{Document: documentJSON{
		Category:    "csaf_security_advisory",
		CSAFVersion: "2.0",
		Lang:        a.Lang,
		Publisher:   a.Publisher,
		Title:       a.Title,
	}}
	if d.Document.Publisher.Category == "" {
		d.Document.Publisher.Category = "coordinator"
	}
	if a.Severity != "" {
		d.Document.AggregateSeverity = &struct {
			Text string `json:"text"`
		}{a.Severity}
	}
	d.Document.Distribution = &distribution{TLP: &struct {
		Label string `json:"label"`
		URL   string `json:"url,omitempty"`
	}{Label: CSAFLabel(a.TLP), URL: "https://www.first.org/tlp/"}}
	d.Document.Notes = append(d.Document.Notes, noteJSON{Category: "summary", Title: "Summary", Text: a.Summary})
	if a.Details != "" {
		d.Document.Notes = append(d.Document.Notes, noteJSON{Category: "details", Title: "Details", Text: a.Details})
	}
	for _, r := range a.References {
		d.Document.References = append(d.Document.References, referenceJSON{Category: r.Category, Summary: r.Summary, URL: r.URL})
	}
	t := &d.Document.Tracking
	t.ID, t.Version = a.TrackingID, a.Version
	t.Status = a.Status
	if t.Status == "" {
		t.Status = "final"
	}
	t.InitialReleaseDate = a.InitialRelease.UTC().Format(timeFormat)
	t.CurrentReleaseDate = a.CurrentRelease.UTC().Format(timeFormat)
	for _, r := range a.Revisions {
		t.RevisionHistory = append(t.RevisionHistory, revisionJSON{Date: r.Date.UTC().Format(timeFormat), Number: r.Number, Summary: r.Summary})
	}
	if a.Generator != "" {
		t.Generator = &generatorJSON{}
		t.Generator.Engine.Name = a.Generator
	}
	d.ProductTree = productTree(a.Products)
	for _, v := range a.Vulnerabilities {
		vj := vulnerabilityJSON{CVE: v.CVE, Title: v.Title}
		if v.CWE != "" {
			vj.CWE = &cweJSON{ID: v.CWE, Name: v.CWEName}
		}
		vj.Notes = []noteJSON{{Category: "description", Title: "Description", Text: v.Description}}
		vj.ProductStatus = &productStatus{KnownAffected: v.Affected, Fixed: v.Fixed, KnownNotAffected: v.NotAffected, UnderInvestigation: v.UnderInvestigation}
		if v.CVSS != "" {
			c, err := ParseCVSS(v.CVSS)
			if err != nil {
				return nil, err
			}
			score := c.BaseScore()
			vj.Scores = []scoreJSON{{Products: v.Affected, CVSSv3: &cvssJSON{
				Version: c.Version, VectorString: c.String(), BaseScore: score, BaseSeverity: Severity(score),
			}}}
		}
		for _, r := range v.Remediations {
			ids := r.ProductIDs
			if len(ids) == 0 {
				ids = slices.Concat(v.Affected, v.Fixed, v.UnderInvestigation)
			}
			vj.Remediations = append(vj.Remediations, remediationJSON{Category: r.Category, Details: r.Details, URL: r.URL, ProductIDs: ids})
		}
		d.Vulnerabilities = append(d.Vulnerabilities, vj)
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(d); err != nil {
		return nil, fmt.Errorf("csaf: encode: %w", err)
	}
	return b.Bytes(), nil
}

// productTree builds vendor → product name → product version branches,
// in the order the products were listed.
func productTree(ps []Product) *productTreeJSON {
	t := &productTreeJSON{}
	find := func(bs *[]branchJSON, category, name string) *branchJSON {
		for i := range *bs {
			if (*bs)[i].Category == category && (*bs)[i].Name == name {
				return &(*bs)[i]
			}
		}
		*bs = append(*bs, branchJSON{Category: category, Name: name})
		return &(*bs)[len(*bs)-1]
	}
	for _, p := range ps {
		v := find(&t.Branches, "vendor", p.Vendor)
		n := find(&v.Branches, "product_name", p.Name)
		leaf := branchJSON{Category: "product_version", Name: p.Version, Product: &fullProductJSON{Name: p.FullName(), ID: p.ID}}
		if p.CPE != "" {
			leaf.Product.Helper = &struct {
				CPE string `json:"cpe,omitempty"`
			}{p.CPE}
		}
		n.Branches = append(n.Branches, leaf)
	}
	return t
}

// MaxDocumentSize bounds a CSAF document Import reads (15 MiB, the
// spec's recommended limit).
const MaxDocumentSize = 15 << 20

// Import reads a CSAF 2.0 document into an Advisory, keeping its
// tracking information. It reads the parts of CSAF the model has (product
// tree branches are flattened into vendor/product/version rows; product
// groups, threats, flags and other notes are dropped) and fails with
// EINVALID, saying what is wrong, for what is not CSAF 2.0 at all. The
// result is normalised; whether it can be published is Check's call.
func Import(data []byte) (*Advisory, error) {
	if len(data) > MaxDocumentSize {
		return nil, focal.Errorf(focal.ETOOLARGE, "the document is larger than %d MiB", MaxDocumentSize>>20)
	}
	var d docJSON
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&d); err != nil {
		return nil, focal.FieldErrorf("document", "this is not a CSAF JSON document: %s", jsonProblem(err))
	}
	if dec.More() {
		return nil, focal.FieldErrorf("document", "the document has trailing data after its JSON")
	}
	if d.Document.CSAFVersion != "2.0" {
		return nil, focal.FieldErrorf("document", "this is not a CSAF 2.0 document (csaf_version is %q)", d.Document.CSAFVersion)
	}
	a := &Advisory{
		Title:      d.Document.Title,
		Lang:       d.Document.Lang,
		Publisher:  d.Document.Publisher,
		TrackingID: d.Document.Tracking.ID,
		Version:    d.Document.Tracking.Version,
		Status:     d.Document.Tracking.Status,
	}
	if s := d.Document.AggregateSeverity; s != nil {
		a.Severity = s.Text
	}
	a.TLP = focal.TLPAmber
	if dist := d.Document.Distribution; dist != nil && dist.TLP != nil {
		t, err := focal.ParseTLP(dist.TLP.Label)
		if err != nil {
			return nil, focal.FieldErrorf("tlp", "unknown TLP label %q", dist.TLP.Label)
		}
		a.TLP = t
	}
	var other []string
	for _, n := range d.Document.Notes {
		switch {
		case n.Category == "summary" && a.Summary == "":
			a.Summary = n.Text
		case n.Category == "details" && a.Details == "":
			a.Details = n.Text
		default:
			other = append(other, noteText(n))
		}
	}
	if a.Summary == "" && len(other) > 0 {
		a.Summary, other = other[0], other[1:]
	}
	if len(other) > 0 {
		a.Details = strings.TrimSpace(strings.Join(append([]string{a.Details}, other...), "\n\n"))
	}
	for _, r := range d.Document.References {
		a.References = append(a.References, Reference{URL: r.URL, Summary: r.Summary, Category: r.Category})
	}
	var err error
	if a.InitialRelease, err = parseDate("initial_release_date", d.Document.Tracking.InitialReleaseDate); err != nil {
		return nil, err
	}
	if a.CurrentRelease, err = parseDate("current_release_date", d.Document.Tracking.CurrentReleaseDate); err != nil {
		return nil, err
	}
	for _, r := range d.Document.Tracking.RevisionHistory {
		at, err := parseDate("revision_history", r.Date)
		if err != nil {
			return nil, err
		}
		a.Revisions = append(a.Revisions, Revision{Number: r.Number, Date: at, Summary: r.Summary})
	}
	if g := d.Document.Tracking.Generator; g != nil {
		a.Generator = g.Engine.Name
	}
	if d.ProductTree != nil {
		var walk func(bs []branchJSON, p Product, depth int)
		walk = func(bs []branchJSON, p Product, depth int) {
			if depth > 30 {
				return
			}
			for _, b := range bs {
				q := p
				switch b.Category {
				case "vendor":
					q.Vendor = b.Name
				case "product_name", "product_family":
					q.Name = strings.TrimSpace(q.Name + " " + b.Name)
				case "product_version", "product_version_range", "patch_level", "service_pack":
					q.Version = strings.TrimSpace(q.Version + " " + b.Name)
				default:
					q.Name = strings.TrimSpace(q.Name + " " + b.Name)
				}
				if b.Product != nil {
					leaf := q
					leaf.ID = b.Product.ID
					if leaf.Name == "" {
						leaf.Name = b.Product.Name
					}
					if b.Product.Helper != nil {
						leaf.CPE = b.Product.Helper.CPE
					}
					a.Products = append(a.Products, leaf)
				}
				walk(b.Branches, q, depth+1)
			}
		}
		walk(d.ProductTree.Branches, Product{}, 0)
		for _, fp := range d.ProductTree.FullProductNames {
			p := Product{ID: fp.ID, Name: fp.Name, Vendor: "-", Version: "-"}
			if fp.Helper != nil {
				p.CPE = fp.Helper.CPE
			}
			a.Products = append(a.Products, p)
		}
	}
	for _, vj := range d.Vulnerabilities {
		v := Vulnerability{CVE: vj.CVE, Title: vj.Title}
		if vj.CWE != nil {
			v.CWE, v.CWEName = vj.CWE.ID, vj.CWE.Name
		}
		var notes []string
		for _, n := range vj.Notes {
			notes = append(notes, noteText(n))
		}
		v.Description = strings.Join(notes, "\n\n")
		if ps := vj.ProductStatus; ps != nil {
			v.Affected, v.Fixed, v.NotAffected, v.UnderInvestigation = ps.KnownAffected, ps.Fixed, ps.KnownNotAffected, ps.UnderInvestigation
		}
		for _, s := range vj.Scores {
			if s.CVSSv3 != nil && v.CVSS == "" {
				v.CVSS = s.CVSSv3.VectorString
			}
		}
		for _, r := range vj.Remediations {
			v.Remediations = append(v.Remediations, Remediation{Category: r.Category, Details: r.Details, URL: r.URL, ProductIDs: r.ProductIDs})
		}
		a.Vulnerabilities = append(a.Vulnerabilities, v)
	}
	a.Normalize()
	return a, nil
}

// noteText renders a note other than the summary for the model's free
// text: its title, if any, as a heading line.
func noteText(n noteJSON) string {
	if n.Title != "" && n.Category != "description" {
		return n.Title + "\n" + n.Text
	}
	return n.Text
}

func parseDate(field, s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, focal.FieldErrorf(field, "%q is not a date-time like 2024-05-01T12:00:00Z", s)
	}
	return t.UTC(), nil
}

func jsonProblem(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case asErr(err, &se):
		return fmt.Sprintf("syntax error at byte %d", se.Offset)
	case asErr(err, &te):
		return fmt.Sprintf("%s should be a %s, not a %s", te.Field, te.Type, te.Value)
	}
	return "it is not valid JSON"
}

var nonFileRe = regexp.MustCompile(`[^+\-a-z0-9]+`)

// Filename returns the file name of a document with tracking ID id (CSAF
// 2.0 §5.1): the ID in lower case with every run of characters other
// than + - a-z 0-9 replaced by "_", plus ".json".
func Filename(id string) string {
	return nonFileRe.ReplaceAllString(strings.ToLower(id), "_") + ".json"
}
