package ui

import (
	"net/http"
	"slices"
	"strconv"
	"time"

	"focal/internal/focal"
)

// slaForceRow is one SLA target in force.
type slaForceRow struct {
	Who           string // an organisation, or "Everyone"
	Severity      focal.Severity
	Acknowledge   string
	Triage        string
	Resolve       string
	BusinessHours bool
	Default       bool // a built-in default: no target is configured for everyone at this severity
}

// slaRow is one row of the SLA targets form, as typed.
type slaRow struct {
	N             int    // the row's index in the form
	Org           string // an organisation id, or "0" for everyone
	Severity      string
	Acknowledge   string // minutes
	Triage        string
	Resolve       string
	BusinessHours bool
}

// slaPage is the data of the SLA targets page.
type slaPage struct {
	base
	formError
	InForce    []slaForceRow
	MayEdit    bool
	Rows       []slaRow
	Orgs       []orgOption
	Severities []focal.Severity
}

// slaTargets serves GET /sla: the SLA targets in force, the built-in
// defaults marked, and for coordinators the form that edits them.
func (h *handlers) slaTargets(w http.ResponseWriter, r *http.Request) {
	targets, err := h.store.SLATargets(r.Context())
	if err != nil {
		h.error(w, r, err)
		return
	}
	var rows []slaRow
	for n, t := range targets {
		rows = append(rows, slaRow{
			N: n, Org: strconv.FormatInt(t.OrgID, 10), Severity: string(t.Severity), Acknowledge: minutes(t.Acknowledge),
			Triage: minutes(t.Triage), Resolve: minutes(t.Resolve), BusinessHours: t.BusinessHours,
		})
	}
	h.showSLA(w, r, http.StatusOK, targets, rows, nil)
}

// showSLA renders the SLA page with the targets in force and the form's
// rows; fe is the error of a rejected form.
func (h *handlers) showSLA(w http.ResponseWriter, r *http.Request, status int, targets []focal.SLATarget, rows []slaRow, fe *fieldError) {
	orgs, names, err := h.orgNames(r.Context())
	if err != nil {
		h.error(w, r, err)
		return
	}
	page := slaPage{
		base: h.base(r, "SLA targets"), MayEdit: may(r, focal.ActionUpdate, focal.Resource{Kind: focal.KindUser}),
		Rows: rows, Orgs: orgs, Severities: focal.Severities,
	}
	page.Err = fe
	for _, t := range targets {
		who := "Everyone"
		if t.OrgID != 0 {
			who = orgName(names, t.OrgID)
		}
		page.InForce = append(page.InForce, slaForceRow{
			Who: who, Severity: t.Severity, Acknowledge: targetLabel(t.Acknowledge), Triage: targetLabel(t.Triage),
			Resolve: targetLabel(t.Resolve), BusinessHours: t.BusinessHours,
		})
	}
	for _, d := range focal.DefaultSLATargets {
		if slices.ContainsFunc(targets, func(t focal.SLATarget) bool { return t.OrgID == 0 && t.Severity == d.Severity }) {
			continue
		}
		page.InForce = append(page.InForce, slaForceRow{
			Who: "Everyone", Severity: d.Severity, Acknowledge: targetLabel(d.Acknowledge), Triage: targetLabel(d.Triage),
			Resolve: targetLabel(d.Resolve), BusinessHours: d.BusinessHours, Default: true,
		})
	}
	h.render(w, r, status, "sla_targets", page)
}

// minutes shows a target in whole minutes for the form; "" for none.
func minutes(d time.Duration) string {
	if d <= 0 {
		return ""
	}
	return strconv.FormatInt(int64(d/time.Minute), 10)
}

// targetLabel shows a target in words; "none" for no target.
func targetLabel(d time.Duration) string {
	if d <= 0 {
		return "none"
	}
	return humanDuration(d)
}
