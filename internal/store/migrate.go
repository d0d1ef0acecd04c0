package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"
)

//go:embed migrations
var migrationFiles embed.FS

// migrationLock is the PostgreSQL advisory lock key that serialises
// migrations when several focal processes start at once.
const migrationLock = 0x666f63616c // "focal"

// Migration is one numbered schema change.
type Migration struct {
	Version int    // from the file name: 0001_init.sql is version 1
	Name    string // the file name
	SQL     string
	Sum     string // sha256 of SQL, recorded when applied
}

// Migrations returns the embedded migrations for d in order. File names must
// be NNNN_words.sql with unique, increasing numbers.
func Migrations(d Dialect) ([]Migration, error) {
	return loadMigrations(migrationFiles, path.Join("migrations", string(d)))
}

func loadMigrations(fsys fs.FS, dir string) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	var ms []Migration
	seen := map[int]string{}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".sql") {
			continue
		}
		num, _, ok := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %s: name must be NNNN_words.sql", name)
		}
		if prev, dup := seen[v]; dup {
			return nil, fmt.Errorf("migration %s: version %d already used by %s", name, v, prev)
		}
		seen[v] = name
		b, err := fs.ReadFile(fsys, path.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("migration %s: %w", name, err)
		}
		sum := sha256.Sum256(b)
		ms = append(ms, Migration{Version: v, Name: name, SQL: string(b), Sum: hex.EncodeToString(sum[:])})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].Version < ms[j].Version })
	return ms, nil
}

// Migrate applies every embedded migration not yet recorded in the
// database, each in its own transaction, and returns the names it applied.
// A migration that fails is rolled back whole and stops the run. It is safe
// to call from several processes at once.
func (s *Store) Migrate(ctx context.Context) ([]string, error) {
	ms, err := Migrations(s.dialect)
	if err != nil {
		return nil, err
	}
	return s.migrate(ctx, ms)
}

func (s *Store) migrate(ctx context.Context, ms []Migration) ([]string, error) {
	if _, err := s.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY,
		name TEXT NOT NULL,
		sum TEXT NOT NULL,
		applied_at BIGINT NOT NULL)`); err != nil {
		return nil, fmt.Errorf("migrate: create schema_migrations: %w", err)
	}
	var applied []string
	for _, m := range ms {
		done, err := s.applyMigration(ctx, m)
		if err != nil {
			return applied, err
		}
		if done {
			applied = append(applied, m.Name)
		}
	}
	// A database migrated by a newer focal must not be run by an older one.
	var maxVersion int
	if err := s.db.QueryRowContext(ctx, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations").Scan(&maxVersion); err != nil {
		return applied, fmt.Errorf("migrate: %w", err)
	}
	if n := len(ms); n > 0 && maxVersion > ms[n-1].Version {
		return applied, fmt.Errorf("migrate: database schema is at version %d, newer than this focal knows (%d): upgrade focal", maxVersion, ms[n-1].Version)
	}
	return applied, nil
}

func (s *Store) applyMigration(ctx context.Context, m Migration) (bool, error) {
	tx, err := s.BeginTx(ctx)
	if err != nil {
		return false, fmt.Errorf("migration %s: %w", m.Name, err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	if s.dialect == Postgres {
		if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", migrationLock); err != nil {
			return false, fmt.Errorf("migration %s: lock: %w", m.Name, err)
		}
	}
	var sum string
	err = tx.QueryRowContext(ctx, "SELECT sum FROM schema_migrations WHERE version = $1", m.Version).Scan(&sum)
	switch {
	case err == nil:
		if sum != m.Sum {
			return false, fmt.Errorf("migration %s: changed after it was applied; add a new migration instead of editing this one", m.Name)
		}
		return false, nil
	case !errors.Is(err, sql.ErrNoRows):
		return false, fmt.Errorf("migration %s: %w", m.Name, err)
	}
	if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
		return false, fmt.Errorf("migration %s failed and was rolled back: %w", m.Name, err)
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO schema_migrations (version, name, sum, applied_at) VALUES ($1, $2, $3, $4)",
		m.Version, m.Name, m.Sum, time.Now().UnixMilli()); err != nil {
		return false, fmt.Errorf("migration %s: record: %w", m.Name, err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("migration %s: commit: %w", m.Name, err)
	}
	return true, nil
}

// SchemaVersion returns the highest applied migration version, 0 for an
// empty database.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	err := s.rdb.QueryRowContext(ctx, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations").Scan(&v)
	if err != nil {
		return 0, fmt.Errorf("schema version: %w", err)
	}
	return v, nil
}
