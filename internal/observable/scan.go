package observable

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// found is an observable at [start, end) of the normalized text.
type found struct {
	kind       Kind
	value      string
	start, end int
}

// span is a URL at [start, end) of the normalized text, with what to emit
// for it when the scan reaches it.
type span struct {
	start, end int
	url, host  found
}

// scanner finds observables in a normalized (refanged) text. URLs are found
// first; the rest of the text is cut into runs of the bytes indicators are
// made of, and each run is taken apart by e-mail "@", then "/", then ":",
// then "+", down to words that are classified on their own. Every step
// looks at each byte a bounded number of times.
type scanner struct {
	n   string
	out []found
}

// emit records an observable.
func (sc *scanner) emit(k Kind, v string, start, end int) {
	sc.out = append(sc.out, found{kind: k, value: v, start: start, end: end})
}

// urls returns the URLs, in order.
func (sc *scanner) urls() []span {
	n := sc.n
	var spans []span
	for from := 0; ; {
		i := strings.Index(n[from:], "://")
		if i < 0 {
			return spans
		}
		p := from + i
		from = p + 3
		s := p
		for s > 0 && p-s <= 5 && isAlpha(n[s-1]) {
			s--
		}
		if s > 0 && (isAlnum(n[s-1]) || n[s-1] == '_') || !isScheme(n[s:p]) {
			continue
		}
		// The authority is checked before the URL is followed to its end:
		// authorities never overlap, so rejecting URLs costs linear time,
		// and a URL that is followed to its end is never looked at again.
		e := p + 3
		for e < len(n) && isURLByte(n[e]) && n[e] != '/' && n[e] != '?' && n[e] != '#' {
			e++
		}
		if e < len(n) && isURLByte(n[e]) {
			if _, reason := parseURL(n[s:e]); reason != "" {
				continue
			}
			for e < len(n) && isURLByte(n[e]) {
				e++
			}
			from = e
		}
		e = trimURLTail(n, p+3, e)
		if t := firstToken(n[s:e], false); t >= 0 {
			// Nested defanging ("[[.]]") left a defanged form in the
			// refanged text: the URL ends before it. One cut is enough, as
			// trimming creates no new form.
			e = trimURLTail(n, p+3, s+t)
		}
		u, reason := parseURL(n[s:e])
		if reason != "" {
			continue
		}
		spans = append(spans, span{
			start: s, end: e,
			url:  found{kind: KindURL, value: u.value, start: s, end: e},
			host: found{kind: u.hostKind, value: u.hostValue, start: s + u.hostStart, end: s + u.hostEnd},
		})
		from = e
	}
}

// trimURLTail returns the end of the URL n[:e] whose authority starts at
// lo without trailing punctuation, quotes and unbalanced closing
// parentheses and brackets.
func trimURLTail(n string, lo, e int) int {
	if e < lo {
		return lo
	}
	paren, bracket := 0, 0 // opening minus closing
	for i := lo; i < e; i++ {
		switch n[i] {
		case '(':
			paren++
		case ')':
			paren--
		case '[':
			bracket++
		case ']':
			bracket--
		}
	}
	for e > lo {
		switch n[e-1] {
		case '.', ',', ';', ':', '!', '?', '\'', '*':
		case ')':
			if paren >= 0 {
				return e
			}
			paren++
		case ']':
			if bracket >= 0 {
				return e
			}
			bracket++
		case '(':
			paren--
		case '[':
			bracket--
		default:
			return e
		}
		e--
	}
	return e
}

// isRunByte reports whether c may be part of an indicator outside a URL.
func isRunByte(c byte) bool {
	if isAlnum(c) {
		return true
	}
	switch c {
	case '.', '-', '_', '@', ':', '/', '+':
		return true
	}
	return false
}

// runs emits the URLs and cuts the text outside them into runs to take
// apart, so that everything is emitted in order of start. A run touching a
// non-ASCII letter or digit is inside a word and skipped.
func (sc *scanner) runs(urls []span) {
	n := sc.n
	u := 0
	for i := 0; i < len(n); {
		if u < len(urls) && i >= urls[u].start {
			sc.out = append(sc.out, urls[u].url, urls[u].host)
			i = urls[u].end
			u++
			continue
		}
		if !isRunByte(n[i]) {
			i++
			continue
		}
		limit := len(n)
		if u < len(urls) {
			limit = urls[u].start
		}
		a, plain := i, true
		for i < limit && isRunByte(n[i]) {
			plain = plain && isAlnum(n[i])
			i++
		}
		if plain && !isHashLen(i-a) && !(i-a >= 2 && n[a]|0x20 == 'a' && n[a+1]|0x20 == 's') {
			continue // most words of prose: no hash, no ASN
		}
		if !wordRuneBefore(n, a) && !wordRuneAfter(n, i) {
			sc.run(a, i)
		}
	}
}

// isHashLen reports whether a word of n bytes may be a hash.
func isHashLen(n int) bool {
	return n == 32 || n == 40 || n == 64
}

// wordRuneBefore reports whether a non-ASCII letter or digit ends n[:i].
func wordRuneBefore(n string, i int) bool {
	if i == 0 || n[i-1] < utf8.RuneSelf {
		return false
	}
	r, _ := utf8.DecodeLastRuneInString(n[:i])
	return unicode.IsLetter(r) || unicode.IsDigit(r)
}

// wordRuneAfter reports whether a non-ASCII letter or digit starts n[i:].
func wordRuneAfter(n string, i int) bool {
	if i == len(n) || n[i] < utf8.RuneSelf {
		return false
	}
	r, _ := utf8.DecodeRuneInString(n[i:])
	return unicode.IsLetter(r) || unicode.IsDigit(r)
}

// isDomainByte reports whether c may be part of a domain.
func isDomainByte(c byte) bool {
	return isAlnum(c) || c == '.' || c == '-'
}

// run takes apart the run n[a:b]: e-mail addresses first, the rest by
// slash.
func (sc *scanner) run(a, b int) {
	n := sc.n
	last := a // n[last:i] is still to be taken apart
	for i := a; i < b; i++ {
		if n[i] != '@' {
			continue
		}
		ls := i
		for ls > last && isLocalChar(n[ls-1]) {
			ls--
		}
		for ls < i && n[ls] == '.' {
			ls++
		}
		de := i + 1
		for de < b && isDomainByte(n[de]) {
			de++
		}
		for de > i+1 && (n[de-1] == '.' || n[de-1] == '-') {
			de--
		}
		if dot := strings.LastIndexByte(n[i+1:de], '.'); ls < i && dot > 0 && knownTLD(strings.ToLower(n[i+2+dot:de])) {
			if v, r := parseEmail(n[ls:de]); r == "" {
				sc.slash(last, ls)
				sc.emit(KindEmail, v, ls, de)
				sc.emit(KindDomain, v[i-ls+1:], i+1, de)
				last = de
				i = de - 1
				continue
			}
		}
		sc.slash(last, i)
		last = i + 1
	}
	sc.slash(last, b)
}

// slash takes apart n[a:b], which has no e-mail address, at its slashes,
// finding CIDR prefixes on the way.
func (sc *scanner) slash(a, b int) {
	n := sc.n
	for i := a; i < b; {
		j := i
		for j < b && n[j] != '/' {
			j++
		}
		if j < b {
			k := j + 1
			for k < b && isDigit(n[k]) {
				k++
			}
			m := k
			for m < b && (n[m] == '.' || n[m] == ':' || n[m] == '-' || n[m] == '_') {
				m++
			}
			if k > j+1 && (m == b || n[m] == '/') {
				if cs, v, ok := sc.cidr(i, j, k); ok {
					sc.colon(i, cs)
					sc.emit(KindCIDR, v, cs, k)
					i = m + 1
					continue
				}
			}
		}
		sc.colon(i, j)
		i = j + 1
	}
}

// cidr reports whether n[:j] ends in an address, starting no earlier than
// i, that with the prefix length n[j+1:k] makes a CIDR; it returns where
// the address starts and the masked prefix.
func (sc *scanner) cidr(i, j, k int) (int, string, bool) {
	n := sc.n
	s := j
	for s > i && (isHex(n[s-1]) || n[s-1] == ':' || n[s-1] == '.') {
		s--
	}
	if n[s] == ':' && s+1 < j && n[s+1] != ':' {
		s++
	}
	for s < j && n[s] == '.' {
		s++
	}
	if s > i && (isAlnum(n[s-1]) || n[s-1] == '_' || n[s-1] == '-') || s == j {
		return 0, "", false
	}
	bits := n[j+1 : k]
	if len(bits) > 3 || len(bits) > 1 && bits[0] == '0' {
		return 0, "", false
	}
	addr := n[s:j]
	if isDigitsDots(addr) {
		if strings.Count(addr, ".") != 3 {
			return 0, "", false
		}
		if _, r := parseIPv4(addr); r != "" {
			return 0, "", false
		}
	} else if _, ok := ipv6Extract(addr); !ok {
		return 0, "", false
	}
	v, r := parseCIDR(n[s:k])
	return s, v, r == ""
}

// colon takes apart n[a:b], which has no slash, at its colons, finding
// IPv6 addresses: runs of at least three colon-separated fields of up to
// four hex digits, the last of which may be a dotted quad.
func (sc *scanner) colon(a, b int) {
	n := sc.n
	if strings.IndexByte(n[a:b], ':') < 0 {
		sc.plain(a, b)
		return
	}
	gs, fields := -1, 0 // start and size of the current group of fields
	for fs := a; fs <= b; {
		fe := fs
		for fe < b && n[fe] != ':' {
			fe++
		}
		f := n[fs:fe]
		hex := len(f) <= 4 && allHex(f)
		dotted := !hex && isDigitsDots(f)
		switch {
		case hex || dotted:
			if gs < 0 {
				gs, fields = fs, 0
			}
			fields++
			if dotted {
				sc.group(gs, fe, fields)
				gs = -1
			}
		default:
			if gs >= 0 {
				sc.group(gs, fs-1, fields)
				gs = -1
			}
			sc.plain(fs, fe)
		}
		fs = fe + 1
	}
	if gs >= 0 {
		sc.group(gs, b, fields)
	}
}

// group emits the IPv6 address in the group of colon-separated fields
// n[a:b], if it is one, or else takes the fields one by one.
func (sc *scanner) group(a, b, fields int) {
	n := sc.n
	if fields >= 3 {
		e := b
		for e > a && n[e-1] == '.' {
			e--
		}
		if addr, ok := ipv6Extract(n[a:e]); ok {
			sc.emit(KindIPv6, addr.String(), a, e)
			return
		}
		if e-a > 2 && n[e-1] == ':' && n[e-2] != ':' {
			if addr, ok := ipv6Extract(n[a : e-1]); ok {
				sc.emit(KindIPv6, addr.String(), a, e-1)
				return
			}
		}
	}
	for fs := a; fs < b; {
		fe := fs
		for fe < b && n[fe] != ':' {
			fe++
		}
		sc.plain(fs, fe)
		fs = fe + 1
	}
}

// allHex reports whether s consists of ASCII hex digits.
func allHex(s string) bool {
	for i := range len(s) {
		if !isHex(s[i]) {
			return false
		}
	}
	return true
}

// plain takes apart n[a:b], which has no "@", "/" or ":", at its plus
// signs and classifies the words.
func (sc *scanner) plain(a, b int) {
	n := sc.n
	for a < b {
		j := a
		for j < b && n[j] != '+' {
			j++
		}
		sc.word(a, j)
		a = j + 1
	}
}

// word classifies n[a:b], made of letters, digits, ".", "-" and "_",
// after trimming dots and hyphens at both ends and underscores at the end.
func (sc *scanner) word(a, b int) {
	n := sc.n
	for a < b && (n[a] == '.' || n[a] == '-') {
		a++
	}
	for b > a && (n[b-1] == '.' || n[b-1] == '-' || n[b-1] == '_') {
		b--
	}
	if a == b {
		return
	}
	t := n[a:b]
	if k, ok := hashKind(t); ok {
		// "trace_id=4bf9...", "requestId:..." name identifiers of the same
		// shape, common in logs.
		if a < 3 || lower(n[a-3]) != 'i' || lower(n[a-2]) != 'd' || n[a-1] != '=' && n[a-1] != ':' {
			sc.emit(k, strings.ToLower(t), a, b)
		}
		return
	}
	dot := strings.LastIndexByte(t, '.')
	if dot < 0 {
		sc.asn(a, b)
		return
	}
	if isDigitsDots(t) {
		if strings.Count(t, ".") != 3 {
			return // a version or a number; saves building a reason
		}
		if v, r := parseIPv4(t); r == "" {
			sc.emit(KindIPv4, v, a, b)
		}
		return
	}
	if h := strings.IndexByte(t, '-'); h > 0 && isDigitsDots(t[:h]) && isDigitsDots(t[h+1:]) {
		// A range of addresses, "192.0.2.1-192.0.2.9".
		v1, r1 := parseIPv4(t[:h])
		v2, r2 := parseIPv4(t[h+1:])
		if r1 == "" && r2 == "" {
			sc.emit(KindIPv4, v1, a, a+h)
			sc.emit(KindIPv4, v2, a+h+1, b)
		}
		return
	}
	ext := strings.ToLower(t[dot+1:])
	switch {
	case isRiskyExt(ext):
		if v, r := parseFilename(t); r == "" {
			sc.emit(KindFilename, v, a, b)
		}
		return
	case isQuietExt(ext):
		return
	case len(ext) == 2 && 'A' <= t[dot+1] && t[dot+1] <= 'Z' && 'a' <= t[dot+2] && t[dot+2] <= 'z' &&
		'a' <= t[dot-1] && t[dot-1] <= 'z':
		// "server.It was": a sentence run on, not a domain under .it.
		return
	}
	if !knownTLD(ext) {
		return // most dotted words; saves building a reason
	}
	if v, r := parseDomain(t); r == "" {
		sc.emit(KindDomain, v, a, b)
	}
}

// asn emits the AS numbers in the dotless word n[a:b]: "AS64496",
// "ASN64496", ranges "AS64496-AS64511", or "AS" followed by a space and a
// number ("as" in lower case is a word, not an AS, there).
func (sc *scanner) asn(a, b int) {
	n := sc.n
	t := n[a:b]
	if b < len(n) && n[b] == ' ' && (t == "AS" || foldEq(t, "asn")) {
		k := b + 1
		for k < len(n) && isDigit(n[k]) {
			k++
		}
		if k > b+1 && wordEnd(n, k) {
			if v, r := asnNumber(n[b+1 : k]); r == "" {
				sc.emit(KindASN, v, a, k)
			}
		}
		return
	}
	for i := a; i < b; {
		j := i
		for j < b && n[j] != '-' {
			j++
		}
		w := n[i:j]
		if len(w) > 2 && foldEq(w[:2], "as") {
			num := w[2:]
			if num != "" && lower(num[0]) == 'n' {
				num = num[1:]
			}
			if num != "" && allDigits(num) {
				if v, r := asnNumber(num); r == "" {
					sc.emit(KindASN, v, i, j)
				}
			}
		}
		i = j + 1
	}
}

// wordEnd reports whether a word of letters and digits ending at n[k] ends
// there and does not go on as part of a name ("64496.example",
// "64496@example.org").
func wordEnd(n string, k int) bool {
	if k == len(n) {
		return true
	}
	switch c := n[k]; {
	case isAlnum(c) || c == '_' || c == '@':
		return false
	case c == '.' || c == '-':
		return k+1 == len(n) || !isAlnum(n[k+1])
	}
	return !wordRuneAfter(n, k)
}
