package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
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
