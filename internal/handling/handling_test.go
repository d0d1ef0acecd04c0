package handling

import (
	"testing"
	"time"

	"focal/internal/focal"
)

func TestAggregator(t *testing.T) {
	t0 := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
	min := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	target := []focal.SLATarget{{Severity: focal.SeverityHigh, Acknowledge: 60 * time.Minute, Triage: 120 * time.Minute, Resolve: 1000 * time.Minute}}
	mk := func(org int64, class string, ack, tri, res int) *focal.Incident {
		i := &focal.Incident{OrgID: org, Severity: focal.SeverityHigh, Status: focal.StatusResolved,
			Classifications: []focal.Classification{{Class: class}}, Milestones: focal.Milestones{Reported: t0}}
		if ack >= 0 {
			i.Milestones.Acknowledged = min(ack)
		}
		if tri >= 0 {
			i.Milestones.Triaged = min(tri)
		}
		if res >= 0 {
			i.Milestones.Resolved = min(res)
		} else {
			i.Status = focal.StatusInProgress
		}
		return i
	}
	incidents := []*focal.Incident{
		mk(1, "fraud", 10, 20, 100),
		mk(1, "fraud", 30, 60, 500),
		mk(1, "availability", 90, 150, 2000), // every clock missed
		mk(2, "fraud", 5, 10, -1),            // still open at now = +3000m: resolve overdue
	}
	merged := mk(2, "fraud", 1, 1, 1)
	merged.Status = focal.StatusMerged
	incidents = append(incidents, merged)

	a := NewAggregator(ByNone, target, focal.Calendar{}, min(3000))
	for _, i := range incidents {
		a.Add(i)
	}
	r := a.Report(t0, min(3000))
	if len(r.Groups) != 1 {
		t.Fatalf("groups = %d, want 1", len(r.Groups))
	}
	g := r.Groups[0]
	// ack: 5,10,30,90 min → mean 33.75m = 2025s, median (nearest rank 2) 10m, p90 (rank 4) 90m.
	if g.Incidents != 4 || g.Open != 1 || g.Acknowledge.Count != 4 || g.Acknowledge.Mean != 2025 || g.Acknowledge.Median != 600 || g.Acknowledge.P90 != 5400 {
		t.Errorf("all = %+v", g)
	}
	// resolve: 100, 500, 2000 min → median 500m = 30000s.
	if g.Resolve.Count != 3 || g.Resolve.Median != 30000 {
		t.Errorf("resolve = %+v, want 3 measured, median 30000s", g.Resolve)
	}
	// SLA: incidents 1, 2: 3 clocks met each (6); incident 3: 3 missed;
	// incident 4: ack and triage met, resolve overdue → 8 met of 12 = 66.7 %.
	if g.SLAMeasured != 12 || g.SLAMet != 8 || g.SLAPercent != 66.7 || g.Overdue != 1 {
		t.Errorf("SLA = %d/%d (%.1f%%), overdue %d; want 8/12 (66.7%%), 1 overdue", g.SLAMet, g.SLAMeasured, g.SLAPercent, g.Overdue)
	}

	b := NewAggregator(ByClass, target, focal.Calendar{}, min(3000))
	for _, i := range incidents {
		b.Add(i)
	}
	rb := b.Report(t0, min(3000))
	if len(rb.Groups) != 2 || rb.Groups[0].Key != "availability" || rb.Groups[1].Key != "fraud" || rb.Groups[1].Incidents != 3 {
		t.Errorf("by class = %+v", rb.Groups)
	}
	if _, err := ParseGroupBy("colour"); err == nil {
		t.Error("ParseGroupBy(colour) succeeded")
	}
}
