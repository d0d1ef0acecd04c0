package stix

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// validPatterns maps patterns to their canonical form; FuzzParsePattern
// is seeded from them.
var validPatterns = []struct {
	name, in, want string
}{
	{"ipv4", "[ipv4-addr:value = '198.51.100.1/32']", ""},
	{"spacing", "[ ipv4-addr : value='198.51.100.1' ]", "[ipv4-addr:value = '198.51.100.1']"},
	{"double-equals", "[domain-name:value == 'example.com']", "[domain-name:value = 'example.com']"},
	{"not-equal-ltgt", "[domain-name:value <> 'example.com']", "[domain-name:value != 'example.com']"},
	{"quoted-key", "[file:hashes.'SHA-256' = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f']", ""},
	{"unquote-plain-key", "[file:'name' = 'a.exe']", "[file:name = 'a.exe']"},
	{"keyword-key-stays-quoted", "[x-foo:'AND' = 1]", ""},
	{"escapes", `[file:name = 'it\'s a \\ test']`, ""},
	{"index-and-any", "[email-message:to_refs[*].value = 'a@example.org' AND x-foo:list[0].v[-1] = 1]", ""},
	{"or-and-precedence", "[a-b:c = 1 OR a-b:d = 2 AND a-b:e = 3]", ""},
	{"needed-parens", "[(a-b:c = 1 OR a-b:d = 2) AND a-b:e = 3]", ""},
	{"needless-parens", "[((a-b:c = 1)) AND (a-b:e = 3)]", "[a-b:c = 1 AND a-b:e = 3]"},
	{"right-nested", "[a-b:c = 1 AND (a-b:d = 2 AND a-b:e = 3)]", ""},
	{"left-nested", "[(a-b:c = 1 AND a-b:d = 2) AND a-b:e = 3]", "[a-b:c = 1 AND a-b:d = 2 AND a-b:e = 3]"},
	{"observation-ops", "[a-b:c = 1] OR [a-b:d = 2] AND [a-b:e = 3] FOLLOWEDBY [a-b:f = 4]", ""},
	{"observation-parens", "([a-b:c = 1] FOLLOWEDBY [a-b:d = 2]) AND [a-b:e = 3]", ""},
	{"qualifiers", "[a-b:c = 1] WITHIN 300 SECONDS", ""},
	{"float-within", "[a-b:c = 1] WITHIN 2.5 SECONDS REPEATS 5 TIMES", ""},
	{"qualified-group", "([a-b:c = 1] AND [a-b:d = 2]) REPEATS 2 TIMES", ""},
	{"start-stop", "[a-b:c = 1] START t'2026-01-01T00:00:00Z' STOP t'2026-01-02T00:00:00.123456Z'",
		"[a-b:c = 1] START t'2026-01-01T00:00:00.000Z' STOP t'2026-01-02T00:00:00.123456Z'"},
	{"set", "[ipv4-addr:value IN ('198.51.100.1', '203.0.113.7')]", ""},
	{"empty-set", "[a-b:c NOT IN ()]", ""},
	{"mixed-set", "[a-b:c IN (1, -2, 3.5, true, 'x')]", ""},
	{"operators", "[a-b:c > 1 AND a-b:c >= 2 AND a-b:c < 3.0 AND a-b:c <= -4.5 AND a-b:d LIKE 'x%' AND a-b:e MATCHES '^a.*$']", ""},
	{"negation", "[a-b:c NOT = 1 AND a-b:d NOT LIKE 'x' AND a-b:e NOT ISSUBSET '198.51.100.0/24' AND a-b:f ISSUPERSET '192.0.2.1']", ""},
	{"exists", "[EXISTS a-b:c AND a-b:d = false]", ""},
	{"literals", "[a-b:c = h'DEADbeef' OR a-b:d = b'AQIDBA==' OR a-b:e = t'2020-02-29T23:59:59.9Z' OR a-b:f = +7 OR a-b:g = .5]",
		"[a-b:c = h'deadbeef' OR a-b:d = b'AQIDBA==' OR a-b:e = t'2020-02-29T23:59:59.900Z' OR a-b:f = 7 OR a-b:g = 0.5]"},
	{"float-integral", "[a-b:c = 2.000]", "[a-b:c = 2.0]"},
	{"comments", "/* c */ [a-b:c = 1] // trailing", "[a-b:c = 1]"},
	{"unicode", "[file:name = 'résumé.pdf']", ""},
}

func TestParsePatternValid(t *testing.T) {
	for _, tt := range validPatterns {
		t.Run(tt.name, func(t *testing.T) {
			p, err := ParsePattern(tt.in)
			if err != nil {
				t.Fatalf("ParsePattern(%q): %v", tt.in, err)
			}
			want := tt.want
			if want == "" {
				want = tt.in
			}
			if got := p.String(); got != want {
				t.Errorf("ParsePattern(%q).String() = %q, want %q", tt.in, got, want)
			}
			again, err := ParsePattern(p.String())
			if err != nil {
				t.Fatalf("ParsePattern(canonical %q): %v", p.String(), err)
			}
			if !reflect.DeepEqual(again, p) {
				t.Errorf("ParsePattern(%q) gives a different tree than the original", p.String())
			}
		})
	}
}

func TestParsePatternTree(t *testing.T) {
	p, err := ParsePattern("[a-b:c = 1] OR [a-b:d = 2] AND [a-b:e = 3] WITHIN 5 SECONDS FOLLOWEDBY [a-b:f = 'x']")
	if err != nil {
		t.Fatal(err)
	}
	fb, ok := p.Root.(*ObservationOp)
	if !ok || fb.Op != "FOLLOWEDBY" {
		t.Fatalf("root = %#v, want FOLLOWEDBY", p.Root)
	}
	or, ok := fb.Left.(*ObservationOp)
	if !ok || or.Op != "OR" {
		t.Fatalf("FOLLOWEDBY left = %#v, want OR", fb.Left)
	}
	and, ok := or.Right.(*ObservationOp)
	if !ok || and.Op != "AND" {
		t.Fatalf("OR right = %#v, want AND", or.Right)
	}
	q, ok := and.Right.(*Qualified)
	if !ok || q.Qualifier.Kind != "WITHIN" || q.Qualifier.Value.Int != 5 {
		t.Fatalf("AND right = %#v, want WITHIN 5 on [a-b:e = 3] only", and.Right)
	}
	c := fb.Right.(*Observation).Expr.(*Comparison)
	if c.Path.Type != "a-b" || len(c.Path.Steps) != 1 || c.Path.Steps[0].Key != "f" || c.Value.Str != "x" {
		t.Errorf("last comparison = %#v", c)
	}
}

// invalidPatterns lists malformed patterns, the offset of the error and a
// part of its message.
var invalidPatterns = []struct {
	name, in string
	offset   int
	msg      string
}{
	{"empty", "", 0, "expected '[' or '('"},
	{"unclosed", "[ipv4-addr:value = '1'", 22, "expected ']'"},
	{"no-bracket", "ipv4-addr:value = '1'", 0, "expected '[' or '('"},
	{"no-operator", "[ipv4-addr:value '1']", 17, "expected a comparison operator"},
	{"no-colon", "[ipv4-addr.value = '1']", 10, "expected ':'"},
	{"hyphen-key", "[a-b:c-d = 1]", 5, "expected a property name"},
	{"unterminated-string", "[a-b:c = 'x]", 9, "unterminated string"},
	{"bad-escape", `[a-b:c = 'a\n']`, 11, "invalid escape"},
	{"leading-zero", "[a-b:c = 007]", 9, "leading zero"},
	{"int-overflow", "[a-b:c = 9223372036854775808]", 9, "out of range"},
	{"bad-timestamp", "[a-b:c = t'2020-02-30T00:00:00Z']", 9, "timestamp"},
	{"offset-timestamp", "[a-b:c = t'2020-01-01T00:00:00+01:00']", 9, "timestamp"},
	{"odd-hex", "[a-b:c = h'abc']", 9, "hex"},
	{"bad-base64", "[a-b:c = b'AQ=']", 9, "base64"},
	{"like-number", "[a-b:c LIKE 5]", 12, "needs a string literal"},
	{"gt-bool", "[a-b:c > true]", 9, "orderable"},
	{"lowercase-and", "[a-b:c = 1 and a-b:d = 2]", 11, "expected ']'"},
	{"trailing", "[a-b:c = 1] [a-b:d = 2]", 12, "after the pattern"},
	{"dangling-and", "[a-b:c = 1] AND", 15, "expected '[' or '('"},
	{"within-zero", "[a-b:c = 1] WITHIN 0 SECONDS", 19, "positive"},
	{"within-no-seconds", "[a-b:c = 1] WITHIN 5", 20, "expected 'SECONDS'"},
	{"repeats-float", "[a-b:c = 1] REPEATS 1.5 TIMES", 20, "positive integer"},
	{"start-no-stop", "[a-b:c = 1] START t'2020-01-01T00:00:00Z'", 41, "expected 'STOP'"},
	{"set-unclosed", "[a-b:c IN (1, 2]", 15, "expected ',' or ')'"},
	{"set-not-literal", "[a-b:c IN (a)]", 11, "expected a literal"},
	{"not-exists", "[a-b:c NOT EXISTS]", 11, "expected a comparison operator"},
	{"bang", "[a-b:c ! 1]", 7, "'!='"},
	{"stray-char", "[a-b:c = 1] & [a-b:d = 2]", 12, "unexpected character"},
	{"unterminated-comment", "[a-b:c = 1] /* x", 12, "unterminated comment"},
	{"empty-observation", "[]", 1, "expected an object path"},
	{"index-not-int", "[a-b:c['x'] = 1]", 7, "expected an index"},
}

func TestParsePatternInvalid(t *testing.T) {
	for _, tt := range invalidPatterns {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParsePattern(tt.in)
			var pe *PatternError
			if !errors.As(err, &pe) {
				t.Fatalf("ParsePattern(%q) = %v, want a *PatternError", tt.in, err)
			}
			if pe.Offset != tt.offset || !strings.Contains(pe.Msg, tt.msg) {
				t.Errorf("ParsePattern(%q) = %q, want offset %d and a message containing %q", tt.in, err, tt.offset, tt.msg)
			}
			if want := "pattern: at byte "; !strings.HasPrefix(err.Error(), want) {
				t.Errorf("error %q does not start with %q", err, want)
			}
		})
	}
}

func TestParsePatternLimits(t *testing.T) {
	deep := strings.Repeat("(", MaxPatternDepth+1) + "[a-b:c = 1]" + strings.Repeat(")", MaxPatternDepth+1)
	if _, err := ParsePattern(deep); err == nil || !strings.Contains(err.Error(), "nested deeper") {
		t.Errorf("ParsePattern(%d parentheses) = %v, want a nesting error", MaxPatternDepth+1, err)
	}
	ok := strings.Repeat("(", MaxPatternDepth-1) + "[a-b:c = 1]" + strings.Repeat(")", MaxPatternDepth-1)
	if _, err := ParsePattern(ok); err != nil {
		t.Errorf("ParsePattern(%d parentheses) = %v, want success", MaxPatternDepth-1, err)
	}
	deepComp := "[" + strings.Repeat("(", MaxPatternDepth) + "a-b:c = 1" + strings.Repeat(")", MaxPatternDepth) + "]"
	if _, err := ParsePattern(deepComp); err == nil {
		t.Errorf("ParsePattern(%d nested comparisons) succeeded, want a nesting error", MaxPatternDepth)
	}
	long := "[a-b:c = '" + strings.Repeat("x", MaxPatternLen) + "']"
	if _, err := ParsePattern(long); err == nil || !strings.Contains(err.Error(), "longer than") {
		t.Errorf("ParsePattern(%d bytes) = %v, want a length error", len(long), err)
	}
	chain := strings.TrimSuffix(strings.Repeat("[a-b:c = 1] AND ", 3000), " AND ")
	p, err := ParsePattern(chain)
	if err != nil {
		t.Fatalf("ParsePattern(3000 observations): %v", err)
	}
	if p.String() != chain {
		t.Error("a long chain does not print back as itself")
	}
}

func TestPatternFor(t *testing.T) {
	tests := []struct {
		kind, value, want string
	}{
		{"ipv4", "198.51.100.7", "[ipv4-addr:value = '198.51.100.7']"},
		{"ipv6", "2001:DB8::1", "[ipv6-addr:value = '2001:db8::1']"},
		{"cidr", "198.51.100.7/24", "[ipv4-addr:value = '198.51.100.0/24']"},
		{"cidr", "2001:db8::/32", "[ipv6-addr:value = '2001:db8::/32']"},
		{"domain", "Example.COM", "[domain-name:value = 'example.com']"},
		{"url", "https://example.com/a?b='c'", `[url:value = 'https://example.com/a?b=\'c\'']`},
		{"email", "abuse@example.org", "[email-addr:value = 'abuse@example.org']"},
		{"md5", "D41D8CD98F00B204E9800998ECF8427E", "[file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e']"},
		{"sha1", "da39a3ee5e6b4b0d3255bfef95601890afd80709", "[file:hashes.'SHA-1' = 'da39a3ee5e6b4b0d3255bfef95601890afd80709']"},
		{"sha256", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "[file:hashes.'SHA-256' = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855']"},
		{"asn", "AS64496", "[autonomous-system:number = 64496]"},
		{"filename", "invoice.pdf.exe", "[file:name = 'invoice.pdf.exe']"},
	}
	for _, tt := range tests {
		t.Run(tt.kind, func(t *testing.T) {
			got, err := PatternFor(tt.kind, tt.value)
			if err != nil {
				t.Fatalf("PatternFor(%q, %q): %v", tt.kind, tt.value, err)
			}
			if got != tt.want {
				t.Errorf("PatternFor(%q, %q) = %s, want %s", tt.kind, tt.value, got, tt.want)
			}
			p, err := ParsePattern(got)
			if err != nil {
				t.Fatalf("ParsePattern(%s): %v", got, err)
			}
			obs, ignored := PatternObservables(p)
			if len(obs) != 1 || obs[0].Kind != tt.kind || len(ignored) != 0 {
				t.Errorf("PatternObservables(%s) = %v, ignored %v; want one %s", got, obs, ignored, tt.kind)
			}
		})
	}
	for _, bad := range [][2]string{{"ipv4", "198.51.100.256"}, {"domain", "not a domain"}, {"colour", "red"}, {"md5", "abc"}} {
		if got, err := PatternFor(bad[0], bad[1]); err == nil {
			t.Errorf("PatternFor(%q, %q) = %s, want an error", bad[0], bad[1], got)
		}
	}
}

func TestPatternObservables(t *testing.T) {
	p, err := ParsePattern("[ipv4-addr:value = '198.51.100.1/32' OR ipv4-addr:value = '203.0.113.0/24' OR ipv6-addr:value IN ('2001:db8::1', '2001:DB8::1')] OR " +
		"[domain-name:value = 'Example.NET' AND url:value != 'https://example.net/'] OR " +
		"[network-traffic:dst_ref.value = '192.0.2.9' AND network-traffic:dst_port = 443] FOLLOWEDBY " +
		"[file:hashes.sha256 = 'E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855' OR file:hashes.'SHA-512' = 'ab'] OR " +
		"[email-addr:value = 'abuse@example.org' OR autonomous-system:number = 64496 OR ipv4-addr:value = '2001:db8::2'] WITHIN 60 SECONDS OR " +
		"[ipv6-addr:value ISSUBSET '2001:db8:1::/48' OR ipv4-addr:value NOT ISSUBSET '192.0.2.0/24']")
	if err != nil {
		t.Fatal(err)
	}
	obs, ignored := PatternObservables(p)
	var got []string
	for _, o := range obs {
		got = append(got, o.Kind+" "+o.Value)
	}
	want := []string{
		"ipv4 198.51.100.1", "cidr 203.0.113.0/24", "ipv6 2001:db8::1",
		"domain example.net", "ipv4 192.0.2.9",
		"sha256 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
		"email abuse@example.org", "asn AS64496", "cidr 2001:db8:1::/48",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("observables =\n%q\nwant\n%q", got, want)
	}
	for _, frag := range []string{
		"url:value != 'https://example.net/': not an equality",
		"network-traffic:dst_port = 443: not an observable focal uses",
		"file:hashes.'SHA-512' = 'ab': a hash algorithm focal does not use",
		"ipv4-addr:value = '2001:db8::2': \"2001:db8::2\" is not an ipv4-addr",
		"FOLLOWEDBY is read as if it were OR",
		"AND is read as if it were OR",
		"WITHIN 60 SECONDS: qualifier ignored",
		"ipv4-addr:value NOT ISSUBSET '192.0.2.0/24': not an equality",
	} {
		found := false
		for _, s := range ignored {
			if strings.Contains(s, frag) {
				found = true
			}
		}
		if !found {
			t.Errorf("ignored lacks %q; got\n%s", frag, strings.Join(ignored, "\n"))
		}
	}
}
