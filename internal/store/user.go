package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	"focal/internal/focal"
)

type userAudit struct {
	Name             string     `json:"name"`
	Role             focal.Role `json:"role"`
	OrgID            int64      `json:"org_id,omitempty"`
	Disabled         bool       `json:"disabled"`
	RestrictedAccess bool       `json:"restricted_access,omitempty"`
}

func auditUser(u *focal.User) userAudit {
	return userAudit{Name: u.Name, Role: u.Role, OrgID: u.OrgID, Disabled: u.Disabled, RestrictedAccess: u.RestrictedAccess}
}

const userColumns = `u.id, u.name, u.role, COALESCE(u.org_id, 0), COALESCE(o.name, ''), u.disabled, u.created_at, u.last_login_at, u.restricted_access`

func scanUser(row interface{ Scan(...any) error }, u *focal.User) error {
	var role string
	var created, last int64
	if err := row.Scan(&u.ID, &u.Name, &role, &u.OrgID, &u.OrgName, &u.Disabled, &created, &last, &u.RestrictedAccess); err != nil {
		return err
	}
	u.Role = focal.Role(role)
	u.CreatedAt = time.UnixMilli(created).UTC()
	if last > 0 {
		u.LastLoginAt = time.UnixMilli(last).UTC()
	}
	return nil
}

// CreateUser stores a new account with an already hashed password ("" for
// an account that cannot log in with a password, such as a peer's).
func (s *Store) CreateUser(ctx context.Context, u *focal.User, passwordHash string) error {
	if err := authorize(ctx, focal.ActionCreate, focal.Resource{Kind: focal.KindUser}); err != nil {
		return err
	}
	if err := u.Validate(); err != nil {
		return err
	}
	return s.WithTx(ctx, func(tx *Tx) error {
		if u.OrgID != 0 {
			if _, err := tx.organisation(ctx, u.OrgID); err != nil {
				return focal.FieldErrorf("org", "organisation %d does not exist", u.OrgID)
			}
		}
		now := time.Now().UTC().Truncate(time.Millisecond)
		err := tx.QueryRowContext(ctx, `INSERT INTO users (name, role, org_id, password_hash, disabled, created_at, password_changed_at, restricted_access)
			VALUES ($1, $2, $3, $4, $5, $6, $6, $7) RETURNING id`,
			u.Name, string(u.Role), nullID(u.OrgID), passwordHash, u.Disabled, now.UnixMilli(), u.RestrictedAccess).Scan(&u.ID)
		if err != nil {
			if isUniqueViolation(err) {
				return focal.FieldErrorf("name", "an account named %q already exists", u.Name)
			}
			return fmt.Errorf("create user: %w", err)
		}
		u.CreatedAt = now
		return tx.audit(ctx, "create", "user", strconv.FormatInt(u.ID, 10), nil, auditUser(u))
	})
}

func nullID(id int64) sql.NullInt64 { return sql.NullInt64{Int64: id, Valid: id != 0} }

// User returns an account by id. Coordinators read any account; others
// only their own.
func (s *Store) User(ctx context.Context, id int64) (*focal.User, error) {
	p := focal.PrincipalFromContext(ctx)
	kind := focal.KindUser
	if p.UserID == id {
		kind = focal.KindSelf
	}
	if err := authorize(ctx, focal.ActionRead, focal.Resource{Kind: kind, OwnerID: id}); err != nil {
		return nil, err
	}
	u := &focal.User{}
	err := scanUser(s.rdb.QueryRowContext(ctx, "SELECT "+userColumns+" FROM users u LEFT JOIN organisations o ON o.id = u.org_id WHERE u.id = $1", id), u)
	if err != nil {
		return nil, notFound(err, "user "+strconv.FormatInt(id, 10))
	}
	return u, nil
}

// Users lists every account by name. Coordinators only.
func (s *Store) Users(ctx context.Context) ([]*focal.User, error) {
	if err := authorize(ctx, focal.ActionRead, focal.Resource{Kind: focal.KindUser}); err != nil {
		return nil, err
	}
	rows, err := s.rdb.QueryContext(ctx, "SELECT "+userColumns+" FROM users u LEFT JOIN organisations o ON o.id = u.org_id ORDER BY u.name")
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	defer rows.Close()
	var out []*focal.User
	for rows.Next() {
		u := &focal.User{}
		if err := scanUser(rows, u); err != nil {
			return nil, fmt.Errorf("list users: %w", err)
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return out, nil
}

// UpdateUser changes an account's role, organisation and disabled flag.
// Disabling an account ends its sessions. Coordinators only.
func (s *Store) UpdateUser(ctx context.Context, u *focal.User) error {
	if err := authorize(ctx, focal.ActionUpdate, focal.Resource{Kind: focal.KindUser, OwnerID: u.ID}); err != nil {
		return err
	}
	if err := u.Validate(); err != nil {
		return err
	}
	return s.WithTx(ctx, func(tx *Tx) error {
		before := &focal.User{}
		if err := scanUser(tx.QueryRowContext(ctx, "SELECT "+userColumns+" FROM users u LEFT JOIN organisations o ON o.id = u.org_id WHERE u.id = $1", u.ID), before); err != nil {
			return notFound(err, "user "+strconv.FormatInt(u.ID, 10))
		}
		if _, err := tx.ExecContext(ctx, "UPDATE users SET role = $1, org_id = $2, disabled = $3, restricted_access = $4 WHERE id = $5",
			string(u.Role), nullID(u.OrgID), u.Disabled, u.RestrictedAccess, u.ID); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return focal.Errorf(focal.ENOTFOUND, "user %d not found", u.ID)
			}
			return fmt.Errorf("update user: %w", err)
		}
		if u.Disabled {
			if _, err := tx.ExecContext(ctx, "DELETE FROM sessions WHERE user_id = $1", u.ID); err != nil {
				return fmt.Errorf("update user: end sessions: %w", err)
			}
		}
		u.Name = before.Name
		return tx.audit(ctx, "update", "user", strconv.FormatInt(u.ID, 10), auditUser(before), auditUser(u))
	})
}

// SetPassword replaces an account's password hash and ends all its
// sessions except keepSession (the hash of the session making the change,
// or "" to end all). The account itself or a coordinator may do it.
func (s *Store) SetPassword(ctx context.Context, userID int64, passwordHash, keepSession string) error {
	p := focal.PrincipalFromContext(ctx)
	kind := focal.KindUser
	if p.UserID == userID {
		kind = focal.KindSelf
	}
	if err := authorize(ctx, focal.ActionUpdate, focal.Resource{Kind: kind, OwnerID: userID}); err != nil {
		return err
	}
	return s.WithTx(ctx, func(tx *Tx) error {
		res, err := tx.ExecContext(ctx, "UPDATE users SET password_hash = $1, password_changed_at = $2 WHERE id = $3", passwordHash, time.Now().UnixMilli(), userID)
		if err != nil {
			return fmt.Errorf("set password: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return focal.Errorf(focal.ENOTFOUND, "user %d not found", userID)
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM sessions WHERE user_id = $1 AND hash <> $2", userID, keepSession); err != nil {
			return fmt.Errorf("set password: end sessions: %w", err)
		}
		return tx.audit(ctx, "password_change", "user", strconv.FormatInt(userID, 10), nil, nil)
	})
}

// DeleteUser removes an account with its sessions and tokens. Coordinators only.
func (s *Store) DeleteUser(ctx context.Context, id int64) error {
	if err := authorize(ctx, focal.ActionDelete, focal.Resource{Kind: focal.KindUser, OwnerID: id}); err != nil {
		return err
	}
	return s.WithTx(ctx, func(tx *Tx) error {
		before := &focal.User{}
		if err := scanUser(tx.QueryRowContext(ctx, "SELECT "+userColumns+" FROM users u LEFT JOIN organisations o ON o.id = u.org_id WHERE u.id = $1", id), before); err != nil {
			return notFound(err, "user "+strconv.FormatInt(id, 10))
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM users WHERE id = $1", id); err != nil {
			return fmt.Errorf("delete user: %w", err)
		}
		return tx.audit(ctx, "delete", "user", strconv.FormatInt(id, 10), auditUser(before), nil)
	})
}

// Credentials returns the account named name with its password hash, for
// logging in. It is an internal read: no principal is needed, and the hash
// never leaves the auth path.
func (s *Store) Credentials(ctx context.Context, name string) (*focal.User, string, error) {
	u := &focal.User{}
	var hash string
	row := s.rdb.QueryRowContext(ctx, "SELECT "+userColumns+", u.password_hash FROM users u LEFT JOIN organisations o ON o.id = u.org_id WHERE u.name = $1", name)
	var role string
	var created, last int64
	if err := row.Scan(&u.ID, &u.Name, &role, &u.OrgID, &u.OrgName, &u.Disabled, &created, &last, &u.RestrictedAccess, &hash); err != nil {
		return nil, "", notFound(err, "user "+name)
	}
	u.Role = focal.Role(role)
	u.CreatedAt = time.UnixMilli(created).UTC()
	if last > 0 {
		u.LastLoginAt = time.UnixMilli(last).UTC()
	}
	return u, hash, nil
}

// RecordLogin audits a login attempt for name; on success it stamps the
// account's last login and, when newHash is not empty, upgrades its
// password hash (parameters raised since it was set).
func (s *Store) RecordLogin(ctx context.Context, u *focal.User, name string, ok bool, newHash string) error {
	return s.WithTx(ctx, func(tx *Tx) error {
		if !ok {
			return tx.audit(ctx, "login_failed", "user", name, nil, nil)
		}
		if _, err := tx.ExecContext(ctx, "UPDATE users SET last_login_at = $1 WHERE id = $2", time.Now().UnixMilli(), u.ID); err != nil {
			return fmt.Errorf("record login: %w", err)
		}
		if newHash != "" {
			if _, err := tx.ExecContext(ctx, "UPDATE users SET password_hash = $1 WHERE id = $2", newHash, u.ID); err != nil {
				return fmt.Errorf("record login: rehash: %w", err)
			}
		}
		return tx.audit(focal.NewContextWithPrincipal(ctx, u.Principal()), "login", "user", strconv.FormatInt(u.ID, 10), nil, nil)
	})
}
