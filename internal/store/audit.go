package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"focal/internal/focal"
)

// auditLock is the PostgreSQL advisory lock key that serialises appends to
// the audit chain across processes (SQLite has a single writer anyway).
const auditLock = 0x61756469 // "audi"

// AuditHash returns the hash that seals r: SHA-256 over every field but
// Hash itself, each length-prefixed so no two records serialise alike.
func AuditHash(r focal.AuditRecord) string {
	h := sha256.New()
	var n [8]byte
	for _, f := range []string{
		strconv.FormatInt(r.ID, 10), strconv.FormatInt(r.At.UnixMicro(), 10), strconv.FormatInt(r.ActorID, 10),
		r.Actor, string(r.Role), r.Action, r.ObjectType, r.ObjectID, r.Remote, r.Before, r.After, r.PrevHash,
	} {
		binary.BigEndian.PutUint64(n[:], uint64(len(f)))
		h.Write(n[:])
		h.Write([]byte(f))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// audit appends a record to the chain inside tx: the principal and remote
// address come from ctx; before and after are marshalled to JSON (nil for
// none). Because it runs in the caller's transaction, a change and its
// audit record commit together or not at all.
func (tx *Tx) audit(ctx context.Context, action, objectType, objectID string, before, after any) error {
	p := focal.PrincipalFromContext(ctx)
	rec := focal.AuditRecord{
		At:         time.Now().UTC().Truncate(time.Microsecond),
		ActorID:    p.UserID,
		Actor:      p.Label(),
		Role:       p.Role,
		Action:     action,
		ObjectType: objectType,
		ObjectID:   objectID,
		Remote:     focal.RemoteFromContext(ctx),
	}
	if rec.Role == "" {
		rec.Role = focal.RolePublic
	}
	var err error
	if rec.Before, err = auditJSON(before); err != nil {
		return err
	}
	if rec.After, err = auditJSON(after); err != nil {
		return err
	}
	if tx.store.dialect == Postgres {
		if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", auditLock); err != nil {
			return fmt.Errorf("audit: lock: %w", err)
		}
	}
	var lastID int64
	var lastHash string
	err = tx.QueryRowContext(ctx, "SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1").Scan(&lastID, &lastHash)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("audit: read chain head: %w", err)
	}
	rec.ID, rec.PrevHash = lastID+1, lastHash
	rec.Hash = AuditHash(rec)
	_, err = tx.ExecContext(ctx, `INSERT INTO audit_log (id, at, actor_id, actor, role, action, object_type, object_id, remote, before_json, after_json, prev_hash, hash)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
		rec.ID, rec.At.UnixMicro(), rec.ActorID, rec.Actor, string(rec.Role), rec.Action, rec.ObjectType, rec.ObjectID,
		rec.Remote, rec.Before, rec.After, rec.PrevHash, rec.Hash)
	if err != nil {
		return fmt.Errorf("audit: append: %w", err)
	}
	return nil
}

func auditJSON(v any) (string, error) {
	if v == nil {
		return "", nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("audit: marshal: %w", err)
	}
	return string(b), nil
}

// Audit records an event that is not a change made through another store
// method: a login, a failed login, a view of restricted data.
func (s *Store) Audit(ctx context.Context, action, objectType, objectID string, details any) error {
	return s.WithTx(ctx, func(tx *Tx) error {
		return tx.audit(ctx, action, objectType, objectID, nil, details)
	})
}

// AuditFilter selects audit records. Zero fields do not filter.
type AuditFilter struct {
	Actor      string
	Action     string
	ObjectType string
	ObjectID   string
	Since      time.Time
	Until      time.Time
	BeforeID   int64 // for paging: records older than this id
	Limit      int   // default 100, at most 1000
}

// AuditRecords returns records matching f, newest first. Only coordinators
// may read the audit log.
func (s *Store) AuditRecords(ctx context.Context, f AuditFilter) ([]focal.AuditRecord, error) {
	if err := focal.Authorize(focal.PrincipalFromContext(ctx), focal.ActionRead, focal.Resource{Kind: focal.KindAudit}); err != nil {
		return nil, err
	}
	var where []string
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	if f.Actor != "" {
		add("actor = $%d", f.Actor)
	}
	if f.Action != "" {
		add("action = $%d", f.Action)
	}
	if f.ObjectType != "" {
		add("object_type = $%d", f.ObjectType)
	}
	if f.ObjectID != "" {
		add("object_id = $%d", f.ObjectID)
	}
	if !f.Since.IsZero() {
		add("at >= $%d", f.Since.UnixMicro())
	}
	if !f.Until.IsZero() {
		add("at < $%d", f.Until.UnixMicro())
	}
	if f.BeforeID > 0 {
		add("id < $%d", f.BeforeID)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	limit = min(limit, 1000)
	q := "SELECT id, at, actor_id, actor, role, action, object_type, object_id, remote, before_json, after_json, prev_hash, hash FROM audit_log"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += fmt.Sprintf(" ORDER BY id DESC LIMIT %d", limit)
	rows, err := s.rdb.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("audit records: %w", err)
	}
	defer rows.Close()
	var out []focal.AuditRecord
	for rows.Next() {
		r, err := scanAudit(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("audit records: %w", err)
	}
	return out, nil
}

func scanAudit(rows *sql.Rows) (focal.AuditRecord, error) {
	var r focal.AuditRecord
	var at int64
	var role string
	if err := rows.Scan(&r.ID, &at, &r.ActorID, &r.Actor, &role, &r.Action, &r.ObjectType, &r.ObjectID, &r.Remote, &r.Before, &r.After, &r.PrevHash, &r.Hash); err != nil {
		return r, fmt.Errorf("audit: scan: %w", err)
	}
	r.At = time.UnixMicro(at).UTC()
	r.Role = focal.Role(role)
	return r, nil
}

// AuditProblem is one break in the audit chain.
type AuditProblem struct {
	ID     int64
	Reason string
}

// AuditVerification is the outcome of VerifyAudit.
type AuditVerification struct {
	Records  int64
	Head     string // hash of the newest record: record it elsewhere to detect truncation
	Problems []AuditProblem
}

// VerifyAudit walks the whole chain, oldest first, in bounded memory, and
// reports every record whose contents no longer match its hash (edited),
// whose prev_hash does not match the record before (deleted, inserted or
// reordered), or whose id skips (deleted). It is an operator command and
// needs no principal.
func (s *Store) VerifyAudit(ctx context.Context) (AuditVerification, error) {
	var v AuditVerification
	rows, err := s.rdb.QueryContext(ctx, "SELECT id, at, actor_id, actor, role, action, object_type, object_id, remote, before_json, after_json, prev_hash, hash FROM audit_log ORDER BY id")
	if err != nil {
		return v, fmt.Errorf("verify audit: %w", err)
	}
	defer rows.Close()
	var prevID int64
	var prevHash string
	for rows.Next() {
		r, err := scanAudit(rows)
		if err != nil {
			return v, err
		}
		v.Records++
		if r.ID != prevID+1 {
			v.Problems = append(v.Problems, AuditProblem{r.ID, fmt.Sprintf("ids jump from %d to %d: records were deleted", prevID, r.ID)})
		}
		if r.PrevHash != prevHash {
			v.Problems = append(v.Problems, AuditProblem{r.ID, "prev_hash does not match the record before it: the chain was cut, reordered or spliced"})
		}
		if AuditHash(r) != r.Hash {
			v.Problems = append(v.Problems, AuditProblem{r.ID, "contents do not match the record's hash: the record was edited"})
		}
		prevID, prevHash = r.ID, r.Hash
	}
	if err := rows.Err(); err != nil {
		return v, fmt.Errorf("verify audit: %w", err)
	}
	v.Head = prevHash
	return v, nil
}
