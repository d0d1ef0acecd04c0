package store_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"focal/internal/focal"
	"focal/internal/store"
	"focal/internal/store/storetest"
)

func taxiiObject(i int, tlp focal.TLP) store.TaxiiObject {
	id := fmt.Sprintf("indicator--%08x-0000-4000-8000-000000000000", i)
	return store.TaxiiObject{ID: id, Type: "indicator", SpecVersion: "2.1", Version: int64(i) * 1000, TLP: tlp,
		Body: []byte(fmt.Sprintf(`{"type":"indicator","id":%q}`, id))}
}

func TestTaxiiCollectionAccess(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFederation(t, s)
		ctx := sys()
		other := &store.TaxiiCollection{Title: "Other", Alias: "other"}
		if err := s.CreateTaxiiCollection(ctx, other); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateTaxiiCollection(ctx, &store.TaxiiCollection{Title: "Dup", Alias: "other"}); focal.ErrorCode(err) != focal.EINVALID {
			t.Errorf("duplicate alias = %v, want EINVALID", err)
		}
		if err := s.CreateTaxiiCollection(asUser(f.ana), &store.TaxiiCollection{Title: "x"}); focal.ErrorCode(err) != focal.EFORBIDDEN {
			t.Errorf("CreateTaxiiCollection as an analyst = %v, want EFORBIDDEN", err)
		}
		g := &store.SharingGroup{Name: "g", Ceiling: focal.TLPGreen}
		if err := s.CreateSharingGroup(ctx, g); err != nil {
			t.Fatal(err)
		}
		for _, m := range []store.SharingMember{{UserID: f.p1.ID}, {OrgID: f.orgA.ID}} {
			if err := s.AddSharingMember(ctx, g.ID, m); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.GrantSharingCollection(ctx, g.ID, store.SharingGrant{CollectionID: f.coll.ID, CanRead: true, CanWrite: true}); err != nil {
			t.Fatal(err)
		}
		readOnly := f.p1.Principal()
		readOnly.ReadOnly = true
		for _, tt := range []struct {
			name        string
			ctx         context.Context
			n           int
			read, write bool
		}{
			{"coordinator", asUser(f.boss), 2, true, true},
			{"analyst", asUser(f.ana), 2, true, true},
			{"handler", asUser(f.hal), 2, true, false},
			{"peer-in-group", asUser(f.p1), 1, true, true},
			{"peer-read-only-token", focal.NewContextWithPrincipal(context.Background(), readOnly), 1, true, false},
			{"peer-in-no-group", asUser(f.p2), 0, false, false},
			{"constituent-of-member-org", asUser(f.con), 1, true, true},
		} {
			cs, err := s.TaxiiCollections(tt.ctx, false)
			if err != nil {
				t.Fatalf("%s: %v", tt.name, err)
			}
			if len(cs) != tt.n {
				t.Errorf("%s sees %d collections, want %d", tt.name, len(cs), tt.n)
				continue
			}
			if tt.n > 0 && (cs[0].ID != f.coll.ID || cs[0].CanRead != tt.read || cs[0].CanWrite != tt.write) {
				t.Errorf("%s: %+v, want read=%v write=%v", tt.name, cs[0], tt.read, tt.write)
			}
		}
		if _, err := s.TaxiiCollections(context.Background(), false); focal.ErrorCode(err) != focal.EUNAUTHORIZED {
			t.Errorf("TaxiiCollections anonymously = %v, want EUNAUTHORIZED", err)
		}
		if cs, err := s.TaxiiCollections(context.Background(), true); err != nil || len(cs) != 0 {
			t.Errorf("public collections = %v, %v; want none", cs, err)
		}
		if _, err := s.TaxiiCollection(asUser(f.p2), false, f.coll.ID); focal.ErrorCode(err) != focal.ENOTFOUND {
			t.Errorf("TaxiiCollection as a peer in no group = %v, want ENOTFOUND", err)
		}
		if c, err := s.TaxiiCollection(asUser(f.hal), false, "other"); err != nil || c.ID != other.ID {
			t.Errorf("TaxiiCollection by alias = %v, %v", c, err)
		}
		if err := s.DeleteTaxiiCollection(ctx, other.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.TaxiiCollection(ctx, false, other.ID); focal.ErrorCode(err) != focal.ENOTFOUND {
			t.Errorf("deleted collection = %v, want ENOTFOUND", err)
		}
	})
}

// date_added is strictly increasing in a collection even with concurrent
// writers (several processes on PostgreSQL lock the collection row).
func TestTaxiiDateAddedIncreasing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFederation(t, s)
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for w := range 8 {
			wg.Go(func() {
				var objs []store.TaxiiObject
				for i := range 50 {
					objs = append(objs, taxiiObject(w*1000+i, focal.TLPGreen))
				}
				if _, err := s.AddTaxiiObjects(sys(), f.coll.ID, objs); err != nil {
					errs <- err
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		recs, more, err := s.TaxiiObjects(sys(), false, f.coll.ID, store.TaxiiFilter{Limit: 1000}, false)
		if err != nil || more || len(recs) != 400 {
			t.Fatalf("TaxiiObjects = %d records, more %v, %v", len(recs), more, err)
		}
		for i := 1; i < len(recs); i++ {
			if recs[i].DateAdded <= recs[i-1].DateAdded {
				t.Fatalf("date_added %d after %d", recs[i].DateAdded, recs[i-1].DateAdded)
			}
		}
		// Duplicates keep their date_added.
		added, err := s.AddTaxiiObjects(sys(), f.coll.ID, []store.TaxiiObject{taxiiObject(0, focal.TLPGreen), taxiiObject(99999, focal.TLPGreen)})
		if err != nil || !added[0].Duplicate || added[1].Duplicate || added[1].DateAdded <= recs[len(recs)-1].DateAdded {
			t.Errorf("AddTaxiiObjects(duplicate, new) = %+v, %v", added, err)
		}
	})
}

func TestTaxiiObjectsAccess(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newFederation(t, s)
		objs := []store.TaxiiObject{taxiiObject(1, focal.TLPClear), taxiiObject(2, focal.TLPGreen), taxiiObject(3, focal.TLPAmber),
			taxiiObject(4, focal.TLPRed), taxiiObject(5, "")}
		strict := taxiiObject(6, focal.TLPAmberStrict)
		strict.OrgID = f.orgA.ID
		objs = append(objs, strict)
		if _, err := s.AddTaxiiObjects(asUser(f.ana), f.coll.ID, objs); err != nil {
			t.Fatal(err)
		}
		if _, err := s.AddTaxiiObjects(asUser(f.hal), f.coll.ID, objs); focal.ErrorCode(err) != focal.EFORBIDDEN {
			t.Errorf("AddTaxiiObjects as a handler = %v, want EFORBIDDEN", err)
		}
		g := &store.SharingGroup{Name: "g", Ceiling: focal.TLPGreen}
		if err := s.CreateSharingGroup(sys(), g); err != nil {
			t.Fatal(err)
		}
		for _, m := range []store.SharingMember{{UserID: f.p1.ID}, {OrgID: f.orgA.ID}} {
			if err := s.AddSharingMember(sys(), g.ID, m); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.GrantSharingCollection(sys(), g.ID, store.SharingGrant{CollectionID: f.coll.ID, CanRead: true}); err != nil {
			t.Fatal(err)
		}
		count := func(ctx context.Context) int {
			t.Helper()
			recs, _, err := s.TaxiiObjects(ctx, false, f.coll.ID, store.TaxiiFilter{}, true)
			if err != nil {
				t.Fatal(err)
			}
			return len(recs)
		}
		if n := count(asUser(f.hal)); n != 6 {
			t.Errorf("a handler reads %d objects, want all 6", n)
		}
		if n := count(asUser(f.p1)); n != 2 {
			t.Errorf("a community peer reads %d objects, want 2 (CLEAR, GREEN)", n)
		}
		if n := count(asUser(f.con)); n != 3 {
			t.Errorf("a constituent of the organisation concerned reads %d objects, want 3 (CLEAR, GREEN, its AMBER+STRICT)", n)
		}
		imported := taxiiObject(7, focal.TLPAmberStrict)
		imported.OrgID, imported.Source = f.orgA.ID, "peer:other"
		if _, err := s.AddTaxiiObjects(asUser(f.ana), f.coll.ID, []store.TaxiiObject{imported}); err != nil {
			t.Fatal(err)
		}
		if n := count(asUser(f.con)); n != 3 {
			t.Errorf("an imported AMBER+STRICT object naming the organisation reached it (%d objects, want 3)", n)
		}
		if _, _, err := s.TaxiiObjects(asUser(f.p2), false, f.coll.ID, store.TaxiiFilter{}, false); focal.ErrorCode(err) != focal.ENOTFOUND {
			t.Errorf("a peer in no group = %v, want ENOTFOUND", err)
		}
		// Status: the requester and coordinators only.
		st := &store.TaxiiStatus{CollectionID: f.coll.ID, RequestTimestamp: time.Now(), Total: 1, Success: 1,
			Successes: []store.TaxiiStatusDetail{{ID: objs[0].ID, Version: "v"}}}
		if err := s.CreateTaxiiStatus(asUser(f.ana), st); err != nil {
			t.Fatal(err)
		}
		if got, err := s.TaxiiStatus(asUser(f.ana), st.ID); err != nil || got.Success != 1 || len(got.Successes) != 1 {
			t.Errorf("TaxiiStatus as requester = %+v, %v", got, err)
		}
		if _, err := s.TaxiiStatus(asUser(f.boss), st.ID); err != nil {
			t.Errorf("TaxiiStatus as coordinator = %v", err)
		}
		if _, err := s.TaxiiStatus(asUser(f.hal), st.ID); focal.ErrorCode(err) != focal.ENOTFOUND {
			t.Errorf("TaxiiStatus as another = %v, want ENOTFOUND", err)
		}
		// Delete: both read and write needed.
		if _, err := s.DeleteTaxiiObjects(asUser(f.p1), f.coll.ID, store.TaxiiFilter{ObjectID: objs[0].ID, Versions: store.TaxiiVersionMatch{All: true}, AnySpecVersion: true}); focal.ErrorCode(err) != focal.EFORBIDDEN {
			t.Errorf("DeleteTaxiiObjects as a reader = %v, want EFORBIDDEN", err)
		}
		if n, err := s.DeleteTaxiiObjects(asUser(f.ana), f.coll.ID, store.TaxiiFilter{ObjectID: objs[0].ID, Versions: store.TaxiiVersionMatch{All: true}, AnySpecVersion: true}); err != nil || n != 1 {
			t.Errorf("DeleteTaxiiObjects = %d, %v", n, err)
		}
	})
}

func TestInitMeta(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		a, err := s.InitMeta(ctx, "k", "first")
		if err != nil {
			t.Fatal(err)
		}
		b, err := s.InitMeta(ctx, "k", "second")
		if err != nil || a != "first" || b != "first" {
			t.Errorf("InitMeta = %q, %q, %v; want first twice", a, b, err)
		}
	})
}
