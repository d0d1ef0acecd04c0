package observable

import (
	"fmt"
	"strings"
)

// urlParts is a URL validated by parseURL.
type urlParts struct {
	value string // canonical URL, as long as the input
	// hostStart and hostEnd delimit the host in the input (and value),
	// without the brackets of an IPv6 literal.
	hostStart, hostEnd int
	hostKind           Kind
	hostValue          string
}

// isScheme reports whether s is a scheme Extract recognises, in any case.
func isScheme(s string) bool {
	return foldEq(s, "http") || foldEq(s, "https") || foldEq(s, "ftp")
}

// isURLByte reports whether c may appear in a URL as Extract finds them:
// printable ASCII other than white space and <>"`{}|\^.
func isURLByte(c byte) bool {
	if c <= ' ' || c >= 0x7f {
		return false
	}
	switch c {
	case '<', '>', '"', '`', '{', '}', '|', '\\', '^':
		return false
	}
	return true
}

// parseURL validates an http, https or ftp URL whose host is an IP address
// or a domain with a known TLD, and returns it with scheme and host in
// lower case, or the reason it is invalid. The rest of the URL is kept as
// it is; the length does not change.
func parseURL(s string) (urlParts, string) {
	var u urlParts
	p := strings.Index(s, "://")
	if p < 0 {
		return u, `missing "://"`
	}
	if !isScheme(s[:p]) {
		return u, fmt.Sprintf("scheme %q, want http, https or ftp", s[:p])
	}
	for i := p + 3; i < len(s); i++ {
		if !isURLByte(s[i]) {
			return u, fmt.Sprintf("invalid character %q at byte %d", s[i], i)
		}
	}
	a := p + 3
	ae := a
	for ae < len(s) && s[ae] != '/' && s[ae] != '?' && s[ae] != '#' {
		ae++
	}
	hs := a
	if at := strings.LastIndexByte(s[a:ae], '@'); at >= 0 {
		hs = a + at + 1
	}
	var he int
	if hs < ae && s[hs] == '[' {
		rb := strings.IndexByte(s[hs:ae], ']')
		if rb < 0 {
			return u, "unterminated IPv6 literal"
		}
		rb += hs
		if r := checkPort(s[rb+1 : ae]); r != "" {
			return u, r
		}
		v, r := parseIPv6(s[hs+1 : rb])
		if r != "" || strings.IndexByte(s[hs+1:rb], '%') >= 0 {
			return u, "invalid IPv6 literal"
		}
		hs, he = hs+1, rb
		u.hostKind, u.hostValue = KindIPv6, v
	} else {
		he = ae
		if c := strings.LastIndexByte(s[hs:ae], ':'); c >= 0 {
			he = hs + c
			if r := checkPort(s[he:ae]); r != "" {
				return u, r
			}
		}
		host := s[hs:he]
		if host == "" {
			return u, "missing host"
		}
		if isDigitsDots(host) {
			v, r := parseIPv4(host)
			if r != "" {
				return u, "host: " + r
			}
			u.hostKind, u.hostValue = KindIPv4, v
		} else {
			v, r := parseDomain(host)
			if r != "" {
				return u, "host: " + r
			}
			u.hostKind, u.hostValue = KindDomain, v
		}
	}
	u.value = strings.ToLower(s[:p]) + s[p:hs] + strings.ToLower(s[hs:he]) + s[he:]
	if i := firstToken(u.value, false); i >= 0 {
		return urlParts{}, fmt.Sprintf("defanged text left at byte %d after refanging", i)
	}
	u.hostStart, u.hostEnd = hs, he
	return u, ""
}

// checkPort validates what follows the host of a URL: nothing, or ":" and
// a port number.
func checkPort(s string) string {
	if s == "" {
		return ""
	}
	port := s[1:]
	if s[0] != ':' || port == "" || len(port) > 5 || !allDigits(port) || len(port) == 5 && port > "65535" {
		return fmt.Sprintf("invalid port %q", s)
	}
	return ""
}
