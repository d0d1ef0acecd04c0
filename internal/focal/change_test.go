package focal

import (
	"net/netip"
	"slices"
	"testing"
)

func TestParseHoldings(t *testing.T) {
	h, err := ParseHoldings("add", "203.0.113.0/25, 198.51.100.7\n2001:db8::/48 AS64500; 64501\tPortal.Example.NET.")
	if err != nil {
		t.Fatal(err)
	}
	wantNets := []netip.Prefix{netip.MustParsePrefix("198.51.100.7/32"), netip.MustParsePrefix("203.0.113.0/25"), netip.MustParsePrefix("2001:db8::/48")}
	if !slices.Equal(h.Networks, wantNets) || !slices.Equal(h.ASNs, []uint32{64500, 64501}) || !slices.Equal(h.Domains, []string{"portal.example.net"}) {
		t.Errorf("ParseHoldings = %+v", h)
	}
	for _, bad := range []string{"not_a_domain!", "203.0.113.0/33", "4294967296"} {
		if _, err := ParseHoldings("add", "example.org\n"+bad); ErrorCode(err) != EINVALID {
			t.Errorf("ParseHoldings(%q) = %v, want EINVALID", bad, err)
		}
	}
}
