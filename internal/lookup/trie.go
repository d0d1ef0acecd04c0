package lookup

import (
	"encoding/binary"
	"math/bits"
	"net/netip"
	"slices"
	"unsafe"
)

// trie is a longest-prefix-match table for one address family, after
// Poptrie (Asai and Ohara, SIGCOMM 2015). The first 16 bits of an address
// index a flat array of nodes ("direct pointing"); below, each node resolves
// 6 more bits with two 64-bit bitmaps, whose popcount turns a slot into an
// index into the packed child and leaf arrays. Values are pushed down to the
// leaves at build time, so a lookup never backtracks: it stops at the first
// leaf. A subtree holding a single prefix is a node that checks it directly
// (path compression), which keeps sparse, long prefixes shallow.
//
// Values are sets of org ids, encoded as in Table.set; 0 is no match. The
// zero trie is empty.
//
// Lookups on random addresses are bound by memory latency, one cache miss
// per level, so the layout minimises dependent loads: the top array holds
// nodes rather than indices, and each node is 32 bytes (half a cache line,
// never straddling two).
type trie struct {
	top    []node // 1<<directBits nodes; nil for an empty trie
	nodes  []node
	leaves []uint32
}

const (
	directBits = 16 // address bits resolved by trie.top
	stride     = 6  // address bits resolved by each node below
	leafKind   = 255
)

// node is one of three kinds, told apart by bits:
//
//   - bits == 0: a node covering 64 slots of 6 bits each;
//   - bits == leafKind: a leaf, only in trie.top, with the value in base0;
//   - otherwise: a subtree holding one prefix of length bits (path
//     compression), with the prefix in vector:leafvec, the value for the
//     addresses inside it in base1 and for the others in base0.
type node struct {
	vector  uint64 // bit i set: slot i has a child node
	leafvec uint64 // bit i set: a run of leaf slots with one value starts at slot i
	base1   uint32 // index in trie.nodes of the first child
	base0   uint32 // index in trie.leaves of the first run's value
	bits    uint32
	_       uint32 // pads to 32 bytes
}

// lookup returns the value for the 128-bit address hi:lo (an IPv4 address
// is in the top 32 bits of hi).
func (t *trie) lookup(hi, lo uint64) uint32 {
	if t.top == nil {
		return 0
	}
	n := &t.top[hi>>(64-directBits)]
	h, l := hi<<directBits|lo>>(64-directBits), lo<<directBits
	for {
		if n.bits != 0 {
			b := uint(n.bits)
			switch {
			case b == leafKind:
				return n.base0
			case b <= 64:
				if (hi^n.vector)>>(64-b) == 0 {
					return n.base1
				}
			case hi == n.vector && (lo^n.leafvec)>>(128-b) == 0:
				return n.base1
			}
			return n.base0
		}
		bit := uint64(1) << (h >> (64 - stride))
		mask := bit<<1 - 1 // slots 0..v; wraps to all ones for v == 63
		if n.vector&bit == 0 {
			return t.leaves[n.base0+uint32(bits.OnesCount64(n.leafvec&mask))-1]
		}
		n = &t.nodes[n.base1+uint32(bits.OnesCount64(n.vector&mask))-1]
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

// size returns the bytes the trie occupies.
func (t *trie) size() int {
	return (len(t.top)+len(t.nodes))*int(unsafe.Sizeof(node{})) + len(t.leaves)*4
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
// prefix including everything inherited from its supernets.
func buildTrie(items []item) trie {
	if len(items) == 0 {
		return trie{}
	}
	var b trieBuilder
	vals := make([]uint32, 1<<directBits)
	runs := b.slots(items, 0, directBits, 0, vals, nil)
	top := make([]node, 1<<directBits)
	for s, v := range vals {
		top[s] = node{bits: leafKind, base0: v}
	}
	for _, r := range runs {
		// Each subtree breadth first: the nodes of one path are close.
		top[r.slot] = b.node(job{items: r.items, d: directBits, def: vals[r.slot]})
		for i := 0; i < len(b.queue); i++ {
			j := b.queue[i]
			b.nodes[j.idx] = b.node(j)
		}
		b.queue = b.queue[:0]
	}
	return trie{top: top, nodes: slices.Clip(b.nodes), leaves: slices.Clip(b.leaves)}
}

type trieBuilder struct {
	nodes  []node
	leaves []uint32
	queue  []job
}

// job is a node to make for the items below offset d, with def for
// addresses outside them, to be stored at nodes[idx].
type job struct {
	idx   uint32
	items []item
	d     int
	def   uint32
}

// run is the items that lie strictly inside one slot of a node.
type run struct {
	slot  int
	items []item
}

// slots computes for the 1<<w slots below offset d the value of each slot
// (def, or that of the longest item covering the whole slot), and appends
// to runs the items that lie strictly inside a slot, by slot, in slot order.
// All items lie inside the node, none covers the whole node.
func (b *trieBuilder) slots(items []item, d, w int, def uint32, vals []uint32, runs []run) []run {
	for s := range vals {
		vals[s] = def
	}
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
		runs = append(runs, run{s, items[i:j]})
		i = j
	}
	return runs
}

// node makes the node of job j, appending its leaves and reserving and
// queueing its children.
func (b *trieBuilder) node(j job) node {
	if len(j.items) == 1 {
		it := &j.items[0]
		return node{vector: it.hi, leafvec: it.lo, base1: it.val, base0: j.def, bits: uint32(it.bits)}
	}
	var vals [1 << stride]uint32
	var buf [1 << stride]run
	runs := b.slots(j.items, j.d, stride, j.def, vals[:], buf[:0])
	var n node
	for _, r := range runs {
		n.vector |= 1 << r.slot
	}
	n.base1 = uint32(len(b.nodes))
	b.nodes = append(b.nodes, make([]node, len(runs))...)
	n.base0 = uint32(len(b.leaves))
	first := true
	var prev uint32
	for s, v := range vals {
		if n.vector&(1<<s) != 0 {
			continue // a run of leaves may span child slots: they are never looked up as leaves
		}
		if first || v != prev {
			n.leafvec |= 1 << s
			b.leaves = append(b.leaves, v)
			first, prev = false, v
		}
	}
	for i, r := range runs {
		b.queue = append(b.queue, job{n.base1 + uint32(i), r.items, j.d + stride, vals[r.slot]})
	}
	return n
}
