package misp

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/mail"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"focal/internal/feed"
	"focal/internal/focal"
)

// Record maps one record from Split (an attribute with its event context)
// to its event. The caller completes and validates it.
func Record(rec []byte, run feed.Run) ([]*focal.Event, error) {
	var r AttributeRecord
	if err := json.Unmarshal(rec, &r); err != nil {
		return nil, jsonReason(err)
	}
	a := r.Attribute
	what := "attribute " + a.Type
	if a.UUID != "" {
		what = fmt.Sprintf("attribute %s (%s)", a.UUID, a.Type)
	}
	e, key, err := endpoint(a)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", what, err)
	}
	e.Identifier = r.Event.UUID
	if strings.HasPrefix(key, "cidr:") {
		e.Identifier = key
		key = strings.TrimPrefix(key, "cidr:")
	}
	e.Class, e.Type = Classify(a.Tags, r.Event.Tags, a.Category, a.Type)
	e.Malware = Malware(a.Tags, r.Event.Tags)
	e.TLP = run.Feed.TLP
	for _, tags := range [][]string{a.Tags, r.Event.Tags} {
		for _, t := range tags {
			if l, ok := tagTLP(t); ok && l.Rank() > e.TLP.Rank() {
				e.TLP = l
			}
		}
	}
	switch {
	case a.Timestamp != "":
		if e.SourceTime, err = unixTime(a.Timestamp); err != nil {
			return nil, fmt.Errorf("%s: timestamp: %v", what, err)
		}
	case r.Event.Date != "":
		t, err := time.Parse(time.DateOnly, strings.TrimSpace(r.Event.Date))
		if err != nil {
			return nil, fmt.Errorf("%s: event date: want YYYY-MM-DD, got %q", what, feed.Cut(r.Event.Date, 64))
		}
		e.SourceTime = t
	case r.Event.Timestamp != "":
		if e.SourceTime, err = unixTime(r.Event.Timestamp); err != nil {
			return nil, fmt.Errorf("%s: event timestamp: %v", what, err)
		}
	}
	if a.FirstSeen != "" {
		if e.FirstSeen, err = isoTime(a.FirstSeen); err != nil {
			return nil, fmt.Errorf("%s: first_seen: %v", what, err)
		}
	}
	if a.LastSeen != "" {
		if e.LastSeen, err = isoTime(a.LastSeen); err != nil {
			return nil, fmt.Errorf("%s: last_seen: %v", what, err)
		}
	}
	if key != "" {
		e.DedupKey = run.Feed.Name + "|" + key + "|" + e.Class + "/" + e.Type
	}
	return []*focal.Event{e}, nil
}

// endpoint places an attribute's value. key is set for a CIDR prefix
// ("cidr:prefix") and an address with a port ("[2001:db8::1]:443");
// other events get the default dedup key.
func endpoint(a Attribute) (*focal.Event, string, error) {
	e := &focal.Event{}
	v := strings.TrimSpace(a.Value)
	if v == "" {
		return nil, "", errors.New("value: empty")
	}
	switch a.Type {
	case "ip-src", "ip-dst":
		ep := &e.Source
		if a.Type == "ip-dst" {
			ep = &e.Destination
		}
		addr, pfx, err := parseAddrOrPrefix(v)
		if err != nil {
			return nil, "", fmt.Errorf("value: %v", err)
		}
		ep.IP = addr
		if pfx.IsValid() {
			return e, "cidr:" + pfx.String(), nil
		}
	case "ip-src|port", "ip-dst|port":
		ep := &e.Source
		if a.Type == "ip-dst|port" {
			ep = &e.Destination
		}
		ip, port, ok := strings.Cut(v, "|")
		if !ok {
			return nil, "", fmt.Errorf("value: want address|port, got %q", feed.Cut(v, 64))
		}
		addr, err := parseAddr(strings.TrimSpace(ip))
		if err != nil {
			return nil, "", fmt.Errorf("value: %v", err)
		}
		p, err := parsePort(port)
		if err != nil {
			return nil, "", fmt.Errorf("value: %v", err)
		}
		ep.IP, ep.Port = addr, p
		return e, netip.AddrPortFrom(addr, p).String(), nil
	case "domain", "hostname":
		d, err := parseDomain(v)
		if err != nil {
			return nil, "", fmt.Errorf("value: %v", err)
		}
		e.Destination.FQDN = d
	case "domain|ip":
		dom, ip, ok := strings.Cut(v, "|")
		if !ok {
			return nil, "", fmt.Errorf("value: want domain|address, got %q", feed.Cut(v, 64))
		}
		d, err := parseDomain(dom)
		if err != nil {
			return nil, "", fmt.Errorf("value: %v", err)
		}
		addr, err := parseAddr(strings.TrimSpace(ip))
		if err != nil {
			return nil, "", fmt.Errorf("value: %v", err)
		}
		e.Destination.FQDN, e.Destination.IP = d, addr
	case "url":
		ep, err := urlEndpoint(v)
		if err != nil {
			return nil, "", fmt.Errorf("value: %v", err)
		}
		e.Destination = ep
	case "email-src":
		m, err := mail.ParseAddress(v)
		if err != nil || m.Address != v || m.Name != "" {
			return nil, "", fmt.Errorf("value: not an e-mail address: %q", feed.Cut(v, 64))
		}
		local, domain, _ := strings.Cut(m.Address, "@")
		d, err := parseDomain(domain)
		if err != nil {
			return nil, "", fmt.Errorf("value: e-mail domain: %v", err)
		}
		e.Source.URL, e.Source.FQDN = "mailto:"+local+"@"+d, d
	case "md5", "sha1", "sha256":
		return nil, "", errors.New("a file hash names no host, and a focal event needs a source or a destination; not imported")
	default:
		return nil, "", fmt.Errorf("type %q is not one focal reads", feed.Cut(a.Type, 64))
	}
	return e, "", nil
}

// Classify returns the RSIT class and type of an attribute: from the
// first rsit: or ecsirt: machine tag of the attribute, else of the event,
// else from the attribute's category and type (CategoryClass).
func Classify(attrTags, eventTags []string, category, typ string) (string, string) {
	for _, tags := range [][]string{attrTags, eventTags} {
		for _, t := range tags {
			if c, ty, ok := MachineTag(t); ok {
				return c, ty
			}
		}
	}
	return CategoryClass(category, typ)
}

// typeAliases translates eCSIRT (and misspelt RSIT) types to RSIT ones;
// a key with a class applies to that class only.
var typeAliases = map[string][2]string{
	"c&c": {"malicious-code", "c2-server"}, "c2server": {"malicious-code", "c2-server"}, "c2": {"malicious-code", "c2-server"},
	"botnet-drone": {"malicious-code", "infected-system"}, "botnet-member": {"malicious-code", "infected-system"},
	"malware": {"malicious-code", "infected-system"}, "virus": {"malicious-code", "infected-system"},
	"worm": {"malicious-code", "infected-system"}, "trojan": {"malicious-code", "infected-system"},
	"spyware": {"malicious-code", "infected-system"}, "dialer": {"malicious-code", "infected-system"},
	"rootkit": {"malicious-code", "infected-system"}, "ransomware": {"malicious-code", "infected-system"},
	"vulnerable-service":                     {"vulnerable", "vulnerable-system"},
	"unauthorized-use-of-resources":          {"fraud", "unauthorised-use-of-resources"},
	"unauthorized-information-access":        {"information-content-security", "unauthorised-information-access"},
	"unauthorized-information-modification":  {"information-content-security", "unauthorised-information-modification"},
	"blacklist":                              {"other", "other"},
	"unknown":                                {"other", "undetermined"},
	"domain-compromise":                      {"intrusions", "system-compromise"},
	"compromised-system":                     {"intrusions", "system-compromise"},
	"information-content-security/dataleak":  {"information-content-security", "data-leak"},
	"information-content-security/data-leak": {"information-content-security", "data-leak"},
}

// MachineTag reads an rsit:class="type" or ecsirt:class="type" tag.
func MachineTag(tag string) (class, typ string, ok bool) {
	t := strings.ToLower(strings.TrimSpace(tag))
	var rest string
	if r, found := strings.CutPrefix(t, "rsit:"); found {
		rest = r
	} else if r, found := strings.CutPrefix(t, "ecsirt:"); found {
		rest = r
	} else {
		return "", "", false
	}
	class, typ, found := strings.Cut(rest, "=")
	if !found {
		return "", "", false
	}
	class = strings.TrimSpace(class)
	typ = strings.Trim(strings.TrimSpace(typ), `"`)
	if _, _, ok := focal.LookupRSIT(class, typ); ok && typ != "" {
		return class, typ, true
	}
	if a, ok := typeAliases[class+"/"+typ]; ok {
		return a[0], a[1], true
	}
	if a, ok := typeAliases[typ]; ok {
		return a[0], a[1], true
	}
	return "", "", false
}

// CategoryClass maps an attribute's MISP category and type to an RSIT
// class and type when no tag classifies it:
//
//   - Payload delivery and Payload installation: the host or URL serving
//     the payload, malicious-code/malware-distribution; an email-src
//     there is a malicious mail's sender, abusive-content/spam.
//   - Network activity: a destination (ip-dst, domain, hostname, url …)
//     is what the malware talks to, malicious-code/c2-server; a source
//     address or sender is not said to do anything specific,
//     other/undetermined.
//   - anything else: other/undetermined.
func CategoryClass(category, typ string) (string, string) {
	src := strings.HasPrefix(typ, "ip-src") || typ == "email-src"
	switch strings.ToLower(strings.TrimSpace(category)) {
	case "payload delivery", "payload installation":
		if typ == "email-src" {
			return "abusive-content", "spam"
		}
		return "malicious-code", "malware-distribution"
	case "network activity":
		if !src {
			return "malicious-code", "c2-server"
		}
	}
	return "other", "undetermined"
}

// malwareGalaxies are the MISP galaxies whose clusters are malware
// families.
var malwareGalaxies = map[string]bool{
	"malpedia": true, "mitre-malware": true, "mitre-enterprise-attack-malware": true,
	"mitre-mobile-attack-malware": true, "ransomware": true, "rat": true, "botnet": true,
	"banker": true, "stealer": true, "backdoor": true, "android": true, "exploit-kit": true,
}

// Malware returns the malware family named by the first misp-galaxy tag
// of a malware galaxy (attribute tags first), lower case, without MITRE's
// " - S0367" id.
func Malware(attrTags, eventTags []string) string {
	for _, tags := range [][]string{attrTags, eventTags} {
		for _, t := range tags {
			rest, ok := cutPrefixFold(strings.TrimSpace(t), "misp-galaxy:")
			if !ok {
				continue
			}
			galaxy, value, ok := strings.Cut(rest, "=")
			if !ok || !malwareGalaxies[strings.ToLower(strings.TrimSpace(galaxy))] {
				continue
			}
			v := strings.Trim(strings.TrimSpace(value), `"`)
			if i := strings.LastIndex(v, " - "); i > 0 && isMitreID(v[i+3:]) {
				v = v[:i]
			}
			if v = strings.ToLower(strings.TrimSpace(v)); v != "" {
				return feed.Cut(v, 128)
			}
		}
	}
	return ""
}

func isMitreID(s string) bool {
	if len(s) < 2 || s[0] != 'S' && s[0] != 'M' {
		return false
	}
	return strings.Trim(s[1:], "0123456789") == ""
}

func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix) {
		return s[len(prefix):], true
	}
	return s, false
}

// tagTLP reads a tlp: tag.
func tagTLP(tag string) (focal.TLP, bool) {
	rest, ok := cutPrefixFold(strings.TrimSpace(tag), "tlp:")
	if !ok {
		return "", false
	}
	l, err := focal.ParseTLP(rest)
	return l, err == nil
}

// unixTime reads unix seconds.
func unixTime(s string) (time.Time, error) {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || n < 0 || n > 32503680000 { // year 3000
		return time.Time{}, fmt.Errorf("want unix seconds, got %q", feed.Cut(s, 64))
	}
	return time.Unix(n, 0).UTC(), nil
}

// isoTime reads MISP's first_seen/last_seen (ISO 8601 with an offset).
func isoTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, l := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999Z0700", "2006-01-02T15:04:05.999999999"} {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("want an ISO 8601 time such as 2026-01-02T03:04:05.000000+00:00, got %q", feed.Cut(s, 64))
}

func parseDomain(s string) (string, error) {
	d := strings.TrimSuffix(strings.ToLower(strings.TrimSpace(s)), ".")
	if err := focal.ValidateDomain(d); err != nil {
		return "", err
	}
	return d, nil
}

// parseAddr reads one address without a zone, unmapped.
func parseAddr(s string) (netip.Addr, error) {
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Addr{}, fmt.Errorf("not an IP address: %q", feed.Cut(s, 64))
	}
	return a.Unmap(), nil
}

// parseAddrOrPrefix reads an address or a CIDR prefix (masked; a full
// length prefix is its address).
func parseAddrOrPrefix(s string) (netip.Addr, netip.Prefix, error) {
	if !strings.Contains(s, "/") {
		a, err := parseAddr(s)
		return a, netip.Prefix{}, err
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

func parsePort(s string) (uint16, error) {
	p, err := strconv.ParseUint(strings.TrimSpace(s), 10, 16)
	if err != nil || p == 0 {
		return 0, fmt.Errorf("bad port %q: want 1 to 65535", feed.Cut(s, 16))
	}
	return uint16(p), nil
}

// urlEndpoint returns a URL's endpoint: the URL as given, its host as IP
// or FQDN (when the host is a valid domain name) and its explicit port.
// MISP URLs often lack the scheme; the host is then read as if the URL
// started with http://.
func urlEndpoint(raw string) (focal.Endpoint, error) {
	if len(raw) > focal.MaxRawLine {
		return focal.Endpoint{}, fmt.Errorf("URL longer than %d bytes", focal.MaxRawLine)
	}
	parse := raw
	if !strings.Contains(raw, "://") {
		parse = "http://" + raw
	}
	u, err := url.Parse(parse)
	if err != nil || u.Host == "" || u.Hostname() == "" {
		return focal.Endpoint{}, fmt.Errorf("want a URL with a host, got %q", feed.Cut(raw, 64))
	}
	ep := focal.Endpoint{URL: raw}
	host := u.Hostname()
	if ip, err := netip.ParseAddr(host); err == nil {
		if ip.Zone() != "" {
			return focal.Endpoint{}, fmt.Errorf("URL host %q has a zone", feed.Cut(host, 64))
		}
		ep.IP = ip.Unmap()
	} else if d, err := parseDomain(host); err == nil {
		ep.FQDN = d
	}
	if p := u.Port(); p != "" {
		n, err := parsePort(p)
		if err != nil {
			return focal.Endpoint{}, fmt.Errorf("URL port: %v", err)
		}
		ep.Port = n
	}
	return ep, nil
}

// jsonReason renders a decoding error of a record.
func jsonReason(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		if te.Field == "" {
			return fmt.Errorf("want a JSON object, got a JSON %s", te.Value)
		}
		return fmt.Errorf("%s: want a %s, got a JSON %s", te.Field, te.Type, te.Value)
	}
	return fmt.Errorf("not a MISP attribute record: %v", err)
}
