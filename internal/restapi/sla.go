package restapi

import (
	"net/http"
	"time"

	"focal/internal/focal"
)

// slaTargetBody is an SLA target in the API, durations in minutes.
type slaTargetBody struct {
	OrgID          int64  `json:"org_id,omitempty"`
	Severity       string `json:"severity"`
	AcknowledgeMin int64  `json:"acknowledge_minutes"`
	TriageMin      int64  `json:"triage_minutes"`
	ResolveMin     int64  `json:"resolve_minutes"`
	BusinessHours  bool   `json:"business_hours"`
}

func (a *API) getSLATargets(w http.ResponseWriter, r *http.Request) {
	targets, err := a.Store.SLATargets(r.Context())
	if err != nil {
		a.Error(w, r, err)
		return
	}
	configured := len(targets) > 0
	if !configured {
		targets = focal.DefaultSLATargets
	}
	out := []slaTargetBody{}
	for _, t := range targets {
		out = append(out, slaTargetBody{OrgID: t.OrgID, Severity: string(t.Severity), AcknowledgeMin: int64(t.Acknowledge / time.Minute),
			TriageMin: int64(t.Triage / time.Minute), ResolveMin: int64(t.Resolve / time.Minute), BusinessHours: t.BusinessHours})
	}
	a.writeJSON(w, http.StatusOK, map[string]any{"targets": out, "built_in_defaults": !configured})
}

func (a *API) putSLATargets(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Targets []slaTargetBody `json:"targets"`
	}
	if err := decode(r, &in); err != nil {
		a.Error(w, r, err)
		return
	}
	var targets []focal.SLATarget
	for _, b := range in.Targets {
		targets = append(targets, focal.SLATarget{OrgID: b.OrgID, Severity: focal.Severity(b.Severity), Acknowledge: time.Duration(b.AcknowledgeMin) * time.Minute,
			Triage: time.Duration(b.TriageMin) * time.Minute, Resolve: time.Duration(b.ResolveMin) * time.Minute, BusinessHours: b.BusinessHours})
	}
	if err := a.Store.SetSLATargets(r.Context(), targets); err != nil {
		a.Error(w, r, err)
		return
	}
	a.getSLATargets(w, r)
}
