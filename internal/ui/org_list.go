package ui

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"focal/internal/focal"
	"focal/internal/store"
)

// orgPageSize is how many organisations a list page shows.
const orgPageSize = 25

// orgListPage is the data of the organisation list.
type orgListPage struct {
	base
	Q, Sector, Country string
	Orgs               []*focal.Organisation
	Total              int
	Page, Pages        int
	PrevURL, NextURL   string // "" when there is no such page
	Sectors            []focal.Sector
	MayCreate          bool
}

// orgList serves GET /organisations: the organisations in the caller's
// scope, filtered by name, sector and country, a page at a time. For htmx
// (HX-Request) it renders only the results, which the filter form swaps in
// as the user types.
func (h *handlers) orgList(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	page := orgListPage{
		base: h.base(r, "Organisations"),
		Q:    strings.TrimSpace(q.Get("q")), Sector: q.Get("sector"), Country: strings.TrimSpace(q.Get("country")),
		Page: 1, Sectors: focal.Sectors,
		MayCreate: may(r, focal.ActionCreate, focal.Resource{Kind: focal.KindOrganisation}),
	}
	if n, err := strconv.Atoi(q.Get("page")); err == nil && n > 1 {
		page.Page = min(n, 1<<20)
	}
	orgs, total, err := h.store.Organisations(r.Context(), store.OrgFilter{
		Query: page.Q, Sector: page.Sector, Country: page.Country,
		Limit: orgPageSize, Offset: (page.Page - 1) * orgPageSize,
	})
	if err != nil {
		h.error(w, r, err)
		return
	}
	page.Orgs, page.Total = orgs, total
	page.Pages = max(1, (total+orgPageSize-1)/orgPageSize)
	if page.Page > 1 {
		page.PrevURL = page.url(page.Page - 1)
	}
	if page.Page < page.Pages {
		page.NextURL = page.url(page.Page + 1)
	}
	w.Header().Add("Vary", "HX-Request")
	if r.Header.Get("HX-Request") == "true" && r.Header.Get("HX-History-Restore-Request") != "true" {
		h.renderPartial(w, r, http.StatusOK, "org_list", "results", page)
		return
	}
	h.render(w, r, http.StatusOK, "org_list", page)
}

// url returns the list URL for page n with the current filters.
func (p orgListPage) url(n int) string {
	v := url.Values{}
	for k, s := range map[string]string{"q": p.Q, "sector": p.Sector, "country": p.Country} {
		if s != "" {
			v.Set(k, s)
		}
	}
	if n > 1 {
		v.Set("page", strconv.Itoa(n))
	}
	if len(v) == 0 {
		return "/organisations"
	}
	return "/organisations?" + v.Encode()
}
