package lookup

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"unsafe"
)

// fixture is the registry most table tests run against.
func fixture() []Entry {
	return []Entry{
		{OrgID: 1, Networks: pfxs("10.0.0.0/8", "2001:db8::/32"), ASNs: []uint32{64496}, Domains: []string{"example.org"}},
		{OrgID: 2, Networks: pfxs("10.1.0.0/16"), ASNs: []uint32{64497, 64496}, Domains: []string{"sub.example.org"}},
		{OrgID: 3, Networks: pfxs("10.1.2.0/24", "10.1.0.0/16"), Domains: []string{"EXAMPLE.net."}},
		{OrgID: 4, Networks: pfxs("192.0.2.0/24", "192.0.2.128/25"), Domains: []string{"xn--bcher-kva.example"}},
		{OrgID: 5, Networks: pfxs("2001:db8:1::/48"), Domains: []string{"ee"}},
		{OrgID: 6, Networks: pfxs("198.51.100.7/32"), Domains: []string{"Sub.Example.Org"}},
		{OrgID: 7, Networks: pfxs("10.1.2.3/32"), Domains: []string{"k.org"}},
		{OrgID: 8, Networks: pfxs("::ffff:203.0.113.0/120")},
		{OrgID: 9, Networks: pfxs("172.16.5.5/12"), Domains: []string{"xyz.example"}},
		{OrgID: 2, ASNs: []uint32{4200000000}}, // a second entry for org 2
	}
}

func pfxs(ss ...string) []netip.Prefix {
	ps := make([]netip.Prefix, len(ss))
	for i, s := range ss {
		ps[i] = netip.MustParsePrefix(s)
	}
	return ps
}

func mustBuild(tb testing.TB, entries []Entry) *Table {
	tb.Helper()
	t, err := Build(entries)
	if err != nil {
		tb.Fatalf("Build: %v", err)
	}
	return t
}

func ids(v ...int64) []int64 { return v }

// checkOrgs fails unless got equals want (nil and empty are not equal:
// no match must be nil) and got is sorted, duplicate-free and clipped.
func checkOrgs(tb testing.TB, call string, got, want []int64) {
	tb.Helper()
	if !slices.Equal(got, want) || (got == nil) != (want == nil) {
		tb.Errorf("%s = %v, want %v", call, got, want)
		return
	}
	if cap(got) != len(got) {
		tb.Errorf("%s: cap %d != len %d, an append would write into the table", call, cap(got), len(got))
	}
}

func TestIP(t *testing.T) {
	tbl := mustBuild(t, fixture())
	tests := []struct {
		name string
		addr string
		want []int64
	}{
		{"v4_outer_only", "10.9.9.9", ids(1)},
		{"v4_first_of_outer", "10.0.0.0", ids(1)},
		{"v4_last_of_outer", "10.255.255.255", ids(1)},
		{"v4_below_outer", "9.255.255.255", nil},
		{"v4_above_outer", "11.0.0.0", nil},
		{"v4_nested_and_equal_claims", "10.1.9.9", ids(1, 2, 3)},
		{"v4_four_levels", "10.1.2.3", ids(1, 2, 3, 7)},
		{"v4_next_to_host_route", "10.1.2.4", ids(1, 2, 3)},
		{"v4_own_nested_deduplicated", "192.0.2.200", ids(4)},
		{"v4_own_outer", "192.0.2.1", ids(4)},
		{"v4_host_route", "198.51.100.7", ids(6)},
		{"v4_next_to_lone_host_route", "198.51.100.8", nil},
		{"v4_host_bits_masked", "172.20.1.1", ids(9)},
		{"v4_from_mapped_claim", "203.0.113.5", ids(8)},
		{"mapped_query", "::ffff:10.1.2.3", ids(1, 2, 3, 7)},
		{"mapped_query_mapped_claim", "::ffff:203.0.113.5", ids(8)},
		{"v6_outer", "2001:db8::1", ids(1)},
		{"v6_nested", "2001:db8:1::1", ids(1, 5)},
		{"v6_nested_last", "2001:db8:1:ffff:ffff:ffff:ffff:ffff", ids(1, 5)},
		{"v6_zone_ignored", "2001:db8:1::1%eth0", ids(1, 5)},
		{"v6_not_found", "2001:db9::1", nil},
		{"v6_loopback", "::1", nil},
		{"v4_compatible_is_not_v4", "::10.1.2.3", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkOrgs(t, "IP("+tt.addr+")", tbl.IP(netip.MustParseAddr(tt.addr)), tt.want)
		})
	}
	t.Run("zero_addr", func(t *testing.T) {
		checkOrgs(t, "IP(netip.Addr{})", tbl.IP(netip.Addr{}), nil)
	})
}

func TestIPDefaultRoutes(t *testing.T) {
	tbl := mustBuild(t, []Entry{
		{OrgID: 1, Networks: pfxs("0.0.0.0/0")},
		{OrgID: 2, Networks: pfxs("::/0")},
		{OrgID: 3, Networks: pfxs("128.0.0.0/1", "8000::/1")},
		{OrgID: 4, Networks: pfxs("::ffff:0.0.0.0/96")}, // all of IPv4
	})
	tests := []struct {
		name, addr string
		want       []int64
	}{
		{"v4_low", "1.2.3.4", ids(1, 4)},
		{"v4_high", "200.1.1.1", ids(1, 3, 4)},
		{"v6_low", "::2", ids(2)},
		{"v6_high", "ffff::1", ids(2, 3)},
		{"mapped_is_v4", "::ffff:1.2.3.4", ids(1, 4)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkOrgs(t, "IP("+tt.addr+")", tbl.IP(netip.MustParseAddr(tt.addr)), tt.want)
		})
	}
}

func TestASN(t *testing.T) {
	tbl := mustBuild(t, fixture())
	tests := []struct {
		name string
		asn  uint32
		want []int64
	}{
		{"two_orgs", 64496, ids(1, 2)},
		{"one_org", 64497, ids(2)},
		{"merged_entries", 4200000000, ids(2)},
		{"unknown", 64498, nil},
		{"zero", 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkOrgs(t, "ASN("+strconv.FormatUint(uint64(tt.asn), 10)+")", tbl.ASN(tt.asn), tt.want)
		})
	}
}

func domainCases() []struct {
	name, in string
	want     []int64
} {
	return []struct {
		name, in string
		want     []int64
	}{
		{"apex", "example.org", ids(1)},
		{"subdomain", "www.example.org", ids(1)},
		{"deep_subdomain", "a.b.example.org", ids(1)},
		{"nested_claim_apex", "sub.example.org", ids(1, 2, 6)},
		{"below_nested_claim", "x.sub.example.org", ids(1, 2, 6)},
		{"not_on_label_boundary", "badexample.org", nil},
		{"claim_as_prefix", "example.org.evil.com", nil},
		{"parent_of_claim", "org", nil},
		{"upper_case_trailing_dot", "EXAMPLE.ORG.", ids(1)},
		{"mixed_case_nested", "Www.Sub.Example.Org", ids(1, 2, 6)},
		{"claim_normalised", "example.net", ids(3)},
		{"sub_of_normalised_claim", "www.example.net.", ids(3)},
		{"empty", "", nil},
		{"root", ".", nil},
		{"two_trailing_dots", "example.org..", nil},
		{"tld_claim", "gov.ee", ids(5)},
		{"tld_claim_apex", "ee", ids(5)},
		{"a_label", "xn--bcher-kva.example", ids(4)},
		{"a_label_upper_case", "mail.XN--BCHER-KVA.example", ids(4)},
		{"u_label_not_converted", "bücher.example", nil},
		{"kelvin_sign_is_not_k", "\u212a.org", nil},
		{"ascii_k", "K.ORG", ids(7)},
		{"upper_case_z_only", "xyZ.example", ids(9)},
		{"empty_label", "a..example.org", ids(1)},
		{"long_upper_case", strings.Repeat("A.", 150) + "Example.Org", ids(1)},
		{"long_lower_case", strings.Repeat("a.", 150) + "example.org", ids(1)},
	}
}

func TestDomain(t *testing.T) {
	tbl := mustBuild(t, fixture())
	for _, tt := range domainCases() {
		t.Run(tt.name, func(t *testing.T) {
			checkOrgs(t, "Domain("+tt.in+")", tbl.Domain(tt.in), tt.want)
		})
	}
}

func urlCases() []struct {
	name, in string
	want     []int64
} {
	return []struct {
		name, in string
		want     []int64
	}{
		{"http", "http://www.example.org/path", ids(1)},
		{"userinfo_port_query_fragment", "https://user:pass@sub.example.org:8443/x?y#z", ids(1, 2, 6)},
		{"no_scheme_path", "www.example.org/path", ids(1)},
		{"bare_domain", "example.org", ids(1)},
		{"no_scheme_port", "example.org:8080", ids(1)},
		{"no_scheme_userinfo", "user@example.org", ids(1)},
		{"scheme_relative", "//example.org/x", ids(1)},
		{"upper_case", "HTTP://WWW.EXAMPLE.ORG", ids(1)},
		{"trailing_dot", "http://www.example.org./", ids(1)},
		{"surrounding_space", "  http://example.org/  ", ids(1)},
		{"ftp", "ftp://ftp.example.net/file", ids(3)},
		{"defanged_scheme", "hxxp://example.org/", ids(1)},
		{"special_scheme_without_slashes", "http:example.org", ids(1)},
		{"mailto", "mailto:abuse@example.org", ids(1)},
		{"v4", "http://10.1.2.3/", ids(1, 2, 3, 7)},
		{"v4_port", "http://10.1.2.3:8080/", ids(1, 2, 3, 7)},
		{"v4_bare", "10.1.2.3", ids(1, 2, 3, 7)},
		{"v4_trailing_dot", "http://10.1.2.3./", ids(1, 2, 3, 7)},
		{"v4_hex_part", "http://0x0a.1.2.3/", ids(1, 2, 3, 7)},
		{"v4_octal_part", "http://012.1.2.3/", ids(1, 2, 3, 7)},
		{"v4_one_number", "http://167838211/", ids(1, 2, 3, 7)},
		{"v4_two_parts", "http://10.66051/", ids(1, 2, 3, 7)},
		{"v4_part_too_large", "http://10.1.2.256/", nil},
		{"v4_five_parts", "http://1.2.3.4.5/", nil},
		{"v4_middle_part_too_large", "http://10.1.256.3/", nil},
		{"v4_bad_octal", "http://08.1.2.3/", nil},
		{"v6", "http://[2001:db8:1::1]/", ids(1, 5)},
		{"v6_port", "http://[2001:db8:1::1]:443/", ids(1, 5)},
		{"v6_userinfo", "http://user@[2001:db8:1::1]:80/", ids(1, 5)},
		{"v6_bare", "2001:db8:1::1", ids(1, 5)},
		{"v6_mapped", "http://[::ffff:10.1.2.3]/", ids(1, 2, 3, 7)},
		{"v6_zone", "http://[2001:db8:1::1%25eth0]/", ids(1, 5)},
		{"v6_unterminated", "http://[2001:db8::1/", nil},
		{"v6_empty", "http://[]/", nil},
		{"v6_garbage", "http://[zzzz]/", nil},
		{"percent_escape", "http://ex%61mple.org/", ids(1)},
		{"percent_escape_dot", "http://example%2Eorg/", ids(1)},
		{"percent_escape_bracket", "http://%5b/", nil},
		{"percent_truncated", "http://example.org%/", nil},
		{"backslash_ends_host", `http://evil.com\@example.org/`, nil},
		{"userinfo_is_not_host", "http://example.org@evil.com/", nil},
		{"userinfo_with_at", "http://user@name@example.org/", ids(1)},
		{"fragment_at", "http://evil.com#@example.org", nil},
		{"query_at", "http://evil.com?@example.org", nil},
		{"path_at", "http://evil.com/@example.org", nil},
		{"claim_as_prefix", "http://example.org.evil.com/", nil},
		{"url_in_query", "example.org/redirect?u=http://evil.com", ids(1)},
		{"claimed_url_in_query", "evil.com/redirect?u=http://example.org", nil},
		{"empty", "", nil},
		{"scheme_only", "http://", nil},
		{"separator_only", "://", nil},
		{"percent_only", "%", nil},
		{"bracket_only", "[", nil},
		{"at_only", "@", nil},
		{"colon_only", ":", nil},
		{"port_only", "http://:80/", nil},
		{"control_characters", "\x00\x01\xff", nil},
	}
}

func TestURL(t *testing.T) {
	tbl := mustBuild(t, fixture())
	for _, tt := range urlCases() {
		t.Run(tt.name, func(t *testing.T) {
			checkOrgs(t, "URL("+tt.in+")", tbl.URL(tt.in), tt.want)
		})
	}
}

func TestBuildErrors(t *testing.T) {
	tests := []struct {
		name   string
		entry  Entry
		kind   string
		value  string
		reason string
	}{
		{"zero_prefix", Entry{OrgID: 7, Networks: []netip.Prefix{{}}}, "network", "invalid Prefix", "not a valid prefix"},
		{"space", Entry{OrgID: 8, Domains: []string{"exa mple.org"}}, "domain", "exa mple.org", "invalid character ' '"},
		{"empty", Entry{OrgID: 9, Domains: []string{""}}, "domain", "", "empty name"},
		{"dot", Entry{OrgID: 9, Domains: []string{"."}}, "domain", ".", "empty name"},
		{"empty_label", Entry{OrgID: 10, Domains: []string{"a..b"}}, "domain", "a..b", "empty label"},
		{"leading_dot", Entry{OrgID: 10, Domains: []string{".example.org"}}, "domain", ".example.org", "empty label"},
		{"two_trailing_dots", Entry{OrgID: 10, Domains: []string{"example.org.."}}, "domain", "example.org..", "empty label"},
		{"leading_hyphen", Entry{OrgID: 11, Domains: []string{"-a.org"}}, "domain", "-a.org", "label starts or ends with '-'"},
		{"trailing_hyphen", Entry{OrgID: 11, Domains: []string{"a-.org"}}, "domain", "a-.org", "label starts or ends with '-'"},
		{"ip_literal", Entry{OrgID: 12, Domains: []string{"192.0.2.1"}}, "domain", "192.0.2.1", "last label is numeric, an IP address is not a domain"},
		{"u_label", Entry{OrgID: 13, Domains: []string{"bücher.example"}}, "domain", "bücher.example", "non-ASCII character: write internationalised names in their xn-- form"},
		{"wildcard", Entry{OrgID: 14, Domains: []string{"*.example.org"}}, "domain", "*.example.org", "invalid character '*'"},
		{"control", Entry{OrgID: 14, Domains: []string{"a\x00.org"}}, "domain", "a\x00.org", `invalid character '\x00'`},
		{"long_label", Entry{OrgID: 15, Domains: []string{strings.Repeat("a", 64) + ".org"}}, "domain", strings.Repeat("a", 64) + ".org", "label longer than 63 characters"},
		{"long_name", Entry{OrgID: -16, Domains: []string{strings.Repeat("a.", 126) + "org"}}, "domain", strings.Repeat("a.", 126) + "org", "longer than 253 characters"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			entries := append(fixture(), tt.entry)
			tbl, err := Build(entries)
			if err == nil {
				t.Fatalf("Build(%+v) = %v, nil, want an error", tt.entry, tbl)
			}
			var be *BuildError
			if !errors.As(err, &be) {
				t.Fatalf("Build(%+v) error = %T %v, want a *BuildError", tt.entry, err, err)
			}
			want := BuildError{OrgID: tt.entry.OrgID, Kind: tt.kind, Value: tt.value, Reason: tt.reason}
			if *be != want {
				t.Errorf("Build(%+v) error = %+v, want %+v", tt.entry, *be, want)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "lookup: org "+strconv.FormatInt(tt.entry.OrgID, 10)+": invalid "+tt.kind+" ") || !strings.Contains(msg, tt.reason) {
				t.Errorf("Build(%+v) error = %q, want the org id, kind, value and reason", tt.entry, msg)
			}
		})
	}
}

func TestBuildErrorMessage(t *testing.T) {
	_, err := Build([]Entry{{OrgID: 42, Domains: []string{"a..b"}}})
	if got, want := err.Error(), `lookup: org 42: invalid domain "a..b": empty label`; got != want {
		t.Errorf("Build error = %q, want %q", got, want)
	}
}

func TestNormalizeDomainError(t *testing.T) {
	_, err := NormalizeDomain("a..b")
	if got, want := fmt.Sprint(err), `lookup: invalid domain "a..b": empty label`; got != want {
		t.Errorf("NormalizeDomain(%q) error = %q, want %q", "a..b", got, want)
	}
}

func TestNormalizeDomain(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Example.ORG.", "example.org"},
		{"ee", "ee"},
		{"_dmarc.example.org", "_dmarc.example.org"},
		{"xn--bcher-kva.example", "xn--bcher-kva.example"},
		{"1password.com", "1password.com"},
		{"123.example", "123.example"},
		{"a-b.c-d.e1", "a-b.c-d.e1"},
		{strings.Repeat("a", 63) + ".org", strings.Repeat("a", 63) + ".org"},
		{strings.Repeat("a.", 125) + "org.", strings.Repeat("a.", 125) + "org"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			got, err := NormalizeDomain(tt.in)
			if got != tt.want || err != nil {
				t.Errorf("NormalizeDomain(%q) = %q, %v, want %q, nil", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestOverlaps(t *testing.T) {
	tbl := mustBuild(t, []Entry{
		{OrgID: 1, Networks: pfxs("10.0.0.0/8", "10.2.0.0/16")}, // own nesting: not an overlap
		{OrgID: 2, Networks: pfxs("10.1.0.0/16")},
		{OrgID: 3, Networks: pfxs("10.1.2.0/24", "10.1.0.0/16")},
		{OrgID: 4, Networks: pfxs("192.0.2.0/24")},
		{OrgID: 5, Networks: pfxs("2001:db8::/32")},
		{OrgID: 6, Networks: pfxs("2001:db8:1::/48", "10.3.0.0/16")},
		{OrgID: 3, Networks: pfxs("10.1.2.0/24")}, // a duplicate claim: reported once
	})
	p := netip.MustParsePrefix
	want := []Overlap{
		{p("10.0.0.0/8"), 1, 2, p("10.1.0.0/16")},
		{p("10.0.0.0/8"), 1, 3, p("10.1.0.0/16")},
		{p("10.0.0.0/8"), 1, 3, p("10.1.2.0/24")},
		{p("10.0.0.0/8"), 1, 6, p("10.3.0.0/16")},
		{p("10.1.0.0/16"), 2, 3, p("10.1.0.0/16")},
		{p("10.1.0.0/16"), 2, 3, p("10.1.2.0/24")},
		{p("2001:db8::/32"), 5, 6, p("2001:db8:1::/48")},
	}
	if got := tbl.Overlaps(); !slices.Equal(got, want) {
		t.Errorf("Overlaps() = %v, want %v", got, want)
	}
	if got := mustBuild(t, []Entry{{OrgID: 1, Networks: pfxs("10.0.0.0/8", "10.1.0.0/16")}}).Overlaps(); got != nil {
		t.Errorf("Overlaps() of one org = %v, want nil", got)
	}
}

func TestLen(t *testing.T) {
	tbl := mustBuild(t, fixture())
	// 10/8 2001:db8::/32 10.1/16 10.1.2/24 192.0.2/24 192.0.2.128/25
	// 2001:db8:1::/48 198.51.100.7/32 10.1.2.3/32 203.0.113/24 172.16/12
	prefixes, asns, domains := tbl.Len()
	if prefixes != 11 || asns != 3 || domains != 7 {
		t.Errorf("Len() = %d, %d, %d, want 11, 3, 7", prefixes, asns, domains)
	}
}

func TestEmptyTables(t *testing.T) {
	empty, err := Build(nil)
	if err != nil {
		t.Fatalf("Build(nil): %v", err)
	}
	for name, tbl := range map[string]*Table{"zero": {}, "nil": nil, "built": empty} {
		t.Run(name, func(t *testing.T) {
			checkOrgs(t, "IP(10.0.0.1)", tbl.IP(netip.MustParseAddr("10.0.0.1")), nil)
			checkOrgs(t, "IP(::1)", tbl.IP(netip.MustParseAddr("::1")), nil)
			checkOrgs(t, "ASN(1)", tbl.ASN(1), nil)
			checkOrgs(t, "Domain(example.org)", tbl.Domain("example.org"), nil)
			checkOrgs(t, "URL(http://example.org)", tbl.URL("http://example.org"), nil)
			if got := tbl.Overlaps(); got != nil {
				t.Errorf("Overlaps() = %v, want nil", got)
			}
			if p, a, d := tbl.Len(); p != 0 || a != 0 || d != 0 {
				t.Errorf("Len() = %d, %d, %d, want 0, 0, 0", p, a, d)
			}
		})
	}
}

func TestBuildDoesNotModifyEntries(t *testing.T) {
	entries := fixture()
	want := fixture()
	mustBuild(t, entries)
	for i := range entries {
		if !slices.Equal(entries[i].Networks, want[i].Networks) || !slices.Equal(entries[i].ASNs, want[i].ASNs) ||
			!slices.Equal(entries[i].Domains, want[i].Domains) {
			t.Errorf("Build modified entry %d: %+v, want %+v", i, entries[i], want[i])
		}
	}
}

func TestNoAllocs(t *testing.T) {
	tbl := mustBuild(t, fixture())
	v4 := netip.MustParseAddr("10.1.2.3")
	v6 := netip.MustParseAddr("2001:db8:1::1")
	mapped := netip.MustParseAddr("::ffff:10.1.2.3")
	tests := []struct {
		name string
		f    func()
	}{
		{"IP_v4", func() { tbl.IP(v4) }},
		{"IP_v6", func() { tbl.IP(v6) }},
		{"IP_mapped", func() { tbl.IP(mapped) }},
		{"ASN", func() { tbl.ASN(64496) }},
		{"Domain", func() { tbl.Domain("a.b.sub.example.org") }},
		{"Domain_upper_case", func() { tbl.Domain("A.B.Sub.Example.Org.") }},
		{"Domain_miss", func() { tbl.Domain("www.example.com") }},
		{"URL_domain", func() { tbl.URL("https://user@WWW.Example.org:443/login?x=1") }},
		{"URL_v4", func() { tbl.URL("http://10.1.2.3:8080/") }},
		{"URL_v4_number", func() { tbl.URL("http://167838211/") }},
		{"URL_v6", func() { tbl.URL("http://[2001:db8:1::1]/") }},
		{"URL_bad_v4", func() { tbl.URL("http://10.1.2.256/") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if n := testing.AllocsPerRun(100, tt.f); n != 0 {
				t.Errorf("%s allocates %v times per call, want 0", tt.name, n)
			}
		})
	}
}

func TestHolder(t *testing.T) {
	var h Holder
	first := h.Load()
	if first == nil {
		t.Fatal("Load() on a new Holder = nil, want an empty table")
	}
	checkOrgs(t, "Load().IP(10.0.0.1)", first.IP(netip.MustParseAddr("10.0.0.1")), nil)
	if h.Load() != first {
		t.Error("Load() returned a different empty table on the second call")
	}
	tbl := mustBuild(t, fixture())
	h.Store(tbl)
	if got := h.Load(); got != tbl {
		t.Errorf("Load() = %p, want the stored %p", got, tbl)
	}
	h.Store(nil)
	if got := h.Load(); got == nil || got == tbl {
		t.Errorf("Load() after Store(nil) = %p, want a new empty table", got)
	}
}

func TestHolderConcurrent(t *testing.T) {
	var h Holder
	tables := []*Table{
		mustBuild(t, fixture()),
		mustBuild(t, []Entry{{OrgID: 1, Networks: pfxs("10.0.0.0/8")}}),
	}
	addr := netip.MustParseAddr("10.1.2.3")
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 1000 {
				got := h.Load().IP(addr)
				if len(got) != 0 && !slices.Equal(got, ids(1)) && !slices.Equal(got, ids(1, 2, 3, 7)) {
					t.Errorf("IP(%v) = %v, want an answer of one of the tables", addr, got)
					return
				}
			}
		})
	}
	wg.Go(func() {
		for i := range 1000 {
			h.Store(tables[i%2])
		}
	})
	wg.Wait()
}

func TestNodeSize(t *testing.T) {
	// 32 bytes: two nodes per cache line, none straddling two.
	if got := unsafe.Sizeof(node{}); got != 32 {
		t.Errorf("unsafe.Sizeof(node{}) = %d, want 32", got)
	}
}

// TestInternHashCollision forces the hash of one set onto another's, which
// maphash makes too rare to meet by chance.
func TestInternHashCollision(t *testing.T) {
	in := newInterner()
	a := in.intern(ids(1, 2))
	b := ids(3)
	in.key = binary.LittleEndian.AppendUint64(in.key[:0], uint64(b[0]))
	in.seen[maphash.Bytes(in.seed, in.key)] = a // b's hash now names a
	vb := in.intern(b)
	if vb == a {
		t.Fatalf("intern(%v) = %d, the set of %v", b, vb, ids(1, 2))
	}
	if got := in.intern(b); got != vb {
		t.Errorf("intern(%v) again = %d, want %d", b, got, vb)
	}
	if got := in.set(vb); !slices.Equal(got, b) {
		t.Errorf("set(intern(%v)) = %v, want %v", b, got, b)
	}
	if got := in.intern(ids(1, 2)); got != a {
		t.Errorf("intern([1 2]) again = %d, want %d", got, a)
	}
}

func TestLongSets(t *testing.T) {
	// More orgs than fit in the length bits of a set.
	var entries []Entry
	var want []int64
	for i := range 100 {
		entries = append(entries, Entry{OrgID: int64(i), Networks: pfxs("10.0.0.0/8"), ASNs: []uint32{1}, Domains: []string{"example.org"}})
		want = append(want, int64(i))
	}
	tbl := mustBuild(t, entries)
	checkOrgs(t, "IP(10.0.0.1)", tbl.IP(netip.MustParseAddr("10.0.0.1")), want)
	checkOrgs(t, "ASN(1)", tbl.ASN(1), want)
	checkOrgs(t, "Domain(a.example.org)", tbl.Domain("a.example.org"), want)
	for n := 30; n <= 33; n++ {
		tbl := mustBuild(t, entries[:n])
		checkOrgs(t, "IP(10.0.0.1)", tbl.IP(netip.MustParseAddr("10.0.0.1")), want[:n])
	}
}
