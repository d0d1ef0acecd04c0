package lookup

import (
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"focal/internal/focal"
)

// Match is an organisation that owns what some observables point at.
type Match struct {
	OrgID   int64
	Matched []string // the observable values that matched, at most maxMatched
}

// maxMatched bounds the values kept per organisation in a Match.
const maxMatched = 5

// MatchObservables returns the organisations owning the addresses,
// networks, AS numbers, domains, URLs and e-mail domains among obs, most
// matched first (then by id). It suggests an incident's affected
// organisation; it decides nothing.
func (t *Table) MatchObservables(obs []focal.Observable) []Match {
	byOrg := map[int64]*Match{}
	count := map[int64]int{}
	for _, o := range obs {
		var ids []int64
		switch o.Kind {
		case "ipv4", "ipv6":
			if a, err := netip.ParseAddr(o.Value); err == nil {
				ids = t.IP(a)
			}
		case "cidr":
			if p, err := netip.ParsePrefix(o.Value); err == nil {
				ids = t.IP(p.Masked().Addr())
			}
		case "asn":
			if n, err := strconv.ParseUint(strings.TrimPrefix(strings.ToUpper(o.Value), "AS"), 10, 32); err == nil {
				ids = t.ASN(uint32(n))
			}
		case "domain":
			ids = t.Domain(o.Value)
		case "url":
			ids = t.URL(o.Value)
		case "email":
			if _, d, ok := strings.Cut(o.Value, "@"); ok {
				ids = t.Domain(d)
			}
		}
		for _, id := range ids {
			m := byOrg[id]
			if m == nil {
				m = &Match{OrgID: id}
				byOrg[id] = m
			}
			count[id]++
			if len(m.Matched) < maxMatched && !slices.Contains(m.Matched, o.Value) {
				m.Matched = append(m.Matched, o.Value)
			}
		}
	}
	out := make([]Match, 0, len(byOrg))
	for _, m := range byOrg {
		out = append(out, *m)
	}
	slices.SortFunc(out, func(a, b Match) int {
		if d := count[b.OrgID] - count[a.OrgID]; d != 0 {
			return d
		}
		return int(a.OrgID - b.OrgID)
	})
	return out
}
