package focal

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"
)

// The states of a change request.
const (
	ChangePending   = "pending"
	ChangeApproved  = "approved"
	ChangeRejected  = "rejected"
	ChangeWithdrawn = "withdrawn"
)

// MaxChangeItems bounds the networks, AS numbers and domains one change
// request may add or remove.
const MaxChangeItems = 1000

// MaxChangeNote bounds the notes of a change request and of its decision.
const MaxChangeNote = 2000

// Holdings are the networks, AS numbers and domains an organisation
// claims: what decides which events are its own.
type Holdings struct {
	Networks []netip.Prefix `json:"networks,omitempty"`
	ASNs     []uint32       `json:"asns,omitempty"`
	Domains  []string       `json:"domains,omitempty"`
}

// Len returns the number of items.
func (h Holdings) Len() int { return len(h.Networks) + len(h.ASNs) + len(h.Domains) }

// normalize masks, sorts and dedupes like Organisation.Normalize.
func (h *Holdings) normalize() {
	o := Organisation{Networks: h.Networks, ASNs: h.ASNs, Domains: h.Domains}
	o.Normalize()
	h.Networks, h.ASNs, h.Domains = o.Networks, o.ASNs, o.Domains
}

// ChangeRequest asks to change an organisation's holdings. A constituent
// files it for its own organisation; a coordinator approves it (the
// change is applied at once) or rejects it, with a note. Changing which
// networks an organisation owns changes whose data it receives, so it is
// never done on the requester's word alone.
type ChangeRequest struct {
	ID           int64
	OrgID        int64
	OrgName      string
	Add          Holdings
	Remove       Holdings
	Note         string // why, from the requester
	State        string
	RequestedBy  int64
	Requester    string
	RequestedAt  time.Time
	DecidedBy    int64
	Decider      string
	DecidedAt    time.Time
	DecisionNote string
}

// Normalize trims the notes and normalises the holdings.
func (c *ChangeRequest) Normalize() {
	c.Note = strings.TrimSpace(c.Note)
	c.Add.normalize()
	c.Remove.normalize()
}

// Validate checks a new request after Normalize: something to change,
// within bounds, each item valid, nothing both added and removed.
func (c *ChangeRequest) Validate() error {
	n := c.Add.Len() + c.Remove.Len()
	switch {
	case n == 0:
		return FieldErrorf("add", "the request changes nothing: give networks, AS numbers or domains to add or remove")
	case n > MaxChangeItems:
		return FieldErrorf("add", "at most %d items per request, got %d", MaxChangeItems, n)
	case len(c.Note) > MaxChangeNote:
		return FieldErrorf("note", "longer than %d characters", MaxChangeNote)
	}
	for _, side := range []struct {
		name string
		h    Holdings
	}{{"add", c.Add}, {"remove", c.Remove}} {
		for i, p := range side.h.Networks {
			if !p.IsValid() {
				return FieldErrorf(fmt.Sprintf("%s.networks[%d]", side.name, i), "invalid network")
			}
		}
		for i, a := range side.h.ASNs {
			if a == 0 || a == 23456 || a == 4294967295 {
				return FieldErrorf(fmt.Sprintf("%s.asns[%d]", side.name, i), "AS%d is reserved", a)
			}
		}
		for i, d := range side.h.Domains {
			if err := ValidateDomain(d); err != nil {
				return FieldErrorf(fmt.Sprintf("%s.domains[%d]", side.name, i), "%v", err)
			}
		}
	}
	for _, p := range c.Add.Networks {
		if slices.Contains(c.Remove.Networks, p) {
			return FieldErrorf("remove.networks", "%s is both added and removed", p)
		}
	}
	for _, a := range c.Add.ASNs {
		if slices.Contains(c.Remove.ASNs, a) {
			return FieldErrorf("remove.asns", "AS%d is both added and removed", a)
		}
	}
	for _, d := range c.Add.Domains {
		if slices.Contains(c.Remove.Domains, d) {
			return FieldErrorf("remove.domains", "%s is both added and removed", d)
		}
	}
	return nil
}

// Apply returns o's holdings with the request applied: additions first,
// then removals.
func (c *ChangeRequest) Apply(o *Organisation) {
	o.Networks = append(o.Networks, c.Add.Networks...)
	o.ASNs = append(o.ASNs, c.Add.ASNs...)
	o.Domains = append(o.Domains, c.Add.Domains...)
	o.Networks = slices.DeleteFunc(o.Networks, func(p netip.Prefix) bool { return slices.Contains(c.Remove.Networks, p.Masked()) })
	o.ASNs = slices.DeleteFunc(o.ASNs, func(a uint32) bool { return slices.Contains(c.Remove.ASNs, a) })
	o.Domains = slices.DeleteFunc(o.Domains, func(d string) bool { return slices.Contains(c.Remove.Domains, d) })
	o.Normalize()
}

// ParseHoldings reads networks, AS numbers and domains from free text,
// one item per line or separated by spaces or commas: an address or CIDR
// is a network, "AS64500" or a bare number an AS number, anything else a
// domain. field names the form field in errors.
func ParseHoldings(field, text string) (Holdings, error) {
	var h Holdings
	items := strings.FieldsFunc(text, func(r rune) bool { return r == ',' || r == ';' || r == ' ' || r == '\n' || r == '\r' || r == '\t' })
	for i, it := range items {
		if p, err := ParsePrefix(it); err == nil {
			h.Networks = append(h.Networks, p)
			continue
		}
		if a, err := ParseASN(it); err == nil {
			h.ASNs = append(h.ASNs, a)
			continue
		}
		d := strings.TrimSuffix(strings.ToLower(it), ".")
		if err := ValidateDomain(d); err != nil {
			return Holdings{}, FieldErrorf(field, "item %d: %q is not a network, AS number or domain: %v", i+1, it, err)
		}
		h.Domains = append(h.Domains, d)
	}
	h.normalize()
	return h, nil
}
