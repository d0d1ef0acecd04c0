// Package lookup answers "which organisations own this IP address, AS
// number, domain or URL" for the constituency registry, on the hot path of
// the feed pipeline.
//
// The contract:
//
//   - Build turns the registry's claims ([Entry]) into an immutable [Table].
//     A Table is never modified after Build returns, so any number of
//     goroutines may query it at once without locking. [Holder] publishes a
//     rebuilt table atomically when the registry changes.
//   - Every query returns all organisations with a matching claim, as org
//     ids sorted ascending without duplicates, or nil when nothing matches.
//     Claims may overlap: an address inside 10.0.0.0/8 (org 1) and
//     10.1.0.0/16 (org 2) belongs to both, so the answer is [1 2]; there is
//     no longest-prefix-wins. Likewise for a domain claimed at two levels.
//     [Table.Overlaps] lists the overlapping networks for the registry to
//     flag.
//   - The returned slices are shared with the table and must not be
//     modified. Their capacity equals their length, so an append copies
//     rather than writing into the table.
//   - Queries do not allocate (URL only for hosts with percent-escapes and
//     malformed IPv6 literals) and take tens of nanoseconds. Build does the
//     work up front: it stores with every prefix and domain the owners of
//     that claim and of every claim covering it, so that a query is a single
//     longest-prefix match, or a few map look-ups walking up a name.
//
// IP addresses are matched in a multibit trie after Poptrie (Asai and
// Ohara, SIGCOMM 2015) with path compression; see trie.go. For this use,
// which needs a longest-prefix match only, it is 2.5 times as fast as
// github.com/gaissmai/bart for IPv4 and slightly faster for IPv6 (compare
// BenchmarkIPv4 and BenchmarkIPv4Bart): it never backtracks, and random
// lookups are bound by cache misses, of which it has fewer.
package lookup

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
	"maps"
	"net/netip"
	"slices"
	"strings"
)

// Entry is one organisation's claims. Several entries may carry the same
// OrgID; their claims are merged.
type Entry struct {
	OrgID int64
	// Networks are IPv4 or IPv6 prefixes. Host bits are masked off; a prefix
	// inside ::ffff:0:0/96 is converted to the IPv4 prefix it maps.
	Networks []netip.Prefix
	// ASNs are AS numbers; any uint32 is accepted, reserved numbers are the
	// registry's business.
	ASNs []uint32
	// Domains are DNS names in A-label (xn--) form. A claim on example.org
	// covers example.org and every name below it. Case and one trailing dot
	// are ignored; see NormalizeDomain for the accepted syntax.
	Domains []string
}

// Table is an immutable snapshot of the constituency's claims, built by
// Build. It is safe for concurrent use by any number of goroutines. The zero
// value (and a nil *Table) is an empty table: every query returns nil.
type Table struct {
	v4   trie              // IPv4 prefix -> set
	v6   trie              // IPv6 prefix -> set
	pool []int64           // all distinct owner sets, back to back; see setOf
	asn  map[uint32]uint32 // AS number -> set
	dom  map[string]uint32 // domain -> set: owners of the domain and of its claimed parents
	nets []claim           // distinct prefixes and their own owners, in canonical order
	nDom int               // number of distinct claimed domains
}

// claim is a distinct prefix and the organisations that claim it themselves.
type claim struct {
	pfx netip.Prefix
	own uint32 // set
}

// A set of org ids is stored in a uint32 that locates it in the pool, so
// that a lookup needs no further memory access to make the result slice:
// bits 5-31 are the offset, bits 0-4 the length, 0 for the empty set, or
// setLong if the length is stored in the pool at the offset, before the ids.
const (
	setLenBits = 5
	setLong    = 1<<setLenBits - 1
	maxPool    = 1 << (32 - setLenBits)
)

// set returns the org ids of set v, nil for the empty set.
func (t *Table) set(v uint32) []int64 {
	return setOf(t.pool, v)
}

func setOf(pool []int64, v uint32) []int64 {
	n, off := v&setLong, v>>setLenBits
	switch n {
	case 0:
		return nil
	case setLong:
		n = uint32(pool[off])
		off++
	}
	return pool[off : off+n : off+n]
}

// BuildError reports an invalid claim. Build returns one for the first
// invalid network in input order or, if all networks are valid, the first
// invalid domain.
type BuildError struct {
	OrgID  int64  // the organisation whose claim is invalid
	Kind   string // "network" or "domain"
	Value  string // the claim as given
	Reason string // what is wrong with it
}

// Error returns e.g. `lookup: org 42: invalid domain "a..b": empty label`.
func (e *BuildError) Error() string {
	return fmt.Sprintf("lookup: org %d: invalid %s %q: %s", e.OrgID, e.Kind, e.Value, e.Reason)
}

// Build checks and indexes entries and returns the table. It returns a
// *BuildError naming the organisation and the value for an invalid network
// (one that is not IsValid, such as the zero netip.Prefix) or invalid domain
// (see NormalizeDomain).
// A prefix with host bits set is not an error: it is masked. entries is
// neither modified nor retained. Build takes about a microsecond per prefix
// (see BenchmarkBuild): build a new table when the registry changes and
// publish it with a Holder.
func Build(entries []Entry) (*Table, error) {
	t := &Table{}
	in := newInterner()
	if err := t.buildNets(entries, in); err != nil {
		return nil, err
	}
	t.buildASNs(entries, in)
	if err := t.buildDomains(entries, in); err != nil {
		return nil, err
	}
	if len(in.pool) > maxPool {
		return nil, fmt.Errorf("lookup: the distinct sets of owners hold more than %d org ids in all", maxPool)
	}
	t.pool = slices.Clip(in.pool)
	return t, nil
}

func (t *Table) buildNets(entries []Entry, in *interner) error {
	type pair struct {
		pfx netip.Prefix
		org int64
	}
	n := 0
	for _, e := range entries {
		n += len(e.Networks)
	}
	pairs := make([]pair, 0, n)
	for _, e := range entries {
		for _, p := range e.Networks {
			q, err := normalizePrefix(p)
			if err != nil {
				return &BuildError{OrgID: e.OrgID, Kind: "network", Value: p.String(), Reason: err.Error()}
			}
			pairs = append(pairs, pair{q, e.OrgID})
		}
	}
	slices.SortFunc(pairs, func(a, b pair) int {
		if c := comparePrefix(a.pfx, b.pfx); c != 0 {
			return c
		}
		return cmp.Compare(a.org, b.org)
	})
	pairs = slices.Compact(pairs)

	// Group by prefix and walk the prefixes in canonical order (address,
	// then length) keeping the chain of enclosing prefixes on a stack: the
	// top of the stack, after popping those that do not contain the current
	// prefix, is its nearest claimed supernet, whose effective owner set
	// already includes those of all further supernets.
	type frame struct {
		pfx netip.Prefix
		eff uint32
	}
	var (
		stack    []frame
		own, eff []int64
		items    = make([]item, 0, len(pairs))
	)
	t.nets = make([]claim, 0, len(pairs))
	for i := 0; i < len(pairs); {
		pfx := pairs[i].pfx
		own = own[:0]
		for ; i < len(pairs) && pairs[i].pfx == pfx; i++ {
			own = append(own, pairs[i].org)
		}
		ownSet := in.intern(own)
		t.nets = append(t.nets, claim{pfx, ownSet})

		for len(stack) > 0 && !contains(stack[len(stack)-1].pfx, pfx) {
			stack = stack[:len(stack)-1]
		}
		var parent uint32
		if len(stack) > 0 {
			parent = stack[len(stack)-1].eff
		}
		effSet := parent
		if eff = union(eff[:0], in.set(parent), own); len(eff) != len(in.set(parent)) {
			effSet = in.intern(eff)
		}
		stack = append(stack, frame{pfx, effSet})
		items = append(items, itemOf(pfx, effSet))
	}
	t.nets = slices.Clip(t.nets)
	// Canonical order puts all IPv4 prefixes first.
	n4 := slices.IndexFunc(t.nets, func(c claim) bool { return !c.pfx.Addr().Is4() })
	if n4 < 0 {
		n4 = len(t.nets)
	}
	t.v4 = buildTrie(items[:n4])
	t.v6 = buildTrie(items[n4:])
	return nil
}

func (t *Table) buildASNs(entries []Entry, in *interner) {
	owners := make(map[uint32][]int64)
	for _, e := range entries {
		for _, a := range e.ASNs {
			owners[a] = append(owners[a], e.OrgID)
		}
	}
	t.asn = make(map[uint32]uint32, len(owners))
	for _, a := range slices.Sorted(maps.Keys(owners)) { // sorted: the same entries make the same pool
		t.asn[a] = in.intern(sortDedup(owners[a]))
	}
}

// buildDomains stores with each claimed domain the union of its owners and
// those of its nearest claimed parent, which already includes all further
// parents: shorter names are done first.
func (t *Table) buildDomains(entries []Entry, in *interner) error {
	owners := make(map[string][]int64)
	for _, e := range entries {
		for _, d := range e.Domains {
			n, reason := normalizeDomain(d)
			if reason != "" {
				return &BuildError{OrgID: e.OrgID, Kind: "domain", Value: d, Reason: reason}
			}
			owners[n] = append(owners[n], e.OrgID)
		}
	}
	names := slices.Collect(maps.Keys(owners))
	slices.SortFunc(names, func(a, b string) int {
		if c := cmp.Compare(len(a), len(b)); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	t.dom = make(map[string]uint32, len(names))
	var eff []int64
	for _, n := range names {
		var parent uint32
		for rest := n; ; {
			i := strings.IndexByte(rest, '.')
			if i < 0 {
				break
			}
			rest = rest[i+1:]
			if s, ok := t.dom[rest]; ok {
				parent = s
				break
			}
		}
		eff = union(eff[:0], in.set(parent), sortDedup(owners[n]))
		t.dom[n] = in.intern(eff)
	}
	t.nDom = len(names)
	return nil
}

// normalizePrefix masks p and converts IPv4-mapped IPv6 prefixes to IPv4,
// since queries unmap addresses before looking them up.
func normalizePrefix(p netip.Prefix) (netip.Prefix, error) {
	if !p.IsValid() {
		return netip.Prefix{}, errors.New("not a valid prefix")
	}
	if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
		p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
	}
	return p.Masked(), nil
}

// comparePrefix orders prefixes canonically: IPv4 before IPv6, then by
// address, then shorter (enclosing) prefixes first.
func comparePrefix(a, b netip.Prefix) int {
	if c := a.Addr().Compare(b.Addr()); c != 0 {
		return c
	}
	return cmp.Compare(a.Bits(), b.Bits())
}

// contains reports whether outer contains or equals inner. Both are masked.
func contains(outer, inner netip.Prefix) bool {
	return outer.Bits() <= inner.Bits() && outer.Contains(inner.Addr())
}

// union appends the sorted union of the sorted, duplicate-free a and b to dst.
func union(dst, a, b []int64) []int64 {
	for len(a) > 0 && len(b) > 0 {
		switch {
		case a[0] < b[0]:
			dst, a = append(dst, a[0]), a[1:]
		case a[0] > b[0]:
			dst, b = append(dst, b[0]), b[1:]
		default:
			dst, a, b = append(dst, a[0]), a[1:], b[1:]
		}
	}
	dst = append(dst, a...)
	return append(dst, b...)
}

func sortDedup(s []int64) []int64 {
	slices.Sort(s)
	return slices.Compact(s)
}

// interner stores each distinct set of org ids once, back to back in one
// pool: 100,000 prefixes of a few thousand organisations make a few
// thousand small sets.
type interner struct {
	pool []int64
	seed maphash.Seed
	seen map[uint64]uint32 // hash of the little-endian encoding of a set -> set
	more map[string]uint32 // encoding -> set, for sets whose hash is taken
	key  []byte
}

func newInterner() *interner {
	return &interner{seed: maphash.MakeSeed(), seen: make(map[uint64]uint32), more: make(map[string]uint32)}
}

// intern returns the set for s, which must be sorted and duplicate-free. An
// offset beyond maxPool makes a wrong set; Build checks the pool size at the
// end.
func (in *interner) intern(s []int64) uint32 {
	if len(s) == 0 {
		return 0
	}
	in.key = in.key[:0]
	for _, v := range s {
		in.key = binary.LittleEndian.AppendUint64(in.key, uint64(v))
	}
	h := maphash.Bytes(in.seed, in.key)
	v, taken := in.seen[h]
	if taken && slices.Equal(in.set(v), s) {
		return v
	}
	if taken {
		if v, ok := in.more[string(in.key)]; ok {
			return v
		}
	}
	v = uint32(len(in.pool)) << setLenBits
	if len(s) < setLong {
		v |= uint32(len(s))
	} else {
		v |= setLong
		in.pool = append(in.pool, int64(len(s)))
	}
	in.pool = append(in.pool, s...)
	if taken {
		in.more[string(in.key)] = v
	} else {
		in.seen[h] = v
	}
	return v
}

// set returns the org ids of set v; valid until the next intern.
func (in *interner) set(v uint32) []int64 {
	return setOf(in.pool, v)
}

// IP returns the organisations with a network containing addr, sorted
// ascending without duplicates, or nil. An IPv4-mapped IPv6 address is
// looked up as the IPv4 address it maps, and an IPv6 zone is ignored. The
// result is shared with the table and must not be modified. IP does not
// allocate.
func (t *Table) IP(addr netip.Addr) []int64 {
	if t == nil {
		return nil
	}
	addr = addr.Unmap()
	if addr.Is4() {
		return t.set(t.v4.lookup4(addr))
	}
	if addr.Is6() {
		return t.set(t.v6.lookup6(addr))
	}
	return nil // the zero Addr
}

// ASN returns the organisations claiming the AS number asn, sorted ascending,
// or nil. The result is shared with the table and must not be modified. ASN
// does not allocate.
func (t *Table) ASN(asn uint32) []int64 {
	if t == nil {
		return nil
	}
	return t.set(t.asn[asn])
}

// Len returns the number of distinct prefixes, AS numbers and domains in the
// table; a claim made by several organisations counts once.
func (t *Table) Len() (prefixes, asns, domains int) {
	if t == nil {
		return 0, 0, 0
	}
	return len(t.nets), len(t.asn), t.nDom
}
