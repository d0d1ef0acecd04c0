// Package alert turns pipeline events into incidents. An Evaluator checks
// every enabled alert rule periodically: for each organisation with at
// least the rule's threshold of matching events within its window, it
// opens an incident for that organisation (or, while the rule's previous
// incident for it is still open, adds to it), links the events, and notes
// in the journal how many new events arrived. Of several focal processes
// on one database, the one holding the "alerts" lease evaluates.
package alert

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"time"

	"focal/internal/focal"
	"focal/internal/store"
)

// DefaultInterval is how often rules are checked.
const DefaultInterval = 30 * time.Second

// Evaluator checks alert rules. Store is required.
type Evaluator struct {
	Store    *store.Store
	Logger   *slog.Logger
	Interval time.Duration
	Holder   string           // this process, for the lease (default host:pid)
	Now      func() time.Time // default time.Now
}

// Run checks the rules every Interval until ctx is done.
func (e *Evaluator) Run(ctx context.Context) {
	interval := e.Interval
	if interval <= 0 {
		interval = DefaultInterval
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := e.Check(ctx); err != nil && ctx.Err() == nil {
			e.log().Error("alert rules", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (e *Evaluator) log() *slog.Logger {
	if e.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return e.Logger
}

func (e *Evaluator) now() time.Time {
	if e.Now != nil {
		return e.Now()
	}
	return time.Now()
}

// Check evaluates every enabled rule once, if this process holds the
// lease, and returns the incidents it opened or added to.
func (e *Evaluator) Check(ctx context.Context) ([]int64, error) {
	holder := e.Holder
	if holder == "" {
		h, _ := os.Hostname()
		holder = h + ":" + strconv.Itoa(os.Getpid())
	}
	now := e.now()
	interval := max(e.Interval, DefaultInterval)
	if ok, err := e.Store.TryLease(ctx, "alerts", holder, now, 3*interval); err != nil || !ok {
		return nil, err
	}
	sys := focal.NewContextWithPrincipal(ctx, focal.System())
	rules, err := e.Store.AlertRules(sys)
	if err != nil {
		return nil, err
	}
	var touched []int64
	for _, r := range rules {
		if !r.Enabled {
			continue
		}
		hits, err := e.Store.AlertHits(ctx, r, now)
		if err != nil {
			return touched, err
		}
		for _, h := range hits {
			id, err := e.apply(ctx, r, h, now)
			if err != nil {
				return touched, err
			}
			if id != 0 {
				touched = append(touched, id)
			}
		}
	}
	return touched, nil
}

// apply opens or updates the incident of rule r for one organisation.
func (e *Evaluator) apply(ctx context.Context, r *focal.AlertRule, h store.AlertHit, now time.Time) (int64, error) {
	ictx := focal.NewContextWithPrincipal(ctx, focal.Intake("alert rule "+r.Name))
	id, err := e.Store.AlertIncident(ctx, r.ID, h.OrgID)
	if err != nil {
		return 0, err
	}
	opened := false
	if id == 0 {
		org := fmt.Sprintf("organisation %d", h.OrgID)
		if o, err := e.Store.Organisation(ictx, h.OrgID); err == nil {
			org = o.Name
		}
		class := focal.Classification{Class: r.Class, Type: r.Type}
		if class.Class == "" {
			class = focal.Classification{Class: "other", Type: "undetermined"}
		}
		inc := &focal.Incident{
			Title:           fmt.Sprintf("%s: %d events for %s", r.Name, h.Events, org),
			Description:     fmt.Sprintf("Opened by alert %s: %d matching events in the last %v. The events are linked below.", r, h.Events, r.Window),
			Classifications: []focal.Classification{class},
			Severity:        r.Severity,
			TLP:             focal.TLPAmber,
			OrgID:           h.OrgID,
			Channel:         "pipeline",
			Reporter:        focal.Reporter{Name: "focal alert rule " + r.Name},
		}
		if err := e.Store.CreateIncident(ictx, inc, nil); err != nil {
			return 0, fmt.Errorf("alert %s: open incident: %w", r.Name, err)
		}
		id, opened = inc.ID, true
	}
	n, err := e.Store.LinkAlertEvents(ctx, r, h.OrgID, id, now)
	if err != nil {
		return 0, err
	}
	if opened {
		e.log().Info("alert rule opened an incident", "rule", r.Name, "org", h.OrgID, "incident", id, "events", n)
		return id, nil
	}
	if n == 0 {
		return 0, nil
	}
	if err := e.Store.AddJournal(ictx, id, "note", focal.TLPAmber, fmt.Sprintf("%d new events matched %s.", n, r)); err != nil {
		return 0, err
	}
	return id, nil
}
