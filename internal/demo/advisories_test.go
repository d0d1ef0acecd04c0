package demo_test

import (
	"context"
	"testing"

	"focal/internal/csaf"
	"focal/internal/demo"
	"focal/internal/focal"
	"focal/internal/store"
	"focal/internal/store/storetest"
)

// TestSeedAdvisories publishes the demo advisories after the demo data
// set: two public, one AMBER that reaches Example Telecom.
func TestSeedAdvisories(t *testing.T) {
	st := storetest.Open(t, store.SQLite)
	ctx := context.Background()
	if _, err := demo.Seed(ctx, st); err != nil {
		t.Fatal(err)
	}
	signer, err := demo.TeamKey("", t.TempDir(), "CERT-Demo", "cert@demo.example", "")
	if err != nil {
		t.Fatal(err)
	}
	opts := store.PublishOptions{Signer: signer, TrackingPrefix: "DEMO", Publisher: csaf.Publisher{Name: "CERT-Demo", Namespace: "https://cert.demo.example"}}
	if err := demo.SeedAdvisories(ctx, st, opts); err != nil {
		t.Fatal(err)
	}
	anon := focal.NewContextWithPrincipal(ctx, focal.Anonymous())
	if ds, err := st.PublishedDocuments(anon, "white"); err != nil || len(ds) != 2 {
		t.Errorf("white documents = %d, %v", len(ds), err)
	}
	sys := focal.NewContextWithPrincipal(ctx, focal.System())
	ds, err := st.PublishedDocuments(sys, "amber")
	if err != nil || len(ds) != 1 {
		t.Fatalf("amber documents = %d, %v", len(ds), err)
	}
	orgs, err := st.AdvisoryOrganisations(sys, ds[0].AdvisoryID)
	if err != nil || len(orgs) != 1 || orgs[0].Name != "Example Telecom" {
		t.Errorf("concerned = %+v, %v", orgs, err)
	}
}
