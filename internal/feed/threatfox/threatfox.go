// Package threatfox parses abuse.ch ThreatFox IOC exports into
// focal.Event values (format "threatfox-json").
//
// Three document shapes are read, all streamed one IOC at a time so that
// memory stays bounded whatever the size of the export:
//
//   - the full and recent JSON exports: an object keyed by ThreatFox id,
//     each value an array of IOC objects with ioc_value, ioc_type,
//     threat_type, malware, malware_printable, malware_alias,
//     first_seen_utc, last_seen_utc, confidence_level, reference, tags,
//     anonymous and reporter. The id is added to each IOC as "id", so the
//     record (and the event's Raw) keeps it;
//   - the API's answer, {"query_status":"ok","data":[...]}, whose IOCs
//     carry their own "id" and name some fields differently (ioc,
//     first_seen, last_seen, tags as an array); both spellings are read.
//     A query_status other than "ok" or "no_result" fails the run;
//   - a plain JSON array of IOC objects.
//
// Split cuts the document into records, one compact JSON object per IOC
// with the line it starts on; Record maps a record to its event. Only the
// fields used are decoded, so tags, reference and the like may take any
// form.
//
// Mapping. threat_type gives the RSIT classification: botnet_cc is
// malicious-code/c2-server; payload_delivery and payload are
// malicious-code/malware-distribution, and so is cc_skimming (the IOC
// serves the skimming script to shoppers' browsers); any other threat
// type is other/undetermined. The IOC is the Destination (the C2 server,
// the distribution site): an ip:port IOC sets its IP and port, a domain
// its FQDN, a url its URL and, when the host is an address or a valid
// domain name, its IP or FQDN and the explicit port. Identifier is the
// threat type, so the specific name survives the generic mapping. Malware
// is the Malpedia name without its platform prefix ("win.qakbot" is
// "qakbot"), else malware_printable in lower case, and empty for unknown
// malware. SourceTime and FirstSeen are first_seen_utc; LastSeen is
// last_seen_utc when later. confidence_level is not used: Confidence is
// the feed's, like every parser's.
//
// File hashes (md5_hash, sha1_hash, sha256_hash, sha3_384_hash IOCs) have
// no address, domain or URL, and focal.Event.Validate wants a source or a
// destination. Such an event carries the hash in Identifier as
// "sha256:<hex>" (md5, sha1, sha256 or sha3-384) and, as the destination,
// the URN "urn:sha256:<hex>" in Destination.URL, the convention the SSLBL
// certificate list uses too. A URN has no host, so enrichment matches the
// event to no organisation; it keeps the hash, its family and dates
// searchable. A feed that does not want them sets the option hashes=skip:
// hash IOCs are then left out, counted as records but neither events nor
// problems. (ThreatFox also publishes exports per IOC type; the ip:port,
// domain and url exports hold no hashes.)
//
// Contract (shared with the other parsers under internal/feed): the
// parser never panics. A record that cannot be used (not an object, a
// missing or empty ioc_value, threat_type or first seen time, a bad time,
// address, port, domain, URL or hash, an unsupported ioc_type, a field of
// the wrong JSON type, an event that fails focal.Event.Validate, a record
// over feed.MaxRecord bytes, a value in the export that is not an array)
// is reported as a feed.Problem with the line it starts on, and the run
// goes on. The run fails as a whole only when the input cannot be read or
// is not a ThreatFox document (not an object or an array; an object whose
// first value is not an array of IOCs; an API error status), or when the
// JSON is broken so that decoding cannot go on. Feed, Provider, TLP and
// Confidence come from the run's feed.Feed; ObservedTime is the run's
// time; Count is 1; Raw is the record cut to focal.MaxRawLine bytes;
// DedupKey is "feed|indicator|class/type", the indicator being ip:port,
// the domain, the URL or "algorithm:hex".
package threatfox

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"

	"focal/internal/feed"
	"focal/internal/focal"
)

// Format is the format's name.
const Format = "threatfox-json"

// The option that says what to do with file hash IOCs, and its values.
const (
	OptionHashes = "hashes"
	HashesEmit   = "emit" // the default: an event with a urn: destination
	HashesSkip   = "skip" // leave hash IOCs out
)

// MaxURL bounds a URL IOC; a longer one is a problem.
const MaxURL = 8 << 10

// CheckOptions validates the format's options.
func CheckOptions(o feed.Options) error {
	switch v := o.Get(OptionHashes, HashesEmit); v {
	case HashesEmit, HashesSkip:
		return nil
	default:
		return fmt.Errorf("option %s: want %s or %s, got %q", OptionHashes, HashesEmit, HashesSkip, v)
	}
}

// Split streams a ThreatFox export, API answer or array into records, one
// compact IOC object each, with the line it starts on.
func Split(r io.Reader, _ feed.Run, emit func(line int, record []byte) error, report feed.Report) error {
	br := bufio.NewReader(r)
	if bom, err := br.Peek(3); err == nil && string(bom) == "\xef\xbb\xbf" {
		br.Discard(3) //nolint:errcheck // peeked
	}
	lc := &feed.LineCounter{R: br}
	dec := json.NewDecoder(lc)
	dec.UseNumber()
	s := &splitter{lc: lc, dec: dec, emit: emit, report: report}
	tok, err := dec.Token()
	if errors.Is(err, io.EOF) {
		return fmt.Errorf("%s: empty input, want a ThreatFox JSON export", Format)
	}
	if err != nil {
		return s.fail(err)
	}
	switch tok {
	case json.Delim('['):
		err = s.array("")
	case json.Delim('{'):
		err = s.object()
	default:
		return fmt.Errorf("%s: top-level value is %s, want a ThreatFox export (an object of arrays), an API answer or an array: the feed format changed?",
			Format, feed.DescribeToken(tok))
	}
	if err != nil {
		return err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return fmt.Errorf("%s: line %d: data after the document", Format, s.line())
	}
	return nil
}

type splitter struct {
	lc     *feed.LineCounter
	dec    *json.Decoder
	emit   func(int, []byte) error
	report feed.Report
}

// line is the input line the decoder has reached.
func (s *splitter) line() int { return s.lc.LineAt(s.dec.InputOffset()) }

// fail wraps a decoding error with the line, for a run that cannot go on.
func (s *splitter) fail(err error) error {
	if errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return fmt.Errorf("%s: line %d: %w", Format, s.line(), err)
}

func (s *splitter) problem(line int, reason string, raw []byte) {
	if s.report != nil {
		s.report(feed.Problem{Line: line, Reason: reason, Raw: feed.Cut(string(raw), focal.MaxRawLine)})
	}
}

// object reads the rest of a top-level object: an API answer when its
// first key is query_status or data, else an export keyed by id.
func (s *splitter) object() error {
	api := false
	status, message := "", ""
	for i := 0; s.dec.More(); i++ {
		tok, err := s.dec.Token()
		if err != nil {
			return s.fail(err)
		}
		key, _ := tok.(string)
		if i == 0 {
			api = key == "query_status" || key == "data"
		}
		if !api {
			if err := s.exportValue(i, key); err != nil {
				return err
			}
			continue
		}
		switch key {
		case "query_status":
			tok, err := s.dec.Token()
			if err != nil {
				return s.fail(err)
			}
			v, ok := tok.(string)
			if !ok {
				return fmt.Errorf("%s: line %d: query_status is %s, want a string: the feed format changed?", Format, s.line(), feed.DescribeToken(tok))
			}
			status = v
		case "data":
			tok, err := s.dec.Token()
			if err != nil {
				return s.fail(err)
			}
			switch v := tok.(type) {
			case json.Delim:
				if v != '[' {
					return fmt.Errorf("%s: line %d: data is %s, want an array of IOCs: the feed format changed?", Format, s.line(), feed.DescribeToken(tok))
				}
				if err := s.array(""); err != nil {
					return err
				}
			case string:
				message = v
			}
		default:
			if err := s.skip(); err != nil {
				return err
			}
		}
	}
	if _, err := s.dec.Token(); err != nil {
		return s.fail(err)
	}
	if api && status != "ok" && status != "no_result" {
		if message != "" {
			message = ": " + feed.Cut(message, 200)
		}
		return fmt.Errorf("%s: the ThreatFox API answered query_status %q%s", Format, feed.Cut(status, 100), message)
	}
	return nil
}

// exportValue reads the value of the export's i-th key, id: an array of
// IOCs. The first value decides the format; a later value of another kind
// is a problem, skipped.
func (s *splitter) exportValue(i int, id string) error {
	tok, err := s.dec.Token()
	if err != nil {
		return s.fail(err)
	}
	if d, ok := tok.(json.Delim); ok && d == '[' {
		return s.array(id)
	}
	if i == 0 {
		return fmt.Errorf("%s: line %d: the value of %q is %s, want an array of IOCs: the feed format changed?", Format, s.line(), feed.Cut(id, 64), feed.DescribeToken(tok))
	}
	s.problem(s.line(), fmt.Sprintf("id %q: value is %s, want an array of IOCs, skipped", feed.Cut(id, 64), feed.DescribeToken(tok)), nil)
	if d, ok := tok.(json.Delim); ok && d == '{' {
		return s.skipRest()
	}
	return nil
}

// array emits the elements of an array whose '[' was read, adding "id"
// to each object when id is set, and reads the ']'.
func (s *splitter) array(id string) error {
	var idField []byte // `"id":"…"`
	if id != "" {
		q, _ := json.Marshal(id)
		idField = append([]byte(`"id":`), q...)
	}
	for s.dec.More() {
		before := s.dec.InputOffset()
		var raw json.RawMessage
		if err := s.dec.Decode(&raw); err != nil {
			var se *json.SyntaxError
			if errors.As(err, &se) {
				return fmt.Errorf("%s: line %d: %w", Format, s.lc.LineAt(before+se.Offset), err)
			}
			return s.fail(err)
		}
		line := s.line() - bytes.Count(raw, []byte{'\n'})
		if len(raw) > feed.MaxRecord {
			s.problem(line, fmt.Sprintf("IOC over %d bytes, skipped", feed.MaxRecord), raw)
			continue
		}
		var rec bytes.Buffer
		if err := json.Compact(&rec, raw); err != nil {
			s.problem(line, "bad JSON: "+err.Error(), raw)
			continue
		}
		b := rec.Bytes()
		if idField != nil && len(b) >= 2 && b[0] == '{' {
			withID := make([]byte, 0, len(b)+len(idField)+1)
			withID = append(append(withID, '{'), idField...)
			if b[1] != '}' {
				withID = append(withID, ',')
			}
			b = append(withID, b[1:]...)
			if len(b) > feed.MaxRecord {
				s.problem(line, fmt.Sprintf("IOC over %d bytes, skipped", feed.MaxRecord), raw)
				continue
			}
		}
		if err := s.emit(line, b); err != nil {
			return err
		}
	}
	if _, err := s.dec.Token(); err != nil {
		return s.fail(err)
	}
	return nil
}

// skip reads and drops the next value, token by token.
func (s *splitter) skip() error {
	tok, err := s.dec.Token()
	if err != nil {
		return s.fail(err)
	}
	if d, ok := tok.(json.Delim); ok && (d == '{' || d == '[') {
		return s.skipRest()
	}
	return nil
}

// skipRest drops the rest of an object or array whose opening delimiter
// was read.
func (s *splitter) skipRest() error {
	for depth := 1; depth > 0; {
		tok, err := s.dec.Token()
		if err != nil {
			return s.fail(err)
		}
		s.line() // lets the line counter drop what was read
		if d, ok := tok.(json.Delim); ok {
			if d == '{' || d == '[' {
				depth++
			} else {
				depth--
			}
		}
	}
	return nil
}

// ioc is what Record reads of an IOC; the API spells three fields
// differently from the exports.
type ioc struct {
	IOCValue         string `json:"ioc_value"`
	IOC              string `json:"ioc"`
	IOCType          string `json:"ioc_type"`
	ThreatType       string `json:"threat_type"`
	Malware          string `json:"malware"`
	MalwarePrintable string `json:"malware_printable"`
	FirstSeenUTC     string `json:"first_seen_utc"`
	FirstSeen        string `json:"first_seen"`
	LastSeenUTC      string `json:"last_seen_utc"`
	LastSeen         string `json:"last_seen"`
}

// hashes are the file hash IOC types, with the algorithm's name as the
// Identifier and URN use it and the digest's length in hex digits.
var hashes = map[string]struct {
	algo string
	hex  int
}{
	"md5_hash":      {"md5", 32},
	"sha1_hash":     {"sha1", 40},
	"sha256_hash":   {"sha256", 64},
	"sha3_384_hash": {"sha3-384", 96},
}

// Record maps one IOC record to its event (none for a file hash when the
// option hashes is skip).
func Record(rec []byte, run feed.Run) ([]*focal.Event, error) {
	var c ioc
	if err := json.Unmarshal(rec, &c); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			if te.Field == "" {
				return nil, fmt.Errorf("want an IOC object, got a JSON %s", te.Value)
			}
			return nil, fmt.Errorf("%s: want a %s, got a JSON %s", te.Field, te.Type, te.Value)
		}
		return nil, fmt.Errorf("bad JSON: %v", err)
	}
	valueField, value := pick("ioc_value", c.IOCValue, "ioc", c.IOC)
	if value == "" {
		return nil, errors.New("ioc_value: missing or empty")
	}
	typ := strings.ToLower(strings.TrimSpace(c.IOCType))
	threat := strings.ToLower(strings.TrimSpace(c.ThreatType))
	if threat == "" {
		return nil, errors.New("threat_type: missing or empty")
	}
	if len(threat) > 64 {
		return nil, fmt.Errorf("threat_type: %q is longer than 64 bytes", cut(threat))
	}
	class, rtype := Classify(threat)
	firstField, first := pick("first_seen_utc", c.FirstSeenUTC, "first_seen", c.FirstSeen)
	if first == "" {
		return nil, errors.New("first_seen_utc: missing or empty")
	}
	ts, err := parseTime(first)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", firstField, err)
	}
	var last time.Time
	if lastField, l := pick("last_seen_utc", c.LastSeenUTC, "last_seen", c.LastSeen); l != "" {
		if last, err = parseTime(l); err != nil {
			return nil, fmt.Errorf("%s: %v", lastField, err)
		}
	}
	e := &focal.Event{
		SourceTime: ts,
		Class:      class,
		Type:       rtype,
		Malware:    Family(c.Malware, c.MalwarePrintable),
		Identifier: threat,
	}
	var indicator string
	switch h, isHash := hashes[typ]; {
	case typ == "ip:port":
		ap, err := netip.ParseAddrPort(value)
		if err != nil {
			// Tolerate an address without its port.
			a, aerr := netip.ParseAddr(value)
			if aerr != nil {
				return nil, fmt.Errorf("%s: want IP:port, got %q", valueField, cut(value))
			}
			ap = netip.AddrPortFrom(a, 0)
		} else if ap.Port() == 0 {
			return nil, fmt.Errorf("%s: port 0 in %q", valueField, cut(value))
		}
		if ap.Addr().Zone() != "" {
			return nil, fmt.Errorf("%s: address %q has a zone", valueField, cut(value))
		}
		ip := ap.Addr().Unmap()
		e.Destination = focal.Endpoint{IP: ip, Port: ap.Port()}
		indicator = ip.String()
		if ap.Port() != 0 {
			indicator = netip.AddrPortFrom(ip, ap.Port()).String()
		}
	case typ == "domain":
		d := strings.TrimSuffix(strings.ToLower(value), ".")
		if err := focal.ValidateDomain(d); err != nil {
			return nil, fmt.Errorf("%s: not a domain name: %v", valueField, err)
		}
		e.Destination = focal.Endpoint{FQDN: d}
		indicator = d
	case typ == "url":
		ep, err := urlEndpoint(value)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", valueField, err)
		}
		e.Destination = ep
		indicator = value
	case isHash:
		if run.Options.Get(OptionHashes, HashesEmit) == HashesSkip {
			return nil, nil
		}
		hex := strings.ToLower(value)
		if len(hex) != h.hex || strings.Trim(hex, "0123456789abcdef") != "" {
			return nil, fmt.Errorf("%s: want %d hexadecimal digits for %s, got %q", valueField, h.hex, typ, cut(value))
		}
		indicator = h.algo + ":" + hex
		e.Identifier = indicator
		e.Destination = focal.Endpoint{URL: "urn:" + indicator}
	default:
		return nil, fmt.Errorf("ioc_type: unsupported %q (want ip:port, domain, url, md5_hash, sha1_hash, sha256_hash or sha3_384_hash)", cut(typ))
	}
	f := run.Feed
	e.ObservedTime = run.Now
	e.Feed, e.Provider, e.TLP, e.Confidence = f.Name, f.Provider, f.TLP, f.Confidence
	e.Count = 1
	e.FirstSeen = ts
	e.LastSeen = last
	if last.Before(ts) {
		e.LastSeen = ts
	}
	e.Raw = feed.Cut(string(rec), focal.MaxRawLine)
	e.DedupKey = f.Name + "|" + indicator + "|" + class + "/" + rtype
	return []*focal.Event{e}, nil
}

// pick returns the first non-blank of two spellings of a field, trimmed,
// with the name it had.
func pick(name1, v1, name2, v2 string) (string, string) {
	if v := strings.TrimSpace(v1); v != "" {
		return name1, v
	}
	return name2, strings.TrimSpace(v2)
}

// Classify maps a ThreatFox threat type (lower case) to its RSIT class
// and type.
func Classify(threat string) (class, typ string) {
	switch threat {
	case "botnet_cc":
		return "malicious-code", "c2-server"
	case "payload_delivery", "payload", "cc_skimming":
		return "malicious-code", "malware-distribution"
	}
	return "other", "undetermined"
}

// Family returns the malware family: the Malpedia name without its
// platform prefix, else the printable name, lower case; "" when unknown
// or implausibly long (over 64 bytes).
func Family(malpedia, printable string) string {
	m := strings.ToLower(strings.TrimSpace(malpedia))
	if i := strings.IndexByte(m, '.'); i >= 0 {
		m = m[i+1:]
	}
	if m == "" {
		m = strings.ToLower(strings.TrimSpace(printable))
	}
	switch {
	case m == "unknown", m == "unknown malware", m == "unknown_malware", len(m) > 64:
		return ""
	}
	return m
}

var timeLayouts = []string{"2006-01-02 15:04:05", time.RFC3339}

// parseTime reads a ThreatFox time, UTC: "2006-01-02 15:04:05", with or
// without " UTC", or RFC 3339.
func parseTime(s string) (time.Time, error) {
	v := strings.TrimSpace(strings.TrimSuffix(s, " UTC"))
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, v); err == nil {
			t = t.UTC()
			if t.Year() < 1970 || t.Year() > 9999 {
				return time.Time{}, fmt.Errorf("time %q out of range", cut(s))
			}
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("want a time as \"2006-01-02 15:04:05\" (UTC), got %q", cut(s))
}

// urlEndpoint returns the destination of a URL IOC: the URL, its host as
// an address or, when valid, a domain name, and its explicit port.
func urlEndpoint(raw string) (focal.Endpoint, error) {
	if len(raw) > MaxURL {
		return focal.Endpoint{}, fmt.Errorf("URL longer than %d bytes", MaxURL)
	}
	if strings.ContainsFunc(raw, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) {
		return focal.Endpoint{}, fmt.Errorf("URL %q contains white space or control characters", cut(raw))
	}
	u, err := url.Parse(raw)
	if err != nil {
		return focal.Endpoint{}, fmt.Errorf("not a URL: %q", cut(raw))
	}
	host := u.Hostname()
	if u.Scheme == "" || host == "" {
		return focal.Endpoint{}, fmt.Errorf("want an absolute URL with a host, got %q", cut(raw))
	}
	ep := focal.Endpoint{URL: raw}
	if ip, err := netip.ParseAddr(strings.TrimSuffix(host, ".")); err == nil {
		if ip.Zone() != "" {
			return focal.Endpoint{}, fmt.Errorf("URL host %q has a zone", cut(host))
		}
		ep.IP = ip.Unmap()
	} else if d := strings.TrimSuffix(strings.ToLower(host), "."); focal.ValidateDomain(d) == nil {
		ep.FQDN = d
	}
	if ps := u.Port(); ps != "" {
		port, err := strconv.ParseUint(ps, 10, 16)
		if err != nil || port == 0 {
			return focal.Endpoint{}, fmt.Errorf("URL port %q is not from 1 to 65535", cut(ps))
		}
		ep.Port = uint16(port)
	}
	return ep, nil
}

// cut bounds a value quoted in a reason.
func cut(s string) string { return feed.Cut(s, 100) }
