package store

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"focal/internal/focal"
)

// sessionTouchEvery bounds how often a session's last-seen time is written:
// not on every request.
const sessionTouchEvery = 5 * time.Minute

// CreateSession stores a browser session for user u under the hash of its
// cookie value.
func (s *Store) CreateSession(ctx context.Context, u *focal.User, hash string, ttl time.Duration, remote, userAgent string) error {
	now := time.Now()
	if len(userAgent) > 300 {
		userAgent = userAgent[:300]
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO sessions (hash, user_id, created_at, expires_at, last_seen_at, remote, user_agent)
		VALUES ($1, $2, $3, $4, $3, $5, $6)`, hash, u.ID, now.UnixMilli(), now.Add(ttl).UnixMilli(), remote, userAgent)
	if err != nil {
		return fmt.Errorf("create session: %w", err)
	}
	return nil
}

// SessionUser returns the account of a live session, extending nothing: a
// session expires at its fixed time. EUNAUTHORIZED for an unknown, expired
// or disabled session.
func (s *Store) SessionUser(ctx context.Context, hash string) (*focal.User, error) {
	u := &focal.User{}
	var expires, seen int64
	row := s.rdb.QueryRowContext(ctx, "SELECT "+userColumns+", s.expires_at, s.last_seen_at FROM sessions s JOIN users u ON u.id = s.user_id LEFT JOIN organisations o ON o.id = u.org_id WHERE s.hash = $1", hash)
	var role string
	var created, last int64
	if err := row.Scan(&u.ID, &u.Name, &role, &u.OrgID, &u.OrgName, &u.Disabled, &created, &last, &u.RestrictedAccess, &expires, &seen); err != nil {
		return nil, unauthorized(err)
	}
	u.Role = focal.Role(role)
	now := time.Now()
	if u.Disabled || now.UnixMilli() >= expires {
		return nil, focal.Errorf(focal.EUNAUTHORIZED, "session expired")
	}
	if now.Sub(time.UnixMilli(seen)) > sessionTouchEvery {
		if _, err := s.db.ExecContext(ctx, "UPDATE sessions SET last_seen_at = $1 WHERE hash = $2", now.UnixMilli(), hash); err != nil {
			return nil, fmt.Errorf("touch session: %w", err)
		}
	}
	return u, nil
}

// DeleteSession ends a session (logout).
func (s *Store) DeleteSession(ctx context.Context, hash string) error {
	return s.WithTx(ctx, func(tx *Tx) error {
		var userID int64
		if err := tx.QueryRowContext(ctx, "DELETE FROM sessions WHERE hash = $1 RETURNING user_id", hash).Scan(&userID); err != nil {
			return notFound(err, "session")
		}
		return tx.audit(ctx, "logout", "user", strconv.FormatInt(userID, 10), nil, nil)
	})
}

// PurgeSessions deletes expired sessions and returns how many.
func (s *Store) PurgeSessions(ctx context.Context) (int64, error) {
	res, err := s.db.ExecContext(ctx, "DELETE FROM sessions WHERE expires_at <= $1", time.Now().UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("purge sessions: %w", err)
	}
	return res.RowsAffected()
}

// CreateToken stores an API token (by hash) for a user. The user itself or
// a coordinator may create one.
func (s *Store) CreateToken(ctx context.Context, t *focal.Token, hash string) error {
	p := focal.PrincipalFromContext(ctx)
	kind := focal.KindUser
	if p.UserID == t.UserID {
		kind = focal.KindSelf
	}
	if err := authorize(ctx, focal.ActionUpdate, focal.Resource{Kind: kind, OwnerID: t.UserID}); err != nil {
		return err
	}
	if t.Scope != "read" && t.Scope != "write" {
		return focal.FieldErrorf("scope", "want read or write, got %q", t.Scope)
	}
	if t.Name == "" {
		t.Name = "api"
	}
	return s.WithTx(ctx, func(tx *Tx) error {
		now := time.Now().UTC().Truncate(time.Millisecond)
		err := tx.QueryRowContext(ctx, `INSERT INTO api_tokens (user_id, name, hash, scope, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
			t.UserID, t.Name, hash, t.Scope, now.UnixMilli(), t.ExpiresAt.UnixMilli()).Scan(&t.ID)
		if err != nil {
			if isUniqueViolation(err) || isForeignKeyViolation(err) {
				return focal.FieldErrorf("user", "user %d does not exist", t.UserID)
			}
			return fmt.Errorf("create token: %w", err)
		}
		t.CreatedAt = now
		return tx.audit(ctx, "create", "token", strconv.FormatInt(t.ID, 10), nil, map[string]any{"user_id": t.UserID, "name": t.Name, "scope": t.Scope, "expires_at": t.ExpiresAt})
	})
}

// TokenUser returns the account and token of a live API token.
// EUNAUTHORIZED for an unknown, expired, revoked or disabled one.
func (s *Store) TokenUser(ctx context.Context, hash string) (*focal.User, *focal.Token, error) {
	u := &focal.User{}
	t := &focal.Token{}
	var expires, revoked, used, tcreated int64
	row := s.rdb.QueryRowContext(ctx, "SELECT "+userColumns+", t.id, t.name, t.scope, t.created_at, t.expires_at, t.revoked_at, t.last_used_at FROM api_tokens t JOIN users u ON u.id = t.user_id LEFT JOIN organisations o ON o.id = u.org_id WHERE t.hash = $1", hash)
	var role string
	var created, last int64
	if err := row.Scan(&u.ID, &u.Name, &role, &u.OrgID, &u.OrgName, &u.Disabled, &created, &last, &u.RestrictedAccess, &t.ID, &t.Name, &t.Scope, &tcreated, &expires, &revoked, &used); err != nil {
		return nil, nil, unauthorized(err)
	}
	u.Role = focal.Role(role)
	now := time.Now()
	if u.Disabled || revoked != 0 || now.UnixMilli() >= expires {
		return nil, nil, focal.Errorf(focal.EUNAUTHORIZED, "token expired or revoked")
	}
	t.UserID, t.CreatedAt, t.ExpiresAt = u.ID, time.UnixMilli(tcreated).UTC(), time.UnixMilli(expires).UTC()
	if now.Sub(time.UnixMilli(used)) > sessionTouchEvery {
		if _, err := s.db.ExecContext(ctx, "UPDATE api_tokens SET last_used_at = $1 WHERE id = $2", now.UnixMilli(), t.ID); err != nil {
			return nil, nil, fmt.Errorf("touch token: %w", err)
		}
	}
	return u, t, nil
}

func unauthorized(err error) error {
	if nf := notFound(err, ""); nf != err {
		return focal.Errorf(focal.EUNAUTHORIZED, "unknown credentials")
	}
	return fmt.Errorf("credentials: %w", err)
}

func isForeignKeyViolation(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "FOREIGN KEY constraint failed") || strings.Contains(msg, "SQLSTATE 23503")
}
