package auth

import (
	"net/netip"
	"testing"
)

var testProxies = []netip.Prefix{
	netip.MustParsePrefix("10.0.0.0/8"),
	netip.MustParsePrefix("2001:db8:ffff::/48"),
}

var clientIPTests = []struct {
	name, remote, xff string
	want              string // "" means invalid Addr
}{
	{"untrusted_peer", "203.0.113.5:4711", "", "203.0.113.5"},
	{"untrusted_peer_ignores_xff", "203.0.113.5:4711", "198.51.100.7", "203.0.113.5"},
	{"untrusted_peer_ignores_garbage_xff", "203.0.113.5:4711", "garbage", "203.0.113.5"},
	{"peer_without_port", "203.0.113.5", "", "203.0.113.5"},
	{"ipv6_peer", "[2001:db8::1]:443", "198.51.100.7", "2001:db8::1"},
	{"ipv6_peer_without_port", "2001:db8::1", "", "2001:db8::1"},
	{"mapped_peer_unmapped", "[::ffff:203.0.113.5]:80", "", "203.0.113.5"},
	{"zoned_peer", "[fe80::1%eth0]:80", "", "fe80::1"},
	{"trusted_peer_no_xff", "10.0.0.1:80", "", "10.0.0.1"},
	{"trusted_peer", "10.0.0.1:80", "203.0.113.5", "203.0.113.5"},
	{"trusted_mapped_peer", "[::ffff:10.0.0.1]:80", "203.0.113.5", "203.0.113.5"},
	{"spoofed_left_entries_ignored", "10.0.0.1:80", "1.2.3.4, 198.51.100.7, 203.0.113.5", "203.0.113.5"},
	{"proxy_chain", "10.0.0.1:80", "1.2.3.4, 203.0.113.5, 10.0.0.3,10.0.0.2", "203.0.113.5"},
	{"ipv6_proxy_chain", "[2001:db8:ffff::1]:80", "2001:db8:1::5, 2001:db8:ffff::2", "2001:db8:1::5"},
	{"mixed_family_chain", "[2001:db8:ffff::1]:80", "203.0.113.5, 10.1.2.3", "203.0.113.5"},
	{"xff_with_port", "10.0.0.1:80", "203.0.113.5:1234", "203.0.113.5"},
	{"xff_ipv6_with_port", "10.0.0.1:80", "[2001:db8::5]:1234", "2001:db8::5"},
	{"xff_mapped", "10.0.0.1:80", "::ffff:203.0.113.5", "203.0.113.5"},
	{"xff_zone", "10.0.0.1:80", "fe80::5%eth0", "fe80::5"},
	{"xff_tabs_spaces", "10.0.0.1:80", " \t203.0.113.5 \t", "203.0.113.5"},
	{"all_trusted", "10.0.0.1:80", "10.0.0.3, 10.0.0.2", "10.0.0.3"},
	{"malformed_rightmost", "10.0.0.1:80", "203.0.113.5, garbage", "10.0.0.1"},
	{"malformed_after_trusted", "10.0.0.1:80", "garbage, 10.0.0.2", "10.0.0.2"},
	{"malformed_left_of_client", "10.0.0.1:80", "garbage, 203.0.113.5", "203.0.113.5"},
	{"empty_entries", "10.0.0.1:80", "203.0.113.5,,", "10.0.0.1"},
	{"only_commas", "10.0.0.1:80", ",,,", "10.0.0.1"},
	{"hostname_in_xff", "10.0.0.1:80", "example.org", "10.0.0.1"},
	{"unknown_in_xff", "10.0.0.1:80", "unknown", "10.0.0.1"},
	{"empty_remote", "", "203.0.113.5", ""},
	{"hostname_remote", "localhost:80", "", ""},
	{"garbage_remote", "not an address", "", ""},
	{"remote_bad_port", "203.0.113.5:port", "", ""},
}

func TestClientIP(t *testing.T) {
	for _, tt := range clientIPTests {
		t.Run(tt.name, func(t *testing.T) {
			got := ClientIP(tt.remote, tt.xff, testProxies)
			var want netip.Addr
			if tt.want != "" {
				want = netip.MustParseAddr(tt.want)
			}
			if got != want {
				t.Errorf("ClientIP(%q, %q, proxies) = %v, want %v", tt.remote, tt.xff, got, want)
			}
		})
	}
}

func TestClientIPNoTrustedProxies(t *testing.T) {
	got := ClientIP("10.0.0.1:80", "203.0.113.5", nil)
	if want := netip.MustParseAddr("10.0.0.1"); got != want {
		t.Errorf("ClientIP(10.0.0.1:80, 203.0.113.5, nil) = %v, want %v", got, want)
	}
}

func FuzzClientIP(f *testing.F) {
	for _, tt := range clientIPTests {
		f.Add(tt.remote, tt.xff)
	}
	f.Fuzz(func(t *testing.T, remote, xff string) {
		got := ClientIP(remote, xff, testProxies)
		peer, peerOK := parseHostAddr(remote)
		if got.IsValid() != peerOK {
			t.Fatalf("ClientIP(%q, %q) = %v, valid %v, want valid %v", remote, xff, got, got.IsValid(), peerOK)
		}
		if !peerOK {
			return
		}
		if got.Zone() != "" || got.Is4In6() {
			t.Errorf("ClientIP(%q, %q) = %v, want unmapped without zone", remote, xff, got)
		}
		if !trusted(peer, testProxies) && got != peer {
			t.Errorf("ClientIP(%q, %q) = %v, want untrusted peer %v", remote, xff, got, peer)
		}
	})
}
