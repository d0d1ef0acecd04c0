package csaf

import (
	"fmt"
	"math"
	"strings"
)

// CVSS is a parsed CVSS v3.x vector: its version ("3.0" or "3.1") and its
// metrics by abbreviation (AV, AC, … and any temporal or environmental
// ones), each with its one-letter value. Build it with ParseCVSS.
type CVSS struct {
	Version string
	Metrics map[string]string
}

// cvssBase lists the base metrics in the specification's order, each with
// its allowed values.
var cvssBase = []struct {
	name, values, label string
}{
	{"AV", "NALP", "attack vector"},
	{"AC", "LH", "attack complexity"},
	{"PR", "NLH", "privileges required"},
	{"UI", "NR", "user interaction"},
	{"S", "UC", "scope"},
	{"C", "HLN", "confidentiality impact"},
	{"I", "HLN", "integrity impact"},
	{"A", "HLN", "availability impact"},
}

// cvssOther lists the temporal and environmental metrics a vector may
// carry, in order, with their allowed values. They do not change the
// base score.
var cvssOther = []struct{ name, values string }{
	{"E", "XUPFH"}, {"RL", "XOTWU"}, {"RC", "XURC"},
	{"CR", "XLMH"}, {"IR", "XLMH"}, {"AR", "XLMH"},
	{"MAV", "XNALP"}, {"MAC", "XLH"}, {"MPR", "XNLH"}, {"MUI", "XNR"}, {"MS", "XUC"},
	{"MC", "XNLH"}, {"MI", "XNLH"}, {"MA", "XNLH"},
}

// ParseCVSS parses a CVSS v3.0 or v3.1 vector string such as
// "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H". Every base metric must
// appear exactly once; temporal and environmental metrics are accepted.
// The error (EINVALID, field "cvss") says what is wrong in words a
// handler understands.
func ParseCVSS(vector string) (*CVSS, error) {
	v := strings.TrimSpace(vector)
	if v == "" {
		return nil, fieldErr("cvss", "the CVSS vector is empty")
	}
	if len(v) > 200 {
		return nil, fieldErr("cvss", "the CVSS vector is too long")
	}
	parts := strings.Split(v, "/")
	var c CVSS
	switch parts[0] {
	case "CVSS:3.1":
		c.Version = "3.1"
	case "CVSS:3.0":
		c.Version = "3.0"
	default:
		return nil, fieldErr("cvss", "a CVSS v3.1 vector starts with \"CVSS:3.1/\", e.g. CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H")
	}
	c.Metrics = make(map[string]string, len(parts)-1)
	allowed := map[string]string{}
	for _, m := range cvssBase {
		allowed[m.name] = m.values
	}
	for _, m := range cvssOther {
		allowed[m.name] = m.values
	}
	for _, p := range parts[1:] {
		name, value, ok := strings.Cut(p, ":")
		if !ok || name == "" || value == "" {
			return nil, fieldErr("cvss", "%q is not a metric: each part of the vector looks like AV:N", p)
		}
		values, known := allowed[name]
		if !known {
			return nil, fieldErr("cvss", "%q is not a CVSS v3 metric", name)
		}
		if len(value) != 1 || !strings.Contains(values, value) {
			return nil, fieldErr("cvss", "%s:%s: the value of %s must be one of %s", name, value, name, strings.Join(strings.Split(values, ""), ", "))
		}
		if _, dup := c.Metrics[name]; dup {
			return nil, fieldErr("cvss", "the metric %s appears twice", name)
		}
		c.Metrics[name] = value
	}
	var missing []string
	for _, m := range cvssBase {
		if _, ok := c.Metrics[m.name]; !ok {
			missing = append(missing, m.name+" ("+m.label+")")
		}
	}
	if len(missing) > 0 {
		return nil, fieldErr("cvss", "the vector lacks %s", strings.Join(missing, ", "))
	}
	return &c, nil
}

// String returns the vector in canonical order: the base metrics, then
// the temporal and environmental ones present.
func (c *CVSS) String() string {
	var b strings.Builder
	b.WriteString("CVSS:" + c.Version)
	for _, m := range cvssBase {
		b.WriteString("/" + m.name + ":" + c.Metrics[m.name])
	}
	for _, m := range cvssOther {
		if v, ok := c.Metrics[m.name]; ok {
			b.WriteString("/" + m.name + ":" + v)
		}
	}
	return b.String()
}

// BaseScore computes the base score after the CVSS v3.1 specification
// (§7.1, with the Roundup of Appendix A; v3.0 vectors use v3.0's simpler
// Roundup).
func (c *CVSS) BaseScore() float64 {
	m := c.Metrics
	changed := m["S"] == "C"
	av := map[string]float64{"N": 0.85, "A": 0.62, "L": 0.55, "P": 0.2}[m["AV"]]
	ac := map[string]float64{"L": 0.77, "H": 0.44}[m["AC"]]
	var pr float64
	switch m["PR"] {
	case "N":
		pr = 0.85
	case "L":
		pr = 0.62
		if changed {
			pr = 0.68
		}
	case "H":
		pr = 0.27
		if changed {
			pr = 0.5
		}
	}
	ui := map[string]float64{"N": 0.85, "R": 0.62}[m["UI"]]
	cia := map[string]float64{"H": 0.56, "L": 0.22, "N": 0}
	iss := 1 - (1-cia[m["C"]])*(1-cia[m["I"]])*(1-cia[m["A"]])
	var impact float64
	if changed {
		impact = 7.52*(iss-0.029) - 3.25*math.Pow(iss-0.02, 15)
	} else {
		impact = 6.42 * iss
	}
	if impact <= 0 {
		return 0
	}
	exploitability := 8.22 * av * ac * pr * ui
	roundup := roundup31
	if c.Version == "3.0" {
		roundup = roundup30
	}
	if changed {
		return roundup(math.Min(1.08*(impact+exploitability), 10))
	}
	return roundup(math.Min(impact+exploitability, 10))
}

// roundup31 is CVSS v3.1's Roundup: the smallest number with one decimal
// not below x, computed on integers to avoid floating-point surprises.
func roundup31(x float64) float64 {
	i := int64(math.Round(x * 100000))
	if i%10000 == 0 {
		return float64(i) / 100000
	}
	return float64(i/10000+1) / 10
}

// roundup30 is CVSS v3.0's Roundup.
func roundup30(x float64) float64 { return math.Ceil(x*10) / 10 }

// Severity returns the qualitative severity rating of a score: NONE,
// LOW, MEDIUM, HIGH or CRITICAL (the spelling of the CVSS JSON schema).
func Severity(score float64) string {
	switch {
	case score == 0:
		return "NONE"
	case score < 4:
		return "LOW"
	case score < 7:
		return "MEDIUM"
	case score < 9:
		return "HIGH"
	}
	return "CRITICAL"
}

// ScoreString formats a score with one decimal, as CVSS writes it.
func ScoreString(score float64) string { return fmt.Sprintf("%.1f", score) }
