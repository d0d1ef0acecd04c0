package ui

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"focal/internal/csaf"
	"focal/internal/focal"
	"focal/internal/store"
)

// Blank rows the advisory form adds after the filled ones, so authors
// add products, vulnerabilities, remediations and references without
// script; saving adds more.
const (
	blankProducts     = 3
	blankVulns        = 1
	blankRemediations = 1
	blankReferences   = 2
	maxFormRows       = 500
)

// advisoryForm is the advisory form's data: the model as rows of text.
type advisoryForm struct {
	base
	ID              int64
	Action          string
	Advisory        csaf.Advisory
	Incidents       string
	Products        []csaf.Product
	Vulnerabilities []vulnRow
	References      []csaf.Reference
	TLPs            []focal.TLP
	Severities      []string
	Categories      []string
	Err             *fieldError
	Problems        []csaf.Problem
}

// vulnRow is a vulnerability as the form shows it: product ID lists as
// comma-separated text, and the remediation rows.
type vulnRow struct {
	csaf.Vulnerability
	AffectedText, FixedText, NotAffectedText, InvestigationText string
	Rems                                                        []csaf.Remediation
}

func (f *advisoryForm) fill(a *csaf.Advisory, incidents []int64) {
	f.Advisory = *a
	f.TLPs = focal.TLPs
	f.Severities = []string{"", "Low", "Medium", "High", "Critical"}
	f.Categories = csaf.RemediationCategories
	var inc []string
	for _, i := range incidents {
		inc = append(inc, strconv.FormatInt(i, 10))
	}
	f.Incidents = strings.Join(inc, ", ")
	f.Products = append(append([]csaf.Product(nil), a.Products...), make([]csaf.Product, blankProducts)...)
	for _, v := range append(append([]csaf.Vulnerability(nil), a.Vulnerabilities...), make([]csaf.Vulnerability, blankVulns)...) {
		f.Vulnerabilities = append(f.Vulnerabilities, vulnRow{Vulnerability: v,
			AffectedText: strings.Join(v.Affected, ", "), FixedText: strings.Join(v.Fixed, ", "),
			NotAffectedText: strings.Join(v.NotAffected, ", "), InvestigationText: strings.Join(v.UnderInvestigation, ", "),
			Rems: append(append([]csaf.Remediation(nil), v.Remediations...), make([]csaf.Remediation, blankRemediations)...)})
	}
	f.References = append(append([]csaf.Reference(nil), a.References...), make([]csaf.Reference, blankReferences)...)
}

// ErrorFor returns the message about field: the save error, or the first
// problem Check found there.
func (f advisoryForm) ErrorFor(field string) string {
	if f.Err != nil && f.Err.Field == field {
		return f.Err.Message
	}
	for _, p := range f.Problems {
		if p.Field == field {
			return p.Message
		}
	}
	return ""
}

// parseAdvisoryForm reads the advisory form: rows named
// product.N.vendor, vuln.N.cvss, vuln.N.rem.M.details, ref.N.url… up to
// the first missing index.
func parseAdvisoryForm(v url.Values) (csaf.Advisory, []int64, error) {
	a := csaf.Advisory{
		Title: v.Get("title"), Summary: v.Get("summary"), Details: v.Get("details"), Severity: v.Get("severity"),
		TrackingID: v.Get("tracking_id"), Lang: v.Get("lang"), RevisionSummary: v.Get("revision_summary"),
	}
	if t := v.Get("tlp"); t != "" {
		tlp, err := focal.ParseTLP(t)
		if err != nil {
			return a, nil, err
		}
		a.TLP = tlp
	}
	has := func(prefix string) bool {
		for k := range v {
			if strings.HasPrefix(k, prefix) {
				return true
			}
		}
		return false
	}
	for i := 0; i < maxFormRows && has(fmt.Sprintf("product.%d.", i)); i++ {
		p := fmt.Sprintf("product.%d.", i)
		a.Products = append(a.Products, csaf.Product{ID: v.Get(p + "id"), Vendor: v.Get(p + "vendor"), Name: v.Get(p + "name"), Version: v.Get(p + "version"), CPE: v.Get(p + "cpe")})
	}
	for i := 0; i < maxFormRows && has(fmt.Sprintf("vuln.%d.", i)); i++ {
		p := fmt.Sprintf("vuln.%d.", i)
		vu := csaf.Vulnerability{CVE: v.Get(p + "cve"), Title: v.Get(p + "title"), Description: v.Get(p + "description"),
			CWE: v.Get(p + "cwe"), CWEName: v.Get(p + "cwe_name"), CVSS: v.Get(p + "cvss"),
			Affected: []string{v.Get(p + "affected")}, Fixed: []string{v.Get(p + "fixed")},
			NotAffected: []string{v.Get(p + "not_affected")}, UnderInvestigation: []string{v.Get(p + "under_investigation")}}
		for j := 0; j < maxFormRows && has(fmt.Sprintf("%srem.%d.", p, j)); j++ {
			q := fmt.Sprintf("%srem.%d.", p, j)
			vu.Remediations = append(vu.Remediations, csaf.Remediation{Category: v.Get(q + "category"), Details: v.Get(q + "details"),
				URL: v.Get(q + "url"), ProductIDs: []string{v.Get(q + "product_ids")}})
		}
		a.Vulnerabilities = append(a.Vulnerabilities, vu)
	}
	for i := 0; i < maxFormRows && has(fmt.Sprintf("ref.%d.", i)); i++ {
		p := fmt.Sprintf("ref.%d.", i)
		a.References = append(a.References, csaf.Reference{URL: v.Get(p + "url"), Summary: v.Get(p + "summary"), Category: v.Get(p + "category")})
	}
	var incidents []int64
	for _, s := range strings.FieldsFunc(v.Get("incidents"), func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\r' }) {
		n, err := strconv.ParseInt(strings.TrimPrefix(s, "#"), 10, 64)
		if err != nil || n <= 0 {
			return a, nil, focal.FieldErrorf("incidents", "%q is not an incident number", s)
		}
		incidents = append(incidents, n)
	}
	a.Normalize()
	return a, incidents, nil
}

// advisoryNew serves GET /advisories/new.
func (h *handlers) advisoryNew(w http.ResponseWriter, r *http.Request) {
	f := advisoryForm{base: h.base(r, "New advisory"), Action: "/advisories"}
	f.fill(&csaf.Advisory{TLP: focal.TLPClear}, nil)
	h.render(w, r, http.StatusOK, "advisory_form", f)
}

// advisoryEdit serves GET /advisories/{id}/edit.
func (h *handlers) advisoryEdit(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		h.error(w, r, err)
		return
	}
	a, err := h.store.Advisory(r.Context(), id)
	if err != nil {
		h.error(w, r, err)
		return
	}
	if a.State == store.AdvisoryPublished {
		redirect(w, r, fmt.Sprintf("/advisories/%d?error=%s", id, url.QueryEscape("this advisory is published: start a correction to change it")))
		return
	}
	f := advisoryForm{base: h.base(r, "Edit advisory"), ID: id, Action: fmt.Sprintf("/advisories/%d", id), Problems: a.Body.Check()}
	f.fill(&a.Body, a.Incidents)
	h.render(w, r, http.StatusOK, "advisory_form", f)
}

// advisoryCreate serves POST /advisories.
func (h *handlers) advisoryCreate(w http.ResponseWriter, r *http.Request) {
	h.advisorySave(w, r, 0)
}

// advisoryUpdate serves POST /advisories/{id}.
func (h *handlers) advisoryUpdate(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		h.error(w, r, err)
		return
	}
	h.advisorySave(w, r, id)
}

// advisorySave stores the form as a draft; what would keep it from
// publication is shown on the advisory's page. A form the store refuses
// comes back with the reason next to the field.
func (h *handlers) advisorySave(w http.ResponseWriter, r *http.Request, id int64) {
	if err := parseForm(r); err != nil {
		h.error(w, r, err)
		return
	}
	body, incidents, err := parseAdvisoryForm(r.PostForm)
	if err == nil {
		a := &store.Advisory{ID: id, Body: body, Incidents: incidents}
		if id == 0 {
			err = h.store.CreateAdvisory(r.Context(), a)
		} else {
			err = h.store.UpdateAdvisory(r.Context(), a)
		}
		if err == nil {
			redirect(w, r, withNotice(fmt.Sprintf("/advisories/%d", a.ID), "saved"))
			return
		}
	}
	var fe *focal.Error
	if focal.ErrorCode(err) != focal.EINVALID || !asFocal(err, &fe) {
		h.error(w, r, err)
		return
	}
	title, action := "New advisory", "/advisories"
	if id != 0 {
		title, action = "Edit advisory", fmt.Sprintf("/advisories/%d", id)
	}
	f := advisoryForm{base: h.base(r, title), ID: id, Action: action,
		Err: &fieldError{Field: fe.Field, Label: advisoryFieldLabel(fe.Field), Message: fe.Message}}
	f.fill(&body, incidents)
	h.render(w, r, http.StatusBadRequest, "advisory_form", f)
}

// advisoryFieldLabel names a form field for people.
func advisoryFieldLabel(field string) string {
	switch {
	case field == "tlp":
		return "TLP"
	case field == "":
		return "Advisory"
	case strings.HasPrefix(field, "products"):
		return "Products"
	case strings.HasPrefix(field, "vulnerabilities"):
		return "Vulnerabilities"
	case strings.HasPrefix(field, "references"):
		return "References"
	}
	return strings.ToUpper(field[:1]) + strings.ReplaceAll(field[1:], "_", " ")
}

// advisoryCVSS serves GET /advisories/cvss?cvss=…: the score computed
// from a vector, or what is wrong with it, as a fragment the form shows
// next to the vector (htmx) — the author never types a score.
func (h *handlers) advisoryCVSS(w http.ResponseWriter, r *http.Request) {
	var vector string
	for k, v := range r.URL.Query() {
		if strings.HasSuffix(k, "cvss") && len(v) > 0 {
			vector = v[0]
		}
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if strings.TrimSpace(vector) == "" {
		return
	}
	c, err := csaf.ParseCVSS(vector)
	var out string
	if err != nil {
		out = `<span class="field-error">` + htmlEscape(csafProblem(err)) + `</span>`
	} else {
		s := c.BaseScore()
		out = `<span class="badge">` + csaf.ScoreString(s) + " " + csaf.Severity(s) + `</span>`
	}
	_, _ = w.Write([]byte(out))
}
