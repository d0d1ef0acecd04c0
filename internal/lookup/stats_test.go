package lookup

import "testing"

func TestStats(t *testing.T) {
	for _, v4 := range []bool{true, false} {
		gen, rnd := benchPrefix4, random4
		if !v4 {
			gen, rnd = benchPrefix6, random6
		}
		tb, _ := benchTable(t, gen, rnd)
		tr := tb.v4
		if !v4 {
			tr = tb.v6
		}
		t.Logf("v4=%v nodes=%d leaves=%d sets=%d", v4, len(tr.nodes), len(tr.leaves), len(tb.sets))
	}
}
