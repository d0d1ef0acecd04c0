package geoip

import (
	"encoding/binary"
	"math/bits"
	"net/netip"
	"sync/atomic"
)

// cache remembers answers per network. It is a fixed array of slots in
// sets of two (two-way set associative), the set chosen by a hash of the
// address's window: its /24 (IPv4) or /48 (IPv6). A slot holds an atomic
// pointer to an immutable entry and, beside it, the window's key as a tag,
// so a look-up reads one cache line and follows a pointer only when the
// tag matches. Every set is its own shard: there is no lock anywhere. A
// miss inserts the new entry first in its set and moves the previous first
// one second, dropping the second; so the size stays bounded, and two busy
// windows that share a set do not evict each other.
//
// An entry holds the network its answer is valid for (what the database
// returned, narrowed to the answer of the other file). A hit requires that
// network to contain the address, so the answer is exact whatever the tag
// says, even while a writer is replacing the slot: all addresses of the
// window hit when the network is at least as wide as the window, else the
// addresses of the narrower network.
type cache struct {
	slots []cacheSlot
	shift uint // 64 - log2(len(slots))
}

type cacheSlot struct {
	tag atomic.Uint64 // window key + 1, 0 if empty
	e   atomic.Pointer[cacheEntry]
}

type cacheEntry struct {
	pfx  netip.Prefix
	info Info
	ok   bool
}

// maxCacheSize bounds WithCacheSize.
const maxCacheSize = 1 << 24

func newCache(n int) *cache {
	n = min(max(n, 2), maxCacheSize) // at least one set
	b := bits.Len(uint(n - 1))       // round up to a power of two
	return &cache{slots: make([]cacheSlot, 1<<b), shift: uint(64 - b)}
}

// window returns the key of ip's window (a distinct number for every /24
// and /48, never ^0) and the index of its set (its first slot): a
// Fibonacci hash of the key.
func (c *cache) window(ip netip.Addr) (key, set uint64) {
	if ip.Is4() {
		a := ip.As4()
		key = uint64(a[0])<<16 | uint64(a[1])<<8 | uint64(a[2])
	} else {
		a := ip.As16()
		key = binary.BigEndian.Uint64(a[:8])>>16 | 1<<62 // apart from IPv4 keys
	}
	return key, (key * 0x9e3779b97f4a7c15) >> c.shift &^ 1
}

// get returns the entry answering ip, or nil.
func (c *cache) get(ip netip.Addr) *cacheEntry {
	key, i := c.window(ip)
	set := c.slots[i:][:2]
	for j := range set {
		if set[j].tag.Load() == key+1 {
			if e := set[j].e.Load(); e != nil && e.pfx.Contains(ip) {
				return e
			}
		}
	}
	return nil
}

// put stores the answer for ip, valid for the network pfx (which contains
// ip).
func (c *cache) put(ip netip.Addr, pfx netip.Prefix, info Info, ok bool) {
	key, i := c.window(ip)
	set := c.slots[i:][:2]
	if old := set[0].e.Load(); old != nil {
		set[1].e.Store(old)
		set[1].tag.Store(set[0].tag.Load())
	}
	set[0].e.Store(&cacheEntry{pfx: pfx, info: info, ok: ok})
	set[0].tag.Store(key + 1)
}
