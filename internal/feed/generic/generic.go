// Package generic reads feeds that have no parser of their own, CSV
// (format "csv") and JSON (format "json"), through a column mapping given
// in the feed's options (see Fields, CSVOptions and JSONOptions).
//
// The mapping, option map, is a comma-separated list of field=column
// pairs: the field is an event field as docs/events.md names it
// (source.ip, destination.url, source_time, malware, class …); the column
// is, for csv, a header name (matched without regard to case) or, with
// header=false, a 1-based column number; for json, a dotted path into
// each object (src.addr; a number indexes a list). The classification is
// fixed by options class and type, or read per row from mapped class and
// type columns (a class column may hold "class/type"); a row's own value
// wins over the option.
//
// csv: the input is read line by line (a quoted field cannot span lines);
// blank lines and lines starting with the comment prefix are skipped; the
// first other line is the header unless header=false, and a header that
// lacks a mapped column fails the run, naming the column and listing the
// header; the header repeated later is skipped. Split emits one record
// per row: the mapped values by field name, and the line itself, which
// becomes the event's Raw.
//
// json: the input is an array of objects, or one object per line
// (NDJSON), split with feed.SplitJSONArray; with option path the array is
// found inside the top-level object (e.g. path=data) and streamed. Each
// element is one record. When the first element has none of the mapped
// paths the run fails: the feed's format changed, or path is missing.
//
// Values: addresses are IPv4 or IPv6 (unmapped, no zone); ports 1–65535;
// ASNs digits or "AS64496"; countries ISO 3166-1 alpha-2; domain names in
// A-label form (lower-cased, a trailing dot dropped); URLs absolute, and
// a URL fills its endpoint's address or domain name and port when those
// are not mapped; times per time_format (default: RFC 3339, "YYYY-MM-DD
// HH:MM:SS", a date, unix seconds or milliseconds; no zone means UTC);
// confidence 0–100; count a positive number; tlp a TLP label, kept only
// when stricter than the feed's. An empty value is an absent one.
// SourceTime is source_time, else first_seen, else the run's time.
//
// Contract (package feed's): never panic; a row or element with a value
// that does not parse is a feed.Problem naming the field and the column,
// with its line and raw text; parsing goes on. The run fails when the
// options are wrong (Format.Check reports them before a run), the input
// cannot be read, the csv header lacks a mapped column, or the json is
// not an array / NDJSON / an object with the path, or is broken. Every
// event passes focal.Event.Validate before it is emitted (feed.RecordEvents
// checks it); an error from Emit stops the run and is returned as is.
package generic

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"focal/internal/feed"
	"focal/internal/focal"
)

// CheckCSV validates the csv format's options.
func CheckCSV(o feed.Options) error { _, err := ParseOptions(FormatCSV, o); return err }

// CheckJSON validates the json format's options.
func CheckJSON(o feed.Options) error { _, err := ParseOptions(FormatJSON, o); return err }

// csvRecord is a record of the csv format.
type csvRecord struct {
	Raw    string            `json:"raw"`
	Values map[string]string `json:"values"`
}

// SplitCSV reads a CSV input and emits one record per data row.
func SplitCSV(r io.Reader, run feed.Run, emit func(line int, rec []byte) error, report feed.Report) error {
	c, err := config(FormatCSV, run.Options)
	if err != nil {
		return err
	}
	problem := func(n int, reason, line string) {
		if report != nil {
			report(feed.Problem{Line: n, Reason: reason, Raw: feed.Cut(line, focal.MaxRawLine)})
		}
	}
	idx := make([]int, len(c.Fields))
	need := 0 // fields a row must have
	for i, f := range c.Fields {
		idx[i] = f.Index
		need = max(need, f.Index+1)
	}
	var header []string
	haveHeader := !c.Header
	return feed.Lines(r, func(n int, line string) error {
		if n == 1 {
			line = strings.TrimPrefix(line, "\ufeff")
		}
		t := strings.TrimSpace(line)
		if t == "" || c.Comment != "" && strings.HasPrefix(t, c.Comment) {
			return nil
		}
		rec, err := splitCSVLine(line, c.Delimiter)
		if !haveHeader {
			if err != nil {
				return fmt.Errorf("%s: line %d: header: %s", FormatCSV, n, err)
			}
			header = normHeader(rec)
			for i, f := range c.Fields {
				j := indexOf(header, strings.ToLower(f.Column))
				if j < 0 {
					return fmt.Errorf("%s: line %d: column %q (mapped to %s) is not in the header %q: did the feed's format change?",
						FormatCSV, n, f.Column, f.Name, feed.Cut(strings.Join(header, string(c.Delimiter)), 512))
				}
				if indexOf(header[j+1:], header[j]) >= 0 {
					return fmt.Errorf("%s: line %d: column %q (mapped to %s) appears twice in the header", FormatCSV, n, f.Column, f.Name)
				}
				idx[i] = j
			}
			need, haveHeader = len(header), true
			return nil
		}
		if err != nil {
			problem(n, err.Error(), line)
			return nil
		}
		if header != nil && len(rec) == len(header) && equalFold(normHeader(rec), header) {
			return nil // the header again
		}
		switch {
		case header != nil && len(rec) != len(header):
			problem(n, fmt.Sprintf("want %d fields, as in the header, got %d", len(header), len(rec)), line)
			return nil
		case len(rec) < need:
			problem(n, fmt.Sprintf("want at least %d fields, got %d", need, len(rec)), line)
			return nil
		}
		out := csvRecord{Raw: feed.Cut(line, focal.MaxRawLine), Values: make(map[string]string, len(c.Fields))}
		for i, f := range c.Fields {
			out.Values[f.Name] = rec[idx[i]]
		}
		b, err := marshal(out)
		if err != nil {
			problem(n, err.Error(), line)
			return nil
		}
		return emit(n, b)
	}, func(n int) {
		problem(n, fmt.Sprintf("line longer than %d bytes, skipped", feed.MaxLine), "")
	})
}

// splitCSVLine parses one line as one CSV record.
func splitCSVLine(line string, delim rune) ([]string, error) {
	cr := csv.NewReader(strings.NewReader(line))
	cr.Comma = delim
	cr.FieldsPerRecord = -1
	rec, err := cr.Read()
	if err != nil {
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return nil, fmt.Errorf("bad csv at column %d: %v", pe.Column, pe.Err)
		}
		if errors.Is(err, io.EOF) {
			return []string{""}, nil
		}
		return nil, fmt.Errorf("bad csv: %v", err)
	}
	return rec, nil
}

func normHeader(rec []string) []string {
	out := make([]string, len(rec))
	for i, s := range rec {
		out[i] = strings.ToLower(strings.TrimSpace(s))
	}
	return out
}

func indexOf(s []string, v string) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return -1
}

func equalFold(a, b []string) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// RecordCSV maps one csv record to its event.
func RecordCSV(rec []byte, run feed.Run) ([]*focal.Event, error) {
	c, err := config(FormatCSV, run.Options)
	if err != nil {
		return nil, err
	}
	var r csvRecord
	if err := json.Unmarshal(rec, &r); err != nil {
		return nil, fmt.Errorf("not a csv record: %v", err)
	}
	e, err := build(c, func(f Field) (string, error) { return r.Values[f.Name], nil }, run)
	if err != nil {
		return nil, err
	}
	e.Raw = feed.Cut(r.Raw, focal.MaxRawLine)
	return []*focal.Event{e}, nil
}

// SplitJSON reads a JSON array, NDJSON, or (option path) an array inside
// an object, and emits one record per element.
func SplitJSON(r io.Reader, run feed.Run, emit func(line int, rec []byte) error, report feed.Report) error {
	c, err := config(FormatJSON, run.Options)
	if err != nil {
		return err
	}
	first := true
	check := func(line int, rec []byte) error {
		if first {
			first = false
			if err := checkFirst(c, rec); err != nil {
				return fmt.Errorf("%s: line %d: %v", FormatJSON, line, err)
			}
		}
		return emit(line, rec)
	}
	if len(c.Path) == 0 {
		return feed.SplitJSONArray(FormatJSON, r, check, report)
	}
	return splitPath(r, c.Path, check, report)
}

// checkFirst fails when the first element is an object with none of the
// mapped paths.
func checkFirst(c *Config, rec []byte) error {
	var obj map[string]any
	if json.Unmarshal(rec, &obj) != nil {
		return nil // not an object: Record reports it
	}
	var paths []string
	for _, f := range c.Fields {
		if _, found, _ := lookup(obj, f.Path); found {
			return nil
		}
		paths = append(paths, f.Column)
	}
	hint := ""
	if len(c.Path) == 0 {
		hint = " (if the array is inside an object, set option path)"
	}
	return fmt.Errorf("the first element has none of the mapped paths %s: did the feed's format change?%s", strings.Join(paths, ", "), hint)
}

// splitPath streams the array found at path inside the top-level object.
func splitPath(r io.Reader, path []string, emit func(int, []byte) error, report feed.Report) error {
	s := feed.NewJSONStream(r)
	where := strings.Join(path, ".")
	tok, err := s.Token()
	if errors.Is(err, io.EOF) {
		return fmt.Errorf("%s: empty input, want an object with the array at %q", FormatJSON, where)
	}
	if err != nil {
		return s.Fail(FormatJSON, err)
	}
	found := false
	var walk func(tok json.Token, depth int) error
	walk = func(tok json.Token, depth int) error {
		if d, ok := tok.(json.Delim); !ok || d != '{' {
			at := "top-level value"
			if depth > 0 {
				at = fmt.Sprintf("%q", strings.Join(path[:depth], "."))
			}
			return fmt.Errorf("%s: line %d: %s is %s, want an object holding %q", FormatJSON, s.Line(), at, feed.DescribeToken(tok), path[depth])
		}
		for s.More() {
			k, err := s.Key()
			if err != nil {
				return s.Fail(FormatJSON, err)
			}
			if k != path[depth] || found {
				if err := s.Skip(); err != nil {
					return s.Fail(FormatJSON, err)
				}
				continue
			}
			t, err := s.Token()
			if err != nil {
				return s.Fail(FormatJSON, err)
			}
			if depth+1 < len(path) {
				if err := walk(t, depth+1); err != nil {
					return err
				}
				continue
			}
			found = true
			if t == nil {
				continue // "data": null, no elements
			}
			if d, ok := t.(json.Delim); !ok || d != '[' {
				return fmt.Errorf("%s: line %d: %q is %s, want an array", FormatJSON, s.Line(), where, feed.DescribeToken(t))
			}
			for i := 0; s.More(); i++ {
				raw, err := s.Value()
				if err != nil {
					return s.Fail(FormatJSON, err)
				}
				line := s.Line() - bytes.Count(raw, []byte{'\n'})
				if len(raw) > feed.MaxRecord {
					if report != nil {
						report(feed.Problem{Line: line, Reason: fmt.Sprintf("element %d: over %d bytes", i, feed.MaxRecord), Raw: feed.Cut(string(raw), focal.MaxRawLine)})
					}
					continue
				}
				var b bytes.Buffer
				if err := json.Compact(&b, raw); err != nil {
					return s.Fail(FormatJSON, err)
				}
				if err := emit(line, b.Bytes()); err != nil {
					return err
				}
			}
			if _, err := s.Token(); err != nil {
				return s.Fail(FormatJSON, err)
			}
		}
		if _, err := s.Token(); err != nil {
			return s.Fail(FormatJSON, err)
		}
		return nil
	}
	if err := walk(tok, 0); err != nil {
		return err
	}
	if err := s.End(FormatJSON); err != nil {
		return err
	}
	if !found {
		return fmt.Errorf("%s: no %q in the input: did the feed's format change?", FormatJSON, where)
	}
	return nil
}

// RecordJSON maps one json element to its event.
func RecordJSON(rec []byte, run feed.Run) ([]*focal.Event, error) {
	c, err := config(FormatJSON, run.Options)
	if err != nil {
		return nil, err
	}
	d := json.NewDecoder(bytes.NewReader(rec))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, fmt.Errorf("not JSON: %v", err)
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("want an object, got %s", kindOf(v))
	}
	e, err := build(c, func(f Field) (string, error) {
		x, found, err := lookup(obj, f.Path)
		if err != nil || !found {
			return "", err
		}
		switch x := x.(type) {
		case nil:
			return "", nil
		case string:
			return x, nil
		case json.Number:
			return x.String(), nil
		case bool:
			return strconv.FormatBool(x), nil
		}
		return "", fmt.Errorf("%s (path %s): want a string or a number, got %s", f.Name, f.Column, kindOf(x))
	}, run)
	if err != nil {
		return nil, err
	}
	return []*focal.Event{e}, nil
}

// lookup follows path through objects (and lists, by index).
func lookup(v any, path []string) (any, bool, error) {
	for _, step := range path {
		switch x := v.(type) {
		case map[string]any:
			var ok bool
			if v, ok = x[step]; !ok {
				return nil, false, nil
			}
		case []any:
			i, err := strconv.Atoi(step)
			if err != nil || i < 0 || i >= len(x) {
				return nil, false, nil
			}
			v = x[i]
		default:
			return nil, false, nil
		}
	}
	return v, true, nil
}

func kindOf(v any) string {
	switch v.(type) {
	case map[string]any:
		return "an object"
	case []any:
		return "a list"
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", v)
}

// build makes the event of one row: get returns a field's value ("" when
// absent).
func build(c *Config, get func(Field) (string, error), run feed.Run) (*focal.Event, error) {
	e := &focal.Event{}
	var rowClass, rowType string
	for _, f := range c.Fields {
		raw, err := get(f)
		if err != nil {
			return nil, err
		}
		v := strings.TrimSpace(raw)
		if v == "" {
			continue
		}
		if err := set(c, e, f, v, &rowClass, &rowType); err != nil {
			return nil, fmt.Errorf("%s (%s %s): %v", f.Name, columnWord(c), f.Column, err)
		}
	}
	// The classification: the row's values, else the options'.
	if cl, ty, ok := strings.Cut(rowClass, "/"); ok {
		rowClass = cl
		if rowType == "" {
			rowType = ty
		}
	}
	cl := focal.Classification{Class: rowClass, Type: rowType}
	if cl.Class == "" {
		cl.Class = c.Class
	}
	if cl.Type == "" {
		cl.Type = c.Type
	}
	if cl.Class == "" {
		return nil, fmt.Errorf("no RSIT class%s", classColumns(c))
	}
	if err := cl.Validate(); err != nil {
		return nil, fmt.Errorf("%v%s", err, classColumns(c))
	}
	if cl.Type == "" {
		return nil, fmt.Errorf("no RSIT type for class %s%s", cl.Class, classColumns(c))
	}
	e.Class, e.Type = cl.Class, cl.Type
	for _, ep := range []*focal.Endpoint{&e.Source, &e.Destination} {
		if ep.URL == "" {
			continue
		}
		host, err := urlHost(ep.URL)
		if err != nil {
			continue // checked when the URL was set
		}
		if !ep.IP.IsValid() && ep.FQDN == "" {
			if ip, err := netip.ParseAddr(host.Hostname()); err == nil {
				ep.IP = ip.Unmap()
			} else if d := strings.TrimSuffix(strings.ToLower(host.Hostname()), "."); focal.ValidateDomain(d) == nil {
				ep.FQDN = d
			}
		}
		if ep.Port == 0 {
			if p, err := strconv.ParseUint(host.Port(), 10, 16); err == nil && p > 0 {
				ep.Port = uint16(p)
			}
		}
	}
	if e.Source.IsZero() && e.Destination.IsZero() {
		var cols []string
		for _, f := range c.Fields {
			if strings.HasPrefix(f.Name, "source.") || strings.HasPrefix(f.Name, "destination.") {
				cols = append(cols, f.Name+" ("+columnWord(c)+" "+f.Column+")")
			}
		}
		return nil, fmt.Errorf("no host: %s all empty", strings.Join(cols, ", "))
	}
	if e.SourceTime.IsZero() {
		e.SourceTime = e.FirstSeen
	}
	if tl := e.TLP; tl != "" && tl.Rank() < run.Feed.TLP.Rank() {
		e.TLP = run.Feed.TLP
	}
	return e, nil
}

func columnWord(c *Config) string {
	if c.Kind == FormatJSON {
		return "path"
	}
	return "column"
}

func classColumns(c *Config) string {
	var parts []string
	for _, name := range []string{"class", "type"} {
		if f, ok := c.field(name); ok {
			parts = append(parts, f.Name+" from "+columnWord(c)+" "+f.Column)
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

// set parses one value into its field.
func set(c *Config, e *focal.Event, f Field, v string, rowClass, rowType *string) error {
	side, prop, isEndpoint := strings.Cut(f.Name, ".")
	if isEndpoint {
		ep := &e.Source
		if side == "destination" {
			ep = &e.Destination
		}
		switch prop {
		case "ip":
			a, err := netip.ParseAddr(v)
			if err != nil || a.Zone() != "" {
				return fmt.Errorf("not an IP address: %q", feed.Cut(v, 64))
			}
			ep.IP = a.Unmap()
		case "port":
			p, err := strconv.ParseUint(v, 10, 16)
			if err != nil || p == 0 {
				return fmt.Errorf("not a port from 1 to 65535: %q", feed.Cut(v, 32))
			}
			ep.Port = uint16(p)
		case "asn":
			n, err := focal.ParseASN(v)
			if err != nil {
				return fmt.Errorf("not an AS number: %q", feed.Cut(v, 32))
			}
			ep.ASN = n
		case "country":
			cc := strings.ToUpper(v)
			if len(cc) != 2 || cc[0] < 'A' || cc[0] > 'Z' || cc[1] < 'A' || cc[1] > 'Z' {
				return fmt.Errorf("want an ISO 3166-1 alpha-2 code, got %q", feed.Cut(v, 32))
			}
			ep.Country = cc
		case "fqdn":
			d := strings.TrimSuffix(strings.ToLower(v), ".")
			if err := focal.ValidateDomain(d); err != nil {
				return err
			}
			ep.FQDN = d
		case "url":
			if len(v) > focal.MaxRawLine {
				return fmt.Errorf("URL longer than %d bytes", focal.MaxRawLine)
			}
			if _, err := urlHost(v); err != nil {
				return err
			}
			ep.URL = v
		}
		return nil
	}
	switch f.Name {
	case "source_time", "first_seen", "last_seen":
		t, err := parseTime(c.TimeFormat, v)
		if err != nil {
			return err
		}
		switch f.Name {
		case "source_time":
			e.SourceTime = t
		case "first_seen":
			e.FirstSeen = t
		default:
			e.LastSeen = t
		}
	case "class":
		*rowClass = strings.ToLower(v)
	case "type":
		*rowType = strings.ToLower(v)
	case "protocol":
		e.Protocol = strings.ToLower(feed.Cut(v, 32))
	case "malware":
		e.Malware = strings.ToLower(feed.Cut(v, 128))
	case "identifier":
		e.Identifier = feed.Cut(v, 256)
	case "confidence":
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 100 {
			return fmt.Errorf("want an integer from 0 to 100, got %q", feed.Cut(v, 32))
		}
		e.Confidence = n
	case "count":
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return fmt.Errorf("want a positive integer, got %q", feed.Cut(v, 32))
		}
		e.Count = n
	case "tlp":
		l, err := focal.ParseTLP(v)
		if err != nil {
			return fmt.Errorf("want a TLP label (CLEAR, GREEN, AMBER, AMBER+STRICT, RED), got %q", feed.Cut(v, 32))
		}
		e.TLP = l
	}
	return nil
}

// urlHost parses an absolute URL with a host.
func urlHost(v string) (*url.URL, error) {
	u, err := url.Parse(v)
	if err != nil || u.Scheme == "" || u.Host == "" || u.Hostname() == "" {
		return nil, fmt.Errorf("want an absolute URL with a host, got %q", feed.Cut(v, 64))
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.ParseUint(p, 10, 16); err != nil || n == 0 {
			return nil, fmt.Errorf("URL port %q: want 1 to 65535", feed.Cut(p, 16))
		}
	}
	return u, nil
}

// autoLayouts are the layouts tried without time_format.
var autoLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999 -0700",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04",
	time.DateOnly,
	time.RFC1123Z,
	time.RFC1123,
	"02/Jan/2006:15:04:05 -0700",
}

// parseTime reads a time per format (see Config.TimeFormat); times
// without a zone are UTC.
func parseTime(format, v string) (time.Time, error) {
	switch strings.ToLower(format) {
	case "unix":
		return unix(v, false)
	case "unix_ms":
		return unix(v, true)
	case "rfc3339":
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return time.Time{}, fmt.Errorf("want an RFC 3339 time, got %q", feed.Cut(v, 64))
		}
		return t.UTC(), nil
	case "":
		if strings.Trim(v, "0123456789.") == "" && strings.Count(v, ".") <= 1 {
			digits, _, _ := strings.Cut(v, ".")
			return unix(v, len(digits) >= 12)
		}
		for _, l := range autoLayouts {
			if t, err := time.Parse(l, v); err == nil {
				return t.UTC(), nil
			}
		}
		return time.Time{}, fmt.Errorf("not a time focal recognises: %q (set time_format)", feed.Cut(v, 64))
	}
	t, err := time.Parse(format, v)
	if err != nil {
		return time.Time{}, fmt.Errorf("want a time like %q, got %q", time.Date(2026, 11, 22, 13, 14, 15, 0, time.UTC).Format(format), feed.Cut(v, 64))
	}
	return t.UTC(), nil
}

// unix reads seconds (or milliseconds) since 1970, with an optional
// fraction.
func unix(v string, ms bool) (time.Time, error) {
	f, err := strconv.ParseFloat(v, 64)
	unit := "seconds"
	if ms {
		unit = "milliseconds"
		f /= 1000
	}
	if err != nil || f < 0 || f > 32503680000 { // year 3000
		return time.Time{}, fmt.Errorf("want unix %s, got %q", unit, feed.Cut(v, 64))
	}
	sec := int64(f)
	return time.Unix(sec, int64((f-float64(sec))*1e9)).UTC().Round(time.Millisecond), nil
}
