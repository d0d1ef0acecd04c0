package demo_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"focal/internal/bus"
	"focal/internal/demo"
	"focal/internal/feed/formats"
	"focal/internal/focal"
	"focal/internal/lookup"
	"focal/internal/pipeline"
	"focal/internal/store"
	"focal/internal/store/storetest"
)

// TestFeeds runs every format's sample through the pipeline against the
// demo constituency and checks each feed's events are stored and matched
// to demo organisations.
func TestFeeds(t *testing.T) {
	s := storetest.Open(t, store.SQLite)
	ctx := context.Background()
	if _, err := demo.Seed(ctx, s); err != nil {
		t.Fatal(err)
	}
	sys := focal.NewContextWithPrincipal(ctx, focal.System())
	orgs, _, err := s.Organisations(sys, store.OrgFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var entries []lookup.Entry
	for _, o := range orgs {
		entries = append(entries, lookup.Entry{OrgID: o.ID, Networks: o.Networks, ASNs: o.ASNs, Domains: o.Domains})
	}
	table, err := lookup.Build(entries)
	if err != nil {
		t.Fatal(err)
	}
	h := &lookup.Holder{}
	h.Store(table)
	b, err := bus.Open(ctx, bus.Config{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	p := pipeline.New(pipeline.Config{Store: s, Bus: b, Lookup: h, Logger: slog.New(slog.DiscardHandler)})
	wctx, cancel := context.WithCancel(ctx)
	defer func() { cancel(); p.Wait() }()
	if err := p.Start(wctx); err != nil {
		t.Fatal(err)
	}
	tctx, tcancel := context.WithTimeout(ctx, time.Minute)
	defer tcancel()
	res, err := demo.Feeds(tctx, s, p)
	if err != nil {
		t.Fatal(err)
	}
	if res.Feeds != len(formats.All()) {
		t.Errorf("%d demo feeds, want one per format (%d)", res.Feeds, len(formats.All()))
	}
	for _, f := range formats.All() {
		var stored, matched int
		err := s.EachEvent(sys, focal.EventFilter{Feed: "demo-" + f.Name}, func(e *focal.Event) error {
			stored++
			if len(e.Orgs) > 0 {
				matched++
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		// Certificate fingerprints name no host, so nothing can match them.
		if stored == 0 || (matched == 0 && f.Name != "sslbl-cert") {
			t.Errorf("feed demo-%s: %d events stored, %d matched to a demo organisation; want some of each", f.Name, stored, matched)
		}
	}
	rules, err := s.AlertRules(sys)
	if err != nil || len(rules) != 1 {
		t.Errorf("demo alert rules = %d, %v; want 1", len(rules), err)
	}
}
