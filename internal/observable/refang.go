package observable

import (
	"sort"
	"strings"
)

// Refang turns a defanged string back into its plain form. It replaces,
// ignoring case:
//
//	[.] (.) {.} [dot] (dot) {dot} and " dot "  with "."
//	[:]                                         with ":"
//	[://]                                       with "://"
//	[@] (@) [at] (at)                           with "@"
//	hxxp hxxps fxp                              with http https ftp
//
// The schemes only where they start a word and are followed by ":" (or a
// defanged ":"), so "hxxp" in other words is left alone; nothing else is
// touched. Refang scans once from the left, so nested forms such as
// "[[.]]" come out as "[.]".
func Refang(s string) string {
	return normalize(s, true).s
}

// Defang renders the Value of o safe to display, so that no user interface
// turns a malicious indicator into a live link: in URLs the scheme becomes
// hxxp, hxxps or fxp and, after "://", every "." becomes "[.]" and every
// further "://" becomes "[://]"; in domains, IPv4 and e-mail addresses "."
// becomes "[.]" and "@" becomes "[@]"; in IPv6 addresses and CIDRs "."
// becomes "[.]" and ":" becomes "[:]". Hashes, ASNs and file names are
// returned as they are; a Kind Defang does not know gets the URL treatment
// of its whole Value plus "[@]". For every Observable o that Extract
// returns, Refang(Defang(o)) == o.Value.
func Defang(o Observable) string {
	v := o.Value
	switch o.Kind {
	case KindURL:
		p := strings.Index(v, "://")
		if p < 0 {
			return defangRest(v)
		}
		scheme := v[:p]
		switch strings.ToLower(scheme) {
		case "http":
			scheme = "hxxp"
		case "https":
			scheme = "hxxps"
		case "ftp":
			scheme = "fxp"
		}
		return scheme + "://" + defangRest(v[p+3:])
	case KindDomain, KindIPv4, KindEmail:
		return strings.NewReplacer(".", "[.]", "@", "[@]").Replace(v)
	case KindIPv6, KindCIDR:
		return strings.NewReplacer(".", "[.]", ":", "[:]").Replace(v)
	case KindMD5, KindSHA1, KindSHA256, KindASN, KindFilename:
		return v
	}
	return strings.ReplaceAll(defangRest(v), "@", "[@]")
}

// defangRest defangs the part of a URL after its scheme.
func defangRest(s string) string {
	return strings.NewReplacer("://", "[://]", ".", "[.]").Replace(s)
}

// rep records one replacement that changed the length of the text: the
// bytes at o (ol of them) in the original became nl bytes at n.
type rep struct {
	n, o, nl, ol int
}

// norm is a refanged text with what it takes to map its offsets back.
type norm struct {
	s    string
	reps []rep // in order of n
}

// normalize refangs s in one pass from the left, as Refang does, replacing
// " dot " only if dotWords is set.
func normalize(s string, dotWords bool) norm {
	var b strings.Builder // empty until the first replacement
	var reps []rep
	last := 0 // s[last:i] is still to be copied
	for i := 0; i < len(s); i++ {
		// The common cases are kept out of matchToken.
		switch c := s[i]; {
		case c == '[' || c == '(' || c == '{':
		case c|0x20 == 'h' || c|0x20 == 'f':
			if i+1 == len(s) || s[i+1]|0x20 != 'x' {
				continue
			}
		case c == ' ' && dotWords:
		default:
			continue
		}
		r, size := matchToken(s, i, dotWords)
		if size == 0 {
			continue
		}
		if last == 0 {
			b.Grow(len(s))
		}
		b.WriteString(s[last:i])
		if len(r) != size {
			reps = append(reps, rep{n: b.Len(), o: i, nl: len(r), ol: size})
		}
		b.WriteString(r)
		i += size - 1
		last = i + 1
	}
	if last == 0 {
		return norm{s: s}
	}
	b.WriteString(s[last:])
	return norm{s: b.String(), reps: reps}
}

// start maps the offset p of a byte in m.s to the offset in the original
// text of the bytes it came from.
func (m *norm) start(p int) int {
	k := sort.Search(len(m.reps), func(i int) bool { return m.reps[i].n > p }) - 1
	if k < 0 {
		return p
	}
	r := m.reps[k]
	if p < r.n+r.nl {
		return r.o
	}
	return r.o + r.ol + p - r.n - r.nl
}

// end maps the end offset p (exclusive) of a span of m.s to the end offset
// in the original text; a span ending inside a replacement takes all of
// the replaced text.
func (m *norm) end(p int) int {
	k := sort.Search(len(m.reps), func(i int) bool { return m.reps[i].n >= p }) - 1
	if k < 0 {
		return p
	}
	r := m.reps[k]
	if p < r.n+r.nl {
		return r.o + r.ol
	}
	return r.o + r.ol + p - r.n - r.nl
}

// firstToken returns the offset of the first defanged form in s that
// normalize would replace, or -1.
func firstToken(s string, dotWords bool) int {
	for i := range len(s) {
		if _, size := matchToken(s, i, dotWords); size > 0 {
			return i
		}
	}
	return -1
}

// matchToken reports the defanged form starting at s[i], if any: its
// replacement and its length in s (0 if there is none).
func matchToken(s string, i int, dotWords bool) (string, int) {
	switch c := s[i]; c {
	case '[', '(', '{':
		closer := byte(']')
		var inners []string
		switch c {
		case '[':
			inners = []string{".", "dot", "://", ":", "@", "at"}
		case '(':
			closer = ')'
			inners = []string{".", "dot", "@", "at"}
		default:
			closer = '}'
			inners = []string{".", "dot"}
		}
		for _, in := range inners {
			j := i + 1 + len(in)
			if j < len(s) && s[j] == closer && foldEq(s[i+1:j], in) {
				switch in {
				case ".", "dot":
					return ".", j + 1 - i
				case "@", "at":
					return "@", j + 1 - i
				}
				return in, j + 1 - i
			}
		}
	case 'h', 'H':
		if i > 0 && isAlnum(s[i-1]) || len(s)-i < 5 ||
			lower(s[i+1]) != 'x' || lower(s[i+2]) != 'x' || lower(s[i+3]) != 'p' {
			return "", 0
		}
		if lower(s[i+4]) == 's' && schemeColon(s, i+5) {
			return "https", 5
		}
		if schemeColon(s, i+4) {
			return "http", 4
		}
	case 'f', 'F':
		if i > 0 && isAlnum(s[i-1]) || len(s)-i < 4 ||
			lower(s[i+1]) != 'x' || lower(s[i+2]) != 'p' {
			return "", 0
		}
		if schemeColon(s, i+3) {
			return "ftp", 3
		}
	case ' ':
		if dotWords && len(s)-i >= 5 && foldEq(s[i:i+5], " dot ") {
			return ".", 5
		}
	}
	return "", 0
}

// schemeColon reports whether s[j:] starts with ":" or a defanged ":".
func schemeColon(s string, j int) bool {
	rest := s[j:]
	return strings.HasPrefix(rest, ":") || strings.HasPrefix(rest, "[:]") || strings.HasPrefix(rest, "[://]")
}

// lower returns c in lower case if it is an ASCII letter.
func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// isAlnum reports whether c is an ASCII letter or digit.
func isAlnum(c byte) bool {
	return isAlpha(c) || isDigit(c)
}

// isAlpha reports whether c is an ASCII letter.
func isAlpha(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

// isDigit reports whether c is an ASCII digit.
func isDigit(c byte) bool {
	return '0' <= c && c <= '9'
}

// isHex reports whether c is an ASCII hex digit.
func isHex(c byte) bool {
	return isDigit(c) || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// foldEq reports whether s equals t, a lower-case ASCII string, ignoring
// the case of ASCII letters only.
func foldEq(s, t string) bool {
	if len(s) != len(t) {
		return false
	}
	for i := range len(s) {
		if lower(s[i]) != t[i] {
			return false
		}
	}
	return true
}
