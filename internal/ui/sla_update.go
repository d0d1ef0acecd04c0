package ui

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"focal/internal/focal"
)

// maxSLARows bounds the rows of the SLA targets form.
const maxSLARows = 200

// slaUpdate serves POST /sla: the SLA targets form. The "add" button
// shows the form again with an empty row (no JavaScript needed); saving
// replaces every configured target with the rows not marked for removal
// and not left blank. No rows at all returns to the built-in defaults.
func (h *handlers) slaUpdate(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if err := parseForm(r); err != nil {
		h.error(w, r, err)
		return
	}
	rows, removed, err := parseSLARows(r)
	if err != nil {
		h.error(w, r, err)
		return
	}
	current, err := h.store.SLATargets(ctx)
	if err != nil {
		h.error(w, r, err)
		return
	}
	if r.PostForm.Has("add") {
		rows = append(rows, slaRow{N: len(rows) + len(removed), Org: "0"})
		h.showSLA(w, r, http.StatusOK, current, renumber(rows), nil)
		return
	}
	targets, err := slaTargetsOf(rows)
	if err == nil {
		err = h.store.SetSLATargets(ctx, targets)
	}
	if err != nil {
		var e *focal.Error
		if !errors.As(err, &e) || e.Code != focal.EINVALID {
			h.error(w, r, err)
			return
		}
		fe := &fieldError{Field: e.Field, Label: "Targets", Message: e.Message}
		if strings.HasPrefix(fe.Field, "targets") {
			fe.Field = "" // the store's index counts saved rows only
		}
		h.showSLA(w, r, http.StatusBadRequest, current, renumber(rows), fe)
		return
	}
	redirect(w, r, withNotice("/sla", "saved"))
}

// parseSLARows reads the form's rows, leaving out those marked for
// removal (returned apart) and those left blank.
func parseSLARows(r *http.Request) (rows, removed []slaRow, err error) {
	n, err := strconv.Atoi(r.PostForm.Get("rows"))
	if err != nil || n < 0 || n > maxSLARows {
		return nil, nil, focal.FieldErrorf("rows", "malformed form")
	}
	for i := range n {
		f := func(name string) string { return formValue(r, fmt.Sprintf("%s.%d", name, i)) }
		row := slaRow{
			N: i, Org: f("org"), Severity: f("severity"), Acknowledge: f("ack"), Triage: f("triage"), Resolve: f("resolve"),
			BusinessHours: f("bh") != "",
		}
		switch {
		case f("remove") != "":
			removed = append(removed, row)
		case row.Severity == "" && row.Acknowledge == "" && row.Triage == "" && row.Resolve == "":
		default:
			rows = append(rows, row)
		}
	}
	return rows, removed, nil
}

// renumber gives rows consecutive indices, as the form shows them again.
func renumber(rows []slaRow) []slaRow {
	for n := range rows {
		rows[n].N = n
	}
	return rows
}

// slaTargetsOf checks the typed rows and returns them as targets; an
// error names the row by its number as shown (from 1).
func slaTargetsOf(rows []slaRow) ([]focal.SLATarget, error) {
	targets := []focal.SLATarget{}
	for n, row := range rows {
		t := focal.SLATarget{BusinessHours: row.BusinessHours}
		org, err := strconv.ParseInt(row.Org, 10, 64)
		if err != nil && row.Org != "" || org < 0 {
			return nil, focal.FieldErrorf(fmt.Sprintf("org.%d", n), "row %d: choose an organisation from the list", n+1)
		}
		t.OrgID = org
		sev, err := focal.ParseSeverity(row.Severity)
		if err != nil {
			return nil, focal.FieldErrorf(fmt.Sprintf("severity.%d", n), "row %d: choose a severity from the list", n+1)
		}
		t.Severity = sev
		for _, m := range []struct {
			name, v string
			dst     *time.Duration
		}{{"ack", row.Acknowledge, &t.Acknowledge}, {"triage", row.Triage, &t.Triage}, {"resolve", row.Resolve, &t.Resolve}} {
			if m.v == "" {
				continue
			}
			min, err := strconv.ParseInt(m.v, 10, 64)
			if err != nil || min < 0 || min > 525_600 {
				return nil, focal.FieldErrorf(fmt.Sprintf("%s.%d", m.name, n), "row %d: write whole minutes, from 0 to 525,600 (a year), or leave it empty for no target", n+1)
			}
			*m.dst = time.Duration(min) * time.Minute
		}
		targets = append(targets, t)
	}
	return targets, nil
}
