package ui

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"
	"unicode/utf8"

	"focal/internal/focal"
	"focal/internal/handling"
)

// The metrics chart's geometry, in SVG user units.
const (
	chartLabelWidth = 220
	chartBarWidth   = 400
	chartRowHeight  = 26
	chartBarHeight  = 18
)

// statCells is one duration statistic, humanised.
type statCells struct {
	Mean, Median, P90 string
}

// metricsRow is one group of the metrics table.
type metricsRow struct {
	Name                     string
	Incidents, Open, Overdue int
	TTA, TTT, TTR            statCells
	SLA                      string // "93.5%", or "–" when nothing was measured
}

// chartBar is one bar of the SLA compliance chart.
type chartBar struct {
	Label        string
	Y, TextY     int
	Width, Value int // bar width, and where the value is written
	Percent      string
	Class        string
}

// groupOption is a choice of grouping.
type groupOption struct {
	Value, Label string
}

// metricsPage is the data of the handling metrics page.
type metricsPage struct {
	base
	Since, Until string // the period, as dates; until is inclusive
	By           string
	Groupings    []groupOption
	Rows         []metricsRow
	Bars         []chartBar
	ChartHeight  int
	ChartWidth   int
	BarX         int
	CSVURL       string
	MayCreate    bool
}

// incidentMetrics serves GET /incidents/metrics?since=&until=&by=: time
// to acknowledge, triage and resolve and SLA compliance over incidents
// reported in the period (default: the last 30 days), grouped, with a
// chart of SLA compliance per group and a link to the same as CSV.
func (h *handlers) incidentMetrics(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	q := r.URL.Query()
	today := time.Now().UTC().Truncate(24 * time.Hour)
	until, since := today, today.AddDate(0, 0, -30)
	var err error
	if v := q.Get("until"); v != "" {
		if until, err = time.Parse(time.DateOnly, v); err != nil {
			h.error(w, r, focal.FieldErrorf("until", "want a date such as 2026-11-30, got %q", v))
			return
		}
	}
	if v := q.Get("since"); v != "" {
		if since, err = time.Parse(time.DateOnly, v); err != nil {
			h.error(w, r, focal.FieldErrorf("since", "want a date such as 2026-11-01, got %q", v))
			return
		}
	}
	if until.Before(since) {
		h.error(w, r, focal.FieldErrorf("until", "the period ends before it starts"))
		return
	}
	by, err := handling.ParseGroupBy(q.Get("by"))
	if err != nil {
		h.error(w, r, err)
		return
	}
	end := until.AddDate(0, 0, 1) // until is inclusive
	clock, err := h.slaClock(ctx)
	if err != nil {
		h.error(w, r, err)
		return
	}
	agg := handling.NewAggregator(by, clock.targets, clock.cal, clock.now)
	err = h.store.EachIncident(ctx, since, end, func(i *focal.Incident) error {
		agg.Add(i)
		return nil
	})
	if err != nil {
		h.error(w, r, err)
		return
	}
	rep := agg.Report(since, end)
	page := metricsPage{
		base: h.base(r, "Handling metrics"), Since: since.Format(time.DateOnly), Until: until.Format(time.DateOnly), By: string(by),
		Groupings:  []groupOption{{"", "Nothing (all incidents)"}, {"org", "Organisation"}, {"sector", "Sector"}, {"class", "Classification"}, {"severity", "Severity"}},
		ChartWidth: chartLabelWidth + chartBarWidth + 70, BarX: chartLabelWidth,
		MayCreate: may(r, focal.ActionCreate, focal.Resource{Kind: focal.KindIncident}),
	}
	csv := url.Values{"format": {"csv"}, "since": {page.Since}, "until": {end.Format(time.DateOnly)}}
	if by != handling.ByNone {
		csv.Set("by", string(by))
	}
	page.CSVURL = "/api/v1/metrics/incidents?" + csv.Encode()
	names := map[int64]string{}
	if by == handling.ByOrg {
		if _, names, err = h.orgNames(ctx); err != nil {
			h.error(w, r, err)
			return
		}
	}
	for _, g := range rep.Groups {
		row := metricsRow{
			Name: groupName(by, g.Key, names), Incidents: g.Incidents, Open: g.Open, Overdue: g.Overdue,
			TTA: newStatCells(g.Acknowledge), TTT: newStatCells(g.Triage), TTR: newStatCells(g.Resolve), SLA: "–",
		}
		if g.SLAMeasured > 0 {
			row.SLA = strconv.FormatFloat(g.SLAPercent, 'f', -1, 64) + "%"
			page.Bars = append(page.Bars, newChartBar(len(page.Bars), row.Name, g.SLAPercent))
		}
		page.Rows = append(page.Rows, row)
	}
	page.ChartHeight = len(page.Bars)*chartRowHeight + 4
	h.render(w, r, http.StatusOK, "incident_metrics", page)
}

// newStatCells humanises a duration statistic in seconds.
func newStatCells(s handling.Stat) statCells {
	if s.Count == 0 {
		return statCells{"–", "–", "–"}
	}
	d := func(secs float64) string { return humanDuration(time.Duration(secs * float64(time.Second))) }
	return statCells{d(s.Mean), d(s.Median), d(s.P90)}
}

// newChartBar lays out bar n of the chart for a group at pct per cent.
func newChartBar(n int, label string, pct float64) chartBar {
	if utf8.RuneCountInString(label) > 30 {
		label = string([]rune(label)[:29]) + "…"
	}
	width := int(pct / 100 * chartBarWidth)
	b := chartBar{
		Label: label, Y: n*chartRowHeight + 2, TextY: n*chartRowHeight + 2 + chartBarHeight - 4,
		Width: width, Value: chartLabelWidth + width + 6, Percent: fmt.Sprintf("%.1f%%", pct), Class: "bar-bad",
	}
	switch {
	case pct >= 90:
		b.Class = "bar-good"
	case pct >= 70:
		b.Class = "bar-warn"
	}
	return b
}

// groupName names a metrics group for people.
func groupName(by handling.GroupBy, key string, orgs map[int64]string) string {
	switch by {
	case handling.ByNone:
		return "All incidents"
	case handling.ByOrg:
		id, err := strconv.ParseInt(key, 10, 64)
		if err != nil {
			return key // "unknown"
		}
		return orgName(orgs, id)
	case handling.ByClass:
		if c, _, ok := focal.LookupRSIT(key, ""); ok {
			return c.Name
		}
	}
	return key
}
