package restapi

import (
	"net/http"
	"strconv"
	"time"

	"focal/internal/focal"
	"focal/internal/lookup"
	"focal/internal/preview"
)

// eventRecipients serves GET /api/v1/events/{id}/recipients: who will
// receive this event and why — the organisations whose networks, AS
// numbers or domains it matches now, each with its notification policy's
// decision. Staff only: it names organisations and their contacts.
func (a *API) eventRecipients(w http.ResponseWriter, r *http.Request) {
	if _, all := focal.OrgScope(focal.PrincipalFromContext(r.Context())); !all {
		a.Error(w, r, focal.Errorf(focal.EFORBIDDEN, "who receives an event is for the team's staff"))
		return
	}
	id, err := pathID(r)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	e, err := a.Store.Event(r.Context(), id)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	out, err := preview.Event(r.Context(), a.Store, a.lookupTable(), e)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	a.writeJSON(w, http.StatusOK, struct {
		EventID    int64               `json:"event_id"`
		Recipients []preview.Recipient `json:"recipients"`
	}{e.ID, out})
}

// lookupTable returns the current constituency table, nil when there is none.
func (a *API) lookupTable() *lookup.Table {
	if a.Lookup == nil {
		return nil
	}
	return a.Lookup()
}

// feedRecipients serves GET /api/v1/feeds/{id}/recipients: who receives
// this feed's events — the organisations with events of it in the last
// `days` days (default 30), how many, and what each one's notification
// policy decides for the newest (notify or not, why, channel, schedule,
// recipients).
func (a *API) feedRecipients(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	fd, err := a.Store.Feed(r.Context(), id)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	days := 30
	if v := r.URL.Query().Get("days"); v != "" {
		if n, err := strconv.Atoi(v); err != nil || n < 1 || n > 365 {
			a.Error(w, r, focal.FieldErrorf("days", "want 1 to 365, got %q", v))
			return
		} else {
			days = n
		}
	}
	out, err := preview.Feed(r.Context(), a.Store, a.lookupTable(), fd.ID, time.Now().AddDate(0, 0, -days))
	if err != nil {
		a.Error(w, r, err)
		return
	}
	a.writeJSON(w, http.StatusOK, struct {
		Feed       string                  `json:"feed"`
		Days       int                     `json:"days"`
		Recipients []preview.FeedRecipient `json:"recipients"`
	}{fd.Name, days, out})
}

// incidentRecipients serves GET /api/v1/incidents/{id}/recipients: the
// organisations the incident concerns — its affected organisation, and
// those owning its observables — with why, whether the incident shows in
// their portal (the affected organisation, unless TLP:RED), and their
// contacts. Staff only.
func (a *API) incidentRecipients(w http.ResponseWriter, r *http.Request) {
	if _, all := focal.OrgScope(focal.PrincipalFromContext(r.Context())); !all {
		a.Error(w, r, focal.Errorf(focal.EFORBIDDEN, "who an incident concerns is for the team's staff"))
		return
	}
	id, err := pathID(r)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	inc, err := a.Store.Incident(r.Context(), id)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	out, err := preview.Incident(r.Context(), a.Store, a.lookupTable(), inc)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	a.writeJSON(w, http.StatusOK, struct {
		IncidentID int64                       `json:"incident_id"`
		Ref        string                      `json:"ref"`
		Recipients []preview.IncidentRecipient `json:"recipients"`
	}{inc.ID, inc.Ref, out})
}
