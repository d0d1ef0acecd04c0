package lookup

import (
	"encoding/binary"
	"math/bits"
	"net/netip"
	"slices"
)

// trie is a longest-prefix-match table for one address family, after
// Poptrie (Asai and Ohara, SIGCOMM 2015): the first 16 bits of an address
// index a flat array ("direct pointing"), the rest is a multibit trie of
// stride 6 whose nodes are two 64-bit bitmaps. Values are pushed to the
// leaves at build time, so a lookup descends without backtracking and stops
// at the first leaf; a popcount turns a slot into an index into the packed
// child and leaf arrays. A trie for 100,000 prefixes is a few megabytes.
//
// Values are uint32 indices into Table.sets, 0 for "no match". The zero trie
// is empty.
type trie struct {
	direct []uint32 // 1<<dbits entries: leafFlag|value, or the index of a node
	dbits  uint     // bits of the address indexing direct
	nodes  []node
	leaves []uint32
}

const (
	directBits = 16      // address bits resolved by trie.direct
	stride     = 6       // address bits resolved by each node
	leafFlag   = 1 << 31 // marks a value in trie.direct
)

// node is a trie node covering 64 slots of 6 bits each, or, if bits is not
// zero, a subtree holding a single prefix, which is checked directly: path
// compression keeps the trie for sparse, long prefixes shallow. 32 bytes, so
// that a node never straddles a cache line.
type node struct {
	vector  uint64 // bit i set: slot i has a child node; for a single: the prefix's high half
	leafvec uint64 // bit i set: a run of leaf slots with one value starts at slot i; single: low half
	base1   uint32 // index in nodes of the first child; single: value inside the prefix
	base0   uint32 // index in leaves of the first run's value; single: value outside
	bits    uint32 // 0, or the length of the single prefix (always > dbits)
	_       uint32
}

// lookup returns the value for the 128-bit address hi:lo (an IPv4 address
// is in the top 32 bits of hi).
func (t *trie) lookup(hi, lo uint64) uint32 {
	if t.direct == nil {
		return 0
	}
	d := t.direct[hi>>(64-t.dbits)]
	if d&leafFlag != 0 {
		return d &^ leafFlag
	}
	h, l := hi<<t.dbits|lo>>(64-t.dbits), lo<<t.dbits
	nodes := t.nodes
	n := &nodes[d]
	for {
		if n.bits != 0 {
			if b := uint(n.bits); b <= 64 {
				if (hi^n.vector)>>(64-b) == 0 {
					return n.base1
				}
			} else if hi == n.vector && (lo^n.leafvec)>>(128-b) == 0 {
				return n.base1
			}
			return n.base0
		}
		bit := uint64(1) << (h >> (64 - stride))
		mask := bit<<1 - 1 // slots 0..v; wraps to all ones for v == 63
		if n.vector&bit == 0 {
			return t.leaves[n.base0+uint32(bits.OnesCount64(n.leafvec&mask))-1]
		}
		n = &nodes[n.base1+uint32(bits.OnesCount64(n.vector&mask))-1]
		h, l = h<<stride|l>>(64-stride), l<<stride
	}
}

func (t *trie) lookup4(a netip.Addr) uint32 {
	b := a.As4()
	return t.lookup(uint64(binary.BigEndian.Uint32(b[:]))<<32, 0)
}

func (t *trie) lookup6(a netip.Addr) uint32 {
	b := a.As16()
	return t.lookup(binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:]))
}

// item is a prefix as a left-aligned 128-bit number, and its value.
type item struct {
	hi, lo uint64
	bits   int
	val    uint32
}

func itemOf(p netip.Prefix, val uint32) item {
	a := p.Addr()
	if a.Is4() {
		b := a.As4()
		return item{hi: uint64(binary.BigEndian.Uint32(b[:])) << 32, bits: p.Bits(), val: val}
	}
	b := a.As16()
	return item{hi: binary.BigEndian.Uint64(b[:8]), lo: binary.BigEndian.Uint64(b[8:]), bits: p.Bits(), val: val}
}

// slot returns the w bits of the address starting at bit offset d.
func (it *item) slot(d, w int) int {
	hi := it.hi
	switch {
	case d >= 64:
		hi = it.lo << (d - 64)
	case d > 0:
		hi = hi<<d | it.lo>>(64-d)
	}
	return int(hi >> (64 - w))
}

// buildTrie builds a trie from items of one family in canonical order
// (address, then length; masked, distinct), each carrying the value for its
// prefix including everything inherited from its supernets. dbits is the
// number of leading bits resolved by the direct array.
func buildTrie(items []item, dbits int) trie {
	if len(items) == 0 {
		return trie{}
	}
	var b trieBuilder
	vals := make([]uint32, 1<<dbits)
	kids := make([][]item, 1<<dbits)
	b.slots(items, 0, dbits, 0, vals, kids)
	direct := make([]uint32, 1<<dbits)
	for s := range direct {
		if kids[s] == nil {
			direct[s] = leafFlag | vals[s]
			continue
		}
		direct[s] = b.reserve(1)
		b.queue = append(b.queue, job{direct[s], kids[s], dbits, vals[s]})
	}
	// Breadth first, so that each level of the trie is contiguous in
	// memory and the upper levels, visited by every lookup, stay in cache.
	for len(b.queue) > 0 {
		j := b.queue[0]
		b.queue = b.queue[1:]
		b.node(j)
	}
	return trie{direct: direct, dbits: uint(dbits), nodes: slices.Clip(b.nodes), leaves: slices.Clip(b.leaves)}
}

type trieBuilder struct {
	nodes  []node
	leaves []uint32
	queue  []job
}

// job is a node to fill in: b.nodes[idx] for the items below offset d,
// with def for addresses outside them.
type job struct {
	idx   uint32
	items []item
	d     int
	def   uint32
}

// reserve appends n zero nodes and returns the index of the first.
func (b *trieBuilder) reserve(n int) uint32 {
	i := uint32(len(b.nodes))
	b.nodes = append(b.nodes, make([]node, n)...)
	return i
}

// slots computes for the 1<<w slots below offset d the value of each slot
// (def, or that of the longest item covering the whole slot) and the items
// that lie strictly inside each slot. All items lie inside the node, no item
// covers the whole node.
func (b *trieBuilder) slots(items []item, d, w int, def uint32, vals []uint32, kids [][]item) {
	for s := range vals {
		vals[s] = def
	}
	clear(kids)
	for i := 0; i < len(items); {
		it := &items[i]
		s := it.slot(d, w)
		if it.bits <= d+w {
			// Covers whole slots. Canonical order puts a prefix before those
			// inside it, so the longest one paints last.
			span := 1 << (d + w - it.bits)
			for k := s; k < s+span; k++ {
				vals[k] = it.val
			}
			i++
			continue
		}
		// The items inside slot s follow each other; those covering all of
		// slot s sort before them.
		j := i + 1
		for j < len(items) && items[j].slot(d, w) == s {
			j++
		}
		kids[s] = items[i:j]
		i = j
	}
}

// node fills in the node of job j and queues its children.
func (b *trieBuilder) node(j job) {
	if len(j.items) == 1 {
		it := &j.items[0]
		b.nodes[j.idx] = node{vector: it.hi, leafvec: it.lo, base1: it.val, base0: j.def, bits: uint32(it.bits)}
		return
	}
	var vals [1 << stride]uint32
	var kids [1 << stride][]item
	b.slots(j.items, j.d, stride, j.def, vals[:], kids[:])
	var n node
	nkids := 0
	for s, k := range kids {
		if k != nil {
			n.vector |= 1 << s
			nkids++
		}
	}
	n.base1 = b.reserve(nkids)
	n.base0 = uint32(len(b.leaves))
	first := true
	var prev uint32
	for s, k := range kids {
		if k != nil {
			continue // a run of leaves may span child slots: they are never looked up as leaves
		}
		if first || vals[s] != prev {
			n.leafvec |= 1 << s
			b.leaves = append(b.leaves, vals[s])
			first, prev = false, vals[s]
		}
	}
	b.nodes[j.idx] = n
	c := n.base1
	for s, k := range kids {
		if k != nil {
			b.queue = append(b.queue, job{c, k, j.d + stride, vals[s]})
			c++
		}
	}
}
