package restapi

import (
	"net/http"

	"focal/internal/focal"
)

// getProfile serves GET /api/v1/federation/profile and the public
// GET /.well-known/focal-point.json: the team's RFC 2350 profile, which
// peers import into their directory of focal points. Until a coordinator
// sets it, 404.
func (a *API) getProfile(w http.ResponseWriter, r *http.Request) {
	p, err := a.Store.TeamProfile(r.Context())
	if err != nil {
		a.Error(w, r, err)
		return
	}
	a.writeJSON(w, http.StatusOK, p)
}

// putProfile serves PUT /api/v1/federation/profile (coordinators).
func (a *API) putProfile(w http.ResponseWriter, r *http.Request) {
	var p focal.TeamProfile
	if err := decode(r, &p); err != nil {
		a.Error(w, r, err)
		return
	}
	if err := a.Store.SetTeamProfile(r.Context(), &p); err != nil {
		a.Error(w, r, err)
		return
	}
	a.writeJSON(w, http.StatusOK, p)
}
