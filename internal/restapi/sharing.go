package restapi

import (
	"net/http"
	"strconv"
	"time"

	"focal/internal/focal"
	"focal/internal/observable"
	"focal/internal/publish"
	"focal/internal/store"
)

// collectionBody is a TAXII collection as the management API shows it.
type collectionBody struct {
	ID          string    `json:"id"`
	Alias       string    `json:"alias,omitempty"`
	Title       string    `json:"title"`
	Description string    `json:"description,omitempty"`
	Public      bool      `json:"public"`
	CreatedAt   time.Time `json:"created_at"`
}

func collectionToBody(c *store.TaxiiCollection) collectionBody {
	return collectionBody{ID: c.ID, Alias: c.Alias, Title: c.Title, Description: c.Description, Public: c.Public, CreatedAt: c.CreatedAt}
}

// collectionIn is a collection as the management API reads it.
type collectionIn struct {
	Alias       string `json:"alias"`
	Title       string `json:"title"`
	Description string `json:"description"`
	Public      bool   `json:"public"`
}

func (a *API) listCollections(w http.ResponseWriter, r *http.Request) {
	list, err := a.Store.TaxiiCollections(r.Context(), false)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	out := struct {
		Items []collectionBody `json:"items"`
	}{Items: []collectionBody{}}
	for _, c := range list {
		out.Items = append(out.Items, collectionToBody(c))
	}
	a.writeJSON(w, http.StatusOK, out)
}

func (a *API) createCollection(w http.ResponseWriter, r *http.Request) {
	var b collectionIn
	if err := decode(r, &b); err != nil {
		a.Error(w, r, err)
		return
	}
	c := &store.TaxiiCollection{Alias: b.Alias, Title: b.Title, Description: b.Description, Public: b.Public}
	if err := a.Store.CreateTaxiiCollection(r.Context(), c); err != nil {
		a.Error(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/collections/"+c.ID)
	a.writeJSON(w, http.StatusCreated, collectionToBody(c))
}

func (a *API) updateCollection(w http.ResponseWriter, r *http.Request) {
	var b collectionIn
	if err := decode(r, &b); err != nil {
		a.Error(w, r, err)
		return
	}
	c := &store.TaxiiCollection{ID: r.PathValue("cid"), Alias: b.Alias, Title: b.Title, Description: b.Description, Public: b.Public}
	if err := a.Store.UpdateTaxiiCollection(r.Context(), c); err != nil {
		a.Error(w, r, err)
		return
	}
	got, err := a.Store.TaxiiCollection(r.Context(), false, c.ID)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	a.writeJSON(w, http.StatusOK, collectionToBody(got))
}

func (a *API) deleteCollection(w http.ResponseWriter, r *http.Request) {
	if err := a.Store.DeleteTaxiiCollection(r.Context(), r.PathValue("cid")); err != nil {
		a.Error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// groupBody is a sharing group as the API shows it.
type groupBody struct {
	ID          int64        `json:"id"`
	Name        string       `json:"name"`
	Description string       `json:"description,omitempty"`
	Ceiling     focal.TLP    `json:"ceiling"`
	CreatedAt   time.Time    `json:"created_at"`
	Members     []memberBody `json:"members"`
	Collections []grantBody  `json:"collections"`
}

type memberBody struct {
	UserID int64  `json:"user_id,omitempty"`
	OrgID  int64  `json:"org_id,omitempty"`
	Name   string `json:"name,omitempty"`
}

type grantBody struct {
	CollectionID string `json:"collection_id"`
	Title        string `json:"title,omitempty"`
	CanRead      bool   `json:"can_read"`
	CanWrite     bool   `json:"can_write"`
}

func groupToBody(g *store.SharingGroup) groupBody {
	b := groupBody{ID: g.ID, Name: g.Name, Description: g.Description, Ceiling: g.Ceiling, CreatedAt: g.CreatedAt,
		Members: []memberBody{}, Collections: []grantBody{}}
	for _, m := range g.Members {
		b.Members = append(b.Members, memberBody{UserID: m.UserID, OrgID: m.OrgID, Name: m.Name})
	}
	for _, c := range g.Collections {
		b.Collections = append(b.Collections, grantBody{CollectionID: c.CollectionID, Title: c.Title, CanRead: c.CanRead, CanWrite: c.CanWrite})
	}
	return b
}

type groupIn struct {
	Name        string    `json:"name"`
	Description string    `json:"description"`
	Ceiling     focal.TLP `json:"ceiling"`
}

func (a *API) listGroups(w http.ResponseWriter, r *http.Request) {
	list, err := a.Store.SharingGroups(r.Context())
	if err != nil {
		a.Error(w, r, err)
		return
	}
	out := struct {
		Items []groupBody `json:"items"`
	}{Items: []groupBody{}}
	for _, g := range list {
		out.Items = append(out.Items, groupToBody(g))
	}
	a.writeJSON(w, http.StatusOK, out)
}

func (a *API) createGroup(w http.ResponseWriter, r *http.Request) {
	var b groupIn
	if err := decode(r, &b); err != nil {
		a.Error(w, r, err)
		return
	}
	g := &store.SharingGroup{Name: b.Name, Description: b.Description, Ceiling: b.Ceiling}
	if err := a.Store.CreateSharingGroup(r.Context(), g); err != nil {
		a.Error(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/sharing-groups/"+strconv.FormatInt(g.ID, 10))
	a.writeJSON(w, http.StatusCreated, groupToBody(g))
}

func (a *API) getGroup(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	g, err := a.Store.SharingGroup(r.Context(), id)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	a.writeJSON(w, http.StatusOK, groupToBody(g))
}

func (a *API) updateGroup(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	var b groupIn
	if err := decode(r, &b); err != nil {
		a.Error(w, r, err)
		return
	}
	g := &store.SharingGroup{ID: id, Name: b.Name, Description: b.Description, Ceiling: b.Ceiling}
	if err := a.Store.UpdateSharingGroup(r.Context(), g); err != nil {
		a.Error(w, r, err)
		return
	}
	a.getGroup(w, r)
}

func (a *API) deleteGroup(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	if err := a.Store.DeleteSharingGroup(r.Context(), id); err != nil {
		a.Error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// groupMember serves POST and DELETE /api/v1/sharing-groups/{id}/members:
// a peer account ({"user_id":…}) or an organisation ({"org_id":…}) joins
// or leaves the group.
func (a *API) groupMember(add bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, err := pathID(r)
		if err != nil {
			a.Error(w, r, err)
			return
		}
		var b memberBody
		if err := decode(r, &b); err != nil {
			a.Error(w, r, err)
			return
		}
		m := store.SharingMember{UserID: b.UserID, OrgID: b.OrgID}
		if add {
			err = a.Store.AddSharingMember(r.Context(), id, m)
		} else {
			err = a.Store.RemoveSharingMember(r.Context(), id, m)
		}
		if err != nil {
			a.Error(w, r, err)
			return
		}
		a.getGroup(w, r)
	}
}

// grantCollection serves PUT /api/v1/sharing-groups/{id}/collections/{cid}:
// what the group's members may do with the collection
// ({"can_read":true,"can_write":false}; both false revokes).
func (a *API) grantCollection(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	var b struct {
		CanRead  bool `json:"can_read"`
		CanWrite bool `json:"can_write"`
	}
	if err := decode(r, &b); err != nil {
		a.Error(w, r, err)
		return
	}
	if err := a.Store.GrantSharingCollection(r.Context(), id, store.SharingGrant{CollectionID: r.PathValue("cid"), CanRead: b.CanRead, CanWrite: b.CanWrite}); err != nil {
		a.Error(w, r, err)
		return
	}
	a.getGroup(w, r)
}

// recipientPreviewBody is one party that would receive an object.
type recipientPreviewBody struct {
	Kind   focal.RecipientKind `json:"kind"`
	ID     int64               `json:"id,omitempty"`
	Name   string              `json:"name"`
	Group  string              `json:"group,omitempty"`
	Reason string              `json:"reason"`
}

// collectionRecipients serves GET /api/v1/collections/{cid}/recipients?tlp=&org=:
// who would receive an object of that label (about that organisation)
// added to the collection, and why — before anything is shared.
func (a *API) collectionRecipients(w http.ResponseWriter, r *http.Request) {
	tlp := focal.TLPAmber
	if v := r.URL.Query().Get("tlp"); v != "" {
		t, err := focal.ParseTLP(v)
		if err != nil {
			a.Error(w, r, err)
			return
		}
		tlp = t
	}
	var org int64
	if v := r.URL.Query().Get("org"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			a.Error(w, r, focal.FieldErrorf("org", "want an organisation id, got %q", v))
			return
		}
		org = n
	}
	list, err := a.Store.Recipients(r.Context(), r.PathValue("cid"), tlp, org)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	out := struct {
		Collection string                 `json:"collection"`
		TLP        focal.TLP              `json:"tlp"`
		Recipients []recipientPreviewBody `json:"recipients"`
	}{r.PathValue("cid"), tlp, []recipientPreviewBody{}}
	for _, p := range list {
		out.Recipients = append(out.Recipients, recipientPreviewBody{Kind: p.Recipient.Kind, ID: p.Recipient.ID, Name: p.Recipient.Name, Group: p.Group, Reason: p.Reason})
	}
	a.writeJSON(w, http.StatusOK, out)
}

// publishBody is what POST /api/v1/collections/{cid}/publish shares:
// indicators (kind and value, as observables), an incident, or both.
type publishBody struct {
	Indicators []struct {
		Kind  string    `json:"kind"`
		Value string    `json:"value"`
		TLP   focal.TLP `json:"tlp"`
	} `json:"indicators"`
	OrgID      int64 `json:"org_id"`
	IncidentID int64 `json:"incident_id"`
}

// publishToCollection serves POST /api/v1/collections/{cid}/publish: local
// indicators and incidents become STIX objects in the collection at once;
// subscribed peers are told to poll.
func (a *API) publishToCollection(w http.ResponseWriter, r *http.Request) {
	if a.Publisher == nil {
		a.Error(w, r, focal.Errorf(focal.EUNAVAILABLE, "publishing is not configured"))
		return
	}
	var b publishBody
	if err := decode(r, &b); err != nil {
		a.Error(w, r, err)
		return
	}
	cid := r.PathValue("cid")
	var results []*publish.Result
	if len(b.Indicators) > 0 {
		obs := make([]focal.Observable, 0, len(b.Indicators))
		for i, in := range b.Indicators {
			parsed, err := observable.Parse(observable.Kind(in.Kind), in.Value)
			if err != nil {
				a.Error(w, r, focal.FieldErrorf("indicators["+strconv.Itoa(i)+"]", "%v", err))
				return
			}
			obs = append(obs, focal.Observable{Kind: string(parsed.Kind), Value: parsed.Value, TLP: in.TLP, Source: "manual", CreatedAt: time.Now().UTC()})
		}
		res, err := a.Publisher.Indicators(r.Context(), cid, obs, b.OrgID)
		if err != nil {
			a.Error(w, r, err)
			return
		}
		results = append(results, res)
	}
	if b.IncidentID != 0 {
		res, err := a.Publisher.Incident(r.Context(), cid, b.IncidentID)
		if err != nil {
			a.Error(w, r, err)
			return
		}
		results = append(results, res)
	}
	if len(results) == 0 {
		a.Error(w, r, focal.FieldErrorf("indicators", "give indicators, an incident_id, or both"))
		return
	}
	out := publish.Result{Collection: cid}
	for _, res := range results {
		out.Added += res.Added
		out.Duplicates += res.Duplicates
		out.IDs = append(out.IDs, res.IDs...)
	}
	a.writeJSON(w, http.StatusOK, out)
}
