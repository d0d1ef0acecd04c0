package ui

import "focal/internal/server"

// assessRoutes returns the UI routes of readiness assessments (issue #9).
func (h *handlers) assessRoutes() []server.Route {
	return nil
}
