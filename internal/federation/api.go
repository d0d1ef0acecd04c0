package federation

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"focal/internal/focal"
	"focal/internal/server"
	"focal/internal/store"
)

// secretSet is how a stored secret is shown; sent back, it keeps the
// secret.
const secretSet = "(set)"

// maxHintBody bounds a push hint's body.
const maxHintBody = 4 << 10

// API serves the peers under /api/v1/peers and the push-hint endpoint.
// Set Store and Logger; Poller, if set, is woken by hints and "poll now".
type API struct {
	Store  *store.Store
	Logger *slog.Logger
	Poller *Poller
}

// Routes returns the routes with their authorisation rules: coordinators
// manage peers and staff read them (focal.KindSharing); any account may
// reach the hint endpoint (focal.KindCollection, create), where the store
// accepts only peer accounts.
func (a *API) Routes() []server.Route {
	r := func(method, path string, kind focal.Kind, action focal.Action, h http.HandlerFunc) server.Route {
		return server.Route{Method: method, Path: path, Kind: kind, Action: action, Handler: h}
	}
	const read, create, update, del = focal.ActionRead, focal.ActionCreate, focal.ActionUpdate, focal.ActionDelete
	return []server.Route{
		r("GET", "/api/v1/peers", focal.KindSharing, read, a.listPeers),
		r("POST", "/api/v1/peers", focal.KindSharing, create, a.createPeer),
		r("GET", "/api/v1/peers/{id}", focal.KindSharing, read, a.getPeer),
		r("PUT", "/api/v1/peers/{id}", focal.KindSharing, update, a.updatePeer),
		r("DELETE", "/api/v1/peers/{id}", focal.KindSharing, del, a.deletePeer),
		r("POST", "/api/v1/peers/{id}/poll", focal.KindSharing, update, a.pollPeer),
		{Method: "POST", Path: HintPath, Kind: focal.KindCollection, Action: create, Handler: a.hint, MaxBody: maxHintBody},
	}
}

// PeerBody is a peer as the API shows it: the secret only as "(set)".
type PeerBody struct {
	ID               int64      `json:"id"`
	Name             string     `json:"name"`
	APIRoot          string     `json:"api_root"`
	Collection       string     `json:"collection"`
	CAPEM            string     `json:"ca_pem,omitempty"`
	Auth             string     `json:"auth"`
	Username         string     `json:"username,omitempty"`
	Secret           string     `json:"secret,omitempty"`
	Account          string     `json:"account,omitempty"`
	ImportCollection string     `json:"import_collection,omitempty"`
	PollIntervalMS   int64      `json:"poll_interval_ms"`
	Enabled          bool       `json:"enabled"`
	Hints            bool       `json:"hints"` // false once the node answered 404 to a hint
	Health           string     `json:"health"`
	Cursor           string     `json:"cursor,omitempty"`
	LastAttempt      *time.Time `json:"last_attempt,omitempty"`
	LastSuccess      *time.Time `json:"last_success,omitempty"`
	LastError        string     `json:"last_error,omitempty"`
	Failures         int        `json:"failures"`
	ObjectsImported  int64      `json:"objects_imported"`
	LagMS            int64      `json:"lag_ms"`
	NextPollAt       *time.Time `json:"next_poll_at,omitempty"`
	CreatedAt        time.Time  `json:"created_at"`
	UpdatedAt        time.Time  `json:"updated_at"`
}

func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// ToBody returns the API form of p.
func ToBody(p *store.Peer) PeerBody {
	b := PeerBody{ID: p.ID, Name: p.Name, APIRoot: p.APIRoot, Collection: p.Collection, CAPEM: p.CAPEM, Auth: p.Auth,
		Username: p.Username, Account: p.Account, ImportCollection: p.ImportCollection, PollIntervalMS: p.PollInterval.Milliseconds(),
		Enabled: p.Enabled, Hints: !p.NoHints, Health: Health(p), Cursor: p.Cursor, LastAttempt: optTime(p.LastAttempt),
		LastSuccess: optTime(p.LastSuccess), LastError: p.LastError, Failures: p.Failures, ObjectsImported: p.ObjectsImported,
		LagMS: p.Lag.Milliseconds(), NextPollAt: optTime(p.NextPollAt), CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt}
	if p.HasSecret {
		b.Secret = secretSet
	}
	return b
}

// peerInput is the body of POST and PUT /api/v1/peers: PUT replaces every
// setting; an absent secret (or "(set)") keeps the stored one.
type peerInput struct {
	Name             string `json:"name"`
	APIRoot          string `json:"api_root"`
	Collection       string `json:"collection"`
	CAPEM            string `json:"ca_pem"`
	Auth             string `json:"auth"`
	Username         string `json:"username"`
	Secret           string `json:"secret"`
	Account          string `json:"account"`
	ImportCollection string `json:"import_collection"`
	PollIntervalMS   int64  `json:"poll_interval_ms"`
	Enabled          *bool  `json:"enabled"`
}

func (in peerInput) peer() *store.Peer {
	p := &store.Peer{Name: in.Name, APIRoot: in.APIRoot, Collection: in.Collection, CAPEM: in.CAPEM, Auth: in.Auth,
		Username: in.Username, Secret: in.Secret, Account: in.Account, ImportCollection: in.ImportCollection,
		PollInterval: time.Duration(in.PollIntervalMS) * time.Millisecond, Enabled: in.Enabled == nil || *in.Enabled}
	if p.Secret == secretSet {
		p.Secret = ""
	}
	return p
}

type peerList struct {
	Items []PeerBody `json:"items"`
	Total int        `json:"total"`
}

func (a *API) listPeers(w http.ResponseWriter, r *http.Request) {
	ps, err := a.Store.Peers(r.Context())
	if err != nil {
		a.Error(w, r, err)
		return
	}
	out := peerList{Items: []PeerBody{}, Total: len(ps)}
	for _, p := range ps {
		out.Items = append(out.Items, ToBody(p))
	}
	writeJSON(w, http.StatusOK, out)
}

func (a *API) createPeer(w http.ResponseWriter, r *http.Request) {
	var in peerInput
	if err := decode(r, &in); err != nil {
		a.Error(w, r, err)
		return
	}
	p := in.peer()
	if err := a.Store.CreatePeer(r.Context(), p); err != nil {
		a.Error(w, r, err)
		return
	}
	a.wakePoller()
	w.Header().Set("Location", "/api/v1/peers/"+strconv.FormatInt(p.ID, 10))
	writeJSON(w, http.StatusCreated, ToBody(p))
}

func (a *API) getPeer(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	p, err := a.Store.Peer(r.Context(), id)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, ToBody(p))
}

func (a *API) updatePeer(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	var in peerInput
	if err := decode(r, &in); err != nil {
		a.Error(w, r, err)
		return
	}
	p := in.peer()
	p.ID = id
	if err := a.Store.UpdatePeer(r.Context(), p); err != nil {
		a.Error(w, r, err)
		return
	}
	got, err := a.Store.Peer(r.Context(), id)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	a.wakePoller()
	writeJSON(w, http.StatusOK, ToBody(got))
}

func (a *API) deletePeer(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	if err := a.Store.DeletePeer(r.Context(), id); err != nil {
		a.Error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (a *API) pollPeer(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	if err := a.Store.PollNow(r.Context(), id); err != nil {
		a.Error(w, r, err)
		return
	}
	a.wakePoller()
	writeJSON(w, http.StatusAccepted, map[string]string{"status": "polling"})
}

// hint receives a push hint from a peer's node: every enabled peer whose
// account is the caller is polled at once. The body is
// {"collection": "<id>"}; the collection is informational (a node's
// collections are polled through whatever ids or aliases the peers
// name). An account that no peer names makes nothing due, and gets the
// same 202.
func (a *API) hint(w http.ResponseWriter, r *http.Request) {
	var in hintBody
	if err := decode(r, &in); err != nil {
		a.Error(w, r, err)
		return
	}
	n, err := a.Store.PollPeersOf(r.Context())
	if err != nil {
		a.Error(w, r, err)
		return
	}
	if n > 0 {
		a.wakePoller()
	}
	writeJSON(w, http.StatusAccepted, map[string]string{"status": "accepted"})
}

func (a *API) wakePoller() {
	if a.Poller != nil {
		a.Poller.Wake()
	}
}

// Error renders err as RFC 9457 problem details; it is the routes'
// server.ErrorFunc.
func (a *API) Error(w http.ResponseWriter, r *http.Request, err error) {
	server.Error(w, r, a.Logger, err)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	// The status line is sent; a failed body write has nobody to report to.
	_ = json.NewEncoder(w).Encode(v)
}

func pathID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, focal.Errorf(focal.ENOTFOUND, "no such peer %q", r.PathValue("id"))
	}
	return id, nil
}

// decode reads a JSON object body into v, rejecting unknown fields and
// trailing data, with errors that name the field (as package restapi).
func decode(r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		return focal.Errorf(focal.EINVALID, "content type must be application/json, got %q", ct)
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		var syn *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.As(err, &mbe):
			return focal.Errorf(focal.ETOOLARGE, "request body larger than %d bytes", mbe.Limit)
		case errors.Is(err, io.EOF):
			return focal.Errorf(focal.EINVALID, "request body is empty; want a JSON object")
		case errors.As(err, &syn):
			return focal.Errorf(focal.EINVALID, "malformed JSON at byte %d", syn.Offset)
		case errors.As(err, &typ):
			return focal.FieldErrorf(typ.Field, "want %s, got JSON %s", typ.Type, typ.Value)
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			return focal.FieldErrorf(strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`), "unknown field")
		}
		return focal.Errorf(focal.EINVALID, "malformed JSON")
	}
	if err := dec.Decode(&struct{}{}); err != io.EOF {
		return focal.Errorf(focal.EINVALID, "request body must hold exactly one JSON object")
	}
	return nil
}
