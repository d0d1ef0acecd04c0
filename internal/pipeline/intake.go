package pipeline

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"focal/internal/bus"
	"focal/internal/feed"
	"focal/internal/focal"
	"focal/internal/store"
)

// Request is one input to ingest.
type Request struct {
	Feed   *focal.FeedDef
	Source string // poll, upload, api, cli, dir, demo
	Input  string // file name or URL, for people and for formats that read it
	// Key identifies the input: a run with the same key resumes instead of
	// counting the input twice. "" makes a new run.
	Key  string
	Body io.Reader
	// Progress, if set, is called with the bytes read so far.
	Progress func(read int64)
	// FullWait bounds how long intake waits for room when the stream is
	// full; 0 waits as long as ctx allows. When it runs out Ingest
	// returns an error wrapping ErrBusy.
	FullWait time.Duration
}

// ErrBusy means the pipeline is saturated: the ingest stream stayed full
// longer than the caller was willing to wait. HTTP intake answers 503.
var ErrBusy = errors.New("the ingest stream is full; try again later")

// publishers is the number of chunks published concurrently.
const publishers = 4

// Ingest reads req.Body into the stream and returns the run once every
// chunk is stored in JetStream (not yet processed: see WaitRun). A format
// change detected on the first lines fails the run before anything is
// published; a read or publish error fails it with that error.
func (p *Pipeline) Ingest(ctx context.Context, req Request) (*focal.FeedRun, error) {
	f, err := formatOf(req.Feed.Format)
	if err != nil {
		return nil, focal.FieldErrorf("format", "%v", err)
	}
	if err := f.CheckOptions(req.Feed.Options); err != nil {
		return nil, focal.FieldErrorf("options", "%v", err)
	}
	key := req.Key
	if key == "" {
		var r [8]byte
		rand.Read(r[:]) //nolint:errcheck // never fails
		key = fmt.Sprintf("%s:%d:%d:%s", req.Source, req.Feed.ID, time.Now().UnixMilli(), hex.EncodeToString(r[:]))
	}
	sys := focal.NewContextWithPrincipal(ctx, focal.System())
	run := &focal.FeedRun{FeedID: req.Feed.ID, Feed: req.Feed.Name, Key: key, Source: req.Source, Input: focal.CutText(req.Input, 500)}
	resumed, err := p.cfg.Store.StartRun(sys, run)
	if err != nil {
		return nil, err
	}
	if resumed && run.ChunksTotal >= 0 {
		return run, nil // already read to its end; workers finish it
	}
	skip := map[int64]bool{}
	if resumed {
		if skip, err = p.cfg.Store.RunChunks(sys, run.ID); err != nil {
			return nil, err
		}
	}
	h := chunkHeader{
		Run: run.ID, FeedID: req.Feed.ID, Feed: req.Feed.Name, Provider: req.Feed.Provider, TLP: req.Feed.TLP,
		Confidence: req.Feed.Confidence, Format: f.Name, Options: req.Feed.Options, Class: req.Feed.Class, Type: req.Feed.Type,
		DedupFields: req.Feed.DedupFields, Window: int64(req.Feed.DedupWindow / time.Second), Snapshot: f.Snapshot,
		Now: run.Started.UnixMilli(), Name: req.Input,
	}
	fail := func(err error) (*focal.FeedRun, error) {
		if ferr := p.cfg.Store.FailRun(sys, run.ID, err.Error()); ferr != nil {
			p.log.Error("pipeline: mark run failed", "run", run.ID, "err", ferr)
		}
		run.State, run.Error = focal.RunFailed, err.Error()
		return run, err
	}
	cr := &countingReader{r: req.Body, progress: req.Progress}
	br := bufio.NewReaderSize(cr, 256<<10)
	if f.Framing == feed.FrameLines {
		if err := dryRun(f, br, h.run()); err != nil {
			return fail(fmt.Errorf("the input does not look like %s (%s): %w", f.Name, f.Title, err))
		}
	}
	var intakeProblems []focal.FeedProblem
	var problemCount int64
	report := func(pr feed.Problem) {
		problemCount++
		if len(intakeProblems) < store.MaxRunProblems {
			intakeProblems = append(intakeProblems, focal.FeedProblem{RunID: run.ID, Line: int64(pr.Line), Reason: pr.Reason, Raw: pr.Raw})
		}
	}
	pub := newChunkPublisher(ctx, p, req.FullWait)
	total, err := 0, error(nil)
	_, err = feed.Chunks(f, br, h.run(), p.cfg.ChunkSize, func(c feed.Chunk) error {
		total++
		if skip[int64(c.Seq)] {
			return nil
		}
		ch := h
		ch.Seq, ch.First, ch.Pre, ch.Lines = c.Seq, c.FirstLine, c.Preamble, c.Lines
		data, err := encodeChunk(&ch, c.Data)
		if err != nil {
			return err
		}
		p.metrics.intakeChunks.Inc()
		return pub.publish(p.subject+strconv.FormatInt(req.Feed.ID, 10), data, fmt.Sprintf("%d/%d", run.ID, c.Seq))
	}, report)
	if perr := pub.wait(); err == nil {
		err = perr
	}
	p.metrics.intakeBytes.Add(float64(cr.n))
	if perr := p.cfg.Store.AddRunProblems(sys, run.ID, problemCount, intakeProblems); perr != nil && err == nil {
		err = perr
	}
	if err != nil {
		return fail(err)
	}
	r, err := p.cfg.Store.FinishIntake(sys, run.ID, int64(total), cr.n, f.Snapshot)
	if err != nil {
		return fail(err)
	}
	return r, nil
}

// dryRun parses the start of the input (what is buffered, cut at the last
// full line) and returns the parser's error: a header that is not the
// format's fails here, before anything is published.
func dryRun(f *feed.Format, br *bufio.Reader, run feed.Run) error {
	head, _ := br.Peek(64 << 10)
	if i := bytes.LastIndexByte(head, '\n'); i >= 0 && len(head) == 64<<10 {
		head = head[:i+1]
	}
	_, err := f.Parse(bytes.NewReader(head), run, func(*focal.Event) error { return nil }, nil)
	return err
}

type countingReader struct {
	r        io.Reader
	n        int64
	progress func(int64)
}

func (c *countingReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.n += int64(n)
	if c.progress != nil && n > 0 {
		c.progress(c.n)
	}
	return n, err
}

// chunkPublisher publishes chunks from a few goroutines, each awaiting its
// ack, so intake holds at most a few chunks and learns exactly which
// publish failed. A full stream is waited out (backpressure).
type chunkPublisher struct {
	ctx      context.Context
	p        *Pipeline
	fullWait time.Duration
	jobs     chan pubJob
	wg       sync.WaitGroup
	mu       sync.Mutex
	err      error
}

type pubJob struct {
	subject, id string
	data        []byte
}

func newChunkPublisher(ctx context.Context, p *Pipeline, fullWait time.Duration) *chunkPublisher {
	cp := &chunkPublisher{ctx: ctx, p: p, fullWait: fullWait, jobs: make(chan pubJob)}
	for range publishers {
		cp.wg.Add(1)
		go func() {
			defer cp.wg.Done()
			for j := range cp.jobs {
				if cp.failed() {
					continue
				}
				if err := cp.send(j); err != nil {
					cp.mu.Lock()
					if cp.err == nil {
						cp.err = err
					}
					cp.mu.Unlock()
				}
			}
		}()
	}
	return cp
}

func (cp *chunkPublisher) failed() bool {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	return cp.err != nil
}

func (cp *chunkPublisher) publish(subject string, data []byte, id string) error {
	if cp.failed() {
		return cp.firstErr()
	}
	select {
	case cp.jobs <- pubJob{subject, id, data}:
		return nil
	case <-cp.ctx.Done():
		return cp.ctx.Err()
	}
}

func (cp *chunkPublisher) firstErr() error {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	return cp.err
}

func (cp *chunkPublisher) wait() error {
	close(cp.jobs)
	cp.wg.Wait()
	return cp.err
}

// send publishes one chunk, waiting while the stream is full.
func (cp *chunkPublisher) send(j pubJob) error {
	var deadline time.Time
	if cp.fullWait > 0 {
		deadline = time.Now().Add(cp.fullWait)
	}
	delay := 20 * time.Millisecond
	for {
		ctx, cancel := context.WithTimeout(cp.ctx, 30*time.Second)
		err := cp.p.cfg.Bus.Publish(ctx, j.subject, j.data, bus.WithMsgID(j.id))
		cancel()
		if err == nil {
			return nil
		}
		if cp.ctx.Err() != nil {
			return cp.ctx.Err()
		}
		if !streamFull(err) {
			return err
		}
		cp.p.metrics.waits.Inc()
		if !deadline.IsZero() && time.Now().After(deadline) {
			return fmt.Errorf("%w (%v)", ErrBusy, err)
		}
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-cp.ctx.Done():
			t.Stop()
			return cp.ctx.Err()
		}
		delay = min(delay*2, 200*time.Millisecond)
	}
}

// streamFull reports whether a publish failed because the stream reached
// its limits (or the server is briefly unable to store).
func streamFull(err error) bool {
	s := strings.ToLower(err.Error())
	for _, m := range []string{"maximum bytes", "maximum messages", "insufficient resources", "resource limits", "no response", "timeout", "deadline"} {
		if strings.Contains(s, m) {
			return true
		}
	}
	return false
}

// WaitRun waits until the run is complete (every chunk committed) or
// failed, calling progress, if set, with the run as it goes.
func (p *Pipeline) WaitRun(ctx context.Context, id int64, progress func(*focal.FeedRun)) (*focal.FeedRun, error) {
	sys := focal.NewContextWithPrincipal(ctx, focal.System())
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		r, err := p.cfg.Store.Run(sys, id)
		if err != nil {
			return nil, err
		}
		if progress != nil {
			progress(r)
		}
		if r.State != focal.RunRunning {
			if r.State == focal.RunFailed {
				return r, fmt.Errorf("run %d failed: %s", r.ID, r.Error)
			}
			return r, nil
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			return r, ctx.Err()
		}
	}
}
