package csaf

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"focal/internal/focal"
)

// Advisory is a security advisory as a handler writes it: the fields of
// a CSAF 2.0 security advisory a national team fills, with no JSON in
// sight. Document turns it into CSAF; Import turns a CSAF document into
// one. The tracking fields (TrackingID, Version, Revisions, the release
// dates) are set by publication, not by the author.
type Advisory struct {
	TrackingID string    `json:"tracking_id"`
	Title      string    `json:"title"`
	Summary    string    `json:"summary"`
	Details    string    `json:"details,omitempty"`
	Severity   string    `json:"severity,omitempty"` // aggregate severity in words, e.g. "High"
	TLP        focal.TLP `json:"tlp"`                // TLP 2.0 label; CSAF gets its TLP 1.0 name
	Lang       string    `json:"lang,omitempty"`     // default "en"

	Products        []Product       `json:"products"`
	Vulnerabilities []Vulnerability `json:"vulnerabilities"`
	References      []Reference     `json:"references,omitempty"`

	// Publisher is who issues the document: the team (set from the
	// configuration at generation).
	Publisher Publisher `json:"publisher"`

	// Tracking: set by publication.
	Version        string     `json:"version,omitempty"` // "1", "2", …; "" while never published
	Status         string     `json:"status,omitempty"`  // draft, interim or final
	InitialRelease time.Time  `json:"initial_release,omitzero"`
	CurrentRelease time.Time  `json:"current_release,omitzero"`
	Revisions      []Revision `json:"revisions,omitempty"`
	// RevisionSummary is what the next revision changes ("Initial
	// version" for the first); publication moves it into Revisions.
	RevisionSummary string `json:"revision_summary,omitempty"`
	// Generator is the engine named in document/tracking/generator.
	Generator string `json:"generator,omitempty"`
}

// Product is one row of the product tree: a version of a vendor's
// product. ID is its CSAF product_id, which vulnerabilities refer to; it
// is assigned (CSAFPID-0001, …) when empty.
type Product struct {
	ID      string `json:"id"`
	Vendor  string `json:"vendor"`
	Name    string `json:"name"`
	Version string `json:"version"`
	// CPE optionally identifies the product (product_identification_helper).
	CPE string `json:"cpe,omitempty"`
}

// FullName is the product's full name: vendor, name and version.
func (p Product) FullName() string {
	return strings.Join(slices.DeleteFunc([]string{p.Vendor, p.Name, p.Version}, func(s string) bool { return s == "" }), " ")
}

// Vulnerability is one vulnerability the advisory is about. Score and
// ScoreSeverity are computed from CVSS by Normalize, never typed.
type Vulnerability struct {
	CVE           string   `json:"cve,omitempty"`
	Title         string   `json:"title,omitempty"`
	Description   string   `json:"description"`
	CWE           string   `json:"cwe,omitempty"`      // e.g. "CWE-79"
	CWEName       string   `json:"cwe_name,omitempty"` // e.g. "Improper Neutralization of Input …"
	CVSS          string   `json:"cvss,omitempty"`     // CVSS v3.1 vector
	Score         float64  `json:"score,omitempty"`
	ScoreSeverity string   `json:"score_severity,omitempty"`
	Affected      []string `json:"affected"`        // product IDs known affected
	Fixed         []string `json:"fixed,omitempty"` // product IDs where it is fixed
	NotAffected   []string `json:"not_affected,omitempty"`
	// UnderInvestigation lists product IDs whose status is not known yet.
	UnderInvestigation []string      `json:"under_investigation,omitempty"`
	Remediations       []Remediation `json:"remediations,omitempty"`
}

// Remediation is what to do about a vulnerability, for some of its
// products (all its affected ones when ProductIDs is empty).
type Remediation struct {
	Category   string   `json:"category"` // one of RemediationCategories
	Details    string   `json:"details"`
	URL        string   `json:"url,omitempty"`
	ProductIDs []string `json:"product_ids,omitempty"`
}

// RemediationCategories are CSAF 2.0's remediation categories.
var RemediationCategories = []string{"vendor_fix", "workaround", "mitigation", "none_available", "no_fix_planned"}

// Reference is a link to more information.
type Reference struct {
	URL      string `json:"url"`
	Summary  string `json:"summary"`
	Category string `json:"category,omitempty"` // external (default) or self
}

// Revision is one entry of the revision history.
type Revision struct {
	Number  string    `json:"number"`
	Date    time.Time `json:"date"`
	Summary string    `json:"summary"`
}

// Publisher identifies the issuing party of a document.
type Publisher struct {
	Category       string `json:"category"` // coordinator for a national team
	Name           string `json:"name"`
	Namespace      string `json:"namespace"` // https URL of the team
	ContactDetails string `json:"contact_details,omitempty"`
}

// Problem is one thing wrong with an advisory, in the author's terms:
// Field names the form field ("title", "products.2.version",
// "vulnerabilities.0.cvss").
type Problem struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Limits of the model.
const (
	MaxProducts        = 500
	MaxVulnerabilities = 200
	MaxText            = 20000
)

var (
	cveRe     = regexp.MustCompile(`^CVE-[0-9]{4}-[0-9]{4,}$`)
	cweRe     = regexp.MustCompile(`^CWE-[1-9][0-9]*$`)
	pidRe     = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$`)
	trackRe   = regexp.MustCompile(`^[\S](.*[\S])?$`)
	severityW = []string{"", "None", "Low", "Medium", "High", "Critical"}
)

// Normalize trims the advisory's text, drops empty rows, assigns product
// IDs, canonicalises CVSS vectors and computes their scores (a vector
// that does not parse is left for Check to report).
func (a *Advisory) Normalize() {
	trim := func(s *string) { *s = strings.TrimSpace(strings.ReplaceAll(*s, "\r\n", "\n")) }
	for _, s := range []*string{&a.Title, &a.Summary, &a.Details, &a.Severity, &a.Lang, &a.TrackingID, &a.RevisionSummary} {
		trim(s)
	}
	if a.Lang == "" {
		a.Lang = "en"
	}
	for i, w := range severityW {
		if strings.EqualFold(a.Severity, w) {
			a.Severity = severityW[i]
		}
	}
	a.Products = slices.DeleteFunc(a.Products, func(p Product) bool {
		return strings.TrimSpace(p.Vendor+p.Name+p.Version+p.ID) == ""
	})
	used := map[string]bool{}
	for i := range a.Products {
		p := &a.Products[i]
		for _, s := range []*string{&p.ID, &p.Vendor, &p.Name, &p.Version, &p.CPE} {
			trim(s)
		}
		used[p.ID] = true
	}
	n := 0
	for i := range a.Products {
		if a.Products[i].ID != "" {
			continue
		}
		for {
			n++
			id := fmt.Sprintf("CSAFPID-%04d", n)
			if !used[id] {
				a.Products[i].ID, used[id] = id, true
				break
			}
		}
	}
	a.Vulnerabilities = slices.DeleteFunc(a.Vulnerabilities, func(v Vulnerability) bool {
		return strings.TrimSpace(v.CVE+v.Title+v.Description+v.CVSS+v.CWE) == "" && len(v.Remediations) == 0
	})
	for i := range a.Vulnerabilities {
		v := &a.Vulnerabilities[i]
		for _, s := range []*string{&v.CVE, &v.Title, &v.Description, &v.CWE, &v.CWEName, &v.CVSS} {
			trim(s)
		}
		v.CVE, v.CWE = strings.ToUpper(v.CVE), strings.ToUpper(v.CWE)
		if v.CWE != "" && !strings.HasPrefix(v.CWE, "CWE-") && isDigits(v.CWE) {
			v.CWE = "CWE-" + v.CWE
		}
		v.Affected, v.Fixed, v.NotAffected = idList(v.Affected), idList(v.Fixed), idList(v.NotAffected)
		v.UnderInvestigation = idList(v.UnderInvestigation)
		v.Score, v.ScoreSeverity = 0, ""
		if c, err := ParseCVSS(v.CVSS); err == nil {
			v.CVSS = c.String()
			v.Score = c.BaseScore()
			v.ScoreSeverity = Severity(v.Score)
		}
		v.Remediations = slices.DeleteFunc(v.Remediations, func(r Remediation) bool {
			return strings.TrimSpace(r.Category+r.Details+r.URL) == ""
		})
		for j := range v.Remediations {
			r := &v.Remediations[j]
			trim(&r.Category)
			trim(&r.Details)
			trim(&r.URL)
			r.ProductIDs = idList(r.ProductIDs)
		}
	}
	a.References = slices.DeleteFunc(a.References, func(r Reference) bool { return strings.TrimSpace(r.URL+r.Summary) == "" })
	for i := range a.References {
		r := &a.References[i]
		trim(&r.URL)
		trim(&r.Summary)
		if r.Category == "" {
			r.Category = "external"
		}
		if r.Summary == "" {
			r.Summary = r.URL
		}
	}
	if a.Severity == "" {
		a.Severity = a.worstSeverity()
	}
}

// worstSeverity is the highest severity of the vulnerabilities' scores,
// in words ("High"), or "".
func (a *Advisory) worstSeverity() string {
	best := -1.0
	for _, v := range a.Vulnerabilities {
		if v.ScoreSeverity != "" && v.Score > best {
			best = v.Score
		}
	}
	if best < 0 {
		return ""
	}
	s := Severity(best)
	return s[:1] + strings.ToLower(s[1:])
}

func isDigits(s string) bool {
	return s != "" && strings.Trim(s, "0123456789") == ""
}

// idList splits and trims a list of product IDs, which a form may give
// as one comma- or space-separated string.
func idList(in []string) []string {
	var out []string
	for _, s := range in {
		for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\t' }) {
			if !slices.Contains(out, f) {
				out = append(out, f)
			}
		}
	}
	return out
}

// Check lists everything wrong with the advisory (after Normalize), in
// the author's terms; none means it can be published. It covers the
// fields CSAF requires, product references (CSAF mandatory tests 6.1.1
// and 6.1.2), CVSS vectors and CVE and CWE identifiers.
func (a *Advisory) Check() []Problem {
	var ps []Problem
	add := func(field, format string, args ...any) {
		ps = append(ps, Problem{Field: field, Message: fmt.Sprintf(format, args...)})
	}
	if a.Title == "" {
		add("title", "give the advisory a title")
	}
	if len(a.Title) > 500 {
		add("title", "the title is longer than 500 characters")
	}
	if a.Summary == "" {
		add("summary", "write a summary: what is affected and what readers should do")
	}
	for _, f := range []struct{ name, v string }{{"summary", a.Summary}, {"details", a.Details}} {
		if len(f.v) > MaxText {
			add(f.name, "the text is longer than %d characters", MaxText)
		}
	}
	if a.TLP.Rank() < 0 {
		add("tlp", "choose a TLP label")
	}
	if !slices.Contains(severityW, a.Severity) {
		add("severity", "the severity is one of Low, Medium, High or Critical")
	}
	if a.TrackingID != "" && (!trackRe.MatchString(a.TrackingID) || len(a.TrackingID) > 100) {
		add("tracking_id", "the tracking ID has no spaces at either end and at most 100 characters")
	}
	if len(a.Products) == 0 {
		add("products", "list at least one affected product: vendor, product and version")
	}
	if len(a.Products) > MaxProducts {
		add("products", "at most %d products", MaxProducts)
	}
	ids := map[string]bool{}
	for i, p := range a.Products {
		f := fmt.Sprintf("products.%d", i)
		if p.Vendor == "" {
			add(f+".vendor", "product %d has no vendor", i+1)
		}
		if p.Name == "" {
			add(f+".name", "product %d has no product name", i+1)
		}
		if p.Version == "" {
			add(f+".version", "product %d has no version (write e.g. \"all\" or \"< 2.4.1\" if unsure)", i+1)
		}
		if !pidRe.MatchString(p.ID) {
			add(f+".id", "product ID %q may hold only letters, digits and . _ : -", p.ID)
		}
		if ids[p.ID] {
			add(f+".id", "two products have the ID %s: each needs its own", p.ID)
		}
		ids[p.ID] = true
	}
	if len(a.Vulnerabilities) == 0 {
		add("vulnerabilities", "describe at least one vulnerability")
	}
	if len(a.Vulnerabilities) > MaxVulnerabilities {
		add("vulnerabilities", "at most %d vulnerabilities", MaxVulnerabilities)
	}
	cves := map[string]bool{}
	refs := func(field, what string, list []string) {
		for _, id := range list {
			if !ids[id] {
				add(field, "%s refers to product %s, which is not in the product list", what, id)
			}
		}
	}
	for i, v := range a.Vulnerabilities {
		f := fmt.Sprintf("vulnerabilities.%d", i)
		n := i + 1
		if v.CVE != "" {
			if !cveRe.MatchString(v.CVE) {
				add(f+".cve", "vulnerability %d: %q is not a CVE ID (CVE-2024-12345)", n, v.CVE)
			}
			if cves[v.CVE] {
				add(f+".cve", "vulnerability %d: %s is listed twice", n, v.CVE)
			}
			cves[v.CVE] = true
		}
		if v.CVE == "" && v.Title == "" {
			add(f+".title", "vulnerability %d needs a CVE ID or a title", n)
		}
		if v.Description == "" {
			add(f+".description", "vulnerability %d: describe it in a sentence or two", n)
		}
		if v.CWE != "" && !cweRe.MatchString(v.CWE) {
			add(f+".cwe", "vulnerability %d: %q is not a CWE ID (CWE-79)", n, v.CWE)
		}
		if v.CWE != "" && v.CWEName == "" {
			add(f+".cwe_name", "vulnerability %d: give the name of %s", n, v.CWE)
		}
		if v.CWE == "" && v.CWEName != "" {
			add(f+".cwe", "vulnerability %d: give the CWE ID for %q", n, v.CWEName)
		}
		if v.CVSS != "" {
			if _, err := ParseCVSS(v.CVSS); err != nil {
				add(f+".cvss", "vulnerability %d: %s", n, publicMessage(err))
			}
		}
		if len(v.Affected)+len(v.Fixed)+len(v.NotAffected)+len(v.UnderInvestigation) == 0 {
			add(f+".affected", "vulnerability %d: say which products are affected (their IDs, e.g. %s)", n, firstID(a.Products))
		}
		if v.CVSS != "" && len(v.Affected) == 0 {
			add(f+".affected", "vulnerability %d: a CVSS score applies to affected products; list at least one", n)
		}
		refs(f+".affected", fmt.Sprintf("vulnerability %d (affected)", n), v.Affected)
		refs(f+".fixed", fmt.Sprintf("vulnerability %d (fixed)", n), v.Fixed)
		refs(f+".not_affected", fmt.Sprintf("vulnerability %d (not affected)", n), v.NotAffected)
		refs(f+".under_investigation", fmt.Sprintf("vulnerability %d (under investigation)", n), v.UnderInvestigation)
		for _, id := range v.Affected {
			if slices.Contains(v.Fixed, id) || slices.Contains(v.NotAffected, id) {
				add(f+".affected", "vulnerability %d: product %s cannot be both affected and fixed or not affected", n, id)
			}
		}
		for j, r := range v.Remediations {
			rf := fmt.Sprintf("%s.remediations.%d", f, j)
			if !slices.Contains(RemediationCategories, r.Category) {
				add(rf+".category", "vulnerability %d, remediation %d: choose a kind (vendor fix, workaround, mitigation, none available, no fix planned)", n, j+1)
			}
			if r.Details == "" {
				add(rf+".details", "vulnerability %d, remediation %d: say what to do", n, j+1)
			}
			if r.URL != "" && !isURL(r.URL) {
				add(rf+".url", "vulnerability %d, remediation %d: %q is not a web address", n, j+1, r.URL)
			}
			refs(rf+".product_ids", fmt.Sprintf("vulnerability %d, remediation %d", n, j+1), r.ProductIDs)
			if len(r.ProductIDs) == 0 && len(v.Affected)+len(v.Fixed)+len(v.UnderInvestigation) == 0 {
				add(rf+".product_ids", "vulnerability %d, remediation %d: say which products it is for", n, j+1)
			}
		}
	}
	for i, r := range a.References {
		if !isURL(r.URL) {
			add(fmt.Sprintf("references.%d.url", i), "reference %d: %q is not a web address (https://…)", i+1, r.URL)
		}
		if r.Category != "external" && r.Category != "self" {
			add(fmt.Sprintf("references.%d.category", i), "reference %d: the category is external or self", i+1)
		}
	}
	return ps
}

func firstID(ps []Product) string {
	if len(ps) == 0 {
		return "CSAFPID-0001"
	}
	return ps[0].ID
}

func isURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != ""
}

// Validate returns nil when Check finds nothing, else an EINVALID error
// naming the first problem (and how many more there are).
func (a *Advisory) Validate() error {
	ps := a.Check()
	if len(ps) == 0 {
		return nil
	}
	msg := ps[0].Message
	if len(ps) > 1 {
		msg += fmt.Sprintf(" (and %d more problems)", len(ps)-1)
	}
	return focal.FieldErrorf(ps[0].Field, "%s", msg)
}

// CSAFLabel returns the CSAF 2.0 (TLP 1.0) name of a TLP 2.0 label:
// WHITE for CLEAR; AMBER+STRICT has no TLP 1.0 name and is shared as
// RED's stricter neighbour AMBER would be too open, so it maps to RED.
func CSAFLabel(t focal.TLP) string {
	switch t {
	case focal.TLPClear:
		return "WHITE"
	case focal.TLPAmberStrict:
		return "RED"
	case "":
		return "AMBER"
	}
	return string(t)
}

func fieldErr(field, format string, args ...any) error {
	return focal.FieldErrorf(field, format, args...)
}

// publicMessage returns the public message of a focal error without its
// field prefix.
func publicMessage(err error) string {
	var fe *focal.Error
	if errors.As(err, &fe) {
		return fe.Message
	}
	return focal.ErrorMessage(err)
}

func asErr[T error](err error, target *T) bool { return errors.As(err, target) }
