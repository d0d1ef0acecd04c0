package observable

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ParseError is the error Parse returns: which value was rejected as which
// kind, and why.
type ParseError struct {
	Kind   Kind
	Value  string
	Reason string
}

// Error returns "observable: parse KIND "VALUE": REASON", with a long value
// shortened.
func (e *ParseError) Error() string {
	v := e.Value
	if len(v) > 64 {
		v = v[:64] + "..."
	}
	return fmt.Sprintf("observable: parse %s %q: %s", e.Kind, v, e.Reason)
}

// Parse validates one value given by a user as the given kind, as in a
// form, and returns the canonical Observable (Raw is the value without
// surrounding white space, Offset the length of the leading white space).
// Defanged forms are refanged first, " dot " included for domains and
// e-mail addresses. Parse is a little more lenient than Extract, which must
// guess the kind: it takes a domain whose TLD is a file extension, an IPv6
// address without digits or with a zone (dropped), a hash of digits only,
// a bare AS number ("64496") and any file name without slashes or control
// characters. For every Observable o that Extract returns,
// Parse(o.Kind, o.Value) returns o.Value. The error is a *ParseError.
func Parse(kind Kind, value string) (Observable, error) {
	raw := strings.TrimSpace(value)
	off := len(value) - len(strings.TrimLeftFunc(value, unicode.IsSpace))
	fail := func(reason string) (Observable, error) {
		return Observable{}, &ParseError{Kind: kind, Value: value, Reason: reason}
	}
	if raw == "" {
		return fail("empty value")
	}
	dotWords := kind == KindDomain || kind == KindEmail
	s := normalize(raw, dotWords).s
	if i := firstToken(s, dotWords); i >= 0 {
		return fail(fmt.Sprintf("defanged text left at byte %d after refanging", i))
	}
	var v, reason string
	switch kind {
	case KindIPv4:
		v, reason = parseIPv4(s)
	case KindIPv6:
		v, reason = parseIPv6(s)
	case KindCIDR:
		v, reason = parseCIDR(s)
	case KindDomain:
		v, reason = parseDomain(s)
	case KindURL:
		var u urlParts
		u, reason = parseURL(s)
		v = u.value
	case KindEmail:
		v, reason = parseEmail(s)
	case KindMD5:
		v, reason = parseHash(s, 32)
	case KindSHA1:
		v, reason = parseHash(s, 40)
	case KindSHA256:
		v, reason = parseHash(s, 64)
	case KindASN:
		v, reason = parseASN(s)
	case KindFilename:
		v, reason = parseFilename(s)
	default:
		reason = "unknown kind"
	}
	if reason != "" {
		return fail(reason)
	}
	return Observable{Kind: kind, Value: v, Raw: raw, Offset: off}, nil
}

// parseIPv4 validates a strict dotted quad: four decimal octets up to 255
// without leading zeros. It returns s or the reason it is invalid.
func parseIPv4(s string) (string, string) {
	octets := 0
	for i := 0; i <= len(s); {
		j := i
		for j < len(s) && s[j] != '.' {
			j++
		}
		o := s[i:j]
		octets++
		switch {
		case octets > 4:
			return "", "more than 4 octets"
		case o == "":
			return "", "empty octet"
		case !allDigits(o):
			return "", fmt.Sprintf("octet %q is not a decimal number", o)
		case len(o) > 1 && o[0] == '0':
			return "", fmt.Sprintf("octet %q has a leading zero", o)
		case len(o) > 3 || o > "255" && len(o) == 3:
			return "", fmt.Sprintf("octet %s is greater than 255", o)
		}
		i = j + 1
	}
	if octets != 4 {
		return "", fmt.Sprintf("%d octets, want 4", octets)
	}
	return s, ""
}

// parseIPv6 validates an IPv6 address, dropping any zone, and returns its
// canonical text or the reason it is invalid.
func parseIPv6(s string) (string, string) {
	if i := strings.IndexByte(s, '%'); i >= 0 {
		s = s[:i]
	}
	if strings.IndexByte(s, ':') < 0 {
		return "", "no colon: not an IPv6 address"
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return "", netipReason(err)
	}
	return a.String(), ""
}

// ipv6Extract is parseIPv6 with the extra conditions under which Extract
// takes a colon-separated word for an IPv6 address: at most 45 bytes, at
// least one decimal digit, and either "::" or a group of more than two
// digits, so that "::", "dead::beef", times and MAC addresses are not.
func ipv6Extract(s string) (netip.Addr, bool) {
	if len(s) > 45 || strings.IndexByte(s, '%') >= 0 || strings.IndexAny(s, "0123456789") < 0 {
		return netip.Addr{}, false
	}
	if !strings.Contains(s, "::") {
		long := false
		for g := range strings.SplitSeq(s, ":") {
			if len(g) > 2 {
				long = true
				break
			}
		}
		if !long {
			return netip.Addr{}, false
		}
	}
	a, err := netip.ParseAddr(s)
	if err != nil || !a.Is6() {
		return netip.Addr{}, false
	}
	return a, true
}

// netipReason returns the reason in an error from net/netip, without the
// function name and input it starts with.
func netipReason(err error) string {
	msg := err.Error()
	if i := strings.LastIndex(msg, "): "); i >= 0 {
		return msg[i+3:]
	}
	return msg
}

// parseCIDR validates an address prefix "addr/bits" and returns it masked,
// or the reason it is invalid.
func parseCIDR(s string) (string, string) {
	slash := strings.LastIndexByte(s, '/')
	if slash < 0 {
		return "", "missing /prefix-length"
	}
	addr, bits := s[:slash], s[slash+1:]
	if !allDigits(bits) || bits == "" {
		return "", fmt.Sprintf("prefix length %q is not a decimal number", bits)
	}
	if len(bits) > 1 && bits[0] == '0' {
		return "", fmt.Sprintf("prefix length %q has a leading zero", bits)
	}
	if strings.IndexByte(addr, ':') < 0 {
		if _, r := parseIPv4(addr); r != "" {
			return "", r
		}
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return "", netipReason(err)
	}
	return p.Masked().String(), ""
}

// parseDomain validates a host name with a known TLD, allowing one trailing
// dot, and returns it in lower case without the dot, or the reason it is
// invalid.
func parseDomain(s string) (string, string) {
	s = strings.TrimSuffix(s, ".")
	if s == "" {
		return "", "empty domain"
	}
	if len(s) > 253 {
		return "", "longer than 253 bytes"
	}
	labels := 0
	for i := 0; i <= len(s); {
		j := i
		for j < len(s) && s[j] != '.' {
			c := s[j]
			if !isAlnum(c) && c != '-' {
				return "", fmt.Sprintf("invalid character %q", c)
			}
			j++
		}
		l := s[i:j]
		labels++
		switch {
		case l == "":
			return "", "empty label"
		case len(l) > 63:
			return "", "label longer than 63 bytes"
		case l[0] == '-' || l[len(l)-1] == '-':
			return "", fmt.Sprintf("label %q starts or ends with a hyphen", l)
		}
		i = j + 1
	}
	if labels < 2 {
		return "", "needs at least two labels"
	}
	s = strings.ToLower(s)
	if tld := s[strings.LastIndexByte(s, '.')+1:]; !knownTLD(tld) {
		return "", fmt.Sprintf("unknown top-level domain %q", tld)
	}
	return s, ""
}

// isLocalChar reports whether c may appear in the local part of an e-mail
// address as Extract and Parse accept it.
func isLocalChar(c byte) bool {
	return isAlnum(c) || c == '.' || c == '_' || c == '+' || c == '-'
}

// parseEmail validates local@domain and returns it in lower case, or the
// reason it is invalid.
func parseEmail(s string) (string, string) {
	at := strings.LastIndexByte(s, '@')
	if at < 0 {
		return "", "missing @"
	}
	local, domain := s[:at], s[at+1:]
	switch {
	case local == "":
		return "", "empty local part"
	case len(local) > 64:
		return "", "local part longer than 64 bytes"
	case local[0] == '.' || local[len(local)-1] == '.' || strings.Contains(local, ".."):
		return "", "misplaced dot in local part"
	}
	for i := range len(local) {
		if !isLocalChar(local[i]) {
			return "", fmt.Sprintf("invalid character %q in local part", local[i])
		}
	}
	d, r := parseDomain(domain)
	if r != "" {
		return "", "domain: " + r
	}
	return strings.ToLower(local) + "@" + d, ""
}

// parseHash validates a hash of size hex digits and returns it in lower
// case, or the reason it is invalid.
func parseHash(s string, size int) (string, string) {
	if len(s) != size {
		return "", fmt.Sprintf("%d characters, want %d hex digits", len(s), size)
	}
	for i := range len(s) {
		if !isHex(s[i]) {
			return "", fmt.Sprintf("invalid hex digit %q", s[i])
		}
	}
	return strings.ToLower(s), ""
}

// hashKind returns the kind of hash Extract takes s for: 32, 40 or 64 hex
// digits with at least one decimal digit and one letter.
func hashKind(s string) (Kind, bool) {
	var k Kind
	switch len(s) {
	case 32:
		k = KindMD5
	case 40:
		k = KindSHA1
	case 64:
		k = KindSHA256
	default:
		return "", false
	}
	digit, letter := false, false
	for i := range len(s) {
		c := s[i]
		switch {
		case isDigit(c):
			digit = true
		case isHex(c):
			letter = true
		default:
			return "", false
		}
	}
	return k, digit && letter
}

// parseASN validates an AS number, "AS64496", "ASN64496", "AS 64496" or
// "64496" in any case, and returns it as "AS64496", or the reason it is
// invalid.
func parseASN(s string) (string, string) {
	n := s
	switch {
	case len(n) >= 3 && foldEq(n[:3], "asn"):
		n = strings.TrimPrefix(n[3:], " ")
	case len(n) >= 2 && foldEq(n[:2], "as"):
		n = strings.TrimPrefix(n[2:], " ")
	}
	return asnNumber(n)
}

// asnNumber validates the number of an AS and returns "AS" and the number,
// or the reason it is invalid.
func asnNumber(n string) (string, string) {
	switch {
	case n == "" || !allDigits(n):
		return "", "not AS followed by a decimal number"
	case len(n) > 1 && n[0] == '0':
		return "", "leading zero"
	}
	v, err := strconv.ParseUint(n, 10, 32)
	switch {
	case err != nil:
		return "", "greater than 4294967295"
	case v == 0:
		return "", "AS0 is reserved"
	case v == 23456:
		return "", "AS23456 is AS_TRANS, a placeholder"
	}
	return "AS" + n, ""
}

// parseFilename validates a file name: UTF-8 of at most 255 bytes without
// slashes, backslashes or control characters, not "." or "..". It returns
// s or the reason it is invalid.
func parseFilename(s string) (string, string) {
	switch {
	case len(s) > 255:
		return "", "longer than 255 bytes"
	case s == "." || s == "..":
		return "", "not a file name"
	case !utf8.ValidString(s):
		return "", "invalid UTF-8"
	}
	for _, r := range s {
		if r == '/' || r == '\\' || unicode.IsControl(r) {
			return "", fmt.Sprintf("invalid character %q", r)
		}
	}
	return s, ""
}

// allDigits reports whether s consists of ASCII digits only.
func allDigits(s string) bool {
	for i := range len(s) {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

// isDigitsDots reports whether s consists of ASCII digits and dots and has
// a digit.
func isDigitsDots(s string) bool {
	digit := false
	for i := range len(s) {
		switch c := s[i]; {
		case isDigit(c):
			digit = true
		case c != '.':
			return false
		}
	}
	return digit
}
