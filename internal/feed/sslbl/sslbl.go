// Package sslbl parses abuse.ch's SSL Blacklist (SSLBL) CSV feeds into
// focal.Event values.
//
// The "sslbl-ip" format is the botnet C2 IP blacklist (and its
// "aggressive" variant): lines starting with '#' are comments, one of
// them the header "# Firstseen,DstIP,DstPort"; every other non-blank line
// is "2026-11-20 10:00:00,198.51.100.5,443", the time in UTC. Each row is
// a malicious-code/c2-server event with the server's address and port as
// Destination and SourceTime = Firstseen.
//
// The "sslbl-cert" format is the SSL certificate blacklist: '#' comments,
// one of them the header "# Listingdate,SHA1,Listingreason", and rows
// "2026-11-20 10:00:00,<40 hex digits>,QakBot C&C". A row names a TLS
// certificate seen on botnet C2 servers, not a host: it has no address,
// domain or URL, while focal.Event.Validate wants a source or a
// destination. The certificate is therefore carried as a URN naming it,
// Destination.URL = "urn:sha1:<hex>", with Identifier "sha1:<hex>". A URN
// has no host, so enrichment matches such an event to no organisation
// (lookup finds no host in it) and no exporter can mistake it for a web
// address to block; what it gives is a searchable record of the
// certificate, its listing date and the malware family. ThreatFox file
// hashes follow the same convention. Events are
// malicious-code/c2-server; Malware is the listing reason without its
// "C&C" suffix, lower case ("QakBot C&C" is "qakbot"), or empty for a
// generic reason ("Malware C&C") or one without that suffix (see Family).
// The reason is the last column and may itself contain commas.
//
// Contract (shared with the other parsers under internal/feed): the
// parsers never panic and never stop on a malformed line; such a line
// (wrong column count, bad time, address, port or SHA1, a line over
// feed.MaxLine) is passed to the Report callback as a feed.Problem saying
// what is wrong and in which column, and parsing goes on. Each line yields
// at most one event or one problem. Every event has passed
// focal.Event.Validate before it reaches Emit; one that does not becomes a
// Problem. An error from Emit stops the run and is returned as is. The run
// fails as a whole only when the input cannot be read or its format
// changed: a header comment (one starting with Firstseen or Listingdate)
// that is not this format's header, which also catches the other SSLBL
// list given to the wrong format, or an HTML page. Feed, Provider, TLP and
// Confidence come from the feed.Feed; ObservedTime is the run's time;
// FirstSeen and LastSeen equal SourceTime; Count is 1; Raw is the line cut
// to focal.MaxRawLine bytes; DedupKey is "feed|ip:port|class/type" or
// "feed|sha1:<hex>|class/type".
package sslbl

import (
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
	FormatIP   = "sslbl-ip"
	FormatCert = "sslbl-cert"
)

// TimeLayout is the layout of the Firstseen and Listingdate columns (UTC).
const TimeLayout = "2006-01-02 15:04:05"

// The headers, lower case, as the feeds write them after '#'.
var (
	ipHeader   = []string{"firstseen", "dstip", "dstport"}
	certHeader = []string{"listingdate", "sha1", "listingreason"}
)

// ParseIP reads the SSLBL botnet C2 IP blacklist and emits one
// malicious-code/c2-server event per row.
func ParseIP(r io.Reader, f feed.Feed, now time.Time, emit feed.Emit, report feed.Report) (feed.Stats, error) {
	return parse(r, f, now, emit, report, FormatIP, ipHeader, ipRow)
}

// ParseCert reads the SSLBL certificate blacklist and emits one
// malicious-code/c2-server event per row, the certificate as a
// "urn:sha1:" destination (see the package doc).
func ParseCert(r io.Reader, f feed.Feed, now time.Time, emit feed.Emit, report feed.Report) (feed.Stats, error) {
	return parse(r, f, now, emit, report, FormatCert, certHeader, certRow)
}

// rowFunc maps the columns of one row (exactly len(header), trimmed) to an
// event without the feed's fields and its indicator, or a reason.
type rowFunc func(cols []string) (*focal.Event, string, error)

func parse(r io.Reader, f feed.Feed, now time.Time, emit feed.Emit, report feed.Report, name string, header []string, row rowFunc) (feed.Stats, error) {
	var st feed.Stats
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
	want := len(header)
	err := feed.Lines(r, func(n int, line string) error {
		st.Lines++
		s := strings.TrimSpace(strings.TrimPrefix(line, "\ufeff"))
		switch {
		case s == "":
			return nil
		case s[0] == '#':
			return checkHeader(name, n, strings.TrimSpace(strings.TrimLeft(s, "#")), header)
		case s[0] == '<':
			return fmt.Errorf("%s: line %d: the input looks like HTML or XML, not an SSLBL CSV list: the feed format changed?", name, n)
		}
		// The last column is free text and keeps any commas.
		cols := strings.SplitN(s, ",", want)
		if len(cols) != want || (name == FormatIP && strings.Contains(cols[want-1], ",")) {
			got := len(cols)
			if got == want {
				got = strings.Count(s, ",") + 1
			}
			problem(n, line, fmt.Sprintf("want %d comma-separated columns (%s), got %d", want, strings.Join(header, ","), got))
			return nil
		}
		for i := range cols {
			cols[i] = strings.TrimSpace(cols[i])
		}
		e, ind, err := row(cols)
		if err != nil {
			problem(n, line, err.Error())
			return nil
		}
		e.ObservedTime = now
		e.Feed, e.Provider, e.TLP, e.Confidence = f.Name, f.Provider, f.TLP, f.Confidence
		e.Count = 1
		e.FirstSeen, e.LastSeen = e.SourceTime, e.SourceTime
		e.Raw = feed.Cut(line, focal.MaxRawLine)
		e.DedupKey = f.Name + "|" + ind + "|" + e.Class + "/" + e.Type
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

// checkHeader fails the run when text (a comment without its '#') is an
// SSLBL header, one starting with Firstseen or Listingdate, that is not
// header; other comments pass.
func checkHeader(name string, n int, text string, header []string) error {
	cols := strings.Split(text, ",")
	first := strings.ToLower(strings.TrimSpace(cols[0]))
	if first != ipHeader[0] && first != certHeader[0] {
		return nil
	}
	for i := range cols {
		cols[i] = strings.ToLower(strings.TrimSpace(cols[i]))
	}
	got, want := strings.Join(cols, ","), strings.Join(header, ",")
	if got == want {
		return nil
	}
	hint := ""
	switch got {
	case strings.Join(ipHeader, ","):
		hint = " (this is the SSLBL IP blacklist, format " + FormatIP + ")"
	case strings.Join(certHeader, ","):
		hint = " (this is the SSLBL certificate blacklist, format " + FormatCert + ")"
	}
	return fmt.Errorf("%s: line %d: header is %q, want %q%s: the feed format changed?", name, n, feed.Cut(got, 200), want, hint)
}

// ipRow maps "Firstseen,DstIP,DstPort".
func ipRow(cols []string) (*focal.Event, string, error) {
	ts, err := parseTime(cols[0])
	if err != nil {
		return nil, "", fmt.Errorf("column 1 (Firstseen): %v", err)
	}
	ip, err := netip.ParseAddr(cols[1])
	if err != nil || ip.Zone() != "" {
		return nil, "", fmt.Errorf("column 2 (DstIP): not an IP address: %q", cut(cols[1]))
	}
	ip = ip.Unmap()
	port, err := strconv.ParseUint(cols[2], 10, 16)
	if err != nil || port == 0 {
		return nil, "", fmt.Errorf("column 3 (DstPort): want a port from 1 to 65535, got %q", cut(cols[2]))
	}
	e := &focal.Event{
		SourceTime:  ts,
		Class:       "malicious-code",
		Type:        "c2-server",
		Destination: focal.Endpoint{IP: ip, Port: uint16(port)},
	}
	return e, netip.AddrPortFrom(ip, uint16(port)).String(), nil
}

// certRow maps "Listingdate,SHA1,Listingreason".
func certRow(cols []string) (*focal.Event, string, error) {
	ts, err := parseTime(cols[0])
	if err != nil {
		return nil, "", fmt.Errorf("column 1 (Listingdate): %v", err)
	}
	sha1 := strings.ToLower(cols[1])
	if len(sha1) != 40 || strings.Trim(sha1, "0123456789abcdef") != "" {
		return nil, "", fmt.Errorf("column 2 (SHA1): want 40 hexadecimal digits, got %q", cut(cols[1]))
	}
	id := "sha1:" + sha1
	e := &focal.Event{
		SourceTime:  ts,
		Class:       "malicious-code",
		Type:        "c2-server",
		Destination: focal.Endpoint{URL: "urn:" + id},
		Identifier:  id,
		Malware:     Family(cols[2]),
	}
	return e, id, nil
}

// generic are listing reasons that name no malware family.
var generic = map[string]bool{
	"": true, "malware": true, "unknown": true, "botnet": true, "generic": true,
	"ransomware": true, "rat": true, "adware": true,
}

// Family returns the malware family a listing reason names: the reason
// without its trailing "C&C" (or "C2", "CnC"), lower case. It returns ""
// for a reason without that suffix (it may not name a family), a generic
// one ("Malware C&C") or an implausibly long one.
func Family(reason string) string {
	low := strings.ToLower(strings.TrimSpace(reason))
	for _, suffix := range []string{" c&c", " c2", " cnc"} {
		if strings.HasSuffix(low, suffix) {
			low = strings.TrimSpace(strings.TrimSuffix(low, suffix))
			if generic[low] || len(low) > 64 {
				return ""
			}
			return low
		}
	}
	return ""
}

// parseTime reads an SSLBL time, UTC.
func parseTime(s string) (time.Time, error) {
	t, err := time.Parse(TimeLayout, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("want a time as %q (UTC), got %q", TimeLayout, cut(s))
	}
	if t.Year() < 1970 {
		return time.Time{}, errors.New("time before 1970")
	}
	return t, nil
}

// cut bounds a value quoted in a reason.
func cut(s string) string { return feed.Cut(s, 64) }
