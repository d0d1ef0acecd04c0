package bus

import (
	"context"
	"crypto/rand"
	"fmt"
	"time"
)

// Bench parameters.
const (
	benchMaxPending = 4096
	benchBatchSize  = 1000
)

// BenchResult is the outcome of Bench.
type BenchResult struct {
	Messages int           // messages published and consumed
	Size     int           // payload size in bytes
	Publish  time.Duration // time to publish all messages and receive their acks
	Consume  time.Duration // time to consume and acknowledge all messages
}

// PublishRate returns the published messages per second.
func (r BenchResult) PublishRate() float64 { return rate(r.Messages, r.Publish) }

// ConsumeRate returns the consumed messages per second.
func (r BenchResult) ConsumeRate() float64 { return rate(r.Messages, r.Consume) }

// Rate returns the messages per second over publishing and consuming
// together.
func (r BenchResult) Rate() float64 { return rate(r.Messages, r.Publish+r.Consume) }

func rate(n int, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

// Bench measures the bus: it publishes n messages of size bytes to a fresh
// file-backed stream through a Publisher (bounded pending acks), then
// consumes them all with Consume (a durable pull consumer with explicit
// acks), and finally deletes the stream, also on failure. The stream needs
// about n*(size+100) bytes of storage. ctx bounds the whole run.
func Bench(ctx context.Context, b *Bus, n, size int) (BenchResult, error) {
	res := BenchResult{Messages: n, Size: size}
	if n < 1 || size < 0 {
		return res, fmt.Errorf("bus: bench: invalid message count %d or size %d", n, size)
	}
	id := rand.Text()
	stream, subject := "BENCH_"+id, "focal.bench."+id
	if err := b.EnsureStream(ctx, StreamConfig{Name: stream, Subjects: []string{subject}}); err != nil {
		return res, fmt.Errorf("bus: bench: %w", err)
	}
	defer func() {
		// Delete even if ctx was cancelled.
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		if err := b.DeleteStream(dctx, stream); err != nil {
			b.log.Warn("bench: delete stream", "stream", stream, "error", err)
		}
	}()

	payload := make([]byte, size)
	if _, err := rand.Read(payload); err != nil {
		return res, fmt.Errorf("bus: bench: payload: %w", err)
	}

	start := time.Now()
	p := b.NewPublisher(benchMaxPending)
	defer p.Close()
	for i := range n {
		if err := p.Publish(ctx, subject, payload); err != nil {
			return res, fmt.Errorf("bus: bench: publish message %d: %w", i, err)
		}
	}
	if err := p.Flush(ctx); err != nil {
		return res, fmt.Errorf("bus: bench: %w", err)
	}
	res.Publish = time.Since(start)

	start = time.Now()
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// The handler runs on this goroutine (inside Consume): no locking needed.
	var (
		got    int
		badMsg error
	)
	err := b.Consume(cctx, ConsumerConfig{
		Stream:    stream,
		Durable:   "bench",
		BatchSize: benchBatchSize,
		MaxWait:   time.Second,
	}, func(_ context.Context, batch []Msg) error {
		for _, m := range batch {
			if len(m.Data) != size && badMsg == nil {
				badMsg = fmt.Errorf("bus: bench: message %d has %d bytes, want %d", m.Sequence, len(m.Data), size)
				cancel()
			}
		}
		if got += len(batch); got >= n {
			cancel()
		}
		return nil
	})
	res.Consume = time.Since(start)
	if err != nil {
		return res, fmt.Errorf("bus: bench: %w", err)
	}
	if badMsg != nil {
		return res, badMsg
	}
	if got < n {
		if ctx.Err() != nil {
			return res, fmt.Errorf("bus: bench: consumed %d of %d messages: %w", got, n, ctx.Err())
		}
		return res, fmt.Errorf("bus: bench: consumed %d of %d messages", got, n)
	}
	return res, nil
}
