package observable_test

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"focal/internal/observable"
)

// extractCase is one Extract input and what it must yield, each observable
// as "kind value".
type extractCase struct {
	name string
	in   string
	want []string
}

// brief renders observables as "kind value", one per element.
func brief(obs []observable.Observable) []string {
	out := []string{}
	for _, o := range obs {
		out = append(out, string(o.Kind)+" "+o.Value)
	}
	return out
}

// checkResult fails unless res, what Extract returned for text, keeps the
// contract: Raw is text[Offset:Offset+len(Raw)], offsets do not decrease,
// (Kind, Value) is unique, Parse(Kind, Value) gives Value back, and
// Refang(Defang(o)) is Value.
func checkResult(tb testing.TB, text string, res observable.Result) {
	tb.Helper()
	type key struct {
		kind  observable.Kind
		value string
	}
	seen := map[key]bool{}
	prev := 0
	for _, o := range res.Observables {
		if o.Offset < 0 || o.Offset+len(o.Raw) > len(text) || text[o.Offset:o.Offset+len(o.Raw)] != o.Raw {
			tb.Errorf("Extract(%.80q): %s %q: Raw %q is not the text at offset %d", text, o.Kind, o.Value, o.Raw, o.Offset)
		}
		if o.Offset < prev {
			tb.Errorf("Extract(%.80q): %s %q at offset %d after offset %d", text, o.Kind, o.Value, o.Offset, prev)
		}
		prev = o.Offset
		k := key{o.Kind, o.Value}
		if seen[k] {
			tb.Errorf("Extract(%.80q): %s %q reported twice", text, o.Kind, o.Value)
		}
		seen[k] = true
		p, err := observable.Parse(o.Kind, o.Value)
		if err != nil || p.Value != o.Value {
			tb.Errorf("Parse(%s, %q) = %q, %v, want %q, nil", o.Kind, o.Value, p.Value, err, o.Value)
		}
		if got := observable.Refang(observable.Defang(o)); got != o.Value {
			tb.Errorf("Refang(Defang(%s %q)) = %q, want %q", o.Kind, o.Value, got, o.Value)
		}
	}
}

// runExtract runs table tests of Extract.
func runExtract(t *testing.T, tests []extractCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := observable.Extract(tt.in)
			checkResult(t, tt.in, res)
			want := tt.want
			if want == nil {
				want = []string{}
			}
			if got := brief(res.Observables); !reflect.DeepEqual(got, want) {
				t.Errorf("Extract(%q) = %q, want %q", tt.in, got, want)
			}
			if res.Truncated {
				t.Errorf("Extract(%q).Truncated = true, want false", tt.in)
			}
		})
	}
}

func defangedCases() []extractCase {
	return []extractCase{
		{"hxxp-url", "hxxp://evil[.]example[.]com/path", []string{"url http://evil.example.com/path", "domain evil.example.com"}},
		{"hxxps-colon", "hxxps[:]//x[.]example", []string{"url https://x.example", "domain x.example"}},
		{"hxxp-upper", "HXXP://evil[.]example/a", []string{"url http://evil.example/a", "domain evil.example"}},
		{"scheme-brackets", "http[://]evil[.]example/a", []string{"url http://evil.example/a", "domain evil.example"}},
		{"fxp", "fxp://files[.]example[.]org/pub", []string{"url ftp://files.example.org/pub", "domain files.example.org"}},
		{"ip-last-dot", "1.2.3[.]4", []string{"ipv4 1.2.3.4"}},
		{"ip-doc-last-dot", "from 192.0.2[.]1 today", []string{"ipv4 192.0.2.1"}},
		{"ip-all-dots", "192[.]0[.]2[.]1", []string{"ipv4 192.0.2.1"}},
		{"email-at-bracket", "user[@]example[.]org", []string{"email user@example.org", "domain example.org"}},
		{"email-at-dot-words", "user[at]example[dot]org", []string{"email user@example.org", "domain example.org"}},
		{"email-paren-at", "user(at)example(dot)org", []string{"email user@example.org", "domain example.org"}},
		{"paren-dot", "example(.)com", []string{"domain example.com"}},
		{"brace-dot", "evil{.}example", []string{"domain evil.example"}},
		{"dot-upper", "evil[DOT]example", []string{"domain evil.example"}},
		{"bare-dot-word-not-refanged", "evil dot example", nil},
		{"at-with-spaces-not-email", "meet me [at] the office.example", []string{"domain office.example"}},
		{"hxxp-inside-word", "ahxxp://evil[.]example", []string{"domain evil.example"}},
		{"nested-defang", "http://x.example/a[[.]]b", []string{"url http://x.example/a", "domain x.example"}},
	}
}

func TestExtractDefanged(t *testing.T) { runExtract(t, defangedCases()) }

func TestExtractRaw(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string // "kind value raw offset"
	}{
		{"url-and-host", "see hxxp://evil[.]example[.]com/path.", []string{
			"url http://evil.example.com/path hxxp://evil[.]example[.]com/path 4",
			"domain evil.example.com evil[.]example[.]com 11",
		}},
		{"email-and-domain", "To: user[at]example[dot]org", []string{
			"email user@example.org user[at]example[dot]org 4",
			"domain example.org example[dot]org 12",
		}},
		{"cidr-keeps-raw", "net 198.51.100.7/24", []string{"cidr 198.51.100.0/24 198.51.100.7/24 4"}},
		{"hash-keeps-raw", "DA39A3EE5E6B4B0D3255BFEF95601890AFD80709", []string{
			"sha1 da39a3ee5e6b4b0d3255bfef95601890afd80709 DA39A3EE5E6B4B0D3255BFEF95601890AFD80709 0",
		}},
		{"asn-with-space", "origin AS 64496.", []string{"asn AS64496 AS 64496 7"}},
		{"ipv6-in-url", "http://[2001:DB8::1]:8443/x", []string{
			"url http://[2001:db8::1]:8443/x http://[2001:DB8::1]:8443/x 0",
			"ipv6 2001:db8::1 2001:DB8::1 8",
		}},
		{"after-unicode", "Grüße 192.0.2[.]7", []string{"ipv4 192.0.2.7 192.0.2[.]7 8"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := observable.Extract(tt.in)
			checkResult(t, tt.in, res)
			got := []string{}
			for _, o := range res.Observables {
				got = append(got, fmt.Sprintf("%s %s %s %d", o.Kind, o.Value, o.Raw, o.Offset))
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Extract(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func urlCases() []extractCase {
	const u, d = "url http://x.example/a", "domain x.example"
	return []extractCase{
		{"plain", "http://x.example/a", []string{u, d}},
		{"trailing-dot", "Visit http://x.example/a.", []string{u, d}},
		{"trailing-comma", "http://x.example/a, then", []string{u, d}},
		{"trailing-many", "http://x.example/a?!...", []string{u, d}},
		{"in-parens", "(http://x.example/a)", []string{u, d}},
		{"in-parens-no-path", "(http://x.example)", []string{"url http://x.example", d}},
		{"fragment-only", "https://x.example#top.", []string{"url https://x.example#top", d}},
		{"port-no-path", "http://x.example:8080,", []string{"url http://x.example:8080", d}},
		{"balanced-parens", "(see http://x.example/wiki/Foo_(bar))", []string{"url http://x.example/wiki/Foo_(bar)", d}},
		{"angle-brackets", "<http://x.example/a>", []string{u, d}},
		{"double-quotes", `href="http://x.example/a"`, []string{u, d}},
		{"single-quotes", "'http://x.example/a'", []string{u, d}},
		{"markdown", "[click here](http://x.example/a)", []string{u, d}},
		{"markdown-bold", "**http://x.example/a**", []string{u, d}},
		{"brackets", "[http://x.example/a]", []string{u, d}},
		{"no-path", "go to https://x.example now", []string{"url https://x.example", d}},
		{"query-fragment", "https://x.example/p?q=1&r=a%20b#frag", []string{"url https://x.example/p?q=1&r=a%20b#frag", d}},
		{"ftp", "ftp://files.example.org/pub/x.zip", []string{"url ftp://files.example.org/pub/x.zip", "domain files.example.org"}},
		{"upper-case", "HTTP://WWW.Example.COM/Path", []string{"url http://www.example.com/Path", "domain www.example.com"}},
		{"ipv4-host-port", "http://192.0.2.1:8080/x", []string{"url http://192.0.2.1:8080/x", "ipv4 192.0.2.1"}},
		{"ipv6-host", "http://[2001:db8::1]:8443/", []string{"url http://[2001:db8::1]:8443/", "ipv6 2001:db8::1"}},
		{"userinfo", "https://user:pw@login.example.com/", []string{"url https://user:pw@login.example.com/", "domain login.example.com"}},
		{"inner-url", "http://x.example/?u=http://y.example/z", []string{"url http://x.example/?u=http://y.example/z", d}},
		{"crlf", "a\r\nhttp://x.example/a\r\nb", []string{u, d}},
		{"unicode-ends", "http://x.example/a»", []string{u, d}},
		{"host-seen-before", "x.example hosts http://x.example/a", []string{d, u}},
		{"two-urls", "http://x.example/a http://y.example/b", []string{u, d, "url http://y.example/b", "domain y.example"}},
		{"evil-zip-host", "https://evil.zip/", []string{"url https://evil.zip/", "domain evil.zip"}},
		{"localhost", "http://localhost:8080/x", nil},
		{"single-label", "http://intranet/x", nil},
		{"reserved-test", "http://foo.test/x", nil},
		{"unknown-scheme", "gopher://x.example/a", []string{d}},
		{"scheme-in-word", "xhttp://x.example/a", []string{d}},
		{"bad-port", "http://x.example:99999/a", []string{d}},
		{"empty-host", "http:///a", nil},
		{"decimal-ip-host", "http://3221225985/", nil},
	}
}

func TestExtractURL(t *testing.T) { runExtract(t, urlCases()) }

func ipv4Cases() []extractCase {
	const ip = "ipv4 192.0.2.1"
	return []extractCase{
		{"plain", "192.0.2.1", []string{ip}},
		{"sentence-end", "from 192.0.2.1.", []string{ip}},
		{"parens", "(192.0.2.1)", []string{ip}},
		{"port", "192.0.2.1:443", []string{ip}},
		{"key-value", "src=192.0.2.1;", []string{ip}},
		{"range", "192.0.2.1-192.0.2.9", []string{ip, "ipv4 192.0.2.9"}},
		{"zeros", "0.0.0.0", []string{"ipv4 0.0.0.0"}},
		{"guillemets", "«192.0.2.1»", []string{ip}},
		{"leading-zero", "010.1.1.1", nil},
		{"octet-too-big", "256.1.1.1", nil},
		{"five-parts", "1.2.3.4.5", nil},
		{"three-parts", "1.2.3", nil},
		{"version-prefix", "v1.2.3.4", nil},
		{"word-before", "abc192.0.2.1", nil},
		{"word-after", "192.0.2.1abc", nil},
		{"underscore", "host_192.0.2.1", nil},
		{"unicode-letter-before", "ä192.0.2.1", nil},
		{"in-domain", "192.0.2.1.example.com", []string{"domain 192.0.2.1.example.com"}},
	}
}

func TestExtractIPv4(t *testing.T) { runExtract(t, ipv4Cases()) }

func ipv6Cases() []extractCase {
	return []extractCase{
		{"loopback", "::1", []string{"ipv6 ::1"}},
		{"compressed", "2001:db8::1", []string{"ipv6 2001:db8::1"}},
		{"full", "2001:DB8:0:0:0:0:0:1", []string{"ipv6 2001:db8::1"}},
		{"full-no-zeros", "2001:db8:1:2:3:4:5:6", []string{"ipv6 2001:db8:1:2:3:4:5:6"}},
		{"zone", "fe80::1%eth0", []string{"ipv6 fe80::1"}},
		{"mapped", "::ffff:192.0.2.1", []string{"ipv6 ::ffff:192.0.2.1"}},
		{"bracketed-port", "[2001:db8::2]:443", []string{"ipv6 2001:db8::2"}},
		{"label-prefix", "IPv6:2001:db8::5", []string{"ipv6 2001:db8::5"}},
		{"trailing-dot", "from 2001:db8::1.", []string{"ipv6 2001:db8::1"}},
		{"trailing-colon", "address 2001:db8::1: blocked", []string{"ipv6 2001:db8::1"}},
		{"time", "12:30:45", nil},
		{"time-fraction", "12:30:45.123", nil},
		{"timestamp", "2024-01-15T12:30:45Z", nil},
		{"mac", "00:11:22:33:44:55", nil},
		{"eui64", "00:11:22:33:44:55:66:77", nil},
		{"cpp", "std::vector", nil},
		{"no-digits", "dead::beef", nil},
		{"unspecified", ":: ", nil},
		{"too-many-groups", "1:2:3:4:5:6:7:8:9", nil},
	}
}

func TestExtractIPv6(t *testing.T) { runExtract(t, ipv6Cases()) }

func cidrCases() []extractCase {
	return []extractCase{
		{"v4", "198.51.100.0/24", []string{"cidr 198.51.100.0/24"}},
		{"v4-masked", "198.51.100.7/24", []string{"cidr 198.51.100.0/24"}},
		{"v4-host", "192.0.2.5/32", []string{"cidr 192.0.2.5/32"}},
		{"v6", "2001:db8::/32", []string{"cidr 2001:db8::/32"}},
		{"v6-upper", "2001:DB8:1::/48", []string{"cidr 2001:db8:1::/48"}},
		{"sentence-end", "block 203.0.113.0/24.", []string{"cidr 203.0.113.0/24"}},
		{"label", "net:192.0.2.0/24", []string{"cidr 192.0.2.0/24"}},
		{"list", "192.0.2.0/25,198.51.100.0/24", []string{"cidr 192.0.2.0/25", "cidr 198.51.100.0/24"}},
		{"bits-too-big", "192.0.2.0/33", []string{"ipv4 192.0.2.0"}},
		{"bits-leading-zero", "192.0.2.0/024", []string{"ipv4 192.0.2.0"}},
		{"date", "2024/01/15", nil},
		{"dotted-too-long", "1.2.3.4.5/24", nil},
		{"word-before", "x192.0.2.0/24", nil},
	}
}

func TestExtractCIDR(t *testing.T) { runExtract(t, cidrCases()) }

func domainCases() []extractCase {
	return []extractCase{
		{"com", "example.com", []string{"domain example.com"}},
		{"upper", "Example.COM", []string{"domain example.com"}},
		{"cctld-second-level", "www.example.co.uk", []string{"domain www.example.co.uk"}},
		{"reserved-example", "evil.example", []string{"domain evil.example"}},
		{"trailing-dot", "example.net.", []string{"domain example.net"}},
		{"wildcard", "*.example.net", []string{"domain example.net"}},
		{"punycode", "xn--bcher-kva.example", []string{"domain xn--bcher-kva.example"}},
		{"hyphen", "my-bank-login.example.com", []string{"domain my-bank-login.example.com"}},
		{"onion", "abcdefghijklmnop.onion", []string{"domain abcdefghijklmnop.onion"}},
		{"path-after", "example.org/login.php", []string{"domain example.org"}},
		{"title-case-gtld", "Example.Com", []string{"domain example.com"}},
		{"file-txt", "file.txt", nil},
		{"image-png", "image.png", nil},
		{"version", "version1.2", nil},
		{"eg", "e.g. this", nil},
		{"ie", "i.e. that", nil},
		{"test-tld", "foo.test", nil},
		{"invalid-tld", "foo.invalid", nil},
		{"localhost-tld", "foo.localhost", nil},
		{"localhost", "localhost", nil},
		{"single-label", "example", nil},
		{"readme", "README.md", nil},
		{"run-on-sentence", "the server.It was down", nil},
		{"go-file", "main.go:42", nil},
		{"empty-label", "a..example.com", nil},
		{"underscore", "my_host.example.com", nil},
		{"hyphen-edge", "-example.com-", []string{"domain example.com"}},
		{"idn-unicode", "bücher.example", nil},
	}
}

func TestExtractDomain(t *testing.T) { runExtract(t, domainCases()) }

func filenameCases() []extractCase {
	return []extractCase{
		{"double-extension", "invoice.pdf.exe", []string{"filename invoice.pdf.exe"}},
		{"docm", "report.docm", []string{"filename report.docm"}},
		{"msi", "setup.msi", []string{"filename setup.msi"}},
		{"js", "payload.js", []string{"filename payload.js"}},
		{"case-kept", "Report.DOCM", []string{"filename Report.DOCM"}},
		{"windows-path", `C:\Users\x\AppData\dropper.ps1`, []string{"filename dropper.ps1"}},
		{"unix-path", "/tmp/.x/miner.sh", []string{"filename miner.sh"}},
		{"zip-not-domain", "evil.zip", []string{"filename evil.zip"}},
		{"underscore", "_setup_v2.exe", []string{"filename _setup_v2.exe"}},
		{"dotcom-not-file", "example.com", []string{"domain example.com"}},
		{"txt", "notes.txt", nil},
		{"no-name", ".exe", nil},
	}
}

func TestExtractFilename(t *testing.T) { runExtract(t, filenameCases()) }

func emailCases() []extractCase {
	return []extractCase{
		{"plain", "user@example.org", []string{"email user@example.org", "domain example.org"}},
		{"case-and-plus", "John.Doe+tag@Example.COM", []string{"email john.doe+tag@example.com", "domain example.com"}},
		{"mailto", "mailto:abuse@example.net", []string{"email abuse@example.net", "domain example.net"}},
		{"angle", "Helpdesk <soc@example.org>", []string{"email soc@example.org", "domain example.org"}},
		{"sentence-end", "write to soc@example.org.", []string{"email soc@example.org", "domain example.org"}},
		{"leading-dot", ".user@example.com", []string{"email user@example.com", "domain example.com"}},
		{"domain-seen-before", "example.org: user@example.org", []string{"domain example.org", "email user@example.org"}},
		{"localhost", "root@localhost", nil},
		{"test-tld", "user@foo.test", nil},
		{"no-local", "@example.com", []string{"domain example.com"}},
		{"no-tld", "a@b", nil},
		{"trailing-dot-local", "user.@example.com", []string{"domain example.com"}},
	}
}

func TestExtractEmail(t *testing.T) { runExtract(t, emailCases()) }

func hashCases() []extractCase {
	const (
		md5    = "5d41402abc4b2a76b9719d911017c592"
		sha1   = "aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d"
		sha256 = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
	)
	return []extractCase{
		{"md5", md5, []string{"md5 " + md5}},
		{"sha1", sha1, []string{"sha1 " + sha1}},
		{"sha256", sha256, []string{"sha256 " + sha256}},
		{"upper", strings.ToUpper(sha256), []string{"sha256 " + sha256}},
		{"labelled", "sha256:" + sha256 + ", md5=" + md5, []string{"sha256 " + sha256, "md5 " + md5}},
		{"in-list", "- " + md5 + "\n- " + sha1, []string{"md5 " + md5, "sha1 " + sha1}},
		{"33-hex", md5 + "a", nil},
		{"65-hex", sha256 + "a", nil},
		{"in-word", "x" + md5, nil},
		{"guid", "550e8400-e29b-41d4-a716-446655440000", nil},
		{"guid-braces", "{550E8400-E29B-41D4-A716-446655440000}", nil},
		{"trace-id", "trace_id=" + md5, nil},
		{"request-id", "requestId:" + sha1, nil},
		{"pid-like-key", "sample=" + md5, []string{"md5 " + md5}},
		{"all-digits", "12345678901234567890123456789012", nil},
		{"all-letters", strings.Repeat("ab", 16), nil},
	}
}

func TestExtractHash(t *testing.T) { runExtract(t, hashCases()) }

func asnCases() []extractCase {
	return []extractCase{
		{"as", "AS64496", []string{"asn AS64496"}},
		{"as-space", "AS 64496", []string{"asn AS64496"}},
		{"asn", "ASN64496", []string{"asn AS64496"}},
		{"asn-space", "asn 64496", []string{"asn AS64496"}},
		{"lower", "as64496", []string{"asn AS64496"}},
		{"mixed", "As64496", []string{"asn AS64496"}},
		{"labelled", "origin:AS64497,", []string{"asn AS64497"}},
		{"range", "AS64496-AS64511", []string{"asn AS64496", "asn AS64511"}},
		{"max", "AS4294967295", []string{"asn AS4294967295"}},
		{"english-as", "as 10 servers", nil},
		{"sentence-as", "As 5 hosts", nil},
		{"zero", "AS0", nil},
		{"as-trans", "AS23456", nil},
		{"too-big", "AS4294967296", nil},
		{"leading-zero", "AS064496", nil},
		{"in-word", "CLASS64496", nil},
		{"space-then-domain", "AS 64496.example", []string{"domain 64496.example"}},
		{"no-number", "AS", nil},
	}
}

func TestExtractASN(t *testing.T) { runExtract(t, asnCases()) }

func TestExtractDedup(t *testing.T) {
	in := "192.0.2.1 example.com 192.0.2[.]1 EXAMPLE.COM http://example.com/ user@example.com"
	res := observable.Extract(in)
	checkResult(t, in, res)
	want := []string{"ipv4 192.0.2.1", "domain example.com", "url http://example.com/", "email user@example.com"}
	if got := brief(res.Observables); !reflect.DeepEqual(got, want) {
		t.Errorf("Extract(%q) = %q, want %q", in, got, want)
	}
	if o := res.Observables[1]; o.Raw != "example.com" || o.Offset != 10 {
		t.Errorf("Extract(%q)[1] = %q at %d, want %q at %d", in, o.Raw, o.Offset, "example.com", 10)
	}
}

// junk returns n bytes of deterministic pseudo-random binary data.
func junk(n int) string {
	b := make([]byte, n)
	x := uint32(2463534242)
	for i := range b {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b[i] = byte(x)
	}
	return string(b)
}

func TestExtractRobust(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"empty", "", nil},
		{"cyrillic", "Сервер 192.0.2.1 атакует evil.example", []string{"ipv4 192.0.2.1", "domain evil.example"}},
		{"cjk", "攻撃元：192.0.2.1、evil.example。", []string{"ipv4 192.0.2.1", "domain evil.example"}},
		{"emoji", "🔥http://x.example/🔥", []string{"url http://x.example/", "domain x.example"}},
		{"crlf", "IP: 192.0.2.1\r\nURL: hxxp://x[.]example/\r\n", []string{"ipv4 192.0.2.1", "url http://x.example/", "domain x.example"}},
		{"invalid-utf8", "\xff\xfe192.0.2.1\xc3", []string{"ipv4 192.0.2.1"}},
		{"nul", "192.0.2.1\x00example.com", []string{"ipv4 192.0.2.1", "domain example.com"}},
		{"long-line", strings.Repeat("a", 1<<20) + " 192.0.2.1", []string{"ipv4 192.0.2.1"}},
		{"long-dotted", strings.Repeat("a.", 1<<16) + "com", nil},
		{"long-url", "http://x.example/" + strings.Repeat("a", 1<<16), []string{"url http://x.example/" + strings.Repeat("a", 1<<16), "domain x.example"}},
		{"many-colons", strings.Repeat("1:", 1<<16), nil},
		{"many-ats", strings.Repeat("a@", 1<<16), nil},
		{"many-brackets", strings.Repeat("[[.]", 1<<14), nil},
		{"many-parens", "http://x.example/" + strings.Repeat(")", 1<<16), []string{"url http://x.example/", "domain x.example"}},
		{"many-schemes", strings.Repeat("hxxp://", 1<<14), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := observable.Extract(tt.in)
			checkResult(t, tt.in, res)
			want := tt.want
			if want == nil {
				want = []string{}
			}
			if got := brief(res.Observables); !reflect.DeepEqual(got, want) {
				t.Errorf("Extract(%.60q) = %.200q, want %.200q", tt.in, got, want)
			}
		})
	}
	t.Run("binary-junk", func(t *testing.T) {
		in := junk(1 << 20)
		checkResult(t, in, observable.Extract(in))
	})
}

// TestExtractAdversarial feeds Extract long repetitions of the pieces its
// scanners work on; a scanner that looked back or ahead without bound would
// take quadratic time here and make the test time out.
func TestExtractAdversarial(t *testing.T) {
	pieces := []string{
		"a@", "a@b", "a@b.", "@a.com", "1:", "::", ":1.2.3.4", "f:", "1.2.3.4/", "/1", "1/", "0/0/",
		"1.2.3.4-", "hxxp://", "http://a", "http://x.example?", "[.]", "[[.]", "[", "(dot", "a.", "1.",
		"a-", "AS ", "AS 1 ", "as1-", "x.exe ", "d41d8cd98f00b204e9800998ecf8427e", "é1", "\xff",
	}
	for i, p := range pieces {
		t.Run(fmt.Sprintf("piece%02d", i), func(t *testing.T) {
			in := strings.Repeat(p, (256<<10)/len(p))
			checkResult(t, in, observable.Extract(in))
			in = "http://x.example/" + in
			checkResult(t, in, observable.Extract(in))
		})
	}
}

func TestExtractTruncated(t *testing.T) {
	filler := strings.Repeat("lorem ipsum ", observable.MaxInput/12)
	tests := []struct {
		name      string
		in        string
		truncated bool
		want      []string
	}{
		{"at-limit", strings.Repeat("x", observable.MaxInput-10) + " 192.0.2.1", false, []string{"ipv4 192.0.2.1"}},
		{"over-limit", "192.0.2.1 " + filler + "198.51.100.1 " + filler, true, []string{"ipv4 192.0.2.1"}},
		// A hash across the limit is dropped, not cut into a shorter one.
		{"across-limit", strings.Repeat("x", observable.MaxInput-40) + " " + strings.Repeat("ab12", 16), true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := observable.Extract(tt.in)
			checkResult(t, tt.in, res)
			want := tt.want
			if want == nil {
				want = []string{}
			}
			if got := brief(res.Observables); res.Truncated != tt.truncated || !reflect.DeepEqual(got, want) {
				t.Errorf("Extract(%.20q...) = %q, truncated %v, want %q, truncated %v", tt.in, got, res.Truncated, want, tt.truncated)
			}
		})
	}
}

// refangCase is one Refang input and its result.
type refangCase struct {
	name, in, want string
}

func refangCases() []refangCase {
	return []refangCase{
		{"hxxp", "hxxp://evil[.]example[.]com/path", "http://evil.example.com/path"},
		{"hxxps-colon", "hxxps[:]//x[.]example", "https://x.example"},
		{"hxxp-upper", "hXXp://x[.]example", "http://x.example"},
		{"fxp", "fxp://x[.]example", "ftp://x.example"},
		{"scheme-brackets", "hxxp[://]x[.]example", "http://x.example"},
		{"paren-dot", "example(.)com", "example.com"},
		{"brace-dot", "evil{.}example", "evil.example"},
		{"bracket-dot-word", "example[dot]com", "example.com"},
		{"paren-dot-word", "example(DOT)com", "example.com"},
		{"brace-dot-word", "example{dot}com", "example.com"},
		{"space-dot-space", "example dot com", "example.com"},
		{"at-bracket", "user[@]example[.]org", "user@example.org"},
		{"at-word", "user[at]example[dot]org", "user@example.org"},
		{"at-paren-word", "user(at)example(dot)org", "user@example.org"},
		{"at-paren", "user(@)example.org", "user@example.org"},
		{"ip", "192[.]0[.]2[.]1", "192.0.2.1"},
		{"plain", "http://x.example", "http://x.example"},
		{"hxxp-not-scheme", "hxxp is a word", "hxxp is a word"},
		{"hxxp-in-word", "ahxxp://x", "ahxxp://x"},
		{"meow", "meow://x", "meow://x"},
		{"brackets-kept", "[x] (y) {z} [ . ]", "[x] (y) {z} [ . ]"},
		{"nested-once", "[[.]]", "[.]"},
		{"dot-in-word", "dotted", "dotted"},
		{"empty", "", ""},
		{"unicode", "Grüße[.]example", "Grüße.example"},
	}
}

func TestRefang(t *testing.T) {
	for _, tt := range refangCases() {
		t.Run(tt.name, func(t *testing.T) {
			if got := observable.Refang(tt.in); got != tt.want {
				t.Errorf("Refang(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestDefang(t *testing.T) {
	tests := []struct {
		name string
		in   observable.Observable
		want string
	}{
		{"url", observable.Observable{Kind: observable.KindURL, Value: "http://1.2.3.4/x"}, "hxxp://1[.]2[.]3[.]4/x"},
		{"url-https", observable.Observable{Kind: observable.KindURL, Value: "https://evil.example.com/a.php?u=http://x.example"},
			"hxxps://evil[.]example[.]com/a[.]php?u=http[://]x[.]example"},
		{"url-ftp", observable.Observable{Kind: observable.KindURL, Value: "ftp://files.example.org/"}, "fxp://files[.]example[.]org/"},
		{"domain", observable.Observable{Kind: observable.KindDomain, Value: "evil.example.com"}, "evil[.]example[.]com"},
		{"ipv4", observable.Observable{Kind: observable.KindIPv4, Value: "192.0.2.1"}, "192[.]0[.]2[.]1"},
		{"ipv6", observable.Observable{Kind: observable.KindIPv6, Value: "2001:db8::1"}, "2001[:]db8[:][:]1"},
		{"cidr", observable.Observable{Kind: observable.KindCIDR, Value: "198.51.100.0/24"}, "198[.]51[.]100[.]0/24"},
		{"email", observable.Observable{Kind: observable.KindEmail, Value: "user@example.org"}, "user[@]example[.]org"},
		{"md5", observable.Observable{Kind: observable.KindMD5, Value: "5d41402abc4b2a76b9719d911017c592"}, "5d41402abc4b2a76b9719d911017c592"},
		{"asn", observable.Observable{Kind: observable.KindASN, Value: "AS64496"}, "AS64496"},
		{"filename", observable.Observable{Kind: observable.KindFilename, Value: "invoice.pdf.exe"}, "invoice.pdf.exe"},
		{"unknown-kind", observable.Observable{Kind: "other", Value: "see http://x.example or a@b.example"},
			"see http[://]x[.]example or a[@]b[.]example"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := observable.Defang(tt.in); got != tt.want {
				t.Errorf("Defang(%v) = %q, want %q", tt.in, got, tt.want)
			}
			if got := observable.Refang(observable.Defang(tt.in)); got != tt.in.Value {
				t.Errorf("Refang(Defang(%v)) = %q, want %q", tt.in, got, tt.in.Value)
			}
		})
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		name  string
		kind  observable.Kind
		in    string
		value string
	}{
		{"ipv4", observable.KindIPv4, "192.0.2.1", "192.0.2.1"},
		{"ipv4-defanged", observable.KindIPv4, " 192.0.2[.]1 ", "192.0.2.1"},
		{"ipv6", observable.KindIPv6, "2001:DB8:0::1", "2001:db8::1"},
		{"ipv6-zone", observable.KindIPv6, "fe80::1%eth0", "fe80::1"},
		{"ipv6-no-digits", observable.KindIPv6, "dead::beef", "dead::beef"},
		{"ipv6-defanged", observable.KindIPv6, "2001[:]db8[:][:]1", "2001:db8::1"},
		{"cidr-v4", observable.KindCIDR, "198.51.100.7/24", "198.51.100.0/24"},
		{"cidr-v6", observable.KindCIDR, "2001:db8::1/32", "2001:db8::/32"},
		{"domain", observable.KindDomain, "Evil.Example.COM.", "evil.example.com"},
		{"domain-defanged", observable.KindDomain, "evil[.]example", "evil.example"},
		{"domain-dot-word", observable.KindDomain, "evil dot example", "evil.example"},
		{"domain-extension-tld", observable.KindDomain, "evil.zip", "evil.zip"},
		{"url", observable.KindURL, "hxxps://Evil[.]Example/Login?x=1", "https://evil.example/Login?x=1"},
		{"url-ipv6", observable.KindURL, "http://[2001:DB8::1]/", "http://[2001:db8::1]/"},
		{"url-trailing-dot-kept", observable.KindURL, "http://x.example/a.", "http://x.example/a."},
		{"email", observable.KindEmail, "User[at]Example[dot]org", "user@example.org"},
		{"md5", observable.KindMD5, "5D41402ABC4B2A76B9719D911017C592", "5d41402abc4b2a76b9719d911017c592"},
		{"md5-digits", observable.KindMD5, "12345678901234567890123456789012", "12345678901234567890123456789012"},
		{"sha1", observable.KindSHA1, "aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d", "aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d"},
		{"sha256", observable.KindSHA256, "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824",
			"2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"},
		{"asn", observable.KindASN, "as 64496", "AS64496"},
		{"asn-n", observable.KindASN, "ASN64496", "AS64496"},
		{"asn-bare", observable.KindASN, "64496", "AS64496"},
		{"filename", observable.KindFilename, "Invoice 2024.pdf.exe", "Invoice 2024.pdf.exe"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := observable.Parse(tt.kind, tt.in)
			if err != nil || o.Value != tt.value || o.Kind != tt.kind {
				t.Fatalf("Parse(%s, %q) = %v, %v, want %q", tt.kind, tt.in, o, err, tt.value)
			}
			if o.Raw != strings.TrimSpace(tt.in) || tt.in[o.Offset:o.Offset+len(o.Raw)] != o.Raw {
				t.Errorf("Parse(%s, %q) = Raw %q at %d, want the trimmed input", tt.kind, tt.in, o.Raw, o.Offset)
			}
			again, err := observable.Parse(tt.kind, o.Value)
			if err != nil || again.Value != o.Value {
				t.Errorf("Parse(%s, %q) = %q, %v, want %q, nil", tt.kind, o.Value, again.Value, err, o.Value)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name   string
		kind   observable.Kind
		in     string
		reason string
	}{
		{"empty", observable.KindIPv4, "  ", "empty value"},
		{"unknown-kind", "mac", "00:11:22:33:44:55", "unknown kind"},
		{"ipv4-leading-zero", observable.KindIPv4, "010.1.1.1", `octet "010" has a leading zero`},
		{"ipv4-big", observable.KindIPv4, "192.0.2.256", "octet 256 is greater than 255"},
		{"ipv4-five", observable.KindIPv4, "1.2.3.4.5", "more than 4 octets"},
		{"ipv4-three", observable.KindIPv4, "1.2.3", "3 octets, want 4"},
		{"ipv4-v6", observable.KindIPv4, "::1", "not a decimal number"},
		{"ipv6-v4", observable.KindIPv6, "192.0.2.1", "not an IPv6 address"},
		{"ipv6-bad", observable.KindIPv6, "2001:db8:::1", ""},
		{"cidr-no-bits", observable.KindCIDR, "192.0.2.0", "missing /prefix-length"},
		{"cidr-bits", observable.KindCIDR, "192.0.2.0/33", "prefix length out of range"},
		{"cidr-bits-zero", observable.KindCIDR, "192.0.2.0/024", "leading zero"},
		{"domain-tld", observable.KindDomain, "foo.test", `unknown top-level domain "test"`},
		{"domain-single", observable.KindDomain, "localhost", "needs at least two labels"},
		{"domain-char", observable.KindDomain, "my_host.example.com", `invalid character '_'`},
		{"domain-hyphen", observable.KindDomain, "-x.example.com", "starts or ends with a hyphen"},
		{"domain-label", observable.KindDomain, strings.Repeat("a", 64) + ".com", "label longer than 63 bytes"},
		{"domain-space", observable.KindDomain, "evil example.com", `invalid character ' '`},
		{"url-scheme", observable.KindURL, "gopher://x.example/", `scheme "gopher"`},
		{"url-no-scheme", observable.KindURL, "x.example/a", `missing "://"`},
		{"url-space", observable.KindURL, "http://x.example/a b", "invalid character ' '"},
		{"url-host", observable.KindURL, "http://localhost/", "host: needs at least two labels"},
		{"url-port", observable.KindURL, "http://x.example:65536/", "invalid port"},
		{"url-ipv6", observable.KindURL, "http://[2001:db8::1/", "unterminated IPv6 literal"},
		{"url-nested", observable.KindURL, "http://x.example/[[.]]", "defanged text left"},
		{"filename-nested", observable.KindFilename, "[[.]]", "defanged text left"},
		{"email-no-at", observable.KindEmail, "user.example.org", "missing @"},
		{"email-local", observable.KindEmail, "us er@example.org", "invalid character ' ' in local part"},
		{"email-domain", observable.KindEmail, "root@localhost", "domain: needs at least two labels"},
		{"md5-length", observable.KindMD5, "abc", "3 characters, want 32 hex digits"},
		{"sha1-hex", observable.KindSHA1, strings.Repeat("g", 40), "invalid hex digit 'g'"},
		{"sha256-guid", observable.KindSHA256, "550e8400-e29b-41d4-a716-446655440000", "want 64 hex digits"},
		{"asn-zero", observable.KindASN, "AS0", "reserved"},
		{"asn-trans", observable.KindASN, "AS23456", "AS_TRANS"},
		{"asn-big", observable.KindASN, "AS4294967296", "greater than 4294967295"},
		{"asn-word", observable.KindASN, "ASX", "not AS followed by a decimal number"},
		{"filename-slash", observable.KindFilename, "a/b.exe", "invalid character '/'"},
		{"filename-dot", observable.KindFilename, "..", "not a file name"},
		{"filename-control", observable.KindFilename, "a\x01.exe", "invalid character"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := observable.Parse(tt.kind, tt.in)
			var pe *observable.ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("Parse(%s, %q) = %v, %v, want a *ParseError", tt.kind, tt.in, o, err)
			}
			if pe.Kind != tt.kind || pe.Value != tt.in || !strings.Contains(pe.Reason, tt.reason) {
				t.Errorf("Parse(%s, %q) = %v, want reason containing %q", tt.kind, tt.in, err, tt.reason)
			}
			if msg := err.Error(); !strings.HasPrefix(msg, "observable: parse ") {
				t.Errorf("Parse(%s, %q) error = %q, want prefix %q", tt.kind, tt.in, msg, "observable: parse ")
			}
		})
	}
}

func TestParseErrorShortens(t *testing.T) {
	err := &observable.ParseError{Kind: observable.KindDomain, Value: strings.Repeat("a", 1000), Reason: "too long"}
	if got := err.Error(); len(got) > 120 {
		t.Errorf("ParseError.Error() = %d bytes, want at most 120", len(got))
	}
}

func TestKinds(t *testing.T) {
	kinds := observable.Kinds()
	if len(kinds) != 11 {
		t.Errorf("Kinds() = %d kinds, want 11", len(kinds))
	}
	for _, k := range kinds {
		if _, err := observable.Parse(k, "?"); err != nil && strings.Contains(err.Error(), "unknown kind") {
			t.Errorf("Parse(%s, %q) = %v, want the kind known", k, "?", err)
		}
	}
	if !slices.Contains(kinds, observable.KindFilename) {
		t.Errorf("Kinds() = %v, want it to contain %q", kinds, observable.KindFilename)
	}
}
