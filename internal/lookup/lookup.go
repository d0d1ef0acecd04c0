// Package lookup answers "which organisations own this IP address, AS number,
// domain or URL" for the constituency registry, on the hot path of the feed
// pipeline.
//
// The contract:
//
//   - Build turns the registry's claims ([Entry]) into an immutable [Table].
//     A Table is never modified after Build returns, so any number of
//     goroutines may query it at once without locking. [Holder] swaps whole
//     tables atomically when the registry changes.
//   - Every query returns all organisations with a matching claim, as org ids
//     sorted ascending without duplicates, or nil when nothing matches. Claims
//     may overlap: an address inside 10.0.0.0/8 (org 1) and 10.1.0.0/16
//     (org 2) belongs to both, so the answer is [1 2] – there is no
//     longest-prefix-wins. The same holds for a domain claimed at two levels.
//   - The returned slices are shared with the table and must not be modified;
//     their capacity equals their length, so append copies instead of
//     overwriting the table.
//   - Queries do not allocate (except [Table.URL] on malformed input, which
//     may allocate an error internally) and take tens of nanoseconds; Build
//     does all the work up front: it stores with every prefix and domain the
//     owners of that claim and of every claim covering it, so a query is a
//     single longest-prefix match or a few map look-ups.
package lookup

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
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
	v4   trie              // IPv4 prefix -> set number
	v6   trie              // IPv6 prefix -> set number
	sets []span            // set number -> its place in pool; sets[0] is the empty set
	pool []int64           // all distinct owner sets, back to back
	asn  map[uint32]uint32 // AS number -> set number
	dom  map[string]uint32 // domain -> set number, owners of the domain and of its claimed parents
	nets []claim           // distinct prefixes and their own owners, in canonical order
	nDom int               // number of distinct claimed domains
	_    [0]func()         // not comparable: compare tables by content, if ever
}

// span locates a set in Table.pool.
type span struct{ off, n uint32 }

// claim is a distinct prefix and the organisations that claim it themselves.
type claim struct {
	pfx netip.Prefix
	own uint32 // set number
}

// set returns set number i, nil for the empty set.
func (t *Table) set(i uint32) []int64 {
	s := t.sets[i]
	if s.n == 0 {
		return nil
	}
	return t.pool[s.off : s.off+s.n : s.off+s.n]
}

// BuildError reports an invalid claim. Build returns it for the first invalid
// claim in input order.
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
// *BuildError naming the organisation and the value for the first invalid
// network (the zero netip.Prefix) or invalid domain (see NormalizeDomain).
// A prefix with host bits set is not an error: it is masked. entries is
// neither modified nor retained. Build takes about a second per million
// prefixes; build a new table when the registry changes and publish it with
// a Holder.
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
	t.sets, t.pool = slices.Clip(in.sets), slices.Clip(in.pool)
	return t, nil
}

func (t *Table) buildNets(entries []Entry, in *interner) error {
	type pair struct {
		pfx netip.Prefix
		org int64
	}
	var pairs []pair
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
		stack          []frame
		own, eff       []int64
		items4, items6 []item
	)
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
		if pfx.Addr().Is4() {
			items4 = append(items4, itemOf(pfx, effSet))
		} else {
			items6 = append(items6, itemOf(pfx, effSet))
		}
	}
	t.nets = slices.Clip(t.nets)
	if len(in.sets) >= leafFlag {
		return errors.New("lookup: more than 2^31 distinct sets of organisations")
	}
	t.v4 = buildTrie(items4, directBits)
	t.v6 = buildTrie(items6, directBits)
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
	for a, s := range owners {
		t.asn[a] = in.intern(sortDedup(s))
	}
}

// buildDomains stores with each claimed domain the union of its owners and
// those of its nearest claimed parent, which already includes all further
// parents: shorter names are done first.
func (t *Table) buildDomains(entries []Entry, in *interner) error {
	owners := make(map[string][]int64)
	for _, e := range entries {
		for _, d := range e.Domains {
			n, err := NormalizeDomain(d)
			if err != nil {
				return &BuildError{OrgID: e.OrgID, Kind: "domain", Value: d, Reason: err.Error()}
			}
			owners[n] = append(owners[n], e.OrgID)
		}
	}
	names := make([]string, 0, len(owners))
	for n := range owners {
		names = append(names, n)
	}
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

// interner numbers distinct sets of org ids and stores each once, back to
// back in one pool: 100,000 prefixes of a few thousand organisations make a
// few thousand small sets, and lookups touch 8 bytes of index per set.
type interner struct {
	sets []span
	pool []int64
	seen map[string]uint32 // little-endian encoding of a set -> number
	key  []byte
}

func newInterner() *interner {
	return &interner{sets: []span{{}}, seen: make(map[string]uint32)}
}

// intern returns the number of s, which must be sorted and duplicate-free.
func (in *interner) intern(s []int64) uint32 {
	if len(s) == 0 {
		return 0
	}
	in.key = in.key[:0]
	for _, v := range s {
		in.key = binary.LittleEndian.AppendUint64(in.key, uint64(v))
	}
	if i, ok := in.seen[string(in.key)]; ok {
		return i
	}
	i := uint32(len(in.sets))
	in.sets = append(in.sets, span{uint32(len(in.pool)), uint32(len(s))})
	in.pool = append(in.pool, s...)
	in.seen[string(in.key)] = i
	return i
}

// set returns set number i; valid until the next intern.
func (in *interner) set(i uint32) []int64 {
	s := in.sets[i]
	return in.pool[s.off : s.off+s.n]
}

// IP returns the organisations with a network containing addr, sorted
// ascending without duplicates, or nil. An IPv4-mapped IPv6 address is
// looked up as the IPv4 address it maps, and an IPv6 zone is ignored. The
// result is shared with the table and must not be modified. IP does not
// allocate.
func (t *Table) IP(addr netip.Addr) []int64 {
	if t == nil || t.sets == nil {
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
	if t == nil || t.sets == nil {
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
