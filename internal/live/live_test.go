package live

import (
	"context"
	"strconv"
	"testing"
	"time"

	"focal/internal/bus"
	"focal/internal/focal"
	"focal/internal/store"
)

func TestFollowResumes(t *testing.T) {
	ctx := context.Background()
	b, err := bus.Open(ctx, bus.Config{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	h := New(b, "test")
	if err := h.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	publish := func(org int64, ids ...int64) {
		bt := &store.EventBatch{}
		r := &store.CommitResult{}
		for _, id := range ids {
			bt.Rows = append(bt.Rows, store.EventRow{E: &focal.Event{Orgs: []int64{org}}})
			r.IDs = append(r.IDs, -id)
		}
		if err := h.Publish(ctx, bt, r); err != nil {
			t.Fatal(err)
		}
	}
	publish(1, 10, 11)
	publish(2, 20)
	publish(1, 12)
	read := func(from Position, n int) []string {
		fctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		var got []string
		h.Follow(fctx, 1, from, func(p Position, ids []int64) error {
			for i, id := range ids {
				got = append(got, Position{p.Seq, p.N + i}.String()+"="+itoa(id))
			}
			if len(got) >= n {
				cancel()
			}
			return nil
		})
		return got
	}
	all := read(Position{Seq: 1, N: -1}, 3)
	if len(all) != 3 || all[0] != "1.0=10" || all[1] != "1.1=11" || all[2] != "3.0=12" {
		t.Fatalf("from the start: %v", all)
	}
	p, _ := ParsePosition("1.0")
	if got := read(p, 2); len(got) != 2 || got[0] != "1.1=11" || got[1] != "3.0=12" {
		t.Errorf("after 1.0: %v", got)
	}
	p, _ = ParsePosition("1.1")
	if got := read(p, 1); len(got) != 1 || got[0] != "3.0=12" {
		t.Errorf("after 1.1: %v", got)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
