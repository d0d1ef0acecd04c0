package assess

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"
)

// EvidenceLink is an answer's evidence URL as the link checker sees it.
type EvidenceLink struct {
	AssessmentID int64
	Item         string
	URL          string
	Broken       bool // as last flagged
}

// LinkStore is what the link checker needs of the store.
type LinkStore interface {
	// EvidenceLinks returns up to limit links last checked before before.
	EvidenceLinks(ctx context.Context, before time.Time, limit int) ([]EvidenceLink, error)
	// FlagEvidenceLink records a check's result; it never deletes anything.
	FlagEvidenceLink(ctx context.Context, l EvidenceLink, broken bool, status string, at time.Time) error
}

// LinkChecker checks evidence URLs and flags the answers whose link is
// broken (a network error, or a 4xx or 5xx status other than 429); it
// never deletes an answer or its evidence. It is the only part of this
// package that does I/O, through Client. Set the fields before calling
// CheckOnce or Run; the zero Interval, Recheck, Batch and Client mean
// one hour, seven days, 50 and a client with a 15-second timeout.
type LinkChecker struct {
	Store    LinkStore
	Client   *http.Client
	Logger   *slog.Logger
	Interval time.Duration // between rounds
	Recheck  time.Duration // how old a check must be to check again
	Batch    int           // links per round
	Now      func() time.Time
}

// Run checks a batch of links every Interval until ctx ends; it returns
// ctx's error. Errors of a round are logged, not fatal.
func (c *LinkChecker) Run(ctx context.Context) error {
	every := c.Interval
	if every <= 0 {
		every = time.Hour
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if _, _, err := c.CheckOnce(ctx); err != nil && ctx.Err() == nil && c.Logger != nil {
			c.Logger.Warn("evidence link check", "err", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// CheckOnce checks one batch of links due for a check and returns how
// many it checked and how many it found broken.
func (c *LinkChecker) CheckOnce(ctx context.Context) (checked, broken int, err error) {
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	recheck := c.Recheck
	if recheck <= 0 {
		recheck = 7 * 24 * time.Hour
	}
	batch := c.Batch
	if batch <= 0 {
		batch = 50
	}
	client := c.Client
	if client == nil {
		client = &http.Client{Timeout: 15 * time.Second}
	}
	links, err := c.Store.EvidenceLinks(ctx, now().Add(-recheck), batch)
	if err != nil {
		return 0, 0, fmt.Errorf("evidence links: %w", err)
	}
	for _, l := range links {
		if ctx.Err() != nil {
			return checked, broken, ctx.Err()
		}
		bad, status := probe(ctx, client, l.URL)
		if err := c.Store.FlagEvidenceLink(ctx, l, bad, status, now()); err != nil {
			return checked, broken, err
		}
		checked++
		if bad {
			broken++
		}
	}
	return checked, broken, nil
}

// probe fetches u (HEAD, then GET when HEAD is not allowed) and says
// whether the link is broken, with the status seen.
func probe(ctx context.Context, client *http.Client, u string) (bool, string) {
	var last string
	for _, method := range []string{http.MethodHead, http.MethodGet} {
		req, err := http.NewRequestWithContext(ctx, method, u, nil)
		if err != nil {
			return true, "bad URL: " + err.Error()
		}
		req.Header.Set("User-Agent", "focal-evidence-check/1")
		resp, err := client.Do(req)
		if err != nil {
			return true, "unreachable: " + err.Error()
		}
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // drain for reuse; a short read does not matter
		resp.Body.Close()
		last = resp.Status
		if method == http.MethodHead && (resp.StatusCode == http.StatusMethodNotAllowed || resp.StatusCode == http.StatusNotImplemented) {
			continue
		}
		return resp.StatusCode >= 400 && resp.StatusCode != http.StatusTooManyRequests, last
	}
	return true, last
}
