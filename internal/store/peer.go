package store

import (
	"context"
	"crypto/x509"
	"database/sql"
	"encoding/pem"
	"fmt"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"focal/internal/focal"
)

// How this node authenticates to a peer's TAXII server.
const (
	PeerAuthNone   = "none"
	PeerAuthBasic  = "basic"
	PeerAuthBearer = "bearer"
)

// Bounds of Peer.PollInterval.
const (
	DefaultPeerInterval = time.Minute
	MinPeerInterval     = time.Second
	MaxPeerInterval     = 24 * time.Hour
)

// Peer is another TAXII 2.1 server (usually another focal point) whose
// collection this node polls, with the state of the link. One peer is one
// remote collection; poll several collections of a node with several
// peers.
//
// Secret (the Basic password or the bearer token) is write-only: Peer,
// PeerByName and Peers leave it empty and set HasSecret; only the methods
// the poller and the hinter use (DuePeers, PeerForPoll, HintPeers) fill it.
type Peer struct {
	ID         int64
	Name       string // 1–58 of a-z, 0-9, '.', '_', '-'; its events come from feed "taxii-<name>"
	APIRoot    string // https URL of the TAXII API root, ending in "/" (http only to localhost)
	Collection string // the remote collection's id (or alias)
	CAPEM      string // PEM CA certificates to trust for the peer; "" trusts the system's
	Auth       string // PeerAuthNone, PeerAuthBasic or PeerAuthBearer
	Username   string // Basic only
	Secret     string
	HasSecret  bool
	// Account is the local peer account (role peer) the node uses to
	// call us: its push hints make us poll it at once.
	Account string
	// ImportCollection, if set, is a local collection the imported
	// objects are added to as well, so that our own peers receive them
	// (chains A → B → C).
	ImportCollection string
	PollInterval     time.Duration
	Enabled          bool
	NoHints          bool // the node answered 404 to a push hint: it is not a focal node

	// The link's state, kept by the poller.
	Cursor          string // the peer's last X-TAXII-Date-Added-Last, sent back as added_after
	LastAttempt     time.Time
	LastSuccess     time.Time
	LastError       string
	Failures        int // consecutive failed polls
	ObjectsImported int64
	Lag             time.Duration // at the last import: its time minus the newest object's date_added
	NextPollAt      time.Time
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

// Origin returns the scheme and host of the peer's API root
// ("https://b.example:8443"), where a focal node serves /api/v1.
func (p *Peer) Origin() string {
	u, err := url.Parse(p.APIRoot)
	if err != nil {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

// Validate checks a peer about to be stored and fills defaults: auth
// "none" and a one-minute interval. An empty Secret is allowed on update
// (keep the stored one).
func (p *Peer) Validate() error {
	p.Name = strings.TrimSpace(p.Name)
	if !validPeerName(p.Name) {
		return focal.FieldErrorf("name", "want 1 to 58 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit; got %q", p.Name)
	}
	p.APIRoot = strings.TrimSpace(p.APIRoot)
	u, err := url.Parse(p.APIRoot)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return focal.FieldErrorf("api_root", "want the https URL of a TAXII API root, without credentials or query, got %q", p.APIRoot)
	}
	if u.Scheme == "http" && !loopback(u.Hostname()) {
		return focal.FieldErrorf("api_root", "TAXII needs HTTPS: plain http is allowed only to this machine (localhost), got %q", p.APIRoot)
	}
	if !strings.HasSuffix(p.APIRoot, "/") {
		p.APIRoot += "/"
	}
	p.Collection = strings.TrimSpace(p.Collection)
	if p.Collection == "" || len(p.Collection) > 200 || strings.ContainsAny(p.Collection, "/?#% ") {
		return focal.FieldErrorf("collection", "want the remote collection's id, got %q", p.Collection)
	}
	if p.CAPEM != "" {
		pool := x509.NewCertPool()
		if blk, _ := pem.Decode([]byte(p.CAPEM)); blk == nil || !pool.AppendCertsFromPEM([]byte(p.CAPEM)) {
			return focal.FieldErrorf("ca_pem", "holds no PEM certificate")
		}
	}
	if p.Auth == "" {
		p.Auth = PeerAuthNone
	}
	switch p.Auth {
	case PeerAuthNone:
		p.Username, p.Secret = "", ""
	case PeerAuthBasic:
		if p.Username == "" || strings.Contains(p.Username, ":") || len(p.Username) > 200 {
			return focal.FieldErrorf("username", "Basic authentication needs a user name without ':'")
		}
	case PeerAuthBearer:
		p.Username = ""
	default:
		return focal.FieldErrorf("auth", "want none, basic or bearer, got %q", p.Auth)
	}
	if len(p.Secret) > 4096 || strings.ContainsAny(p.Secret, "\r\n") {
		return focal.FieldErrorf("secret", "must be one line of at most 4096 bytes")
	}
	if p.Account != "" {
		if err := focal.ValidateUserName(p.Account); err != nil {
			return focal.FieldErrorf("account", "%s", focal.ErrorMessage(err))
		}
	}
	if p.ImportCollection != "" && !IsUUID(p.ImportCollection) {
		return focal.FieldErrorf("import_collection", "want a local collection id, got %q", p.ImportCollection)
	}
	if p.PollInterval == 0 {
		p.PollInterval = DefaultPeerInterval
	}
	if p.PollInterval < MinPeerInterval || p.PollInterval > MaxPeerInterval {
		return focal.FieldErrorf("interval", "want %v to %v, got %v", MinPeerInterval, MaxPeerInterval, p.PollInterval)
	}
	return nil
}

// loopback reports whether host names this machine.
func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.IsLoopback()
}

func validPeerName(s string) bool {
	if s == "" || len(s) > 58 {
		return false
	}
	for i, r := range s {
		ok := r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || (i > 0 && (r == '.' || r == '_' || r == '-'))
		if !ok {
			return false
		}
	}
	return true
}

// peerAudit is what the audit log records of a peer: never the secret.
type peerAudit struct {
	Name             string `json:"name"`
	APIRoot          string `json:"api_root"`
	Collection       string `json:"collection"`
	CA               bool   `json:"ca"`
	Auth             string `json:"auth"`
	Username         string `json:"username,omitempty"`
	Secret           bool   `json:"secret"`
	Account          string `json:"account,omitempty"`
	ImportCollection string `json:"import_collection,omitempty"`
	IntervalMS       int64  `json:"poll_interval_ms"`
	Enabled          bool   `json:"enabled"`
}

func auditPeer(p *Peer) peerAudit {
	return peerAudit{Name: p.Name, APIRoot: p.APIRoot, Collection: p.Collection, CA: p.CAPEM != "", Auth: p.Auth,
		Username: p.Username, Secret: p.HasSecret || p.Secret != "", Account: p.Account, ImportCollection: p.ImportCollection,
		IntervalMS: p.PollInterval.Milliseconds(), Enabled: p.Enabled}
}

const peerColumns = `id, name, api_root, collection, ca_pem, auth, username, secret, account, COALESCE(import_collection, ''),
	poll_interval_ms, enabled, no_hints, cursor, last_attempt, last_success, last_error, failures, objects_imported, lag_ms,
	next_poll_at, created_at, updated_at`

func peerTime(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v).UTC()
}

// scanPeer reads a row of peerColumns; withSecret keeps the secret.
func scanPeer(sc interface{ Scan(...any) error }, withSecret bool) (*Peer, error) {
	p := &Peer{}
	var interval, attempt, success, lag, next, created, updated int64
	err := sc.Scan(&p.ID, &p.Name, &p.APIRoot, &p.Collection, &p.CAPEM, &p.Auth, &p.Username, &p.Secret, &p.Account, &p.ImportCollection,
		&interval, &p.Enabled, &p.NoHints, &p.Cursor, &attempt, &success, &p.LastError, &p.Failures, &p.ObjectsImported, &lag,
		&next, &created, &updated)
	if err != nil {
		return nil, err
	}
	p.HasSecret = p.Secret != ""
	if !withSecret {
		p.Secret = ""
	}
	p.PollInterval, p.Lag = time.Duration(interval)*time.Millisecond, time.Duration(lag)*time.Millisecond
	p.LastAttempt, p.LastSuccess, p.NextPollAt = peerTime(attempt), peerTime(success), peerTime(next)
	p.CreatedAt, p.UpdatedAt = peerTime(created), peerTime(updated)
	return p, nil
}

func (s *Store) queryPeers(ctx context.Context, withSecret bool, where string, args ...any) ([]*Peer, error) {
	var out []*Peer
	err := eachRow(ctx, s.rdb, "SELECT "+peerColumns+" FROM peers "+where, args, func(rows *sql.Rows) error {
		p, err := scanPeer(rows, withSecret)
		if err != nil {
			return err
		}
		out = append(out, p)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("peers: %w", err)
	}
	return out, nil
}

// checkImportCollection reports a missing import collection as a field
// error.
func checkImportCollection(ctx context.Context, tx *Tx, id string) error {
	if id == "" {
		return nil
	}
	if _, err := loadCollection(ctx, tx, id); err != nil {
		return focal.FieldErrorf("import_collection", "no local collection %s", id)
	}
	return nil
}

// CreatePeer validates and stores p, sets its ID and makes it due at once.
// Only coordinators may (focal.KindSharing); a duplicate name is EINVALID
// on the name.
func (s *Store) CreatePeer(ctx context.Context, p *Peer) error {
	if err := authorizeSharing(ctx, focal.ActionCreate); err != nil {
		return err
	}
	if err := p.Validate(); err != nil {
		return err
	}
	if p.Auth != PeerAuthNone && p.Secret == "" {
		return focal.FieldErrorf("secret", "%s authentication needs a password or token", p.Auth)
	}
	return s.WithTx(ctx, func(tx *Tx) error {
		if err := checkImportCollection(ctx, tx, p.ImportCollection); err != nil {
			return err
		}
		now := time.Now().UTC().Truncate(time.Millisecond)
		err := tx.QueryRowContext(ctx, `INSERT INTO peers (name, api_root, collection, ca_pem, auth, username, secret, account, import_collection,
			poll_interval_ms, enabled, next_poll_at, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12, $12) RETURNING id`,
			p.Name, p.APIRoot, p.Collection, p.CAPEM, p.Auth, p.Username, p.Secret, p.Account, nullString(p.ImportCollection),
			p.PollInterval.Milliseconds(), p.Enabled, now.UnixMilli()).Scan(&p.ID)
		if err != nil {
			if isUniqueViolation(err) {
				return focal.FieldErrorf("name", "a peer named %q already exists", p.Name)
			}
			return fmt.Errorf("create peer: %w", err)
		}
		p.HasSecret = p.Secret != ""
		p.CreatedAt, p.UpdatedAt, p.NextPollAt = now, now, now
		return tx.audit(ctx, "peer.create", "peer", strconv.FormatInt(p.ID, 10), nil, auditPeer(p))
	})
}

// UpdatePeer replaces the settings of peer p.ID (not the link's state).
// An empty Secret keeps the stored one, unless Auth becomes "none". A
// change of API root or collection starts the link afresh: the cursor,
// the failures and the no-hints mark are reset. The peer is due at once.
// Only coordinators may.
func (s *Store) UpdatePeer(ctx context.Context, p *Peer) error {
	if err := authorizeSharing(ctx, focal.ActionUpdate); err != nil {
		return err
	}
	if err := p.Validate(); err != nil {
		return err
	}
	return s.WithTx(ctx, func(tx *Tx) error {
		before, err := scanPeer(tx.QueryRowContext(ctx, "SELECT "+peerColumns+" FROM peers WHERE id = $1", p.ID), true)
		if err != nil {
			return notFound(err, "peer")
		}
		if err := checkImportCollection(ctx, tx, p.ImportCollection); err != nil {
			return err
		}
		if p.Secret == "" && p.Auth != PeerAuthNone {
			if before.Auth != p.Auth || before.Secret == "" {
				return focal.FieldErrorf("secret", "%s authentication needs a password or token", p.Auth)
			}
			p.Secret = before.Secret
		}
		now := time.Now().UTC().Truncate(time.Millisecond)
		fresh := before.APIRoot != p.APIRoot || before.Collection != p.Collection
		_, err = tx.ExecContext(ctx, `UPDATE peers SET name = $1, api_root = $2, collection = $3, ca_pem = $4, auth = $5, username = $6,
			secret = $7, account = $8, import_collection = $9, poll_interval_ms = $10, enabled = $11, updated_at = $12, next_poll_at = $12, hinted_at = $12,
			cursor = CASE WHEN $13 THEN '' ELSE cursor END,
			failures = CASE WHEN $13 THEN 0 ELSE failures END,
			no_hints = CASE WHEN $13 THEN $14 ELSE no_hints END
			WHERE id = $15`,
			p.Name, p.APIRoot, p.Collection, p.CAPEM, p.Auth, p.Username, p.Secret, p.Account, nullString(p.ImportCollection),
			p.PollInterval.Milliseconds(), p.Enabled, now.UnixMilli(), fresh, false, p.ID)
		if err != nil {
			if isUniqueViolation(err) {
				return focal.FieldErrorf("name", "a peer named %q already exists", p.Name)
			}
			return fmt.Errorf("update peer: %w", err)
		}
		p.HasSecret = p.Secret != ""
		p.CreatedAt, p.UpdatedAt, p.NextPollAt = before.CreatedAt, now, now
		return tx.audit(ctx, "peer.update", "peer", strconv.FormatInt(p.ID, 10), auditPeer(before), auditPeer(p))
	})
}

// DeletePeer removes a peer and its import records; the events and
// collection objects imported from it stay. Only coordinators may.
func (s *Store) DeletePeer(ctx context.Context, id int64) error {
	if err := authorizeSharing(ctx, focal.ActionDelete); err != nil {
		return err
	}
	return s.WithTx(ctx, func(tx *Tx) error {
		before, err := scanPeer(tx.QueryRowContext(ctx, "SELECT "+peerColumns+" FROM peers WHERE id = $1", id), false)
		if err != nil {
			return notFound(err, "peer")
		}
		for _, q := range []string{"DELETE FROM peer_objects WHERE peer_id = $1", "DELETE FROM peers WHERE id = $1"} {
			if _, err := tx.ExecContext(ctx, q, id); err != nil {
				return fmt.Errorf("delete peer: %w", err)
			}
		}
		return tx.audit(ctx, "peer.delete", "peer", strconv.FormatInt(id, 10), auditPeer(before), nil)
	})
}

// Peer returns a peer without its secret. Staff may read peers.
func (s *Store) Peer(ctx context.Context, id int64) (*Peer, error) {
	if err := authorizeSharing(ctx, focal.ActionRead); err != nil {
		return nil, err
	}
	p, err := scanPeer(s.rdb.QueryRowContext(ctx, "SELECT "+peerColumns+" FROM peers WHERE id = $1", id), false)
	return p, notFound(err, "peer")
}

// PeerByName returns a peer by name, without its secret.
func (s *Store) PeerByName(ctx context.Context, name string) (*Peer, error) {
	if err := authorizeSharing(ctx, focal.ActionRead); err != nil {
		return nil, err
	}
	p, err := scanPeer(s.rdb.QueryRowContext(ctx, "SELECT "+peerColumns+" FROM peers WHERE name = $1", name), false)
	return p, notFound(err, "peer "+strconv.Quote(name))
}

// Peers lists the peers by name, without their secrets.
func (s *Store) Peers(ctx context.Context) ([]*Peer, error) {
	if err := authorizeSharing(ctx, focal.ActionRead); err != nil {
		return nil, err
	}
	return s.queryPeers(ctx, false, "ORDER BY name")
}

// authorizeSecrets lets only principals that may manage peers (the
// poller and hinter run as focal.System) read their secrets.
func authorizeSecrets(ctx context.Context) error {
	return authorizeSharing(ctx, focal.ActionUpdate)
}

// DuePeers returns up to limit enabled peers whose next poll is due at now
// and that no process holds, most overdue first, with their secrets (for
// the poller: claim each with ClaimPeer before polling it).
func (s *Store) DuePeers(ctx context.Context, now time.Time, limit int) ([]*Peer, error) {
	if err := authorizeSecrets(ctx); err != nil {
		return nil, err
	}
	if limit <= 0 {
		limit = 16
	}
	return s.queryPeers(ctx, true, "WHERE enabled = $1 AND next_poll_at <= $2 AND lease_until <= $2 ORDER BY next_poll_at, id LIMIT $3",
		true, now.UnixMilli(), limit)
}

// PeerForPoll returns a peer with its secret (for the poller).
func (s *Store) PeerForPoll(ctx context.Context, id int64) (*Peer, error) {
	if err := authorizeSecrets(ctx); err != nil {
		return nil, err
	}
	p, err := scanPeer(s.rdb.QueryRowContext(ctx, "SELECT "+peerColumns+" FROM peers WHERE id = $1", id), true)
	return p, notFound(err, "peer")
}

// HintPeers returns the enabled peers that have not refused push hints,
// with their secrets (for the hinter).
func (s *Store) HintPeers(ctx context.Context) ([]*Peer, error) {
	if err := authorizeSecrets(ctx); err != nil {
		return nil, err
	}
	return s.queryPeers(ctx, true, "WHERE enabled = $1 AND no_hints = $2 ORDER BY id", true, false)
}

// ClaimPeer takes (or, for the same holder, renews) the lease on peer id
// until until, and reports whether holder has it: while the lease lasts no
// other process polls the peer. A lease that lapsed (a process died) is
// taken over. RecordPoll releases it.
func (s *Store) ClaimPeer(ctx context.Context, id int64, holder string, now, until time.Time) (bool, error) {
	res, err := s.db.ExecContext(ctx, `UPDATE peers SET lease_holder = $1, lease_until = $2
		WHERE id = $3 AND enabled = $4 AND (lease_until <= $5 OR lease_holder = $1)`,
		holder, until.UnixMilli(), id, true, now.UnixMilli())
	if err != nil {
		return false, fmt.Errorf("claim peer: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("claim peer: %w", err)
	}
	return n == 1, nil
}

// PeerObject names one object version imported from a peer.
type PeerObject struct {
	ID      string // STIX id
	Version int64  // modified, else created, in µs; 0 for cyber-observables
}

// ImportedFrom returns which of objs were already imported from peer id.
func (s *Store) ImportedFrom(ctx context.Context, id int64, objs []PeerObject) (map[PeerObject]bool, error) {
	out := map[PeerObject]bool{}
	for start := 0; start < len(objs); start += 200 {
		batch := objs[start:min(start+200, len(objs))]
		var a sqlArgs
		a.add(id)
		ids := make([]string, len(batch))
		for i, o := range batch {
			ids[i] = o.ID
		}
		q := "SELECT stix_id, version FROM peer_objects WHERE peer_id = $1 AND stix_id IN (" + a.list(ids) + ")"
		err := eachRow(ctx, s.rdb, q, a, func(rows *sql.Rows) error {
			var o PeerObject
			if err := rows.Scan(&o.ID, &o.Version); err != nil {
				return err
			}
			out[o] = true
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("imported objects: %w", err)
		}
	}
	return out, nil
}

// PeerPage is one page of a poll, durably handed over: the objects it
// imported, the peer's X-TAXII-Date-Added-Last for it (the new cursor;
// "" keeps the old one) and the lag at import.
type PeerPage struct {
	Cursor   string
	Imported []PeerObject
	Lag      time.Duration
	// Settings is the UpdatedAt of the peer as polled: if its settings
	// changed since (a new URL or collection resets the cursor), the page
	// is not recorded and RecordPeerPage returns ECONFLICT.
	Settings time.Time
}

// RecordPeerPage records, in one transaction, the objects imported from
// peer id (provenance: which peer, when; and deduplication), adds them to
// its counter and advances its cursor. Call it only once the page is
// handed over (ingested, added to the import collection).
func (s *Store) RecordPeerPage(ctx context.Context, id int64, pg PeerPage) error {
	if err := authorizeSecrets(ctx); err != nil {
		return err
	}
	now := time.Now().UnixMilli()
	return s.WithTx(ctx, func(tx *Tx) error {
		// Many rows per statement: a page holds up to 1,000 objects, and
		// a new peer's catch-up is bound by these inserts.
		var n int64
		const per = 200
		for start := 0; start < len(pg.Imported); start += per {
			part := pg.Imported[start:min(start+per, len(pg.Imported))]
			var b strings.Builder
			args := make([]any, 0, 4*len(part))
			b.WriteString("INSERT INTO peer_objects (peer_id, stix_id, version, imported_at) VALUES ")
			for i, o := range part {
				if i > 0 {
					b.WriteByte(',')
				}
				n := len(args)
				args = append(args, id, o.ID, o.Version, now)
				b.WriteString("(" + s.placeholder(n+1) + ", " + s.placeholder(n+2) + ", " + s.placeholder(n+3) + ", " + s.placeholder(n+4) + ")")
			}
			b.WriteString(" ON CONFLICT (peer_id, stix_id, version) DO NOTHING")
			res, err := tx.ExecContext(ctx, b.String(), args...)
			if err != nil {
				return fmt.Errorf("record page: %w", err)
			}
			k, _ := res.RowsAffected()
			n += k
		}
		q := "UPDATE peers SET objects_imported = objects_imported + $1"
		args := []any{n}
		if n > 0 {
			args = append(args, max(pg.Lag.Milliseconds(), 0))
			q += ", lag_ms = $" + strconv.Itoa(len(args))
		}
		if pg.Cursor != "" {
			args = append(args, pg.Cursor)
			q += ", cursor = $" + strconv.Itoa(len(args))
		}
		args = append(args, id, pg.Settings.UnixMilli())
		res, err := tx.ExecContext(ctx, q+" WHERE id = $"+strconv.Itoa(len(args)-1)+" AND updated_at = $"+strconv.Itoa(len(args)), args...)
		if err != nil {
			return fmt.Errorf("record page: %w", err)
		}
		if k, err := res.RowsAffected(); err != nil || k != 1 {
			return focal.Errorf(focal.ECONFLICT, "the peer was changed or removed during the poll")
		}
		return nil
	})
}

// PollOutcome is the end of one poll of a peer.
type PollOutcome struct {
	Started time.Time // when the poll began
	Err     string    // "" for success; else why it failed, for people (no secrets)
	// Warning, on success, says what was skipped (invalid objects); it
	// is kept as the last error without counting a failure.
	Warning string
	// NextAt is when to poll next (the interval on success, a backoff on
	// failure). A poll asked for while this one ran (PollNow) wins: the
	// peer is due at once.
	NextAt time.Time
}

// RecordPoll records the end of a poll of peer id: its time, success
// (resetting the failures) or failure (counting it, keeping the message),
// the next poll, and releases the lease.
func (s *Store) RecordPoll(ctx context.Context, id int64, o PollOutcome) error {
	if err := authorizeSecrets(ctx); err != nil {
		return err
	}
	now := time.Now().UnixMilli()
	ok := o.Err == ""
	msg := o.Err
	if ok {
		msg = o.Warning
	}
	_, err := s.db.ExecContext(ctx, `UPDATE peers SET last_attempt = $1,
		last_success = CASE WHEN $2 THEN $1 ELSE last_success END,
		last_error = $3,
		failures = CASE WHEN $2 THEN 0 ELSE failures + 1 END,
		next_poll_at = CASE WHEN hinted_at >= $4 THEN $1 ELSE $5 END,
		lease_holder = '', lease_until = 0
		WHERE id = $6`,
		now, ok, focal.CutText(msg, 1000), o.Started.UnixMilli(), o.NextAt.UnixMilli(), id)
	if err != nil {
		return fmt.Errorf("record poll: %w", err)
	}
	return nil
}

// ReleasePeer gives up holder's lease on peer id without recording a
// poll (the process is stopping), and makes the peer due at once for
// any other process.
func (s *Store) ReleasePeer(ctx context.Context, id int64, holder string) error {
	if err := authorizeSecrets(ctx); err != nil {
		return err
	}
	_, err := s.db.ExecContext(ctx, `UPDATE peers SET lease_holder = '', lease_until = 0, next_poll_at = $1
		WHERE id = $2 AND lease_holder = $3`, time.Now().UnixMilli(), id, holder)
	if err != nil {
		return fmt.Errorf("release peer: %w", err)
	}
	return nil
}

// SetPeerNoHints remembers that peer id answered 404 to a push hint (it
// is not a focal node), so that hints to it stop until its settings
// change.
func (s *Store) SetPeerNoHints(ctx context.Context, id int64) error {
	if err := authorizeSecrets(ctx); err != nil {
		return err
	}
	if _, err := s.db.ExecContext(ctx, "UPDATE peers SET no_hints = $1 WHERE id = $2", true, id); err != nil {
		return fmt.Errorf("peer no hints: %w", err)
	}
	return nil
}

// PollNow makes peer id due at once (the operator's "poll now"), even
// while it backs off. Only coordinators may; it is audited.
func (s *Store) PollNow(ctx context.Context, id int64) error {
	if err := authorizeSharing(ctx, focal.ActionUpdate); err != nil {
		return err
	}
	return s.WithTx(ctx, func(tx *Tx) error {
		now := time.Now().UnixMilli()
		res, err := tx.ExecContext(ctx, "UPDATE peers SET next_poll_at = $1, hinted_at = $1 WHERE id = $2", now, id)
		if err != nil {
			return fmt.Errorf("poll now: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return focal.Errorf(focal.ENOTFOUND, "peer not found")
		}
		return tx.audit(ctx, "peer.poll", "peer", strconv.FormatInt(id, 10), nil, nil)
	})
}

// PollPeersOf handles a push hint: it makes every enabled peer whose
// Account is the calling peer account due at once and returns how many.
// The caller must be a peer account (EFORBIDDEN otherwise); an account no
// peer names makes nothing due. Hints are frequent and change no settings:
// they are not audited.
func (s *Store) PollPeersOf(ctx context.Context) (int, error) {
	p := focal.PrincipalFromContext(ctx)
	if p.IsAnonymous() {
		return 0, focal.Errorf(focal.EUNAUTHORIZED, "log in first")
	}
	if p.Role != focal.RolePeer || p.Name == "" {
		return 0, focal.Errorf(focal.EFORBIDDEN, "only a peer account may send push hints")
	}
	now := time.Now().UnixMilli()
	res, err := s.db.ExecContext(ctx, "UPDATE peers SET next_poll_at = $1, hinted_at = $1 WHERE account = $2 AND enabled = $3", now, p.Name, true)
	if err != nil {
		return 0, fmt.Errorf("push hint: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("push hint: %w", err)
	}
	return int(n), nil
}
