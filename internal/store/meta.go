package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Meta returns the value of a node-wide fact, or a focal ENOTFOUND error.
func (s *Store) Meta(ctx context.Context, key string) (string, error) {
	var v string
	err := s.rdb.QueryRowContext(ctx, "SELECT value FROM focal_meta WHERE key = $1", key).Scan(&v)
	if err != nil {
		return "", notFound(err, "meta "+key)
	}
	return v, nil
}

// SetMeta records a node-wide fact, replacing any earlier value.
func (s *Store) SetMeta(ctx context.Context, key, value string) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO focal_meta (key, value) VALUES ($1, $2)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, value)
	if err != nil {
		return fmt.Errorf("set meta %s: %w", key, err)
	}
	return nil
}

// NodeID returns this node's stable random identifier, creating it on first
// use. Every process sharing a database shares the node id.
func (s *Store) NodeID(ctx context.Context) (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("node id: %w", err)
	}
	if _, err := s.db.ExecContext(ctx, `INSERT INTO focal_meta (key, value) VALUES ('node_id', $1)
		ON CONFLICT (key) DO NOTHING`, hex.EncodeToString(b[:])); err != nil {
		return "", fmt.Errorf("node id: %w", err)
	}
	return s.Meta(ctx, "node_id")
}

// TryLease takes or renews the named lease for holder until now+ttl and
// reports whether holder has it: one process among many does a periodic
// job (alert rules) while its lease lasts; another takes over when it
// lapses.
func (s *Store) TryLease(ctx context.Context, name, holder string, now time.Time, ttl time.Duration) (bool, error) {
	key := "lease:" + name
	value := fmt.Sprintf("%s|%d", holder, now.Add(ttl).UnixMilli())
	if _, err := s.db.ExecContext(ctx, `INSERT INTO focal_meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING`, key, value); err != nil {
		return false, fmt.Errorf("lease %s: %w", name, err)
	}
	cur, err := s.Meta(ctx, key)
	if err != nil {
		return false, err
	}
	h, exp, _ := strings.Cut(cur, "|")
	until, _ := strconv.ParseInt(exp, 10, 64)
	if h != holder && until > now.UnixMilli() {
		return false, nil
	}
	res, err := s.db.ExecContext(ctx, "UPDATE focal_meta SET value = $1 WHERE key = $2 AND value = $3", value, key, cur)
	if err != nil {
		return false, fmt.Errorf("lease %s: %w", name, err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}
