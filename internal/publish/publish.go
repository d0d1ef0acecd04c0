// Package publish shares local data with the cooperative network: it
// turns observables and incidents into STIX 2.1 objects and adds them to
// a TAXII collection, from where the sharing groups granted that
// collection receive them (TLP enforced by focal.ReleaseDecision when they
// read), and tells subscribed peers to poll at once.
package publish

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"focal/internal/focal"
	"focal/internal/stix"
	"focal/internal/store"
)

// Publisher adds local data to collections. Store is required; Identity
// is this focal point's STIX identity (created_by_ref of what it
// publishes); Changed, if set, is called after objects were added to a
// collection (the push hint to peers).
type Publisher struct {
	Store    *store.Store
	Identity stix.Identity
	Changed  func(collectionID string)
	Now      func() time.Time // default time.Now
}

// Result is what publishing added.
type Result struct {
	Collection string   `json:"collection"`
	Added      int      `json:"added"`      // new objects or versions
	Duplicates int      `json:"duplicates"` // already in the collection
	IDs        []string `json:"ids"`        // the STIX identifiers, in order
}

func (p *Publisher) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

// Indicators publishes one indicator per observable into collection. An
// observable's TLP labels its indicator (unlabelled: TLP:AMBER); orgID is
// the organisation they concern (the only one TLP:AMBER+STRICT may reach),
// 0 for none.
func (p *Publisher) Indicators(ctx context.Context, collection string, obs []focal.Observable, orgID int64) (*Result, error) {
	if len(obs) == 0 {
		return nil, focal.FieldErrorf("indicators", "nothing to publish")
	}
	now := p.now()
	objs := make([]stix.Object, 0, len(obs))
	tlps := make([]focal.TLP, 0, len(obs))
	for i, o := range obs {
		if o.TLP == "" {
			o.TLP = focal.TLPAmber
		}
		ind, err := stix.IndicatorFromObservable(o, p.Identity.ID, now)
		if err != nil {
			return nil, focal.FieldErrorf(fmt.Sprintf("indicators[%d]", i), "%s", focal.ErrorMessage(err))
		}
		obj, err := stix.NewObject(ind)
		if err != nil {
			return nil, err
		}
		objs = append(objs, obj)
		tlps = append(tlps, o.TLP)
	}
	return p.add(ctx, collection, objs, tlps, orgID)
}

// Incident publishes incident id into collection: a report and an
// incident object with one indicator per observable, all under the
// incident's TLP (an observable's own label when it has one), concerning
// the incident's organisation.
func (p *Publisher) Incident(ctx context.Context, collection string, id int64) (*Result, error) {
	inc, err := p.Store.Incident(ctx, id)
	if err != nil {
		return nil, err
	}
	if inc.TLP == focal.TLPRed {
		return nil, focal.Errorf(focal.EFORBIDDEN, "incident %s is TLP:RED: it never leaves this node", inc.Ref)
	}
	obs, err := p.Store.Observables(ctx, id)
	if err != nil {
		return nil, err
	}
	// TLP:RED observables stay here; the rest take their own label.
	var shared []focal.Observable
	for _, o := range obs {
		if o.TLP != focal.TLPRed {
			shared = append(shared, o)
		}
	}
	objs, err := stix.ReportFromIncident(*inc, shared, p.Identity.ID)
	if err != nil {
		return nil, err
	}
	tlps := make([]focal.TLP, len(objs))
	for i, o := range objs {
		t, ok := stix.TLPOf(o.Common)
		if !ok {
			t = inc.TLP
		}
		tlps[i] = t
	}
	return p.add(ctx, collection, objs, tlps, inc.OrgID)
}

// add stores objs (with the identity and the marking definitions they
// reference) in collection.
func (p *Publisher) add(ctx context.Context, collection string, objs []stix.Object, tlps []focal.TLP, orgID int64) (*Result, error) {
	ident, err := stix.NewObject(p.Identity)
	if err != nil {
		return nil, err
	}
	extra := stix.WithMarkings(objs)[len(objs):] // the marking definitions objs reference
	all := make([]store.TaxiiObject, 0, len(objs)+len(extra)+1)
	for _, o := range append(append([]stix.Object{ident}, extra...), objs...) {
		all = append(all, taxiiObject(o, focal.TLPClear, 0))
	}
	for i, o := range objs {
		all[1+len(extra)+i] = taxiiObject(o, tlps[i], orgID)
	}
	added, err := p.Store.AddTaxiiObjects(ctx, collection, all)
	if err != nil {
		return nil, err
	}
	res := &Result{Collection: collection}
	for i, a := range added[1+len(extra):] {
		res.IDs = append(res.IDs, objs[i].ID)
		if a.Duplicate {
			res.Duplicates++
		} else {
			res.Added++
		}
	}
	if res.Added > 0 && p.Changed != nil {
		p.Changed(collection)
	}
	return res, nil
}

// taxiiObject is o as the store keeps it.
func taxiiObject(o stix.Object, tlp focal.TLP, orgID int64) store.TaxiiObject {
	version := o.Modified.Time
	if version.IsZero() {
		version = o.Created.Time
	}
	spec := o.SpecVersion
	if spec == "" {
		spec = stix.SpecVersion
	}
	body := json.RawMessage(o.Raw())
	return store.TaxiiObject{ID: o.ID, Type: o.Type, SpecVersion: spec, Version: version.UnixMicro(), TLP: tlp, OrgID: orgID, Body: body}
}
