// Package stixfeed reads STIX 2.0 and 2.1 bundles (format "stix") into
// focal events.
//
// The input is one JSON object {"type": "bundle", "id": "bundle--…",
// "objects": […]} (a TAXII envelope, an object with "objects" and no
// "type", is read the same way). Split streams it with encoding/json's
// token decoder, holding one object's needed properties at a time, and
// emits self-contained records; Record maps one record to events. Two
// kinds of objects become events:
//
//   - indicator objects whose pattern_type is "stix" (or absent, as in
//     STIX 2.0) and whose pattern is one comparison, or comparisons joined
//     by OR (inside one observation or across observations), with = or IN
//     (and ISSUBSET for addresses), on ipv4-addr:value, ipv6-addr:value
//     (an address or a CIDR prefix), domain-name:value, url:value or
//     email-addr:value: one event per compared value. SourceTime is
//     valid_from. A pattern with AND, FOLLOWEDBY, NOT, qualifiers, other
//     operators or other object paths, and other pattern types (sigma,
//     snort, yara …), are reported as a problem naming what was not
//     understood. file:hashes.'SHA-256', 'SHA-1' and MD5 comparisons are
//     understood but name no host, and a focal event needs a source or a
//     destination: an indicator that has only hashes is reported as a
//     problem saying so; hashes ORed with host values are left out.
//   - observed-data objects: first_observed, last_observed and
//     number_observed become FirstSeen (and SourceTime), LastSeen and
//     Count, and each ipv4-addr, ipv6-addr, domain-name or url object it
//     holds becomes one event. The objects are either embedded (the STIX
//     2.0 "objects" dictionary, deprecated in 2.1) or referenced by
//     object_refs from anywhere in the bundle; Split keeps the
//     observables it meets (at most MaxSCOs, and MaxBuffered bytes
//     together with the observed-data waiting for them) and inlines them.
//     A reference it cannot resolve is reported; observed-data with no
//     observable of those types is reported too.
//
// Revoked objects are skipped, and so is every other object type.
//
// Mapping. The classification comes from labels and indicator_types (see
// Classify): phishing → fraud/phishing; c2, botnet and
// malicious-activity → malicious-code/c2-server; compromised →
// intrusions/system-compromise; rsit:class="type" labels directly; and
// so on, else other/undetermined. An indicator of "benign" activity is
// reported, not imported. confidence (1–100) becomes Confidence (0, which
// a focal event cannot tell from "unset", gets the feed's). The TLP
// is the feed's unless object_marking_refs references a TLP marking
// definition (the TLP 2.0 ones, or the TLP 1.0 ones of STIX 2.1, WHITE
// read as CLEAR) stricter than the feed's label: the stricter label is
// kept. Address and domain values are placed by classification: the
// destination for what victims connect to (c2-server,
// malware-distribution, malware-configuration, phishing; and every URL
// and domain name), the source otherwise (the infected host, the scanner,
// the attacker). A CIDR prefix keeps its network address in the
// endpoint's IP and the prefix in Identifier as "cidr:…"; otherwise
// Identifier is the STIX id of the indicator or observed-data. An e-mail
// address becomes the source as URL "mailto:address" with its domain as
// FQDN. DedupKey is feed + "|" + the value (address, prefix, domain, URL
// or mailto: URL) + "|" + class/type.
//
// Contract (package feed's): the parser never panics; an unusable object
// is reported as a feed.Problem with the 1-based line where it starts, a
// reason naming the object and the property, and the record cut to
// focal.MaxRawLine; parsing goes on. The run fails only when the input
// cannot be read, is not a STIX bundle (say what was found instead and
// where), has broken JSON, or holds a single JSON value over feed.MaxJSONValue
// bytes. Every event passes focal.Event.Validate before it is emitted
// (feed.RecordEvents checks it), and an error from Emit stops the run and
// is returned as is.
package stixfeed

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/mail"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"focal/internal/feed"
	"focal/internal/focal"
)

// Format is the format name.
const Format = "stix"

// TLP marking definitions: the TLP 2.0 extension's, and STIX 2.1's
// predefined TLP 1.0 ones.
var markingTLP = map[string]focal.TLP{
	"marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487": focal.TLPClear,
	"marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb": focal.TLPGreen,
	"marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421": focal.TLPAmber,
	"marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003": focal.TLPAmberStrict,
	"marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1": focal.TLPRed,
	"marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9": focal.TLPClear, // TLP 1.0 WHITE
	"marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da": focal.TLPGreen,
	"marking-definition--f88d31f6-486f-44da-b317-01333bde0b82": focal.TLPAmber,
	"marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed": focal.TLPRed,
}

// MarkingTLP returns the TLP label of a marking definition id.
func MarkingTLP(id string) (focal.TLP, bool) {
	t, ok := markingTLP[strings.ToLower(strings.TrimSpace(id))]
	return t, ok
}

// object is a record: the properties of an indicator or observed-data
// that Record reads.
type object struct {
	Type           string                     `json:"type"`
	ID             string                     `json:"id"`
	Pattern        *string                    `json:"pattern"`
	PatternType    string                     `json:"pattern_type"`
	ValidFrom      string                     `json:"valid_from"`
	Labels         []string                   `json:"labels"`
	IndicatorTypes []string                   `json:"indicator_types"`
	Confidence     *json.Number               `json:"confidence"`
	Markings       []string                   `json:"object_marking_refs"`
	FirstObserved  string                     `json:"first_observed"`
	LastObserved   string                     `json:"last_observed"`
	NumberObserved *json.Number               `json:"number_observed"`
	Objects        map[string]json.RawMessage `json:"objects"`
}

// Record maps one record from Split (an indicator, or an observed-data
// with its observables inlined) to its events. The caller completes and
// validates them.
func Record(rec []byte, run feed.Run) ([]*focal.Event, error) {
	var o object
	dec := json.NewDecoder(bytes.NewReader(rec))
	dec.UseNumber()
	if err := dec.Decode(&o); err != nil {
		var id struct {
			ID string `json:"id"`
		}
		if json.Unmarshal(rec, &id) == nil && id.ID != "" {
			return nil, fmt.Errorf("%s: %v", feed.Cut(id.ID, 100), jsonReason(err))
		}
		return nil, jsonReason(err)
	}
	base := focal.Event{Identifier: o.ID}
	if o.Confidence != nil {
		c, err := strconv.Atoi(o.Confidence.String())
		if err != nil || c < 0 || c > 100 {
			return nil, fmt.Errorf("%s: confidence: want an integer from 0 to 100, got %s", o.ID, feed.Cut(o.Confidence.String(), 32))
		}
		base.Confidence = c
	}
	base.TLP = run.Feed.TLP
	for _, m := range o.Markings {
		if t, ok := MarkingTLP(m); ok && t.Rank() > base.TLP.Rank() {
			base.TLP = t
		}
	}
	switch o.Type {
	case "indicator":
		return indicator(&o, base, run)
	case "observed-data":
		return observed(&o, base, run)
	}
	return nil, fmt.Errorf("type %q: focal reads indicator and observed-data objects", feed.Cut(o.Type, 64))
}

func indicator(o *object, base focal.Event, run feed.Run) ([]*focal.Event, error) {
	if pt := strings.ToLower(strings.TrimSpace(o.PatternType)); pt != "" && pt != "stix" {
		return nil, fmt.Errorf("%s: pattern_type %q: focal reads STIX patterns only", o.ID, feed.Cut(o.PatternType, 64))
	}
	if o.Pattern == nil || strings.TrimSpace(*o.Pattern) == "" {
		return nil, fmt.Errorf("%s: no pattern", o.ID)
	}
	class, typ, benign := Classify(append(append([]string(nil), o.IndicatorTypes...), o.Labels...))
	if benign {
		return nil, fmt.Errorf("%s: indicator of benign activity (indicator_types/labels say \"benign\"): not imported", o.ID)
	}
	var err error
	if base.SourceTime, err = stixTime(o.ValidFrom); err != nil {
		return nil, fmt.Errorf("%s: valid_from: %v", o.ID, err)
	}
	pat, err := ParsePattern(*o.Pattern)
	if err != nil {
		return nil, fmt.Errorf("%s: pattern: %v", o.ID, err)
	}
	comps, err := pat.Simple()
	if err != nil {
		return nil, fmt.Errorf("%s: pattern not understood: %s; focal reads one comparison or comparisons joined by OR, with = or IN",
			o.ID, strings.TrimPrefix(err.Error(), ErrNotSimple.Error()+": "))
	}
	var evs []*focal.Event
	var hashes []string
	seen := map[string]bool{}
	for _, c := range comps {
		path := c.Path.String()
		kind, ok := pathKind(c.Path)
		if !ok {
			return nil, fmt.Errorf("%s: pattern: object path %s is not one focal reads (ipv4-addr:value, ipv6-addr:value, domain-name:value, url:value, email-addr:value, file:hashes)", o.ID, path)
		}
		if c.Op == "ISSUBSET" && kind != "ipv4-addr" && kind != "ipv6-addr" {
			return nil, fmt.Errorf("%s: pattern: operator ISSUBSET on %s is not understood", o.ID, path)
		}
		for _, v := range c.Values() {
			if v.Kind != LitString {
				return nil, fmt.Errorf("%s: pattern: %s compared with a non-string value %q", o.ID, path, feed.Cut(v.Text, 64))
			}
			if kind == "hash" {
				hashes = append(hashes, path)
				continue
			}
			e := base
			key, err := setValue(&e, kind, v.Text, typ)
			if err != nil {
				return nil, fmt.Errorf("%s: pattern: %s: %v", o.ID, path, err)
			}
			if seen[key] {
				continue
			}
			seen[key] = true
			e.Class, e.Type = class, typ
			e.DedupKey = run.Feed.Name + "|" + key + "|" + class + "/" + typ
			evs = append(evs, &e)
		}
	}
	if len(evs) == 0 && len(hashes) > 0 {
		return nil, fmt.Errorf("%s: %s indicator: a file hash names no host, and a focal event needs a source or a destination; not imported", o.ID, hashes[0])
	}
	return evs, nil
}

func observed(o *object, base focal.Event, run feed.Run) ([]*focal.Event, error) {
	var err error
	if base.FirstSeen, err = stixTime(o.FirstObserved); err != nil {
		return nil, fmt.Errorf("%s: first_observed: %v", o.ID, err)
	}
	if base.LastSeen, err = stixTime(o.LastObserved); err != nil {
		return nil, fmt.Errorf("%s: last_observed: %v", o.ID, err)
	}
	if !base.FirstSeen.IsZero() && base.LastSeen.Before(base.FirstSeen) {
		return nil, fmt.Errorf("%s: last_observed %s is before first_observed %s", o.ID, o.LastObserved, o.FirstObserved)
	}
	base.SourceTime = base.FirstSeen
	if o.NumberObserved != nil {
		n, err := strconv.Atoi(o.NumberObserved.String())
		if err != nil || n < 1 || n > 999_999_999 {
			return nil, fmt.Errorf("%s: number_observed: want an integer from 1 to 999999999, got %s", o.ID, feed.Cut(o.NumberObserved.String(), 32))
		}
		base.Count = n
	}
	class, typ, benign := Classify(o.Labels)
	if benign {
		return nil, fmt.Errorf("%s: observed-data labelled benign: not imported", o.ID)
	}
	keys := make([]string, 0, len(o.Objects))
	for k := range o.Objects {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var evs []*focal.Event
	seen := map[string]bool{}
	for _, k := range keys {
		var sc struct {
			Type  string `json:"type"`
			Value any    `json:"value"`
		}
		if json.Unmarshal(o.Objects[k], &sc) != nil || !scoTypes[sc.Type] {
			continue
		}
		v, ok := sc.Value.(string)
		if !ok {
			return nil, fmt.Errorf("%s: object %s (%s): value: want a string", o.ID, feed.Cut(k, 80), sc.Type)
		}
		e := base
		key, err := setValue(&e, sc.Type, v, typ)
		if err != nil {
			return nil, fmt.Errorf("%s: object %s (%s): value: %v", o.ID, feed.Cut(k, 80), sc.Type, err)
		}
		if seen[key] {
			continue
		}
		seen[key] = true
		e.Class, e.Type = class, typ
		e.DedupKey = run.Feed.Name + "|" + key + "|" + class + "/" + typ
		evs = append(evs, &e)
	}
	if len(evs) == 0 {
		return nil, fmt.Errorf("%s: observed-data holds no ipv4-addr, ipv6-addr, domain-name or url object", o.ID)
	}
	return evs, nil
}

// pathKind names what an object path compares: an observable type, or
// "hash".
func pathKind(p ObjectPath) (string, bool) {
	switch {
	case len(p.Steps) == 1 && p.Steps[0].Key == "value" && !p.Steps[0].IsIndex && !p.Steps[0].Any:
		switch p.Type {
		case "ipv4-addr", "ipv6-addr", "domain-name", "url", "email-addr":
			return p.Type, true
		}
	case p.Type == "file" && len(p.Steps) == 2 && p.Steps[0].Key == "hashes" && !p.Steps[1].IsIndex && !p.Steps[1].Any:
		switch strings.ToUpper(strings.ReplaceAll(p.Steps[1].Key, "-", "")) {
		case "SHA256", "SHA1", "MD5":
			return "hash", true
		}
	}
	return "", false
}

// serverTypes are the RSIT types whose indicator is something victims
// connect to: it goes to the destination.
var serverTypes = map[string]bool{
	"c2-server": true, "malware-distribution": true, "malware-configuration": true, "phishing": true,
}

// setValue puts an observable's value into e and returns its dedup
// indicator.
func setValue(e *focal.Event, kind, v, typ string) (string, error) {
	v = strings.TrimSpace(v)
	ep := &e.Source
	switch kind {
	case "ipv4-addr", "ipv6-addr":
		if serverTypes[typ] {
			ep = &e.Destination
		}
		addr, pfx, err := parseAddrOrPrefix(v)
		if err != nil {
			return "", err
		}
		if kind == "ipv4-addr" && !addr.Is4() || kind == "ipv6-addr" && !addr.Is6() {
			return "", fmt.Errorf("%q is not an %s address", feed.Cut(v, 64), map[string]string{"ipv4-addr": "IPv4", "ipv6-addr": "IPv6"}[kind])
		}
		ep.IP = addr
		if pfx.IsValid() {
			e.Identifier = "cidr:" + pfx.String()
			return pfx.String(), nil
		}
		return addr.String(), nil
	case "domain-name":
		d := strings.TrimSuffix(strings.ToLower(v), ".")
		if err := focal.ValidateDomain(d); err != nil {
			return "", err
		}
		e.Destination.FQDN = d
		return d, nil
	case "url":
		dst, err := urlEndpoint(v)
		if err != nil {
			return "", err
		}
		e.Destination = dst
		return dst.URL, nil
	case "email-addr":
		a, err := mail.ParseAddress(v)
		if err != nil || a.Address != v || a.Name != "" {
			return "", fmt.Errorf("not an e-mail address: %q", feed.Cut(v, 64))
		}
		local, domain, _ := strings.Cut(a.Address, "@")
		domain = strings.TrimSuffix(strings.ToLower(domain), ".")
		if err := focal.ValidateDomain(domain); err != nil {
			return "", fmt.Errorf("e-mail domain: %v", err)
		}
		e.Source.URL = "mailto:" + local + "@" + domain
		e.Source.FQDN = domain
		return e.Source.URL, nil
	}
	return "", fmt.Errorf("unknown observable type %q", kind)
}

// parseAddrOrPrefix reads an address or a CIDR prefix (masked; a full
// length prefix is its address). IPv4-mapped IPv6 is unmapped.
func parseAddrOrPrefix(s string) (netip.Addr, netip.Prefix, error) {
	if !strings.Contains(s, "/") {
		a, err := netip.ParseAddr(s)
		if err != nil || a.Zone() != "" {
			return netip.Addr{}, netip.Prefix{}, fmt.Errorf("not an IP address: %q", feed.Cut(s, 64))
		}
		return a.Unmap(), netip.Prefix{}, nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Addr{}, netip.Prefix{}, fmt.Errorf("not an IP address or CIDR prefix: %q", feed.Cut(s, 64))
	}
	a, bits := p.Addr(), p.Bits()
	if a.Is4In6() {
		if bits < 96 {
			return netip.Addr{}, netip.Prefix{}, fmt.Errorf("IPv4-mapped prefix %q is shorter than /96", feed.Cut(s, 64))
		}
		a, bits = a.Unmap(), bits-96
	}
	p = netip.PrefixFrom(a, bits).Masked()
	if bits == a.BitLen() {
		return p.Addr(), netip.Prefix{}, nil
	}
	return p.Addr(), p, nil
}

// urlEndpoint returns a URL's endpoint: the URL, its host as IP or FQDN
// (when the host is a valid domain name), and its explicit port.
func urlEndpoint(raw string) (focal.Endpoint, error) {
	if raw == "" {
		return focal.Endpoint{}, errors.New("empty URL")
	}
	if len(raw) > focal.MaxRawLine {
		return focal.Endpoint{}, fmt.Errorf("URL longer than %d bytes", focal.MaxRawLine)
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.Host == "" || u.Hostname() == "" {
		return focal.Endpoint{}, fmt.Errorf("want an absolute URL with a host, got %q", feed.Cut(raw, 64))
	}
	ep := focal.Endpoint{URL: raw}
	host := u.Hostname()
	if ip, err := netip.ParseAddr(host); err == nil {
		if ip.Zone() != "" {
			return focal.Endpoint{}, fmt.Errorf("URL host %q has a zone", feed.Cut(host, 64))
		}
		ep.IP = ip.Unmap()
	} else if d := strings.TrimSuffix(strings.ToLower(host), "."); focal.ValidateDomain(d) == nil {
		ep.FQDN = d
	}
	if p := u.Port(); p != "" {
		n, err := strconv.ParseUint(p, 10, 16)
		if err != nil || n == 0 {
			return focal.Endpoint{}, fmt.Errorf("URL port %q: want 1 to 65535", feed.Cut(p, 16))
		}
		ep.Port = uint16(n)
	}
	return ep, nil
}

// stixTime reads a STIX timestamp (RFC 3339, normally UTC with Z); "" is
// the zero time.
func stixTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("want an RFC 3339 timestamp such as 2026-01-02T03:04:05Z, got %q", feed.Cut(s, 64))
	}
	return t.UTC(), nil
}

// jsonReason renders a decoding error of a record.
func jsonReason(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		if te.Field == "" {
			return fmt.Errorf("want a JSON object, got a JSON %s", te.Value)
		}
		return fmt.Errorf("%s: want %s, got a JSON %s", te.Field, goType(te.Type.String()), te.Value)
	}
	return fmt.Errorf("not a STIX object: %v", err)
}

func goType(t string) string {
	switch {
	case strings.HasPrefix(t, "[]"):
		return "a list of " + strings.TrimPrefix(goType(t[2:]), "a ") + "s"
	case strings.HasPrefix(t, "map["):
		return "an object"
	case strings.Contains(t, "Number"), strings.HasPrefix(t, "int"):
		return "a number"
	case strings.HasPrefix(t, "*"):
		return goType(t[1:])
	}
	return "a " + t
}
