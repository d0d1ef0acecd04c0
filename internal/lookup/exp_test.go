package lookup

import (
	"math/rand/v2"
	"net/netip"
	"runtime"
	"testing"

	"github.com/gaissmai/bart"
)

var tb0 *Table

func expData(b *testing.B, v4 bool) ([]claim, []netip.Addr) {
	gen, rnd := benchPrefix4, random4
	if !v4 {
		gen, rnd = benchPrefix6, random6
	}
	t, qs := benchTable(b, gen, rnd)
	tb0 = t
	return t.nets, qs
}

func heap() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

func BenchmarkExpFastU32(b *testing.B) {
	for _, v4 := range []bool{true, false} {
		nets, qs := expData(b, v4)
		h0 := heap()
		var f bart.Fast[uint32]
		for i, c := range nets {
			f.Insert(c.pfx, uint32(i))
		}
		b.Logf("v4=%v heap %d MB", v4, (heap()-h0)>>20)
		b.Run("", func(b *testing.B) {
			i := 0
			for b.Loop() {
				_, _ = f.Lookup(qs[i&(benchQueries-1)])
				i++
			}
		})
		runtime.KeepAlive(&f)
	}
}

func BenchmarkExpTableU32(b *testing.B) {
	for _, v4 := range []bool{true, false} {
		nets, qs := expData(b, v4)
		h0 := heap()
		var f bart.Table[uint32]
		for i, c := range nets {
			f.Insert(c.pfx, uint32(i))
		}
		b.Logf("v4=%v heap %d MB", v4, (heap()-h0)>>20)
		b.Run("", func(b *testing.B) {
			i := 0
			for b.Loop() {
				_, _ = f.Lookup(qs[i&(benchQueries-1)])
				i++
			}
		})
		runtime.KeepAlive(&f)
	}
}

func BenchmarkExpFastSlice(b *testing.B) {
	for _, v4 := range []bool{true, false} {
		nets, qs := expData(b, v4)
		h0 := heap()
		var f bart.Fast[[]int64]
		for _, c := range nets {
			f.Insert(c.pfx, tb0.set(c.own))
		}
		b.Logf("v4=%v heap %d MB", v4, (heap()-h0)>>20)
		b.Run("", func(b *testing.B) {
			i := 0
			for b.Loop() {
				_, _ = f.Lookup(qs[i&(benchQueries-1)])
				i++
			}
		})
		runtime.KeepAlive(&f)
	}
}

var _ = rand.IntN

func BenchmarkExpTrieOnly(b *testing.B) {
	for _, v4 := range []bool{true, false} {
		gen, rnd := benchPrefix4, random4
		if !v4 {
			gen, rnd = benchPrefix6, random6
		}
		t, qs := benchTable(b, gen, rnd)
		b.Run("", func(b *testing.B) {
			i := 0
			var sum uint32
			for b.Loop() {
				a := qs[i&(benchQueries-1)]
				if v4 {
					sum += t.v4.lookup4(a)
				} else {
					sum += t.v6.lookup6(a)
				}
				i++
			}
			_ = sum
		})
	}
}
