package ui

import (
	"net/http"
	"strconv"

	"focal/internal/focal"
)

// incidentCreate serves POST /incidents: it stores the new incident, with
// the observables found in its text, and goes to its page, or shows the
// form again with the error.
func (h *handlers) incidentCreate(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	p := focal.PrincipalFromContext(ctx)
	f, err := parseIncidentForm(r)
	if err != nil {
		h.error(w, r, err)
		return
	}
	i, err := f.toIncident(p)
	if err == nil {
		var obs []focal.Observable
		if h.extract != nil {
			obs = h.extract(i.Title + "\n" + i.Description)
		}
		err = h.store.CreateIncident(ctx, i, obs)
	}
	if err != nil {
		fe, ok := incidentFieldError(err)
		if !ok {
			h.error(w, r, err)
			return
		}
		page, perr := h.newIncidentFormPage(r, f)
		if perr != nil {
			h.error(w, r, perr)
			return
		}
		page.Err = fe
		h.render(w, r, http.StatusBadRequest, "incident_form", page)
		return
	}
	// A restricted category the author may not read back: go to the list.
	if i.Restricted() && !p.RestrictedAccess {
		redirect(w, r, withNotice("/incidents", "created"))
		return
	}
	redirect(w, r, withNotice("/incidents/"+strconv.FormatInt(i.ID, 10), "created"))
}
