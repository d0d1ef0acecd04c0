package publish_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"focal/internal/focal"
	"focal/internal/publish"
	"focal/internal/stix"
	"focal/internal/store"
	"focal/internal/store/storetest"
)

// TestPublishIncident shares an incident into a collection: a report, the
// incident and its observables' indicators arrive with their TLP
// markings, a TLP:RED observable stays behind, the push hint fires once,
// publishing again only adds new versions, and a TLP:RED incident is
// refused.
func TestPublishIncident(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		sys := focal.NewContextWithPrincipal(context.Background(), focal.System())
		c := &store.TaxiiCollection{Title: "Incidents"}
		if err := st.CreateTaxiiCollection(sys, c); err != nil {
			t.Fatal(err)
		}
		inc := &focal.Incident{Title: "Phishing wave", Description: "see indicators", TLP: focal.TLPGreen,
			Classifications: []focal.Classification{{Class: "fraud", Type: "phishing"}}}
		obs := []focal.Observable{
			{Kind: "domain", Value: "login-bank.example", TLP: focal.TLPGreen, Source: "manual"},
			{Kind: "ipv4", Value: "203.0.113.9", TLP: focal.TLPAmber, Source: "manual"},
			{Kind: "email", Value: "victim@example.org", TLP: focal.TLPRed, Source: "manual"},
		}
		if err := st.CreateIncident(sys, inc, obs); err != nil {
			t.Fatal(err)
		}
		hints := 0
		p := &publish.Publisher{Store: st, Identity: stix.IdentityFor("cert.example", "cert@cert.example"),
			Changed: func(string) { hints++ }, Now: func() time.Time { return time.Date(2026, 11, 23, 1, 0, 0, 0, time.UTC) }}
		res, err := p.Incident(sys, c.ID, inc.ID)
		if err != nil {
			t.Fatalf("Incident = %v", err)
		}
		if res.Added != 4 || hints != 1 { // report, incident, 2 indicators
			t.Errorf("published %+v with %d hints; want 4 objects and 1 hint", res, hints)
		}
		recs, _, err := st.TaxiiObjects(sys, false, c.ID, store.TaxiiFilter{Limit: 100}, true)
		if err != nil {
			t.Fatal(err)
		}
		var all strings.Builder
		types := map[string]int{}
		for _, r := range recs {
			all.Write(r.Body)
			h, err := stix.Decode(r.Body)
			if err != nil {
				t.Fatalf("stored object %s: %v", r.ID, err)
			}
			types[h.Type]++
		}
		if types["report"] != 1 || types["incident"] != 1 || types["indicator"] != 2 || types["identity"] != 1 {
			t.Errorf("stored types %v", types)
		}
		if strings.Contains(all.String(), "victim@example.org") {
			t.Errorf("a TLP:RED observable left the node")
		}
		if !strings.Contains(all.String(), stix.TLP2Amber) || !strings.Contains(all.String(), stix.TLP2Green) {
			t.Errorf("the objects lack their TLP markings")
		}
		// Again: same objects, nothing new.
		res, err = p.Incident(sys, c.ID, inc.ID)
		if err != nil || res.Added != 0 || res.Duplicates != 4 {
			t.Errorf("publishing again = %+v, %v; want 4 duplicates", res, err)
		}
		red := &focal.Incident{Title: "Secret", TLP: focal.TLPRed, Classifications: []focal.Classification{{Class: "fraud", Type: "phishing"}}}
		if err := st.CreateIncident(sys, red, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := p.Incident(sys, c.ID, red.ID); focal.ErrorCode(err) != focal.EFORBIDDEN {
			t.Errorf("publishing a TLP:RED incident = %v, want %s", err, focal.EFORBIDDEN)
		}
		if _, err := p.Indicators(sys, c.ID, nil, 0); focal.ErrorCode(err) != focal.EINVALID {
			t.Errorf("publishing nothing = %v, want %s", err, focal.EINVALID)
		}
	})
}
