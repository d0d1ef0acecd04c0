package bus

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"
)

// Entry is a message read by Follow: its stream sequence and payload.
type Entry struct {
	Seq  uint64
	Data []byte
}

// Follow reads the messages of stream on subject (wildcards allowed) in
// order, from sequence start (0: only messages stored from now on), and
// calls fn with each until ctx is done (it then returns nil), fn
// fails, or the Bus closes. It uses an ordered ephemeral consumer: nothing
// is acknowledged and the server forgets the consumer when Follow returns,
// so it suits many short-lived readers (live streams to clients).
func (b *Bus) Follow(ctx context.Context, stream, subject string, start uint64, fn func(Entry) error) error {
	if err := b.enter(); err != nil {
		return fmt.Errorf("bus: follow %s: %w", stream, err)
	}
	defer b.leave()
	cfg := jetstream.OrderedConsumerConfig{FilterSubjects: []string{subject}, DeliverPolicy: jetstream.DeliverNewPolicy}
	if start > 0 {
		cfg.DeliverPolicy, cfg.OptStartSeq = jetstream.DeliverByStartSequencePolicy, start
	}
	cons, err := b.js.OrderedConsumer(ctx, stream, cfg)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("bus: follow %s: %w", stream, err)
	}
	it, err := cons.Messages()
	if err != nil {
		return fmt.Errorf("bus: follow %s: %w", stream, err)
	}
	defer it.Stop()
	stop := context.AfterFunc(ctx, it.Stop)
	defer stop()
	stopBus := context.AfterFunc(b.stopping, it.Stop)
	defer stopBus()
	for {
		m, err := it.Next()
		if err != nil {
			if ctx.Err() != nil || b.stopping.Err() != nil || errors.Is(err, jetstream.ErrMsgIteratorClosed) {
				return nil
			}
			return fmt.Errorf("bus: follow %s: %w", stream, err)
		}
		md, err := m.Metadata()
		if err != nil {
			return fmt.Errorf("bus: follow %s: %w", stream, err)
		}
		if err := fn(Entry{Seq: md.Sequence.Stream, Data: m.Data()}); err != nil {
			return err
		}
	}
}

// StreamLastSeq returns the sequence of the last message of stream (0 if
// empty).
func (b *Bus) StreamLastSeq(ctx context.Context, stream string) (uint64, error) {
	s, err := b.js.Stream(ctx, stream)
	if err != nil {
		return 0, fmt.Errorf("bus: stream %s: %w", stream, err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		return 0, fmt.Errorf("bus: stream %s: %w", stream, err)
	}
	return info.State.LastSeq, nil
}
