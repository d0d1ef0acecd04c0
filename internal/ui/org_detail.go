package ui

import (
	"net/http"
	"strconv"

	"focal/internal/focal"
)

// orgDetailPage is the data of an organisation's page.
type orgDetailPage struct {
	base
	Org       *focal.Organisation
	Networks  []networkRow
	MayUpdate bool
	MayDelete bool
	// MayContacts: the caller keeps the contacts and notification policy
	// (a coordinator, or the organisation's own constituent).
	MayContacts bool
	Changes     changeSection
	Products    productsSection
}

// networkRow is one of the organisation's networks with the other
// organisations' networks it overlaps, if any.
type networkRow struct {
	Prefix   string
	Overlaps []overlapRow
}

// overlapRow is a network of this organisation that overlaps another's.
type overlapRow struct {
	Network      string // this organisation's network
	OtherNetwork string // the other organisation's
	OtherID      int64
	OtherName    string
}

// orgDetail serves GET /organisations/{id}: the organisation with its
// networks, AS numbers, domains and contacts. Contacts are personal data,
// so showing them is audited. Staff also see where its networks overlap
// another organisation's (constituents never: that would reveal who owns
// other networks).
func (h *handlers) orgDetail(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		h.error(w, r, err)
		return
	}
	h.orgDetailWith(w, r, id, http.StatusOK, nil)
}

// orgDetailWithProducts renders organisation id's page after a refused
// products form, shown again with its error.
func (h *handlers) orgDetailWithProducts(w http.ResponseWriter, r *http.Request, id int64, posted *productsSection) {
	h.orgDetailPage(w, r, id, http.StatusBadRequest, nil, posted)
}

// orgDetailWith renders organisation id's page with status; posted, when
// not nil, is a refused change request to show again.
func (h *handlers) orgDetailWith(w http.ResponseWriter, r *http.Request, id int64, status int, posted *changeSection) {
	h.orgDetailPage(w, r, id, status, posted, nil)
}

func (h *handlers) orgDetailPage(w http.ResponseWriter, r *http.Request, id int64, status int, posted *changeSection, products *productsSection) {
	ctx := r.Context()
	o, err := h.store.Organisation(ctx, id)
	if err != nil {
		h.error(w, r, err)
		return
	}
	if len(o.Contacts) > 0 {
		if err := h.store.Audit(ctx, "view", "organisation", strconv.FormatInt(id, 10), map[string]any{"contacts": len(o.Contacts), "via": "ui"}); err != nil {
			h.error(w, r, err)
			return
		}
	}
	page := orgDetailPage{
		base:        h.base(r, o.Name),
		Org:         o,
		MayUpdate:   may(r, focal.ActionUpdate, focal.Resource{Kind: focal.KindOrganisation, OrgID: id}),
		MayDelete:   may(r, focal.ActionDelete, focal.Resource{Kind: focal.KindOrganisation, OrgID: id}),
		MayContacts: may(r, focal.ActionUpdate, focal.Resource{Kind: focal.KindContacts, Object: true, OrgID: id}),
	}
	if page.Changes, err = h.changeSectionFor(r, id); err != nil {
		h.error(w, r, err)
		return
	}
	if posted != nil {
		page.Changes.Add, page.Changes.Remove, page.Changes.Note, page.Changes.Error = posted.Add, posted.Remove, posted.Note, posted.Error
	}
	if page.Products, err = h.productsSectionFor(r, id); err != nil {
		h.error(w, r, err)
		return
	}
	if products != nil {
		page.Products.Text, page.Products.Error = products.Text, products.Error
	}
	var overlaps []overlapRow
	if may(r, focal.ActionRead, focal.Resource{Kind: focal.KindLookup}) {
		if overlaps, err = h.overlaps(r, id); err != nil {
			h.error(w, r, err)
			return
		}
	}
	for _, p := range o.Networks {
		row := networkRow{Prefix: p.String()}
		for _, ov := range overlaps {
			if ov.Network == row.Prefix {
				row.Overlaps = append(row.Overlaps, ov)
			}
		}
		page.Networks = append(page.Networks, row)
	}
	h.render(w, r, status, "org_detail", page)
}

// overlaps lists the claims of organisation id that overlap another
// organisation's, from the current lookup table.
func (h *handlers) overlaps(r *http.Request, id int64) ([]overlapRow, error) {
	var out []overlapRow
	names := map[int64]string{}
	for _, ov := range h.lookup().Overlaps() {
		row := overlapRow{}
		switch id {
		case ov.OrgA:
			row = overlapRow{Network: ov.Prefix.String(), OtherNetwork: ov.OtherPrefix.String(), OtherID: ov.OrgB}
		case ov.OrgB:
			row = overlapRow{Network: ov.OtherPrefix.String(), OtherNetwork: ov.Prefix.String(), OtherID: ov.OrgA}
		default:
			continue
		}
		name, ok := names[row.OtherID]
		if !ok {
			other, err := h.store.Organisation(r.Context(), row.OtherID)
			switch {
			case err == nil:
				name = other.Name
			case focal.ErrorCode(err) == focal.ENOTFOUND:
				name = "organisation " + strconv.FormatInt(row.OtherID, 10) + " (deleted)"
			default:
				return nil, err
			}
			names[row.OtherID] = name
		}
		row.OtherName = name
		out = append(out, row)
	}
	return out, nil
}
