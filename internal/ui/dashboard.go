package ui

import (
	"net/http"

	"focal/internal/focal"
	"focal/internal/store"
)

// dashboardPage is the data of the home page.
type dashboardPage struct {
	base
	OrgID         int64 // a constituent's organisation, with its name
	OrgName       string
	Organisations int  // organisations in the caller's scope
	CountOrgs     bool // whether the caller may list organisations at all
}

// dashboard serves GET /: a greeting and placeholders for what later
// issues add (incidents, events).
func (h *handlers) dashboard(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	p := focal.PrincipalFromContext(ctx)
	page := dashboardPage{base: h.base(r, "Dashboard")}
	if p.OrgID != 0 {
		u, err := h.store.User(ctx, p.UserID)
		if err != nil {
			h.error(w, r, err)
			return
		}
		page.OrgID, page.OrgName = u.OrgID, u.OrgName
	}
	if may(r, focal.ActionRead, focal.Resource{Kind: focal.KindOrganisation}) {
		_, total, err := h.store.Organisations(ctx, store.OrgFilter{Limit: 1})
		if err != nil {
			h.error(w, r, err)
			return
		}
		page.CountOrgs, page.Organisations = true, total
	}
	h.render(w, r, http.StatusOK, "dashboard", page)
}
