package bus

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// StreamConfig describes a stream: a durable, ordered log of the messages
// published to its subjects. Zero values select the defaults noted below.
type StreamConfig struct {
	// Name of the stream: letters, digits, '-' and '_'. Required.
	Name string
	// Subjects captured by the stream; NATS wildcards ("*", ">") allowed.
	// At least one is required and they must not overlap another stream's.
	Subjects []string
	// MaxAge discards messages older than this; 0 keeps them forever.
	MaxAge time.Duration
	// MaxBytes caps the stream size; 0 means unlimited. What happens when
	// it is reached depends on DiscardNew.
	MaxBytes int64
	// Duplicates is the window within which a message published again with
	// the same WithMsgID is dropped; 0 means the server default (2 minutes,
	// or MaxAge if shorter).
	Duplicates time.Duration
	// Replicas is the number of copies kept by a clustered external server;
	// 0 means 1. The embedded server supports only 1.
	Replicas int
	// Memory keeps the stream in memory instead of files: faster, but lost
	// when the server stops. The embedded server caps memory storage at
	// 64 MiB in total.
	Memory bool
	// WorkQueue removes each message from the stream as soon as a consumer
	// has acknowledged it (instead of keeping it until MaxAge/MaxBytes).
	// Such a stream allows one durable consumer per subject. It cannot be
	// changed after the stream was created.
	WorkQueue bool
	// DiscardNew makes a full stream (MaxBytes) reject new publishes with an
	// error instead of silently dropping its oldest messages.
	DiscardNew bool
}

// EnsureStream creates the stream described by cfg, or updates an existing
// stream of that name to cfg. It fails if the update is not allowed (for
// example changing the storage type or WorkQueue) or if the subjects overlap
// another stream's. Streams use file storage unless cfg.Memory is set.
func (b *Bus) EnsureStream(ctx context.Context, cfg StreamConfig) error {
	if cfg.Name == "" {
		return errors.New("bus: ensure stream: empty name")
	}
	if len(cfg.Subjects) == 0 {
		return fmt.Errorf("bus: ensure stream %s: no subjects", cfg.Name)
	}
	if b.isClosed() {
		return fmt.Errorf("bus: ensure stream %s: %w", cfg.Name, ErrClosed)
	}
	sc := jetstream.StreamConfig{
		Name:       cfg.Name,
		Subjects:   cfg.Subjects,
		MaxAge:     cfg.MaxAge,
		MaxBytes:   cfg.MaxBytes,
		Duplicates: cfg.Duplicates,
		Replicas:   max(cfg.Replicas, 1),
		Storage:    jetstream.FileStorage,
		Retention:  jetstream.LimitsPolicy,
		Discard:    jetstream.DiscardOld,
	}
	if sc.MaxBytes <= 0 {
		sc.MaxBytes = -1
	}
	if cfg.Memory {
		sc.Storage = jetstream.MemoryStorage
	}
	if cfg.WorkQueue {
		sc.Retention = jetstream.WorkQueuePolicy
	}
	if cfg.DiscardNew {
		sc.Discard = jetstream.DiscardNew
	}
	if _, err := b.js.CreateOrUpdateStream(ctx, sc); err != nil {
		return fmt.Errorf("bus: ensure stream %s: %w", cfg.Name, err)
	}
	return nil
}

// DeleteStream deletes the stream and its consumers and messages. Deleting
// a stream that does not exist is not an error.
func (b *Bus) DeleteStream(ctx context.Context, name string) error {
	if name == "" {
		return errors.New("bus: delete stream: empty name")
	}
	if b.isClosed() {
		return fmt.Errorf("bus: delete stream %s: %w", name, ErrClosed)
	}
	err := b.js.DeleteStream(ctx, name)
	if err != nil && !errors.Is(err, jetstream.ErrStreamNotFound) {
		return fmt.Errorf("bus: delete stream %s: %w", name, err)
	}
	return nil
}
