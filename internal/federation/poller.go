package federation

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"time"

	"focal/internal/feed/stixfeed"
	"focal/internal/focal"
	"focal/internal/pipeline"
	"focal/internal/stix"
	"focal/internal/store"
	"focal/internal/taxii"
)

// Defaults of PollerConfig.
const (
	DefaultTick        = 250 * time.Millisecond
	DefaultConcurrency = 4
	// MaxBackoff bounds the wait after failures (unless the peer's own
	// interval is longer).
	MaxBackoff = time.Hour
	// leaseTTL is how long a claim on a peer lasts without renewal; the
	// poller renews it at every page.
	leaseTTL = 2 * time.Minute
	// maxPagesPerPoll bounds one poll (a server that always says more).
	maxPagesPerPoll = 100000
)

// FeedPrefix starts the name of the feed a peer's events come from:
// "taxii-<peer name>".
const FeedPrefix = "taxii-"

// PollerConfig configures a Poller. Store is required.
type PollerConfig struct {
	Store *store.Store
	// Pipeline receives the imported indicators and observed data as STIX
	// bundles (feed "taxii-<peer>", format stix), which it matches to the
	// constituency; nil imports into the collections only.
	Pipeline *pipeline.Pipeline
	Logger   *slog.Logger
	// Holder names this process in peer leases (default host:pid:random).
	Holder string
	// Tick is how often due peers are looked for (default DefaultTick).
	Tick time.Duration
	// Timeout bounds each HTTP request, body included (default
	// DefaultTimeout).
	Timeout time.Duration
	// PageLimit is the limit asked of the server (default
	// DefaultPageLimit); MaxPageBytes bounds a page (default
	// DefaultMaxPageBytes).
	PageLimit    int
	MaxPageBytes int64
	// Concurrency is the most peers polled at once (default
	// DefaultConcurrency).
	Concurrency int
	// Changed, if set, is called after new objects were added to a
	// local import collection (the app passes Hinter.Changed, so that
	// our own peers hear of them at once: chains A → B → C).
	Changed func(collectionID string)
}

// Poller polls the peers' collections: each due peer is claimed (so that
// of several focal processes on one database only one polls it), read
// page by page from its cursor, and each page handed over — valid objects
// not yet imported from that peer go to the pipeline as one STIX bundle
// and to the peer's import collection — before the cursor advances. A
// failing peer backs off (interval·2^failures, at most MaxBackoff) and
// affects no other. Create it with NewPoller, run it with Run; Wake is
// safe for concurrent use.
type Poller struct {
	cfg     PollerConfig
	log     *slog.Logger
	wake    chan struct{}
	clients *clientCache

	mu      sync.Mutex
	running map[int64]bool
}

// NewPoller returns a Poller for cfg.
func NewPoller(cfg PollerConfig) *Poller {
	if cfg.Tick <= 0 {
		cfg.Tick = DefaultTick
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.PageLimit <= 0 {
		cfg.PageLimit = DefaultPageLimit
	}
	if cfg.MaxPageBytes <= 0 {
		cfg.MaxPageBytes = DefaultMaxPageBytes
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = DefaultConcurrency
	}
	if cfg.Holder == "" {
		h, _ := os.Hostname()
		cfg.Holder = h + ":" + strconv.Itoa(os.Getpid()) + ":" + rand.Text()[:8]
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Poller{cfg: cfg, log: log.With("component", "federation"), wake: make(chan struct{}, 1),
		clients: &clientCache{timeout: cfg.Timeout, max: cfg.MaxPageBytes}, running: map[int64]bool{}}
}

// Wake makes the poller look for due peers now instead of at its next
// tick (after a push hint or an operator's "poll now"). It never blocks.
func (p *Poller) Wake() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// system is the principal the poller acts as.
func system(ctx context.Context) context.Context {
	return focal.NewContextWithPrincipal(ctx, focal.System())
}

// Run polls due peers until ctx is done, then waits for the polls under
// way to stop (they are interrupted, their leases released) and returns
// nil.
func (p *Poller) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	sem := make(chan struct{}, p.cfg.Concurrency)
	t := time.NewTicker(p.cfg.Tick)
	defer t.Stop()
	for {
		p.dispatch(ctx, &wg, sem)
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-p.wake:
		}
	}
}

// dispatch claims due peers and polls each in its own goroutine, at most
// Concurrency at once.
func (p *Poller) dispatch(ctx context.Context, wg *sync.WaitGroup, sem chan struct{}) {
	sctx := system(ctx)
	now := time.Now()
	due, err := p.cfg.Store.DuePeers(sctx, now, 2*p.cfg.Concurrency)
	if err != nil {
		if ctx.Err() == nil {
			p.log.Error("federation: due peers", "err", err)
		}
		return
	}
	for _, peer := range due {
		p.mu.Lock()
		busy := p.running[peer.ID]
		p.mu.Unlock()
		if busy {
			continue
		}
		select {
		case sem <- struct{}{}:
		default:
			return // all slots busy; the rest waits for the next tick
		}
		ok, err := p.cfg.Store.ClaimPeer(sctx, peer.ID, p.cfg.Holder, now, now.Add(leaseTTL))
		if err != nil || !ok {
			<-sem
			if err != nil {
				p.log.Error("federation: claim peer", "peer", peer.Name, "err", err)
			}
			continue
		}
		p.mu.Lock()
		p.running[peer.ID] = true
		p.mu.Unlock()
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() {
				p.mu.Lock()
				delete(p.running, peer.ID)
				p.mu.Unlock()
				<-sem
			}()
			p.pollPeer(ctx, peer)
		}()
	}
}

// Backoff returns how long to wait before polling a peer again after its
// failures-th consecutive failure: interval·2^failures, at most
// MaxBackoff (or the interval, if longer).
func Backoff(interval time.Duration, failures int) time.Duration {
	limit := max(MaxBackoff, interval)
	d := interval
	for range failures {
		d *= 2
		if d >= limit {
			return limit
		}
	}
	return d
}

// pollPeer polls one claimed peer and records the outcome.
func (p *Poller) pollPeer(ctx context.Context, peer *store.Peer) {
	started := time.Now()
	warn, err := p.poll(ctx, peer)
	// The outcome is recorded even when ctx was cancelled mid-poll.
	rctx, cancel := context.WithTimeout(system(context.WithoutCancel(ctx)), 10*time.Second)
	defer cancel()
	if ctx.Err() != nil || focal.ErrorCode(err) == focal.ECONFLICT {
		// Stopping, or the peer changed under the poll: not the peer's
		// fault. Release it, due at once, for any process.
		if rerr := p.cfg.Store.ReleasePeer(rctx, peer.ID, p.cfg.Holder); rerr != nil {
			p.log.Error("federation: release peer", "peer", peer.Name, "err", rerr)
		}
		return
	}
	out := store.PollOutcome{Started: started, Warning: warn, NextAt: time.Now().Add(peer.PollInterval)}
	if err != nil {
		out.Err = err.Error()
		out.NextAt = time.Now().Add(Backoff(peer.PollInterval, peer.Failures+1))
		p.log.Warn("federation: poll failed", "peer", peer.Name, "failures", peer.Failures+1, "retry_at", out.NextAt, "err", err)
	}
	if err := p.cfg.Store.RecordPoll(rctx, peer.ID, out); err != nil {
		p.log.Error("federation: record poll", "peer", peer.Name, "err", err)
	}
}

// poll reads the peer's collection from its cursor to the end, handing
// over page by page. It returns a warning about skipped objects (the
// poll still succeeds) or the error that stopped it.
func (p *Poller) poll(ctx context.Context, peer *store.Peer) (warning string, err error) {
	c, err := p.clients.get(peer)
	if err != nil {
		return "", err
	}
	sctx := system(ctx)
	// The next page is fetched while the current one is handed over; the
	// cursor still moves one page at a time, in order.
	fctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type fetched struct {
		page *Page
		err  error
	}
	fetch := func(q Query) <-chan fetched {
		ch := make(chan fetched, 1)
		go func() {
			pg, err := c.Objects(fctx, peer.Collection, q)
			ch <- fetched{pg, err}
		}()
		return ch
	}
	q := Query{AddedAfter: peer.Cursor, Limit: p.cfg.PageLimit}
	pending := fetch(q)
	var invalid int
	var firstInvalid string
	for pages := 0; pages < maxPagesPerPoll; pages++ {
		if pages > 0 {
			now := time.Now()
			ok, err := p.cfg.Store.ClaimPeer(sctx, peer.ID, p.cfg.Holder, now, now.Add(leaseTTL))
			if err != nil {
				return "", err
			}
			if !ok {
				return "", errors.New("lost the lease on the peer (disabled, or taken by another process)")
			}
		}
		r := <-pending
		if r.err != nil {
			return "", r.err
		}
		page := r.page
		more := page.More
		if more {
			switch {
			case page.Next != "":
				if page.Next == q.Next && len(page.Objects) == 0 {
					return "", errors.New("the server answered more:true with the same next and no objects")
				}
				q.Next = page.Next
			case page.AddedLast != "":
				// TAXII 2.1 §3.5: more without next; continue after the
				// last object's date_added.
				q = Query{AddedAfter: page.AddedLast, Limit: p.cfg.PageLimit}
			default:
				return "", errors.New("the server answered more:true without next or X-TAXII-Date-Added-Last: cannot page on")
			}
			pending = fetch(q)
		}
		n, bad, err := p.handOver(sctx, peer, page)
		if err != nil {
			return "", err
		}
		if invalid == 0 && bad != "" {
			firstInvalid = bad
		}
		invalid += n
		if !more {
			break
		}
	}
	if invalid > 0 {
		warning = fmt.Sprintf("%d invalid object(s) skipped; first: %s", invalid, firstInvalid)
	}
	return warning, nil
}

// item is one valid object of a page.
type item struct {
	raw json.RawMessage
	obj stix.Object
	hdr taxii.Header
	key store.PeerObject
}

// handOver validates a page's objects, drops those already imported from
// the peer, submits the rest to the pipeline and the import collection,
// then records them and the page's cursor. It returns the number of
// invalid objects and the first one's problem.
func (p *Poller) handOver(ctx context.Context, peer *store.Peer, page *Page) (invalid int, first string, err error) {
	var items []item
	for _, r := range validateAll(page.Objects) {
		if r.err != nil {
			if invalid == 0 {
				first = truncate(focal.ErrorMessage(r.err), 200)
			}
			invalid++
			continue
		}
		items = append(items, r.item)
	}
	keys := make([]store.PeerObject, len(items))
	for i, it := range items {
		keys[i] = it.key
	}
	seen, err := p.cfg.Store.ImportedFrom(ctx, peer.ID, keys)
	if err != nil {
		return 0, "", err
	}
	var fresh []item
	dup := map[store.PeerObject]bool{}
	for _, it := range items {
		if seen[it.key] || dup[it.key] {
			continue
		}
		dup[it.key] = true
		fresh = append(fresh, it)
	}
	if len(fresh) > 0 {
		if err := p.ingest(ctx, peer, fresh, items); err != nil {
			return 0, "", err
		}
		if err := p.addToCollection(ctx, peer, fresh); err != nil {
			return 0, "", err
		}
	}
	pg := store.PeerPage{Cursor: page.AddedLast, Settings: peer.UpdatedAt}
	for _, it := range fresh {
		pg.Imported = append(pg.Imported, it.key)
	}
	// The lag measures propagation, not the first catch-up of old
	// objects: it is measured once the link has succeeded before.
	if t, err := taxii.ParseTimestamp(page.AddedLast); err == nil && len(fresh) > 0 && !peer.LastSuccess.IsZero() {
		pg.Lag = max(time.Since(t), 0)
	}
	if err := p.cfg.Store.RecordPeerPage(ctx, peer.ID, pg); err != nil {
		return 0, "", err
	}
	return invalid, first, nil
}

type validated struct {
	item item
	err  error
}

// validateAll validates a page's objects, in order, on every CPU.
func validateAll(raws []json.RawMessage) []validated {
	out := make([]validated, len(raws))
	workers := min(runtime.GOMAXPROCS(0), (len(raws)+99)/100)
	if workers <= 1 {
		for i, raw := range raws {
			out[i].item, out[i].err = validObject(raw)
		}
		return out
	}
	var wg sync.WaitGroup
	per := (len(raws) + workers - 1) / workers
	for start := 0; start < len(raws); start += per {
		end := min(start+per, len(raws))
		wg.Go(func() {
			for i := start; i < end; i++ {
				out[i].item, out[i].err = validObject(raws[i])
			}
		})
	}
	wg.Wait()
	return out
}

// validObject decodes and validates one object of a page.
func validObject(raw json.RawMessage) (item, error) {
	obj, err := stix.Decode(raw)
	if err != nil {
		return item{}, err
	}
	if err := stix.Validate(obj); err != nil {
		return item{}, err
	}
	hdr, err := taxii.DecodeHeader(raw)
	if err != nil {
		return item{}, fmt.Errorf("%s: %v", truncate(obj.ID, 100), focal.ErrorMessage(err))
	}
	return item{raw: raw, obj: obj, hdr: hdr, key: store.PeerObject{ID: hdr.ID, Version: hdr.Version}}, nil
}

// ingest submits the fresh indicators and observed data (with the page's
// cyber-observables, which observed data refer to) to the pipeline as one
// bundle, through the peer's feed. The run key is derived from the
// objects, so that a page handed over again after a crash resumes its
// run instead of counting its events twice. Ingest returns once the
// bundle is durably in the stream.
func (p *Poller) ingest(ctx context.Context, peer *store.Peer, fresh, all []item) error {
	if p.cfg.Pipeline == nil {
		return nil
	}
	events := false
	for _, it := range fresh {
		events = events || it.obj.Type == "indicator" || it.obj.Type == "observed-data"
	}
	if !events {
		return nil
	}
	f, err := p.feed(ctx, peer)
	if err != nil {
		return err
	}
	h := sha256.New()
	var buf bytes.Buffer
	buf.WriteString(`{"type":"bundle","id":"bundle--` + store.NewUUID() + `","objects":[`)
	n := 0
	add := func(raw []byte) {
		if n > 0 {
			buf.WriteByte(',')
		}
		buf.Write(raw)
		n++
	}
	inBundle := map[string]bool{}
	for _, it := range fresh {
		fmt.Fprintf(h, "%s|%d\n", it.key.ID, it.key.Version)
		raw, err := labelled(it)
		if err != nil {
			return err
		}
		add(raw)
		inBundle[it.obj.ID] = true
	}
	for _, it := range all {
		if it.hdr.Version == 0 && !inBundle[it.obj.ID] { // a cyber-observable imported before
			add(it.raw)
			inBundle[it.obj.ID] = true
		}
	}
	buf.WriteString("]}")
	key := "taxii:" + strconv.FormatInt(peer.ID, 10) + ":" + hex.EncodeToString(h.Sum(nil))[:32]
	_, err = p.cfg.Pipeline.Ingest(ctx, pipeline.Request{
		Feed: f, Source: "taxii", Input: peer.APIRoot + "collections/" + peer.Collection + "/objects/", Key: key, Body: &buf,
	})
	if err != nil {
		return fmt.Errorf("hand over to the pipeline: %w", err)
	}
	return nil
}

// labelled returns the object's JSON, with the TLP:AMBER marking added
// when it carries no TLP marking: the peer's feed is TLP:CLEAR (format
// stix keeps the stricter of the feed's label and the object's), so each
// event takes its object's label, and an unlabelled object is AMBER, as
// focal releases unlabelled data.
func labelled(it item) ([]byte, error) {
	if _, ok := stix.TLPOf(it.obj.Common); ok {
		return it.raw, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(it.raw, &m); err != nil {
		return nil, fmt.Errorf("label %s: %w", it.obj.ID, err)
	}
	amber, _ := stix.MarkingRef(focal.TLPAmber)
	refs := append(append([]string(nil), it.obj.ObjectMarkingRefs...), amber)
	b, err := json.Marshal(refs)
	if err != nil {
		return nil, fmt.Errorf("label %s: %w", it.obj.ID, err)
	}
	m["object_marking_refs"] = b
	out, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("label %s: %w", it.obj.ID, err)
	}
	return out, nil
}

// feed returns the peer's feed definition, creating it on first use.
func (p *Poller) feed(ctx context.Context, peer *store.Peer) (*focal.FeedDef, error) {
	name := FeedPrefix + peer.Name
	f, err := p.cfg.Store.FeedByName(ctx, name)
	if err == nil {
		return f, nil
	}
	if focal.ErrorCode(err) != focal.ENOTFOUND {
		return nil, err
	}
	f = &focal.FeedDef{Name: name, Format: stixfeed.Format, Provider: peer.Name, TLP: focal.TLPClear, Confidence: 50,
		URL: peer.APIRoot + "collections/" + peer.Collection + "/objects/", Enabled: true}
	if err := p.cfg.Store.CreateFeed(ctx, f); err != nil {
		if focal.ErrorCode(err) == focal.EINVALID { // created meanwhile by another process
			return p.cfg.Store.FeedByName(ctx, name)
		}
		return nil, fmt.Errorf("create feed %s: %w", name, err)
	}
	return f, nil
}

// addToCollection adds the fresh objects to the peer's import collection,
// if it has one; versions already there are skipped by the store.
func (p *Poller) addToCollection(ctx context.Context, peer *store.Peer, fresh []item) error {
	if peer.ImportCollection == "" {
		return nil
	}
	objs := make([]store.TaxiiObject, len(fresh))
	for i, it := range fresh {
		var b bytes.Buffer
		if err := json.Compact(&b, it.raw); err != nil {
			return fmt.Errorf("import %s: %w", it.obj.ID, err)
		}
		objs[i] = store.TaxiiObject{ID: it.hdr.ID, Type: it.hdr.Type, SpecVersion: it.hdr.SpecVersion, Version: it.hdr.Version,
			TLP: it.hdr.TLP, Body: b.Bytes(), Source: "peer:" + peer.Name}
	}
	added, err := p.cfg.Store.AddTaxiiObjects(ctx, peer.ImportCollection, objs)
	if err != nil {
		return fmt.Errorf("add to import collection %s: %w", peer.ImportCollection, err)
	}
	if p.cfg.Changed != nil && slices.ContainsFunc(added, func(a store.TaxiiAdded) bool { return !a.Duplicate }) {
		p.cfg.Changed(peer.ImportCollection)
	}
	return nil
}

// clientCache keeps one Client per peer settings, so that polls reuse
// connections (a 1 s interval must not pay a TLS handshake each time).
type clientCache struct {
	timeout time.Duration
	max     int64
	mu      sync.Mutex
	m       map[int64]cachedClient
}

type cachedClient struct {
	updated time.Time
	c       *Client
}

func (cc *clientCache) get(peer *store.Peer) (*Client, error) {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if e, ok := cc.m[peer.ID]; ok && e.updated.Equal(peer.UpdatedAt) {
		return e.c, nil
	}
	c, err := NewClient(peer, cc.timeout)
	if err != nil {
		return nil, err
	}
	c.MaxPageBytes = cc.max
	if cc.m == nil {
		cc.m = map[int64]cachedClient{}
	}
	if e, ok := cc.m[peer.ID]; ok {
		e.c.Close()
	}
	cc.m[peer.ID] = cachedClient{peer.UpdatedAt, c}
	return c, nil
}
