package pipeline

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"focal/internal/bus"
	"focal/internal/feed"
	"focal/internal/focal"
	"focal/internal/lookup"
	"focal/internal/store"
)

// worker consumes chunk batches. Its scratch state is reused between
// batches; Consume calls handle sequentially.
type worker struct {
	p       *Pipeline
	scratch []byte
}

// parsed is one chunk after parsing.
type parsed struct {
	h        *chunkHeader
	done     store.ChunkDone
	events   []*focal.Event
	failed   error // the chunk failed as a whole (format changed, parser failure)
	problems int64
}

func (w *worker) handle(ctx context.Context, batch []bus.Msg) error {
	start := time.Now()
	chunks := make([]*parsed, 0, len(batch))
	pairs := make([][2]int64, 0, len(batch))
	for _, m := range batch {
		h, data, err := decodeChunk(m.Data)
		if err != nil {
			// Not ours to parse: never redeliverable into success.
			w.p.log.Error("pipeline: undecodable chunk dropped to the log", "subject", m.Subject, "seq", m.Sequence, "err", err)
			w.p.metrics.badChunks.Inc()
			continue
		}
		c := &parsed{h: h}
		c.done = store.ChunkDone{RunID: h.Run, Seq: int64(h.Seq), Lines: int64(h.Lines)}
		chunks = append(chunks, c)
		pairs = append(pairs, [2]int64{h.Run, int64(h.Seq)})
		c.events = c.events[:0]
		w.parse(c, data)
	}
	done, err := w.p.cfg.Store.DoneChunks(ctx, pairs)
	if err != nil {
		return err
	}
	b := &store.EventBatch{Node: w.p.cfg.Node}
	rows := map[[16]byte]int{}
	listings := map[listingKey]bool{}
	var failed []*parsed
	for _, c := range chunks {
		if done[[2]int64{c.h.Run, int64(c.h.Seq)}] {
			w.p.metrics.redelivered.Inc()
			continue
		}
		if c.failed != nil {
			failed = append(failed, c)
			c.done.ProblemCount = 1
			c.done.Problems = []focal.FeedProblem{{RunID: c.h.Run, Line: int64(c.h.First), Reason: c.failed.Error()}}
			c.done.Events = 0
			b.Chunks = append(b.Chunks, c.done)
			continue
		}
		c.done.Snapshot = c.h.Snapshot
		b.Chunks = append(b.Chunks, c.done)
		for _, e := range c.events {
			var k [16]byte
			k, w.scratch = dedupDigest(c.h, e, w.scratch)
			if i, ok := rows[k]; ok {
				fold(b.Rows[i].E, e)
			} else {
				rows[k] = len(b.Rows)
				b.Rows = append(b.Rows, store.EventRow{Key: k, FeedID: c.h.FeedID, RunID: c.h.Run, E: e})
			}
			if c.h.Snapshot {
				lk := listingKey{c.h.FeedID, feed.Indicator(e)}
				if !listings[lk] {
					listings[lk] = true
					b.Listings = append(b.Listings, store.ListingSeen{FeedID: c.h.FeedID, RunID: c.h.Run, Indicator: lk.indicator, At: time.UnixMilli(c.h.Now)})
				}
			}
		}
	}
	if len(b.Chunks) == 0 {
		return nil
	}
	res, err := w.p.cfg.Store.CommitEvents(ctx, b)
	if err != nil {
		if errors.Is(err, store.ErrChunkCommitted) {
			w.p.metrics.redelivered.Inc()
		}
		return err
	}
	for _, c := range failed {
		if err := w.p.cfg.Store.FailRun(ctx, c.h.Run, fmt.Sprintf("line %d: %v", c.h.First, c.failed)); err != nil {
			w.p.log.Error("pipeline: mark run failed", "run", c.h.Run, "err", err)
		}
		w.p.log.Warn("feed run failed", "feed", c.h.Feed, "run", c.h.Run, "err", c.failed)
	}
	var events, problems int64
	for _, c := range b.Chunks {
		events += c.Events
		problems += c.ProblemCount
	}
	w.p.metrics.chunks.Add(float64(len(b.Chunks)))
	w.p.metrics.events.Add(float64(events))
	w.p.metrics.problems.Add(float64(problems))
	w.p.metrics.rowsNew.Add(float64(res.New))
	w.p.metrics.rowsUpdated.Add(float64(res.Updated))
	w.p.metrics.batchSeconds.Observe(time.Since(start).Seconds())
	for _, r := range res.Completed {
		w.p.log.Info("feed run done", "feed", r.Feed, "run", r.ID, "lines", r.Lines, "events", r.Events, "new", r.Stored, "problems", r.Problems)
	}
	if w.p.cfg.OnCommit != nil {
		w.p.cfg.OnCommit(ctx, b, res)
	}
	return nil
}

type listingKey struct {
	feedID    int64
	indicator string
}

// fold adds sighting e into agg.
func fold(agg, e *focal.Event) {
	agg.Count += e.Count
	if e.FirstSeen.Before(agg.FirstSeen) {
		agg.FirstSeen = e.FirstSeen
	}
	if e.LastSeen.After(agg.LastSeen) {
		agg.LastSeen = e.LastSeen
		agg.SourceTime = e.SourceTime
	}
}

// parse parses one chunk, enriching and matching each event; problems
// are counted and the first ones kept.
func (w *worker) parse(c *parsed, data []byte) {
	f, err := formatOf(c.h.Format)
	if err != nil {
		c.failed = err
		return
	}
	run := c.h.run()
	t := w.p.lookupTable()
	geo := w.p.cfg.Geo
	var kept []focal.FeedProblem
	var override *focal.Classification
	if c.h.Class != "" {
		override = &focal.Classification{Class: c.h.Class, Type: c.h.Type}
	}
	st, err := feed.ParseChunk(f, feed.Chunk{Seq: c.h.Seq, FirstLine: c.h.First, Preamble: c.h.Pre, Lines: c.h.Lines, Data: data}, run,
		func(e *focal.Event) error {
			feed.Complete(e, run, "")
			if override != nil {
				e.Class, e.Type = override.Class, override.Type
			}
			enrich(e, geo)
			if w.p.cfg.RDNS != nil {
				name(e, w.p.cfg.RDNS)
			}
			e.Orgs = match(t, e)
			c.events = append(c.events, e)
			return nil
		},
		func(p feed.Problem) {
			c.problems++
			if len(kept) < store.MaxRunProblems {
				kept = append(kept, focal.FeedProblem{RunID: c.h.Run, Line: int64(p.Line), Reason: p.Reason, Raw: p.Raw})
			}
		})
	if err != nil {
		c.failed = err
		c.events = nil
		return
	}
	c.done.Lines = int64(st.Lines)
	c.done.Events = int64(len(c.events))
	c.done.ProblemCount = c.problems
	c.done.Problems = kept
}

func (p *Pipeline) lookupTable() *lookup.Table {
	if p.cfg.Lookup == nil {
		return nil
	}
	return p.cfg.Lookup.Load()
}

// enrich fills ASN and country of addressed endpoints the feed left
// blank.
func enrich(e *focal.Event, geo GeoFunc) {
	if geo == nil {
		return
	}
	for _, ep := range []*focal.Endpoint{&e.Source, &e.Destination} {
		if ep.IP.IsValid() && (ep.ASN == 0 || ep.Country == "") {
			if asn, cc, ok := geo(ep.IP); ok {
				if ep.ASN == 0 {
					ep.ASN = asn
				}
				if ep.Country == "" {
					ep.Country = cc
				}
			}
		}
	}
}

// name fills the host name of addressed endpoints that have none from
// reverse DNS, when the answer is a valid domain name.
func name(e *focal.Event, rdns func(netip.Addr) (string, bool)) {
	for _, ep := range []*focal.Endpoint{&e.Source, &e.Destination} {
		if ep.IP.IsValid() && ep.FQDN == "" {
			if n, ok := rdns(ep.IP); ok && focal.ValidateDomain(n) == nil {
				ep.FQDN = n
			}
		}
	}
}

// match returns the organisations the event concerns: those whose
// networks hold either address, whose ASNs announce them, or whose
// domains hold the FQDNs or URL hosts. The result may share memory with
// the lookup table and must not be modified.
func match(t *lookup.Table, e *focal.Event) []int64 {
	if t == nil {
		return nil
	}
	var out []int64
	add := func(ids []int64) {
		switch {
		case len(ids) == 0:
		case len(out) == 0:
			out = ids
		default:
			out = union(out, ids)
		}
	}
	for _, ep := range []*focal.Endpoint{&e.Source, &e.Destination} {
		if ep.IP.IsValid() {
			add(t.IP(ep.IP))
		}
		if ep.ASN != 0 {
			add(t.ASN(ep.ASN))
		}
		if ep.FQDN != "" {
			add(t.Domain(ep.FQDN))
		}
		if ep.URL != "" {
			add(t.URL(ep.URL))
		}
	}
	return out
}

// union returns the sorted union of two sorted sets in a new slice.
func union(a, b []int64) []int64 {
	out := make([]int64, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case j >= len(b) || (i < len(a) && a[i] < b[j]):
			out = append(out, a[i])
			i++
		case i >= len(a) || b[j] < a[i]:
			out = append(out, b[j])
			j++
		default:
			out = append(out, a[i])
			i++
			j++
		}
	}
	return out
}

// terminated records a chunk the bus gave up on after every redelivery
// failed: the run fails with the reason, so it is visible, not lost.
func (w *worker) terminated(m bus.Msg, cause error) {
	w.p.metrics.badChunks.Inc()
	h, _, err := decodeChunk(m.Data)
	if err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	msg := fmt.Sprintf("chunk %d (from line %d) could not be stored after %d attempts: %v", h.Seq, h.First, m.Delivered, cause)
	if err := w.p.cfg.Store.FailRun(focal.NewContextWithPrincipal(ctx, focal.System()), h.Run, msg); err != nil {
		w.p.log.Error("pipeline: mark run failed", "run", h.Run, "err", err)
	}
}
