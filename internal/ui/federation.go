package ui

import (
	"net/http"
	"strings"
	"time"

	"focal/internal/federation"
	"focal/internal/focal"
	"focal/internal/store"
)

// directoryPage is the directory of focal points: this team's profile,
// and each peer with the health of the link and its published profile.
type directoryPage struct {
	base
	Own       *focal.TeamProfile
	Peers     []directoryRow
	MayManage bool
	Error     string
	Form      peerForm
}

// directoryRow is one peer of the directory.
type directoryRow struct {
	Peer        *store.Peer
	Health      string
	Profile     *federation.PeerProfile
	Interval    string
	Lag         string
	LastSuccess time.Time
}

// peerForm is the add-a-peer form as typed.
type peerForm struct {
	Name, URL, Collection, Auth, Username, CAPEM, Account, ImportCollection, Interval string
}

// directory serves GET /federation.
func (h *handlers) directory(w http.ResponseWriter, r *http.Request) {
	h.renderDirectory(w, r, http.StatusOK, "", peerForm{Auth: store.PeerAuthBasic, Interval: "1m"})
}

func (h *handlers) renderDirectory(w http.ResponseWriter, r *http.Request, status int, msg string, f peerForm) {
	ctx := r.Context()
	page := directoryPage{base: h.base(r, "Focal points"), Error: msg, Form: f,
		MayManage: may(r, focal.ActionCreate, focal.Resource{Kind: focal.KindSharing})}
	own, set, err := h.loadProfile(r)
	if err != nil {
		h.error(w, r, err)
		return
	}
	if set {
		page.Own = &own
	}
	peers, err := h.store.Peers(ctx)
	if err != nil {
		h.error(w, r, err)
		return
	}
	for _, p := range peers {
		row := directoryRow{Peer: p, Health: federation.Health(p), Interval: p.PollInterval.String(), LastSuccess: p.LastSuccess}
		if p.Lag > 0 {
			row.Lag = p.Lag.Round(time.Millisecond).String()
		}
		if pp, ok := federation.LoadProfile(ctx, h.store, p.ID); ok {
			row.Profile = &pp
		}
		page.Peers = append(page.Peers, row)
	}
	h.render(w, r, status, "federation", page)
}

// peerCreate serves POST /federation/peers: a coordinator registers a
// peer to poll, as focal peer add does.
func (h *handlers) peerCreate(w http.ResponseWriter, r *http.Request) {
	if err := parseForm(r); err != nil {
		h.error(w, r, err)
		return
	}
	v := r.PostForm
	f := peerForm{Name: v.Get("name"), URL: v.Get("url"), Collection: v.Get("collection"), Auth: v.Get("auth"), Username: v.Get("username"),
		CAPEM: v.Get("ca_pem"), Account: v.Get("account"), ImportCollection: v.Get("import_collection"), Interval: v.Get("interval")}
	p := &store.Peer{Name: strings.TrimSpace(f.Name), APIRoot: strings.TrimSpace(f.URL), Collection: strings.TrimSpace(f.Collection), Auth: f.Auth,
		Username: strings.TrimSpace(f.Username), Secret: v.Get("secret"), CAPEM: strings.TrimSpace(strings.ReplaceAll(f.CAPEM, "\r\n", "\n")),
		Account: strings.TrimSpace(f.Account), ImportCollection: strings.TrimSpace(f.ImportCollection), Enabled: true}
	if f.Interval != "" {
		d, err := time.ParseDuration(f.Interval)
		if err != nil {
			h.renderDirectory(w, r, http.StatusBadRequest, "interval: want a duration such as 1s, 30s or 5m", f)
			return
		}
		p.PollInterval = d
	}
	if err := h.store.CreatePeer(r.Context(), p); err != nil {
		if focal.ErrorCode(err) != focal.EINVALID && focal.ErrorCode(err) != focal.ECONFLICT {
			h.error(w, r, err)
			return
		}
		h.renderDirectory(w, r, http.StatusBadRequest, focal.ErrorMessage(err), f)
		return
	}
	redirect(w, r, withNotice("/federation", "created"))
}

// peerPoll serves POST /federation/peers/{id}/poll: poll the peer now.
func (h *handlers) peerPoll(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		h.error(w, r, err)
		return
	}
	if err := h.store.PollNow(r.Context(), id); err != nil {
		h.error(w, r, err)
		return
	}
	redirect(w, r, withNotice("/federation", "scheduled"))
}

// peerDelete serves POST /federation/peers/{id}/delete.
func (h *handlers) peerDelete(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		h.error(w, r, err)
		return
	}
	if err := h.store.DeletePeer(r.Context(), id); err != nil {
		h.error(w, r, err)
		return
	}
	redirect(w, r, withNotice("/federation", "deleted"))
}

// healthLabel names a link's health for people.
func healthLabel(h string) string {
	switch h {
	case "ok":
		return "healthy"
	case "lagging":
		return "lagging"
	case "failing":
		return "failing"
	}
	return "not polled yet"
}
