package ui

import "focal/internal/server"

// advisoryRoutes returns the UI routes of advisories and public warnings (issue #8).
func (h *handlers) advisoryRoutes() []server.Route {
	return nil
}
