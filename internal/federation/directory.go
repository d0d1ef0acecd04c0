package federation

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"focal/internal/focal"
	"focal/internal/store"
)

// ProfilePath is where a focal node publishes its team profile (RFC 2350
// fields) for the directory of focal points.
const ProfilePath = "/.well-known/focal-point.json"

// maxProfileBytes bounds a fetched profile.
const maxProfileBytes = 256 << 10

// DefaultDirectoryRefresh is how often peers' profiles are fetched again.
const DefaultDirectoryRefresh = time.Hour

// PeerProfile is a peer's published profile as this node last fetched it.
type PeerProfile struct {
	Profile   focal.TeamProfile `json:"profile"`
	FetchedAt time.Time         `json:"fetched_at"`
	Error     string            `json:"error,omitempty"` // why the last fetch failed; the profile is the last good one
}

func profileKey(peerID int64) string { return "peer_profile:" + strconv.FormatInt(peerID, 10) }

// LoadProfile returns the last fetched profile of peer id; ok is false
// when none was fetched yet.
func LoadProfile(ctx context.Context, st *store.Store, peerID int64) (PeerProfile, bool) {
	var pp PeerProfile
	v, err := st.Meta(ctx, profileKey(peerID))
	if err != nil || json.Unmarshal([]byte(v), &pp) != nil {
		return PeerProfile{}, false
	}
	return pp, true
}

// Directory keeps the directory of focal points: it fetches each enabled
// peer's profile from its node (ProfilePath at the peer's origin, with the
// peer's CA) and keeps the last good one. A peer that is not a focal node,
// or fails, keeps its last profile with the error noted.
type Directory struct {
	Store   *store.Store
	Logger  *slog.Logger
	Refresh time.Duration // default DefaultDirectoryRefresh
	Timeout time.Duration // per fetch; default 10 s
}

// Run keeps the directory until ctx is done: every minute it fetches the
// profile of each enabled peer whose profile is missing or older than
// Refresh, so a new peer appears in the directory within a minute.
func (d *Directory) Run(ctx context.Context) error {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		d.refresh(ctx, false)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// RefreshAll fetches every enabled peer's profile now.
func (d *Directory) RefreshAll(ctx context.Context) { d.refresh(ctx, true) }

func (d *Directory) refresh(ctx context.Context, all bool) {
	every := d.Refresh
	if every <= 0 {
		every = DefaultDirectoryRefresh
	}
	sys := focal.NewContextWithPrincipal(ctx, focal.System())
	peers, err := d.Store.Peers(sys)
	if err != nil {
		d.log().Warn("directory: list peers", "err", err)
		return
	}
	for _, p := range peers {
		if !p.Enabled {
			continue
		}
		if pp, ok := LoadProfile(sys, d.Store, p.ID); ok && !all && time.Since(pp.FetchedAt) < every {
			continue
		}
		if err := d.RefreshPeer(ctx, p.ID); err != nil && ctx.Err() == nil {
			d.log().Info("directory: peer profile", "peer", p.Name, "err", err)
		}
	}
}

// RefreshPeer fetches peer id's profile and records it (or the error,
// keeping the last good profile).
func (d *Directory) RefreshPeer(ctx context.Context, id int64) error {
	sys := focal.NewContextWithPrincipal(ctx, focal.System())
	p, err := d.Store.PeerForPoll(sys, id)
	if err != nil {
		return err
	}
	prof, ferr := d.fetch(ctx, p)
	pp, _ := LoadProfile(sys, d.Store, id)
	pp.FetchedAt = time.Now().UTC().Truncate(time.Second)
	if ferr != nil {
		pp.Error = ferr.Error()
	} else {
		pp.Profile, pp.Error = *prof, ""
	}
	b, err := json.Marshal(pp)
	if err != nil {
		return err
	}
	if err := d.Store.SetMeta(sys, profileKey(id), string(b)); err != nil {
		return err
	}
	return ferr
}

func (d *Directory) fetch(ctx context.Context, p *store.Peer) (*focal.TeamProfile, error) {
	timeout := d.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	c, err := NewClient(p, timeout)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	origin := p.Origin()
	if origin == "" {
		return nil, fmt.Errorf("peer %s has no usable URL", p.Name)
	}
	req, err := http.NewRequestWithContext(ctx, "GET", origin+ProfilePath, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetch profile: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetch profile: %s answered %s (not a focal node, or no profile published)", origin+ProfilePath, resp.Status)
	}
	var prof focal.TeamProfile
	dec := json.NewDecoder(io.LimitReader(resp.Body, maxProfileBytes))
	if err := dec.Decode(&prof); err != nil {
		return nil, fmt.Errorf("fetch profile: not a profile: %v", err)
	}
	prof.Normalize()
	if err := prof.Validate(); err != nil {
		return nil, fmt.Errorf("fetch profile: %v", focal.ErrorMessage(err))
	}
	return &prof, nil
}

func (d *Directory) log() *slog.Logger {
	if d.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return d.Logger
}
