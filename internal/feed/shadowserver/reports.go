package shadowserver

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"focal/internal/focal"
)

// reportsJSON is the report table: one object per report under "reports",
// in the order header detection breaks ties. Each object has
//
//   - name: the report name as in Shadowserver file names ("scan_smb").
//   - title: one line for people.
//   - extends: an earlier report whose class, type, prefixes, required,
//     fields, constants and key this one starts from (detect, fallback and
//     title are not inherited).
//   - class, type: the events' RSIT classification.
//   - required: columns the header must have and every row must fill.
//   - detect: columns that mark the report when it is told from the header.
//   - fallback: the report is taken when the header matches no report's
//     detect columns but has this one's required columns.
//   - fields: event field → the columns that feed it, the first non-empty
//     one winning; an empty list removes an inherited field.
//   - constants: event field → the value used when its columns are empty or
//     absent (protocol, malware and identifier only).
//   - key: the event fields that, after the feed name and before the report
//     name, make up the dedup key.
//   - prefixes: the source.ip column may hold a CIDR prefix.
//
//go:embed reports.json
var reportsJSON []byte

// The event fields a report maps, in the order a row is read.
const (
	fTime = iota
	fSrcIP
	fSrcPort
	fSrcASN
	fSrcCountry
	fSrcFQDN
	fSrcURL
	fDstIP
	fDstPort
	fDstASN
	fDstCountry
	fDstFQDN
	fDstURL
	fProtocol
	fMalware
	fIdentifier
	numFields
)

var fieldNames = [numFields]string{
	fTime:       "time",
	fSrcIP:      "source.ip",
	fSrcPort:    "source.port",
	fSrcASN:     "source.asn",
	fSrcCountry: "source.country",
	fSrcFQDN:    "source.fqdn",
	fSrcURL:     "source.url",
	fDstIP:      "destination.ip",
	fDstPort:    "destination.port",
	fDstASN:     "destination.asn",
	fDstCountry: "destination.country",
	fDstFQDN:    "destination.fqdn",
	fDstURL:     "destination.url",
	fProtocol:   "protocol",
	fMalware:    "malware",
	fIdentifier: "identifier",
}

func fieldID(name string) (int, bool) {
	i := slices.Index(fieldNames[:], name)
	return i, i >= 0
}

// reportSpec is one object of reports.json.
type reportSpec struct {
	Name      string              `json:"name"`
	Title     string              `json:"title"`
	Extends   string              `json:"extends"`
	Fallback  bool                `json:"fallback"`
	Class     string              `json:"class"`
	Type      string              `json:"type"`
	Prefixes  *bool               `json:"prefixes"`
	Required  []string            `json:"required"`
	Detect    []string            `json:"detect"`
	Fields    map[string][]string `json:"fields"`
	Constants map[string]string   `json:"constants"`
	Key       []string            `json:"key"`
}

// mapping is a report with its inheritance resolved and its field names
// turned into field ids. It is read-only once built.
type mapping struct {
	name     string
	title    string
	class    string
	typ      string
	fallback bool
	prefixes bool
	required []string
	detect   []string
	cols     [numFields][]string // columns per field, first non-empty wins
	consts   [numFields]string
	key      []int // field ids
}

// table is the report table built from reports.json.
type table struct {
	list   []*mapping
	byName map[string]*mapping
}

// reports is the package's report table. It is built once at start-up
// from the embedded file and never changed; a broken file is a
// programming error that the package's tests catch.
var reports = mustLoad(reportsJSON)

func mustLoad(b []byte) *table {
	t, err := load(b)
	if err != nil {
		panic("shadowserver: reports.json: " + err.Error())
	}
	return t
}

// load parses and checks a report table.
func load(b []byte) (*table, error) {
	var doc struct {
		Reports []reportSpec `json:"reports"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&doc); err != nil {
		return nil, err
	}
	t := &table{byName: map[string]*mapping{}}
	specs := map[string]reportSpec{}
	for _, s := range doc.Reports {
		m, err := build(s, specs)
		if err != nil {
			return nil, fmt.Errorf("report %q: %w", s.Name, err)
		}
		specs[s.Name] = s
		t.list = append(t.list, m)
		t.byName[m.name] = m
	}
	if len(t.list) == 0 {
		return nil, fmt.Errorf("no reports")
	}
	return t, nil
}

// build resolves s against the specs before it (for extends) and checks it.
func build(s reportSpec, specs map[string]reportSpec) (*mapping, error) {
	if !validName(s.Name) {
		return nil, fmt.Errorf("bad name: want lower-case letters, digits and '_'")
	}
	if _, dup := specs[s.Name]; dup {
		return nil, fmt.Errorf("defined twice")
	}
	m := &mapping{name: s.Name, title: s.Title, fallback: s.Fallback, detect: s.Detect}
	if err := apply(m, s, specs, 0); err != nil {
		return nil, err
	}
	c := focal.Classification{Class: m.class, Type: m.typ}
	if err := c.Validate(); err != nil || c.Type == "" || c.Class != m.class || c.Type != m.typ {
		return nil, fmt.Errorf("bad RSIT class/type %q/%q", m.class, m.typ)
	}
	if len(m.required) == 0 || len(m.cols[fTime]) == 0 {
		return nil, fmt.Errorf("needs required columns and a time column")
	}
	if len(m.cols[fSrcIP]) == 0 && len(m.cols[fDstIP]) == 0 {
		return nil, fmt.Errorf("needs a source.ip or destination.ip column")
	}
	if m.title == "" {
		return nil, fmt.Errorf("needs a title")
	}
	return m, nil
}

// apply lays s (after what it extends) onto m.
func apply(m *mapping, s reportSpec, specs map[string]reportSpec, depth int) error {
	if s.Extends != "" {
		base, ok := specs[s.Extends]
		if !ok || depth > 8 {
			return fmt.Errorf("extends %q, which is not an earlier report", s.Extends)
		}
		if err := apply(m, base, specs, depth+1); err != nil {
			return err
		}
	}
	if s.Class != "" {
		m.class = s.Class
	}
	if s.Type != "" {
		m.typ = s.Type
	}
	if s.Prefixes != nil {
		m.prefixes = *s.Prefixes
	}
	if s.Required != nil {
		m.required = lower(s.Required)
	}
	for name, cols := range s.Fields {
		id, ok := fieldID(name)
		if !ok {
			return fmt.Errorf("unknown field %q", name)
		}
		m.cols[id] = lower(cols)
	}
	for name, v := range s.Constants {
		id, ok := fieldID(name)
		if !ok || (id != fProtocol && id != fMalware && id != fIdentifier) {
			return fmt.Errorf("constant for %q: only protocol, malware and identifier take constants", name)
		}
		m.consts[id] = v
	}
	if s.Key != nil {
		m.key = m.key[:0:0]
		for _, name := range s.Key {
			id, ok := fieldID(name)
			if !ok || id == fTime {
				return fmt.Errorf("bad key field %q", name)
			}
			m.key = append(m.key, id)
		}
	}
	return nil
}

func lower(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = strings.ToLower(strings.TrimSpace(s))
	}
	return out
}

func validName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// Reports returns the names of the reports that have a mapping, in table
// order. "scan" and "event4" are the generic mappings that scan_* and
// event4_* reports without a mapping of their own use.
func Reports() []string {
	out := make([]string, len(reports.list))
	for i, m := range reports.list {
		out[i] = m.name
	}
	return out
}

// resolve turns a report name into its mapping and the report name events
// carry in their dedup key: IPv6 variants are folded into their IPv4
// report (scan6_smb → scan_smb, event6_sinkhole → event4_sinkhole,
// device_id6 → device_id), and a scan_* or event4_* report without a
// mapping gets the generic "scan" or "event4" one under its own name.
func resolve(name string) (*mapping, string, bool) {
	name = strings.ToLower(strings.TrimSpace(name))
	switch {
	case strings.HasPrefix(name, "scan6_"):
		name = "scan_" + name[len("scan6_"):]
	case strings.HasPrefix(name, "event6_"):
		name = "event4_" + name[len("event6_"):]
	}
	if m, ok := reports.byName[name]; ok {
		return m, name, true
	}
	if base, ok := strings.CutSuffix(name, "6"); ok {
		if m, ok := reports.byName[base]; ok {
			return m, base, true
		}
	}
	if !validName(name) {
		return nil, "", false
	}
	for _, generic := range []string{"scan", "event4"} {
		if rest, ok := strings.CutPrefix(name, generic+"_"); ok && rest != "" {
			if m, ok := reports.byName[generic]; ok {
				return m, name, true
			}
		}
	}
	return nil, "", false
}

// CheckReport reports whether name is a report this package maps (see
// resolve for the names it accepts). The error lists the known reports.
func CheckReport(name string) error {
	if _, _, ok := resolve(name); !ok {
		return fmt.Errorf("unknown Shadowserver report %q; known reports: %s, and any scan_*, scan6_*, event4_* or event6_* report",
			name, strings.Join(Reports(), ", "))
	}
	return nil
}

// fromName finds the report in an input's name: the first '-' or
// '.'-separated part of its base name that resolve accepts, as in
// "2026-11-21-scan_smb-example_org-asn.csv".
func fromName(name string) (*mapping, string, bool) {
	if i := strings.IndexByte(name, '?'); i >= 0 {
		name = name[:i]
	}
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	for part := range strings.FieldsFuncSeq(name, func(r rune) bool { return r == '-' || r == '.' || r == ' ' }) {
		// A bare "scan" or "event4" is a word, not a report name.
		if m, n, ok := resolve(part); ok && n != "scan" && n != "event4" {
			return m, n, true
		}
	}
	return nil, "", false
}

// fromHeader picks the report a header shows: among the reports whose
// required and detect columns are all in the header, the one with the
// most detect columns (the first in the table on a tie); failing that the
// first fallback report whose required columns are all there.
func fromHeader(cols map[string]int) (*mapping, bool) {
	has := func(names []string) bool {
		for _, c := range names {
			if _, ok := cols[c]; !ok {
				return false
			}
		}
		return true
	}
	var best *mapping
	for _, m := range reports.list {
		if len(m.detect) > 0 && has(m.required) && has(m.detect) && (best == nil || len(m.detect) > len(best.detect)) {
			best = m
		}
	}
	if best != nil {
		return best, true
	}
	for _, m := range reports.list {
		if m.fallback && has(m.required) {
			return m, true
		}
	}
	return nil, false
}
