package ui

import (
	"focal/internal/focal"
	"focal/internal/server"
)

// advisoryRoutes returns the UI routes of advisories and public warnings
// (issue #8). Approval (POST /advisories/{id}/approve), which publishes
// with the team key, is served by the CSAF provider (package
// csaf/provider); its refusals come back here as ?error=….
func (h *handlers) advisoryRoutes() []server.Route {
	const read, create, update = focal.ActionRead, focal.ActionCreate, focal.ActionUpdate
	k := focal.KindAdvisory
	return []server.Route{
		{Method: "GET", Path: "/advisories", Kind: k, Action: read, Handler: h.advisoryList},
		{Method: "GET", Path: "/advisories/new", Kind: k, Action: create, Handler: h.advisoryNew},
		{Method: "POST", Path: "/advisories", Kind: k, Action: create, Handler: h.advisoryCreate, MaxBody: 4 << 20},
		{Method: "GET", Path: "/advisories/import", Kind: k, Action: create, Handler: h.advisoryImportForm},
		{Method: "POST", Path: "/advisories/import", Kind: k, Action: create, Handler: h.advisoryImport, MaxBody: 16 << 20},
		{Method: "GET", Path: "/advisories/cvss", Kind: k, Action: read, Handler: h.advisoryCVSS},
		{Method: "GET", Path: "/advisories/{id}", Kind: k, Action: read, Handler: h.advisoryDetail},
		{Method: "GET", Path: "/advisories/{id}/edit", Kind: k, Action: update, Handler: h.advisoryEdit},
		{Method: "POST", Path: "/advisories/{id}", Kind: k, Action: update, Handler: h.advisoryUpdate, MaxBody: 4 << 20},
		{Method: "POST", Path: "/advisories/{id}/submit", Kind: k, Action: update, Handler: h.advisorySubmit},
		{Method: "POST", Path: "/advisories/{id}/revise", Kind: k, Action: update, Handler: h.advisoryRevise},
		{Method: "GET", Path: "/warnings", Kind: focal.KindPublic, Action: read, Handler: h.warnings},
		{Method: "GET", Path: "/warnings/feed.atom", Kind: focal.KindPublic, Action: read, Handler: h.warningsFeed},
		{Method: "GET", Path: "/warnings/{name}", Kind: focal.KindPublic, Action: read, Handler: h.warningDetail},
	}
}
