// Package notifier schedules and delivers the notifications focal sends
// to the organisations of its constituency. A Notifier ticks every
// Interval; on each tick, if this process holds the "notifier" lease, it
//
//   - queues, for every organisation whose policy schedule is due, the
//     digest of its events that no earlier notification carried (built by
//     notify.Build or notify.BuildPayload), together with the events each
//     message carries and the time of the digest, in one transaction;
//   - delivers the queued messages that are due (the exact bytes stored
//     when they were queued) with the Sender or the Webhook, and marks them
//     sent, retrying (with exponential backoff) or failed.
//
// Nothing is dropped: a message whose delivery fails temporarily stays
// queued and is retried without end; after MaxFailures attempts, or at a
// permanent failure, the coordinator is alerted (an error in the log and
// an incident of channel "pipeline").
//
// Which events are pending. An event is pending for an organisation while
// no notification to it carried the event (the notification_events
// table), so it is never sent twice. The scan is bounded by a time
// watermark: events observed (events.observed_time, the time focal
// received them) since the organisation's last digest minus Overlap. The
// overlap catches events committed late or out of id order by concurrent
// writers; an id watermark would skip those.
package notifier

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"time"

	"focal/internal/focal"
	"focal/internal/notify"
	"focal/internal/store"
)

// Defaults of a Notifier.
const (
	DefaultInterval     = time.Minute
	DefaultMaxFailures  = 5
	DefaultOverlap      = 24 * time.Hour
	DefaultRetryBackoff = time.Minute
	// MaxEventsPerDigest bounds the events one tick queues for one
	// organisation; the rest go on the next tick.
	MaxEventsPerDigest = 20000
	maxRetryWait       = 6 * time.Hour
	alertQuiet         = 24 * time.Hour // one incident per organisation per period
	pageSize           = 1000
	leaseName          = "notifier"
)

// Notifier queues and delivers notifications. Store and Team are
// required. Run it from one goroutine; of several processes sharing a
// database, only the lease holder works.
type Notifier struct {
	Store *store.Store
	// Sender delivers e-mail; nil leaves e-mail messages queued.
	Sender *notify.Sender
	// Webhook posts webhook messages; nil leaves them queued.
	Webhook *notify.Webhook
	Team    notify.Team
	Logger  *slog.Logger
	// Interval between ticks; default DefaultInterval.
	Interval time.Duration
	// MaxFailures is the number of failed attempts of one message after
	// which the coordinator is alerted; default DefaultMaxFailures. The
	// message is still retried.
	MaxFailures int
	// Overlap widens the pending-event scan back from the last digest;
	// default DefaultOverlap.
	Overlap time.Duration
	// RetryBackoff is the wait after a first failed attempt, doubled after
	// each further one up to 6 hours; default DefaultRetryBackoff.
	RetryBackoff time.Duration
	Holder       string           // this process, for the lease (default host:pid)
	Workers      int              // organisations whose digests are built at once; default GOMAXPROCS
	Now          func() time.Time // default time.Now

	mu      sync.Mutex
	alerted map[int64]time.Time // organisation -> last incident opened
}

// Run ticks every Interval until ctx is done. Errors are logged.
func (n *Notifier) Run(ctx context.Context) {
	t := time.NewTicker(n.interval())
	defer t.Stop()
	for {
		if err := n.Tick(ctx); err != nil && ctx.Err() == nil {
			n.log().Error("notifier", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Tick queues the digests that are due and delivers the messages that
// are due, once, if this process holds the lease. It returns the first
// error that stopped it; failures of one organisation's policy or of one
// delivery are logged and do not stop the others.
func (n *Notifier) Tick(ctx context.Context) error {
	now := n.now()
	if ok, err := n.Store.TryLease(ctx, leaseName, n.holder(), now, 3*n.interval()); err != nil || !ok {
		return err
	}
	sys := focal.NewContextWithPrincipal(ctx, focal.System())
	if err := n.queue(sys, now); err != nil {
		return err
	}
	return n.deliver(sys, now)
}

func (n *Notifier) interval() time.Duration {
	if n.Interval > 0 {
		return n.Interval
	}
	return DefaultInterval
}

func (n *Notifier) holder() string {
	if n.Holder != "" {
		return n.Holder
	}
	h, err := os.Hostname()
	if err != nil {
		h = "localhost"
	}
	return h + ":" + strconv.Itoa(os.Getpid())
}

func (n *Notifier) now() time.Time {
	if n.Now != nil {
		return n.Now()
	}
	return time.Now()
}

func (n *Notifier) log() *slog.Logger {
	if n.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return n.Logger
}

// retryWait is the wait after the given number of failed attempts.
func (n *Notifier) retryWait(attempts int) time.Duration {
	d := n.RetryBackoff
	if d <= 0 {
		d = DefaultRetryBackoff
	}
	for i := 1; i < attempts && d < maxRetryWait; i++ {
		d *= 2
	}
	return min(d, maxRetryWait)
}

// alert tells the coordinator that notifications to an organisation are
// failing: an error in the log and, at most once a day per organisation,
// an incident.
func (n *Notifier) alert(ctx context.Context, m *store.Notification, cause string, now time.Time) {
	org := fmt.Sprintf("organisation %d", m.OrgID)
	if o, err := n.Store.Organisation(ctx, m.OrgID); err == nil {
		org = o.Name
	}
	n.log().Error("notifications failing", "org", org, "ref", m.Reference, "attempts", m.Attempts+1, "err", cause)
	n.mu.Lock()
	if n.alerted == nil {
		n.alerted = map[int64]time.Time{}
	}
	last, seen := n.alerted[m.OrgID]
	if seen && now.Sub(last) < alertQuiet {
		n.mu.Unlock()
		return
	}
	n.alerted[m.OrgID] = now
	n.mu.Unlock()
	inc := &focal.Incident{
		Title: fmt.Sprintf("Notifications to %s failing", org),
		Description: fmt.Sprintf("Notification %s (%s) to %s could not be delivered after %d attempts: %s\n\n"+
			"Check the relay or the organisation's contacts. Temporary failures are retried; permanent ones are not.",
			m.Reference, m.Channel, org, m.Attempts+1, cause),
		Classifications: []focal.Classification{{Class: "other", Type: "undetermined"}},
		Severity:        focal.SeverityMedium,
		TLP:             focal.TLPAmber,
		OrgID:           m.OrgID,
		Channel:         "pipeline",
		Reporter:        focal.Reporter{Name: "focal notifier"},
	}
	ictx := focal.NewContextWithPrincipal(ctx, focal.Intake("notifier"))
	if err := n.Store.CreateIncident(ictx, inc, nil); err != nil {
		n.log().Error("notifier: open incident", "org", org, "err", err)
	}
}

// isPermanent reports whether err is a delivery failure retrying cannot
// fix.
func isPermanent(err error) bool {
	var de *notify.DeliveryError
	return errors.As(err, &de) && de.Permanent && !de.Delivered
}
