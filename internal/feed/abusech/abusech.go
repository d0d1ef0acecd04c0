// Package abusech parses abuse.ch's public feeds into focal events.
//
// Three formats are read:
//
//   - Feodo Tracker IP blocklist CSV ("feodo-csv", ParseFeodoCSV): lines
//     starting with '#' are comments, one of them the header
//     first_seen_utc,dst_ip,dst_port,c2_status,last_online,malware; every
//     other non-blank line is a quoted CSV row of those six fields. Each
//     row becomes a malicious-code/c2-server event for the destination
//     IP and port.
//   - Feodo Tracker IP blocklist JSON ("feodo-json", ParseFeodoJSON): one
//     JSON array of objects with ip_address, port, status, hostname,
//     as_number, as_name, country, first_seen, last_online and malware.
//     The same mapping as the CSV, plus the destination's ASN, country and
//     host name. The array is decoded one element at a time.
//   - URLhaus CSV dump ("urlhaus", ParseURLhaus): '#' comments, one of them
//     the header id,dateadded,url,url_status,last_online,threat,tags,
//     urlhaus_link,reporter; each row becomes a
//     malicious-code/malware-distribution event for the URL and its host.
//
// The contract is package feed's: every event carries the feed's name,
// provider, TLP and confidence, ObservedTime = now, Count 1, FirstSeen and
// LastSeen, the input line (or the JSON element) cut to focal.MaxRawLine
// as Raw, and DedupKey = feed name + "|" + indicator (ip:port or URL); it
// is validated before it is emitted. A row that cannot be used (wrong
// field count, bad time, IP, port or URL, failed validation, too long) is
// reported as a feed.Problem and the run goes on. The run fails, and the
// parser returns an error, only when the input cannot be read, when the
// header or the first data row shows that the format changed, when the
// JSON is not an array or is broken beyond recovery, or when emit fails
// (its error is returned as is). A parser never panics.
package abusech

import (
	"encoding/csv"
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

// The format names used in errors and problems.
const (
	FormatFeodoCSV  = "feodo-csv"
	FormatFeodoJSON = "feodo-json"
	FormatURLhaus   = "urlhaus"
)

var (
	feodoHeader   = []string{"first_seen_utc", "dst_ip", "dst_port", "c2_status", "last_online", "malware"}
	urlhausHeader = []string{"id", "dateadded", "url", "url_status", "last_online", "threat", "tags", "urlhaus_link", "reporter"}
)

// ParseFeodoCSV reads a Feodo Tracker IP blocklist in CSV, emitting one
// malicious-code/c2-server event per row and reporting unusable rows.
func ParseFeodoCSV(r io.Reader, f feed.Feed, now time.Time, emit feed.Emit, report feed.Report) (feed.Stats, error) {
	return parseCSV(r, f, now, emit, report, csvFormat{name: FormatFeodoCSV, header: feodoHeader, row: feodoRow})
}

// ParseURLhaus reads a URLhaus CSV dump, emitting one
// malicious-code/malware-distribution event per row and reporting
// unusable rows.
func ParseURLhaus(r io.Reader, f feed.Feed, now time.Time, emit feed.Emit, report feed.Report) (feed.Stats, error) {
	return parseCSV(r, f, now, emit, report, csvFormat{name: FormatURLhaus, header: urlhausHeader, row: urlhausRow})
}

// csvFormat describes one CSV feed: its name, its header and how a row of
// len(header) fields becomes an event (with its indicator) or a reason.
type csvFormat struct {
	name   string
	header []string
	row    func(rec []string) (e *focal.Event, indicator string, err error)
}

// parseCSV is the shared CSV driver: feed.Lines, then encoding/csv per line.
func parseCSV(r io.Reader, f feed.Feed, now time.Time, emit feed.Emit, report feed.Report, cf csvFormat) (feed.Stats, error) {
	var st feed.Stats
	problem := func(n int, reason, line string) {
		st.Problems++
		if report != nil {
			report(feed.Problem{Line: n, Reason: reason, Raw: feed.Cut(line, focal.MaxRawLine)})
		}
	}
	want := len(cf.header)
	first := true
	err := feed.Lines(r, func(n int, line string) error {
		st.Lines++
		if n == 1 {
			line = strings.TrimPrefix(line, "\ufeff")
		}
		trimmed := strings.TrimSpace(line)
		if trimmed == "" {
			return nil
		}
		if strings.HasPrefix(trimmed, "#") {
			return cf.checkHeader(n, strings.TrimSpace(strings.TrimLeft(trimmed, "#")))
		}
		cr := csv.NewReader(strings.NewReader(line))
		cr.FieldsPerRecord = want
		rec, err := cr.Read()
		if err != nil && !errors.Is(err, csv.ErrFieldCount) {
			problem(n, "bad csv: "+csvReason(err), line)
			return nil
		}
		if len(rec) > 0 && strings.EqualFold(strings.TrimSpace(rec[0]), cf.header[0]) {
			// An uncommented header.
			return cf.checkHeader(n, trimmed)
		}
		if len(rec) != want {
			if first {
				return fmt.Errorf("%s: line %d: want %d fields (%s), got %d: the feed format changed?",
					cf.name, n, want, strings.Join(cf.header, ","), len(rec))
			}
			problem(n, fmt.Sprintf("want %d fields, got %d", want, len(rec)), line)
			return nil
		}
		first = false
		e, ind, err := cf.row(rec)
		if err != nil {
			problem(n, err.Error(), line)
			return nil
		}
		finish(e, f, now, ind, line)
		if err := e.Validate(); err != nil {
			problem(n, "invalid event: "+err.Error(), line)
			return nil
		}
		if err := emit(e); err != nil {
			return err
		}
		st.Events++
		return nil
	}, func(n int) {
		st.Lines++
		problem(n, fmt.Sprintf("line longer than %d bytes", feed.MaxLine), "")
	})
	return st, err
}

// checkHeader fails the run when text (a comment without its '#') is a
// header line that differs from the expected one; other comments pass.
func (cf csvFormat) checkHeader(n int, text string) error {
	cr := csv.NewReader(strings.NewReader(text))
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	cr.TrimLeadingSpace = true
	rec, err := cr.Read()
	if err != nil || len(rec) == 0 || !strings.EqualFold(strings.TrimSpace(rec[0]), cf.header[0]) {
		return nil
	}
	got := make([]string, len(rec))
	for i, s := range rec {
		got[i] = strings.ToLower(strings.TrimSpace(s))
	}
	if strings.Join(got, ",") != strings.Join(cf.header, ",") {
		return fmt.Errorf("%s: line %d: header is %q, want %q: the feed format changed?",
			cf.name, n, feed.Cut(strings.Join(got, ","), 200), strings.Join(cf.header, ","))
	}
	return nil
}

// csvReason renders a csv error without the reader's own (always 1) line.
func csvReason(err error) string {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return fmt.Sprintf("column %d: %v", pe.Column, pe.Err)
	}
	return err.Error()
}

// feodoRow maps a Feodo Tracker CSV row.
func feodoRow(rec []string) (*focal.Event, string, error) {
	first, err := parseTime(rec[0])
	if err != nil {
		return nil, "", fmt.Errorf("first_seen_utc: %v", err)
	}
	ip, err := parseIP(rec[1])
	if err != nil {
		return nil, "", fmt.Errorf("dst_ip: %v", err)
	}
	port, err := parsePort(rec[2])
	if err != nil {
		return nil, "", fmt.Errorf("dst_port: %v", err)
	}
	last, err := parseOptionalTime(rec[4])
	if err != nil {
		return nil, "", fmt.Errorf("last_online: %v", err)
	}
	e := &focal.Event{
		Class:       "malicious-code",
		Type:        "c2-server",
		SourceTime:  first,
		Destination: focal.Endpoint{IP: ip, Port: port},
		Malware:     strings.ToLower(strings.TrimSpace(rec[5])),
		Identifier:  strings.TrimSpace(rec[3]),
		LastSeen:    last,
	}
	return e, netip.AddrPortFrom(ip, port).String(), nil
}

// knownFamilies are URLhaus tags taken as the malware family.
var knownFamilies = map[string]bool{
	"agenttesla": true, "asyncrat": true, "bashlite": true, "cobaltstrike": true,
	"dridex": true, "emotet": true, "formbook": true, "gafgyt": true,
	"heodo": true, "icedid": true, "lokibot": true, "mirai": true,
	"mozi": true, "njrat": true, "qakbot": true, "qbot": true,
	"redlinestealer": true, "remcos": true, "trickbot": true,
}

// urlhausRow maps a URLhaus CSV row.
func urlhausRow(rec []string) (*focal.Event, string, error) {
	added, err := parseTime(rec[1])
	if err != nil {
		return nil, "", fmt.Errorf("dateadded: %v", err)
	}
	raw := strings.TrimSpace(rec[2])
	dst, err := urlEndpoint(raw)
	if err != nil {
		return nil, "", fmt.Errorf("url: %v", err)
	}
	last, err := parseOptionalTime(rec[4])
	if err != nil {
		return nil, "", fmt.Errorf("last_online: %v", err)
	}
	e := &focal.Event{
		Class:       "malicious-code",
		Type:        "malware-distribution",
		SourceTime:  added,
		Destination: dst,
		Identifier:  strings.TrimSpace(rec[5]),
		LastSeen:    last,
	}
	for _, tag := range strings.Split(rec[6], ",") {
		if t := strings.ToLower(strings.TrimSpace(tag)); knownFamilies[t] {
			e.Malware = t
			break
		}
	}
	return e, raw, nil
}

// urlEndpoint returns the destination of a URL: the URL, its host as IP
// or FQDN, and its explicit port.
func urlEndpoint(raw string) (focal.Endpoint, error) {
	if raw == "" {
		return focal.Endpoint{}, errors.New("empty")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return focal.Endpoint{}, errors.New("not a URL")
	}
	if u.Scheme == "" || u.Host == "" {
		return focal.Endpoint{}, errors.New("want an absolute URL with a host")
	}
	ep := focal.Endpoint{URL: raw}
	host := u.Hostname()
	if host == "" {
		return focal.Endpoint{}, errors.New("want an absolute URL with a host")
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		if ip.Zone() != "" {
			return focal.Endpoint{}, errors.New("host has a zone")
		}
		ep.IP = ip.Unmap()
	} else {
		ep.FQDN = strings.TrimSuffix(strings.ToLower(host), ".")
	}
	if p := u.Port(); p != "" {
		port, err := parsePort(p)
		if err != nil {
			return focal.Endpoint{}, fmt.Errorf("port: %v", err)
		}
		ep.Port = port
	}
	return ep, nil
}

// finish sets what every event gets from the feed and the run.
func finish(e *focal.Event, f feed.Feed, now time.Time, indicator, raw string) {
	e.Feed, e.Provider, e.TLP, e.Confidence = f.Name, f.Provider, f.TLP, f.Confidence
	e.ObservedTime = now
	e.Count = 1
	e.FirstSeen = e.SourceTime
	if e.LastSeen.Before(e.FirstSeen) {
		// Unknown, or a date-only last_online on the first day.
		e.LastSeen = e.FirstSeen
	}
	e.Raw = feed.Cut(raw, focal.MaxRawLine)
	e.DedupKey = f.Name + "|" + indicator
}

var timeLayouts = []string{"2006-01-02 15:04:05", time.RFC3339, "2006-01-02T15:04:05", "2006-01-02"}

// parseTime reads abuse.ch's UTC times ("2006-01-02 15:04:05" or a date).
func parseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, errors.New("empty time")
	}
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			if y := t.Year(); y < 1990 || y > 2200 {
				return time.Time{}, fmt.Errorf("time %q is out of range (year %d)", feed.Cut(s, 64), y)
			}
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("bad time %q", feed.Cut(s, 64))
}

// parseOptionalTime is parseTime that takes "", "none" and "null" as unknown.
func parseOptionalTime(s string) (time.Time, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "none", "null":
		return time.Time{}, nil
	}
	return parseTime(s)
}

// parseIP reads an IPv4 or IPv6 address without a zone.
func parseIP(s string) (netip.Addr, error) {
	ip, err := netip.ParseAddr(strings.TrimSpace(s))
	if err != nil || ip.Zone() != "" {
		return netip.Addr{}, fmt.Errorf("bad IP address %q", feed.Cut(s, 64))
	}
	return ip.Unmap(), nil
}

// parsePort reads a port from 1 to 65535.
func parsePort(s string) (uint16, error) {
	p, err := strconv.ParseUint(strings.TrimSpace(s), 10, 16)
	if err != nil || p == 0 {
		return 0, fmt.Errorf("bad port %q", feed.Cut(s, 64))
	}
	return uint16(p), nil
}
