package restapi

import (
	"encoding/csv"
	"encoding/json"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"focal/internal/focal"
)

// Bounds of the event endpoints.
const (
	defaultEventLimit = 100
	maxEventLimit     = 1000
	defaultTop        = 10
	maxTop            = 100
	minBucket         = time.Minute
	maxBucket         = 90 * 24 * time.Hour
	maxBuckets        = 10_000 // per statistics answer, when the period is known
)

// eventBody is an event as the API shows it; the field names are those of
// docs/events.md.
type eventBody struct {
	ID           int64          `json:"id"`
	SourceTime   time.Time      `json:"source_time"`
	ObservedTime time.Time      `json:"observed_time"`
	Class        string         `json:"class"`
	Type         string         `json:"type"`
	Source       focal.Endpoint `json:"source,omitzero"`
	Destination  focal.Endpoint `json:"destination,omitzero"`
	Protocol     string         `json:"protocol,omitempty"`
	Malware      string         `json:"malware,omitempty"`
	Identifier   string         `json:"identifier,omitempty"`
	Feed         string         `json:"feed"`
	Provider     string         `json:"provider,omitempty"`
	TLP          focal.TLP      `json:"tlp"`
	Confidence   int            `json:"confidence"`
	Orgs         []int64        `json:"orgs"`
	Count        int            `json:"count"`
	FirstSeen    time.Time      `json:"first_seen"`
	LastSeen     time.Time      `json:"last_seen"`
	Raw          string         `json:"raw,omitempty"`
}

// eventToBody converts e for principal p: a constituent sees only its own
// organisation among those an event matched, never who else it concerns.
func eventToBody(p focal.Principal, e *focal.Event) eventBody {
	return eventBody{
		ID: e.ID, SourceTime: e.SourceTime, ObservedTime: e.ObservedTime, Class: e.Class, Type: e.Type,
		Source: e.Source, Destination: e.Destination, Protocol: e.Protocol, Malware: e.Malware, Identifier: e.Identifier,
		Feed: e.Feed, Provider: e.Provider, TLP: e.TLP, Confidence: e.Confidence, Orgs: visibleOrgs(p, e.Orgs),
		Count: e.Count, FirstSeen: e.FirstSeen, LastSeen: e.LastSeen, Raw: e.Raw,
	}
}

// visibleOrgs returns the organisations of ids that p may know about: all
// for staff, only its own for a constituent. It never returns nil.
func visibleOrgs(p focal.Principal, ids []int64) []int64 {
	own, all := focal.OrgScope(p)
	if all {
		if ids == nil {
			return []int64{}
		}
		return ids
	}
	if slices.Contains(ids, own) {
		return []int64{own}
	}
	return []int64{}
}

// parseEventFilter reads the event filters of a query: ip, cidr, asn, org,
// class, type, feed, country, since and until (RFC 3339 or YYYY-MM-DD;
// until is exclusive), limit and cursor. A bad value is an EINVALID
// error naming the parameter.
func parseEventFilter(q url.Values) (focal.EventFilter, error) {
	var f focal.EventFilter
	if v := strings.TrimSpace(q.Get("ip")); v != "" {
		a, err := netip.ParseAddr(v)
		if err != nil {
			return f, focal.FieldErrorf("ip", "not an IP address: %q", v)
		}
		f.IP = a.Unmap()
	}
	if v := strings.TrimSpace(q.Get("cidr")); v != "" {
		p, err := netip.ParsePrefix(v)
		if err != nil {
			return f, focal.FieldErrorf("cidr", "not a network in CIDR form, such as 192.0.2.0/24: %q", v)
		}
		f.CIDR = p.Masked()
	}
	if v := strings.TrimSpace(q.Get("asn")); v != "" {
		n, err := focal.ParseASN(v)
		if err != nil || n == 0 {
			return f, focal.FieldErrorf("asn", "not an AS number such as 64496 or AS64496: %q", v)
		}
		f.ASN = n
	}
	if v := strings.TrimSpace(q.Get("org")); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			return f, focal.FieldErrorf("org", "want an organisation id, got %q", v)
		}
		f.OrgID = n
	}
	f.Class = strings.ToLower(strings.TrimSpace(q.Get("class")))
	f.Type = strings.ToLower(strings.TrimSpace(q.Get("type")))
	if err := checkClassType(f.Class, f.Type); err != nil {
		return f, err
	}
	f.Feed = strings.TrimSpace(q.Get("feed"))
	if v := strings.TrimSpace(q.Get("country")); v != "" {
		if len(v) != 2 || strings.Trim(strings.ToUpper(v), "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "" {
			return f, focal.FieldErrorf("country", "want a two-letter ISO 3166 code such as FR, got %q", v)
		}
		f.Country = strings.ToUpper(v)
	}
	for name, dst := range map[string]*time.Time{"since": &f.Since, "until": &f.Until} {
		if v := strings.TrimSpace(q.Get(name)); v != "" {
			t, err := parseDay(v)
			if err != nil {
				return f, focal.FieldErrorf(name, "want a date such as 2026-11-01 or an RFC 3339 time, got %q", v)
			}
			*dst = t
		}
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && !f.Until.After(f.Since) {
		return f, focal.FieldErrorf("until", "must be after since")
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxEventLimit {
			return f, focal.FieldErrorf("limit", "want a whole number from 1 to %d, got %q", maxEventLimit, v)
		}
		f.Limit = n
	}
	f.Cursor = q.Get("cursor")
	return f, nil
}

// checkClassType validates an RSIT class and type filter; a type needs
// no class, but must be a type of the class when both are given.
func checkClassType(class, typ string) error {
	if class != "" {
		if _, _, ok := focal.LookupRSIT(class, ""); !ok {
			return focal.FieldErrorf("class", "unknown RSIT class %q", class)
		}
		if typ != "" {
			if _, _, ok := focal.LookupRSIT(class, typ); !ok {
				return focal.FieldErrorf("type", "%q is not a type of RSIT class %q", typ, class)
			}
		}
		return nil
	}
	if typ == "" {
		return nil
	}
	for _, c := range focal.RSIT {
		if _, _, ok := focal.LookupRSIT(c.Value, typ); ok {
			return nil
		}
	}
	return focal.FieldErrorf("type", "unknown RSIT type %q", typ)
}

// exportFormat returns "csv" or "ndjson" when the caller asks for an
// export (?format= or Accept), else "".
func exportFormat(r *http.Request) (string, error) {
	switch v := r.URL.Query().Get("format"); v {
	case "csv", "ndjson":
		return v, nil
	case "json":
		return "", nil
	case "":
	default:
		return "", focal.FieldErrorf("format", "want json, csv or ndjson, got %q", v)
	}
	accept := r.Header.Get("Accept")
	switch {
	case strings.Contains(accept, "text/csv"):
		return "csv", nil
	case strings.Contains(accept, "application/x-ndjson"):
		return "ndjson", nil
	}
	return "", nil
}

// listEvents serves GET /api/v1/events: a page of events, newest last
// seen first, with the cursor of the next page; or, as CSV or NDJSON,
// every matching event, streamed.
func (a *API) listEvents(w http.ResponseWriter, r *http.Request) {
	f, err := parseEventFilter(r.URL.Query())
	if err != nil {
		a.Error(w, r, err)
		return
	}
	format, err := exportFormat(r)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	if format != "" {
		a.exportEvents(w, r, f, format)
		return
	}
	if f.Limit == 0 {
		f.Limit = defaultEventLimit
	}
	events, next, err := a.Store.Events(r.Context(), f)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	p := focal.PrincipalFromContext(r.Context())
	out := struct {
		Events []eventBody `json:"events"`
		Next   string      `json:"next"`
	}{Events: make([]eventBody, 0, len(events)), Next: next}
	for _, e := range events {
		out.Events = append(out.Events, eventToBody(p, e))
	}
	a.writeJSON(w, http.StatusOK, out)
}

// eventCSVHeader names the columns of the CSV export.
var eventCSVHeader = []string{"id", "first_seen", "last_seen", "source_time", "observed_time", "class", "type",
	"source_ip", "source_port", "source_asn", "source_country", "source_fqdn", "source_url",
	"destination_ip", "destination_port", "destination_asn", "destination_country", "destination_fqdn", "destination_url",
	"protocol", "malware", "identifier", "feed", "provider", "tlp", "confidence", "orgs", "count", "raw"}

// exportFlushEvery is how many events an export writes between flushes.
const exportFlushEvery = 500

// exportEvents streams every event matching f as CSV or NDJSON, never
// holding more than the store's page in memory. Once the first byte is
// sent an error can only end the stream; it is logged.
func (a *API) exportEvents(w http.ResponseWriter, r *http.Request, f focal.EventFilter, format string) {
	ctx := r.Context()
	p := focal.PrincipalFromContext(ctx)
	// Ask for the first event before answering, so that a refusal or a
	// bad cursor is still a problem document.
	if _, _, err := a.Store.Events(ctx, focal.EventFilter{Since: f.Since, Until: f.Until, IP: f.IP, CIDR: f.CIDR, ASN: f.ASN,
		OrgID: f.OrgID, Class: f.Class, Type: f.Type, Feed: f.Feed, Country: f.Country, Cursor: f.Cursor, Limit: 1}); err != nil {
		a.Error(w, r, err)
		return
	}
	rc := http.NewResponseController(w)
	name := "events-" + time.Now().UTC().Format("20060102T150405Z")
	w.Header().Set("Cache-Control", "no-store")
	n := 0
	flush := func() {
		if n%exportFlushEvery == 0 {
			if err := rc.Flush(); err != nil {
				a.Logger.Debug("flush export", "err", err)
			}
		}
	}
	var err error
	switch format {
	case "csv":
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="`+name+`.csv"`)
		cw := csv.NewWriter(w)
		if err = cw.Write(eventCSVHeader); err != nil {
			break
		}
		err = a.Store.EachEvent(ctx, f, func(e *focal.Event) error {
			n++
			if err := cw.Write(eventCSVRow(p, e)); err != nil {
				return err
			}
			if n%exportFlushEvery == 0 {
				cw.Flush()
				flush()
			}
			return cw.Error()
		})
		cw.Flush()
		if err == nil {
			err = cw.Error()
		}
	case "ndjson":
		w.Header().Set("Content-Type", "application/x-ndjson")
		w.Header().Set("Content-Disposition", `attachment; filename="`+name+`.ndjson"`)
		enc := json.NewEncoder(w)
		err = a.Store.EachEvent(ctx, f, func(e *focal.Event) error {
			n++
			if err := enc.Encode(eventToBody(p, e)); err != nil {
				return err
			}
			flush()
			return nil
		})
	}
	if err != nil && ctx.Err() == nil {
		a.Logger.Warn("event export ended early", "format", format, "events", n, "err", err)
	}
}

// eventCSVRow renders e in the columns of eventCSVHeader.
func eventCSVRow(p focal.Principal, e *focal.Event) []string {
	ts := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format(time.RFC3339)
	}
	ip := func(a netip.Addr) string {
		if !a.IsValid() {
			return ""
		}
		return a.String()
	}
	num := func(n uint64) string {
		if n == 0 {
			return ""
		}
		return strconv.FormatUint(n, 10)
	}
	orgs := visibleOrgs(p, e.Orgs)
	ids := make([]string, len(orgs))
	for i, id := range orgs {
		ids[i] = strconv.FormatInt(id, 10)
	}
	s, d := e.Source, e.Destination
	return []string{strconv.FormatInt(e.ID, 10), ts(e.FirstSeen), ts(e.LastSeen), ts(e.SourceTime), ts(e.ObservedTime), e.Class, e.Type,
		ip(s.IP), num(uint64(s.Port)), num(uint64(s.ASN)), s.Country, s.FQDN, s.URL,
		ip(d.IP), num(uint64(d.Port)), num(uint64(d.ASN)), d.Country, d.FQDN, d.URL,
		e.Protocol, e.Malware, e.Identifier, e.Feed, e.Provider, string(e.TLP), strconv.Itoa(e.Confidence),
		strings.Join(ids, " "), strconv.Itoa(e.Count), e.Raw}
}

// getEvent serves GET /api/v1/events/{id}.
func (a *API) getEvent(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	e, err := a.Store.Event(r.Context(), id)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	a.writeJSON(w, http.StatusOK, eventToBody(focal.PrincipalFromContext(r.Context()), e))
}

// statsBody is EventStatistics as the API shows it.
type statsBody struct {
	Events     int64        `json:"events"`
	Sightings  int64        `json:"sightings"`
	BucketS    int64        `json:"bucket_s"`
	Buckets    []bucketBody `json:"buckets"`
	TopOrgs    []topOrg     `json:"top_orgs"`
	TopASNs    []topASN     `json:"top_asns"`
	TopClasses []topKey     `json:"top_classes"`
	TopFeeds   []topKey     `json:"top_feeds"`
}

type bucketBody struct {
	Start  time.Time `json:"start"`
	Events int64     `json:"events"`
}

type topOrg struct {
	ID    int64  `json:"id"`
	Name  string `json:"name"`
	Count int64  `json:"count"`
}

type topASN struct {
	ASN   int64 `json:"asn"`
	Count int64 `json:"count"`
}

type topKey struct {
	Key   string `json:"key"`
	Count int64  `json:"count"`
}

// parseBucket reads a bucket width: a Go duration such as 15m or 1h, or
// a number of days such as 1d.
func parseBucket(v string) (time.Duration, error) {
	var d time.Duration
	var err error
	if n, ok := strings.CutSuffix(v, "d"); ok {
		var days int
		days, err = strconv.Atoi(n)
		d = time.Duration(days) * 24 * time.Hour
	} else {
		d, err = time.ParseDuration(v)
	}
	if err != nil || d < minBucket || d > maxBucket {
		return 0, focal.FieldErrorf("bucket", "want a width from 1m to 90d, such as 15m, 1h or 1d, got %q", v)
	}
	return d, nil
}

// eventStats serves GET /api/v1/events/stats: totals, counts per bucket
// of last-seen time (?bucket=, default 1h) and the top organisations,
// ASNs, classes and feeds (?top=, default 10) of the matching events.
func (a *API) eventStats(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	q := r.URL.Query()
	f, err := parseEventFilter(q)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	width := time.Hour
	if v := q.Get("bucket"); v != "" {
		if width, err = parseBucket(v); err != nil {
			a.Error(w, r, err)
			return
		}
	}
	if !f.Since.IsZero() {
		until := f.Until
		if until.IsZero() {
			until = time.Now()
		}
		if until.Sub(f.Since)/width > maxBuckets {
			a.Error(w, r, focal.FieldErrorf("bucket", "too narrow for the period: at most %d buckets", maxBuckets))
			return
		}
	}
	top, err := queryInt(r, "top", defaultTop, maxTop)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	st, err := a.Store.EventStatistics(ctx, f, width, max(top, 1))
	if err != nil {
		a.Error(w, r, err)
		return
	}
	names, err := a.orgNames(r)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	out := statsBody{Events: st.Events, Sightings: st.Sightings, BucketS: int64(width / time.Second),
		Buckets: []bucketBody{}, TopOrgs: []topOrg{}, TopASNs: []topASN{}, TopClasses: []topKey{}, TopFeeds: []topKey{}}
	for _, b := range st.Buckets {
		out.Buckets = append(out.Buckets, bucketBody{Start: b.Start, Events: b.Events})
	}
	for _, t := range st.TopOrgs {
		// A constituent sees only its own organisation: the others its
		// events matched are not its business.
		if name, ok := names[t.ID]; ok {
			out.TopOrgs = append(out.TopOrgs, topOrg{ID: t.ID, Name: name, Count: t.Count})
		}
	}
	for _, t := range st.TopASNs {
		out.TopASNs = append(out.TopASNs, topASN{ASN: t.ID, Count: t.Count})
	}
	for _, t := range st.TopClasses {
		out.TopClasses = append(out.TopClasses, topKey{Key: t.Key, Count: t.Count})
	}
	for _, t := range st.TopFeeds {
		out.TopFeeds = append(out.TopFeeds, topKey{Key: t.Key, Count: t.Count})
	}
	a.writeJSON(w, http.StatusOK, out)
}

// orgNames returns the names of the organisations the caller may see.
func (a *API) orgNames(r *http.Request) (map[int64]string, error) {
	orgs, err := a.Store.OrganisationNames(r.Context(), maxOrgNames)
	if err != nil {
		return nil, err
	}
	names := make(map[int64]string, len(orgs))
	for _, o := range orgs {
		names[o.ID] = o.Name
	}
	return names, nil
}

// maxOrgNames bounds the organisations named in an answer.
const maxOrgNames = 100_000
