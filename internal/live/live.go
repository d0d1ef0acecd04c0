// Package live tells organisations about their new events as they are
// stored. After each pipeline commit, Publish writes, per organisation,
// the ids of the events that were new to a JetStream stream (one subject
// per organisation); Follow reads one organisation's subject from a
// position, so a client that reconnects with the last position it saw
// (the SSE Last-Event-ID) misses nothing the stream still holds.
//
// Positions are "SEQ.N": the stream sequence of a published batch and the
// index of the event within it, so they grow in commit order whichever
// process committed. The stream keeps a day of batches (at most 256 MiB);
// an event committed by a process that died before publishing is in the
// store and the /api/v1/my/events listing, but not in the stream.
package live

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"focal/internal/bus"
	"focal/internal/store"
)

// Hub publishes and follows live events on one database's stream.
type Hub struct {
	bus     *bus.Bus
	stream  string
	subject string // prefix, ends with "."
}

// New returns a Hub whose stream is named after name (the database's node
// id: processes on one database share it).
func New(b *bus.Bus, name string) *Hub {
	n := strings.ToUpper(name)
	return &Hub{bus: b, stream: "FOCAL_LIVE_" + n, subject: "focal.live." + strings.ToLower(n) + "."}
}

// Ensure creates or updates the stream.
func (h *Hub) Ensure(ctx context.Context) error {
	return h.bus.EnsureStream(ctx, bus.StreamConfig{
		Name:     h.stream,
		Subjects: []string{h.subject + ">"},
		MaxAge:   24 * time.Hour,
		MaxBytes: 256 << 20,
	})
}

// batch is one published message: the new events of one organisation in
// one commit.
type batch struct {
	IDs []int64 `json:"ids"`
}

// Publish sends each organisation the ids of the events new in a commit.
func (h *Hub) Publish(ctx context.Context, b *store.EventBatch, r *store.CommitResult) error {
	per := map[int64][]int64{}
	for i, row := range b.Rows {
		if !r.IsNew(i) {
			continue
		}
		id := r.EventID(i)
		for _, org := range row.E.Orgs {
			per[org] = append(per[org], id)
		}
	}
	for org, ids := range per {
		data, err := json.Marshal(batch{IDs: ids})
		if err != nil {
			return err
		}
		if err := h.bus.Publish(ctx, h.subject+strconv.FormatInt(org, 10), data); err != nil {
			return fmt.Errorf("live: %w", err)
		}
	}
	return nil
}

// Position is where a follower is: after event N of batch Seq.
type Position struct {
	Seq uint64
	N   int
}

// String renders "SEQ.N".
func (p Position) String() string { return fmt.Sprintf("%d.%d", p.Seq, p.N) }

// ParsePosition reads "SEQ.N" (or "SEQ", meaning after the whole batch).
func ParsePosition(s string) (Position, error) {
	seq, n, found := strings.Cut(strings.TrimSpace(s), ".")
	var p Position
	var err error
	if p.Seq, err = strconv.ParseUint(seq, 10, 64); err != nil || p.Seq == 0 {
		return Position{}, fmt.Errorf("not a stream position: %q", s)
	}
	p.N = 1 << 30
	if found {
		if p.N, err = strconv.Atoi(n); err != nil || p.N < 0 {
			return Position{}, fmt.Errorf("not a stream position: %q", s)
		}
	}
	return p, nil
}

// Follow calls fn with each new event id of organisation org and its
// position, starting after from (zero Position: from now on), until ctx
// is done.
func (h *Hub) Follow(ctx context.Context, org int64, from Position, fn func(Position, []int64) error) error {
	return h.bus.Follow(ctx, h.stream, h.subject+strconv.FormatInt(org, 10), from.Seq, func(e bus.Entry) error {
		var b batch
		if err := json.Unmarshal(e.Data, &b); err != nil {
			return nil // not ours: skip
		}
		first := 0
		if e.Seq == from.Seq {
			first = from.N + 1
		}
		if first >= len(b.IDs) {
			return nil
		}
		return fn(Position{Seq: e.Seq, N: first}, b.IDs[first:])
	})
}
