package assess

import (
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"

	"focal/internal/focal"
)

// ValueNA is the answer that marks a question not applicable: it leaves
// the question out of every denominator.
const ValueNA = "n/a"

// The visibilities of evidence.
const (
	VisibilityPublic     = "public"
	VisibilityRestricted = "restricted"
)

// Answer is the answer to one question, with its evidence.
type Answer struct {
	Item    string `json:"item"`
	Value   string `json:"value"` // an option value, a number, ValueNA, or "" for unanswered
	Comment string `json:"comment,omitempty"`
	// Evidence backs the answer; none is allowed (a declared answer).
	Evidence Evidence `json:"evidence"`
	// Measured is set when the value was measured by focal (Item.Metric).
	Measured *Measurement `json:"measured,omitempty"`
}

// Evidence is what backs an answer: a URL, a file stored by its SHA-256,
// or both.
type Evidence struct {
	URL      string `json:"url,omitempty"`
	SHA256   string `json:"sha256,omitempty"` // an uploaded file
	FileName string `json:"file_name,omitempty"`
	// Date is the day the evidence applies to (a law's adoption, a
	// report's date), distinct from when it was uploaded.
	Date       string    `json:"date,omitempty"` // YYYY-MM-DD
	UploadedAt time.Time `json:"uploaded_at,omitzero"`
	Visibility string    `json:"visibility,omitempty"` // public or restricted
	ReviewBy   string    `json:"review_by,omitempty"`  // YYYY-MM-DD
	// LinkBroken is set by the evidence-link checker; the answer stays.
	LinkBroken    bool      `json:"link_broken,omitempty"`
	LinkCheckedAt time.Time `json:"link_checked_at,omitzero"`
	LinkStatus    string    `json:"link_status,omitempty"`
}

// Present reports whether there is any evidence.
func (e Evidence) Present() bool { return e.URL != "" || e.SHA256 != "" }

// Public reports whether the evidence is present, public and not known
// to be broken — what the "public evidence only" switch counts.
func (e Evidence) Public() bool {
	return e.Present() && e.Visibility == VisibilityPublic && !(e.LinkBroken && e.SHA256 == "")
}

// Measurement is the value of a focal metric as stored with an answer.
type Measurement struct {
	Metric     string    `json:"metric"`
	Value      float64   `json:"value"`
	From       time.Time `json:"from"`
	To         time.Time `json:"to"`
	Definition string    `json:"definition"`
	Detail     string    `json:"detail,omitempty"` // numerator and denominator, for people
}

// ValidateEvidenceURL checks an evidence URL: absolute http or https with
// a host. field names the input for the error.
func ValidateEvidenceURL(field, raw string) error {
	if raw == "" {
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil {
		return focal.FieldErrorf(field, "not a URL: %v", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return focal.FieldErrorf(field, "want an http or https URL, got %q", raw)
	}
	if u.Host == "" {
		return focal.FieldErrorf(field, "the URL %q has no host", raw)
	}
	return nil
}

// ValidateAnswer checks a against the framework: the item exists and is
// a question, the value is on the question's scale, and the evidence is
// well formed. Errors are EINVALID naming the field, e.g.
// `answers[L.1.2].value`.
func ValidateAnswer(f *Framework, a *Answer) error {
	p := "answers[" + a.Item + "]"
	q := f.Item(a.Item)
	if q == nil {
		return focal.FieldErrorf(p+".item", "no item %q in %s", a.Item, f.Ref())
	}
	if q.Kind != KindQuestion {
		return focal.FieldErrorf(p+".item", "%q is a %s; only questions are answered", a.Item, q.Kind)
	}
	a.Value = strings.TrimSpace(a.Value)
	// "" keeps the question unanswered (its evidence may come first).
	if a.Value != ValueNA && a.Value != "" {
		if _, err := f.ScaleOf(q).Fraction(a.Value); err != nil {
			return focal.FieldErrorf(p+".value", "%v", err)
		}
	}
	if len(a.Comment) > 4000 {
		return focal.FieldErrorf(p+".comment", "at most 4000 characters")
	}
	e := &a.Evidence
	e.URL = strings.TrimSpace(e.URL)
	if err := ValidateEvidenceURL(p+".evidence.url", e.URL); err != nil {
		return err
	}
	if e.SHA256 != "" && !isHex64(e.SHA256) {
		return focal.FieldErrorf(p+".evidence.sha256", "want 64 hexadecimal digits")
	}
	for _, d := range []struct{ name, v string }{{"date", e.Date}, {"review_by", e.ReviewBy}} {
		if d.v == "" {
			continue
		}
		if _, err := time.Parse(time.DateOnly, d.v); err != nil {
			return focal.FieldErrorf(p+".evidence."+d.name, "want a date YYYY-MM-DD, got %q", d.v)
		}
	}
	switch e.Visibility {
	case "":
		if e.Present() {
			e.Visibility = VisibilityRestricted
		}
	case VisibilityPublic, VisibilityRestricted:
	default:
		return focal.FieldErrorf(p+".evidence.visibility", "want public or restricted, got %q", e.Visibility)
	}
	return nil
}

func isHex64(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// Fraction returns what value is worth on the scale, from 0 to 1, or an
// error saying which values the scale takes.
func (s *Scale) Fraction(value string) (float64, error) {
	switch s.Type {
	case ScaleChoice, ScaleStage:
		var vals []string
		for _, o := range s.Options {
			if o.Value == value {
				return o.Score, nil
			}
			vals = append(vals, o.Value)
		}
		return 0, fmt.Errorf("%q is not on scale %q; want one of %s or %s", value, s.ID, strings.Join(vals, ", "), ValueNA)
	case ScalePoints:
		n, err := strconv.Atoi(value)
		if err != nil || n < 0 || float64(n) > s.Max {
			return 0, fmt.Errorf("%q is not on scale %q; want a whole number from 0 to %s or %s", value, s.ID, num(s.Max), ValueNA)
		}
		return float64(n) / s.Max, nil
	case ScaleNumber:
		v, err := strconv.ParseFloat(value, 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return 0, fmt.Errorf("%q is not on scale %q; want a number or %s", value, s.ID, ValueNA)
		}
		fr := (v - s.Min) / (s.Max - s.Min)
		if s.LowerIsBetter {
			fr = 1 - fr
		}
		return math.Max(0, math.Min(1, fr)), nil
	}
	return 0, fmt.Errorf("scale %q has an unknown type %q", s.ID, s.Type)
}
