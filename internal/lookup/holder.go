package lookup

import "sync/atomic"

// Holder holds the current Table and swaps it atomically, so readers never
// lock while the registry rebuilds: build a new Table with Build, then Store
// it; readers that loaded the old one keep using it until they are done. The
// zero value is ready to use and holds an empty table. A Holder is safe for
// concurrent use and must not be copied after first use.
type Holder struct {
	p atomic.Pointer[Table]
}

// Load returns the current table, never nil: an empty table before the first
// Store.
func (h *Holder) Load() *Table {
	if t := h.p.Load(); t != nil {
		return t
	}
	// First Load on an empty Holder: install one shared empty table. If a
	// concurrent Store or Load won the race, its table stays.
	h.p.CompareAndSwap(nil, &Table{})
	return h.p.Load()
}

// Store makes t the current table. Store(nil) installs an empty table.
func (h *Holder) Store(t *Table) {
	if t == nil {
		t = &Table{}
	}
	h.p.Store(t)
}
