package ui

import (
	"context"
	"net/http"
	"net/url"

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
	// Open incidents in the caller's scope, by status, and how many of
	// them are overdue; CountIncidents says whether the caller may read
	// incidents, IncidentsMore that there were more than could be counted.
	CountIncidents bool
	IncidentCounts []statusCount
	Overdue        int
	IncidentsMore  bool
}

// statusCount is how many open incidents have one status.
type statusCount struct {
	Label string
	Count int
	URL   string
}

// dashboard serves GET /: a greeting, the organisations and the open
// incidents in the caller's scope, and a placeholder for events.
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
	if may(r, focal.ActionRead, focal.Resource{Kind: focal.KindIncident}) {
		if err := h.countIncidents(ctx, &page); err != nil {
			h.error(w, r, err)
			return
		}
	}
	h.render(w, r, http.StatusOK, "dashboard", page)
}

// dashboardCountCap bounds each status count on the dashboard, and
// overdueScan how many of the oldest open incidents are checked for a
// missed SLA: both keep the home page fast on a million incidents.
const (
	dashboardCountCap = 10_000
	overdueScan       = 500
)

// countIncidents counts the open incidents in the caller's scope by status
// (each count capped) and the overdue ones among the oldest open ones.
func (h *handlers) countIncidents(ctx context.Context, page *dashboardPage) error {
	clock, err := h.slaClock(ctx)
	if err != nil {
		return err
	}
	var open []focal.Status
	total := 0
	for _, s := range focal.Statuses {
		if !s.Open() {
			continue
		}
		open = append(open, s)
		n, capped, err := h.store.CountIncidents(ctx, store.IncidentFilter{Status: []focal.Status{s}}, dashboardCountCap)
		if err != nil {
			return err
		}
		total += n
		page.IncidentsMore = page.IncidentsMore || capped
		page.IncidentCounts = append(page.IncidentCounts, statusCount{Label: statusLabel(s), Count: n, URL: "/incidents?" + url.Values{"status": {string(s)}}.Encode()})
	}
	oldest, err := h.store.Incidents(ctx, store.IncidentFilter{Status: open, Oldest: true, Limit: overdueScan})
	if err != nil {
		return err
	}
	for _, i := range oldest {
		if clock.summary(i).Overdue {
			page.Overdue++
		}
	}
	page.CountIncidents = true
	page.IncidentsMore = page.IncidentsMore || total > overdueScan
	return nil
}
