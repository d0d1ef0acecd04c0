package geoip_test

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"

	"focal/internal/geoip"
	"focal/internal/geoip/geoiptest"
)

const (
	benchNets4  = 100_000
	benchNets6  = 20_000
	benchQuerys = 1 << 16 // power of two, for masking
	benchHot    = 4096    // distinct addresses in the "hot" workload
)

// benchData is a synthetic dataset shaped like the real ones: IPv4
// networks mostly /16–/24, IPv6 mostly /32–/48, disjoint, with some
// thousands of distinct organisations.
type benchData struct {
	asnPath, countryPath, combinedPath, csvPath string
	nets                                        []netip.Prefix
}

var (
	benchOnce sync.Once
	bench     benchData
	benchDir  string
)

// TestMain removes the benchmarks' dataset.
func TestMain(m *testing.M) {
	code := m.Run()
	if benchDir != "" {
		os.RemoveAll(benchDir)
	}
	os.Exit(code)
}

func randIn(r *rand.Rand, p netip.Prefix) netip.Addr {
	a := p.Addr().AsSlice()
	for i := range a {
		keep := p.Bits() - 8*i
		switch {
		case keep >= 8:
		case keep <= 0:
			a[i] = byte(r.Uint32())
		default:
			m := byte(0xff << (8 - keep))
			a[i] = a[i]&m | byte(r.Uint32())&^m
		}
	}
	ip, _ := netip.AddrFromSlice(a)
	return ip
}

func makeBenchData(b *testing.B) benchData {
	benchOnce.Do(func() {
		dir, err := os.MkdirTemp("", "geoip-bench-")
		if err != nil {
			b.Fatal(err)
		}
		benchDir = dir
		r := rand.New(rand.NewPCG(7, 8))
		var nets []netip.Prefix
		for range benchNets4 {
			var a [4]byte
			for i := range a {
				a[i] = byte(r.Uint32())
			}
			nets = append(nets, netip.PrefixFrom(netip.AddrFrom4(a), 16+r.IntN(9)).Masked())
		}
		for range benchNets6 {
			var a [16]byte
			for i := range a {
				a[i] = byte(r.Uint32())
			}
			a[0] = 0x20 | a[0]&0x1f
			nets = append(nets, netip.PrefixFrom(netip.AddrFrom16(a), 32+r.IntN(17)).Masked())
		}
		// Keep them disjoint: drop any network inside an earlier kept one.
		slices.SortFunc(nets, func(x, y netip.Prefix) int {
			if c := x.Addr().Compare(y.Addr()); c != 0 {
				return c
			}
			return x.Bits() - y.Bits()
		})
		kept := nets[:0]
		for _, p := range nets {
			if len(kept) > 0 && kept[len(kept)-1].Overlaps(p) {
				continue
			}
			kept = append(kept, p)
		}
		nets = kept
		asn, country, both := map[string]geoip.Info{}, map[string]geoip.Info{}, map[string]geoip.Info{}
		var csv strings.Builder
		for i, p := range nets {
			org := uint32(i % 20_000)
			info := geoip.Info{ASN: 64496 + org, ASName: fmt.Sprintf("Example Organisation %d", org), Country: string([]byte{'A' + byte(org%26), 'A' + byte(org/26%26)})}
			asn[p.String()] = geoip.Info{ASN: info.ASN, ASName: info.ASName}
			country[p.String()] = geoip.Info{Country: info.Country}
			both[p.String()] = info
			fmt.Fprintf(&csv, "%s,%s,%d,%q\n", p.Addr(), lastOf(p), info.ASN, info.ASName)
		}
		bench = benchData{
			asnPath:      filepath.Join(dir, "asn.mmdb"),
			countryPath:  filepath.Join(dir, "country.mmdb"),
			combinedPath: filepath.Join(dir, "combined.mmdb"),
			csvPath:      filepath.Join(dir, "asn.csv"),
			nets:         nets,
		}
		geoiptest.WriteDB(b, bench.asnPath, geoiptest.GeoLite2ASN, asn)
		geoiptest.WriteDB(b, bench.countryPath, geoiptest.GeoLite2Country, country)
		geoiptest.WriteDB(b, bench.combinedPath, geoiptest.Combined, both)
		if err := os.WriteFile(bench.csvPath, []byte(csv.String()), 0o644); err != nil {
			b.Fatal(err)
		}
	})
	if bench.asnPath == "" {
		b.Fatal("bench data setup failed")
	}
	return bench
}

func lastOf(p netip.Prefix) netip.Addr {
	a := p.Addr().AsSlice()
	for i := range a {
		keep := p.Bits() - 8*i
		switch {
		case keep >= 8:
		case keep <= 0:
			a[i] = 0xff
		default:
			a[i] |= byte(0xff >> keep)
		}
	}
	ip, _ := netip.AddrFromSlice(a)
	return ip
}

// queries returns benchQuerys addresses: "hot" ones repeat benchHot
// addresses (a feed's recurring sources), "random" ones are uniformly
// spread over the networks (every look-up a different /24 or /48 mostly).
func queries(d benchData, hot bool) []netip.Addr {
	r := rand.New(rand.NewPCG(9, 10))
	pool := make([]netip.Addr, benchHot)
	for i := range pool {
		pool[i] = randIn(r, d.nets[r.IntN(len(d.nets))])
	}
	q := make([]netip.Addr, benchQuerys)
	for i := range q {
		if hot {
			q[i] = pool[r.IntN(len(pool))]
		} else {
			q[i] = randIn(r, d.nets[r.IntN(len(d.nets))])
		}
	}
	return q
}

// BenchmarkLookup measures DB.Lookup over a synthetic dataset of ~110,000
// networks (ASN and country data), with and without the cache.
func BenchmarkLookup(b *testing.B) {
	d := makeBenchData(b)
	for _, files := range []struct{ name, asn, country string }{
		{"asn+country", d.asnPath, d.countryPath},
		{"combined", d.combinedPath, ""},
		{"csv+country", d.csvPath, d.countryPath},
	} {
		for _, cached := range []bool{true, false} {
			size := geoip.DefaultCacheSize
			if !cached {
				size = 0
			}
			db, err := geoip.Open(files.asn, files.country, geoip.WithCacheSize(size))
			if err != nil {
				b.Fatal(err)
			}
			for _, hot := range []bool{true, false} {
				q := queries(d, hot)
				name := fmt.Sprintf("%s/cache=%v/hot=%v", files.name, cached, hot)
				b.Run(name, func(b *testing.B) {
					b.ReportAllocs()
					// CPU time of this thread, which unlike wall time
					// does not grow when other processes load the machine.
					runtime.LockOSThread()
					defer runtime.UnlockOSThread()
					cpu0, haveCPU := threadCPU()
					found := 0
					i := 0
					for b.Loop() {
						if _, ok := db.Lookup(q[i&(benchQuerys-1)]); ok {
							found++
						}
						i++
					}
					if cpu1, _ := threadCPU(); haveCPU {
						b.ReportMetric(float64(cpu1-cpu0)/float64(b.N), "cpu-ns/op")
					}
					if found == 0 {
						b.Fatal("nothing found")
					}
				})
				b.Run(name+"/parallel", func(b *testing.B) {
					b.ReportAllocs()
					var seed sync.Mutex
					next := 0
					b.RunParallel(func(pb *testing.PB) {
						seed.Lock()
						i := next * 7919
						next++
						seed.Unlock()
						for pb.Next() {
							db.Lookup(q[i&(benchQuerys-1)])
							i++
						}
					})
				})
			}
			db.Close()
		}
	}
}

// BenchmarkLoadASNCSV measures loading ~110,000 CSV ranges.
func BenchmarkLoadASNCSV(b *testing.B) {
	d := makeBenchData(b)
	data, err := os.ReadFile(d.csvPath)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := geoip.LoadASNCSV(strings.NewReader(string(data))); err != nil {
			b.Fatal(err)
		}
	}
}
