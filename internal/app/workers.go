package app

import (
	"context"
	"fmt"
	"time"

	"focal/internal/lookup"
)

// lookupRefresh is how often the App checks whether another process changed
// the constituency, to rebuild its lookup table.
const lookupRefresh = 30 * time.Second

// buildLookup reads the registry and swaps in a new lookup table.
func (a *App) buildLookup(ctx context.Context) (string, error) {
	version, err := a.Store.ConstituencyVersion(ctx)
	if err != nil {
		return "", err
	}
	orgs, err := a.Store.Constituency(ctx)
	if err != nil {
		return "", err
	}
	entries := make([]lookup.Entry, 0, len(orgs))
	for _, o := range orgs {
		entries = append(entries, lookup.Entry{OrgID: o.ID, Networks: o.Networks, ASNs: o.ASNs, Domains: o.Domains})
	}
	t, err := lookup.Build(entries)
	if err != nil {
		return "", fmt.Errorf("build lookup table: %w", err)
	}
	a.Lookup.Store(t)
	return version, nil
}

// ConstituencyChanged asks for the lookup table to be rebuilt soon; several
// requests in a row cause one rebuild. It never blocks.
func (a *App) ConstituencyChanged() {
	select {
	case a.rebuild <- struct{}{}:
	default:
	}
}

// refreshLookup rebuilds the lookup table when asked, and when the registry
// changed under another process; it stops when ctx is done.
func (a *App) refreshLookup(ctx context.Context, version string) {
	tick := time.NewTicker(lookupRefresh)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-a.rebuild:
		case <-tick.C:
			v, err := a.Store.ConstituencyVersion(ctx)
			if err != nil {
				a.Logger.Warn("check constituency version", "err", err)
				continue
			}
			if v == version {
				continue
			}
		}
		v, err := a.buildLookup(ctx)
		if err != nil {
			if ctx.Err() == nil {
				a.Logger.Error("rebuild lookup table", "err", err)
			}
			continue
		}
		version = v
		p, asns, domains := a.Lookup.Load().Len()
		a.Logger.Debug("lookup table rebuilt", "prefixes", p, "asns", asns, "domains", domains)
	}
}

// purgeSessions deletes expired sessions every interval until ctx is done.
func (a *App) purgeSessions(ctx context.Context, every time.Duration) {
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			if n, err := a.Store.PurgeSessions(ctx); err != nil {
				if ctx.Err() == nil {
					a.Logger.Warn("purge expired sessions", "err", err)
				}
			} else if n > 0 {
				a.Logger.Debug("purged expired sessions", "count", n)
			}
		}
	}
}
