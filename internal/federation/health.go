package federation

import (
	"time"

	"focal/internal/store"
)

// The health of a link to a peer, as the directory page shows it.
const (
	HealthOK      = "ok"
	HealthLagging = "lagging"
	HealthFailing = "failing"
	HealthNever   = "never"
)

// lagSlack is added to the thresholds of "lagging", so that a peer polled
// every second is not lagging for a slow page.
const lagSlack = time.Minute

// Health returns the health of the link to p now:
//
//   - "failing": the last poll failed (p.Failures > 0); the peer backs off;
//   - "never": no poll has succeeded yet (a new or disabled peer);
//   - "lagging": the last success is older than 3 × the interval + 1 min
//     (polls do not keep up), or the last import's lag (our time of import
//     minus the peer's date_added of the newest object) exceeded 2 × the
//     interval + 1 min (objects reach us late);
//   - "ok" otherwise.
func Health(p *store.Peer) string { return healthAt(p, time.Now()) }

func healthAt(p *store.Peer, now time.Time) string {
	switch {
	case p.Failures > 0:
		return HealthFailing
	case p.LastSuccess.IsZero():
		return HealthNever
	case now.Sub(p.LastSuccess) > 3*p.PollInterval+lagSlack, p.Lag > 2*p.PollInterval+lagSlack:
		return HealthLagging
	}
	return HealthOK
}
