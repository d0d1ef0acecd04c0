package lookup

import (
	"cmp"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"testing"
)

// The property tests compare Table with a brute-force scan of the entries
// on random registries. The seeds are fixed, so a failure reproduces; they
// are logged with every failure.

// bruteIP is the specification of Table.IP: every org with a network
// containing addr, after unmapping both.
func bruteIP(entries []Entry, addr netip.Addr) []int64 {
	addr = addr.Unmap().WithZone("")
	var out []int64
	for _, e := range entries {
		for _, p := range e.Networks {
			if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
				p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
			}
			if p.Masked().Contains(addr) {
				out = append(out, e.OrgID)
			}
		}
	}
	return sortedSet(out)
}

// bruteDomain is the specification of Table.Domain: every org with a claim
// equal to name or a suffix of it after a dot, ignoring ASCII case and one
// trailing dot.
func bruteDomain(entries []Entry, name string) []int64 {
	name = strings.TrimSuffix(asciiLower(name), ".")
	var out []int64
	for _, e := range entries {
		for _, d := range e.Domains {
			d = strings.TrimSuffix(asciiLower(d), ".")
			if name == d || strings.HasSuffix(name, "."+d) {
				out = append(out, e.OrgID)
			}
		}
	}
	return sortedSet(out)
}

func asciiLower(s string) string {
	return strings.Map(func(r rune) rune {
		if 'A' <= r && r <= 'Z' {
			return r + ('a' - 'A')
		}
		return r
	}, s)
}

func sortedSet(s []int64) []int64 {
	if len(s) == 0 {
		return nil
	}
	slices.Sort(s)
	return slices.Compact(s)
}

// randomPrefix draws from regions chosen to make prefixes nest and
// overlap: a dense /22 and a /8 of IPv4; a /32, a /64 and a dense /120 of
// IPv6; IPv4-mapped IPv6; and anywhere.
func randomPrefix(r *rand.Rand) netip.Prefix {
	region := []netip.Prefix{
		netip.MustParsePrefix("10.0.0.0/22"),
		netip.MustParsePrefix("10.0.0.0/8"),
		netip.MustParsePrefix("0.0.0.0/0"),
		netip.MustParsePrefix("2001:db8::/32"),
		netip.MustParsePrefix("2001:db8::/120"),
		netip.MustParsePrefix("2001:db8:0:1::/64"),
		netip.MustParsePrefix("::/0"),
		netip.MustParsePrefix("::ffff:10.0.0.0/104"),
	}[r.IntN(8)]
	maxBits := region.Addr().BitLen()
	bits := region.Bits() + r.IntN(maxBits-region.Bits()+1)
	if region.Bits() == 0 && r.IntN(4) != 0 {
		// Mostly realistic lengths when anywhere goes, or nearly every
		// address would be covered.
		bits = maxBits/4 + r.IntN(maxBits*3/4+1)
	}
	return netip.PrefixFrom(randomIn(r, region), bits) // host bits left set on purpose
}

// randomAddr returns an address inside a random claimed prefix, a random
// address near the regions, or anywhere; sometimes IPv4-mapped or zoned.
func randomAddr(r *rand.Rand, claimed []netip.Prefix) netip.Addr {
	var a netip.Addr
	switch r.IntN(4) {
	case 0, 1:
		a = randomIn(r, claimed[r.IntN(len(claimed))].Masked())
	case 2:
		a = randomIn(r, randomPrefix(r).Masked())
	default:
		if r.IntN(2) == 0 {
			a = random4(r)
		} else {
			a = netip.AddrFrom16(randBytes16(r))
		}
	}
	switch {
	case a.Is4() && r.IntN(5) == 0:
		a = netip.AddrFrom16(a.As16())
	case a.Is6() && r.IntN(10) == 0:
		a = a.WithZone("eth0")
	}
	return a
}

func TestIPMatchesBruteForce(t *testing.T) {
	const seed, tables, queries = 20240601, 40, 300
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, seed))
	cases := 0
	for n := range tables {
		nOrgs := 1 + r.IntN(40)
		entries := make([]Entry, 1+r.IntN(60))
		var claimed []netip.Prefix
		for i := range entries {
			entries[i].OrgID = int64(r.IntN(nOrgs)) - 5 // negative ids and zero too; ids repeat
			for range r.IntN(8) {
				p := randomPrefix(r)
				entries[i].Networks = append(entries[i].Networks, p)
				claimed = append(claimed, p)
			}
		}
		if len(claimed) == 0 {
			continue
		}
		tbl := mustBuild(t, entries)
		for range queries {
			a := randomAddr(r, claimed)
			if got, want := tbl.IP(a), bruteIP(entries, a); !slices.Equal(got, want) {
				t.Fatalf("seed %d, table %d: IP(%v) = %v, want %v\nentries: %+v", seed, n, a, got, want, entries)
			}
			cases++
		}
	}
	t.Logf("%d lookups", cases)
}

// TestIPMatchesBruteForceLarge runs fewer queries against one large, dense
// table, where the trie has deep nodes with many children and leaf runs.
func TestIPMatchesBruteForceLarge(t *testing.T) {
	const seed, queries = 7, 3000
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, seed))
	entries := make([]Entry, 300)
	var claimed []netip.Prefix
	for i := range entries {
		entries[i].OrgID = int64(i)
		for range 1 + r.IntN(10) {
			p := randomPrefix(r)
			entries[i].Networks = append(entries[i].Networks, p)
			claimed = append(claimed, p)
		}
	}
	tbl := mustBuild(t, entries)
	for range queries {
		a := randomAddr(r, claimed)
		if got, want := tbl.IP(a), bruteIP(entries, a); !slices.Equal(got, want) {
			t.Fatalf("seed %d: IP(%v) = %v, want %v", seed, a, got, want)
		}
	}
}

// bruteOverlaps is the specification of Table.Overlaps.
func bruteOverlaps(entries []Entry) []Overlap {
	type claimOf struct {
		pfx netip.Prefix
		org int64
	}
	var claims []claimOf
	for _, e := range entries {
		for _, p := range e.Networks {
			q, err := normalizePrefix(p)
			if err != nil {
				panic(err) // the generator makes valid prefixes only
			}
			claims = append(claims, claimOf{q, e.OrgID})
		}
	}
	var out []Overlap
	for _, a := range claims {
		for _, b := range claims {
			switch {
			case a.org == b.org:
			case a.pfx == b.pfx && a.org < b.org,
				a.pfx != b.pfx && a.pfx.Bits() < b.pfx.Bits() && a.pfx.Contains(b.pfx.Addr()):
				out = append(out, Overlap{a.pfx, a.org, b.org, b.pfx})
			}
		}
	}
	slices.SortFunc(out, func(x, y Overlap) int {
		if c := comparePrefix(x.Prefix, y.Prefix); c != 0 {
			return c
		}
		if c := comparePrefix(x.OtherPrefix, y.OtherPrefix); c != 0 {
			return c
		}
		if c := cmp.Compare(x.OrgA, y.OrgA); c != 0 {
			return c
		}
		return cmp.Compare(x.OrgB, y.OrgB)
	})
	return slices.Compact(out)
}

func TestOverlapsMatchBruteForce(t *testing.T) {
	const seed = 99
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, seed))
	for n := range 50 {
		entries := make([]Entry, 1+r.IntN(20))
		for i := range entries {
			entries[i].OrgID = int64(r.IntN(8))
			for range r.IntN(6) {
				entries[i].Networks = append(entries[i].Networks, randomPrefix(r))
			}
		}
		got := mustBuild(t, entries).Overlaps()
		if want := bruteOverlaps(entries); !slices.Equal(got, want) {
			t.Fatalf("seed %d, table %d: Overlaps() = %v, want %v\nentries: %+v", seed, n, got, want, entries)
		}
	}
}

// randomName joins 1 to max labels from a small set, so that names share
// suffixes, in random case, sometimes with a trailing dot or an empty
// label.
func randomName(r *rand.Rand, max int, claim bool) string {
	labels := []string{"a", "b", "ab", "ba", "example", "org", "xn--p1ai", "1x", "x-y", "_s"}
	n := 1 + r.IntN(max)
	parts := make([]string, n)
	for i := range parts {
		l := labels[r.IntN(len(labels))]
		if r.IntN(3) == 0 {
			l = strings.ToUpper(l)
		}
		if !claim && r.IntN(30) == 0 {
			l = ""
		}
		parts[i] = l
	}
	s := strings.Join(parts, ".")
	if r.IntN(5) == 0 {
		s += "."
	}
	return s
}

func TestDomainMatchesBruteForce(t *testing.T) {
	const seed, tables, queries = 31337, 40, 300
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, seed))
	cases := 0
	for n := range tables {
		entries := make([]Entry, 1+r.IntN(30))
		for i := range entries {
			entries[i].OrgID = int64(r.IntN(20))
			for range r.IntN(4) {
				entries[i].Domains = append(entries[i].Domains, randomName(r, 3, true))
			}
		}
		tbl := mustBuild(t, entries)
		for range queries {
			name := randomName(r, 6, false)
			if got, want := tbl.Domain(name), bruteDomain(entries, name); !slices.Equal(got, want) {
				t.Fatalf("seed %d, table %d: Domain(%q) = %v, want %v\nentries: %+v", seed, n, name, got, want, entries)
			}
			cases++
		}
	}
	t.Logf("%d lookups", cases)
}
