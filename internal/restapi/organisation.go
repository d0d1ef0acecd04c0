package restapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/netip"
	"strconv"
	"time"

	"focal/internal/focal"
	"focal/internal/store"
)

// asn is an AS number in JSON: 64496 or "AS64496".
type asn uint32

func (a *asn) UnmarshalJSON(b []byte) error {
	var n uint32
	if err := json.Unmarshal(b, &n); err == nil {
		*a = asn(n)
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return focal.FieldErrorf("asns", "want an AS number such as 64496 or \"AS64496\", got %s", b)
	}
	n, err := focal.ParseASN(s)
	if err != nil {
		return focal.FieldErrorf("asns", "%v", err)
	}
	*a = asn(n)
	return nil
}

// orgBody is an organisation as the API reads and writes it.
type orgBody struct {
	ID            int64             `json:"id,omitempty"`
	Name          string            `json:"name"`
	Sector        string            `json:"sector"`
	CriticalInfra *bool             `json:"critical_infra,omitempty"`
	Country       string            `json:"country"`
	Networks      []string          `json:"networks"`
	ASNs          []asn             `json:"asns"`
	Domains       []string          `json:"domains"`
	Contacts      []focal.Contact   `json:"contacts"`
	Notify        focal.NotifyPrefs `json:"notify"`
	CreatedAt     *time.Time        `json:"created_at,omitempty"`
	UpdatedAt     *time.Time        `json:"updated_at,omitempty"`
}

func orgToBody(o *focal.Organisation) orgBody {
	b := orgBody{ID: o.ID, Name: o.Name, Sector: o.Sector, CriticalInfra: &o.CriticalInfra, Country: o.Country,
		Networks: []string{}, ASNs: []asn{}, Domains: o.Domains, Contacts: o.Contacts, Notify: o.Notify,
		CreatedAt: &o.CreatedAt, UpdatedAt: &o.UpdatedAt}
	for _, p := range o.Networks {
		b.Networks = append(b.Networks, p.String())
	}
	for _, a := range o.ASNs {
		b.ASNs = append(b.ASNs, asn(a))
	}
	if b.Domains == nil {
		b.Domains = []string{}
	}
	if b.Contacts == nil {
		b.Contacts = []focal.Contact{}
	}
	return b
}

// toOrg converts a request body, reporting the first bad network by index.
func (b orgBody) toOrg() (*focal.Organisation, error) {
	o := &focal.Organisation{Name: b.Name, Sector: b.Sector, Country: b.Country, Domains: b.Domains, Contacts: b.Contacts, Notify: b.Notify}
	for i, s := range b.Networks {
		p, err := focal.ParsePrefix(s)
		if err != nil {
			return nil, focal.FieldErrorf(fmt.Sprintf("networks[%d]", i), "%v", err)
		}
		o.Networks = append(o.Networks, p)
	}
	for _, a := range b.ASNs {
		o.ASNs = append(o.ASNs, uint32(a))
	}
	if b.CriticalInfra != nil {
		o.CriticalInfra = *b.CriticalInfra
	} else if sec, ok := focal.LookupSector(b.Sector); ok {
		o.CriticalInfra = sec.Critical
	}
	return o, nil
}

func (a *API) listOrganisations(w http.ResponseWriter, r *http.Request) {
	limit, err := queryInt(r, "limit", 50, 1000)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	offset, err := queryInt(r, "offset", 0, 1<<30)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	q := r.URL.Query()
	orgs, total, err := a.Store.Organisations(r.Context(), store.OrgFilter{Query: q.Get("q"), Sector: q.Get("sector"), Country: q.Get("country"), Limit: limit, Offset: offset})
	if err != nil {
		a.Error(w, r, err)
		return
	}
	out := list[orgBody]{Items: []orgBody{}, Total: total, Limit: limit, Offset: offset}
	for _, o := range orgs {
		b := orgToBody(o)
		b.Contacts = nil // personal data: only on the organisation's own page
		out.Items = append(out.Items, b)
	}
	a.writeJSON(w, http.StatusOK, out)
}

func (a *API) getOrganisation(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	o, err := a.Store.Organisation(r.Context(), id)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	// Contacts are personal data: their disclosure is audited.
	if len(o.Contacts) > 0 {
		if err := a.Store.Audit(r.Context(), "view", "organisation", strconv.FormatInt(id, 10), map[string]any{"contacts": len(o.Contacts), "via": "api"}); err != nil {
			a.Error(w, r, err)
			return
		}
	}
	a.writeJSON(w, http.StatusOK, orgToBody(o))
}

func (a *API) createOrganisation(w http.ResponseWriter, r *http.Request) {
	var b orgBody
	if err := decode(r, &b); err != nil {
		a.Error(w, r, err)
		return
	}
	o, err := b.toOrg()
	if err == nil {
		err = a.Store.CreateOrganisation(r.Context(), o)
	}
	if err != nil {
		a.Error(w, r, err)
		return
	}
	a.changed()
	w.Header().Set("Location", "/api/v1/organisations/"+strconv.FormatInt(o.ID, 10))
	a.writeJSON(w, http.StatusCreated, orgToBody(o))
}

func (a *API) updateOrganisation(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	var b orgBody
	if err := decode(r, &b); err != nil {
		a.Error(w, r, err)
		return
	}
	if b.ID != 0 && b.ID != id {
		a.Error(w, r, focal.FieldErrorf("id", "does not match the URL (%d)", id))
		return
	}
	o, err := b.toOrg()
	if err == nil {
		o.ID = id
		err = a.Store.UpdateOrganisation(r.Context(), o)
	}
	if err != nil {
		a.Error(w, r, err)
		return
	}
	a.changed()
	a.writeJSON(w, http.StatusOK, orgToBody(o))
}

func (a *API) deleteOrganisation(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err == nil {
		err = a.Store.DeleteOrganisation(r.Context(), id)
	}
	if err != nil {
		a.Error(w, r, err)
		return
	}
	a.changed()
	w.WriteHeader(http.StatusNoContent)
}

func (a *API) changed() {
	if a.ConstituencyChanged != nil {
		a.ConstituencyChanged()
	}
}

// lookupOrg is an organisation in a lookup answer.
type lookupOrg struct {
	ID      int64  `json:"id"`
	Name    string `json:"name"`
	Sector  string `json:"sector"`
	Country string `json:"country"`
}

func (a *API) lookup(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	t := a.Lookup()
	var ids []int64
	var by, value string
	switch {
	case q.Get("ip") != "":
		by, value = "ip", q.Get("ip")
		addr, err := netip.ParseAddr(value)
		if err != nil {
			a.Error(w, r, focal.FieldErrorf("ip", "not an IP address: %q", value))
			return
		}
		ids = t.IP(addr)
	case q.Get("asn") != "":
		by, value = "asn", q.Get("asn")
		n, err := focal.ParseASN(value)
		if err != nil {
			a.Error(w, r, focal.FieldErrorf("asn", "%v", err))
			return
		}
		ids = t.ASN(n)
	case q.Get("domain") != "":
		by, value = "domain", q.Get("domain")
		ids = t.Domain(value)
	case q.Get("url") != "":
		by, value = "url", q.Get("url")
		ids = t.URL(value)
	default:
		a.Error(w, r, focal.Errorf(focal.EINVALID, "give one of ip, asn, domain or url"))
		return
	}
	out := struct {
		By            string      `json:"by"`
		Value         string      `json:"value"`
		Organisations []lookupOrg `json:"organisations"`
	}{By: by, Value: value, Organisations: []lookupOrg{}}
	for _, id := range ids {
		o, err := a.Store.Organisation(r.Context(), id)
		if focal.ErrorCode(err) == focal.ENOTFOUND {
			continue // deleted since the table was built
		}
		if err != nil {
			a.Error(w, r, err)
			return
		}
		out.Organisations = append(out.Organisations, lookupOrg{ID: o.ID, Name: o.Name, Sector: o.Sector, Country: o.Country})
	}
	a.writeJSON(w, http.StatusOK, out)
}

func (a *API) overlaps(w http.ResponseWriter, r *http.Request) {
	type overlap struct {
		Prefix      string `json:"prefix"`
		OrgA        int64  `json:"org_a"`
		OrgB        int64  `json:"org_b"`
		OtherPrefix string `json:"other_prefix"`
	}
	out := []overlap{}
	for _, o := range a.Lookup().Overlaps() {
		out = append(out, overlap{Prefix: o.Prefix.String(), OrgA: o.OrgA, OrgB: o.OrgB, OtherPrefix: o.OtherPrefix.String()})
	}
	a.writeJSON(w, http.StatusOK, map[string]any{"overlaps": out})
}
