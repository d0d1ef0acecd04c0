// Package shadowserver parses Shadowserver report CSVs into focal events.
//
// One parser covers the report family. What differs between reports (the
// columns that feed each event field, the RSIT classification, constant
// values, the columns a header must have, the dedup key) is data: the
// embedded reports.json, described in reports.go. It maps the generic scan
// report and scan_smb, scan_rdp, scan_http, scan_ssl (and _poodle,
// _freak), scan_telnet, scan_ftp, scan_ntp, scan_ntpmonitor, scan_dns,
// scan_snmp, scan_ssdp, scan_memcached, scan_vnc, scan_redis,
// scan_mongodb, scan_elasticsearch, device_id, the generic event4 report
// and event4_sinkhole, event4_sinkhole_http, event4_honeypot_brute_force,
// event4_honeypot_darknet, event4_honeypot_http_scan,
// event4_honeypot_ddos_amp, blocklist and compromised_website. IPv6
// variants (scan6_*, event6_*, device_id6, …) use their IPv4 report's
// mapping; any other scan_* or event4_* report uses the generic one.
//
// # Which report
//
// Parse decides which report it reads, in this order:
//
//  1. the run's "report" option (e.g. report=scan_smb);
//  2. the run's Name (a file name or URL): the first part of its base name,
//     cut at '-', '.' and spaces, that names a report, as in
//     "2026-11-21-scan_smb-example_org-asn.csv" (a bare "scan" or
//     "event4" does not count);
//  3. the header: among the reports whose required and detect columns the
//     header has, the one with the most detect columns; failing that the
//     generic scan report (timestamp, ip, port) or the generic event4
//     report (timestamp, src_ip).
//
// When the report is named (1, 2) and the header lacks one of its
// required columns, or nothing fits (3), the format changed and the run
// fails: "shadowserver scan_smb: header lacks column "ip"; got …".
//
// # Input
//
// The first non-blank line is the header (quoted or not; a UTF-8 byte
// order mark is dropped); extra columns are fine and stay only in Raw,
// and the header repeated later (concatenated reports) is skipped. Every
// other non-blank line is one RFC 4180 record: quoted fields may hold
// commas and doubled quotes, but not line breaks. Lines end in LF or
// CRLF; a line longer than feed.MaxLine is reported and skipped.
//
// # Events
//
// Each row gives one event: SourceTime from the time column (UTC,
// "2006-01-02 15:04:05" with 'T', fractions, "Z" or an offset allowed),
// the source and destination endpoints, protocol, malware (lower case)
// and identifier as the mapping says, the mapping's RSIT class and type,
// Feed, Provider, TLP and Confidence from the run's feed, ObservedTime
// the run's Now, Count 1, FirstSeen = LastSeen = SourceTime, Raw the line
// cut to focal.MaxRawLine, and DedupKey the feed name, the mapping's key
// fields and the report name joined by '|' (by default
// "feed|ip|port|report"). A relative URL column ("/index.php") is made
// absolute with the endpoint's host name or address (https when the
// protocol says so, else http). In a blocklist the
// address may be a CIDR prefix: Source.IP is then its first address and
// Identifier "cidr:" and the prefix.
//
// # Problems and errors
//
// A row that cannot be used is passed to the Report callback as a
// feed.Problem naming the column (`column "port": want a port number, got
// "x"`) and the run goes on: a wrong number of columns, a broken quoted
// field, an empty required column, or a bad time, address, port or AS
// number. Descriptive columns that do not parse (a country that is not
// two letters, a host name that is not a DNS name) are left out of the
// event instead. Every event passes focal.Event.Validate before it is
// emitted; one that does not is a Problem. An error from Emit stops the
// run and is returned as is; the run also fails when the input cannot be
// read or the header does not fit. Parse never panics, keeps no state
// between calls, and may run concurrently.
package shadowserver

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"

	"focal/internal/feed"
	"focal/internal/focal"
)

// FormatName is the format's registry name.
const FormatName = "shadowserver"

const maxInt = int(^uint(0) >> 1)

// OptionReport names the option that selects the report.
const OptionReport = "report"

// Parse reads one Shadowserver report CSV (or one chunk of it with the
// header on top) and emits an event per row; see the package comment for
// the contract.
func Parse(r io.Reader, run feed.Run, emit feed.Emit, report feed.Report) (feed.Stats, error) {
	if emit == nil {
		emit = func(*focal.Event) error { return nil }
	}
	p := &parser{run: run, emit: emit, report: report}
	if name := run.Options.Get(OptionReport, ""); name != "" {
		m, n, ok := resolve(name)
		if !ok {
			return p.st, fmt.Errorf("%s: %w", FormatName, CheckReport(name))
		}
		p.m, p.name = m, n
	} else if m, n, ok := fromName(run.Name); ok {
		p.m, p.name = m, n
	}
	err := p.read(r)
	return p.st, err
}

// parser is the state of one Parse call.
type parser struct {
	run    feed.Run
	emit   feed.Emit
	report feed.Report
	st     feed.Stats

	m      *mapping
	name   string           // report name for dedup keys
	header string           // the header line, to skip it when repeated
	ncols  int              // columns in the header
	need   int              // columns a row is read up to
	hasDst bool             // whether the header has destination columns
	cols   []string         // header column names
	idx    [numFields][]int // per event field, its columns in the header
	req    []int            // required columns
	fields []string         // the current row's fields
	key    []byte           // dedup key scratch
	ipText [2]string        // the row's canonical source, destination address text
	times  timeParser
}

// read splits r into lines of at most feed.MaxLine bytes.
func (p *parser) read(r io.Reader) error {
	br := bufio.NewReaderSize(r, feed.MaxLine)
	n := 0
	for {
		line, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			for errors.Is(err, bufio.ErrBufferFull) {
				_, err = br.ReadSlice('\n')
			}
			n++
			p.st.Lines++
			p.problem(n, fmt.Sprintf("line longer than %d bytes, skipped", feed.MaxLine), "")
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return fmt.Errorf("%s: read line %d: %w", FormatName, n+1, err)
			}
			continue
		}
		if err != nil && err != io.EOF {
			return fmt.Errorf("%s: read line %d: %w", FormatName, n+1, err)
		}
		if len(line) == 0 && err == io.EOF {
			return nil
		}
		n++
		p.st.Lines++
		line = bytes.TrimSuffix(line, []byte{'\n'})
		line = bytes.TrimSuffix(line, []byte{'\r'})
		if lerr := p.line(n, line); lerr != nil {
			return lerr
		}
		if err == io.EOF {
			return nil
		}
	}
}

// line handles one line without its end.
func (p *parser) line(n int, b []byte) error {
	if n == 1 {
		b = bytes.TrimPrefix(b, []byte("\ufeff"))
	}
	if len(b) == 0 || b[0] <= ' ' && len(bytes.TrimSpace(b)) == 0 {
		return nil
	}
	if p.header == "" {
		return p.setHeader(n, string(b))
	}
	if string(b) == p.header {
		return nil
	}
	return p.row(n, string(b))
}

// setHeader reads the header, settles the report and resolves the
// mapping's columns.
func (p *parser) setHeader(n int, line string) error {
	p.header = line
	fields, _, reason := splitLine(nil, line, maxInt)
	if reason != "" {
		return fmt.Errorf("%s: line %d: header: %s: the format changed?", FormatName, n, reason)
	}
	p.cols = make([]string, len(fields))
	at := make(map[string]int, len(fields))
	for i, f := range fields {
		c := strings.ToLower(trim(f))
		p.cols[i] = c
		if _, dup := at[c]; !dup && c != "" {
			at[c] = i
		}
	}
	p.ncols = len(fields)
	got := feed.Cut(strings.Join(p.cols, ","), 300)
	if p.m == nil {
		m, ok := fromHeader(at)
		if !ok {
			return fmt.Errorf("%s: line %d: cannot tell the report from the name %q or the header %q; set the %q option",
				FormatName, n, p.run.Name, got, OptionReport)
		}
		p.m, p.name = m, m.name
	}
	for _, c := range p.m.required {
		i, ok := at[c]
		if !ok {
			return fmt.Errorf("%s %s: header lacks column %q; got %q", FormatName, p.name, c, got)
		}
		p.req = append(p.req, i)
		p.need = max(p.need, i+1)
	}
	for f := range numFields {
		for _, c := range p.m.cols[f] {
			if i, ok := at[c]; ok {
				p.idx[f] = append(p.idx[f], i)
				p.need = max(p.need, i+1)
				p.hasDst = p.hasDst || f >= fDstIP && f <= fDstURL
			}
		}
	}
	return nil
}

// problem reports line n.
func (p *parser) problem(n int, reason, raw string) {
	p.st.Problems++
	if p.report != nil {
		p.report(feed.Problem{Line: n, Reason: reason, Raw: feed.Cut(raw, focal.MaxRawLine)})
	}
}

// get returns the first non-empty value of field f's columns and the
// column it came from (-1 when all are empty).
func (p *parser) get(f int) (string, int) {
	if len(p.idx[f]) == 1 {
		i := p.idx[f][0]
		if v := trim(p.fields[i]); v != "" {
			return v, i
		}
		return "", -1
	}
	for _, i := range p.idx[f] {
		if v := trim(p.fields[i]); v != "" {
			return v, i
		}
	}
	return "", -1
}

// bad renders a problem reason for column c.
func (p *parser) bad(c int, want, v string) string {
	return fmt.Sprintf("column %q: want %s, got %q", p.cols[c], want, feed.Cut(v, 64))
}

// row turns one data line into an event or a problem.
func (p *parser) row(n int, line string) error {
	var reason string
	var count int
	p.fields, count, reason = splitLine(p.fields[:0], line, p.need)
	if reason != "" {
		p.problem(n, "bad csv: "+reason, line)
		return nil
	}
	if count != p.ncols {
		p.problem(n, fmt.Sprintf("want %d columns as in the header, got %d", p.ncols, count), line)
		return nil
	}
	for _, i := range p.req {
		if trim(p.fields[i]) == "" {
			p.problem(n, fmt.Sprintf("column %q: empty", p.cols[i]), line)
			return nil
		}
	}
	m := p.m
	e := &focal.Event{Class: m.class, Type: m.typ, ObservedTime: p.run.Now}
	if v, c := p.get(fTime); c >= 0 {
		t, ok := p.times.parse(v)
		if !ok {
			p.problem(n, p.bad(c, `a time like "2006-01-02 15:04:05"`, v), line)
			return nil
		}
		e.SourceTime = t
	} else {
		e.SourceTime = p.run.Now
	}
	if v, _ := p.get(fProtocol); v != "" {
		e.Protocol = lowerASCII(v)
	} else {
		e.Protocol = m.consts[fProtocol]
	}
	scheme := "http"
	if e.Protocol == "https" {
		scheme = "https"
	}
	var prefix netip.Prefix
	p.ipText = [2]string{}
	if reason = p.endpoint(&e.Source, fSrcIP, &prefix, scheme); reason == "" && p.hasDst {
		reason = p.endpoint(&e.Destination, fDstIP, nil, scheme)
	}
	if reason != "" {
		p.problem(n, reason, line)
		return nil
	}
	if v, _ := p.get(fMalware); v != "" {
		e.Malware = lowerASCII(v)
	} else {
		e.Malware = m.consts[fMalware]
	}
	if prefix.IsValid() {
		e.Identifier = "cidr:" + prefix.String()
	} else if v, _ := p.get(fIdentifier); v != "" {
		e.Identifier = v
	} else {
		e.Identifier = m.consts[fIdentifier]
	}
	f := p.run.Feed
	e.Feed, e.Provider, e.TLP, e.Confidence = f.Name, f.Provider, f.TLP, f.Confidence
	e.Count = 1
	e.FirstSeen, e.LastSeen = e.SourceTime, e.SourceTime
	e.Raw = feed.Cut(line, focal.MaxRawLine)
	e.DedupKey = p.dedupKey(e, prefix)
	if err := e.Validate(); err != nil {
		p.problem(n, "invalid event: "+err.Error(), line)
		return nil
	}
	if err := p.emit(e); err != nil {
		return err
	}
	p.st.Events++
	return nil
}

// endpoint fills ep from the six fields that start at base (fSrcIP or
// fDstIP). A CIDR prefix in the address column, where the mapping allows
// it, is stored in *prefix.
func (p *parser) endpoint(ep *focal.Endpoint, base int, prefix *netip.Prefix, scheme string) string {
	const ip, port, asn, cc, fqdn, url = 0, 1, 2, 3, 4, 5
	if v, c := p.get(base + ip); c >= 0 {
		if prefix != nil && p.m.prefixes && strings.IndexByte(v, '/') >= 0 {
			pf, err := netip.ParsePrefix(v)
			if err != nil {
				return p.bad(c, "an IP address or CIDR prefix", v)
			}
			if a := pf.Addr(); a.Is4In6() && pf.Bits() >= 96 {
				pf = netip.PrefixFrom(a.Unmap(), pf.Bits()-96)
			}
			pf = pf.Masked()
			if pf.IsSingleIP() {
				ep.IP = pf.Addr()
			} else {
				ep.IP, *prefix = pf.Addr(), pf
			}
		} else {
			a, err := parseIP(v)
			if err != nil || a.Zone() != "" {
				return p.bad(c, "an IP address", v)
			}
			ep.IP = a.Unmap()
			if a.Is4() {
				// ParseAddr takes IPv4 only in its canonical form.
				p.ipText[(base-fSrcIP)/(fDstIP-fSrcIP)] = v
			}
		}
	}
	if v, c := p.get(base + port); c >= 0 {
		n, ok := parsePort(v)
		if !ok {
			return p.bad(c, "a port number", v)
		}
		ep.Port = n
	}
	if v, c := p.get(base + asn); c >= 0 {
		n, ok := parseASN(v)
		if !ok {
			return p.bad(c, "an AS number", v)
		}
		ep.ASN = n
	}
	if v, _ := p.get(base + cc); v != "" {
		ep.Country = country(v)
	}
	if v, _ := p.get(base + fqdn); v != "" {
		ep.FQDN = hostname(v)
	}
	if v, _ := p.get(base + url); v != "" {
		ep.URL = absURL(v, ep, scheme)
	}
	return ""
}

// absURL returns v when it is an absolute URL, v on the endpoint's host
// (as scheme://host/path) when it is a path, else "".
func absURL(v string, ep *focal.Endpoint, scheme string) string {
	if strings.Contains(v, "://") {
		return v
	}
	if v[0] != '/' || strings.HasPrefix(v, "//") {
		return ""
	}
	switch {
	case ep.FQDN != "":
		return scheme + "://" + ep.FQDN + v
	case ep.IP.Is4():
		return scheme + "://" + ep.IP.String() + v
	case ep.IP.IsValid():
		return scheme + "://[" + ep.IP.String() + "]" + v
	}
	return ""
}

// dedupKey renders feed|key fields|report.
func (p *parser) dedupKey(e *focal.Event, prefix netip.Prefix) string {
	b := append(p.key[:0], e.Feed...)
	for _, f := range p.m.key {
		b = append(b, '|')
		ep := &e.Source
		if f >= fDstIP && f <= fDstURL {
			ep, f = &e.Destination, f-(fDstIP-fSrcIP)
		}
		switch f {
		case fSrcIP:
			text := p.ipText[0]
			if ep != &e.Source {
				text = p.ipText[1]
			}
			switch {
			case prefix.IsValid() && ep == &e.Source:
				b = prefix.AppendTo(b)
			case text != "":
				b = append(b, text...)
			case ep.IP.IsValid():
				b = ep.IP.AppendTo(b)
			}
		case fSrcPort:
			if ep.Port != 0 {
				b = strconv.AppendUint(b, uint64(ep.Port), 10)
			}
		case fSrcASN:
			if ep.ASN != 0 {
				b = strconv.AppendUint(b, uint64(ep.ASN), 10)
			}
		case fSrcCountry:
			b = append(b, ep.Country...)
		case fSrcFQDN:
			b = append(b, ep.FQDN...)
		case fSrcURL:
			b = append(b, ep.URL...)
		case fProtocol:
			b = append(b, e.Protocol...)
		case fMalware:
			b = append(b, e.Malware...)
		case fIdentifier:
			b = append(b, e.Identifier...)
		}
	}
	b = append(append(b, '|'), p.name...)
	p.key = b
	return string(b)
}
