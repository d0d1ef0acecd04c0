package stixfeed

import (
	"errors"
	"strings"
	"testing"
)

func TestParsePattern(t *testing.T) {
	for _, tt := range []struct {
		in     string
		simple string // the comparisons Simple returns, joined by " | "; "ERR …" for a Simple error
		canon  string // String(); "" = same as in
	}{
		{"[ipv4-addr:value = '198.51.100.1']", "ipv4-addr:value = '198.51.100.1'", ""},
		{"[ipv4-addr:value == '198.51.100.1']", "ipv4-addr:value = '198.51.100.1'", "[ipv4-addr:value = '198.51.100.1']"},
		{"  [ domain-name:value='a.example'OR domain-name:value = 'b.example' ]  ", "domain-name:value = 'a.example' | domain-name:value = 'b.example'",
			"[domain-name:value = 'a.example' OR domain-name:value = 'b.example']"},
		{"[url:value = 'http://x.example/'] OR ([url:value = 'http://y.example/'] OR [ipv6-addr:value = '2001:db8:100::1'])",
			"url:value = 'http://x.example/' | url:value = 'http://y.example/' | ipv6-addr:value = '2001:db8:100::1'", ""},
		{"[file:hashes.'SHA-256' = 'ab' OR file:hashes.MD5 = 'cd']", "file:hashes.'SHA-256' = 'ab' | file:hashes.MD5 = 'cd'", ""},
		{"[ipv4-addr:value IN ('192.0.2.1', '192.0.2.2')]", "ipv4-addr:value IN ('192.0.2.1', '192.0.2.2')", ""},
		{"[ipv4-addr:value ISSUBSET '192.0.2.0/24']", "ipv4-addr:value ISSUBSET '192.0.2.0/24'", ""},
		{`[email-addr:value = 'o\'brien@univ.example' OR file:name = 'a\\b']`, `email-addr:value = 'o\'brien@univ.example' | file:name = 'a\\b'`, ""},
		{"[a:b = 'x' AND c:d = 'y']", "ERR comparisons joined by AND", ""},
		{"[a:b = 'x' OR c:d = 'y' AND e:f = 'z']", "ERR comparisons joined by AND", ""},
		{"[(a:b = 'x' OR c:d = 'y') AND e:f = 'z']", "ERR comparisons joined by AND", ""},
		{"[a:b = 'x' OR (c:d = 'y' OR e:f = 'z')]", "a:b = 'x' | c:d = 'y' | e:f = 'z'", ""},
		{"[a:b = 'x'] AND [c:d = 'y']", "ERR observations joined by AND", ""},
		{"[a:b = 'x'] FOLLOWEDBY [c:d = 'y']", "ERR observations joined by FOLLOWEDBY", ""},
		{"[a:b = 'x'] WITHIN 5 SECONDS", "ERR qualifier WITHIN", ""},
		{"([a:b = 'x'] OR [c:d = 'y']) REPEATS 2 TIMES", "ERR qualifier REPEATS", ""},
		{"[a:b = 'x'] START t'2026-01-01T00:00:00Z' STOP t'2026-01-02T00:00:00.5Z'", "ERR qualifier START", ""},
		{"[a:b NOT = 'x']", "ERR NOT =", ""},
		{"[a:b != 'x']", "ERR operator !=", ""},
		{"[a:b <> 'x']", "ERR operator !=", "[a:b != 'x']"},
		{"[a:b LIKE 'x%']", "ERR operator LIKE", ""},
		{"[a:b MATCHES '^x$']", "ERR operator MATCHES", ""},
		{"[EXISTS a:b]", "ERR operator EXISTS", ""},
		{"[a:b >= 5 OR a:b < -2.5 OR a:c = true OR a:d = h'00ff' OR a:e = b'AAAA' OR a:f > t'2026-01-01T00:00:00Z']",
			"ERR operator >= on a:b", ""},
		{"[a:c = true OR a:d = h'00ff' OR a:e = b'AAAA' OR a:f = t'2026-01-01T00:00:00Z' OR a:g = -2.5 OR a:h = +3]",
			"a:c = true | a:d = h'00ff' | a:e = b'AAAA' | a:f = t'2026-01-01T00:00:00Z' | a:g = -2.5 | a:h = +3", ""},
		{"[network-traffic:extensions.'http-request-ext'.request_header.'Host' = 'x' OR x:y[*].z = 'a' OR x:y[3] = 'b' OR x:'a b' = 'c']",
			"network-traffic:extensions.'http-request-ext'.request_header.Host = 'x' | x:y[*].z = 'a' | x:y[3] = 'b' | x:'a b' = 'c'",
			"[network-traffic:extensions.'http-request-ext'.request_header.Host = 'x' OR x:y[*].z = 'a' OR x:y[3] = 'b' OR x:'a b' = 'c']"},
	} {
		p, err := ParsePattern(tt.in)
		if err != nil {
			t.Errorf("ParsePattern(%q): %v", tt.in, err)
			continue
		}
		canon := tt.canon
		if canon == "" {
			canon = strings.TrimSpace(tt.in)
		}
		if s := p.String(); s != canon {
			t.Errorf("ParsePattern(%q).String() = %q, want %q", tt.in, s, canon)
		}
		comps, err := p.Simple()
		var got string
		if err != nil {
			if !errors.Is(err, ErrNotSimple) {
				t.Errorf("Simple(%q): error %v is not ErrNotSimple", tt.in, err)
			}
			got = "ERR " + strings.TrimPrefix(err.Error(), ErrNotSimple.Error()+": ")
		} else {
			parts := make([]string, len(comps))
			for i, c := range comps {
				parts[i] = c.String()
			}
			got = strings.Join(parts, " | ")
		}
		if !strings.HasPrefix(got, tt.simple) {
			t.Errorf("Simple(%q) = %q, want %q", tt.in, got, tt.simple)
		}
	}
}

func TestParsePatternErrors(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"", "want '[' or '('"},
		{"ipv4-addr:value = '1.2.3.4'", "want '[' or '('"},
		{"[ipv4-addr:value = '1.2.3.4'", "want ']'"},
		{"[ipv4-addr:value = '1.2.3.4']]", "unexpected \"]\""},
		{"[ipv4-addr:value = '1.2.3.4", "string not closed"},
		{"[ipv4-addr:value = 'a\\nb']", "bad escape"},
		{"[ipv4-addr = '1.2.3.4']", "want ':'"},
		{"[ipv4-addr:value '1.2.3.4']", "want a comparison operator"},
		{"[ipv4-addr:value = ]", "want a value"},
		{"[ipv4-addr:value IN '1.2.3.4']", "'(' starting the IN set"},
		{"[ipv4-addr:value IN ('a' 'b')]", "',' or ')'"},
		{"[ipv4-addr:value LIKE 5]", "LIKE wants a string"},
		{"[a:b = true] WITHIN -1 SECONDS", "positive number"},
		{"[a:b = 'x'] REPEATS 1.5 TIMES", "positive integer"},
		{"[a:b = 'x'] START '2026' STOP t'2026-01-01T00:00:00Z'", "START wants a timestamp"},
		{"[a:b = t'2026-01-01']", "bad timestamp"},
		{"[a:b = h'abc']", "bad hex"},
		{"[a:b = b'abc']", "bad base64"},
		{"[a:b < true]", "boolean cannot be compared"},
		{"[a:b = 12abc]", "bad number"},
		{"[a:b = 'x'] # comment", "unexpected character"},
		{"[a:b[x] = 'x']", "list index or '*'"},
		{strings.Repeat("(", 100) + "[a:b = 'x']" + strings.Repeat(")", 100), "nested deeper"},
		{"[" + strings.Repeat("(", 100) + "a:b = 'x'" + strings.Repeat(")", 100) + "]", "nested deeper"},
		{"[a:b = '" + strings.Repeat("x", MaxPatternLen) + "']", "longer than"},
	} {
		_, err := ParsePattern(tt.in)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParsePattern(%.60q) error %v, want %q", tt.in, err, tt.want)
		}
	}
}

// FuzzPattern checks the parser never panics, and that a parsed pattern
// printed and parsed again prints the same.
func FuzzPattern(f *testing.F) {
	for _, s := range []string{
		"[ipv4-addr:value = '198.51.100.1']",
		"[domain-name:value = 'a.example' OR domain-name:value = 'b.example'] OR [url:value = 'http://x.example/']",
		"[file:hashes.'SHA-256' = 'ab' AND file:size > 5] FOLLOWEDBY ([x:y[*].z IN (1, 2.5, true)] WITHIN 5 SECONDS)",
		"[a:b NOT LIKE 'x%'] START t'2026-01-01T00:00:00Z' STOP t'2026-01-02T00:00:00Z' REPEATS 3 TIMES",
		"[(a:b = h'00' OR EXISTS c:d) AND e:f != b'AAAA']",
		`[email-addr:value = 'o\'b\\@x.example']`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		p, err := ParsePattern(in)
		if err != nil {
			return
		}
		s := p.String()
		p2, err := ParsePattern(s)
		if err != nil {
			t.Fatalf("ParsePattern(%q) = %q, which does not parse: %v", in, s, err)
		}
		if s2 := p2.String(); s2 != s {
			t.Fatalf("round trip of %q: %q then %q", in, s, s2)
		}
		comps, err := p.Simple()
		if err == nil {
			for _, c := range comps {
				if c.Negated || c.Op != "=" && c.Op != "IN" && c.Op != "ISSUBSET" {
					t.Fatalf("Simple returned %s", c)
				}
			}
		}
	})
}
