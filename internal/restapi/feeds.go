package restapi

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"focal/internal/feed"
	"focal/internal/feed/formats"
	"focal/internal/focal"
)

// Defaults of new feeds and bounds of the run listings.
const (
	defaultConfidence = 50
	defaultRunLimit   = 50
	maxRunLimit       = 1000
	maxListingLimit   = 10000
)

// feedBody is a feed definition as the API reads and writes it. Durations
// are whole seconds. On input the read-only fields (id, next_run,
// created, updated, last_run) are ignored, so what GET returns may be PUT
// back.
type feedBody struct {
	ID           int64             `json:"id,omitempty"`
	Name         string            `json:"name"`
	Format       string            `json:"format"`
	URL          string            `json:"url,omitempty"`
	Provider     string            `json:"provider,omitempty"`
	TLP          string            `json:"tlp,omitempty"`
	Confidence   *int              `json:"confidence,omitempty"`
	IntervalS    int64             `json:"interval_s"`
	Options      map[string]string `json:"options,omitempty"`
	Class        string            `json:"class,omitempty"`
	Type         string            `json:"type,omitempty"`
	DedupFields  []string          `json:"dedup_fields,omitempty"`
	DedupWindowS int64             `json:"dedup_window_s"`
	ExpireAfterS int64             `json:"expire_after_s"`
	Enabled      *bool             `json:"enabled,omitempty"`
	NextRun      *time.Time        `json:"next_run,omitempty"`
	Created      *time.Time        `json:"created,omitempty"`
	Updated      *time.Time        `json:"updated,omitempty"`
	LastRun      *runBody          `json:"last_run,omitempty"`
}

func feedToBody(f *focal.FeedDef) feedBody {
	b := feedBody{
		ID: f.ID, Name: f.Name, Format: f.Format, URL: f.URL, Provider: f.Provider, TLP: string(f.TLP), Confidence: &f.Confidence,
		IntervalS: int64(f.Interval / time.Second), Options: f.Options, Class: f.Class, Type: f.Type, DedupFields: f.DedupFields,
		DedupWindowS: int64(f.DedupWindow / time.Second), ExpireAfterS: int64(f.ExpireAfter / time.Second), Enabled: &f.Enabled,
		Created: &f.Created, Updated: &f.Updated,
	}
	if !f.NextRun.IsZero() && f.Interval > 0 {
		b.NextRun = &f.NextRun
	}
	return b
}

// toFeed checks a request body against the format registry and converts
// it; FeedDef.Validate (in the store) checks the rest.
func (b feedBody) toFeed() (*focal.FeedDef, error) {
	f := &focal.FeedDef{Name: b.Name, URL: strings.TrimSpace(b.URL), Provider: strings.TrimSpace(b.Provider),
		Options: b.Options, Class: b.Class, Type: b.Type, DedupFields: b.DedupFields, Confidence: defaultConfidence, Enabled: true}
	if err := checkClassType(strings.ToLower(strings.TrimSpace(b.Class)), strings.ToLower(strings.TrimSpace(b.Type))); err != nil {
		return nil, err
	}
	format, err := formats.Lookup(b.Format)
	if err != nil {
		return nil, focal.FieldErrorf("format", "%v", err)
	}
	f.Format = format.Name
	if err := format.CheckOptions(feed.Options(b.Options)); err != nil {
		return nil, focal.FieldErrorf("options", "%v", err)
	}
	if b.TLP != "" {
		if f.TLP, err = focal.ParseTLP(b.TLP); err != nil {
			return nil, err
		}
	}
	if b.Confidence != nil {
		f.Confidence = *b.Confidence
	}
	if b.Enabled != nil {
		f.Enabled = *b.Enabled
	}
	for name, v := range map[string]int64{"interval_s": b.IntervalS, "dedup_window_s": b.DedupWindowS, "expire_after_s": b.ExpireAfterS} {
		if v < 0 || v > 10*365*24*3600 {
			return nil, focal.FieldErrorf(name, "want a number of seconds from 0 to ten years, got %d", v)
		}
	}
	f.Interval = time.Duration(b.IntervalS) * time.Second
	f.DedupWindow = time.Duration(b.DedupWindowS) * time.Second
	f.ExpireAfter = time.Duration(b.ExpireAfterS) * time.Second
	return f, nil
}

// runBody is a feed run as the API shows it.
type runBody struct {
	ID         int64      `json:"id"`
	FeedID     int64      `json:"feed_id"`
	Feed       string     `json:"feed"`
	Source     string     `json:"source"`
	Input      string     `json:"input,omitempty"`
	State      string     `json:"state"`
	Started    time.Time  `json:"started"`
	Finished   *time.Time `json:"finished,omitempty"`
	Bytes      int64      `json:"bytes"`
	Chunks     int64      `json:"chunks"` // -1 until the input is read to its end
	ChunksDone int64      `json:"chunks_done"`
	Lines      int64      `json:"lines"`
	Events     int64      `json:"events"`
	Stored     int64      `json:"stored"`
	Problems   int64      `json:"problems"`
	Error      string     `json:"error,omitempty"`
	URL        string     `json:"url"`
}

func runToBody(r *focal.FeedRun) *runBody {
	b := &runBody{ID: r.ID, FeedID: r.FeedID, Feed: r.Feed, Source: r.Source, Input: r.Input, State: r.State, Started: r.Started,
		Bytes: r.Bytes, Chunks: r.ChunksTotal, ChunksDone: r.ChunksDone, Lines: r.Lines, Events: r.Events, Stored: r.Stored,
		Problems: r.Problems, Error: r.Error, URL: "/api/v1/runs/" + strconv.FormatInt(r.ID, 10)}
	if !r.Finished.IsZero() {
		b.Finished = &r.Finished
	}
	return b
}

// withLastRun adds the feed's newest run to b.
func (a *API) withLastRun(r *http.Request, b *feedBody) error {
	runs, err := a.Store.Runs(r.Context(), b.ID, 1)
	if err != nil {
		return err
	}
	if len(runs) > 0 {
		b.LastRun = runToBody(runs[0])
	}
	return nil
}

func (a *API) listFeeds(w http.ResponseWriter, r *http.Request) {
	feeds, err := a.Store.Feeds(r.Context())
	if err != nil {
		a.Error(w, r, err)
		return
	}
	out := []feedBody{}
	for _, f := range feeds {
		b := feedToBody(f)
		if err := a.withLastRun(r, &b); err != nil {
			a.Error(w, r, err)
			return
		}
		out = append(out, b)
	}
	a.writeJSON(w, http.StatusOK, map[string]any{"feeds": out})
}

func (a *API) getFeed(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	f, err := a.Store.Feed(r.Context(), id)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	b := feedToBody(f)
	if err := a.withLastRun(r, &b); err != nil {
		a.Error(w, r, err)
		return
	}
	a.writeJSON(w, http.StatusOK, b)
}

func (a *API) createFeed(w http.ResponseWriter, r *http.Request) {
	var b feedBody
	if err := decode(r, &b); err != nil {
		a.Error(w, r, err)
		return
	}
	f, err := b.toFeed()
	if err == nil {
		err = a.Store.CreateFeed(r.Context(), f)
	}
	if err != nil {
		a.Error(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/feeds/"+strconv.FormatInt(f.ID, 10))
	a.writeJSON(w, http.StatusCreated, feedToBody(f))
}

func (a *API) updateFeed(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	var b feedBody
	if err := decode(r, &b); err != nil {
		a.Error(w, r, err)
		return
	}
	if b.ID != 0 && b.ID != id {
		a.Error(w, r, focal.FieldErrorf("id", "does not match the URL (%d)", id))
		return
	}
	f, err := b.toFeed()
	if err == nil {
		f.ID = id
		err = a.Store.UpdateFeed(r.Context(), f)
	}
	if err != nil {
		a.Error(w, r, err)
		return
	}
	// Read it back for the poll state the update kept.
	if f, err = a.Store.Feed(r.Context(), id); err != nil {
		a.Error(w, r, err)
		return
	}
	a.writeJSON(w, http.StatusOK, feedToBody(f))
}

func (a *API) deleteFeed(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err == nil {
		err = a.Store.DeleteFeed(r.Context(), id)
	}
	if err != nil {
		a.Error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// runFeedNow serves POST /api/v1/feeds/{id}/run: the feed's next poll is
// due now (the poller picks it up). A feed that is not polled — no URL,
// no interval, or disabled — is a conflict.
func (a *API) runFeedNow(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	f, err := a.Store.Feed(r.Context(), id)
	if err == nil {
		err = pollable(f)
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	if err == nil {
		err = a.Store.SetFeedNextRun(r.Context(), id, now)
	}
	if err != nil {
		a.Error(w, r, err)
		return
	}
	a.writeJSON(w, http.StatusAccepted, map[string]any{"feed_id": id, "next_run": now})
}

// pollable returns an ECONFLICT error saying why the poller would not
// fetch f, or nil.
func pollable(f *focal.FeedDef) error {
	switch {
	case f.URL == "":
		return focal.Errorf(focal.ECONFLICT, "feed %s has no URL to poll: upload its input or send it to /api/v1/ingest", f.Name)
	case f.Interval <= 0:
		return focal.Errorf(focal.ECONFLICT, "feed %s is not polled: give it an interval first", f.Name)
	case !f.Enabled:
		return focal.Errorf(focal.ECONFLICT, "feed %s is disabled", f.Name)
	}
	return nil
}

func (a *API) listRuns(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	limit, err := queryInt(r, "limit", defaultRunLimit, maxRunLimit)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	if _, err := a.Store.Feed(r.Context(), id); err != nil {
		a.Error(w, r, err)
		return
	}
	runs, err := a.Store.Runs(r.Context(), id, max(limit, 1))
	if err != nil {
		a.Error(w, r, err)
		return
	}
	out := []*runBody{}
	for _, run := range runs {
		out = append(out, runToBody(run))
	}
	a.writeJSON(w, http.StatusOK, map[string]any{"runs": out})
}

func (a *API) getRun(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	run, err := a.Store.Run(r.Context(), id)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	a.writeJSON(w, http.StatusOK, runToBody(run))
}

// problemBody is a quarantined input line.
type problemBody struct {
	Line   int64  `json:"line"`
	Reason string `json:"reason"`
	Raw    string `json:"raw"`
}

func (a *API) listRunProblems(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	limit, err := queryInt(r, "limit", maxRunLimit, maxRunLimit)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	run, err := a.Store.Run(r.Context(), id)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	ps, err := a.Store.RunProblems(r.Context(), id, max(limit, 1))
	if err != nil {
		a.Error(w, r, err)
		return
	}
	out := []problemBody{}
	for _, p := range ps {
		out = append(out, problemBody{Line: p.Line, Reason: p.Reason, Raw: p.Raw})
	}
	// Every problem is counted; the first ones are kept.
	a.writeJSON(w, http.StatusOK, map[string]any{"problems": out, "total": run.Problems})
}

// listingBody is an entry of a snapshot feed.
type listingBody struct {
	Indicator   string     `json:"indicator"`
	State       string     `json:"state"`
	FirstListed time.Time  `json:"first_listed"`
	LastListed  time.Time  `json:"last_listed"`
	DelistedAt  *time.Time `json:"delisted_at,omitempty"`
}

// listingStates are the states ?state= takes.
var listingStates = []string{focal.ListingNew, focal.ListingListed, focal.ListingDelisted, focal.ListingExpired}

func (a *API) listListings(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	state := r.URL.Query().Get("state")
	if state != "" && !slices.Contains(listingStates, state) {
		a.Error(w, r, focal.FieldErrorf("state", "want one of %s, got %q", strings.Join(listingStates, ", "), state))
		return
	}
	limit, err := queryInt(r, "limit", 1000, maxListingLimit)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	if _, err := a.Store.Feed(r.Context(), id); err != nil {
		a.Error(w, r, err)
		return
	}
	counts, err := a.Store.ListingCounts(r.Context(), id)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	ls, err := a.Store.Listings(r.Context(), id, state, max(limit, 1))
	if err != nil {
		a.Error(w, r, err)
		return
	}
	out := []listingBody{}
	for _, l := range ls {
		b := listingBody{Indicator: l.Indicator, State: l.State, FirstListed: l.FirstListed, LastListed: l.LastListed}
		if !l.DelistedAt.IsZero() {
			b.DelistedAt = &l.DelistedAt
		}
		out = append(out, b)
	}
	for _, s := range listingStates {
		counts[s] += 0 // every state, zero included
	}
	a.writeJSON(w, http.StatusOK, map[string]any{"counts": counts, "listings": out})
}

// formatBody describes a feed format for clients.
type formatBody struct {
	Name           string            `json:"name"`
	Title          string            `json:"title"`
	Doc            string            `json:"doc"`
	Snapshot       bool              `json:"snapshot"`
	Options        []formatOption    `json:"options"`
	ExampleOptions map[string]string `json:"example_options,omitempty"`
}

type formatOption struct {
	Name     string `json:"name"`
	Required bool   `json:"required"`
	Doc      string `json:"doc"`
}

// listFormats serves GET /api/v1/formats: the formats feeds and ingest
// accept, with their options.
func (a *API) listFormats(w http.ResponseWriter, r *http.Request) {
	out := []formatBody{}
	for _, f := range formats.All() {
		b := formatBody{Name: f.Name, Title: f.Title, Doc: f.Doc, Snapshot: f.Snapshot, Options: []formatOption{}, ExampleOptions: f.ExampleOptions}
		for _, o := range f.Options {
			b.Options = append(b.Options, formatOption{Name: o.Name, Required: o.Required, Doc: o.Doc})
		}
		out = append(out, b)
	}
	a.writeJSON(w, http.StatusOK, map[string]any{"formats": out})
}
