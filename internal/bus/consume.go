package bus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Consumer defaults, used for zero ConsumerConfig fields.
const (
	// DefaultBatchSize is the default ConsumerConfig.BatchSize.
	DefaultBatchSize = 100
	// DefaultMaxWait is the default ConsumerConfig.MaxWait.
	DefaultMaxWait = 5 * time.Second
	// DefaultAckWait is the default ConsumerConfig.AckWait.
	DefaultAckWait = 30 * time.Second
	// DefaultMaxDeliver is the default ConsumerConfig.MaxDeliver.
	DefaultMaxDeliver = 10
	// DefaultNakDelay is the default ConsumerConfig.NakDelay.
	DefaultNakDelay = time.Second

	// maxNakDelay caps the redelivery backoff of a failed message.
	maxNakDelay = 5 * time.Minute
	// maxPause caps the pause after consecutive failed batches.
	maxPause = 30 * time.Second
	// maxRetryWait caps the wait between attempts after fetch errors.
	maxRetryWait = 5 * time.Second
	// ackFlushTimeout bounds the flush of acks when Consume returns.
	ackFlushTimeout = 2 * time.Second
)

// ConsumerConfig configures Consume. Zero values select the defaults.
type ConsumerConfig struct {
	// Stream to consume; it must exist (EnsureStream). Required.
	Stream string
	// Durable is the consumer's name: the server remembers its position
	// and acknowledgements under this name, and all Consume calls using the
	// same Stream and Durable share the messages. Required.
	Durable string
	// FilterSubject restricts the consumer to matching subjects (wildcards
	// allowed); "" means every subject of the stream.
	FilterSubject string
	// BatchSize is the maximum number of messages per handler call,
	// default DefaultBatchSize.
	BatchSize int
	// MaxWait is how long one fetch waits for messages when the stream has
	// none (a long poll), default DefaultMaxWait. Messages are handed to the
	// handler as soon as they are available; Consume never waits to fill a
	// batch.
	MaxWait time.Duration
	// AckWait is how long the server waits for the acknowledgement of a
	// delivered message before redelivering it, default DefaultAckWait.
	// While a handler runs, Consume tells the server every AckWait/2 that the
	// batch is still in progress, so slow handlers do not cause redelivery.
	AckWait time.Duration
	// MaxDeliver is how many times a message is delivered before Consume
	// gives up on it, default DefaultMaxDeliver; negative means never give
	// up.
	MaxDeliver int
	// MaxAckPending limits the messages delivered but not yet acknowledged
	// across all Consume calls of the durable; default max(1000,
	// 4*BatchSize).
	MaxAckPending int
	// NakDelay is the base redelivery delay after a failed batch, default
	// DefaultNakDelay; it doubles with every further delivery of a message,
	// up to five minutes.
	NakDelay time.Duration
	// OnTerminate, if set, is called (from the Consume goroutine) for each
	// message Consume gives up on, with the handler's last error. Such
	// messages are always logged at error level as well.
	OnTerminate func(m Msg, cause error)
}

// Msg is a message delivered to a Consume handler. Consume acknowledges it;
// the handler only reports success or failure for its batch.
type Msg struct {
	// Subject the message was published to.
	Subject string
	// Data is the payload.
	Data []byte
	// MsgID is the ID set with WithMsgID, or "".
	MsgID string
	// Delivered counts deliveries of this message to the durable, starting
	// at 1.
	Delivered uint64
	// Sequence is the message's sequence number in the stream.
	Sequence uint64
	// Time is when the stream stored the message.
	Time time.Time

	msg jetstream.Msg
}

// Consume delivers the messages of cfg.Stream to handle, in batches of up
// to cfg.BatchSize, until ctx is done or the Bus is closed; it then returns
// nil. It creates the durable consumer cfg.Durable, or updates it to cfg.
//
// Every message of a batch is acknowledged only after handle returned nil.
// If handle returns an error, the batch is negatively acknowledged and
// redelivered after a backoff (cfg.NakDelay, doubling per delivery), and
// after consecutive failures Consume pauses before fetching again. When a
// failed batch contains messages on their last delivery (cfg.MaxDeliver),
// handle is called once more for each of them alone, so that one bad
// message cannot condemn its batch-mates; a message that still fails is
// terminated (never redelivered) and reported to cfg.OnTerminate and the
// log. Messages that the server stops redelivering without Consume seeing
// them fail (a worker died holding them on their last delivery) are
// reported to the log too.
//
// handle is called sequentially, with a context that is cancelled when ctx
// is, or when Close runs out of patience; a batch whose handler returns an
// error after that is released for immediate redelivery. Run several
// Consume calls (in one or many processes) with the same Stream and Durable
// to share the work. A durable deleted while Consume runs is recreated and,
// like any new durable, starts at the beginning of the stream. Consume
// returns an error if cfg is invalid, the stream does not exist or
// disappears, or the Bus is closed before the call; transient errors are
// logged and retried.
func (b *Bus) Consume(ctx context.Context, cfg ConsumerConfig, handle func(ctx context.Context, batch []Msg) error) error {
	if cfg.Stream == "" || cfg.Durable == "" {
		return fmt.Errorf("bus: consume: stream (%q) and durable (%q) are required", cfg.Stream, cfg.Durable)
	}
	if handle == nil {
		return fmt.Errorf("bus: consume %s/%s: nil handler", cfg.Stream, cfg.Durable)
	}
	cfg = withConsumerDefaults(cfg)
	if err := b.enter(); err != nil {
		return fmt.Errorf("bus: consume %s/%s: %w", cfg.Stream, cfg.Durable, err)
	}
	defer b.leave()

	// fetchCtx stops the fetching (ctx done or Close started); handlerCtx
	// is given to handle (ctx done or Close out of patience).
	fetchCtx, cancelFetch := context.WithCancel(ctx)
	defer cancelFetch()
	defer context.AfterFunc(b.stopping, cancelFetch)()
	handlerCtx, cancelHandler := context.WithCancel(ctx)
	defer cancelHandler()
	defer context.AfterFunc(b.killing, cancelHandler)()

	c := &consumer{
		b:      b,
		cfg:    cfg,
		handle: handle,
		log:    b.log.With("stream", cfg.Stream, "durable", cfg.Durable),
	}
	cons, err := c.ensure(fetchCtx)
	if err != nil {
		if fetchCtx.Err() != nil {
			return nil
		}
		return err
	}
	unwatch, err := c.watchMaxDeliveries()
	if err != nil {
		return err
	}
	defer unwatch()
	defer c.flushAcks()
	return c.run(fetchCtx, handlerCtx, cons)
}

func withConsumerDefaults(cfg ConsumerConfig) ConsumerConfig {
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = DefaultBatchSize
	}
	if cfg.MaxWait <= 0 {
		cfg.MaxWait = DefaultMaxWait
	}
	if cfg.AckWait <= 0 {
		cfg.AckWait = DefaultAckWait
	}
	if cfg.MaxDeliver == 0 {
		cfg.MaxDeliver = DefaultMaxDeliver
	}
	if cfg.MaxDeliver < 0 {
		cfg.MaxDeliver = -1
	}
	if cfg.MaxAckPending <= 0 {
		cfg.MaxAckPending = max(1000, 4*cfg.BatchSize)
	}
	if cfg.NakDelay <= 0 {
		cfg.NakDelay = DefaultNakDelay
	}
	return cfg
}

// consumer is the state of one Consume call; it is used by that call's
// goroutine only (the advisory callback touches only the logger).
type consumer struct {
	b      *Bus
	cfg    ConsumerConfig
	handle func(ctx context.Context, batch []Msg) error
	log    *slog.Logger
}

// ensure creates or updates the durable consumer.
func (c *consumer) ensure(ctx context.Context) (jetstream.Consumer, error) {
	cons, err := c.b.js.CreateOrUpdateConsumer(ctx, c.cfg.Stream, jetstream.ConsumerConfig{
		Durable:       c.cfg.Durable,
		FilterSubject: c.cfg.FilterSubject,
		DeliverPolicy: jetstream.DeliverAllPolicy,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       c.cfg.AckWait,
		MaxDeliver:    c.cfg.MaxDeliver,
		MaxAckPending: c.cfg.MaxAckPending,
	})
	if err != nil {
		return nil, fmt.Errorf("bus: consume %s/%s: create consumer: %w", c.cfg.Stream, c.cfg.Durable, err)
	}
	return cons, nil
}

// maxDeliveriesAdvisory is the part of the server's max-deliveries advisory
// that is logged.
type maxDeliveriesAdvisory struct {
	StreamSeq  uint64 `json:"stream_seq"`
	Deliveries uint64 `json:"deliveries"`
}

// watchMaxDeliveries logs the server's advisories about messages of this
// durable that reached MaxDeliver without being acknowledged or terminated
// by Consume, which happens when a worker dies (or overruns AckWait) holding
// a message on its last delivery. Every running Consume of the durable logs
// them.
func (c *consumer) watchMaxDeliveries() (func(), error) {
	subject := fmt.Sprintf("$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.%s.%s", c.cfg.Stream, c.cfg.Durable)
	sub, err := c.b.nc.Subscribe(subject, func(m *nats.Msg) {
		var adv maxDeliveriesAdvisory
		if err := json.Unmarshal(m.Data, &adv); err != nil {
			c.log.Error("undecodable max deliveries advisory", "error", err)
			return
		}
		c.log.Error("message reached max deliveries unacknowledged and will not be redelivered",
			"seq", adv.StreamSeq, "deliveries", adv.Deliveries)
	})
	if err != nil {
		return nil, fmt.Errorf("bus: consume %s/%s: watch advisories: %w", c.cfg.Stream, c.cfg.Durable, err)
	}
	return func() {
		if err := sub.Unsubscribe(); err != nil && !errors.Is(err, nats.ErrConnectionClosed) && !errors.Is(err, nats.ErrConnectionDraining) && !errors.Is(err, nats.ErrBadSubscription) {
			c.log.Debug("unsubscribe advisories", "error", err)
		}
	}, nil
}

// flushAcks makes sure the acks sent with plain Ack reached the server.
func (c *consumer) flushAcks() {
	if err := c.b.nc.FlushTimeout(ackFlushTimeout); err != nil {
		// A closed connection was drained (and its acks flushed) by Close.
		if !errors.Is(err, nats.ErrConnectionClosed) {
			c.log.Warn("flush acks; unflushed acks mean redelivery", "error", err)
		}
	}
}

// run is the fetch/handle loop.
func (c *consumer) run(fetchCtx, handlerCtx context.Context, cons jetstream.Consumer) error {
	var (
		retryWait time.Duration // after fetch errors
		failures  int           // consecutive failed batches
	)
	for fetchCtx.Err() == nil {
		msgs, idle, err := c.fetch(fetchCtx, cons)
		if idle && err == nil {
			// Some servers answer pulls for a deleted consumer with
			// silence: check that it still exists once per idle poll.
			if _, ierr := cons.Info(fetchCtx); ierr != nil {
				err = fmt.Errorf("check consumer: %w", ierr)
			}
		}
		if len(msgs) > 0 {
			if fetchCtx.Err() != nil {
				// Stopping: hand the batch to another worker right away.
				c.nakAll(msgs)
				break
			}
			if c.process(handlerCtx, msgs) {
				failures = 0
			} else {
				failures++
				if failures > 1 {
					pause := backoff(c.cfg.NakDelay, failures-2, maxPause)
					c.log.Warn("consecutive batches failed, pausing", "failures", failures, "pause", pause)
					sleep(fetchCtx, pause)
				}
			}
		}
		if err == nil {
			retryWait = 0
			continue
		}
		if fetchCtx.Err() != nil {
			break
		}
		if errors.Is(err, nats.ErrConnectionClosed) {
			if c.b.isClosed() {
				break
			}
			return fmt.Errorf("bus: consume %s/%s: %w", c.cfg.Stream, c.cfg.Durable, err)
		}
		retryWait = min(max(2*retryWait, 100*time.Millisecond), maxRetryWait)
		c.log.Warn("fetch failed, retrying", "error", err, "wait", retryWait)
		sleep(fetchCtx, retryWait)
		if fetchCtx.Err() != nil {
			break
		}
		// The consumer may have been deleted: recreate it. A missing
		// stream is fatal.
		if cons, err = c.ensure(fetchCtx); err != nil {
			if fetchCtx.Err() != nil {
				break
			}
			if errors.Is(err, jetstream.ErrStreamNotFound) || errors.Is(err, nats.ErrConnectionClosed) {
				return err
			}
			c.log.Warn("recreate consumer failed, retrying", "error", err)
		}
	}
	return nil
}

// fetch returns the next batch: whatever is available right away, up to
// BatchSize; if nothing is, it long-polls up to MaxWait for one message.
// idle reports that the long poll ended without a message.
func (c *consumer) fetch(ctx context.Context, cons jetstream.Consumer) (msgs []jetstream.Msg, idle bool, err error) {
	mb, err := cons.FetchNoWait(c.cfg.BatchSize)
	if err != nil {
		return nil, false, err
	}
	msgs, err = collect(mb)
	if len(msgs) > 0 || err != nil {
		return msgs, false, err
	}
	pctx, cancel := context.WithTimeout(ctx, c.cfg.MaxWait)
	defer cancel()
	mb, err = cons.Fetch(1, jetstream.FetchContext(pctx))
	if err != nil {
		if ctx.Err() == nil && pctx.Err() != nil {
			return nil, true, nil // MaxWait too short to even ask
		}
		return nil, false, err
	}
	msgs, err = collect(mb)
	if err != nil && errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
		err = nil // the long poll ran out before the server's expiry
	}
	return msgs, len(msgs) == 0 && ctx.Err() == nil, err
}

func collect(mb jetstream.MessageBatch) ([]jetstream.Msg, error) {
	var msgs []jetstream.Msg
	for m := range mb.Messages() {
		msgs = append(msgs, m)
	}
	return msgs, mb.Error()
}

// outcome is what happens to one message after its batch was handled.
type outcome int

const (
	outcomeAck outcome = iota
	outcomeNak
	outcomeRelease // nak without delay, for immediate redelivery
	outcomeTerm
)

// process hands the messages to the handler and acks, naks or terminates
// them. It reports whether the batch succeeded.
func (c *consumer) process(ctx context.Context, jms []jetstream.Msg) bool {
	batch := make([]Msg, len(jms))
	for i, jm := range jms {
		batch[i] = c.toMsg(jm)
	}
	outcomes := make([]outcome, len(batch))
	causes := make([]error, len(batch))

	stopKeepAlive := c.keepAlive(jms)
	defer stopKeepAlive() // in case handle panics; no-op otherwise
	err := c.handle(ctx, batch)
	switch {
	case err == nil:
		// all outcomeAck
	case ctx.Err() != nil:
		c.log.Info("batch interrupted by shutdown, releasing it for redelivery", "messages", len(batch), "error", err)
		for i := range outcomes {
			outcomes[i] = outcomeRelease
		}
	default:
		c.log.Warn("handler failed, batch will be redelivered", "messages", len(batch), "error", err)
		for i, m := range batch {
			if !c.lastDelivery(m) {
				outcomes[i] = outcomeNak
				continue
			}
			cause := err
			if len(batch) > 1 {
				// Last chance: try the message alone.
				cause = c.handle(ctx, batch[i:i+1])
				if cause != nil && ctx.Err() != nil {
					outcomes[i] = outcomeRelease
					continue
				}
			}
			if cause == nil {
				outcomes[i] = outcomeAck
			} else {
				outcomes[i], causes[i] = outcomeTerm, cause
			}
		}
	}
	stopKeepAlive()

	for i, m := range batch {
		c.settle(m, outcomes[i], causes[i])
	}
	return err == nil
}

// lastDelivery reports whether m will not be redelivered if it fails now.
func (c *consumer) lastDelivery(m Msg) bool {
	return c.cfg.MaxDeliver > 0 && m.Delivered >= uint64(c.cfg.MaxDeliver)
}

func (c *consumer) settle(m Msg, o outcome, cause error) {
	var err error
	switch o {
	case outcomeAck:
		err = m.msg.Ack()
	case outcomeNak:
		err = m.msg.NakWithDelay(backoff(c.cfg.NakDelay, int(m.Delivered)-1, max(c.cfg.NakDelay, maxNakDelay)))
	case outcomeRelease:
		err = m.msg.Nak()
	case outcomeTerm:
		err = m.msg.Term()
		c.log.Error("giving up on message after max deliveries",
			"subject", m.Subject, "seq", m.Sequence, "msg_id", m.MsgID, "deliveries", m.Delivered, "error", cause)
		if c.cfg.OnTerminate != nil {
			c.cfg.OnTerminate(m, cause)
		}
	}
	if err != nil {
		c.log.Warn("settling message failed; the server will redeliver it after AckWait",
			"subject", m.Subject, "seq", m.Sequence, "error", err)
	}
}

func (c *consumer) nakAll(jms []jetstream.Msg) {
	for _, jm := range jms {
		if err := jm.Nak(); err != nil {
			c.log.Debug("nak on shutdown", "error", err)
		}
	}
}

// keepAlive tells the server every AckWait/2 that the messages are still
// being worked on, until the returned function is called; that function
// returns after the keep-alive goroutine has exited and may be called again.
func (c *consumer) keepAlive(jms []jetstream.Msg) func() {
	var once sync.Once
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(max(c.cfg.AckWait/2, time.Millisecond))
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				for _, jm := range jms {
					if err := jm.InProgress(); err != nil {
						c.log.Debug("in-progress signal failed", "error", err)
					}
				}
			}
		}
	}()
	return func() {
		once.Do(func() { close(stop) })
		<-done
	}
}

func (c *consumer) toMsg(jm jetstream.Msg) Msg {
	m := Msg{Subject: jm.Subject(), Data: jm.Data(), MsgID: jm.Headers().Get(jetstream.MsgIDHeader), msg: jm}
	md, err := jm.Metadata()
	if err != nil {
		c.log.Warn("message without metadata", "subject", m.Subject, "error", err)
		return m
	}
	m.Delivered, m.Sequence, m.Time = md.NumDelivered, md.Sequence.Stream, md.Timestamp
	return m
}

// backoff returns base doubled n times, capped at limit.
func backoff(base time.Duration, n int, limit time.Duration) time.Duration {
	d := base
	for i := 0; i < n && d < limit; i++ {
		d *= 2
	}
	return min(d, limit)
}

// sleep waits for d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}
