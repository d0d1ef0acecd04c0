package lookup

import (
	"cmp"
	"net/netip"
	"slices"
)

// Overlap is a pair of claims by two organisations on overlapping networks:
// Prefix, claimed by OrgA, contains or equals OtherPrefix, claimed by OrgB.
// For equal prefixes OrgA < OrgB. Overlaps are allowed; the registry flags
// them.
type Overlap struct {
	Prefix      netip.Prefix // OrgA's network, the larger or equal one
	OrgA        int64
	OrgB        int64
	OtherPrefix netip.Prefix // OrgB's network, inside or equal to Prefix
}

// Overlaps returns every pair of claims by different organisations where one
// network contains or equals the other (two CIDR prefixes overlap only that
// way), sorted by Prefix, OtherPrefix, OrgA, OrgB. An organisation's own
// nested networks are not reported. It computes the list on every call, in
// time proportional to the number of prefixes times their nesting depth plus
// the number of overlaps, and returns a new slice owned by the caller; nil if
// there are none.
func (t *Table) Overlaps() []Overlap {
	if t == nil {
		return nil
	}
	var out []Overlap
	var stack []claim // enclosing prefixes of the current one, outermost first
	for _, c := range t.nets {
		own := t.set(c.own)
		for len(stack) > 0 && !contains(stack[len(stack)-1].pfx, c.pfx) {
			stack = stack[:len(stack)-1]
		}
		for _, outer := range stack {
			for _, a := range t.set(outer.own) {
				for _, b := range own {
					if a != b {
						out = append(out, Overlap{Prefix: outer.pfx, OrgA: a, OrgB: b, OtherPrefix: c.pfx})
					}
				}
			}
		}
		for i, a := range own {
			for _, b := range own[i+1:] {
				out = append(out, Overlap{Prefix: c.pfx, OrgA: a, OrgB: b, OtherPrefix: c.pfx})
			}
		}
		stack = append(stack, c)
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
	return out
}
