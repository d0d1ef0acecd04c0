package bus

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

const (
	// asyncAckTimeout fails an asynchronous publish whose ack did not arrive.
	asyncAckTimeout = 30 * time.Second
	// stallRetry is how long Publisher.Publish waits before retrying when
	// the client library itself reports too many pending acks.
	stallRetry = 10 * time.Millisecond
)

// DefaultMaxPending is used by NewPublisher for a maxPending below 1.
const DefaultMaxPending = 1024

// PublishOption modifies a single publish.
type PublishOption func(*publishOptions)

type publishOptions struct {
	msgID string
}

// WithMsgID sets the message ID (the Nats-Msg-Id header). The server drops a
// message whose ID it has already stored within the stream's Duplicates
// window, and reports the publish as successful, so publishing the same
// logical message twice (for example after a crash) stores it once.
func WithMsgID(id string) PublishOption {
	return func(o *publishOptions) { o.msgID = id }
}

func jsPublishOpts(opts []PublishOption) []jetstream.PublishOpt {
	if len(opts) == 0 {
		return nil
	}
	var o publishOptions
	for _, opt := range opts {
		opt(&o)
	}
	var out []jetstream.PublishOpt
	if o.msgID != "" {
		out = append(out, jetstream.WithMsgID(o.msgID))
	}
	return out
}

// Publish stores data under subject in the stream that captures subject and
// returns once the server acknowledged it (or ctx is done, or after five
// seconds if ctx has no deadline). Call it only after the database
// transaction that produced the message has committed. The publish fails if
// no stream captures subject. Publish is safe for concurrent use; for bulk
// publishing prefer a Publisher.
func (b *Bus) Publish(ctx context.Context, subject string, data []byte, opts ...PublishOption) error {
	if subject == "" {
		return errors.New("bus: publish: empty subject")
	}
	if b.isClosed() {
		return fmt.Errorf("bus: publish to %s: %w", subject, ErrClosed)
	}
	if _, err := b.js.Publish(ctx, subject, data, jsPublishOpts(opts)...); err != nil {
		return fmt.Errorf("bus: publish to %s: %w", subject, err)
	}
	return nil
}

// Publisher publishes asynchronously with bounded memory: at most maxPending
// messages are awaiting their ack from the server at any time, and Publish
// blocks while that many are outstanding. Create it with Bus.NewPublisher,
// call Flush to wait for the acks and learn about failures, and Close when
// done. A Publisher is safe for concurrent use.
type Publisher struct {
	b       *Bus
	js      jetstream.JetStream
	initErr error

	// slots holds one token per outstanding publish (and Flush holds all of
	// them while it waits); its capacity is maxPending.
	slots chan struct{}

	outstanding atomic.Int64 // publishes awaiting their ack
	highWater   atomic.Int64 // maximum of outstanding seen

	mu       sync.Mutex
	firstErr error // first failure since the last Flush, guarded by mu
	failed   int   // failures since the last Flush, guarded by mu
}

// NewPublisher returns a Publisher allowing maxPending outstanding acks
// (DefaultMaxPending if maxPending < 1). A problem setting it up is
// reported by its first Publish.
func (b *Bus) NewPublisher(maxPending int) *Publisher {
	if maxPending < 1 {
		maxPending = DefaultMaxPending
	}
	p := &Publisher{b: b, slots: make(chan struct{}, maxPending)}
	// A JetStream context of its own, so that its pending acks and error
	// callbacks belong to this Publisher only.
	p.js, p.initErr = jetstream.New(b.nc,
		jetstream.WithPublishAsyncMaxPending(maxPending),
		jetstream.WithPublishAsyncTimeout(asyncAckTimeout),
		jetstream.WithPublishAsyncAckHandler(func(jetstream.JetStream, *nats.Msg, *jetstream.PubAck) {
			p.release()
		}),
		jetstream.WithPublishAsyncErrHandler(func(_ jetstream.JetStream, m *nats.Msg, err error) {
			p.fail(fmt.Errorf("bus: publish to %s: %w", m.Subject, err))
			p.release()
		}),
	)
	if p.initErr != nil {
		p.initErr = fmt.Errorf("bus: new publisher: %w", p.initErr)
	}
	return p
}

// release frees the slot of a publish whose outcome is known. It is called
// exactly once per publish handed to the library, from its ack goroutine.
func (p *Publisher) release() {
	p.outstanding.Add(-1)
	<-p.slots
}

func (p *Publisher) fail(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.firstErr == nil {
		p.firstErr = err
	}
	p.failed++
}

// Publish sends data to subject without waiting for the server's ack. It
// blocks while maxPending publishes are outstanding, until one is acked or
// ctx is done (then it returns ctx's error and nothing is sent). A nil
// error means the message was handed to the connection; whether the server
// stored it is reported by Flush. data must not be modified until Flush has
// returned. Call it only after the database transaction that produced the
// message has committed.
func (p *Publisher) Publish(ctx context.Context, subject string, data []byte, opts ...PublishOption) error {
	if p.initErr != nil {
		return p.initErr
	}
	if subject == "" {
		return errors.New("bus: publish: empty subject")
	}
	if p.b.isClosed() {
		return fmt.Errorf("bus: publish to %s: %w", subject, ErrClosed)
	}
	select {
	case p.slots <- struct{}{}:
	case <-ctx.Done():
		return fmt.Errorf("bus: publish to %s: waiting for pending acks: %w", subject, ctx.Err())
	}
	n := p.outstanding.Add(1)
	for {
		hw := p.highWater.Load()
		if n <= hw || p.highWater.CompareAndSwap(hw, n) {
			break
		}
	}
	m := &nats.Msg{Subject: subject, Data: data}
	jsOpts := jsPublishOpts(opts)
	for {
		_, err := p.js.PublishMsgAsync(m, jsOpts...)
		if err == nil {
			return nil
		}
		if errors.Is(err, jetstream.ErrTooManyStalledMsgs) && ctx.Err() == nil {
			// Cannot normally happen (our slots are released after the
			// library's); wait and retry rather than fail.
			t := time.NewTimer(stallRetry)
			select {
			case <-t.C:
				continue
			case <-ctx.Done():
				t.Stop()
				err = ctx.Err()
			}
		}
		// Not handed to the library: no callback will release the slot.
		p.outstanding.Add(-1)
		<-p.slots
		return fmt.Errorf("bus: publish to %s: %w", subject, err)
	}
}

// Flush waits until every message published before the call has been
// acknowledged or has failed, then returns nil if all publishes since the
// previous Flush succeeded, or an error wrapping the first failure (and
// counting them). It returns early with ctx's error when ctx is done, and
// with an error wrapping ErrClosed if the Bus is closed while acks are
// outstanding.
func (p *Publisher) Flush(ctx context.Context) error {
	if p.initErr != nil {
		return p.initErr
	}
	held := 0
	defer func() {
		for range held {
			<-p.slots
		}
	}()
	for held < cap(p.slots) {
		select {
		case p.slots <- struct{}{}:
			held++
		case <-ctx.Done():
			return fmt.Errorf("bus: flush publisher: %d acks outstanding: %w", p.outstanding.Load(), ctx.Err())
		case <-p.b.done:
			return fmt.Errorf("bus: flush publisher: %d acks outstanding: %w", p.outstanding.Load(), ErrClosed)
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	err, failed := p.firstErr, p.failed
	p.firstErr, p.failed = nil, 0
	if err != nil {
		return fmt.Errorf("bus: flush publisher: %d publishes failed, first: %w", failed, err)
	}
	return nil
}

// Close releases the Publisher's resources. Publishes still awaiting their
// ack are abandoned and reported as failed to a later Flush, so call Flush
// first. Close is idempotent.
func (p *Publisher) Close() {
	if p.js != nil {
		p.js.CleanupPublisher()
	}
}
