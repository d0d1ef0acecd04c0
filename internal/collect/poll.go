package collect

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"time"

	"focal/internal/feed/misp"
	"focal/internal/focal"
	"focal/internal/pipeline"
	"focal/internal/store"
	"focal/internal/version"
)

// Defaults of Poller.
const (
	DefaultPollInterval    = 5 * time.Second
	DefaultMaxBytes        = 10 << 30
	DefaultPollConcurrency = 2
	// headerTimeout bounds the wait for a response's headers.
	headerTimeout = 30 * time.Second
	// bodyStall bounds a single read of a body; the body as a whole has
	// no time limit.
	bodyStall = 2 * time.Minute
	// maxRedirects is the number of redirects a GET follows.
	maxRedirects = 5
)

// Poller polls the feeds that have a URL and an interval, whenever one is
// due. Store and Pipeline are required; the other fields have defaults.
// Set the fields before the first call of Run and do not copy a Poller
// after it; Run may be called by one goroutine at a time.
type Poller struct {
	Store    *store.Store
	Pipeline *pipeline.Pipeline
	// Client sends the requests. Nil means a client that waits at most
	// 30s for response headers and sets no total timeout (bodies stream
	// for as long as they take, as long as data keeps coming). A client
	// without a CheckRedirect gets one that follows at most 5 redirects,
	// to http and https URLs only.
	Client *http.Client
	Logger *slog.Logger
	// Interval is how often Run looks for due feeds (default 5s).
	Interval time.Duration
	// MaxBytes bounds a body after decompression (default 10 GiB); a
	// larger body fails its run with a message naming the limit.
	MaxBytes int64
	// UserAgent is sent with every request (default "focal/<version>").
	UserAgent string
	// Concurrency is the number of feeds polled at once (default 2).
	Concurrency int
	// WaitTimeout bounds how long a poll waits for its run to be
	// committed by the pipeline's workers before it frees its slot
	// (default DefaultWaitTimeout); the run goes on regardless.
	WaitTimeout time.Duration

	once sync.Once
	hc   *http.Client
	log  *slog.Logger
}

func (p *Poller) init() {
	p.once.Do(func() {
		p.log = discardLogger(p.Logger).With("component", "poller")
		if p.Client == nil {
			t, ok := http.DefaultTransport.(*http.Transport)
			if ok {
				t = t.Clone()
			} else {
				t = &http.Transport{Proxy: http.ProxyFromEnvironment}
			}
			t.ResponseHeaderTimeout = headerTimeout
			p.hc = &http.Client{Transport: t, CheckRedirect: checkRedirect}
		} else {
			c := *p.Client
			if c.CheckRedirect == nil {
				c.CheckRedirect = checkRedirect
			}
			p.hc = &c
		}
	})
}

// checkRedirect follows at most maxRedirects redirects, to http and
// https only.
func checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= maxRedirects {
		return fmt.Errorf("stopped after %d redirects", maxRedirects)
	}
	if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
		return fmt.Errorf("redirect to %s: only http and https are followed", req.URL.Redacted())
	}
	return nil
}

func (p *Poller) interval() time.Duration {
	if p.Interval > 0 {
		return p.Interval
	}
	return DefaultPollInterval
}

func (p *Poller) maxBytes() int64 {
	if p.MaxBytes > 0 {
		return p.MaxBytes
	}
	return DefaultMaxBytes
}

func (p *Poller) concurrency() int {
	if p.Concurrency > 0 {
		return p.Concurrency
	}
	return DefaultPollConcurrency
}

func (p *Poller) waitTimeout() time.Duration {
	if p.WaitTimeout > 0 {
		return p.WaitTimeout
	}
	return DefaultWaitTimeout
}

func (p *Poller) userAgent() string {
	if p.UserAgent != "" {
		return p.UserAgent
	}
	if version.Version != "" {
		return "focal/" + version.Version
	}
	return "focal"
}

// Run polls due feeds until ctx is done: every Interval it claims due
// feeds (store.ClaimDueFeed, which moves each one's next poll one
// interval on) while fewer than Concurrency polls are in flight, and
// polls each in its own goroutine. Failed polls are recorded as failed
// runs and logged; they do not stop Run. Run returns nil once ctx is
// done and the polls in flight have stopped, or an error at once when
// Store or Pipeline is missing.
func (p *Poller) Run(ctx context.Context) error {
	if p.Store == nil || p.Pipeline == nil {
		return errors.New("poller: Store and Pipeline are required")
	}
	p.init()
	sys := focal.NewContextWithPrincipal(ctx, focal.System())
	slots := make(chan struct{}, p.concurrency())
	var wg sync.WaitGroup
	defer wg.Wait()
	tick := time.NewTicker(p.interval())
	defer tick.Stop()
	for {
	claim:
		for ctx.Err() == nil {
			select {
			case slots <- struct{}{}:
			default:
				break claim // every slot busy
			}
			f, err := p.Store.ClaimDueFeed(sys, time.Now())
			if err != nil || f == nil {
				<-slots
				if err != nil && ctx.Err() == nil {
					p.log.Error("claim due feed", "err", err)
				}
				break
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { <-slots }()
				p.poll(ctx, f)
			}()
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// poll polls one feed and records the outcome as a run.
func (p *Poller) poll(ctx context.Context, f *focal.FeedDef) {
	p.init()
	if f.Format == misp.Format {
		p.pollMISP(ctx, f)
		return
	}
	sys := focal.NewContextWithPrincipal(ctx, focal.System())
	resp, done, err := p.get(ctx, f.URL, f.ETag, f.LastModified)
	if err != nil {
		p.fail(ctx, f, f.URL, err.Error(), 0)
		return
	}
	defer done()
	switch {
	case resp.StatusCode == http.StatusNotModified:
		if err := p.Store.RecordUnchanged(sys, f.ID, redact(f.URL)); err != nil {
			p.log.Error("record unchanged poll", "feed", f.Name, "err", err)
		}
		p.log.Info("feed polled", "feed", f.Name, "status", resp.StatusCode, "bytes", 0, "state", focal.RunUnchanged)
		return
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		p.fail(ctx, f, f.URL, statusError(f.URL, resp), resp.StatusCode)
		return
	}
	run, err := p.ingest(ctx, f, resp, f.URL, "")
	if err != nil {
		p.log.Warn("feed poll failed", "feed", f.Name, "status", resp.StatusCode, "run", runID(run), "err", err)
		return
	}
	// The body is in the stream: the workers will commit it whatever
	// happens to this process, so the validators may be kept now.
	if err := p.Store.SetFeedHTTPState(sys, f.ID, resp.Header.Get("ETag"), resp.Header.Get("Last-Modified")); err != nil {
		p.log.Error("keep feed validators", "feed", f.Name, "err", err)
	}
	run = p.wait(ctx, run)
	p.log.Info("feed polled", "feed", f.Name, "status", resp.StatusCode, "bytes", run.Bytes, "run", run.ID,
		"state", run.State, "events", run.Events, "problems", run.Problems)
}

// get sends a GET to u, conditional when etag or lastModified is set. On
// success the caller reads resp.Body (guarded against stalls) and then
// calls done. The error reads "GET <url>: <what went wrong>".
func (p *Poller) get(ctx context.Context, u, etag, lastModified string) (resp *http.Response, done func(), err error) {
	rctx, cancel := context.WithCancel(ctx)
	req, err := http.NewRequestWithContext(rctx, http.MethodGet, u, nil)
	if err != nil {
		cancel()
		return nil, nil, fmt.Errorf("GET %s: %v", redact(u), err)
	}
	if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
		cancel()
		return nil, nil, fmt.Errorf("GET %s: only http and https URLs are polled", redact(u))
	}
	req.Header.Set("User-Agent", p.userAgent())
	if etag != "" {
		req.Header.Set("If-None-Match", etag)
	}
	if lastModified != "" {
		req.Header.Set("If-Modified-Since", lastModified)
	}
	resp, err = p.hc.Do(req)
	if err != nil {
		cancel()
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, nil, fmt.Errorf("GET %s: %v", redact(u), err)
	}
	body := resp.Body
	resp.Body = struct {
		io.Reader
		io.Closer
	}{newStallReader(body, bodyStall, cancel), body}
	return resp, func() {
		if err := body.Close(); err != nil {
			p.log.Debug("close response body", "url", redact(u), "err", err)
		}
		cancel()
	}, nil
}

// ingest streams a 2xx response into the pipeline as a run of f with key
// (a new run when key is ""). Failures are recorded as failed runs and
// returned; the caller logs them.
func (p *Poller) ingest(ctx context.Context, f *focal.FeedDef, resp *http.Response, u, key string) (*focal.FeedRun, error) {
	body, err := decodeBody(resp.Body, "the response body of "+redact(u), p.maxBytes())
	if err != nil {
		msg := fmt.Sprintf("GET %s: %v", redact(u), err)
		if ctx.Err() == nil {
			recordFailure(ctx, p.Store, p.log, f, "poll", redact(u), msg)
		}
		return nil, errors.New(msg)
	}
	run, err := p.Pipeline.Ingest(ctx, pipeline.Request{Feed: f, Source: "poll", Input: redact(u), Key: key, Body: body})
	if err != nil {
		if run == nil {
			// Refused before a run existed (a feed whose format is gone).
			recordFailure(ctx, p.Store, p.log, f, "poll", redact(u), err.Error())
		}
		return run, err
	}
	return run, nil
}

// wait waits, within WaitTimeout, for run to be committed and returns it
// as it then is.
func (p *Poller) wait(ctx context.Context, run *focal.FeedRun) *focal.FeedRun {
	wctx, cancel := context.WithTimeout(ctx, p.waitTimeout())
	defer cancel()
	r, err := p.Pipeline.WaitRun(wctx, run.ID, nil)
	if r == nil {
		if ctx.Err() == nil {
			p.log.Error("wait for run", "feed", run.Feed, "run", run.ID, "err", err)
		}
		return run
	}
	if err != nil && r.State == focal.RunRunning && ctx.Err() == nil {
		p.log.Warn("run still in progress; not waiting longer", "feed", run.Feed, "run", run.ID, "waited", p.waitTimeout())
	}
	return r
}

// fail records and logs a poll that failed before the pipeline saw it;
// a poll interrupted by the end of ctx (shutdown) is not a failure.
func (p *Poller) fail(ctx context.Context, f *focal.FeedDef, u, msg string, status int) {
	if ctx.Err() != nil {
		p.log.Debug("feed poll interrupted", "feed", f.Name, "err", msg)
		return
	}
	recordFailure(ctx, p.Store, p.log, f, "poll", redact(u), msg)
	p.log.Warn("feed poll failed", "feed", f.Name, "status", status, "err", msg)
}

// statusError describes an answer that is neither 2xx nor 304.
func statusError(u string, resp *http.Response) string {
	status := resp.Status
	if status == "" {
		status = fmt.Sprintf("%d %s", resp.StatusCode, http.StatusText(resp.StatusCode))
	}
	return fmt.Sprintf("GET %s: %s", redact(u), status)
}

// redact hides a password in a URL.
func redact(u string) string {
	pu, err := url.Parse(u)
	if err != nil {
		return u
	}
	return pu.Redacted()
}

func runID(r *focal.FeedRun) int64 {
	if r == nil {
		return 0
	}
	return r.ID
}
