// Package iodef writes and reads incident reports in the Incident Object
// Description Exchange Format version 2 (IODEF, RFC 7970, also ITU-T
// X.1541), the XML format CSIRTs use to exchange incidents and indicators.
//
// Encode writes one IODEF-Document (namespace
// urn:ietf:params:xml:ns:iodef-2.0, version "2.00") holding one Incident
// built from a focal incident, its observables and its journal. Elements are
// written in the order of the RFC 7970 schema, every text and attribute is
// escaped by encoding/xml, and times are RFC 3339 in UTC. Encode does not
// change its arguments. Decode reads an IODEF v2 document into this
// package's types, which model the classes focal writes and the common ones
// a peer sends (other elements are skipped). It refuses input over 10 MiB,
// elements nested deeper than 64 and DTDs, and reports malformed input as a
// *DecodeError with the byte offset and element.
//
// # Mapping decisions
//
// IncidentID is the incident's Ref (or its numeric ID), named by Team.Name;
// RFC 7970 wants the CSIRT's domain name there, e.g. "cert.example".
// Incident@purpose is Options.Purpose, "reporting" by default.
//
// TLP 2.0 → restriction (see Restriction): CLEAR → white, GREEN → green,
// AMBER → amber, AMBER+STRICT → ext-value with ext-restriction
// "amber+strict" (RFC 7970 has no such value), RED → red; an unlabelled
// incident is AMBER, as elsewhere in focal, and an unknown label becomes red
// (fail closed). An observable's or journal entry's own label is written on
// its Indicator or HistoryItem.
//
// Status → Incident@status: new and triaged → new; in_progress and waiting
// → in-progress; resolved and closed → resolved; rejected and merged →
// ext-value with ext-status "rejected" or "merged".
//
// RSIT: each classification becomes the MISP machine tag
// rsit:<class>="<type>" (rsit:<class> without a type) and is written three
// times: as Assessment/IncidentCategory (RFC 7970's field for an incident's
// category), as Method/Reference with the tag as Description and the
// taxonomy's URL, and as AdditionalData dtype="string" meaning="rsit". It is
// not written as enum:ReferenceName: that element (RFC 7495) names an
// IANA-registered enumeration by specIndex, and RSIT is not registered.
// Severity becomes Assessment/SystemImpact@severity (low, medium, high;
// critical → high, as IODEF has no higher level) with type "unknown"; PAP
// becomes AdditionalData meaning="pap".
//
// Observables become IndicatorData/Indicator, one each, with an
// IndicatorID "obs-<ref>-<n>" and one Observable: ipv4, ipv6, cidr, asn,
// url and email as System/Node/Address with category ipv4-addr, ipv6-addr,
// ipv4-net or ipv6-net, asn (the number alone), site-uri and e-mail; domain
// as System/Node/DomainData/Name (system-status and domain-status
// "unknown"); md5, sha1 and sha256 as FileData/File/HashData
// scope="file-contents"/Hash with ds:DigestMethod (RFC 6931 algorithm URI)
// and ds:DigestValue (base64 of the digest bytes); filename as
// FileData/File/FileName; any other kind as AdditionalData with the kind as
// meaning.
//
// Journal → History/HistoryItem: notes have action "investigate", all other
// entries "other" (RFC 7970's action for one the Description explains); the
// focal kind is kept in AdditionalData meaning="journal-kind". Audit entries
// of kind "view" are left out.
//
// Contacts and personal data: the team is Contact role="irt"
// type="organization" with ContactName and Email/EmailTo (type hotline).
// Only when Options.IncludePersonal is set are the reporter (Contact
// role="reporter" restriction="private", type person, or organization with
// the person nested), journal authors and the bodies of e-mail journal
// entries written. Otherwise the reporter's e-mail address, name and phone
// number are replaced by "[redacted]" wherever they appear in free text and
// observables, and an e-mail observable equal to the reporter's address is
// left out.
package iodef

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"focal/internal/focal"
)

// RSITURL is the home of the Reference Security Incident Taxonomy, written
// as Method/Reference/URL next to each classification.
const RSITURL = "https://github.com/enisaeu/Reference-Security-Incident-Taxonomy-Task-Force"

// Team identifies the issuing CSIRT.
type Team struct {
	// Name names the CSIRT in IncidentID@name, IndicatorID@name and the
	// team's ContactName. RFC 7970 wants the fully qualified domain name
	// associated with the CSIRT, e.g. "cert.example". Required.
	Name string
	// Email is the team's address, written as the team Contact's EmailTo.
	Email string
	// Lang is the language of the text, an RFC 5646 tag; default "en".
	Lang string
}

// Options tune Encode.
type Options struct {
	// IncludePersonal writes the reporter, journal authors and e-mail
	// bodies; without it they are left out and the reporter is redacted.
	IncludePersonal bool
	// Now returns the GenerationTime; default time.Now.
	Now func() time.Time
	// Purpose is Incident@purpose: traceback, mitigation, reporting, watch
	// or other; default "reporting".
	Purpose string
}

// Purposes lists the values of Incident@purpose Encode accepts.
var Purposes = []string{"traceback", "mitigation", "reporting", "watch", "other"}

// Restriction returns the IODEF restriction (and ext-restriction) for a TLP
// label: white, green, amber, ext-value with "amber+strict", or red. An
// unlabelled TLP is AMBER; an unknown label is red.
func Restriction(t focal.TLP) (restriction, ext string) {
	switch t {
	case focal.TLPClear:
		return "white", ""
	case focal.TLPGreen:
		return "green", ""
	case focal.TLPAmber, "":
		return "amber", ""
	case focal.TLPAmberStrict:
		return "ext-value", "amber+strict"
	default:
		return "red", ""
	}
}

// TLPOf returns the TLP label for an IODEF restriction, the reverse of
// Restriction: white and public → CLEAR, green and partner → GREEN, amber
// and need-to-know → AMBER, ext-value with ext "amber+strict" → AMBER+STRICT,
// red and private → RED. It returns "" for "default", an empty restriction
// and values it does not know.
func TLPOf(restriction, ext string) focal.TLP {
	switch strings.ToLower(strings.TrimSpace(restriction)) {
	case "white", "public":
		return focal.TLPClear
	case "green", "partner":
		return focal.TLPGreen
	case "amber", "need-to-know":
		return focal.TLPAmber
	case "red", "private":
		return focal.TLPRed
	case "ext-value":
		if strings.EqualFold(strings.TrimSpace(ext), "amber+strict") {
			return focal.TLPAmberStrict
		}
	}
	return ""
}

// incidentStatus returns Incident@status (and ext-status) for a status;
// "" for an empty or unknown one.
func incidentStatus(s focal.Status) (status, ext string) {
	switch s {
	case focal.StatusNew, focal.StatusTriaged:
		return "new", ""
	case focal.StatusInProgress, focal.StatusWaiting:
		return "in-progress", ""
	case focal.StatusResolved, focal.StatusClosed:
		return "resolved", ""
	case focal.StatusRejected, focal.StatusMerged:
		return "ext-value", string(s)
	}
	return "", ""
}

// impactSeverity returns SystemImpact@severity for a severity, "" if unknown.
func impactSeverity(s focal.Severity) string {
	switch s {
	case focal.SeverityLow:
		return "low"
	case focal.SeverityMedium:
		return "medium"
	case focal.SeverityHigh, focal.SeverityCritical:
		return "high"
	}
	return ""
}

// MachineTag renders a classification as an RSIT machine tag,
// rsit:<class>="<type>", or rsit:<class> when it has no type.
func MachineTag(c focal.Classification) string {
	if c.Type == "" {
		return "rsit:" + c.Class
	}
	return "rsit:" + c.Class + "=" + strconv.Quote(c.Type)
}

// ParseMachineTag parses an RSIT machine tag written by MachineTag.
func ParseMachineTag(tag string) (focal.Classification, bool) {
	rest, ok := strings.CutPrefix(strings.TrimSpace(tag), "rsit:")
	if !ok || rest == "" {
		return focal.Classification{}, false
	}
	class, typ, hasType := strings.Cut(rest, "=")
	if hasType {
		t, err := strconv.Unquote(typ)
		if err != nil {
			return focal.Classification{}, false
		}
		typ = t
	}
	if class == "" || (hasType && typ == "") {
		return focal.Classification{}, false
	}
	return focal.Classification{Class: class, Type: typ}, true
}

// Encode writes one IODEF v2 document for the incident (with its
// observables and journal) to w. It fails if the team has no name, the
// incident has neither Ref nor ID, the purpose is unknown or a hash
// observable is not hex of the right length; nothing is written then.
func Encode(w io.Writer, team Team, i *focal.Incident, obs []focal.Observable, journal []focal.JournalEntry, opt Options) error {
	doc, err := build(team, i, obs, journal, opt)
	if err != nil {
		return err
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return fmt.Errorf("iodef: write: %w", err)
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("iodef: encode: %w", err)
	}
	if err := enc.Close(); err != nil {
		return fmt.Errorf("iodef: encode: %w", err)
	}
	if _, err := io.WriteString(w, "\n"); err != nil {
		return fmt.Errorf("iodef: write: %w", err)
	}
	return nil
}

// build maps the incident to a Document.
func build(team Team, i *focal.Incident, obs []focal.Observable, journal []focal.JournalEntry, opt Options) (*Document, error) {
	if i == nil {
		return nil, errors.New("iodef: no incident")
	}
	teamName := strings.TrimSpace(team.Name)
	if teamName == "" {
		return nil, errors.New("iodef: the team has no name (want its domain name, e.g. cert.example)")
	}
	ref := strings.TrimSpace(i.Ref)
	if ref == "" && i.ID != 0 {
		ref = strconv.FormatInt(i.ID, 10)
	}
	if ref == "" {
		return nil, errors.New("iodef: the incident has neither a reference nor an ID")
	}
	purpose := opt.Purpose
	if purpose == "" {
		purpose = "reporting"
	}
	if !contains(Purposes, purpose) {
		return nil, fmt.Errorf("iodef: unknown purpose %q: want one of %s", purpose, strings.Join(Purposes, ", "))
	}
	lang := strings.TrimSpace(team.Lang)
	if lang == "" {
		lang = "en"
	}
	now := time.Now
	if opt.Now != nil {
		now = opt.Now
	}
	clean := func(s string) string { return s }
	if !opt.IncludePersonal {
		clean = redactor(i.Reporter)
	}

	inc := Incident{
		Purpose:        purpose,
		Lang:           lang,
		IncidentID:     IncidentID{Value: ref, Name: teamName},
		GenerationTime: DateTime{now().UTC()},
	}
	inc.Status, inc.ExtStatus = incidentStatus(i.Status)
	inc.Restriction, inc.ExtRestriction = Restriction(i.TLP)
	reported := i.Milestones.Reported
	if reported.IsZero() {
		reported = i.CreatedAt
	}
	inc.ReportTime = at(reported)
	for _, s := range []string{i.Title, i.Description} {
		if s = strings.TrimSpace(s); s != "" {
			inc.Description = append(inc.Description, MLString{Value: clean(s)})
		}
	}

	if sev := impactSeverity(i.Severity); sev != "" || len(i.Classifications) > 0 {
		a := Assessment{SystemImpact: []SystemImpact{{Severity: sev, Type: "unknown"}}}
		for _, c := range i.Classifications {
			a.IncidentCategory = append(a.IncidentCategory, MLString{Value: MachineTag(c)})
		}
		inc.Assessment = []Assessment{a}
	}
	if len(i.Classifications) > 0 {
		var m Method
		for _, c := range i.Classifications {
			m.Reference = append(m.Reference, Reference{
				URL:         []string{RSITURL},
				Description: []MLString{{Value: MachineTag(c)}},
			})
		}
		inc.Method = []Method{m}
	}

	teamContact := Contact{Role: "irt", Type: "organization", ContactName: []MLString{{Value: teamName}}}
	if e := strings.TrimSpace(team.Email); e != "" {
		teamContact.Email = []Email{{Type: "hotline", EmailTo: e}}
	}
	inc.Contact = []Contact{teamContact}
	if opt.IncludePersonal {
		if c, ok := reporterContact(i.Reporter); ok {
			inc.Contact = append(inc.Contact, c)
		}
	}

	ind, err := indicators(obs, ref, teamName, i.Reporter, opt.IncludePersonal, clean)
	if err != nil {
		return nil, err
	}
	if len(ind) > 0 {
		inc.IndicatorData = &IndicatorData{Indicator: ind}
	}
	if items := history(journal, opt.IncludePersonal, clean); len(items) > 0 {
		inc.History = &History{HistoryItem: items}
	}

	for _, c := range i.Classifications {
		inc.AdditionalData = append(inc.AdditionalData, ExtensionType{DType: "string", Meaning: "rsit", Value: MachineTag(c)})
	}
	if i.PAP != "" {
		inc.AdditionalData = append(inc.AdditionalData, ExtensionType{DType: "string", Meaning: "pap", Value: "PAP:" + string(i.PAP)})
	}

	return &Document{Version: Version, Lang: lang, Incidents: []Incident{inc}}, nil
}

// reporterContact returns the reporter as a Contact: a person, or an
// organization with the person nested in it. ok is false when the reporter
// is empty.
func reporterContact(r focal.Reporter) (Contact, bool) {
	name, email, phone, org := strings.TrimSpace(r.Name), strings.TrimSpace(r.Email), strings.TrimSpace(r.Phone), strings.TrimSpace(r.Organisation)
	person := Contact{Role: "reporter", Type: "person"}
	if name != "" {
		person.ContactName = []MLString{{Value: name}}
	}
	if email != "" {
		person.Email = []Email{{Type: "direct", EmailTo: email}}
	}
	if phone != "" {
		person.Telephone = []Telephone{{TelephoneNumber: phone}}
	}
	hasPerson := name != "" || email != "" || phone != ""
	switch {
	case org != "":
		c := Contact{Role: "reporter", Type: "organization", Restriction: "private", ContactName: []MLString{{Value: org}}}
		if hasPerson {
			c.Contact = []Contact{person}
		}
		return c, true
	case hasPerson:
		person.Restriction = "private"
		return person, true
	}
	return Contact{}, false
}

// indicators maps the observables to Indicators.
func indicators(obs []focal.Observable, ref, team string, rep focal.Reporter, personal bool, clean func(string) string) ([]Indicator, error) {
	repEmail := strings.TrimSpace(rep.Email)
	var out []Indicator
	for n, o := range obs {
		kind := strings.ToLower(strings.TrimSpace(o.Kind))
		value := strings.TrimSpace(o.Value)
		if value == "" {
			continue
		}
		if !personal && kind == "email" && repEmail != "" && strings.EqualFold(value, repEmail) {
			continue
		}
		ob, err := observable(kind, value, clean)
		if err != nil {
			return nil, fmt.Errorf("iodef: observable %d (%s %q): %w", n+1, o.Kind, o.Value, err)
		}
		ind := Indicator{
			IndicatorID: IndicatorID{Value: xmlID("obs-" + ref + "-" + strconv.Itoa(n+1)), Name: team, Version: "1"},
			Observable:  ob,
		}
		if o.TLP != "" {
			ind.Restriction, ind.ExtRestriction = Restriction(o.TLP)
		}
		out = append(out, ind)
	}
	return out, nil
}

// observable maps one observable of the given (lower-case) kind.
func observable(kind, value string, clean func(string) string) (*Observable, error) {
	node := func(n Node) *Observable { return &Observable{System: &System{Node: n}} }
	addr := func(category, v string) *Observable {
		return node(Node{Address: []Address{{Category: category, Value: v}}})
	}
	switch kind {
	case "ipv4":
		return addr("ipv4-addr", value), nil
	case "ipv6":
		return addr("ipv6-addr", value), nil
	case "cidr":
		v6 := strings.Contains(value, ":")
		if p, err := netip.ParsePrefix(value); err == nil {
			v6 = !p.Addr().Is4()
		}
		if v6 {
			return addr("ipv6-net", value), nil
		}
		return addr("ipv4-net", value), nil
	case "asn":
		v := value
		if len(v) > 2 && strings.EqualFold(v[:2], "AS") {
			v = v[2:]
		}
		return addr("asn", v), nil
	case "url":
		return addr("site-uri", clean(value)), nil
	case "email":
		return addr("e-mail", clean(value)), nil
	case "domain":
		return node(Node{DomainData: []DomainData{{SystemStatus: "unknown", DomainStatus: "unknown", Name: value}}}), nil
	case "md5", "sha1", "sha256":
		alg, size := hashAlg(kind)
		b, err := hex.DecodeString(value)
		if err != nil || len(b) != size {
			return nil, fmt.Errorf("want %d hexadecimal digits", 2*size)
		}
		h := Hash{DigestMethod: DigestMethod{Algorithm: alg}, DigestValue: base64.StdEncoding.EncodeToString(b)}
		return &Observable{FileData: &FileData{File: []File{{HashData: &HashData{Scope: "file-contents", Hash: []Hash{h}}}}}}, nil
	case "filename":
		return &Observable{FileData: &FileData{File: []File{{FileName: clean(value)}}}}, nil
	}
	meaning := kind
	if meaning == "" {
		meaning = "observable"
	}
	return &Observable{AdditionalData: []ExtensionType{{DType: "string", Meaning: meaning, Value: clean(value)}}}, nil
}

// hashAlg returns the digest algorithm URI and digest size of a hash kind.
func hashAlg(kind string) (string, int) {
	switch kind {
	case "md5":
		return AlgMD5, 16
	case "sha1":
		return AlgSHA1, 20
	}
	return AlgSHA256, 32
}

// history maps the journal to HistoryItems, leaving out view entries.
func history(journal []focal.JournalEntry, personal bool, clean func(string) string) []HistoryItem {
	var out []HistoryItem
	for _, e := range journal {
		if e.Kind == "view" {
			continue
		}
		item := HistoryItem{Action: "other", DateTime: DateTime{e.At.UTC()}}
		if e.Kind == "note" {
			item.Action = "investigate"
		}
		if e.TLP != "" {
			item.Restriction, item.ExtRestriction = Restriction(e.TLP)
		}
		if personal && strings.TrimSpace(e.Author) != "" {
			item.Contact = &Contact{Role: "irt", Type: "person", ContactName: []MLString{{Value: strings.TrimSpace(e.Author)}}}
		}
		body := strings.TrimSpace(e.Body)
		switch {
		case !personal && (e.Kind == "email_in" || e.Kind == "email_out"):
			body = "E-mail " + map[string]string{"email_in": "received", "email_out": "sent"}[e.Kind] + " (content withheld: personal data)."
		case !personal:
			body = clean(body)
		}
		if body != "" {
			item.Description = []MLString{{Value: body}}
		}
		if e.Kind != "" {
			item.AdditionalData = []ExtensionType{{DType: "string", Meaning: "journal-kind", Value: e.Kind}}
		}
		out = append(out, item)
	}
	return out
}

// xmlID turns s into an xs:ID (an NCName): characters other than ASCII
// letters, digits, '.', '-' and '_' become '_', and it starts with a letter
// or '_'.
func xmlID(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_') {
			b[i] = '_'
		}
	}
	if len(b) == 0 || !(b[0] >= 'a' && b[0] <= 'z' || b[0] >= 'A' && b[0] <= 'Z' || b[0] == '_') {
		b = append([]byte("_"), b...)
	}
	return string(b)
}

// redactor returns a function that replaces the reporter's e-mail address,
// name and phone number in a text by "[redacted]". Matches ignore case and
// must not be part of a longer word or address.
func redactor(r focal.Reporter) func(string) string {
	var needles []string
	for _, s := range []string{r.Email, r.Name, r.Phone} {
		if s = strings.TrimSpace(s); utf8.RuneCountInString(s) >= 3 {
			needles = append(needles, s)
		}
	}
	return func(s string) string {
		for _, n := range needles {
			s = replaceWord(s, n, "[redacted]")
		}
		return s
	}
}

// replaceWord replaces, ignoring case, each occurrence of needle in s that is
// not preceded or followed by a word character.
func replaceWord(s, needle, with string) string {
	var b strings.Builder
	last := 0
	for i := 0; i+len(needle) <= len(s); {
		if strings.EqualFold(s[i:i+len(needle)], needle) && !wordBefore(s, i) && !wordAfter(s, i+len(needle)) {
			b.WriteString(s[last:i])
			b.WriteString(with)
			i += len(needle)
			last = i
			continue
		}
		i++
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

// wordBefore reports whether the text before s[i] continues a word, name,
// number or address ('.' and '-' only between two such characters).
func wordBefore(s string, i int) bool {
	r, n := utf8.DecodeLastRuneInString(s[:i])
	if r == '.' || r == '-' {
		r, _ = utf8.DecodeLastRuneInString(s[:i-n])
	}
	return isWord(r)
}

// wordAfter reports whether the text from s[i] continues a word, name,
// number or address ('.' and '-' only between two such characters).
func wordAfter(s string, i int) bool {
	r, n := utf8.DecodeRuneInString(s[i:])
	if r == '.' || r == '-' {
		r, _ = utf8.DecodeRuneInString(s[i+n:])
	}
	return isWord(r)
}

// isWord reports whether r is part of a word, name, number or address.
func isWord(r rune) bool {
	return r != utf8.RuneError && (r == '_' || r == '+' || r == '@' || unicode.IsLetter(r) || unicode.IsDigit(r))
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
