package restapi

import (
	"focal/internal/csaf"
	"focal/internal/focal"
	"focal/internal/server"
)

// advisoryRoutes returns the API routes of advisories (issue #8). The
// approval, which publishes with the team key, is served by the CSAF
// provider (package csaf/provider) on this API's path
// POST /api/v1/advisories/{id}/approve.
func (a *API) advisoryRoutes() []server.Route {
	const read, create, update = focal.ActionRead, focal.ActionCreate, focal.ActionUpdate
	k := focal.KindAdvisory
	return []server.Route{
		{Method: "GET", Path: "/api/v1/advisories", Kind: k, Action: read, Handler: a.listAdvisories},
		{Method: "POST", Path: "/api/v1/advisories", Kind: k, Action: create, Handler: a.createAdvisory, MaxBody: 4 << 20},
		{Method: "POST", Path: "/api/v1/advisories/import", Kind: k, Action: create, Handler: a.importAdvisory, MaxBody: csaf.MaxDocumentSize},
		{Method: "GET", Path: "/api/v1/advisories/{id}", Kind: k, Action: read, Handler: a.getAdvisory},
		{Method: "PUT", Path: "/api/v1/advisories/{id}", Kind: k, Action: update, Handler: a.updateAdvisory, MaxBody: 4 << 20},
		{Method: "POST", Path: "/api/v1/advisories/{id}/submit", Kind: k, Action: update, Handler: a.submitAdvisory},
		{Method: "POST", Path: "/api/v1/advisories/{id}/revise", Kind: k, Action: update, Handler: a.reviseAdvisory},
		{Method: "GET", Path: "/api/v1/advisories/{id}/csaf", Kind: k, Action: read, Handler: a.advisoryCSAF},
		// The products an organisation runs (its own or, for staff, any):
		// advisories about them are sent to it.
		{Method: "GET", Path: "/api/v1/organisations/{id}/products", Kind: focal.KindContacts, Action: read, Handler: a.orgProducts},
		{Method: "PUT", Path: "/api/v1/organisations/{id}/products", Kind: focal.KindContacts, Action: update, Handler: a.setOrgProducts},
	}
}
