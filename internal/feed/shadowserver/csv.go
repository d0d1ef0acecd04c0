package shadowserver

import (
	"net/netip"
	"strings"
	"time"
)

// splitLine cuts one CSV line into fields, appending the first max of
// them to dst, and counts all of them. A field that starts with '"' is an
// RFC 4180 quoted field: commas inside it are data and "" stands for one
// quote. Other fields end at the next comma, and a quote inside them is
// data. Fields are substrings of line, except quoted ones with "" in
// them, which are copied. A quoted field that is not closed, or is
// followed by anything but a comma, gives a reason. Records spanning lines
// are not supported: the line is the record. The fields after the first
// max are only counted, which is cheap when they hold no quotes.
func splitLine(dst []string, line string, max int) ([]string, int, string) {
	n := 0
	for {
		if n == max {
			rest, reason := countFields(line)
			return dst, n + rest, reason
		}
		n++
		if len(line) == 0 || line[0] != '"' {
			i := 0
			for i < len(line) && line[i] != ',' {
				i++
			}
			if i == len(line) {
				if n <= max {
					dst = append(dst, line)
				}
				return dst, n, ""
			}
			if n <= max {
				dst = append(dst, line[:i])
			}
			line = line[i+1:]
			continue
		}
		// A quoted field: find the closing quote, stepping over "".
		end, escaped := 1, false
		for {
			for end < len(line) && line[end] != '"' {
				end++
			}
			if end == len(line) {
				return dst, n, "a quoted field is not closed"
			}
			if end+1 < len(line) && line[end+1] == '"' {
				escaped = true
				end += 2
				continue
			}
			break
		}
		if n <= max {
			field := line[1:end]
			if escaped {
				field = strings.ReplaceAll(field, `""`, `"`)
			}
			dst = append(dst, field)
		}
		line = line[end+1:]
		if line == "" {
			return dst, n, ""
		}
		if line[0] != ',' {
			return dst, n, "text after a quoted field's closing quote"
		}
		line = line[1:]
	}
}

// countFields counts the fields of s, the rest of a line from a field's
// start, checking its quoted fields as splitLine does.
func countFields(s string) (int, string) {
	n, atStart := 1, true
	for {
		j := strings.IndexByte(s, '"')
		if j < 0 {
			return n + strings.Count(s, ","), ""
		}
		n += strings.Count(s[:j], ",")
		if j > 0 && s[j-1] != ',' || j == 0 && !atStart {
			// A quote inside an unquoted field is data.
			s, atStart = s[j+1:], false
			continue
		}
		k := j + 1
		for {
			c := strings.IndexByte(s[k:], '"')
			if c < 0 {
				return n, "a quoted field is not closed"
			}
			k += c
			if k+1 < len(s) && s[k+1] == '"' {
				k += 2
				continue
			}
			break
		}
		s, atStart = s[k+1:], false
		if s == "" {
			return n, ""
		}
		if s[0] != ',' {
			return n, "text after a quoted field's closing quote"
		}
	}
}

// trim strips ASCII spaces and tabs around s.
func trim(s string) string {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}

// timeParser reads Shadowserver timestamps. It remembers the last date it
// saw, since a report's rows share few dates. The zero value is ready.
type timeParser struct {
	date string
	base int64 // Unix seconds of date at 00:00 UTC
}

// parse reads "2006-01-02 15:04:05" (UTC), with 'T' for the space, an
// optional fraction of a second, and an optional "Z", "UTC" or ±hh:mm
// offset; or a bare date. Anything else goes through time.Parse with
// RFC 3339.
func (tp *timeParser) parse(s string) (time.Time, bool) {
	if len(s) < 10 || s[4] != '-' || s[7] != '-' {
		return slowTime(s)
	}
	var secs int64
	if s[:10] == tp.date {
		secs = tp.base
	} else {
		y, ok1 := digits(s[0:4])
		m, ok2 := digits(s[5:7])
		d, ok3 := digits(s[8:10])
		if !ok1 || !ok2 || !ok3 || m < 1 || m > 12 || d < 1 || d > daysIn(y, m) {
			return time.Time{}, false
		}
		secs = time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC).Unix()
		tp.date, tp.base = s[:10], secs
	}
	if len(s) == 10 {
		return time.Unix(secs, 0).UTC(), true
	}
	if len(s) < 19 || (s[10] != ' ' && s[10] != 'T') || s[13] != ':' || s[16] != ':' {
		return slowTime(s)
	}
	h, ok1 := digits(s[11:13])
	mi, ok2 := digits(s[14:16])
	sec, ok3 := digits(s[17:19])
	if !ok1 || !ok2 || !ok3 || h > 23 || mi > 59 || sec > 59 {
		return time.Time{}, false
	}
	secs += int64(h*3600 + mi*60 + sec)
	rest := s[19:]
	ns := 0
	if len(rest) > 0 && rest[0] == '.' {
		i, scale := 1, 100000000
		for ; i < len(rest) && rest[i] >= '0' && rest[i] <= '9'; i++ {
			ns += int(rest[i]-'0') * scale
			scale /= 10
		}
		if i == 1 || i > 10 {
			return time.Time{}, false
		}
		rest = rest[i:]
	}
	switch {
	case rest == "", rest == "Z", rest == "z", rest == " UTC", rest == "UTC", rest == " +0000", rest == " +00:00":
	case len(rest) == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':',
		len(rest) == 5 && (rest[0] == '+' || rest[0] == '-'):
		oh, ok1 := digits(rest[1:3])
		om, ok2 := digits(rest[len(rest)-2:])
		if !ok1 || !ok2 || oh > 23 || om > 59 {
			return time.Time{}, false
		}
		off := int64(oh*3600 + om*60)
		if rest[0] == '+' {
			secs -= off
		} else {
			secs += off
		}
	default:
		return time.Time{}, false
	}
	return time.Unix(secs, int64(ns)).UTC(), true
}

// slowTime tries the layouts the fast path does not know.
func slowTime(s string) (time.Time, bool) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05Z07:00", "2006-01-02 15:04:05 -0700 MST"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// digits reads a short run of decimal digits.
func digits(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, len(s) > 0
}

func daysIn(y, m int) int {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// parseIP reads an IP address; dotted-quad IPv4, the common case, without
// netip's general parser. Like netip.ParseAddr it refuses leading zeros,
// so an IPv4 address it accepts is written in its canonical form.
func parseIP(s string) (netip.Addr, error) {
	var a [4]byte
	k, n, nd := 0, 0, 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			if nd == 1 && n == 0 {
				return netip.ParseAddr(s) // a leading zero: let netip say why
			}
			n = n*10 + int(c-'0')
			nd++
			if n > 255 {
				return netip.ParseAddr(s)
			}
		case c == '.' && nd > 0 && k < 3:
			a[k] = byte(n)
			k, n, nd = k+1, 0, 0
		default:
			return netip.ParseAddr(s)
		}
	}
	if k != 3 || nd == 0 {
		return netip.ParseAddr(s)
	}
	a[3] = byte(n)
	return netip.AddrFrom4(a), nil
}

// parsePort reads a port number, 0 to 65535.
func parsePort(s string) (uint16, bool) {
	if len(s) > 5 {
		return 0, false
	}
	n, ok := digits(s)
	if !ok || n > 65535 {
		return 0, false
	}
	return uint16(n), true
}

// parseASN reads an AS number, with or without "AS".
func parseASN(s string) (uint32, bool) {
	if len(s) > 2 && (s[0] == 'A' || s[0] == 'a') && (s[1] == 'S' || s[1] == 's') {
		s = s[2:]
	}
	if len(s) > 10 {
		return 0, false
	}
	n := uint64(0)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	if len(s) == 0 || n > 1<<32-1 {
		return 0, false
	}
	return uint32(n), true
}

// country returns s as an upper-case two-letter code, or "" when it is
// not one.
func country(s string) string {
	if len(s) != 2 {
		return ""
	}
	a, b := s[0], s[1]
	if a >= 'A' && a <= 'Z' && b >= 'A' && b <= 'Z' {
		return s
	}
	if a >= 'a' && a <= 'z' {
		a -= 'a' - 'A'
	}
	if b >= 'a' && b <= 'z' {
		b -= 'a' - 'A'
	}
	if a >= 'A' && a <= 'Z' && b >= 'A' && b <= 'Z' {
		return string([]byte{a, b})
	}
	return ""
}

// hostname returns s lower-cased without a final dot when it is a DNS
// name focal.ValidateDomain accepts, else "".
func hostname(s string) string {
	s = strings.TrimSuffix(s, ".")
	if len(s) == 0 || len(s) > 253 {
		return ""
	}
	upper, labels, start := false, 0, 0
	for i := 0; i <= len(s); i++ {
		if i < len(s) && s[i] != '.' {
			c := s[i]
			switch {
			case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-':
			case c >= 'A' && c <= 'Z':
				upper = true
			default:
				return ""
			}
			continue
		}
		l := s[start:i]
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return ""
		}
		labels++
		start = i + 1
	}
	if labels < 2 || allDigits(s[strings.LastIndexByte(s, '.')+1:]) {
		return ""
	}
	if upper {
		return strings.ToLower(s)
	}
	return s
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// lowerASCII lower-cases s, copying only when it has upper-case letters.
func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			return strings.ToLower(s)
		}
	}
	return s
}
