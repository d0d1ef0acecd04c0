// Package handling computes incident-handling metrics: time to
// acknowledge, triage and resolve (mean, median, 90th percentile) and SLA
// compliance, grouped by organisation, sector, RSIT class or severity, over
// a period. It reads incidents one at a time, so memory grows with the
// number of groups and measured durations (8 bytes each), never with the
// incidents themselves.
package handling

import (
	"cmp"
	"math"
	"slices"
	"strconv"
	"time"

	"focal/internal/focal"
)

// GroupBy names the dimension metrics are grouped by.
type GroupBy string

// The groupings.
const (
	ByNone     GroupBy = ""
	ByOrg      GroupBy = "org"
	BySector   GroupBy = "sector"
	ByClass    GroupBy = "class"
	BySeverity GroupBy = "severity"
)

// ParseGroupBy accepts "", org, sector, class or severity.
func ParseGroupBy(s string) (GroupBy, error) {
	switch g := GroupBy(s); g {
	case ByNone, ByOrg, BySector, ByClass, BySeverity:
		return g, nil
	}
	return "", focal.FieldErrorf("by", "want org, sector, class or severity, got %q", s)
}

// Stat summarises one duration over a group, in seconds.
type Stat struct {
	Count  int     `json:"count"`
	Mean   float64 `json:"mean_seconds"`
	Median float64 `json:"median_seconds"`
	P90    float64 `json:"p90_seconds"`
}

// Group is the metrics of one group.
type Group struct {
	Key         string  `json:"key"` // org id, sector, class or severity; "all" without grouping
	Incidents   int     `json:"incidents"`
	Open        int     `json:"open"`
	Acknowledge Stat    `json:"time_to_acknowledge"`
	Triage      Stat    `json:"time_to_triage"`
	Resolve     Stat    `json:"time_to_resolve"`
	SLAMeasured int     `json:"sla_measured"` // clocks with a target that finished or are overdue
	SLAMet      int     `json:"sla_met"`
	SLAPercent  float64 `json:"sla_compliance_percent"` // SLAMet / SLAMeasured × 100; NaN → 0 when none measured
	Overdue     int     `json:"overdue"`                // open incidents past a due time now

	ack, tri, res []float64
}

// Report is the outcome of an Aggregator.
type Report struct {
	Since  time.Time `json:"since"`
	Until  time.Time `json:"until"`
	By     GroupBy   `json:"by"`
	Groups []Group   `json:"groups"`
}

// Aggregator accumulates incidents into groups. It is not safe for
// concurrent use. Create one with NewAggregator, call Add for each incident
// reported in the period, then Report.
type Aggregator struct {
	by      GroupBy
	targets []focal.SLATarget
	cal     focal.Calendar
	now     time.Time
	groups  map[string]*Group
}

// NewAggregator returns an Aggregator grouping by by, measuring SLAs
// against targets on calendar cal as of now.
func NewAggregator(by GroupBy, targets []focal.SLATarget, cal focal.Calendar, now time.Time) *Aggregator {
	return &Aggregator{by: by, targets: targets, cal: cal, now: now, groups: map[string]*Group{}}
}

// Add counts one incident. Merged and rejected incidents are not handled
// incidents and are skipped.
func (a *Aggregator) Add(i *focal.Incident) {
	if i.Status == focal.StatusMerged || i.Status == focal.StatusRejected {
		return
	}
	for _, key := range a.keys(i) {
		g := a.groups[key]
		if g == nil {
			g = &Group{Key: key}
			a.groups[key] = g
		}
		g.Incidents++
		if i.Status.Open() {
			g.Open++
		}
		t := focal.PickSLATarget(a.targets, i.OrgID, i.Severity)
		clocks := focal.SLAClocks(i, t, a.cal, a.now)
		overdue := false
		for _, c := range clocks {
			if c.Done {
				secs := c.Elapsed.Seconds()
				switch c.Name {
				case "acknowledge":
					g.ack = append(g.ack, secs)
				case "triage":
					g.tri = append(g.tri, secs)
				case "resolve":
					g.res = append(g.res, secs)
				}
			}
			if c.Target > 0 && (c.Done || c.Overdue) {
				g.SLAMeasured++
				if c.Met {
					g.SLAMet++
				}
			}
			if !c.Done && c.Overdue {
				overdue = true
			}
		}
		if overdue && i.Status.Open() {
			g.Overdue++
		}
	}
}

func (a *Aggregator) keys(i *focal.Incident) []string {
	switch a.by {
	case ByOrg:
		if i.OrgID == 0 {
			return []string{"unknown"}
		}
		return []string{strconv.FormatInt(i.OrgID, 10)}
	case BySector:
		if i.Sector == "" {
			return []string{"unknown"}
		}
		return []string{i.Sector}
	case ByClass:
		// An incident with several classes counts in each (RSIT usage
		// guidance: say how the numbers are composed — docs say it).
		if len(i.Classifications) == 0 {
			return []string{"unclassified"}
		}
		var ks []string
		for _, c := range i.Classifications {
			if !slices.Contains(ks, c.Class) {
				ks = append(ks, c.Class)
			}
		}
		return ks
	case BySeverity:
		return []string{string(i.Severity)}
	}
	return []string{"all"}
}

// Report finishes the statistics, groups sorted by key.
func (a *Aggregator) Report(since, until time.Time) Report {
	r := Report{Since: since, Until: until, By: a.by, Groups: []Group{}}
	for _, g := range a.groups {
		g.Acknowledge, g.Triage, g.Resolve = stat(g.ack), stat(g.tri), stat(g.res)
		if g.SLAMeasured > 0 {
			g.SLAPercent = math.Round(1000*float64(g.SLAMet)/float64(g.SLAMeasured)) / 10
		}
		r.Groups = append(r.Groups, *g)
	}
	slices.SortFunc(r.Groups, func(x, y Group) int { return cmp.Compare(x.Key, y.Key) })
	return r
}

// stat computes count, mean, median and p90 (nearest-rank) of xs.
func stat(xs []float64) Stat {
	if len(xs) == 0 {
		return Stat{}
	}
	slices.Sort(xs)
	var sum float64
	for _, x := range xs {
		sum += x
	}
	return Stat{Count: len(xs), Mean: math.Round(sum / float64(len(xs))), Median: math.Round(percentile(xs, 50)), P90: math.Round(percentile(xs, 90))}
}

// percentile is the nearest-rank percentile of sorted xs.
func percentile(sorted []float64, p float64) float64 {
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	return sorted[max(rank-1, 0)]
}
