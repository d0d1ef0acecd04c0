package csaf

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	gocsaf "github.com/gocsaf/csaf/v3/csaf"

	"focal/internal/focal"
)

// ValidateDocument checks a CSAF document against the CSAF 2.0 JSON
// schema (with gocsaf's embedded schemas, no network) and the mandatory
// tests a generated document could fail: the file name rule, a sorted and
// complete revision history whose last number is the version, and
// consistent CVSS scores. It returns EINVALID listing the first problems.
func ValidateDocument(data []byte) error {
	var doc any
	if err := json.Unmarshal(data, &doc); err != nil {
		return focal.FieldErrorf("document", "not JSON: %s", jsonProblem(err))
	}
	msgs, err := gocsaf.ValidateCSAF(doc)
	if err != nil {
		return fmt.Errorf("csaf: schema validation: %w", err)
	}
	var d docJSON
	if err := json.NewDecoder(bytes.NewReader(data)).Decode(&d); err == nil {
		msgs = append(msgs, mandatory(&d)...)
	}
	if len(msgs) == 0 {
		return nil
	}
	if len(msgs) > 5 {
		msgs = append(msgs[:5], fmt.Sprintf("and %d more", len(msgs)-5))
	}
	return focal.FieldErrorf("document", "the CSAF document is not valid: %s", strings.Join(msgs, "; "))
}

// mandatory runs the mandatory tests of CSAF 2.0 §6.1 that concern what
// focal generates.
func mandatory(d *docJSON) []string {
	var out []string
	t := d.Document.Tracking
	defined := map[string]bool{}
	var walk func([]branchJSON)
	walk = func(bs []branchJSON) {
		for _, b := range bs {
			if b.Product != nil {
				if defined[b.Product.ID] {
					out = append(out, fmt.Sprintf("6.1.2: product ID %s is defined twice", b.Product.ID))
				}
				defined[b.Product.ID] = true
			}
			walk(b.Branches)
		}
	}
	if d.ProductTree != nil {
		walk(d.ProductTree.Branches)
		for _, p := range d.ProductTree.FullProductNames {
			defined[p.ID] = true
		}
	}
	ref := func(ids []string) {
		for _, id := range ids {
			if !defined[id] {
				out = append(out, fmt.Sprintf("6.1.1: product ID %s is referenced but not defined", id))
			}
		}
	}
	for _, v := range d.Vulnerabilities {
		if ps := v.ProductStatus; ps != nil {
			ref(ps.KnownAffected)
			ref(ps.Fixed)
			ref(ps.KnownNotAffected)
			ref(ps.UnderInvestigation)
		}
		for _, r := range v.Remediations {
			ref(r.ProductIDs)
		}
		for _, s := range v.Scores {
			ref(s.Products)
			if s.CVSSv3 == nil {
				continue
			}
			c, err := ParseCVSS(s.CVSSv3.VectorString)
			if err != nil {
				out = append(out, "6.1.8: invalid CVSS vector "+s.CVSSv3.VectorString)
				continue
			}
			if c.BaseScore() != s.CVSSv3.BaseScore || Severity(c.BaseScore()) != s.CVSSv3.BaseSeverity {
				out = append(out, "6.1.9: CVSS base score does not match the vector "+s.CVSSv3.VectorString)
			}
		}
	}
	h := t.RevisionHistory
	for i := 1; i < len(h); i++ {
		if h[i].Date < h[i-1].Date {
			out = append(out, "6.1.14: the revision history is not sorted by date")
			break
		}
	}
	if len(h) > 0 && h[len(h)-1].Number != t.Version {
		out = append(out, fmt.Sprintf("6.1.16: the last revision is %s but the version is %s", h[len(h)-1].Number, t.Version))
	}
	for i, r := range h {
		if want := fmt.Sprint(i + 1); r.Number != want && !strings.HasPrefix(r.Number, want+".") {
			out = append(out, fmt.Sprintf("6.1.21: revision %d has number %s", i+1, r.Number))
			break
		}
	}
	return out
}
