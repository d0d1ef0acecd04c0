package demo

import (
	"context"
	"fmt"
	"strings"
	"time"

	"focal/internal/feed/formats"
	"focal/internal/focal"
	"focal/internal/pipeline"
	"focal/internal/store"
)

// FeedsResult says what Feeds loaded.
type FeedsResult struct {
	Feeds   int   // one per format
	Events  int64 // events parsed from the samples
	Matched int64 // stored events matched to a demo organisation
}

// Feeds defines one demo feed per supported format and runs the format's
// sample input (written for focal with documentation addresses inside the
// demo organisations' networks) through the pipeline, waiting until every
// run is stored. It also adds an alert rule, so that brute-force sightings
// against one organisation open an incident.
func Feeds(ctx context.Context, st *store.Store, p *pipeline.Pipeline) (FeedsResult, error) {
	sys := focal.NewContextWithPrincipal(ctx, focal.System())
	var res FeedsResult
	var runs []int64
	for _, f := range formats.All() {
		fd := &focal.FeedDef{
			Name:       "demo-" + f.Name,
			Format:     f.Name,
			Provider:   "focal demo (" + strings.SplitN(f.Title, " (", 2)[0] + ")",
			TLP:        focal.TLPGreen,
			Confidence: 70,
			Options:    f.ExampleOptions,
			Enabled:    true,
		}
		if err := st.CreateFeed(sys, fd); err != nil {
			return res, fmt.Errorf("demo feed %s: %w", f.Name, err)
		}
		run, err := p.Ingest(sys, pipeline.Request{Feed: fd, Source: "demo", Input: "sample-" + f.Name, Body: strings.NewReader(f.Example)})
		if err != nil {
			return res, fmt.Errorf("demo feed %s: %w", f.Name, err)
		}
		runs = append(runs, run.ID)
		res.Feeds++
	}
	wctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	for _, id := range runs {
		r, err := p.WaitRun(wctx, id, nil)
		if err != nil {
			return res, fmt.Errorf("demo feeds: %w", err)
		}
		res.Events += r.Events
	}
	err := st.EachEvent(sys, focal.EventFilter{}, func(e *focal.Event) error {
		if len(e.Orgs) > 0 {
			res.Matched++
		}
		return nil
	})
	if err != nil {
		return res, err
	}
	rule := &focal.AlertRule{Name: "Brute force against one organisation", Class: "intrusion-attempts", Type: "brute-force",
		Threshold: 2, Window: 24 * time.Hour, Severity: focal.SeverityHigh, Enabled: true}
	if err := st.CreateAlertRule(sys, rule); err != nil {
		return res, err
	}
	return res, nil
}
