package lookup

import (
	"net/netip"
	"strings"
)

// URL returns the organisations owning the host of rawURL: by [Table.IP] if
// the host is an IP literal, else by [Table.Domain]. It is lenient, as feeds
// are: the scheme is optional ("example.org/path", "//example.org"),
// userinfo and port are skipped ("u:p@example.org:8080"), backslashes end the
// authority like slashes, percent-escapes in the host are decoded, a bracketed
// host is an IPv6 literal, and an unbracketed one with several colons is
// taken as a bare IPv6 address. As in browsers, a host whose last label is a
// number is an IPv4 address in any form a browser accepts ("0x7f.1",
// "2130706433"), never a domain. Defanged hosts ("example[.]org") are not
// refanged. URL returns nil if there is no host or the host is a malformed
// IP literal or percent-escape. The result is shared with the table and must
// not be modified. URL does not allocate, except for hosts with
// percent-escapes and for malformed IPv6 literals.
func (t *Table) URL(rawURL string) []int64 {
	if t == nil {
		return nil
	}
	h := urlHost(rawURL)
	if strings.IndexByte(h, '%') >= 0 && h[0] != '[' {
		var ok bool
		if h, ok = percentDecode(h); !ok {
			return nil
		}
	}
	return t.host(h)
}

// host looks up a host extracted by urlHost, percent-escapes decoded.
func (t *Table) host(h string) []int64 {
	switch {
	case h == "":
		return nil
	case h[0] == '[':
		if len(h) < 2 || h[len(h)-1] != ']' {
			return nil // only from a percent-escaped '['
		}
		a, err := netip.ParseAddr(h[1 : len(h)-1])
		if err != nil {
			return nil
		}
		return t.IP(a)
	case strings.IndexByte(h, ':') >= 0:
		a, err := netip.ParseAddr(h)
		if err != nil {
			return nil
		}
		return t.IP(a)
	case endsInNumber(h):
		a, ok := parseIPv4(h)
		if !ok {
			return nil
		}
		return t.IP(a)
	}
	return t.Domain(h)
}

// urlHost returns the host part of a URL, without userinfo and port, as a
// substring of s; a bracketed IPv6 literal keeps its brackets. It returns ""
// if there is no host.
func urlHost(s string) string {
	s = strings.TrimSpace(s)
	s = s[schemeLen(s):]
	s = strings.TrimLeft(s, `/\`)
	if i := strings.IndexAny(s, `/\?#`); i >= 0 {
		s = s[:i]
	}
	if i := strings.LastIndexByte(s, '@'); i >= 0 {
		s = s[i+1:]
	}
	if strings.HasPrefix(s, "[") {
		i := strings.IndexByte(s, ']')
		if i < 2 {
			return "" // unterminated or empty literal
		}
		return s[:i+1]
	}
	if i := strings.IndexByte(s, ':'); i >= 0 && strings.IndexByte(s[i+1:], ':') < 0 {
		s = s[:i] // host:port
	}
	return s
}

// schemeLen returns the length of a leading "scheme:" in s, or 0. A scheme
// counts only if followed by a slash or backslash, or if it is one of the
// special schemes browsers accept without slashes ("http:example.org"): a
// bare "example.org:8080/path" has no scheme.
func schemeLen(s string) int {
	if s == "" || !isAlpha(s[0]) {
		return 0
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		switch {
		case isAlpha(c), '0' <= c && c <= '9', c == '+', c == '-', c == '.':
			continue
		case c != ':':
			return 0
		}
		if i+1 < len(s) && (s[i+1] == '/' || s[i+1] == '\\') {
			return i + 1
		}
		for _, special := range [...]string{"http", "https", "hxxp", "hxxps", "ftp", "ws", "wss"} {
			if strings.EqualFold(s[:i], special) {
				return i + 1
			}
		}
		return 0
	}
	return 0
}

func isAlpha(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

// percentDecode decodes %XX escapes; ok is false for a malformed escape.
func percentDecode(s string) (string, bool) {
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			b = append(b, s[i])
			continue
		}
		if i+2 >= len(s) {
			return "", false
		}
		hi, ok1 := unhex(s[i+1])
		lo, ok2 := unhex(s[i+2])
		if !ok1 || !ok2 {
			return "", false
		}
		b = append(b, hi<<4|lo)
		i += 2
	}
	return string(b), true
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// endsInNumber reports whether the last label of host (ignoring one trailing
// dot) is a decimal or 0x-hexadecimal number, which makes host an IPv4
// address in the WHATWG URL standard.
func endsInNumber(h string) bool {
	h = strings.TrimSuffix(h, ".")
	if i := strings.LastIndexByte(h, '.'); i >= 0 {
		h = h[i+1:]
	}
	if h == "" {
		return false
	}
	if allDigits(h, 10) {
		return true
	}
	return len(h) >= 2 && h[0] == '0' && (h[1] == 'x' || h[1] == 'X') && allDigits(h[2:], 16)
}

func allDigits(s string, base uint64) bool {
	for i := 0; i < len(s); i++ {
		if d, ok := digit(s[i]); !ok || d >= base {
			return false
		}
	}
	return true
}

func digit(c byte) (uint64, bool) {
	d, ok := unhex(c)
	return uint64(d), ok
}

// parseIPv4 parses host the way the WHATWG URL standard's IPv4 parser does:
// one to four dot-separated parts, each decimal, octal (leading 0) or
// hexadecimal (0x); the last part fills the remaining bytes.
func parseIPv4(h string) (netip.Addr, bool) {
	if strings.HasSuffix(h, ".") && len(h) > 1 {
		h = h[:len(h)-1]
	}
	var parts [4]uint64
	n := 0
	for rest := h; ; {
		part := rest
		i := strings.IndexByte(rest, '.')
		if i >= 0 {
			part, rest = rest[:i], rest[i+1:]
		}
		if n == 4 {
			return netip.Addr{}, false
		}
		v, ok := parseIPv4Part(part)
		if !ok {
			return netip.Addr{}, false
		}
		parts[n] = v
		n++
		if i < 0 {
			break
		}
	}
	var v uint64
	for i := range n - 1 {
		if parts[i] > 255 {
			return netip.Addr{}, false
		}
		v |= parts[i] << (8 * (3 - i))
	}
	last := parts[n-1]
	if last >= 1<<(8*(5-n)) {
		return netip.Addr{}, false
	}
	v |= last
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), true
}

// parseIPv4Part parses one part of an IPv4 host; values above 2^32 fail.
func parseIPv4Part(s string) (uint64, bool) {
	if s == "" {
		return 0, false
	}
	base := uint64(10)
	switch {
	case len(s) >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'):
		base, s = 16, s[2:]
	case len(s) >= 2 && s[0] == '0':
		base, s = 8, s[1:]
	}
	var v uint64
	for i := 0; i < len(s); i++ {
		d, ok := digit(s[i])
		if !ok || d >= base {
			return 0, false
		}
		v = v*base + d
		if v > 1<<32 {
			return 0, false
		}
	}
	return v, true
}
