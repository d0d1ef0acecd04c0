package restapi

import "focal/internal/server"

// advisoryRoutes returns the API routes of advisories (issue #8).
func (a *API) advisoryRoutes() []server.Route {
	return nil
}
