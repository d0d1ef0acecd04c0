package federation

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"focal/internal/store"
)

// HintPath is where a focal node receives push hints.
const HintPath = "/api/v1/federation/hint"

// Defaults of HinterConfig.
const (
	DefaultHintInterval = 200 * time.Millisecond
	DefaultHintTimeout  = 3 * time.Second
)

// HinterConfig configures a Hinter. Store is required.
type HinterConfig struct {
	Store  *store.Store
	Logger *slog.Logger
	// Interval is the shortest time between two hints to one peer;
	// changes in between are coalesced into one hint (default
	// DefaultHintInterval).
	Interval time.Duration
	// Timeout bounds one hint request (default DefaultHintTimeout).
	Timeout time.Duration
}

// Hinter tells the peers' nodes that a local collection changed, so that
// they poll us now instead of at their next interval: a small
// authenticated POST of {"collection": "<id>"} to HintPath at each
// enabled peer's origin, with the credentials we hold for it. Hints are
// best effort: a failed hint is logged and forgotten (the peer still
// polls on its interval), and a peer that answers 404 (not a focal node)
// is marked and not hinted again until its settings change. Create it
// with NewHinter and run it with Run; Changed is safe for concurrent use
// and never blocks.
type Hinter struct {
	cfg     HinterConfig
	log     *slog.Logger
	wake    chan struct{}
	clients *clientCache

	mu       sync.Mutex
	pending  []string              // collections changed since the last round
	inflight map[int64]bool        // peers with a hint under way
	again    map[int64]*store.Peer // peers to hint again when theirs ends
	againCol map[int64]string
}

// NewHinter returns a Hinter for cfg.
func NewHinter(cfg HinterConfig) *Hinter {
	if cfg.Interval <= 0 {
		cfg.Interval = DefaultHintInterval
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultHintTimeout
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Hinter{cfg: cfg, log: log.With("component", "federation"), wake: make(chan struct{}, 1),
		clients: &clientCache{timeout: cfg.Timeout, max: 1 << 16}, inflight: map[int64]bool{},
		again: map[int64]*store.Peer{}, againCol: map[int64]string{}}
}

// Changed records that objects were written to local collection id (call
// it after the write commits). The peers are hinted in the background.
func (h *Hinter) Changed(collectionID string) {
	h.mu.Lock()
	if len(h.pending) < 64 {
		h.pending = append(h.pending, collectionID)
	}
	h.mu.Unlock()
	select {
	case h.wake <- struct{}{}:
	default:
	}
}

// Run sends hints until ctx is done, at most one round per Interval, then
// waits for the hints under way and returns nil.
func (h *Hinter) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-h.wake:
		}
		h.mu.Lock()
		cols := h.pending
		h.pending = nil
		h.mu.Unlock()
		if len(cols) > 0 {
			peers, err := h.cfg.Store.HintPeers(system(ctx))
			if err != nil {
				h.log.Error("federation: hint peers", "err", err)
			}
			for _, p := range peers {
				h.start(ctx, &wg, p, cols[0])
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(h.cfg.Interval):
		}
	}
}

// start sends a hint to p in the background, or, if one is under way,
// asks for another when it ends (the one under way may have left before
// the write).
func (h *Hinter) start(ctx context.Context, wg *sync.WaitGroup, p *store.Peer, collection string) {
	h.mu.Lock()
	if h.inflight[p.ID] {
		h.again[p.ID], h.againCol[p.ID] = p, collection
		h.mu.Unlock()
		return
	}
	h.inflight[p.ID] = true
	h.mu.Unlock()
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			h.send(ctx, p, collection)
			h.mu.Lock()
			next, ok := h.again[p.ID]
			if !ok || ctx.Err() != nil {
				delete(h.inflight, p.ID)
				delete(h.again, p.ID)
				h.mu.Unlock()
				return
			}
			p, collection = next, h.againCol[p.ID]
			delete(h.again, p.ID)
			h.mu.Unlock()
			select {
			case <-ctx.Done():
			case <-time.After(h.cfg.Interval):
			}
		}
	}()
}

// errNotFocal is a 404 from the hint endpoint: the peer is not a focal
// node (or an old one).
var errNotFocal = errors.New("the peer has no push-hint endpoint")

func (h *Hinter) send(ctx context.Context, p *store.Peer, collection string) {
	err := h.hint(ctx, p, collection)
	switch {
	case err == nil:
	case errors.Is(err, errNotFocal):
		h.log.Info("federation: peer takes no push hints; it will only be polled", "peer", p.Name)
		if err := h.cfg.Store.SetPeerNoHints(system(context.WithoutCancel(ctx)), p.ID); err != nil {
			h.log.Error("federation: peer no hints", "peer", p.Name, "err", err)
		}
	case ctx.Err() == nil:
		h.log.Debug("federation: push hint failed", "peer", p.Name, "err", err)
	}
}

// hint POSTs one hint to p's node.
func (h *Hinter) hint(ctx context.Context, p *store.Peer, collection string) error {
	c, err := h.clients.get(p)
	if err != nil {
		return err
	}
	origin := p.Origin()
	if origin == "" {
		return fmt.Errorf("peer %s: bad API root", p.Name)
	}
	body, err := json.Marshal(hintBody{Collection: collection})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, h.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, origin+HintPath, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	c.authorize(req)
	resp, err := c.http.Do(req)
	if err != nil {
		return cleanErr(err)
	}
	resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return errNotFocal
	case resp.StatusCode/100 != 2:
		return fmt.Errorf("POST %s: %s", origin+HintPath, resp.Status)
	}
	return nil
}

// hintBody is the push hint: the sender's collection that changed.
type hintBody struct {
	Collection string `json:"collection"`
}
