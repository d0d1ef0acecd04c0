package restapi

import (
	"encoding/csv"
	"net/http"
	"strconv"
	"time"

	"focal/internal/focal"
	"focal/internal/handling"
)

// incidentMetrics answers GET /api/v1/metrics/incidents?since=&until=&by=
// with handling metrics over incidents reported in the period (default:
// the last 30 days), as JSON or, with format=csv, as CSV.
func (a *API) incidentMetrics(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	now := time.Now().UTC()
	until, since := now, now.AddDate(0, 0, -30)
	var err error
	if v := q.Get("since"); v != "" {
		if since, err = parseDay(v); err != nil {
			a.Error(w, r, focal.FieldErrorf("since", "want a date such as 2026-11-01 or an RFC 3339 time, got %q", v))
			return
		}
	}
	if v := q.Get("until"); v != "" {
		if until, err = parseDay(v); err != nil {
			a.Error(w, r, focal.FieldErrorf("until", "want a date such as 2026-11-30 or an RFC 3339 time, got %q", v))
			return
		}
	}
	if !until.After(since) {
		a.Error(w, r, focal.FieldErrorf("until", "must be after since"))
		return
	}
	by, err := handling.ParseGroupBy(q.Get("by"))
	if err != nil {
		a.Error(w, r, err)
		return
	}
	targets, err := a.Store.SLATargets(r.Context())
	if err != nil {
		a.Error(w, r, err)
		return
	}
	agg := handling.NewAggregator(by, targets, a.calendar(), now)
	err = a.Store.EachIncident(r.Context(), since, until, func(i *focal.Incident) error {
		agg.Add(i)
		return nil
	})
	if err != nil {
		a.Error(w, r, err)
		return
	}
	rep := agg.Report(since, until)
	if q.Get("format") != "csv" {
		a.writeJSON(w, http.StatusOK, rep)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="incident-metrics.csv"`)
	cw := csv.NewWriter(w)
	rows := [][]string{{"group", "incidents", "open", "overdue", "tta_mean_s", "tta_median_s", "tta_p90_s", "ttt_mean_s", "ttt_median_s", "ttt_p90_s", "ttr_mean_s", "ttr_median_s", "ttr_p90_s", "sla_measured", "sla_met", "sla_percent"}}
	f := func(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }
	for _, g := range rep.Groups {
		rows = append(rows, []string{g.Key, strconv.Itoa(g.Incidents), strconv.Itoa(g.Open), strconv.Itoa(g.Overdue),
			f(g.Acknowledge.Mean), f(g.Acknowledge.Median), f(g.Acknowledge.P90),
			f(g.Triage.Mean), f(g.Triage.Median), f(g.Triage.P90),
			f(g.Resolve.Mean), f(g.Resolve.Median), f(g.Resolve.P90),
			strconv.Itoa(g.SLAMeasured), strconv.Itoa(g.SLAMet), f(g.SLAPercent)})
	}
	if err := cw.WriteAll(rows); err != nil {
		a.Logger.Debug("write metrics csv", "err", err)
	}
}

// calendar is the team's working-hours calendar for business-hours SLAs.
func (a *API) calendar() focal.Calendar {
	if a.Calendar != nil {
		return *a.Calendar
	}
	return focal.WeekdayCalendar(time.UTC, 9*time.Hour, 17*time.Hour)
}

func parseDay(v string) (time.Time, error) {
	if t, err := time.Parse("2006-01-02", v); err == nil {
		return t, nil
	}
	return time.Parse(time.RFC3339, v)
}
