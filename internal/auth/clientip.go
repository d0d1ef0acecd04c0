package auth

import (
	"net/netip"
	"strings"
)

// ClientIP returns the address of the client that made a request.
//
// remoteAddr is the direct peer (http.Request.RemoteAddr, "host:port" or a
// bare address). If the peer is not in trustedProxies, xff is ignored and
// the peer's address is returned, since anyone can send X-Forwarded-For.
// Otherwise xff, the X-Forwarded-For value (join repeated headers with ","
// in order), is walked from the right, skipping addresses of trusted
// proxies, and the first untrusted address is returned. If every entry is
// trusted, or an entry is not a valid address (entries may carry a port),
// the left-most trusted address reached so far is returned, as it is the
// last one known to be genuine.
//
// The result is unmapped (::ffff:192.0.2.1 becomes 192.0.2.1) and has no
// IPv6 zone, so it can be used directly in rate-limit keys. It is the zero
// netip.Addr (IsValid false) only when remoteAddr is not a valid address.
// trustedProxies are matched against unmapped addresses, so IPv4 proxies
// must be listed as IPv4 prefixes (10.0.0.0/8, not ::ffff:10.0.0.0/104).
// ClientIP is safe for concurrent use.
func ClientIP(remoteAddr string, xff string, trustedProxies []netip.Prefix) netip.Addr {
	peer, ok := parseHostAddr(remoteAddr)
	if !ok {
		return netip.Addr{}
	}
	client := peer
	for trusted(client, trustedProxies) && xff != "" {
		var entry string
		if i := strings.LastIndexByte(xff, ','); i >= 0 {
			xff, entry = xff[:i], xff[i+1:]
		} else {
			xff, entry = "", xff
		}
		a, ok := parseHostAddr(strings.Trim(entry, " \t"))
		if !ok {
			break
		}
		client = a
	}
	return client
}

// parseHostAddr parses "addr", "ipv4:port" or "[ipv6]:port", returning the
// address unmapped and without zone.
func parseHostAddr(s string) (netip.Addr, bool) {
	a, err := netip.ParseAddr(s)
	if err != nil {
		ap, err := netip.ParseAddrPort(s)
		if err != nil {
			return netip.Addr{}, false
		}
		a = ap.Addr()
	}
	return a.Unmap().WithZone(""), true
}

func trusted(a netip.Addr, prefixes []netip.Prefix) bool {
	for _, p := range prefixes {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
