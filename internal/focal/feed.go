package focal

import (
	"fmt"
	"net/netip"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// FeedDef is a feed definition: where a feed comes from, in which format,
// how often it is fetched, and what its events get (TLP, confidence, an
// RSIT classification that overrides the parser's, the dedup key and
// window).
type FeedDef struct {
	ID         int64
	Name       string // unique, e.g. "feodo-ipblocklist"
	Format     string // a format name, see docs/feeds.md
	URL        string // polled when Interval > 0; "" for feeds fed by upload, API or files
	Provider   string
	TLP        TLP
	Confidence int
	Interval   time.Duration // polling schedule; 0 = not polled
	Options    map[string]string
	// Class and Type, when set, classify every event of the feed.
	Class, Type string
	// DedupFields, when set, replace the parser's dedup key: events of
	// the feed with equal values of these fields (and the same window)
	// are one event, counted. See DedupFieldNames.
	DedupFields []string
	// DedupWindow buckets the source time: repeated sightings within one
	// window fold into one event; 0 means DefaultDedupWindow.
	DedupWindow time.Duration
	// ExpireAfter is how long a delisted entry of a snapshot feed stays
	// "delisted" before it is "expired"; 0 means DefaultExpireAfter.
	ExpireAfter time.Duration
	Enabled     bool
	// Conditional GET state of the poller.
	ETag, LastModified string
	NextRun            time.Time
	Created, Updated   time.Time
}

// Defaults of FeedDef.
const (
	DefaultDedupWindow = 24 * time.Hour
	DefaultExpireAfter = 7 * 24 * time.Hour
	MinFeedInterval    = time.Minute
)

// DedupFieldNames lists the event fields a feed's dedup key may use.
var DedupFieldNames = []string{
	"class", "type", "source.ip", "source.port", "source.asn", "source.fqdn", "source.url",
	"destination.ip", "destination.port", "destination.asn", "destination.fqdn", "destination.url",
	"protocol", "malware", "identifier",
}

var feedNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)

// Validate checks a feed definition and fills defaults. It does not know
// the formats (package feed/formats does); callers check Format there.
func (f *FeedDef) Validate() error {
	f.Name = strings.TrimSpace(f.Name)
	if !feedNameRE.MatchString(f.Name) {
		return FieldErrorf("name", "want 1–64 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit; got %q", f.Name)
	}
	if strings.TrimSpace(f.Format) == "" {
		return FieldErrorf("format", "required")
	}
	if f.URL != "" {
		u, err := url.Parse(f.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return FieldErrorf("url", "want an http or https URL, got %q", f.URL)
		}
	}
	if f.Interval < 0 || (f.Interval > 0 && f.Interval < MinFeedInterval) {
		return FieldErrorf("interval", "want 0 (not polled) or at least %v, got %v", MinFeedInterval, f.Interval)
	}
	if f.Interval > 0 && f.URL == "" {
		return FieldErrorf("url", "a polled feed needs a URL")
	}
	if f.TLP == "" {
		f.TLP = TLPAmber
	}
	if f.TLP.Rank() < 0 {
		return FieldErrorf("tlp", "unknown TLP label %q", f.TLP)
	}
	if f.Confidence < 0 || f.Confidence > 100 {
		return FieldErrorf("confidence", "want 0 to 100, got %d", f.Confidence)
	}
	if f.Class != "" || f.Type != "" {
		c := Classification{Class: f.Class, Type: f.Type}
		if err := c.Validate(); err != nil {
			return err
		}
		if c.Type == "" {
			return FieldErrorf("type", "an RSIT type is required with the class")
		}
		f.Class, f.Type = c.Class, c.Type
	}
	for _, d := range f.DedupFields {
		ok := false
		for _, n := range DedupFieldNames {
			ok = ok || n == d
		}
		if !ok {
			return FieldErrorf("dedup_fields", "unknown field %q; want some of %s", d, strings.Join(DedupFieldNames, ", "))
		}
	}
	if f.DedupWindow < 0 || f.ExpireAfter < 0 {
		return FieldErrorf("dedup_window", "durations cannot be negative")
	}
	if f.DedupWindow == 0 {
		f.DedupWindow = DefaultDedupWindow
	}
	if f.ExpireAfter == 0 {
		f.ExpireAfter = DefaultExpireAfter
	}
	return nil
}

// FeedRun is one run of a feed: a poll, an upload, a file ingested.
type FeedRun struct {
	ID       int64
	FeedID   int64
	Feed     string
	Key      string // identity of the input; a run with the same key resumes
	Source   string // poll, upload, api, cli, dir, demo
	Input    string // file name or URL
	Started  time.Time
	Finished time.Time
	State    string // RunRunning, RunDone, RunFailed, RunUnchanged
	Bytes    int64
	// Chunks published (-1 until the input is read to its end) and
	// committed.
	ChunksTotal, ChunksDone int64
	Lines, Events, Problems int64
	Stored                  int64 // events that were new rows (the rest updated counts)
	Error                   string
}

// Run states.
const (
	RunRunning   = "running"
	RunDone      = "done"
	RunFailed    = "failed"
	RunUnchanged = "unchanged" // a poll answered 304 Not Modified
)

// Complete reports whether every chunk of the run is committed.
func (r *FeedRun) Complete() bool { return r.ChunksTotal >= 0 && r.ChunksDone >= r.ChunksTotal }

// FeedProblem is a quarantined input line of a run.
type FeedProblem struct {
	RunID  int64
	Line   int64
	Reason string
	Raw    string
}

// EventFilter selects events. Zero fields do not filter.
type EventFilter struct {
	Since, Until time.Time // on last seen
	IP           netip.Addr
	CIDR         netip.Prefix
	ASN          uint32
	OrgID        int64
	Class        string
	Type         string
	Feed         string
	Country      string
	Cursor       string // opaque, from the previous page
	Limit        int
}

// Listing states of an entry of a snapshot (blocklist-style) feed.
const (
	ListingNew      = "new"
	ListingListed   = "listed"
	ListingDelisted = "delisted"
	ListingExpired  = "expired"
)

// Listing is an entry of a snapshot feed and where it is in its life.
type Listing struct {
	FeedID      int64
	Indicator   string
	State       string
	FirstListed time.Time
	LastListed  time.Time
	DelistedAt  time.Time
}

// AlertRule opens or updates an incident for an organisation when at
// least Threshold events matching it arrive within Window.
type AlertRule struct {
	ID        int64
	Name      string
	OrgID     int64  // 0 = any organisation
	Sector    string // "" = any sector
	Class     string // "" = any class
	Type      string
	Feed      string // "" = any feed
	Threshold int
	Window    time.Duration
	Severity  Severity // of the incident opened
	Enabled   bool
	Created   time.Time
}

// Validate checks a rule and fills defaults.
func (r *AlertRule) Validate() error {
	r.Name = strings.TrimSpace(r.Name)
	if r.Name == "" {
		return FieldErrorf("name", "required")
	}
	if r.Class != "" || r.Type != "" {
		c := Classification{Class: r.Class, Type: r.Type}
		if err := c.Validate(); err != nil {
			return err
		}
		r.Class, r.Type = c.Class, c.Type
	}
	if r.Threshold <= 0 {
		r.Threshold = 1
	}
	if r.Window <= 0 {
		r.Window = time.Hour
	}
	if r.Window > 90*24*time.Hour {
		return FieldErrorf("window", "at most 90 days, got %v", r.Window)
	}
	if r.Severity == "" {
		r.Severity = SeverityMedium
	}
	return nil
}

// String describes the rule for journals and logs.
func (r *AlertRule) String() string {
	return fmt.Sprintf("rule %q (%d+ events in %v)", r.Name, r.Threshold, r.Window)
}

// CutText cuts s to at most n bytes without splitting a UTF-8 sequence.
func CutText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && n < len(s) && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}
