package geoip

import (
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"
)

func TestRangePrefixes(t *testing.T) {
	for _, tt := range []struct {
		start, end string
		want       []string
	}{
		{"192.0.2.0", "192.0.2.255", []string{"192.0.2.0/24"}},
		{"192.0.2.7", "192.0.2.7", []string{"192.0.2.7/32"}},
		{"192.0.2.1", "192.0.2.6", []string{"192.0.2.1/32", "192.0.2.2/31", "192.0.2.4/31", "192.0.2.6/32"}},
		{"192.0.2.0", "192.0.3.127", []string{"192.0.2.0/24", "192.0.3.0/25"}},
		{"0.0.0.0", "255.255.255.255", []string{"0.0.0.0/0"}},
		{"255.255.255.254", "255.255.255.255", []string{"255.255.255.254/31"}},
		{"::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", []string{"::/0"}},
		{"2001:db8::", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", []string{"2001:db8::/32"}},
		{"2001:db8::1", "2001:db8::2", []string{"2001:db8::1/128", "2001:db8::2/128"}},
		{"::", "::ffff:ffff:ffff:ffff", []string{"::/64"}},
		{"8000::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", []string{"8000::/1"}},
		{"2001:db8:0:ffff:ffff:ffff:ffff:ffff", "2001:db8:1::", []string{"2001:db8:0:ffff:ffff:ffff:ffff:ffff/128", "2001:db8:1::/128"}},
	} {
		var got []string
		for _, p := range rangePrefixes(netip.MustParseAddr(tt.start), netip.MustParseAddr(tt.end)) {
			got = append(got, p.String())
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("rangePrefixes(%s, %s) = %v, want %v", tt.start, tt.end, got, tt.want)
		}
	}
}

// TestRangePrefixesRandom checks that random ranges are covered exactly by
// aligned networks in order, each as wide as it can be.
func TestRangePrefixesRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 20_000 {
		var start, end netip.Addr
		if r.IntN(2) == 0 {
			a, b := r.Uint32(), r.Uint32()
			if r.IntN(2) == 0 {
				b = a + r.Uint32N(5000)
				if b < a {
					b = ^uint32(0)
				}
			}
			a, b = min(a, b), max(a, b)
			start, end = u128{0, uint64(a)}.addr(true), u128{0, uint64(b)}.addr(true)
		} else {
			a := u128{r.Uint64(), r.Uint64()}
			b := a
			switch r.IntN(3) {
			case 0:
				b = u128{r.Uint64(), r.Uint64()}
			case 1:
				b, _ = a.add(u128{0, r.Uint64N(1 << 20)})
			case 2:
				b, _ = a.add(u128{r.Uint64N(1 << 10), r.Uint64()})
			}
			if b.hi < a.hi || b.hi == a.hi && b.lo < a.lo {
				a, b = b, a
			}
			start, end = a.addr(false), b.addr(false)
		}
		ps := rangePrefixes(start, end)
		next := start
		for i, p := range ps {
			if p.Addr() != next || p.Masked() != p {
				t.Fatalf("rangePrefixes(%s, %s)[%d] = %s, want an aligned network at %s", start, end, i, p, next)
			}
			last := lastAddr(p)
			if end.Less(last) {
				t.Fatalf("rangePrefixes(%s, %s)[%d] = %s ends after the range", start, end, i, p)
			}
			// Not widenable: the next wider network is misaligned or too long.
			if p.Bits() > 0 {
				w := netip.PrefixFrom(p.Addr(), p.Bits()-1)
				if w.Masked().Addr() == p.Addr() && !end.Less(lastAddr(w)) {
					t.Fatalf("rangePrefixes(%s, %s)[%d] = %s could be %s", start, end, i, p, w)
				}
			}
			next = last.Next()
		}
		if lastAddr(ps[len(ps)-1]) != end {
			t.Fatalf("rangePrefixes(%s, %s) = %v ends at %s", start, end, ps, lastAddr(ps[len(ps)-1]))
		}
	}
}

func lastAddr(p netip.Prefix) netip.Addr {
	u := u128Of(p.Addr())
	width := p.Addr().BitLen()
	h := ones(width - p.Bits())
	last, _ := u.add(h)
	return last.addr(p.Addr().Is4())
}

func TestParseRangeAddr(t *testing.T) {
	for in, want := range map[string]string{
		"0":                                      "0.0.0.0",
		"3221225985":                             "192.0.2.1",
		"4294967295":                             "255.255.255.255",
		"4294967296":                             "::1:0:0",
		"42540766411282592856903984951653826561": "2001:db8::1",
		"340282366920938463463374607431768211455": "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
		" 192.0.2.1 ":      "192.0.2.1",
		"::ffff:192.0.2.1": "192.0.2.1",
	} {
		got, err := parseRangeAddr(in)
		if err != nil || got.String() != want {
			t.Errorf("parseRangeAddr(%q) = %s, %v; want %s", in, got, err, want)
		}
	}
	for _, in := range []string{"", "340282366920938463463374607431768211456", "999999999999999999999999999999999999999999", "x", "192.0.2.1/24", "fe80::1%eth0", "-1"} {
		if got, err := parseRangeAddr(in); err == nil {
			t.Errorf("parseRangeAddr(%q) = %s, want an error", in, got)
		}
	}
}
