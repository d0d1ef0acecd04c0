package ui

import (
	"context"
	"focal/internal/preview"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"focal/internal/focal"
	"focal/internal/observable"
	"focal/internal/store"
)

const (
	// eventPageSize is how many events the explorer shows per page.
	eventPageSize = 50
	// eventTop is the length of the explorer's top lists.
	eventTop = 10
	// maxChartBars bounds the bars of the events chart, minChartBars is
	// the fewest it draws (empty ones included).
	maxChartBars = 96
	minChartBars = 24
)

// The events chart's geometry, in SVG user units.
const (
	eventChartWidth  = 760
	eventChartHeight = 220
	eventChartLeft   = 56 // room for the count labels
	eventChartTop    = 10
	eventChartBottom = 30 // room for the time labels
)

// chartWidths are the bucket widths the chart chooses from.
var chartWidths = []time.Duration{
	time.Minute, 5 * time.Minute, 15 * time.Minute, 30 * time.Minute, time.Hour, 3 * time.Hour, 6 * time.Hour,
	12 * time.Hour, 24 * time.Hour, 7 * 24 * time.Hour, 30 * 24 * time.Hour,
}

// eventQuery is the explorer's filters as given in the URL (the names are
// those of the API, so the export links carry them over).
type eventQuery struct {
	Since, Until string // dates, YYYY-MM-DD; until is inclusive
	OrgID        int64
	Class        string // "class" or "class/type"
	Feed         string
	Addr         string // an address or a network
	ASN          string
	Country      string
	Cursor       string
}

// parseEventQuery reads the explorer's filters into the store's filter; a
// malformed one is an EINVALID error naming it.
func parseEventQuery(q url.Values) (eventQuery, focal.EventFilter, error) {
	eq := eventQuery{
		Since: strings.TrimSpace(q.Get("since")), Until: strings.TrimSpace(q.Get("until")), Class: strings.TrimSpace(q.Get("class")),
		Feed: strings.TrimSpace(q.Get("feed")), Addr: strings.TrimSpace(q.Get("ip")), ASN: strings.TrimSpace(q.Get("asn")),
		Country: strings.ToUpper(strings.TrimSpace(q.Get("country"))), Cursor: q.Get("cursor"),
	}
	f := focal.EventFilter{Feed: eq.Feed, Cursor: eq.Cursor, Limit: eventPageSize}
	if eq.Since != "" {
		t, err := time.Parse(time.DateOnly, eq.Since)
		if err != nil {
			return eq, f, focal.FieldErrorf("since", "want a date such as 2026-11-01, got %q", eq.Since)
		}
		f.Since = t
	}
	if eq.Until != "" {
		t, err := time.Parse(time.DateOnly, eq.Until)
		if err != nil {
			return eq, f, focal.FieldErrorf("until", "want a date such as 2026-11-30, got %q", eq.Until)
		}
		f.Until = t.AddDate(0, 0, 1) // inclusive
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && !f.Until.After(f.Since) {
		return eq, f, focal.FieldErrorf("until", "the period ends before it starts")
	}
	if v := strings.TrimSpace(q.Get("org")); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return eq, f, focal.FieldErrorf("org", "want a number, got %q", v)
		}
		eq.OrgID, f.OrgID = n, n
	}
	if eq.Class != "" {
		class, typ, _ := strings.Cut(eq.Class, "/")
		if _, _, ok := focal.LookupRSIT(class, typ); !ok {
			return eq, f, focal.FieldErrorf("class", "unknown classification %q", eq.Class)
		}
		f.Class, f.Type = class, typ
	}
	if eq.Addr != "" {
		if strings.Contains(eq.Addr, "/") {
			p, err := netip.ParsePrefix(eq.Addr)
			if err != nil {
				return eq, f, focal.FieldErrorf("ip", "not an address or a network such as 192.0.2.0/24: %q", eq.Addr)
			}
			f.CIDR = p.Masked()
		} else {
			a, err := netip.ParseAddr(eq.Addr)
			if err != nil {
				return eq, f, focal.FieldErrorf("ip", "not an address or a network such as 192.0.2.0/24: %q", eq.Addr)
			}
			f.IP = a.Unmap()
		}
	}
	if eq.ASN != "" {
		n, err := focal.ParseASN(eq.ASN)
		if err != nil || n == 0 {
			return eq, f, focal.FieldErrorf("asn", "not an AS number such as AS64496: %q", eq.ASN)
		}
		f.ASN = n
	}
	if eq.Country != "" {
		if len(eq.Country) != 2 || strings.Trim(eq.Country, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "" {
			return eq, f, focal.FieldErrorf("country", "want a two-letter code such as FR, got %q", eq.Country)
		}
		f.Country = eq.Country
	}
	return eq, f, nil
}

// values returns the filters as URL parameters, without the cursor.
func (eq eventQuery) values() url.Values {
	v := url.Values{}
	for k, s := range map[string]string{"since": eq.Since, "until": eq.Until, "class": eq.Class, "feed": eq.Feed, "ip": eq.Addr, "asn": eq.ASN, "country": eq.Country} {
		if s != "" {
			v.Set(k, s)
		}
	}
	if eq.OrgID != 0 {
		v.Set("org", strconv.FormatInt(eq.OrgID, 10))
	}
	return v
}

// url returns the explorer's URL with these filters, at cursor ("" for
// the newest page).
func (eq eventQuery) url(cursor string) string {
	v := eq.values()
	if cursor != "" {
		v.Set("cursor", cursor)
	}
	if len(v) == 0 {
		return "/events"
	}
	return "/events?" + v.Encode()
}

// exportURL returns the API URL that exports every event matching f in
// format (csv or ndjson).
func exportURL(f focal.EventFilter, format string) string {
	v := url.Values{"format": {format}}
	if !f.Since.IsZero() {
		v.Set("since", f.Since.UTC().Format(time.RFC3339))
	}
	if !f.Until.IsZero() {
		v.Set("until", f.Until.UTC().Format(time.RFC3339))
	}
	if f.IP.IsValid() {
		v.Set("ip", f.IP.String())
	}
	if f.CIDR.IsValid() {
		v.Set("cidr", f.CIDR.String())
	}
	if f.ASN != 0 {
		v.Set("asn", strconv.FormatUint(uint64(f.ASN), 10))
	}
	if f.OrgID != 0 {
		v.Set("org", strconv.FormatInt(f.OrgID, 10))
	}
	for k, s := range map[string]string{"class": f.Class, "type": f.Type, "feed": f.Feed, "country": f.Country} {
		if s != "" {
			v.Set(k, s)
		}
	}
	return "/api/v1/events?" + v.Encode()
}

// orgLink is an organisation named and linked.
type orgLink struct {
	ID   int64
	Name string
}

// eventRow is an event as the explorer lists it.
type eventRow struct {
	ID         int64
	LastSeen   time.Time
	ClassLabel string
	Class      string // class/type
	Source     string // address:port, else the host or URL, defanged
	ASN        uint32
	Country    string
	Orgs       []orgLink
	Feed       string
	Count      int
	TLP        focal.TLP
	TLPClass   string
}

// eventBar is one bar of the events chart.
type eventBar struct {
	X, Y, W, H int
	Title      string
}

// chartLabel is a label on an axis of the events chart.
type chartLabel struct {
	X, Y   int
	Text   string
	Anchor string // SVG text-anchor
}

// gridLine is a horizontal line of the events chart.
type gridLine struct {
	X1, X2, Y int
}

// eventChart is the events-over-time chart, laid out for SVG.
type eventChart struct {
	Width, Height int
	Bars          []eventBar
	Labels        []chartLabel
	Grid          []gridLine
	Bucket        string // the width of a bar, for people
	Summary       string // for screen readers
}

// topRow is one entry of a top list.
type topRow struct {
	Label string
	URL   string // "" for none
	Count int64
}

// eventsPage is the data of the events explorer.
type eventsPage struct {
	base
	eventQuery
	Orgs        []orgOption // empty for a constituent: its events are its own
	Feeds       []string    // nil when the caller may not read feeds
	ClassGroups []classGroup
	Rows        []eventRow
	Events      int64 // matching events
	Sightings   int64
	Chart       *eventChart // nil when nothing matches
	TopOrgs     []topRow
	TopASNs     []topRow
	OlderURL    string
	NewestURL   string
	CSVURL      string
	NDJSONURL   string
}

// events serves GET /events: the events in the caller's scope, newest last
// seen first, filtered by period, organisation, classification, feed,
// address or network, ASN and country, a page at a time (?cursor=), with
// a chart of events over time, the top organisations and ASNs, and links
// to export them all. For htmx it renders only the results.
func (h *handlers) events(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	p := focal.PrincipalFromContext(ctx)
	eq, f, err := parseEventQuery(r.URL.Query())
	if err != nil {
		h.error(w, r, err)
		return
	}
	page := eventsPage{base: h.base(r, "Events"), eventQuery: eq, ClassGroups: classFilterGroups(eq.Class),
		CSVURL: exportURL(f, "csv"), NDJSONURL: exportURL(f, "ndjson")}
	orgs, names, err := h.orgNames(ctx)
	if err != nil {
		h.error(w, r, err)
		return
	}
	if _, all := focal.OrgScope(p); all {
		page.Orgs = orgs
	}
	if may(r, focal.ActionRead, focal.Resource{Kind: focal.KindFeed}) {
		feeds, err := h.store.Feeds(ctx)
		if err != nil {
			h.error(w, r, err)
			return
		}
		page.Feeds = []string{}
		for _, fd := range feeds {
			page.Feeds = append(page.Feeds, fd.Name)
		}
	}
	list, next, err := h.store.Events(ctx, f)
	if err != nil {
		h.error(w, r, err)
		return
	}
	for _, e := range list {
		page.Rows = append(page.Rows, newEventRow(p, e, names))
	}
	if next != "" {
		page.OlderURL = eq.url(next)
	}
	if eq.Cursor != "" {
		page.NewestURL = eq.url("")
	}
	stats, width, err := h.eventStats(ctx, f)
	if err != nil {
		h.error(w, r, err)
		return
	}
	page.Events, page.Sightings = stats.Events, stats.Sightings
	if stats.Events > 0 {
		page.Chart = newEventChart(stats.Buckets, width, f)
	}
	for _, t := range stats.TopOrgs {
		if name, ok := names[t.ID]; ok { // a constituent: only its own
			v := eq.values()
			v.Set("org", strconv.FormatInt(t.ID, 10))
			page.TopOrgs = append(page.TopOrgs, topRow{Label: name, URL: "/events?" + v.Encode(), Count: t.Count})
		}
	}
	for _, t := range stats.TopASNs {
		v := eq.values()
		v.Set("asn", "AS"+t.Key)
		page.TopASNs = append(page.TopASNs, topRow{Label: "AS" + t.Key, URL: "/events?" + v.Encode(), Count: t.Count})
	}
	w.Header().Add("Vary", "HX-Request")
	if r.Header.Get("HX-Request") == "true" && r.Header.Get("HX-History-Restore-Request") != "true" {
		h.renderPartial(w, r, http.StatusOK, "events", "results", page)
		return
	}
	h.render(w, r, http.StatusOK, "events", page)
}

// eventStats returns the statistics of the events matching f with a
// bucket width that draws the period in at most maxChartBars bars. Without
// a start the period starts at the oldest matching event, which a first,
// daily count finds.
func (h *handlers) eventStats(ctx context.Context, f focal.EventFilter) (*store.EventStats, time.Duration, error) {
	f.Cursor, f.Limit = "", 0
	until := f.Until
	if until.IsZero() {
		until = time.Now()
	}
	if !f.Since.IsZero() {
		width := chartWidth(until.Sub(f.Since))
		st, err := h.store.EventStatistics(ctx, f, width, eventTop)
		return st, width, err
	}
	day := 24 * time.Hour
	st, err := h.store.EventStatistics(ctx, f, day, eventTop)
	if err != nil || len(st.Buckets) == 0 {
		return st, day, err
	}
	width := chartWidth(until.Sub(st.Buckets[0].Start))
	if width == day {
		return st, day, nil
	}
	st, err = h.store.EventStatistics(ctx, f, width, eventTop)
	return st, width, err
}

// chartWidth returns the narrowest bucket width that draws span in at
// most maxChartBars bars.
func chartWidth(span time.Duration) time.Duration {
	for _, w := range chartWidths {
		if span/w < maxChartBars {
			return w
		}
	}
	return chartWidths[len(chartWidths)-1]
}

// newEventChart lays out the counts of buckets of width as bars over the
// period of f (or of the buckets), gaps drawn as empty.
func newEventChart(buckets []store.EventBucket, width time.Duration, f focal.EventFilter) *eventChart {
	w := width.Milliseconds()
	align := func(t time.Time) int64 { return t.UnixMilli() / w * w }
	counts := map[int64]int64{}
	var first, last int64
	for i, b := range buckets {
		at := b.Start.UnixMilli()
		counts[at] = b.Events
		if i == 0 || at < first {
			first = at
		}
		if i == 0 || at > last {
			last = at
		}
	}
	if !f.Since.IsZero() {
		first = min(first, align(f.Since))
	}
	end := time.Now()
	if !f.Until.IsZero() {
		end = f.Until.Add(-time.Millisecond)
	}
	last = max(last, align(end))
	n := int((last-first)/w) + 1
	if n < minChartBars {
		// Few buckets: draw them at the end of a wider frame, not as
		// one wall of a bar.
		first -= int64(minChartBars-n) * w
		n = minChartBars
	}
	if n > maxChartBars*2 {
		first = last - int64(maxChartBars*2-1)*w
		n = maxChartBars * 2
	}
	var peak int64 = 1
	for _, c := range counts {
		peak = max(peak, c)
	}
	plotW := eventChartWidth - eventChartLeft - 8
	plotH := eventChartHeight - eventChartTop - eventChartBottom
	base := eventChartTop + plotH
	step := float64(plotW) / float64(n)
	c := &eventChart{Width: eventChartWidth, Height: eventChartHeight, Bucket: humanDuration(width)}
	layout := "01-02 15:04"
	if width >= 24*time.Hour {
		layout = time.DateOnly
	}
	var total int64
	for i := range n {
		at := first + int64(i)*w
		count := counts[at]
		total += count
		x := eventChartLeft + int(float64(i)*step)
		bw := max(int(step)-1, 1)
		start := time.UnixMilli(at).UTC()
		if count > 0 {
			hgt := max(int(count*int64(plotH)/peak), 1)
			c.Bars = append(c.Bars, eventBar{X: x, Y: base - hgt, W: bw, H: hgt,
				Title: start.Format(layout) + " UTC: " + strconv.FormatInt(count, 10) + " event" + plural(count)})
		}
		if i == 0 || i == n-1 || (n > 4 && i == n/2) {
			anchor := "middle"
			switch i {
			case 0:
				anchor = "start"
			case n - 1:
				anchor = "end"
				x += bw
			}
			c.Labels = append(c.Labels, chartLabel{X: x, Y: eventChartHeight - 10, Text: start.Format(layout), Anchor: anchor})
		}
	}
	ticks := []int64{0, peak}
	if peak >= 4 {
		ticks = []int64{0, peak / 2, peak}
	}
	for _, v := range ticks {
		y := base - int(v*int64(plotH)/peak)
		c.Grid = append(c.Grid, gridLine{X1: eventChartLeft, X2: eventChartWidth - 8, Y: y})
		c.Labels = append(c.Labels, chartLabel{X: eventChartLeft - 6, Y: y + 4, Text: strconv.FormatInt(v, 10), Anchor: "end"})
	}
	c.Summary = strconv.FormatInt(total, 10) + " event" + plural(total) + " in " + strconv.Itoa(n) + " periods of " + c.Bucket + ", from " +
		time.UnixMilli(first).UTC().Format(layout) + " UTC, at most " + strconv.FormatInt(peak, 10) + " in one bar"
	return c
}

func plural(n int64) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// newEventRow prepares event e for the explorer, for principal p (a
// constituent sees only its own organisation among those matched).
func newEventRow(p focal.Principal, e *focal.Event, names map[int64]string) eventRow {
	row := eventRow{
		ID: e.ID, LastSeen: e.LastSeen, ClassLabel: classLabel(focal.Classification{Class: e.Class, Type: e.Type}),
		Class: e.Class + "/" + e.Type, Source: endpointText(e.Source), ASN: e.Source.ASN, Country: e.Source.Country,
		Feed: e.Feed, Count: e.Count, TLP: e.TLP, TLPClass: tlpClass(e.TLP), Orgs: eventOrgs(p, e.Orgs, names),
	}
	if row.Source == "" {
		row.Source = endpointText(e.Destination)
		row.ASN, row.Country = e.Destination.ASN, e.Destination.Country
	}
	return row
}

// eventOrgs names the organisations of an event that p may know of.
func eventOrgs(p focal.Principal, ids []int64, names map[int64]string) []orgLink {
	own, all := focal.OrgScope(p)
	var out []orgLink
	for _, id := range ids {
		if all || id == own {
			out = append(out, orgLink{ID: id, Name: orgName(names, id)})
		}
	}
	return out
}

// endpointText shows an endpoint in a few characters: address:port, else
// its host or URL, defanged.
func endpointText(ep focal.Endpoint) string {
	switch {
	case ep.IP.IsValid() && ep.Port != 0:
		return netip.AddrPortFrom(ep.IP, ep.Port).String()
	case ep.IP.IsValid():
		return ep.IP.String()
	case ep.URL != "":
		return observable.Defang(observable.Observable{Kind: observable.KindURL, Value: ep.URL})
	case ep.FQDN != "":
		return observable.Defang(observable.Observable{Kind: observable.KindDomain, Value: ep.FQDN})
	}
	return ""
}

// classFilterGroups returns the taxonomy for a filter: each class as a
// whole, then its types, marking selected ("class" or "class/type").
func classFilterGroups(selected string) []classGroup {
	out := make([]classGroup, 0, len(focal.RSIT))
	for _, c := range focal.RSIT {
		g := classGroup{Name: c.Name, Options: []classOption{{Value: c.Value, Label: "All of " + c.Name, Selected: c.Value == selected}}}
		for _, t := range c.Types {
			v := c.Value + "/" + t.Value
			g.Options = append(g.Options, classOption{Value: v, Label: t.Name, Selected: v == selected})
		}
		out = append(out, g)
	}
	return out
}

// endpointFacts is one side of an event on its page.
type endpointFacts struct {
	Name                   string
	IP, Port, ASN, Country string
	FQDN, URL              string
	IPFilter, ASNFilter    string // explorer links
}

// eventDetailPage is the data of an event's page.
type eventDetailPage struct {
	base
	Event     *focal.Event
	Class     string
	TLPClass  string
	Endpoints []endpointFacts
	Orgs      []orgLink
	FeedURL   string // "" when the caller may not read feeds
	// Feedback is the organisations' feedback on the event (feedback.go).
	Feedback feedbackSection
	// Recipients answers "who will receive this" (staff only; nil for
	// others).
	Recipients []preview.Recipient
}

// eventDetail serves GET /events/{id}: every field of one event, with the
// input line it came from.
func (h *handlers) eventDetail(w http.ResponseWriter, r *http.Request) {
	h.renderEvent(w, r, http.StatusOK, nil)
}

// renderEvent shows the page of event {id} with status; posted, when not
// nil, is a refused feedback form to show again.
func (h *handlers) renderEvent(w http.ResponseWriter, r *http.Request, status int, posted *feedbackForm) {
	ctx := r.Context()
	id, err := pathID(r)
	if err != nil {
		h.error(w, r, err)
		return
	}
	e, err := h.store.Event(ctx, id)
	if err != nil {
		h.error(w, r, err)
		return
	}
	_, names, err := h.orgNames(ctx)
	if err != nil {
		h.error(w, r, err)
		return
	}
	p := focal.PrincipalFromContext(ctx)
	page := eventDetailPage{
		base: h.base(r, "Event "+strconv.FormatInt(e.ID, 10)), Event: e, TLPClass: tlpClass(e.TLP),
		Class: classLabel(focal.Classification{Class: e.Class, Type: e.Type}), Orgs: eventOrgs(p, e.Orgs, names),
	}
	for _, side := range []struct {
		name string
		ep   focal.Endpoint
	}{{"Source", e.Source}, {"Destination", e.Destination}} {
		if side.ep.IsZero() {
			continue
		}
		ef := endpointFacts{Name: side.name, Country: side.ep.Country}
		if side.ep.IP.IsValid() {
			ef.IP = side.ep.IP.String()
			ef.IPFilter = "/events?ip=" + url.QueryEscape(ef.IP)
		}
		if side.ep.Port != 0 {
			ef.Port = strconv.Itoa(int(side.ep.Port))
		}
		if side.ep.ASN != 0 {
			ef.ASN = "AS" + strconv.FormatUint(uint64(side.ep.ASN), 10)
			ef.ASNFilter = "/events?asn=" + ef.ASN
		}
		if side.ep.FQDN != "" {
			ef.FQDN = observable.Defang(observable.Observable{Kind: observable.KindDomain, Value: side.ep.FQDN})
		}
		if side.ep.URL != "" {
			ef.URL = observable.Defang(observable.Observable{Kind: observable.KindURL, Value: side.ep.URL})
		}
		page.Endpoints = append(page.Endpoints, ef)
	}
	if may(r, focal.ActionRead, focal.Resource{Kind: focal.KindFeed}) {
		if fd, err := h.store.FeedByName(ctx, e.Feed); err == nil {
			page.FeedURL = "/feeds/" + strconv.FormatInt(fd.ID, 10)
		} else if focal.ErrorCode(err) != focal.ENOTFOUND {
			h.error(w, r, err)
			return
		}
	}
	if page.Feedback, err = h.eventFeedbackSection(ctx, p, e, names, posted); err != nil {
		h.error(w, r, err)
		return
	}
	if _, all := focal.OrgScope(p); all {
		if page.Recipients, err = preview.Event(ctx, h.store, h.lookupTable(), e); err != nil {
			h.error(w, r, err)
			return
		}
	}
	h.render(w, r, status, "event_detail", page)
}

// incidentEventsShown bounds the linked events an incident's page lists.
const incidentEventsShown = 50

// incidentEvents returns the pipeline events linked to incident id as rows;
// a constituent sees only those of its own organisation, never TLP:RED.
func (h *handlers) incidentEvents(ctx context.Context, id int64, names map[int64]string) ([]eventRow, error) {
	list, err := h.store.IncidentEvents(ctx, id, incidentEventsShown)
	if err != nil {
		return nil, err
	}
	p := focal.PrincipalFromContext(ctx)
	own, all := focal.OrgScope(p)
	var rows []eventRow
	for _, e := range list {
		if !all && (e.TLP == focal.TLPRed || !slices.Contains(e.Orgs, own)) {
			continue
		}
		rows = append(rows, newEventRow(p, e, names))
	}
	return rows, nil
}
