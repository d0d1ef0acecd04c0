package collect

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"focal/internal/feed/misp"
	"focal/internal/focal"
)

// mispSaveEvery is how many ingested events a MISP poll goes between
// saves of its state, so that a poll interrupted half-way does not fetch
// everything again.
const mispSaveEvery = 50

// mispState is what a Poller remembers of a MISP feed between polls, in
// the store's meta table under mispStateKey: the version (the manifest
// timestamp, unix seconds) of every event it ingested that the manifest
// still lists. An event is fetched when the manifest lists it with
// another timestamp or not at all. The state belongs to one feed URL and
// one feed (by creation time, in case a feed id is reused): for another
// it starts empty, and every event is fetched.
//
// The state holds about 50 bytes per event of the manifest (at most
// misp.MaxManifestEntries). Losing it costs downloads, never double
// counting: each event version is ingested under its own run key.
type mispState struct {
	URL     string           `json:"url"`
	Created int64            `json:"created"` // the feed's creation time, unix ms
	Seen    map[string]int64 `json:"seen"`    // event uuid -> manifest timestamp
}

func mispStateKey(feedID int64) string { return "collect.misp." + strconv.FormatInt(feedID, 10) }

// pollMISP polls a MISP feed: its manifest (conditional GET), then each
// event that changed since it was last ingested, each as a run of its
// own. The manifest's validators are kept only when every event it
// listed was ingested; otherwise the next poll reads the manifest again
// and retries the events that failed.
func (p *Poller) pollMISP(ctx context.Context, f *focal.FeedDef) {
	sys := focal.NewContextWithPrincipal(ctx, focal.System())
	mu := mispURL(f.URL, "manifest.json")
	resp, done, err := p.get(ctx, mu, f.ETag, f.LastModified)
	if err != nil {
		p.fail(ctx, f, mu, err.Error(), 0)
		return
	}
	switch {
	case resp.StatusCode == http.StatusNotModified:
		done()
		if err := p.Store.RecordUnchanged(sys, f.ID, redact(mu)); err != nil {
			p.log.Error("record unchanged poll", "feed", f.Name, "err", err)
		}
		p.log.Info("feed polled", "feed", f.Name, "status", resp.StatusCode, "bytes", 0, "state", focal.RunUnchanged)
		return
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		done()
		p.fail(ctx, f, mu, statusError(mu, resp), resp.StatusCode)
		return
	}
	body, err := decodeBody(resp.Body, "the manifest", p.maxBytes())
	var entries []misp.ManifestEntry
	if err == nil {
		entries, err = misp.ParseManifest(body)
	}
	done()
	if err != nil {
		p.fail(ctx, f, mu, fmt.Sprintf("GET %s: %v", redact(mu), err), resp.StatusCode)
		return
	}
	etag, lastModified := resp.Header.Get("ETag"), resp.Header.Get("Last-Modified")

	old, err := p.loadMISPState(sys, f)
	if err != nil {
		p.fail(ctx, f, mu, fmt.Sprintf("read the feed's MISP state: %v", err), resp.StatusCode)
		return
	}
	st := &mispState{URL: f.URL, Created: f.Created.UnixMilli(), Seen: map[string]int64{}}
	var todo []misp.ManifestEntry
	for _, e := range entries {
		if ts, ok := old.Seen[e.UUID]; ok && ts == e.Timestamp.Unix() {
			st.Seen[e.UUID] = ts
		} else {
			todo = append(todo, e)
		}
	}
	if len(todo) == 0 {
		p.saveMISPState(ctx, f, st)
		p.keepValidators(ctx, f, etag, lastModified)
		if err := p.Store.RecordUnchanged(sys, f.ID, redact(mu)); err != nil {
			p.log.Error("record unchanged poll", "feed", f.Name, "err", err)
		}
		p.log.Info("feed polled", "feed", f.Name, "status", resp.StatusCode, "events_listed", len(entries),
			"fetched", 0, "state", focal.RunUnchanged)
		return
	}

	pending := map[int64]string{} // run id -> event uuid
	fetched, failed := 0, 0
	for _, e := range todo {
		if ctx.Err() != nil {
			break
		}
		run, err := p.fetchEvent(ctx, f, e)
		if err != nil {
			failed++
			continue
		}
		fetched++
		st.Seen[e.UUID] = e.Timestamp.Unix()
		pending[run.ID] = e.UUID
		if fetched%mispSaveEvery == 0 {
			p.saveMISPState(ctx, f, st)
		}
	}

	// Wait for the runs; an event whose run failed is fetched again.
	var bytes, events int64
	wctx, cancel := context.WithTimeout(ctx, p.waitTimeout())
	for id, uuid := range pending {
		r, err := p.Pipeline.WaitRun(wctx, id, nil)
		if r != nil {
			bytes += r.Bytes
			events += r.Events
			if r.State == focal.RunFailed {
				delete(st.Seen, uuid)
				failed++
				fetched--
			}
		} else if wctx.Err() == nil {
			p.log.Error("wait for run", "feed", f.Name, "run", id, "err", err)
		}
	}
	timedOut := wctx.Err() != nil && ctx.Err() == nil
	cancel()
	if timedOut {
		p.log.Warn("runs still in progress; not waiting longer", "feed", f.Name, "waited", p.waitTimeout())
	}
	p.saveMISPState(ctx, f, st)
	if failed == 0 && fetched == len(todo) {
		p.keepValidators(ctx, f, etag, lastModified)
	} else {
		p.keepValidators(ctx, f, "", "")
	}
	p.log.Info("feed polled", "feed", f.Name, "status", resp.StatusCode, "events_listed", len(entries),
		"fetched", fetched, "failed", failed, "bytes", bytes, "events", events)
}

// fetchEvent fetches one event of a MISP feed and ingests it under the
// key of its version. A failure is recorded as a failed run and returned.
func (p *Poller) fetchEvent(ctx context.Context, f *focal.FeedDef, e misp.ManifestEntry) (*focal.FeedRun, error) {
	u := mispURL(f.URL, e.UUID+".json")
	key := fmt.Sprintf("misp:%d:%s:%d", f.ID, e.UUID, e.Timestamp.Unix())
	resp, done, err := p.get(ctx, u, "", "")
	if err != nil {
		p.fail(ctx, f, u, err.Error(), 0)
		return nil, err
	}
	defer done()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		msg := statusError(u, resp)
		p.fail(ctx, f, u, msg, resp.StatusCode)
		return nil, errors.New(msg)
	}
	run, err := p.ingest(ctx, f, resp, u, key)
	if err != nil {
		p.log.Warn("misp event failed", "feed", f.Name, "event", e.UUID, "run", runID(run), "err", err)
		return nil, err
	}
	p.log.Debug("misp event ingested", "feed", f.Name, "event", e.UUID, "run", run.ID)
	return run, nil
}

// keepValidators stores the manifest's validators ("" forgets them).
func (p *Poller) keepValidators(ctx context.Context, f *focal.FeedDef, etag, lastModified string) {
	sys := focal.NewContextWithPrincipal(context.WithoutCancel(ctx), focal.System())
	if err := p.Store.SetFeedHTTPState(sys, f.ID, etag, lastModified); err != nil {
		p.log.Error("keep feed validators", "feed", f.Name, "err", err)
	}
}

// loadMISPState returns the state of feed f, empty when there is none or
// it belongs to another URL or feed.
func (p *Poller) loadMISPState(ctx context.Context, f *focal.FeedDef) (*mispState, error) {
	v, err := p.Store.Meta(ctx, mispStateKey(f.ID))
	if focal.ErrorCode(err) == focal.ENOTFOUND {
		return &mispState{}, nil
	}
	if err != nil {
		return nil, err
	}
	var st mispState
	if err := json.Unmarshal([]byte(v), &st); err != nil {
		p.log.Warn("unreadable MISP feed state; fetching every event", "feed", f.Name, "err", err)
		return &mispState{}, nil
	}
	if st.URL != f.URL || st.Created != f.Created.UnixMilli() {
		return &mispState{}, nil
	}
	return &st, nil
}

// saveMISPState stores st, even when ctx is done (a poll interrupted by
// shutdown keeps what it did).
func (p *Poller) saveMISPState(ctx context.Context, f *focal.FeedDef, st *mispState) {
	b, err := json.Marshal(st)
	if err != nil {
		p.log.Error("save MISP feed state", "feed", f.Name, "err", err)
		return
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if err := p.Store.SetMeta(sctx, mispStateKey(f.ID), string(b)); err != nil {
		p.log.Error("save MISP feed state", "feed", f.Name, "err", err)
	}
}

// mispURL returns the URL of file name in the MISP feed at base, which
// names the feed's directory (with or without a final slash, or its
// manifest.json). A query string of base is kept.
func mispURL(base, name string) string {
	u, err := url.Parse(base)
	if err != nil {
		return strings.TrimSuffix(base, "/") + "/" + name
	}
	dir := strings.TrimSuffix(u.Path, "/manifest.json")
	u.Path = strings.TrimSuffix(dir, "/") + "/" + name
	u.RawPath = ""
	return u.String()
}
