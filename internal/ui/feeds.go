package ui

import (
	"errors"
	"fmt"
	"focal/internal/preview"
	"io"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"focal/internal/feed"
	"focal/internal/feed/formats"
	"focal/internal/focal"
	"focal/internal/pipeline"
)

const (
	// maxFeedUploadBody bounds an uploaded feed file's form; the file is
	// streamed into the pipeline, never held whole.
	maxFeedUploadBody = 2 << 30
	// uploadReadTimeout replaces the server's read timeout for an upload.
	uploadReadTimeout = time.Hour
	// uploadFullWait is how long an upload waits for room in a full ingest
	// queue before it is refused.
	uploadFullWait = 10 * time.Second
	// feedRunsShown is how many runs a feed's page lists.
	feedRunsShown = 20
	// defaultFeedConfidence is the confidence of a new feed.
	defaultFeedConfidence = 50
)

// feedForm is the feed form as the user typed it.
type feedForm struct {
	Name, Format, URL, Provider string
	TLP, Confidence             string
	Interval                    string // a duration such as 1h; "" is not polled
	Options                     string // key=value lines
	Class                       string // "class/type" or ""
	DedupFields                 []string
	DedupWindow, ExpireAfter    string // durations; "" is the default
	Enabled                     bool
}

// formatDoc documents a format in the feed form.
type formatDoc struct {
	Name, Title, Doc string
	Options          []feed.Option
	Example          string // example options as key=value lines
	Selected         bool
}

// checkOption is a checkbox of a multiple choice.
type checkOption struct {
	Value   string
	Checked bool
}

// feedFormPage is the data of the feed form (new and edit).
type feedFormPage struct {
	base
	formError
	ID          int64  // 0 for a new feed
	Action      string // where the form posts
	Form        feedForm
	Formats     []formatDoc
	TLPs        []focal.TLP
	ClassGroups []classGroup
	Dedup       []checkOption
}

// newFeedFormPage returns the form page for feed id (0 for new).
func (h *handlers) newFeedFormPage(r *http.Request, id int64, f feedForm) feedFormPage {
	page := feedFormPage{base: h.base(r, "New feed"), ID: id, Action: "/feeds", Form: f, TLPs: focal.TLPs, ClassGroups: rsitOptions(f.Class)}
	if id != 0 {
		page.Title = "Edit feed " + f.Name
		page.Action = "/feeds/" + strconv.FormatInt(id, 10)
	}
	for _, fm := range formats.All() {
		d := formatDoc{Name: fm.Name, Title: fm.Title, Doc: fm.Doc, Options: fm.Options, Example: optionLines(fm.ExampleOptions), Selected: fm.Name == f.Format}
		page.Formats = append(page.Formats, d)
	}
	for _, n := range focal.DedupFieldNames {
		page.Dedup = append(page.Dedup, checkOption{Value: n, Checked: slices.Contains(f.DedupFields, n)})
	}
	return page
}

// feedToForm fills the form with a stored feed.
func feedToForm(fd *focal.FeedDef) feedForm {
	f := feedForm{Name: fd.Name, Format: fd.Format, URL: fd.URL, Provider: fd.Provider, TLP: string(fd.TLP),
		Confidence: strconv.Itoa(fd.Confidence), Interval: durationText(fd.Interval), Options: optionLines(fd.Options),
		DedupFields: fd.DedupFields, DedupWindow: durationText(fd.DedupWindow), ExpireAfter: durationText(fd.ExpireAfter), Enabled: fd.Enabled}
	if fd.Class != "" {
		f.Class = fd.Class + "/" + fd.Type
	}
	return f
}

// parseFeedForm reads a posted feed form.
func parseFeedForm(r *http.Request) (feedForm, error) {
	if err := parseForm(r); err != nil {
		return feedForm{}, err
	}
	f := feedForm{
		Name: formValue(r, "name"), Format: formValue(r, "format"), URL: formValue(r, "url"), Provider: formValue(r, "provider"),
		TLP: formValue(r, "tlp"), Confidence: formValue(r, "confidence"), Interval: formValue(r, "interval"),
		Options: strings.TrimSpace(r.PostForm.Get("options")), Class: formValue(r, "class"), DedupWindow: formValue(r, "dedup_window"),
		ExpireAfter: formValue(r, "expire_after"), Enabled: r.PostForm.Get("enabled") != "",
	}
	for _, v := range r.PostForm["dedup_fields"] {
		if v != "" && !slices.Contains(f.DedupFields, v) {
			f.DedupFields = append(f.DedupFields, v)
		}
	}
	return f, nil
}

// toFeed checks the form against the format registry and converts it;
// FeedDef.Validate (in the store) checks the rest.
func (f feedForm) toFeed() (*focal.FeedDef, error) {
	fd := &focal.FeedDef{Name: f.Name, URL: f.URL, Provider: f.Provider, DedupFields: f.DedupFields, Enabled: f.Enabled, Confidence: defaultFeedConfidence}
	fm, err := formats.Lookup(f.Format)
	if err != nil {
		return nil, focal.FieldErrorf("format", "choose a format from the list")
	}
	fd.Format = fm.Name
	if fd.Options, err = parseOptionLines(f.Options); err != nil {
		return nil, err
	}
	if err := fm.CheckOptions(feed.Options(fd.Options)); err != nil {
		return nil, focal.FieldErrorf("options", "%v", err)
	}
	if f.TLP != "" {
		if fd.TLP, err = focal.ParseTLP(f.TLP); err != nil {
			return nil, focal.FieldErrorf("tlp", "choose a TLP label from the list")
		}
	}
	if f.Confidence != "" {
		n, err := strconv.Atoi(f.Confidence)
		if err != nil {
			return nil, focal.FieldErrorf("confidence", "want a number from 0 to 100, got %q", f.Confidence)
		}
		fd.Confidence = n
	}
	if f.Class != "" {
		c, err := parseClassification("class", f.Class)
		if err != nil {
			return nil, err
		}
		fd.Class, fd.Type = c.Class, c.Type
	}
	for _, d := range []struct {
		field, v string
		dst      *time.Duration
	}{{"interval", f.Interval, &fd.Interval}, {"dedup_window", f.DedupWindow, &fd.DedupWindow}, {"expire_after", f.ExpireAfter, &fd.ExpireAfter}} {
		if *d.dst, err = parseDurationText(d.field, d.v); err != nil {
			return nil, err
		}
	}
	return fd, nil
}

// parseOptionLines reads format options, one key=value per line; blank
// lines and lines starting with # are skipped.
func parseOptionLines(text string) (map[string]string, error) {
	var out map[string]string
	for n, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, focal.FieldErrorf("options", "line %d: want key=value, got %q", n+1, line)
		}
		if out == nil {
			out = map[string]string{}
		}
		out[k] = strings.TrimSpace(v)
	}
	return out, nil
}

// optionLines renders options as key=value lines in key order.
func optionLines(o map[string]string) string {
	keys := make([]string, 0, len(o))
	for k := range o {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k + "=" + o[k] + "\n")
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// parseDurationText reads a duration such as 90s, 15m, 1h30m or 7d; ""
// is 0.
func parseDurationText(field, v string) (time.Duration, error) {
	if v == "" || v == "0" {
		return 0, nil
	}
	if n, ok := strings.CutSuffix(v, "d"); ok {
		days, err := strconv.Atoi(n)
		if err == nil && days > 0 && days <= 3650 {
			return time.Duration(days) * 24 * time.Hour, nil
		}
	} else if d, err := time.ParseDuration(v); err == nil && d > 0 {
		return d, nil
	}
	return 0, focal.FieldErrorf(field, "want a duration such as 15m, 1h or 7d, got %q", v)
}

// durationText renders d as parseDurationText reads it: "7d", "1h30m",
// "" for 0.
func durationText(d time.Duration) string {
	switch {
	case d <= 0:
		return ""
	case d%(24*time.Hour) == 0:
		return strconv.FormatInt(int64(d/(24*time.Hour)), 10) + "d"
	}
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// feedFieldLabel names a feed form's field as the user knows it.
func feedFieldLabel(field string) (string, string) {
	switch field {
	case "name":
		return "name", "Name"
	case "format":
		return "format", "Format"
	case "options":
		return "options", "Options"
	case "url":
		return "url", "URL"
	case "interval":
		return "interval", "Poll every"
	case "tlp":
		return "tlp", "TLP"
	case "confidence":
		return "confidence", "Confidence"
	case "class", "type", "classification.class", "classification.type":
		return "class", "Classification"
	case "dedup_fields":
		return "dedup_fields", "Deduplicate on"
	case "dedup_window":
		return "dedup_window", "Deduplication window"
	case "expire_after":
		return "expire_after", "Expire delisted entries after"
	}
	return "", field
}

// feedFieldError places a validation error next to its field; ok is
// false for other errors.
func feedFieldError(err error) (*fieldError, bool) {
	var e *focal.Error
	if !errors.As(err, &e) || e.Code != focal.EINVALID {
		return nil, false
	}
	field, label := feedFieldLabel(e.Field)
	return &fieldError{Field: field, Label: label, Message: e.Message}, true
}

// feedRow is a feed in the list.
type feedRow struct {
	ID       int64
	Name     string
	Format   string
	Schedule string
	LastRun  *runRow
	Enabled  bool
}

// feedListPage is the data of the feed list.
type feedListPage struct {
	base
	Feeds     []feedRow
	MayCreate bool
}

// feedList serves GET /feeds: every feed with its schedule and last run.
func (h *handlers) feedList(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	feeds, err := h.store.Feeds(ctx)
	if err != nil {
		h.error(w, r, err)
		return
	}
	page := feedListPage{base: h.base(r, "Feeds"), MayCreate: may(r, focal.ActionCreate, focal.Resource{Kind: focal.KindFeed})}
	for _, fd := range feeds {
		row := feedRow{ID: fd.ID, Name: fd.Name, Format: fd.Format, Schedule: schedule(fd), Enabled: fd.Enabled}
		runs, err := h.store.Runs(ctx, fd.ID, 1)
		if err != nil {
			h.error(w, r, err)
			return
		}
		if len(runs) > 0 {
			rr := newRunRow(runs[0])
			row.LastRun = &rr
		}
		page.Feeds = append(page.Feeds, row)
	}
	h.render(w, r, http.StatusOK, "feed_list", page)
}

// schedule says when a feed is polled.
func schedule(fd *focal.FeedDef) string {
	if fd.Interval <= 0 || fd.URL == "" {
		return "not polled"
	}
	return "every " + humanDuration(fd.Interval)
}

// runRow is a run as lists and the run page show it.
type runRow struct {
	ID                              int64
	FeedID                          int64
	Feed                            string
	Source, Input                   string
	State                           string
	Started, Finished               time.Time
	Took                            string
	Bytes                           string
	Lines, Events, Stored, Problems int64
	ChunksDone, ChunksTotal         int64
	Error                           string
	Running, Failed                 bool
}

func newRunRow(r *focal.FeedRun) runRow {
	row := runRow{ID: r.ID, FeedID: r.FeedID, Feed: r.Feed, Source: r.Source, Input: r.Input, State: r.State, Started: r.Started,
		Finished: r.Finished, Bytes: byteSize(r.Bytes), Lines: r.Lines, Events: r.Events, Stored: r.Stored, Problems: r.Problems,
		ChunksDone: r.ChunksDone, ChunksTotal: r.ChunksTotal, Error: r.Error,
		Running: r.State == focal.RunRunning, Failed: r.State == focal.RunFailed}
	if !r.Finished.IsZero() {
		row.Took = humanDuration(r.Finished.Sub(r.Started))
	}
	return row
}

// listingCount is the number of a snapshot feed's entries in one state.
type listingCount struct {
	State string
	Count int64
}

// feedDetailPage is the data of a feed's page.
type feedDetailPage struct {
	base
	// Recipients: the organisations with events of the feed in the last
	// 30 days, and what their policies do with them (staff only).
	Recipients  []preview.FeedRecipient
	formError   // about the upload
	Feed        *focal.FeedDef
	FormatTitle string
	TLPClass    string
	Options     string
	Schedule    string
	DedupWindow string
	ExpireAfter string
	Class       string
	Snapshot    bool
	Listings    []listingCount
	Runs        []runRow
	MayUpdate   bool
	MayDelete   bool
	MayUpload   bool
	NotPolled   string // why "run now" is not offered, or ""
}

// feedDetail serves GET /feeds/{id}: the feed's settings, its run history,
// its entries per state (snapshot feeds), and for analysts the upload form
// and the buttons to run, edit and delete it.
func (h *handlers) feedDetail(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		h.error(w, r, err)
		return
	}
	h.showFeed(w, r, id, http.StatusOK, nil)
}

// showFeed renders feed id's page with status; after a refused upload fe
// is the error.
func (h *handlers) showFeed(w http.ResponseWriter, r *http.Request, id int64, status int, fe *fieldError) {
	ctx := r.Context()
	fd, err := h.store.Feed(ctx, id)
	if err != nil {
		h.error(w, r, err)
		return
	}
	res := focal.Resource{Kind: focal.KindFeed, Object: true}
	page := feedDetailPage{
		base: h.base(r, "Feed "+fd.Name), formError: formError{Err: fe}, Feed: fd, TLPClass: tlpClass(fd.TLP), Options: optionLines(fd.Options), Schedule: schedule(fd),
		DedupWindow: humanDuration(fd.DedupWindow), ExpireAfter: humanDuration(fd.ExpireAfter),
		MayUpdate: may(r, focal.ActionUpdate, res), MayDelete: may(r, focal.ActionDelete, res),
		MayUpload: h.pipeline != nil && may(r, focal.ActionCreate, focal.Resource{Kind: focal.KindFeed}),
	}
	if fd.Class != "" {
		page.Class = classLabel(focal.Classification{Class: fd.Class, Type: fd.Type})
	}
	if perr := pollable(fd); perr != nil {
		page.NotPolled = focal.ErrorMessage(perr)
	}
	if fm, err := formats.Lookup(fd.Format); err == nil {
		page.FormatTitle, page.Snapshot = fm.Title, fm.Snapshot
	}
	if page.Snapshot {
		counts, err := h.store.ListingCounts(ctx, id)
		if err != nil {
			h.error(w, r, err)
			return
		}
		for _, s := range []string{focal.ListingNew, focal.ListingListed, focal.ListingDelisted, focal.ListingExpired} {
			page.Listings = append(page.Listings, listingCount{State: s, Count: counts[s]})
		}
	}
	runs, err := h.store.Runs(ctx, id, feedRunsShown)
	if err != nil {
		h.error(w, r, err)
		return
	}
	for _, run := range runs {
		page.Runs = append(page.Runs, newRunRow(run))
	}
	if _, all := focal.OrgScope(focal.PrincipalFromContext(ctx)); all {
		if page.Recipients, err = preview.Feed(ctx, h.store, h.lookupTable(), fd.ID, time.Now().AddDate(0, 0, -30)); err != nil {
			h.error(w, r, err)
			return
		}
	}
	h.render(w, r, status, "feed_detail", page)
}

// pollable returns an ECONFLICT error saying why the poller would not
// fetch fd, or nil.
func pollable(fd *focal.FeedDef) error {
	switch {
	case fd.URL == "":
		return focal.Errorf(focal.ECONFLICT, "this feed has no URL to poll: upload its input instead")
	case fd.Interval <= 0:
		return focal.Errorf(focal.ECONFLICT, "this feed is not polled: give it an interval first")
	case !fd.Enabled:
		return focal.Errorf(focal.ECONFLICT, "this feed is disabled")
	}
	return nil
}

// feedNew serves GET /feeds/new: an empty feed form.
func (h *handlers) feedNew(w http.ResponseWriter, r *http.Request) {
	h.render(w, r, http.StatusOK, "feed_form", h.newFeedFormPage(r, 0, feedForm{TLP: string(focal.TLPAmber),
		Confidence: strconv.Itoa(defaultFeedConfidence), Enabled: true}))
}

// feedCreate serves POST /feeds.
func (h *handlers) feedCreate(w http.ResponseWriter, r *http.Request) {
	f, err := parseFeedForm(r)
	if err != nil {
		h.error(w, r, err)
		return
	}
	fd, err := f.toFeed()
	if err == nil {
		err = h.store.CreateFeed(r.Context(), fd)
	}
	if err != nil {
		h.feedFormError(w, r, h.newFeedFormPage(r, 0, f), err)
		return
	}
	redirect(w, r, withNotice("/feeds/"+strconv.FormatInt(fd.ID, 10), "created"))
}

// feedFormError shows the form again with the error next to its field,
// or the error page for errors that are not about the form.
func (h *handlers) feedFormError(w http.ResponseWriter, r *http.Request, page feedFormPage, err error) {
	fe, ok := feedFieldError(err)
	if !ok {
		h.error(w, r, err)
		return
	}
	page.Err = fe
	h.render(w, r, http.StatusBadRequest, "feed_form", page)
}

// feedEdit serves GET /feeds/{id}/edit.
func (h *handlers) feedEdit(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		h.error(w, r, err)
		return
	}
	fd, err := h.store.Feed(r.Context(), id)
	if err != nil {
		h.error(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, "feed_form", h.newFeedFormPage(r, id, feedToForm(fd)))
}

// feedUpdate serves POST /feeds/{id}.
func (h *handlers) feedUpdate(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		h.error(w, r, err)
		return
	}
	f, err := parseFeedForm(r)
	if err != nil {
		h.error(w, r, err)
		return
	}
	fd, err := f.toFeed()
	if err == nil {
		fd.ID = id
		err = h.store.UpdateFeed(r.Context(), fd)
	}
	if err != nil {
		h.feedFormError(w, r, h.newFeedFormPage(r, id, f), err)
		return
	}
	redirect(w, r, withNotice("/feeds/"+strconv.FormatInt(id, 10), "saved"))
}

// feedDelete serves POST /feeds/{id}/delete: the feed goes with its runs
// and listings; its events stay.
func (h *handlers) feedDelete(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err == nil {
		err = h.store.DeleteFeed(r.Context(), id)
	}
	if err != nil {
		h.error(w, r, err)
		return
	}
	redirect(w, r, withNotice("/feeds", "deleted"))
}

// feedRunNow serves POST /feeds/{id}/run: the feed's next poll is due
// now. A feed that is not polled is a conflict.
func (h *handlers) feedRunNow(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id, err := pathID(r)
	if err != nil {
		h.error(w, r, err)
		return
	}
	fd, err := h.store.Feed(ctx, id)
	if err == nil {
		err = pollable(fd)
	}
	if err == nil {
		err = h.store.SetFeedNextRun(ctx, id, time.Now())
	}
	if err != nil {
		h.error(w, r, err)
		return
	}
	redirect(w, r, withNotice("/feeds/"+strconv.FormatInt(id, 10), "scheduled"))
}

// feedUpload serves POST /feeds/{id}/upload: a multipart form whose "file"
// part is streamed straight into the pipeline as a run of the feed (never
// held whole), then the run's page. A full ingest queue or a form without
// a file shows the feed's page again with the reason; an input the
// format refuses fails its run, whose page says why.
func (h *handlers) feedUpload(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id, err := pathID(r)
	if err != nil {
		h.error(w, r, err)
		return
	}
	if h.pipeline == nil {
		h.error(w, r, focal.Errorf(focal.ENOTIMPLEMENTED, "feed uploads are not configured"))
		return
	}
	fd, err := h.store.Feed(ctx, id)
	if err != nil {
		h.error(w, r, err)
		return
	}
	if err := http.NewResponseController(w).SetReadDeadline(time.Now().Add(uploadReadTimeout)); err != nil {
		h.logger.Debug("upload: extend read deadline", "err", err)
	}
	run, err := h.ingestUpload(r, fd)
	if err != nil {
		// Drain what is left of a refused body (bounded by the route's
		// limit), so the browser gets the answer rather than a reset.
		_, _ = io.Copy(io.Discard, r.Body) // best effort: the error is the answer
	}
	if run != nil && run.ID != 0 && !errors.Is(err, pipeline.ErrBusy) {
		// Queued, or failed by its input: the run's page says which.
		redirect(w, r, "/runs/"+strconv.FormatInt(run.ID, 10))
		return
	}
	var fe *fieldError
	status := http.StatusBadRequest
	var mbe *http.MaxBytesError
	switch {
	case errors.Is(err, pipeline.ErrBusy):
		fe, status = &fieldError{Field: "file", Label: "File", Message: "focal is busy ingesting other input; try again in a minute"}, http.StatusServiceUnavailable
	case errors.As(err, &mbe):
		fe, status = &fieldError{Field: "file", Label: "File", Message: fmt.Sprintf("is too large: at most %d GiB", maxFeedUploadBody>>30)}, http.StatusRequestEntityTooLarge
	default:
		var ok bool
		if fe, ok = feedFieldError(err); !ok {
			h.error(w, r, err)
			return
		}
		if fe.Field == "" || fe.Field == "name" {
			fe.Field, fe.Label = "file", "File"
		}
	}
	h.showFeed(w, r, id, status, fe)
}

// ingestUpload streams the form's "file" part into the pipeline.
func (h *handlers) ingestUpload(r *http.Request, fd *focal.FeedDef) (*focal.FeedRun, error) {
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, focal.FieldErrorf("file", "choose a file to upload")
	}
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return nil, focal.FieldErrorf("file", "choose a file to upload")
		}
		if err != nil {
			return nil, bodyError(err)
		}
		if part.FormName() != "file" {
			continue
		}
		name := fileName(part.FileName())
		if name == "" {
			return nil, focal.FieldErrorf("file", "choose a file to upload")
		}
		return h.pipeline.Ingest(r.Context(), pipeline.Request{Feed: fd, Source: "upload", Input: name, Body: part, FullWait: uploadFullWait})
	}
}

// runDetailPage is the data of a run's page.
type runDetailPage struct {
	base
	Run      runRow
	Problems []problemRow
	Kept     int64 // problems kept with their line
	Counted  int64 // problems counted
}

// problemRow is a quarantined line.
type problemRow struct {
	Line   int64
	Reason string
	Raw    string
}

// runDetail serves GET /runs/{id}: a run's state and counts and its
// quarantined lines. While the run is running, htmx refreshes the counts.
func (h *handlers) runDetail(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id, err := pathID(r)
	if err != nil {
		h.error(w, r, err)
		return
	}
	run, err := h.store.Run(ctx, id)
	if err != nil {
		h.error(w, r, err)
		return
	}
	ps, err := h.store.RunProblems(ctx, id, 0)
	if err != nil {
		h.error(w, r, err)
		return
	}
	page := runDetailPage{base: h.base(r, "Run "+strconv.FormatInt(run.ID, 10)+" of "+run.Feed), Run: newRunRow(run), Kept: int64(len(ps)), Counted: run.Problems}
	for _, p := range ps {
		page.Problems = append(page.Problems, problemRow{Line: p.Line, Reason: p.Reason, Raw: p.Raw})
	}
	h.render(w, r, http.StatusOK, "run_detail", page)
}
