// Package phish parses phishing URL feeds into focal.Event values.
//
// The "openphish" format is OpenPhish's feed: one URL per line; blank
// lines and lines starting with '#' are ignored. The list has no times,
// so SourceTime is the run's time.
//
// The "phishtank" format is PhishTank's CSV database dump: a first line
// that must be the header
// "phish_id,url,phish_detail_url,submission_time,verified,verification_time,online,target"
// (blank lines before it are allowed), then one quoted CSV row per line.
// Times are RFC 3339. SourceTime and FirstSeen are submission_time;
// LastSeen is verification_time when that is later. Identifier is the
// target (the imitated brand) unless it is empty, "Other" or over 128
// bytes. A row whose
// verified column is "no" is reported as a problem (an unconfirmed
// report is not a phishing event); verified must be "yes" or "no".
//
// Both map to RSIT fraud/phishing with the URL, as given, in
// Destination.URL, the URL's host in Destination.IP when it is an address
// literal or in Destination.FQDN (lower case, without a trailing dot) when
// it is a valid domain name, and the URL's explicit port in
// Destination.Port. A host that is neither (an internationalised name not
// in xn-- form, a label with '_', a single label) leaves both empty: the
// event keeps the URL, which is what was reported and what enrichment
// matches, rather than becoming a problem. A URL must be absolute with a
// host, at most MaxURL bytes, without white space or control characters.
//
// Contract (shared with the other parsers under internal/feed): the
// parsers never panic and never stop on a malformed line; such a line
// (bad URL, time, id or verified value, wrong column count, a line over
// feed.MaxLine) is passed to the Report callback as a feed.Problem saying
// what is wrong and in which column, and parsing goes on. Each line yields
// at most one event or one problem. Every event has passed
// focal.Event.Validate before it reaches Emit; one that does not becomes a
// Problem. An error from Emit stops the run and is returned as is. The run
// fails as a whole only when the input cannot be read or its format
// changed: for phishtank a first line that is not the header, for
// openphish an HTML page. Feed, Provider, TLP and Confidence come from the
// feed.Feed; ObservedTime is the run's time; Count is 1; Raw is the line
// cut to focal.MaxRawLine bytes; DedupKey is "feed|URL|fraud/phishing".
package phish

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
	"unicode"

	"focal/internal/feed"
	"focal/internal/focal"
)

// The format names.
const (
	FormatOpenPhish = "openphish"
	FormatPhishTank = "phishtank"
)

// MaxURL bounds a URL; a longer one is a problem.
const MaxURL = 8 << 10

// The classification of every event.
const (
	Class = "fraud"
	Type  = "phishing"
)

var phishTankHeader = []string{"phish_id", "url", "phish_detail_url", "submission_time", "verified", "verification_time", "online", "target"}

// ParseOpenPhish reads an OpenPhish feed and emits one fraud/phishing
// event per URL.
func ParseOpenPhish(r io.Reader, f feed.Feed, now time.Time, emit feed.Emit, report feed.Report) (feed.Stats, error) {
	p, err := newParser(FormatOpenPhish, f, now, emit, report)
	if err != nil {
		return feed.Stats{}, err
	}
	err = feed.Lines(r, func(n int, line string) error {
		p.st.Lines++
		s := strings.TrimSpace(strings.TrimPrefix(line, "\ufeff"))
		switch {
		case s == "" || s[0] == '#':
			return nil
		case s[0] == '<':
			return fmt.Errorf("%s: line %d: the input looks like HTML or XML, not a list of URLs: the feed format changed?", FormatOpenPhish, n)
		}
		dst, err := Endpoint(s)
		if err != nil {
			p.problem(n, line, err.Error())
			return nil
		}
		return p.send(n, line, &focal.Event{SourceTime: now, Destination: dst})
	}, p.tooLong)
	return p.st, err
}

// ParsePhishTank reads a PhishTank CSV dump and emits one fraud/phishing
// event per verified row.
func ParsePhishTank(r io.Reader, f feed.Feed, now time.Time, emit feed.Emit, report feed.Report) (feed.Stats, error) {
	p, err := newParser(FormatPhishTank, f, now, emit, report)
	if err != nil {
		return feed.Stats{}, err
	}
	want := len(phishTankHeader)
	header := false
	err = feed.Lines(r, func(n int, line string) error {
		p.st.Lines++
		s := strings.TrimSpace(strings.TrimPrefix(line, "\ufeff"))
		if s == "" {
			return nil
		}
		cr := csv.NewReader(strings.NewReader(s))
		cr.FieldsPerRecord = -1
		rec, err := cr.Read()
		if !header {
			header = true
			return checkHeader(n, s, rec, err)
		}
		if err != nil {
			p.problem(n, line, "bad CSV: "+csvReason(err))
			return nil
		}
		if len(rec) != want {
			p.problem(n, line, fmt.Sprintf("want %d columns (%s), got %d", want, strings.Join(phishTankHeader, ","), len(rec)))
			return nil
		}
		e, err := phishTankRow(rec)
		if err != nil {
			p.problem(n, line, err.Error())
			return nil
		}
		return p.send(n, line, e)
	}, p.tooLong)
	return p.st, err
}

// checkHeader fails the run unless the first line is PhishTank's header.
func checkHeader(n int, s string, rec []string, err error) error {
	got := make([]string, len(rec))
	for i, c := range rec {
		got[i] = strings.ToLower(strings.TrimSpace(c))
	}
	want := strings.Join(phishTankHeader, ",")
	if err == nil && strings.Join(got, ",") == want {
		return nil
	}
	found := strings.Join(got, ",")
	if err != nil {
		found = s
	}
	return fmt.Errorf("%s: line %d: want the header %q, found %q: the feed format changed?", FormatPhishTank, n, want, feed.Cut(found, 200))
}

// phishTankRow maps the eight columns of a PhishTank row.
func phishTankRow(rec []string) (*focal.Event, error) {
	for i := range rec {
		rec[i] = strings.TrimSpace(rec[i])
	}
	if id, err := strconv.ParseUint(rec[0], 10, 64); err != nil || id == 0 {
		return nil, fmt.Errorf("column 1 (phish_id): want a positive number, got %q", cut(rec[0]))
	}
	dst, err := Endpoint(rec[1])
	if err != nil {
		return nil, fmt.Errorf("column 2 (url): %v", err)
	}
	submitted, err := parseTime(rec[3])
	if err != nil {
		return nil, fmt.Errorf("column 4 (submission_time): %v", err)
	}
	switch strings.ToLower(rec[4]) {
	case "yes":
	case "no":
		return nil, errors.New("column 5 (verified): not verified as phishing, skipped")
	default:
		return nil, fmt.Errorf("column 5 (verified): want yes or no, got %q", cut(rec[4]))
	}
	var verified time.Time
	if rec[5] != "" {
		if verified, err = parseTime(rec[5]); err != nil {
			return nil, fmt.Errorf("column 6 (verification_time): %v", err)
		}
	}
	e := &focal.Event{SourceTime: submitted, Destination: dst, LastSeen: verified}
	if t := rec[7]; t != "" && !strings.EqualFold(t, "other") && len(t) <= 128 {
		e.Identifier = t
	}
	return e, nil
}

// Endpoint returns the destination of a phishing URL: the URL, its host as
// an address or a domain name (see the package doc) and its port.
func Endpoint(raw string) (focal.Endpoint, error) {
	if raw == "" {
		return focal.Endpoint{}, errors.New("empty URL")
	}
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

// parseTime reads an RFC 3339 time, returned in UTC.
func parseTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("want an RFC 3339 time, got %q", cut(s))
	}
	t = t.UTC()
	if t.Year() < 1970 || t.Year() > 9999 {
		return time.Time{}, fmt.Errorf("time %q out of range", cut(s))
	}
	return t, nil
}

// csvReason renders a csv error without the reader's own (always 1) line.
func csvReason(err error) string {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return fmt.Sprintf("column %d: %v", pe.Column, pe.Err)
	}
	return err.Error()
}

// cut bounds a value quoted in a reason.
func cut(s string) string { return feed.Cut(s, 100) }

// parser holds what both formats share while a run goes on.
type parser struct {
	f      feed.Feed
	now    time.Time
	emit   feed.Emit
	report feed.Report
	st     feed.Stats
}

func newParser(name string, f feed.Feed, now time.Time, emit feed.Emit, report feed.Report) (*parser, error) {
	if f.Name == "" {
		return nil, fmt.Errorf("%s: feed name required", name)
	}
	if emit == nil {
		return nil, fmt.Errorf("%s: emit func required", name)
	}
	return &parser{f: f, now: now, emit: emit, report: report}, nil
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

// send completes e with the classification and what comes from the feed
// and the run, validates it and emits it, or reports why it does not
// validate.
func (p *parser) send(n int, line string, e *focal.Event) error {
	e.Class, e.Type = Class, Type
	e.ObservedTime = p.now
	e.Feed, e.Provider, e.TLP, e.Confidence = p.f.Name, p.f.Provider, p.f.TLP, p.f.Confidence
	e.Count = 1
	e.FirstSeen = e.SourceTime
	if e.LastSeen.Before(e.FirstSeen) {
		e.LastSeen = e.FirstSeen
	}
	e.Raw = feed.Cut(line, focal.MaxRawLine)
	e.DedupKey = p.f.Name + "|" + e.Destination.URL + "|" + Class + "/" + Type
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
