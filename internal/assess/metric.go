package assess

import (
	"sort"
	"time"
)

// The metrics focal measures itself. A question binds one with its
// Metric field; the store computes it (store.MeasureMetric) and keeps the
// value, the window and the definition with the answer, so the answer
// stays meaningful when the definition later changes.
const (
	// MetricIncidentsWithinSLA is the share (%) of incidents resolved in
	// the window whose resolve clock met its SLA target.
	MetricIncidentsWithinSLA = "incidents-within-sla"
	// MetricContactCoverage is the share (%) of constituent organisations
	// with at least one notification contact (an e-mail address).
	MetricContactCoverage = "contact-coverage"
	// MetricEventsPer10k is the number of events of one RSIT class first
	// seen in the window per 10,000 constituency IPv4 addresses.
	MetricEventsPer10k = "events-per-10k"
)

// Metric describes a measured indicator.
type Metric struct {
	ID         string
	Title      string
	Unit       string
	Definition string
	// NeedsClass: the metric takes an RSIT class (events-per-10k).
	NeedsClass bool
}

var metrics = map[string]Metric{
	MetricIncidentsWithinSLA: {ID: MetricIncidentsWithinSLA, Title: "Incidents handled within SLA", Unit: "%",
		Definition: "incidents resolved in the window whose resolve clock met the SLA target for their organisation and severity, as a share of all incidents resolved in the window (v1)"},
	MetricContactCoverage: {ID: MetricContactCoverage, Title: "Constituents with a notification contact", Unit: "%",
		Definition: "organisations in the constituency registry with at least one contact e-mail address, as a share of all organisations, at the end of the window (v1)"},
	MetricEventsPer10k: {ID: MetricEventsPer10k, Title: "Events per 10,000 constituency addresses", Unit: "events per 10,000 addresses", NeedsClass: true,
		Definition: "events of the given RSIT class first seen in the window, per 10,000 IPv4 addresses in the constituency's registered networks (v1)"},
}

// Metrics lists the metrics focal measures, by id.
func Metrics() []Metric {
	out := make([]Metric, 0, len(metrics))
	for _, m := range metrics {
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// MetricByID returns a metric's description.
func MetricByID(id string) (Metric, bool) {
	m, ok := metrics[id]
	return m, ok
}

// MetricNames lists the metric ids.
func MetricNames() []string {
	out := make([]string, 0, len(metrics))
	for id := range metrics {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

// Window is a measurement period [From, To).
type Window struct {
	From, To time.Time
}

// YearWindow returns the calendar year as a window.
func YearWindow(year int) Window {
	return Window{From: time.Date(year, 1, 1, 0, 0, 0, 0, time.UTC), To: time.Date(year+1, 1, 1, 0, 0, 0, 0, time.UTC)}
}
