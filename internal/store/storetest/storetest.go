// Package storetest opens real, migrated stores for tests: SQLite in a
// temporary directory always, and PostgreSQL in a throw-away schema when
// FOCAL_TEST_POSTGRES_URL is set. Without that variable PostgreSQL tests
// skip, naming it — unless FOCAL_TEST_REQUIRE_SERVICES=1, as in CI, where
// they fail instead.
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"

	"focal/internal/store"
)

// PostgresEnv is the environment variable naming the test PostgreSQL server.
const PostgresEnv = "FOCAL_TEST_POSTGRES_URL"

// RequireEnv, set to 1, turns skips for missing services into failures.
const RequireEnv = "FOCAL_TEST_REQUIRE_SERVICES"

// Dialects returns the dialects to test: SQLite, and PostgreSQL as well.
// Tests over PostgreSQL call Open, which skips when it is not configured.
func Dialects() []store.Dialect { return []store.Dialect{store.SQLite, store.Postgres} }

// Each runs fn as a subtest once per dialect with a fresh migrated store.
func Each(t *testing.T, fn func(t *testing.T, s *store.Store)) {
	t.Helper()
	for _, d := range Dialects() {
		t.Run(string(d), func(t *testing.T) {
			fn(t, Open(t, d))
		})
	}
}

// Open returns a fresh migrated store of dialect d, closed (and for
// PostgreSQL dropped) when the test ends.
func Open(tb testing.TB, d store.Dialect) *store.Store {
	tb.Helper()
	s := OpenEmpty(tb, d)
	if _, err := s.Migrate(context.Background()); err != nil {
		tb.Fatalf("migrate %s: %v", d, err)
	}
	return s
}

// OpenEmpty is Open without migrations.
func OpenEmpty(tb testing.TB, d store.Dialect) *store.Store {
	tb.Helper()
	dsn := DSN(tb, d)
	s, err := store.Open(context.Background(), dsn, tb.TempDir())
	if err != nil {
		tb.Fatalf("open %s: %v", d, err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Errorf("close %s: %v", d, err)
		}
	})
	return s
}

// DSN returns a data source name for a fresh, empty database of dialect d:
// a SQLite file in a temporary directory, or a new PostgreSQL schema
// (dropped at the end of the test) selected through search_path.
func DSN(tb testing.TB, d store.Dialect) string {
	tb.Helper()
	if d == store.SQLite {
		return "sqlite:" + tb.TempDir() + "/test.db"
	}
	base := PostgresURL(tb)
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		tb.Fatal(err)
	}
	schema := "focal_test_" + hex.EncodeToString(b[:])
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		tb.Fatalf("connect to %s: %v", PostgresEnv, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		tb.Fatalf("create schema: %v", err)
	}
	tb.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), base)
		if err != nil {
			tb.Errorf("drop schema %s: %v", schema, err)
			return
		}
		defer c.Close(context.Background())
		if _, err := c.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			tb.Errorf("drop schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		tb.Fatalf("%s: %v", PostgresEnv, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// PostgresURL returns FOCAL_TEST_POSTGRES_URL, or skips the test (fails it
// when services are required) if it is not set.
func PostgresURL(tb testing.TB) string {
	tb.Helper()
	u := os.Getenv(PostgresEnv)
	if u == "" {
		Missing(tb, PostgresEnv+" not set: skipping PostgreSQL tests (e.g. "+PostgresEnv+"=postgres://postgres@127.0.0.1:5432/test)")
	}
	return u
}

// Missing skips tb with msg, or fails it when FOCAL_TEST_REQUIRE_SERVICES=1.
func Missing(tb testing.TB, msg string) {
	tb.Helper()
	if os.Getenv(RequireEnv) == "1" {
		tb.Fatal(msg + " (" + RequireEnv + "=1)")
	}
	tb.Skip(msg)
}
