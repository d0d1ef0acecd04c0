package notifier

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"focal/internal/focal"
	"focal/internal/notify"
	"focal/internal/store"
)

// queue builds and queues the digests due at now, for every organisation,
// Workers organisations at a time: building a digest is CPU work (text,
// CSV, signing) that the next organisation's database reads can overlap.
func (n *Notifier) queue(ctx context.Context, now time.Time) error {
	policies, err := n.Store.NotifyPolicies(ctx)
	if err != nil {
		return err
	}
	jobs := make(chan *focal.Organisation)
	var wg sync.WaitGroup
	for range n.workers() {
		wg.Go(func() {
			for o := range jobs {
				p := policies[o.ID]
				stored := p != nil
				if p == nil {
					d := notify.PolicyFor(o)
					p = &d
				} else {
					c := *p
					p = &c
				}
				if err := p.Validate(); err != nil {
					if stored {
						n.log().Warn("notifier: invalid policy", "org", o.Name, "err", err)
					} else {
						n.log().Debug("notifier: no usable default policy", "org", o.Name, "err", err)
					}
					continue
				}
				if err := n.queueOrg(ctx, o, p, now); err != nil && ctx.Err() == nil {
					// One organisation's failure does not hold up the others.
					n.log().Error("notifier: cannot queue", "org", o.Name, "err", err)
				}
			}
		})
	}
	defer wg.Wait()
	defer close(jobs)
	for offset := 0; ; {
		orgs, total, err := n.Store.Organisations(ctx, store.OrgFilter{Limit: 1000, Offset: offset})
		if err != nil {
			return err
		}
		for _, o := range orgs {
			select {
			case jobs <- o:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		offset += len(orgs)
		if len(orgs) == 0 || offset >= total {
			return nil
		}
	}
}

func (n *Notifier) workers() int {
	if n.Workers > 0 {
		return n.Workers
	}
	return runtime.GOMAXPROCS(0)
}

// queueOrg queues organisation o's digest if its schedule is due, or only
// its immediate events if its channel is email-immediate.
func (n *Notifier) queueOrg(ctx context.Context, o *focal.Organisation, p *notify.Policy, now time.Time) error {
	period := p.Interval()
	if period < 0 {
		return nil
	}
	last, err := n.Store.LastDigest(ctx, o.ID)
	if err != nil {
		return err
	}
	due := last.IsZero() || now.Sub(last) >= period
	if !due && p.Channel != notify.ChannelImmediate {
		return nil
	}
	overlap := n.Overlap
	if overlap <= 0 {
		overlap = DefaultOverlap
	}
	since := now.Add(-overlap)
	if !last.IsZero() {
		since = last.Add(-overlap)
	}
	var events []*focal.Event
	capped := false
	for after := int64(0); ; {
		page, err := n.Store.PendingEvents(ctx, o.ID, since, after, pageSize)
		if err != nil {
			return err
		}
		for _, e := range page {
			// events.orgs is the latest sighting's match; event_orgs keeps
			// every match, so an older one may be missing from e.Orgs.
			if !slices.Contains(e.Orgs, o.ID) {
				e.Orgs = append(e.Orgs, o.ID)
			}
			if ok, _ := p.Wants(e); !ok || (!due && !p.IsImmediate(e)) {
				continue
			}
			// The one TLP rule for data leaving the node (the policy's
			// own ceiling may be lower still).
			if !release(e, o) {
				continue
			}
			events = append(events, e)
		}
		if len(events) >= MaxEventsPerDigest {
			events, capped = events[:MaxEventsPerDigest], true
			break
		}
		if len(page) < pageSize {
			break
		}
		after = page[len(page)-1].ID
	}
	// The digest is marked when this scan covered it whole; a capped one
	// stays due so the rest goes on the next tick.
	var mark time.Time
	if due && !capped {
		mark = now
	}
	msgs, err := n.build(o, p, events, now)
	if err != nil {
		return err
	}
	if len(msgs) == 0 && mark.IsZero() {
		return nil
	}
	for _, m := range msgs {
		m.NextAttempt = now
	}
	if err := n.Store.QueueNotifications(ctx, o.ID, mark, msgs); err != nil {
		return fmt.Errorf("queue notifications for %s: %w", o.Name, err)
	}
	for _, m := range msgs {
		n.log().Info("notification queued", "org", o.Name, "ref", m.Reference, "channel", m.Channel, "events", len(m.EventIDs))
	}
	return nil
}

// build turns events into the messages to queue.
func (n *Notifier) build(o *focal.Organisation, p *notify.Policy, events []*focal.Event, now time.Time) ([]*store.Notification, error) {
	if len(events) == 0 {
		return nil, nil
	}
	org := notify.OrgOf(o)
	if p.Channel == notify.ChannelWebhook {
		w, err := notify.BuildPayload(org, *p, events, n.Team, now)
		if err != nil || w == nil {
			return nil, err
		}
		return []*store.Notification{{
			Reference: w.Reference, OrgID: o.ID, Channel: notify.ChannelWebhook, Recipients: []string{w.URL},
			Subject: "webhook", TLP: w.TLP, Part: 1, Parts: 1, EventIDs: w.EventIDs, Raw: w.Body,
		}}, nil
	}
	ms, err := notify.Build(org, *p, events, n.Team, now)
	if err != nil {
		return nil, err
	}
	out := make([]*store.Notification, 0, len(ms))
	for _, m := range ms {
		out = append(out, &store.Notification{
			Reference: m.Reference, OrgID: o.ID, Channel: p.Channel, From: m.From, Recipients: m.To,
			Subject: strings.ToValidUTF8(m.Subject, "?"), TLP: m.TLP, Part: m.Part, Parts: m.Parts,
			EventIDs: m.EventIDs, Raw: m.Raw,
		})
	}
	return out, nil
}

// release reports whether focal.ReleaseDecision lets event e go to
// organisation o, which it concerns.
func release(e *focal.Event, o *focal.Organisation) bool {
	ok, _ := focal.ReleaseDecision(focal.Release{TLP: e.TLP, OrgID: o.ID},
		focal.Recipient{Kind: focal.RecipientOrganisation, ID: o.ID, Name: o.Name})
	return ok
}
