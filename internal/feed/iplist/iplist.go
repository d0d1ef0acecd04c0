// Package iplist parses two line-oriented IP address feeds into
// focal.Event values.
//
// The "iplist" format (blocklist.de and similar) has one IPv4 or IPv6
// address, or one CIDR prefix, per line. Blank lines and lines starting
// with '#' or ';' are ignored, and so is a trailing comment that follows
// the address after whitespace and starts with '#' or ';'. The list
// itself does not say what its addresses did, so the caller names the
// RSIT class and type in Options.
//
// The "dataplane" format (DataPlane.org) has five pipe-separated columns,
// "ASN | ASname | ipaddr | lastseen | category", with lastseen in UTC as
// "2006-01-02 15:04:05"; lines starting with '#' are comments. The
// category gives the RSIT classification (see DataPlaneClass).
//
// Contract (shared with the other parsers under internal/feed): the
// parsers never panic and never stop on a malformed line; such a line is
// passed to the Report callback as a feed.Problem saying what is wrong
// and in which column, and parsing goes on. Each line yields at most one
// event or one problem. Every event has passed focal.Event.Validate before
// it reaches Emit; an event that does not validate becomes a Problem. An
// error from Emit stops the run and is returned as is. The run fails as a
// whole only when the input cannot be read, the options are invalid, or
// (dataplane) the first data line does not have the five columns, which
// means the feed's format changed.
//
// Events carry the address, unmapped from IPv4-mapped IPv6, in
// Source.IP. A CIDR prefix is kept, masked, in Identifier as
// "cidr:198.51.100.0/24" with the network address in Source.IP; a /32 or
// /128 prefix is treated as the single address. Feed, Provider, TLP and
// Confidence come from the feed.Feed; ObservedTime is the run's time;
// SourceTime is the feed's timestamp, or the run's time when the feed has
// none; FirstSeen and LastSeen equal SourceTime; Count is 1; Raw is the
// input line cut to focal.MaxRawLine bytes; DedupKey is
// "feed|address-or-cidr|class/type".
package iplist

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

// Options configures the iplist parser: which RSIT class/type the list
// means (required, validated with focal.Classification.Validate).
type Options struct {
	Class, Type string
}

// DataPlaneTimeLayout is the layout of the dataplane lastseen column (UTC).
const DataPlaneTimeLayout = "2006-01-02 15:04:05"

// dataPlaneFields is the number of columns of a dataplane line.
const dataPlaneFields = 5

// ParseIPList reads a plain list of addresses and CIDR prefixes from r and
// emits one event per address, classified as opt says. It returns an
// error, before reading, when opt is not a valid RSIT classification or
// f has no name; otherwise only a read error or an error from emit ends
// the run early.
func ParseIPList(r io.Reader, f feed.Feed, opt Options, now time.Time, emit feed.Emit, report feed.Report) (feed.Stats, error) {
	var st feed.Stats
	c := focal.Classification{Class: opt.Class, Type: opt.Type}
	if err := c.Validate(); err != nil {
		return st, fmt.Errorf("iplist: options: %w", err)
	}
	if c.Type == "" {
		return st, errors.New("iplist: options: an RSIT type is required")
	}
	if f.Name == "" {
		return st, errors.New("iplist: feed name required")
	}
	if emit == nil {
		return st, errors.New("iplist: emit func required")
	}
	p := parser{f: f, now: now, emit: emit, report: report, st: &st}
	err := feed.Lines(r, func(n int, line string) error {
		st.Lines++
		s := strings.TrimSpace(line)
		if s == "" || s[0] == '#' || s[0] == ';' {
			return nil
		}
		tok, rest := s, ""
		if i := strings.IndexAny(s, " \t"); i >= 0 {
			tok, rest = s[:i], strings.TrimSpace(s[i:])
		}
		if rest != "" && rest[0] != '#' && rest[0] != ';' {
			p.problem(n, line, fmt.Sprintf("unexpected text %q after the address (a comment must start with '#' or ';')", feed.Cut(rest, 64)))
			return nil
		}
		addr, cidr, reason := parseAddrOrPrefix(tok)
		if reason != "" {
			p.problem(n, line, reason)
			return nil
		}
		e := p.event(line, addr, cidr, now, c.Class, c.Type)
		return p.send(n, line, e)
	}, p.tooLong)
	return st, err
}

// ParseDataPlane reads a DataPlane.org list from r and emits one event per
// data line, classified by its category (see DataPlaneClass). A first data
// line with fewer than five pipe-separated fields means the format changed
// and fails the run; later malformed lines are reported as problems.
func ParseDataPlane(r io.Reader, f feed.Feed, now time.Time, emit feed.Emit, report feed.Report) (feed.Stats, error) {
	var st feed.Stats
	if f.Name == "" {
		return st, errors.New("dataplane: feed name required")
	}
	if emit == nil {
		return st, errors.New("dataplane: emit func required")
	}
	p := parser{f: f, now: now, emit: emit, report: report, st: &st}
	seenData := false
	err := feed.Lines(r, func(n int, line string) error {
		st.Lines++
		s := strings.TrimSpace(line)
		if s == "" || s[0] == '#' {
			return nil
		}
		first := !seenData
		seenData = true
		cols := strings.Split(s, "|")
		if len(cols) != dataPlaneFields {
			if first && len(cols) < dataPlaneFields {
				return fmt.Errorf("dataplane: line %d: want %d pipe-separated fields (ASN | ASname | ipaddr | lastseen | category), got %d: the feed format changed?", n, dataPlaneFields, len(cols))
			}
			p.problem(n, line, fmt.Sprintf("want %d pipe-separated fields (ASN | ASname | ipaddr | lastseen | category), got %d", dataPlaneFields, len(cols)))
			return nil
		}
		for i := range cols {
			cols[i] = strings.TrimSpace(cols[i])
		}
		asn, reason := parseASN(cols[0])
		if reason != "" {
			p.problem(n, line, "column 1 (ASN): "+reason)
			return nil
		}
		addr, reason := parseAddr(cols[2])
		if reason != "" {
			p.problem(n, line, "column 3 (ipaddr): "+reason)
			return nil
		}
		ts, err := time.ParseInLocation(DataPlaneTimeLayout, cols[3], time.UTC)
		if err != nil {
			p.problem(n, line, fmt.Sprintf("column 4 (lastseen): want %q in UTC, got %q", DataPlaneTimeLayout, feed.Cut(cols[3], 64)))
			return nil
		}
		cat := strings.ToLower(cols[4])
		if cat == "" {
			p.problem(n, line, "column 5 (category): empty")
			return nil
		}
		class, typ, proto := DataPlaneClass(cat)
		e := p.event(line, addr, netip.Prefix{}, ts, class, typ)
		e.Source.ASN = asn
		e.Identifier = cat
		e.Protocol = proto
		return p.send(n, line, e)
	}, p.tooLong)
	return st, err
}

// DataPlaneClass maps a DataPlane category (lower case) to its RSIT class
// and type and, when the category names one, the protocol. Unknown
// categories map to other/undetermined.
func DataPlaneClass(category string) (class, typ, protocol string) {
	switch category {
	case "sshpwauth":
		return "intrusion-attempts", "brute-force", "ssh"
	case "telnetlogin":
		return "intrusion-attempts", "brute-force", "telnet"
	case "vncrfb":
		return "intrusion-attempts", "brute-force", "vnc"
	case "sipquery", "sipinvitation", "sipregistration":
		return "information-gathering", "scanner", "sip"
	case "dnsrd", "dnsrdany":
		return "vulnerable", "ddos-amplifier", "dns"
	case "proto41":
		return "other", "other", ""
	}
	return "other", "undetermined", ""
}

// parser holds what both formats share while a run goes on.
type parser struct {
	f      feed.Feed
	now    time.Time
	emit   feed.Emit
	report feed.Report
	st     *feed.Stats
}

func (p *parser) problem(n int, line, reason string) {
	p.st.Problems++
	if p.report != nil {
		p.report(feed.Problem{Line: n, Reason: reason, Raw: feed.Cut(line, focal.MaxRawLine)})
	}
}

func (p *parser) tooLong(n int) {
	p.st.Lines++
	p.problem(n, "", fmt.Sprintf("line longer than %d bytes", feed.MaxLine))
}

// event builds the event for one address (or prefix, when cidr is valid).
func (p *parser) event(line string, addr netip.Addr, cidr netip.Prefix, ts time.Time, class, typ string) *focal.Event {
	if ts.IsZero() {
		ts = p.now
	}
	key := addr.String()
	e := &focal.Event{
		SourceTime:   ts,
		ObservedTime: p.now,
		Class:        class,
		Type:         typ,
		Source:       focal.Endpoint{IP: addr},
		Feed:         p.f.Name,
		Provider:     p.f.Provider,
		TLP:          p.f.TLP,
		Confidence:   p.f.Confidence,
		Count:        1,
		FirstSeen:    ts,
		LastSeen:     ts,
		Raw:          feed.Cut(line, focal.MaxRawLine),
	}
	if cidr.IsValid() {
		key = cidr.String()
		e.Identifier = "cidr:" + key
	}
	e.DedupKey = p.f.Name + "|" + key + "|" + class + "/" + typ
	return e
}

// send validates e and emits it, or reports why it does not validate.
func (p *parser) send(n int, line string, e *focal.Event) error {
	if err := e.Validate(); err != nil {
		p.problem(n, line, "invalid event: "+err.Error())
		return nil
	}
	if err := p.emit(e); err != nil {
		return err
	}
	p.st.Events++
	return nil
}

// parseAddrOrPrefix parses an address or a CIDR prefix. A prefix is
// returned masked; a full-length prefix is returned as its address only.
func parseAddrOrPrefix(s string) (netip.Addr, netip.Prefix, string) {
	if !strings.Contains(s, "/") {
		a, reason := parseAddr(s)
		return a, netip.Prefix{}, reason
	}
	pfx, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Addr{}, netip.Prefix{}, fmt.Sprintf("not an IP address or CIDR prefix: %q", feed.Cut(s, 64))
	}
	a, bits := pfx.Addr(), pfx.Bits()
	if a.Is4In6() {
		if bits < 96 {
			return netip.Addr{}, netip.Prefix{}, fmt.Sprintf("IPv4-mapped prefix %q is shorter than /96", feed.Cut(s, 64))
		}
		a, bits = a.Unmap(), bits-96
	}
	pfx = netip.PrefixFrom(a, bits).Masked()
	if bits == a.BitLen() {
		return pfx.Addr(), netip.Prefix{}, ""
	}
	return pfx.Addr(), pfx, ""
}

// parseAddr parses a single IP address without a zone and unmaps it.
func parseAddr(s string) (netip.Addr, string) {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, fmt.Sprintf("not an IP address: %q", feed.Cut(s, 64))
	}
	if a.Zone() != "" {
		return netip.Addr{}, fmt.Sprintf("address %q has a zone", feed.Cut(s, 64))
	}
	return a.Unmap(), ""
}

// parseASN parses a DataPlane ASN column: digits, optionally after "AS";
// "NA" or an empty column means unknown (0).
func parseASN(s string) (uint32, string) {
	if s == "" || strings.EqualFold(s, "NA") {
		return 0, ""
	}
	d := s
	if len(d) > 2 && strings.EqualFold(d[:2], "AS") {
		d = d[2:]
	}
	v, err := strconv.ParseUint(d, 10, 32)
	if err != nil {
		return 0, fmt.Sprintf("want an AS number, got %q", feed.Cut(s, 64))
	}
	return uint32(v), ""
}
