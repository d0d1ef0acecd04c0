package pipeline

import (
	"fmt"

	"focal/internal/focal"
	"focal/internal/lookup"
)

// Reason says why an event concerns an organisation.
type Reason struct {
	OrgID int64
	How   string // e.g. "source address 192.0.2.10 is in its networks"
}

// Explain returns, for each organisation the event concerns, why: which
// of its addresses, AS numbers, domains or URL hosts matched the
// constituency. It is what match decides, spelled out for people (the
// "who will receive this" preview).
func Explain(t *lookup.Table, e *focal.Event) []Reason {
	if t == nil {
		return nil
	}
	var out []Reason
	seen := map[[2]string]bool{}
	add := func(ids []int64, how string) {
		for _, id := range ids {
			k := [2]string{fmt.Sprint(id), how}
			if !seen[k] {
				seen[k] = true
				out = append(out, Reason{OrgID: id, How: how})
			}
		}
	}
	for _, side := range []struct {
		name string
		ep   *focal.Endpoint
	}{{"source", &e.Source}, {"destination", &e.Destination}} {
		ep := side.ep
		if ep.IP.IsValid() {
			add(t.IP(ep.IP), fmt.Sprintf("%s address %s is in its networks", side.name, ep.IP))
		}
		if ep.ASN != 0 {
			add(t.ASN(ep.ASN), fmt.Sprintf("%s AS%d is one of its AS numbers", side.name, ep.ASN))
		}
		if ep.FQDN != "" {
			add(t.Domain(ep.FQDN), fmt.Sprintf("%s host %s is in its domains", side.name, ep.FQDN))
		}
		if ep.URL != "" {
			add(t.URL(ep.URL), fmt.Sprintf("%s URL %s is on one of its hosts", side.name, focal.CutText(ep.URL, 200)))
		}
	}
	return out
}
