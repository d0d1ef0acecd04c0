package lookup

import (
	"math/rand/v2"
	"net/netip"
	"slices"
	"strconv"
	"testing"

	"github.com/gaissmai/bart"
)

const (
	benchPrefixes = 100_000
	benchOrgs     = 20_000
	benchQueries  = 1 << 16 // power of two, for masking
)

// benchPrefix4 returns a random IPv4 prefix: mostly /16–/24 as in real
// registries, the rest anywhere in /8–/32.
func benchPrefix4(r *rand.Rand) netip.Prefix {
	bits := 16 + r.IntN(9)
	if r.IntN(10) == 0 {
		bits = 8 + r.IntN(25)
	}
	a := netip.AddrFrom4(randBytes4(r))
	return netip.PrefixFrom(a, bits).Masked()
}

// benchPrefix6 returns a random IPv6 prefix inside 2000::/3: mostly
// /32–/48, the rest anywhere in /32–/64.
func benchPrefix6(r *rand.Rand) netip.Prefix {
	bits := 32 + r.IntN(17)
	if r.IntN(10) == 0 {
		bits = 32 + r.IntN(33)
	}
	b := randBytes16(r)
	b[0] = 0x20 | b[0]&0x1f
	return netip.PrefixFrom(netip.AddrFrom16(b), bits).Masked()
}

func randBytes4(r *rand.Rand) [4]byte {
	v := r.Uint32()
	return [4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}
}

func randBytes16(r *rand.Rand) [16]byte {
	var b [16]byte
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// randomIn returns a random address inside p, of the same form as p's.
func randomIn(r *rand.Rand, p netip.Prefix) netip.Addr {
	a := p.Addr().AsSlice()
	rnd := randBytes16(r)
	for i := range a {
		a[i] = mixByte(a[i], rnd[i], p.Bits()-8*i)
	}
	addr, ok := netip.AddrFromSlice(a)
	if !ok {
		panic("AsSlice returned neither 4 nor 16 bytes")
	}
	return addr
}

// mixByte keeps the first keep bits of a and takes the rest from rnd.
func mixByte(a, rnd byte, keep int) byte {
	switch {
	case keep >= 8:
		return a
	case keep <= 0:
		return rnd
	}
	mask := byte(0xff << (8 - keep))
	return a&mask | rnd&^mask
}

// benchTable builds a table of benchPrefixes random prefixes made by gen,
// owned by benchOrgs organisations, and benchQueries query addresses: half
// inside a random prefix, half uniformly random (mostly misses).
func benchTable(tb testing.TB, gen func(*rand.Rand) netip.Prefix, random func(*rand.Rand) netip.Addr) (*Table, []netip.Addr) {
	tb.Helper()
	entries, prefixes := benchEntries(gen)
	t, err := Build(entries)
	if err != nil {
		tb.Fatalf("Build: %v", err)
	}
	r := rand.New(rand.NewPCG(2, 2))
	qs := make([]netip.Addr, benchQueries)
	for i := range qs {
		if i%2 == 0 {
			qs[i] = randomIn(r, prefixes[r.IntN(len(prefixes))])
		} else {
			qs[i] = random(r)
		}
	}
	return t, qs
}

func benchEntries(gen func(*rand.Rand) netip.Prefix) ([]Entry, []netip.Prefix) {
	r := rand.New(rand.NewPCG(1, 1))
	entries := make([]Entry, benchOrgs)
	for i := range entries {
		entries[i].OrgID = int64(i + 1)
	}
	prefixes := make([]netip.Prefix, benchPrefixes)
	for i := range prefixes {
		p := gen(r)
		prefixes[i] = p
		e := &entries[r.IntN(len(entries))]
		e.Networks = append(e.Networks, p)
	}
	return entries, prefixes
}

func random4(r *rand.Rand) netip.Addr { return netip.AddrFrom4(randBytes4(r)) }

func random6(r *rand.Rand) netip.Addr {
	b := randBytes16(r)
	b[0] = 0x20 | b[0]&0x1f
	return netip.AddrFrom16(b)
}

func benchIP(b *testing.B, gen func(*rand.Rand) netip.Prefix, random func(*rand.Rand) netip.Addr) {
	t, qs := benchTable(b, gen, random)
	hits := 0
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if len(t.IP(qs[i&(benchQueries-1)])) > 0 {
			hits++
		}
		i++
	}
	b.ReportMetric(float64(hits)/float64(i), "hits/op")
	b.ReportMetric(float64(t.v4.size()+t.v6.size()+8*len(t.pool))/(1<<20), "MiB")
}

// BenchmarkIPv4 looks up random IPv4 addresses in 100,000 IPv4 prefixes.
func BenchmarkIPv4(b *testing.B) { benchIP(b, benchPrefix4, random4) }

// BenchmarkIPv6 looks up random IPv6 addresses in 100,000 IPv6 prefixes.
func BenchmarkIPv6(b *testing.B) { benchIP(b, benchPrefix6, random6) }

// BenchmarkIPv4Parallel is BenchmarkIPv4 on all cores.
func BenchmarkIPv4Parallel(b *testing.B) {
	t, qs := benchTable(b, benchPrefix4, random4)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := rand.IntN(benchQueries)
		for pb.Next() {
			_ = t.IP(qs[i&(benchQueries-1)])
			i++
		}
	})
}

// BenchmarkBuild builds a table of 100,000 IPv4 prefixes.
func BenchmarkBuild(b *testing.B) {
	entries, _ := benchEntries(benchPrefix4)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Build(entries); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDomain looks up names three labels below a claim, and misses.
func BenchmarkDomain(b *testing.B) {
	var entries []Entry
	for i := range 10_000 {
		entries = append(entries, Entry{OrgID: int64(i), Domains: []string{"org" + strconv.Itoa(i) + ".example"}})
	}
	t, err := Build(entries)
	if err != nil {
		b.Fatal(err)
	}
	names := []string{"a.b.c.org17.example", "www.org9999.example", "WWW.Org42.Example.", "nothing.here.invalid"}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		_ = t.Domain(names[i&3])
		i++
	}
}

// BenchmarkURL looks up hosts of typical URLs.
func BenchmarkURL(b *testing.B) {
	var entries []Entry
	for i := range 10_000 {
		entries = append(entries, Entry{OrgID: int64(i), Domains: []string{"org" + strconv.Itoa(i) + ".example"},
			Networks: []netip.Prefix{netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(i >> 8), byte(i), 0}), 24)}})
	}
	t, err := Build(entries)
	if err != nil {
		b.Fatal(err)
	}
	urls := []string{"https://www.org17.example/login.php?x=1", "http://10.0.5.7:8080/a", "www.org99.example/path", "http://[2001:db8::1]/"}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		_ = t.URL(urls[i&3])
		i++
	}
}

// bartTable is the straightforward alternative to the trie: a bart.Fast
// with the owner set of each prefix and its supernets as value.
func bartTable(t *Table) *bart.Fast[[]int64] {
	f := new(bart.Fast[[]int64])
	for _, c := range t.nets { // canonical order: supernets first
		parent, _ := f.LookupPrefix(c.pfx) // no supernet: nil
		f.Insert(c.pfx, union(nil, parent, t.set(c.own)))
	}
	return f
}

func benchBart(b *testing.B, gen func(*rand.Rand) netip.Prefix, random func(*rand.Rand) netip.Addr) {
	t, qs := benchTable(b, gen, random)
	f := bartTable(t)
	for _, a := range qs[:1000] {
		if got, _ := f.Lookup(a); !slices.Equal(got, t.IP(a)) {
			b.Fatalf("bart Lookup(%v) = %v, want %v", a, got, t.IP(a))
		}
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		_, _ = f.Lookup(qs[i&(benchQueries-1)])
		i++
	}
}

// BenchmarkIPv4Bart is BenchmarkIPv4 with bart.Fast instead of the trie.
func BenchmarkIPv4Bart(b *testing.B) { benchBart(b, benchPrefix4, random4) }

// BenchmarkIPv6Bart is BenchmarkIPv6 with bart.Fast instead of the trie.
func BenchmarkIPv6Bart(b *testing.B) { benchBart(b, benchPrefix6, random6) }
