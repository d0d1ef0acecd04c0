package restapi

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"focal/internal/focal"
	"focal/internal/store"
)

// holdingsBody is a set of networks, AS numbers and domains as the API
// reads and writes it.
type holdingsBody struct {
	Networks []string `json:"networks,omitempty"`
	ASNs     []asn    `json:"asns,omitempty"`
	Domains  []string `json:"domains,omitempty"`
}

func (b holdingsBody) toHoldings(field string) (focal.Holdings, error) {
	h := focal.Holdings{Domains: b.Domains}
	for i, s := range b.Networks {
		p, err := focal.ParsePrefix(s)
		if err != nil {
			return h, focal.FieldErrorf(fmt.Sprintf("%s.networks[%d]", field, i), "%v", err)
		}
		h.Networks = append(h.Networks, p)
	}
	for _, a := range b.ASNs {
		h.ASNs = append(h.ASNs, uint32(a))
	}
	return h, nil
}

func holdingsToBody(h focal.Holdings) holdingsBody {
	b := holdingsBody{Domains: h.Domains}
	for _, p := range h.Networks {
		b.Networks = append(b.Networks, p.String())
	}
	for _, a := range h.ASNs {
		b.ASNs = append(b.ASNs, asn(a))
	}
	return b
}

// changeBody is a change request as the API shows it.
type changeBody struct {
	ID           int64        `json:"id"`
	OrgID        int64        `json:"org_id"`
	Organisation string       `json:"organisation"`
	Add          holdingsBody `json:"add"`
	Remove       holdingsBody `json:"remove"`
	Note         string       `json:"note,omitempty"`
	State        string       `json:"state"`
	Requester    string       `json:"requester"`
	RequestedAt  time.Time    `json:"requested_at"`
	Decider      string       `json:"decider,omitempty"`
	DecidedAt    *time.Time   `json:"decided_at,omitempty"`
	DecisionNote string       `json:"decision_note,omitempty"`
}

func changeToBody(c *focal.ChangeRequest) changeBody {
	b := changeBody{ID: c.ID, OrgID: c.OrgID, Organisation: c.OrgName, Add: holdingsToBody(c.Add), Remove: holdingsToBody(c.Remove),
		Note: c.Note, State: c.State, Requester: c.Requester, RequestedAt: c.RequestedAt, Decider: c.Decider, DecisionNote: c.DecisionNote}
	if !c.DecidedAt.IsZero() {
		b.DecidedAt = &c.DecidedAt
	}
	return b
}

// createChange serves POST /api/v1/organisations/{id}/change-requests: a
// constituent (or a coordinator) asks to add or remove networks, AS
// numbers and domains; a coordinator decides.
func (a *API) createChange(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	var b struct {
		Add    holdingsBody `json:"add"`
		Remove holdingsBody `json:"remove"`
		Note   string       `json:"note"`
	}
	if err := decode(r, &b); err != nil {
		a.Error(w, r, err)
		return
	}
	c := &focal.ChangeRequest{OrgID: id, Note: b.Note}
	if c.Add, err = b.Add.toHoldings("add"); err != nil {
		a.Error(w, r, err)
		return
	}
	if c.Remove, err = b.Remove.toHoldings("remove"); err != nil {
		a.Error(w, r, err)
		return
	}
	if err := a.Store.RequestChange(r.Context(), c); err != nil {
		a.Error(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/change-requests/"+strconv.FormatInt(c.ID, 10))
	a.writeJSON(w, http.StatusCreated, changeToBody(c))
}

// listChanges serves GET /api/v1/change-requests?org=&state=: staff see
// every organisation's, a constituent its own.
func (a *API) listChanges(w http.ResponseWriter, r *http.Request) {
	var f store.ChangeFilter
	q := r.URL.Query()
	if v := q.Get("org"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			a.Error(w, r, focal.FieldErrorf("org", "want an organisation id, got %q", v))
			return
		}
		f.OrgID = n
	}
	switch s := q.Get("state"); s {
	case "", focal.ChangePending, focal.ChangeApproved, focal.ChangeRejected, focal.ChangeWithdrawn:
		f.State = s
	default:
		a.Error(w, r, focal.FieldErrorf("state", "unknown state %q: want pending, approved, rejected or withdrawn", s))
		return
	}
	limit, err := queryInt(r, "limit", 100, 1000)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	f.Limit = limit
	list, err := a.Store.ChangeRequests(r.Context(), f)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	out := struct {
		Items []changeBody `json:"items"`
	}{Items: []changeBody{}}
	for _, c := range list {
		out.Items = append(out.Items, changeToBody(c))
	}
	a.writeJSON(w, http.StatusOK, out)
}

// getChange serves GET /api/v1/change-requests/{id}.
func (a *API) getChange(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	c, err := a.Store.ChangeRequest(r.Context(), id)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	a.writeJSON(w, http.StatusOK, changeToBody(c))
}

// decideChange serves POST /api/v1/change-requests/{id}/approve and
// …/reject: a coordinator's decision, with an optional note; approval
// changes the organisation at once.
func (a *API) decideChange(approve bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, err := pathID(r)
		if err != nil {
			a.Error(w, r, err)
			return
		}
		var b struct {
			Note string `json:"note"`
		}
		if r.ContentLength != 0 {
			if err := decode(r, &b); err != nil {
				a.Error(w, r, err)
				return
			}
		}
		c, err := a.Store.DecideChange(r.Context(), id, approve, b.Note)
		if err != nil {
			a.Error(w, r, err)
			return
		}
		if approve && a.ConstituencyChanged != nil {
			a.ConstituencyChanged()
		}
		a.writeJSON(w, http.StatusOK, changeToBody(c))
	}
}

// withdrawChange serves POST /api/v1/change-requests/{id}/withdraw.
func (a *API) withdrawChange(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	if err := a.Store.WithdrawChange(r.Context(), id); err != nil {
		a.Error(w, r, err)
		return
	}
	c, err := a.Store.ChangeRequest(r.Context(), id)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	a.writeJSON(w, http.StatusOK, changeToBody(c))
}

// putContacts serves PUT /api/v1/organisations/{id}/contacts: the
// organisation's contacts and notification preferences, which its own
// constituents keep (the rest of the organisation is a coordinator's).
func (a *API) putContacts(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	var b struct {
		Contacts []focal.Contact    `json:"contacts"`
		Notify   *focal.NotifyPrefs `json:"notify"`
	}
	if err := decode(r, &b); err != nil {
		a.Error(w, r, err)
		return
	}
	o, err := a.Store.UpdateContacts(r.Context(), id, b.Contacts, b.Notify)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	a.writeJSON(w, http.StatusOK, orgToBody(o))
}
