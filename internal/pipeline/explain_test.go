package pipeline

import (
	"net/netip"
	"slices"
	"testing"

	"focal/internal/focal"
	"focal/internal/lookup"
)

func TestExplainAgreesWithMatch(t *testing.T) {
	tbl, err := lookup.Build([]lookup.Entry{
		{OrgID: 1, Networks: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}},
		{OrgID: 2, ASNs: []uint32{64500}},
		{OrgID: 3, Domains: []string{"univ.example"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	e := &focal.Event{
		Source:      focal.Endpoint{IP: netip.MustParseAddr("192.0.2.7"), ASN: 64500},
		Destination: focal.Endpoint{URL: "http://www.univ.example/x", FQDN: "www.univ.example"},
	}
	reasons := Explain(tbl, e)
	var orgs []int64
	for _, r := range reasons {
		if !slices.Contains(orgs, r.OrgID) {
			orgs = append(orgs, r.OrgID)
		}
		if r.How == "" {
			t.Errorf("reason without words: %+v", r)
		}
	}
	slices.Sort(orgs)
	if got := match(tbl, e); !slices.Equal(orgs, got) {
		t.Errorf("Explain names organisations %v, match decides %v", orgs, got)
	}
	want := map[int64]string{1: "source address 192.0.2.7 is in its networks", 2: "source AS64500 is one of its AS numbers", 3: "destination host www.univ.example is in its domains"}
	for id, how := range want {
		found := false
		for _, r := range reasons {
			found = found || (r.OrgID == id && r.How == how)
		}
		if !found {
			t.Errorf("no reason %q for organisation %d in %+v", how, id, reasons)
		}
	}
}
