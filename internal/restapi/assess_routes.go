package restapi

import "focal/internal/server"

// assessRoutes returns the API routes of readiness assessments (issue #9).
func (a *API) assessRoutes() []server.Route {
	return nil
}
