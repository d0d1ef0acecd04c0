package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
)

// CopyBenchResult is the outcome of BenchCopy.
type CopyBenchResult struct {
	Rows    int64
	Batch   int
	Elapsed time.Duration
}

// Rate returns rows inserted per second.
func (r CopyBenchResult) Rate() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Rows) / r.Elapsed.Seconds()
}

// BenchCopy measures the bulk path: it creates a scratch table of small
// event-like rows (about 80 bytes: id, time, IPv4 address, port, ASN, a
// short text), inserts rows of them through CopyRows in batches of batch,
// counts them back, and drops the table.
func BenchCopy(ctx context.Context, s *Store, rows, batch int) (CopyBenchResult, error) {
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		return CopyBenchResult{}, err
	}
	table := "focal_bench_" + hex.EncodeToString(b[:])
	ddl := fmt.Sprintf(`CREATE TABLE %s (id BIGINT PRIMARY KEY, seen_at BIGINT NOT NULL, ip TEXT NOT NULL, port INTEGER NOT NULL, asn BIGINT NOT NULL, feed TEXT NOT NULL)`, table)
	if _, err := s.db.ExecContext(ctx, ddl); err != nil {
		return CopyBenchResult{}, fmt.Errorf("bench: %w", err)
	}
	defer s.db.ExecContext(context.WithoutCancel(ctx), "DROP TABLE "+table) //nolint:errcheck // best-effort cleanup of a scratch table
	cols := []string{"id", "seen_at", "ip", "port", "asn", "feed"}
	src := &benchRows{batch: batch}
	start := time.Now()
	var total int64
	for total < int64(rows) {
		n := batch
		if rest := int64(rows) - total; rest < int64(n) {
			n = int(rest)
		}
		src.reset(total, n)
		got, err := s.CopyRows(ctx, table, cols, src)
		if err != nil {
			return CopyBenchResult{}, err
		}
		total += got
	}
	elapsed := time.Since(start)
	var count int64
	if err := s.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+table).Scan(&count); err != nil {
		return CopyBenchResult{}, fmt.Errorf("bench: count: %w", err)
	}
	if count != int64(rows) {
		return CopyBenchResult{}, fmt.Errorf("bench: table holds %d rows, want %d", count, rows)
	}
	return CopyBenchResult{Rows: total, Batch: batch, Elapsed: elapsed}, nil
}

// benchRows generates rows without holding a batch in memory.
type benchRows struct {
	batch      int
	next, left int64
	vals       []any
	base       int64
}

func (r *benchRows) reset(first int64, n int) {
	r.next, r.left = first-1, int64(n)
	r.base = time.Now().UnixMilli()
	if r.vals == nil {
		r.vals = make([]any, 6)
	}
}

func (r *benchRows) Next() bool {
	if r.left == 0 {
		return false
	}
	r.left--
	r.next++
	return true
}

func (r *benchRows) Values() ([]any, error) {
	i := r.next
	r.vals[0] = i
	r.vals[1] = r.base + i
	r.vals[2] = fmt.Sprintf("198.51.%d.%d", (i>>8)&255, i&255)
	r.vals[3] = int64(445)
	r.vals[4] = int64(64496 + i%16)
	r.vals[5] = "scan_smb"
	return r.vals, nil
}

func (r *benchRows) Err() error { return nil }

// ScratchSchema creates a throw-away schema in the PostgreSQL database at
// dsn and returns a DSN that uses it, and a function that drops it.
func ScratchSchema(ctx context.Context, dsn string) (string, func() error, error) {
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", nil, err
	}
	schema := "focal_bench_" + hex.EncodeToString(b[:])
	s, err := openPostgres(ctx, dsn)
	if err != nil {
		return "", nil, err
	}
	defer s.Close()
	if _, err := s.db.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		return "", nil, fmt.Errorf("scratch schema: %w", err)
	}
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	drop := func() error {
		s, err := openPostgres(context.Background(), dsn)
		if err != nil {
			return err
		}
		defer s.Close()
		_, err = s.db.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
		return err
	}
	return dsn + sep + "search_path=" + schema, drop, nil
}
