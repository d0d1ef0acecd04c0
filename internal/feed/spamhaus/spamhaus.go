// Package spamhaus parses the Spamhaus DROP family of blocklists into
// focal.Event values.
//
// The "spamhaus-drop" format reads DROP and EDROP (both lists share it),
// IPv4 and IPv6, in either of the two forms Spamhaus has published:
//
//   - the legacy text form, one "198.51.100.0/24 ; SBL123456" entry per
//     line, with lines starting with ';' as comments;
//   - the current NDJSON form, one {"cidr":"198.51.100.0/24",
//     "sblid":"SBL123456","rir":"ripencc"} object per line, ending with a
//     {"type":"metadata",...} line that describes the list and is not an
//     entry (it is skipped, neither an event nor a problem).
//
// The "spamhaus-asndrop" format reads ASN-DROP, again in both forms: the
// legacy "AS64500 ; US | EXAMPLE-AS" lines and the NDJSON
// {"asn":64500,"rir":"arin","domain":"example.net","cc":"US",
// "asname":"EXAMPLE-AS"} objects with their metadata line.
//
// Each line is parsed on its own, by its first character: '{' is NDJSON,
// anything else the legacy form, so both forms (and a mix) chunk cleanly.
//
// Classification: neither list says what a listed network did. DROP and
// EDROP hold netblocks "hijacked or leased by professional spam or
// cyber-crime operations", ASN-DROP the AS numbers of such operations:
// spam is only one of the reasons (malware hosting, bulletproof hosting
// and hijacked address space are others), so abusive-content/spam would
// mislabel many entries, and no other RSIT type fits a reputation listing
// with no stated cause. Events are therefore other/other ("does not fit
// another class") by default; a feed can name another class and type in
// Options (both or neither), e.g. abusive-content/spam for a deployment
// that treats DROP as a spam list.
//
// Events: a DROP entry follows the iplist convention, the network address
// in Source.IP and the prefix, masked, in Identifier as
// "cidr:198.51.100.0/24" (a /32 or /128 is the single address, with no
// Identifier). The SBL id stays in Raw. An ASN-DROP entry has no address:
// its event has Source.ASN (which makes the source non-empty, all that
// focal.Event.Validate asks, and which enrichment matches against the
// organisations' AS numbers), Source.Country from "cc" when it is a
// two-letter code, and Identifier "asn:64500". The AS's registered
// "domain" is not put in Source.FQDN: it is a contact domain, often a
// shared mail provider's, and would match the wrong organisation; it stays
// in Raw with the AS name. Neither list dates its entries (the NDJSON
// metadata line, last in the file, dates the list, but a chunk of the
// input cannot see it), so SourceTime, FirstSeen and LastSeen are the
// run's time.
//
// Contract (shared with the other parsers under internal/feed): the
// parsers never panic and never stop on a malformed line; such a line
// (bad prefix or AS number, bad JSON, a wrong field type, an unknown
// record type, a line over feed.MaxLine) is passed to the Report callback
// as a feed.Problem saying what is wrong and in which field, and parsing
// goes on. Each line yields at most one event or one problem. Every event
// has passed focal.Event.Validate before it reaches Emit; one that does
// not becomes a Problem. An error from Emit stops the run and is returned
// as is. The run fails as a whole only when the input cannot be read, the
// options are invalid, or a line shows that the input is not this list: an
// HTML page, or the other list (an AS number in DROP, a prefix in
// ASN-DROP). Feed, Provider, TLP and Confidence come from the feed.Feed;
// ObservedTime is the run's time; Count is 1; Raw is the line cut to
// focal.MaxRawLine bytes; DedupKey is "feed|prefix-or-address|class/type"
// or "feed|asn:N|class/type".
package spamhaus

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"focal/internal/feed"
	"focal/internal/focal"
)

// The format names.
const (
	FormatDROP    = "spamhaus-drop"
	FormatASNDROP = "spamhaus-asndrop"
)

// The classification of every event unless Options name another.
const (
	DefaultClass = "other"
	DefaultType  = "other"
)

// Options can override the classification: both Class and Type, or
// neither (other/other).
type Options struct {
	Class, Type string
}

// Classification returns the validated classification the options name.
func (o Options) Classification() (focal.Classification, error) {
	class, typ := strings.TrimSpace(o.Class), strings.TrimSpace(o.Type)
	if class == "" && typ == "" {
		return focal.Classification{Class: DefaultClass, Type: DefaultType}, nil
	}
	if class == "" || typ == "" {
		return focal.Classification{}, errors.New("options: set both class and type, or neither (other/other)")
	}
	c := focal.Classification{Class: class, Type: typ}
	if err := c.Validate(); err != nil {
		return focal.Classification{}, fmt.Errorf("options: %w", err)
	}
	return c, nil
}

// ParseDROP reads a DROP or EDROP list (legacy text or NDJSON) and emits
// one event per listed prefix.
func ParseDROP(r io.Reader, f feed.Feed, opt Options, now time.Time, emit feed.Emit, report feed.Report) (feed.Stats, error) {
	return parse(r, f, opt, now, emit, report, FormatDROP, dropText, dropJSON)
}

// ParseASNDROP reads an ASN-DROP list (legacy text or NDJSON) and emits
// one event per listed AS number.
func ParseASNDROP(r io.Reader, f feed.Feed, opt Options, now time.Time, emit feed.Emit, report feed.Report) (feed.Stats, error) {
	return parse(r, f, opt, now, emit, report, FormatASNDROP, asnText, asnJSON)
}

// entry is what one line lists: a prefix (or address) or an AS number
// with its country.
type entry struct {
	addr    netip.Addr
	prefix  netip.Prefix // valid for a prefix shorter than the address
	asn     uint32
	country string
}

// lineFunc maps one data line (trimmed) to an entry; skip is a line that
// is not an entry (the metadata record); a *formatError fails the run,
// any other error makes the line a problem.
type lineFunc func(s string) (e entry, skip bool, err error)

// formatError means the input is not the list the format reads.
type formatError struct{ msg string }

func (e *formatError) Error() string { return e.msg }

func parse(r io.Reader, f feed.Feed, opt Options, now time.Time, emit feed.Emit, report feed.Report, name string, text, js lineFunc) (feed.Stats, error) {
	var st feed.Stats
	c, err := opt.Classification()
	if err != nil {
		return st, fmt.Errorf("%s: %w", name, err)
	}
	if f.Name == "" {
		return st, fmt.Errorf("%s: feed name required", name)
	}
	if emit == nil {
		return st, fmt.Errorf("%s: emit func required", name)
	}
	problem := func(n int, line, reason string) {
		st.Problems++
		if report != nil {
			report(feed.Problem{Line: n, Reason: reason, Raw: feed.Cut(line, focal.MaxRawLine)})
		}
	}
	err = feed.Lines(r, func(n int, line string) error {
		st.Lines++
		s := strings.TrimSpace(strings.TrimPrefix(line, "\ufeff"))
		if s == "" || s[0] == ';' {
			return nil
		}
		if s[0] == '<' {
			return fmt.Errorf("%s: line %d: the input looks like HTML or XML, not a Spamhaus list: the feed format changed?", name, n)
		}
		parseLine := text
		if s[0] == '{' {
			parseLine = js
		}
		en, skip, err := parseLine(s)
		var fe *formatError
		switch {
		case errors.As(err, &fe):
			return fmt.Errorf("%s: line %d: %s", name, n, fe.msg)
		case err != nil:
			problem(n, line, err.Error())
			return nil
		case skip:
			return nil
		}
		e := event(en, f, c, now, line)
		if err := e.Validate(); err != nil {
			problem(n, line, "invalid event: "+err.Error())
			return nil
		}
		if err := emit(e); err != nil {
			return err
		}
		st.Events++
		return nil
	}, func(n int) {
		st.Lines++
		problem(n, "", fmt.Sprintf("line longer than %d bytes", feed.MaxLine))
	})
	return st, err
}

// event builds the event for one entry.
func event(en entry, f feed.Feed, c focal.Classification, now time.Time, line string) *focal.Event {
	e := &focal.Event{
		SourceTime:   now,
		ObservedTime: now,
		Class:        c.Class,
		Type:         c.Type,
		Feed:         f.Name,
		Provider:     f.Provider,
		TLP:          f.TLP,
		Confidence:   f.Confidence,
		Count:        1,
		FirstSeen:    now,
		LastSeen:     now,
		Raw:          feed.Cut(line, focal.MaxRawLine),
	}
	var key string
	switch {
	case en.asn != 0:
		e.Source = focal.Endpoint{ASN: en.asn, Country: en.country}
		e.Identifier = "asn:" + strconv.FormatUint(uint64(en.asn), 10)
		key = e.Identifier
	case en.prefix.IsValid():
		e.Source = focal.Endpoint{IP: en.addr}
		key = en.prefix.String()
		e.Identifier = "cidr:" + key
	default:
		e.Source = focal.Endpoint{IP: en.addr}
		key = en.addr.String()
	}
	e.DedupKey = f.Name + "|" + key + "|" + c.Class + "/" + c.Type
	return e
}

// splitComment splits a legacy line at its first ';' into the entry and
// the rest (the SBL id, or ASN-DROP's "CC | NAME"), both trimmed.
func splitComment(s string) (string, string) {
	head, rest, _ := strings.Cut(s, ";")
	return strings.TrimSpace(head), strings.TrimSpace(rest)
}

// dropText parses "198.51.100.0/24 ; SBL123456".
func dropText(s string) (entry, bool, error) {
	head, _ := splitComment(s)
	if _, ok := parseASN(head); ok && len(head) > 2 && strings.EqualFold(head[:2], "AS") {
		return entry{}, false, &formatError{fmt.Sprintf("%q is an AS number: this is ASN-DROP, read it with format %s", cut(head), FormatASNDROP)}
	}
	if strings.ContainsAny(head, " \t") {
		return entry{}, false, fmt.Errorf("want \"PREFIX ; SBLID\", got %q before the ';'", cut(head))
	}
	en, err := parsePrefix(head)
	return en, false, err
}

// dropRecord is one NDJSON line of DROP or EDROP. ASN is only read to
// recognise ASN-DROP data.
type dropRecord struct {
	CIDR  string          `json:"cidr"`
	SBLID string          `json:"sblid"`
	RIR   string          `json:"rir"`
	Type  string          `json:"type"`
	ASN   json.RawMessage `json:"asn"`
}

// dropJSON parses {"cidr":"198.51.100.0/24","sblid":"SBL123456","rir":"ripencc"}.
func dropJSON(s string) (entry, bool, error) {
	var rec dropRecord
	if err := unmarshal(s, &rec); err != nil {
		return entry{}, false, err
	}
	if skip, err := recordType(rec.Type); skip || err != nil {
		return entry{}, skip, err
	}
	cidr := strings.TrimSpace(rec.CIDR)
	if cidr == "" {
		if len(rec.ASN) > 0 && string(rec.ASN) != "null" {
			return entry{}, false, &formatError{"the record has \"asn\" and no \"cidr\": this is ASN-DROP, read it with format " + FormatASNDROP}
		}
		return entry{}, false, errors.New("cidr: missing or empty")
	}
	en, err := parsePrefix(cidr)
	if err != nil {
		return entry{}, false, fmt.Errorf("cidr: %w", err)
	}
	return en, false, nil
}

// asnText parses "AS64500 ; US | EXAMPLE-AS".
func asnText(s string) (entry, bool, error) {
	head, rest := splitComment(s)
	if strings.ContainsRune(head, '/') {
		if _, err := netip.ParsePrefix(head); err == nil {
			return entry{}, false, &formatError{fmt.Sprintf("%q is a network prefix: this is DROP or EDROP, read it with format %s", cut(head), FormatDROP)}
		}
	}
	asn, ok := parseASN(head)
	if !ok {
		return entry{}, false, fmt.Errorf("want \"ASN ; CC | NAME\" with an AS number from 1 to 4294967295, got %q before the ';'", cut(head))
	}
	cc, _, _ := strings.Cut(rest, "|")
	return entry{asn: asn, country: country(cc)}, false, nil
}

// asnRecord is one NDJSON line of ASN-DROP. CIDR is only read to
// recognise DROP data.
type asnRecord struct {
	ASN    json.RawMessage `json:"asn"`
	RIR    string          `json:"rir"`
	Domain string          `json:"domain"`
	CC     string          `json:"cc"`
	ASName string          `json:"asname"`
	Type   string          `json:"type"`
	CIDR   string          `json:"cidr"`
}

// asnJSON parses {"asn":64500,"rir":"arin","domain":"example.net","cc":"US","asname":"EXAMPLE-AS"}.
func asnJSON(s string) (entry, bool, error) {
	var rec asnRecord
	if err := unmarshal(s, &rec); err != nil {
		return entry{}, false, err
	}
	if skip, err := recordType(rec.Type); skip || err != nil {
		return entry{}, skip, err
	}
	raw := strings.TrimSpace(string(rec.ASN))
	if raw == "" || raw == "null" {
		if strings.TrimSpace(rec.CIDR) != "" {
			return entry{}, false, &formatError{"the record has \"cidr\" and no \"asn\": this is DROP or EDROP, read it with format " + FormatDROP}
		}
		return entry{}, false, errors.New("asn: missing")
	}
	if raw[0] == '"' {
		var str string
		if err := json.Unmarshal(rec.ASN, &str); err != nil {
			return entry{}, false, errors.New("asn: bad JSON string")
		}
		raw = strings.TrimSpace(str)
	}
	asn, ok := parseASN(raw)
	if !ok {
		return entry{}, false, fmt.Errorf("asn: want an AS number from 1 to 4294967295, got %s", cut(string(rec.ASN)))
	}
	return entry{asn: asn, country: country(rec.CC)}, false, nil
}

// unmarshal decodes one NDJSON line, naming the field a type error is in.
func unmarshal(s string, v any) error {
	err := json.Unmarshal([]byte(s), v)
	if err == nil {
		return nil
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		if te.Field == "" {
			return fmt.Errorf("want a JSON object, got a JSON %s", te.Value)
		}
		return fmt.Errorf("%s: want a %s, got a JSON %s", te.Field, te.Type, te.Value)
	}
	return fmt.Errorf("bad JSON: %v", err)
}

// recordType returns skip for the metadata record, and an error for a
// record of another type; an entry has no type.
func recordType(t string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(t)) {
	case "":
		return false, nil
	case "metadata":
		return true, nil
	}
	return false, fmt.Errorf("type: unknown record type %q (only \"metadata\" records have a type)", cut(t))
}

// parsePrefix parses a CIDR prefix or a single address. A prefix is
// masked; a full-length prefix is its address; IPv4-mapped IPv6 is
// unmapped.
func parsePrefix(s string) (entry, error) {
	if !strings.Contains(s, "/") {
		a, err := netip.ParseAddr(s)
		if err != nil || a.Zone() != "" {
			return entry{}, fmt.Errorf("not a CIDR prefix or IP address: %q", cut(s))
		}
		return entry{addr: a.Unmap()}, nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return entry{}, fmt.Errorf("not a CIDR prefix: %q", cut(s))
	}
	a, bits := p.Addr(), p.Bits()
	if a.Is4In6() {
		if bits < 96 {
			return entry{}, fmt.Errorf("IPv4-mapped prefix %q is shorter than /96", cut(s))
		}
		a, bits = a.Unmap(), bits-96
	}
	p = netip.PrefixFrom(a, bits).Masked()
	if bits == a.BitLen() {
		return entry{addr: p.Addr()}, nil
	}
	return entry{addr: p.Addr(), prefix: p}, nil
}

// parseASN parses "AS64500", "as64500" or "64500"; 0 is not an AS number.
func parseASN(s string) (uint32, bool) {
	if len(s) > 2 && strings.EqualFold(s[:2], "AS") {
		s = s[2:]
	}
	if s == "" || s[0] < '0' || s[0] > '9' {
		return 0, false
	}
	v, err := strconv.ParseUint(s, 10, 32)
	if err != nil || v == 0 {
		return 0, false
	}
	return uint32(v), true
}

// country returns cc as an upper-case two-letter code, or "" when it is
// not one (the entry is kept without a country).
func country(cc string) string {
	c := strings.ToUpper(strings.TrimSpace(cc))
	if len(c) != 2 || c[0] < 'A' || c[0] > 'Z' || c[1] < 'A' || c[1] > 'Z' {
		return ""
	}
	return c
}

// cut bounds a value quoted in a reason.
func cut(s string) string { return feed.Cut(s, 64) }
