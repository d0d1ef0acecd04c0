package restapi

import (
	"context"
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"focal/internal/feed/formats"
	"focal/internal/focal"
	"focal/internal/pipeline"
	"focal/internal/server"
)

// Bounds of POST /api/v1/ingest.
const (
	// maxIngestBody is the route's body limit: inputs are streamed into
	// the pipeline, never held whole, so it may be large.
	maxIngestBody = 2 << 30
	// ingestReadTimeout replaces the server's read timeout for an ingest
	// body, which may take longer than a form to arrive.
	ingestReadTimeout = time.Hour
	// ingestFullWait is how long intake waits for room in a full ingest
	// stream before the API answers 503.
	ingestFullWait = 10 * time.Second
	// ingestRetryAfter is the Retry-After of that 503, in seconds.
	ingestRetryAfter = 30
	// maxIngestWait bounds ?wait=true.
	maxIngestWait = 60 * time.Second
	// maxIngestKey bounds the caller's ?key=.
	maxIngestKey = 200
)

// ingest serves POST /api/v1/ingest?format=NAME&feed=NAME: the body, in
// the format, is streamed into the pipeline as a run of the feed.
//
// The feed defaults to the one named after the format, and a feed that
// does not exist yet is created on first use (TLP:AMBER, confidence 50)
// when format= is given and the format needs no options; a format with
// required options (iplist's class and type) needs a feed created first.
// An existing feed's format wins: a different format= is a 400.
// ?name= names the input (some formats read a report type from it; also
// taken from Content-Disposition), ?key= makes the request idempotent: a
// run with the same key resumes or is returned as it is.
//
// It answers 202 with the run once every chunk is queued, or with
// ?wait=true 200 with the run once it is complete (at most a minute; then
// 202 with the run as it is). A full queue is 503 with Retry-After; an
// input not in the format (a changed header, not a document of the
// format) is 422 naming what is wrong.
func (a *API) ingest(w http.ResponseWriter, r *http.Request) {
	if a.Pipeline == nil {
		a.Error(w, r, focal.Errorf(focal.EUNAVAILABLE, "this focal process does not ingest"))
		return
	}
	ctx := r.Context()
	q := r.URL.Query()
	wait := false
	if v := q.Get("wait"); v != "" {
		var err error
		if wait, err = strconv.ParseBool(v); err != nil {
			a.Error(w, r, focal.FieldErrorf("wait", "want true or false, got %q", v))
			return
		}
	}
	fd, err := a.ingestFeed(ctx, strings.TrimSpace(q.Get("format")), strings.TrimSpace(q.Get("feed")))
	if err != nil {
		a.Error(w, r, err)
		return
	}
	name := q.Get("name")
	if name == "" {
		if _, params, err := mime.ParseMediaType(r.Header.Get("Content-Disposition")); err == nil {
			name = params["filename"]
		}
	}
	key := q.Get("key")
	if len(key) > maxIngestKey {
		a.Error(w, r, focal.FieldErrorf("key", "at most %d bytes", maxIngestKey))
		return
	}
	if key != "" {
		key = "api:" + strconv.FormatInt(fd.ID, 10) + ":" + key
	}
	if err := http.NewResponseController(w).SetReadDeadline(time.Now().Add(ingestReadTimeout)); err != nil {
		a.Logger.Debug("ingest: extend read deadline", "err", err)
	}
	run, err := a.Pipeline.Ingest(ctx, pipeline.Request{Feed: fd, Source: "api", Input: name, Key: key, Body: r.Body, FullWait: ingestFullWait})
	if err != nil {
		a.ingestError(w, r, run, err)
		return
	}
	status := http.StatusAccepted
	if wait {
		wctx, cancel := context.WithTimeout(ctx, maxIngestWait)
		final, err := a.Pipeline.WaitRun(wctx, run.ID, nil)
		cancel()
		switch {
		case final != nil && final.State != focal.RunRunning:
			run, status = final, http.StatusOK // done, or failed in the workers: the run says why
		case final != nil:
			run = final // still running after the wait: 202 as without it
		case err != nil:
			a.Error(w, r, err)
			return
		}
	}
	b := runToBody(run)
	w.Header().Set("Location", b.URL)
	a.writeJSON(w, status, b)
}

// ingestFeed finds the feed an ingest request names, creating the
// format's own feed (or the named feed) on first use.
func (a *API) ingestFeed(ctx context.Context, formatName, feedName string) (*focal.FeedDef, error) {
	if feedName == "" && formatName == "" {
		return nil, focal.FieldErrorf("format", "give format= (and feed= to ingest into a feed other than the format's own)")
	}
	if formatName != "" {
		f, err := formats.Lookup(formatName)
		if err != nil {
			return nil, focal.FieldErrorf("format", "%v", err)
		}
		formatName = f.Name
	}
	if feedName == "" {
		feedName = formatName
	}
	fd, err := a.Store.FeedByName(ctx, feedName)
	switch {
	case focal.ErrorCode(err) == focal.ENOTFOUND:
		if formatName == "" {
			return nil, focal.FieldErrorf("feed", "no feed named %q: give format= to create it", feedName)
		}
		f, err := formats.Lookup(formatName)
		if err != nil {
			return nil, focal.FieldErrorf("format", "%v", err)
		}
		if err := f.CheckOptions(nil); err != nil {
			return nil, focal.FieldErrorf("feed", "%v: create a feed with its options (POST /api/v1/feeds) and name it with feed=", err)
		}
		fd = &focal.FeedDef{Name: feedName, Format: f.Name, TLP: focal.TLPAmber, Confidence: defaultConfidence, Enabled: true}
		if err := a.Store.CreateFeed(ctx, fd); err != nil {
			// Another request may have created it meanwhile.
			existing, ferr := a.Store.FeedByName(ctx, feedName)
			if ferr != nil {
				return nil, err
			}
			fd = existing
		}
		return fd, nil
	case err != nil:
		return nil, err
	case formatName != "" && formatName != fd.Format:
		return nil, focal.FieldErrorf("format", "feed %s reads format %s, not %s", fd.Name, fd.Format, formatName)
	}
	return fd, nil
}

// ingestError answers a failed ingest: 503 with Retry-After when the
// queue stayed full, 413 for a body over the limit, the mapped status of
// a focal error, and 422 for a run the input failed (not in the format).
func (a *API) ingestError(w http.ResponseWriter, r *http.Request, run *focal.FeedRun, err error) {
	var mbe *http.MaxBytesError
	switch {
	case errors.Is(err, pipeline.ErrBusy):
		w.Header().Set("Retry-After", strconv.Itoa(ingestRetryAfter))
		a.Error(w, r, focal.Errorf(focal.EUNAVAILABLE, "the ingest queue is full; try again in %d seconds", ingestRetryAfter))
	case errors.As(err, &mbe):
		a.Error(w, r, focal.Errorf(focal.ETOOLARGE, "input larger than %d bytes", mbe.Limit))
	case r.Context().Err() != nil:
		a.Logger.Info("ingest cut short by the client", "err", err)
	case run != nil && run.State == focal.RunFailed:
		// The run started and the input failed it: a format change.
		a.Logger.Info("ingest refused the input", "run", run.ID, "feed", run.Feed, "err", err)
		a.problem(w, r, http.StatusUnprocessableEntity, err.Error())
	default:
		a.Error(w, r, err)
	}
}

// problem answers with a problem document of a status that no focal
// error code maps to (422: the request was understood, its content is
// not what it claims to be).
func (a *API) problem(w http.ResponseWriter, r *http.Request, status int, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	err := json.NewEncoder(w).Encode(server.Problem{Type: "about:blank", Title: http.StatusText(status), Status: status, Detail: detail, Instance: r.URL.Path})
	if err != nil {
		a.Logger.Debug("write problem", "err", err)
	}
}
