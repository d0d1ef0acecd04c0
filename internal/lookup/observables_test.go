package lookup

import (
	"net/netip"
	"testing"

	"focal/internal/focal"
)

func TestMatchObservables(t *testing.T) {
	tab, err := Build([]Entry{
		{OrgID: 1, Networks: []netip.Prefix{netip.MustParsePrefix("198.51.100.0/24")}, ASNs: []uint32{64500}},
		{OrgID: 2, Domains: []string{"example.net"}, Networks: []netip.Prefix{netip.MustParsePrefix("2001:db8::/32")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	obs := []focal.Observable{
		{Kind: "ipv4", Value: "198.51.100.23"}, {Kind: "cidr", Value: "198.51.100.128/25"}, {Kind: "asn", Value: "AS64500"},
		{Kind: "url", Value: "https://mail.example.net/login"}, {Kind: "email", Value: "ceo@example.net"},
		{Kind: "ipv6", Value: "2001:db8::7"}, {Kind: "ipv4", Value: "203.0.113.1"}, {Kind: "sha256", Value: "ab"},
		{Kind: "ipv4", Value: "not an address"},
	}
	got := tab.MatchObservables(obs)
	if len(got) != 2 {
		t.Fatalf("MatchObservables = %+v, want two organisations", got)
	}
	if got[0].OrgID != 1 || len(got[0].Matched) != 3 || got[1].OrgID != 2 || len(got[1].Matched) != 3 {
		t.Errorf("MatchObservables = %+v, want org 1 (3 matches) then org 2 (3 matches)", got)
	}
	if m := (&Table{}).MatchObservables(obs); len(m) != 0 {
		t.Errorf("empty table matched %+v", m)
	}
}
