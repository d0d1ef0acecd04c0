// Package store is focal's persistence: one API over two drivers, SQLite
// (embedded, pure Go, the default) and PostgreSQL. SQL is written once with
// $1-style placeholders, which both drivers accept; where the dialects
// differ (bulk copy, upserts, locking) the difference sits in this file or
// in a helper beside it, never scattered through queries.
//
// A *Store is safe for concurrent use. Methods take a context first and
// return focal.Error values for conditions callers act on (not found,
// conflict); anything else is an internal error.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver

	"focal/internal/config"
	"focal/internal/focal"
)

// Dialect names the SQL engine behind a Store.
type Dialect string

// The two supported dialects.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// Store is an open database. Create one with Open and release it with Close.
type Store struct {
	dialect Dialect
	db      *sql.DB       // writes (SQLite: one connection, BEGIN IMMEDIATE)
	rdb     *sql.DB       // reads (SQLite: a read-only pool; PostgreSQL: same as db)
	pool    *pgxpool.Pool // PostgreSQL only: native access for COPY
	where   string        // redacted description for errors and logs
	// searchWindow is the first id window of a windowed text search;
	// 0 means 20,000. Tests make it small.
	searchWindow int64
	// stmts caches statements prepared on db by their SQL (bulk paths).
	stmts sync.Map
}

// prepared returns the statement for query, prepared on the write handle
// once per process; use it in a transaction with Tx.StmtContext.
func (s *Store) prepared(ctx context.Context, query string) (*sql.Stmt, error) {
	if st, ok := s.stmts.Load(query); ok {
		return st.(*sql.Stmt), nil
	}
	st, err := s.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if prev, loaded := s.stmts.LoadOrStore(query, st); loaded {
		st.Close()
		return prev.(*sql.Stmt), nil
	}
	return st, nil
}

// Open connects to the database described by dsn and checks it answers:
// "" is a SQLite file focal.db in dataDir, "sqlite:PATH" a SQLite file at
// PATH, and "postgres://…" a PostgreSQL server. It does not migrate; call
// Migrate for that.
func Open(ctx context.Context, dsn, dataDir string) (*Store, error) {
	switch {
	case dsn == "" || strings.HasPrefix(dsn, "sqlite:"):
		path := strings.TrimPrefix(dsn, "sqlite:")
		if path == "" {
			path = filepath.Join(dataDir, "focal.db")
		}
		return openSQLite(ctx, path)
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		return openPostgres(ctx, dsn)
	}
	return nil, fmt.Errorf("open database: unsupported dsn %q: want empty, sqlite:PATH or postgres://", config.Redact(dsn))
}

func openSQLite(ctx context.Context, path string) (*Store, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	pragmas := "_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)"
	// The writer gets a 32 MiB page cache: bulk event upserts touch random
	// pages of the key and address indexes, and SQLite's default 2 MiB
	// cache turns each of them into a read system call.
	w, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)&"+pragmas+"&_pragma=cache_size(-32768)&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	// SQLite has one writer; a single connection makes writers queue in Go
	// instead of spinning on SQLITE_BUSY.
	w.SetMaxOpenConns(1)
	w.SetConnMaxIdleTime(0)
	s := &Store{dialect: SQLite, db: w, where: "sqlite " + path}
	if err := s.pingWrite(ctx); err != nil {
		_ = w.Close() // best effort: the ping error is the one to report
		return nil, err
	}
	r, err := sql.Open("sqlite", "file:"+path+"?"+pragmas+"&_pragma=query_only(1)")
	if err != nil {
		_ = w.Close() // best effort: the open error is the one to report
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	r.SetMaxOpenConns(4)
	s.rdb = r
	return s, nil
}

// pingWrite proves the SQLite file can be created and written: a read-only
// or missing directory is reported here, at start, not at the first insert.
func (s *Store) pingWrite(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := s.db.ExecContext(ctx, "CREATE TABLE IF NOT EXISTS focal_probe (x INTEGER); DROP TABLE focal_probe"); err != nil {
		return fmt.Errorf("open %s: cannot write: %w", s.where, err)
	}
	return nil
}

func openPostgres(ctx context.Context, dsn string) (*Store, error) {
	where := "postgres " + config.Redact(dsn)
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", where, err)
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = 5 * time.Second
	}
	if cfg.MaxConns < 8 {
		cfg.MaxConns = 8
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", where, err)
	}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := pool.Ping(pctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect to %s: %w", where, err)
	}
	db := stdlib.OpenDBFromPool(pool)
	return &Store{dialect: Postgres, db: db, rdb: db, pool: pool, where: where}, nil
}

// Dialect reports which SQL engine the store uses.
func (s *Store) Dialect() Dialect { return s.dialect }

// String describes the database without credentials, for logs.
func (s *Store) String() string { return s.where }

// Ping checks the database answers a query within ctx.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	if err := s.rdb.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("ping %s: %w", s.where, err)
	}
	return nil
}

// Close releases the database. It is safe to call more than once.
func (s *Store) Close() error {
	var errs []error
	s.stmts.Range(func(k, v any) bool {
		v.(*sql.Stmt).Close()
		s.stmts.Delete(k)
		return true
	})
	if s.rdb != nil && s.rdb != s.db {
		errs = append(errs, s.rdb.Close())
	}
	if s.db != nil {
		errs = append(errs, s.db.Close())
	}
	if s.pool != nil {
		s.pool.Close()
	}
	s.db, s.rdb, s.pool = nil, nil, nil
	return errors.Join(errs...)
}

// Tx is a write transaction. Get one from BeginTx or use WithTx.
type Tx struct {
	*sql.Tx
	store *Store
}

// BeginTx starts a write transaction. On SQLite it takes the write lock at
// once (BEGIN IMMEDIATE), so a transaction never fails half way on a busy
// database. Callers defer Rollback and call Commit.
func (s *Store) BeginTx(ctx context.Context) (*Tx, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("begin: %w", err)
	}
	return &Tx{Tx: tx, store: s}, nil
}

// WithTx runs fn in a write transaction and commits if fn returns nil.
func (s *Store) WithTx(ctx context.Context, fn func(tx *Tx) error) error {
	tx, err := s.BeginTx(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// Reader returns the handle for read-only queries. On SQLite it is a pool
// of read-only connections that do not wait for the writer.
func (s *Store) Reader() *sql.DB { return s.rdb }

// notFound turns sql.ErrNoRows into a focal ENOTFOUND error.
func notFound(err error, what string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return focal.Errorf(focal.ENOTFOUND, "%s not found", what)
	}
	return err
}

// textSearch returns the SQL condition matching incident alias i against
// the user's words in q (every word, each as a prefix), with the match
// expression as the argument at position n; windowed says the caller must
// search in id windows (see searchWindows); ok=false when q holds no
// searchable word. It is the one place the dialects' full-text search
// differs: FTS5 on SQLite, tsvector on PostgreSQL. PostgreSQL's planner
// either walks the primary key testing every row (slow for a rare word) or
// fetches and sorts every hit from the GIN index (slow for a common one);
// id windows bound both.
func (s *Store) textSearch(q string, n int) (cond, arg string, windowed, ok bool) {
	var words []string
	for _, w := range strings.FieldsFunc(strings.ToLower(q), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	}) {
		if len(words) == 16 {
			break
		}
		words = append(words, w)
	}
	if len(words) == 0 {
		return "", "", false, false
	}
	if s.dialect == Postgres {
		for i, w := range words {
			words[i] = w + ":*"
		}
		return fmt.Sprintf("i.search_tsv @@ to_tsquery('simple', $%d)", n), strings.Join(words, " & "), true, true
	}
	for i, w := range words {
		words[i] = `"` + w + `"*`
	}
	return fmt.Sprintf("i.id IN (SELECT rowid FROM incidents_fts WHERE incidents_fts MATCH $%d)", n), strings.Join(words, " "), false, true
}
