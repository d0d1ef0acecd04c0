package ui

import (
	"net/http"

	"focal/internal/focal"
)

// incidentNew serves GET /incidents/new: the form to record an incident
// reported by phone, e-mail or a peer.
func (h *handlers) incidentNew(w http.ResponseWriter, r *http.Request) {
	page, err := h.newIncidentFormPage(r, incidentForm{Severity: string(focal.SeverityMedium), TLP: string(focal.TLPAmber), PAP: string(focal.PAPAmber), Channel: "email"})
	if err != nil {
		h.error(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, "incident_form", page)
}
