package notify

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// Retry defaults shared by Sender and Webhook.
const (
	DefaultMaxAttempts = 5
	DefaultBackoff     = 30 * time.Second
	maxBackoffFactor   = 64 // the longest wait is 64 × the base
)

// DeliveryError is the error Sender.Send and Webhook.Post return when a
// delivery failed for good. Permanent failures (an SMTP 5xx reply, an HTTP
// 4xx answer, a configuration the relay refuses) are not retried; any
// other failure is retried until the attempts run out. Either way the
// caller should alert the coordinator.
type DeliveryError struct {
	Op        string   // "send" (e-mail) or "post" (webhook)
	Reference string   // the message's reference
	Permanent bool     // retrying will not help
	Attempts  int      // attempts made
	Rejected  []string // recipients the relay refused permanently
	// Delivered is set when the message reached the recipients the relay
	// accepted, although it refused the Rejected ones.
	Delivered bool
	Err       error // the last failure
}

// Error says what failed, e.g. "send FOCAL-N-…: gave up after 5
// attempts: dial tcp …: connection refused".
func (e *DeliveryError) Error() string {
	var b strings.Builder
	b.WriteString(e.Op)
	b.WriteString(" ")
	b.WriteString(e.Reference)
	switch {
	case e.Delivered:
		fmt.Fprintf(&b, ": delivered except to %s", strings.Join(e.Rejected, ", "))
	case e.Permanent:
		b.WriteString(": permanent failure")
	default:
		fmt.Fprintf(&b, ": gave up after %d attempts", e.Attempts)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the last failure.
func (e *DeliveryError) Unwrap() error { return e.Err }

// backoff returns the wait before attempt+1 (attempt ≥ 1): base doubled
// for every failed attempt, capped, with "equal jitter" (half fixed,
// half random) so senders retrying together spread out.
func backoff(base time.Duration, attempt int) time.Duration {
	d := base
	for i := 1; i < attempt && d < base*maxBackoffFactor; i++ {
		d *= 2
	}
	d = min(d, base*maxBackoffFactor)
	half := d / 2
	if half <= 0 {
		return d
	}
	return half + rand.N(half+1)
}

// sleepContext waits d or until ctx is done.
func sleepContext(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
