package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/netip"
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

// SeedEvents is the bulk path for benchmarks: it stores perOrg events for
// each organisation of orgs, each with a distinct source address of that
// organisation's network nets[i] (an IPv4 prefix of at most /16 bits of
// host space used cyclically), observed at observed, through CopyRows into
// events and event_orgs, in batches of batch rows. It bypasses the
// pipeline (no dedup, no enrichment): it exists to fill a database fast
// for measuring what reads it.
func SeedEvents(ctx context.Context, s *Store, feedID, runID int64, orgs []int64, nets []netip.Prefix, perOrg, batch int, observed time.Time) (int64, error) {
	if len(orgs) != len(nets) {
		return 0, fmt.Errorf("seed events: %d organisations but %d networks", len(orgs), len(nets))
	}
	var first int64
	if err := s.db.QueryRowContext(ctx, "SELECT COALESCE(MAX(id), 0) FROM events").Scan(&first); err != nil {
		return 0, fmt.Errorf("seed events: %w", err)
	}
	cols := []string{"id", "dedup_key", "feed_id", "run_id", "class", "type", "src_ip", "src_port", "tlp", "confidence",
		"source_time", "observed_time", "first_seen", "last_seen", "count", "orgs", "raw"}
	ms := observed.UnixMilli()
	total := int64(len(orgs)) * int64(perOrg)
	var done int64
	for done < total {
		n := min(int64(batch), total-done)
		rows := make([][]any, 0, n)
		links := make([][]any, 0, n)
		for k := int64(0); k < n; k++ {
			i := done + k
			o, j := i/int64(perOrg), i%int64(perOrg)
			id := first + i + 1
			base := nets[o].Addr().As4()
			host := uint32(j) % (1 << (32 - nets[o].Bits()))
			a := netip.AddrFrom4([4]byte{base[0], base[1] | byte(host>>16), base[2] | byte(host>>8), base[3] | byte(host)})
			key := make([]byte, 16)
			for b := range 8 {
				key[15-b] = byte(uint64(id) >> (8 * b))
			}
			rows = append(rows, []any{id, key, feedID, runID, "vulnerable", "vulnerable-system", ipBytes(a), int64(445), "AMBER", int64(80),
				ms, ms, ms, ms, int64(1), fmt.Sprint(orgs[o]), ""})
			links = append(links, []any{orgs[o], id})
		}
		if _, err := s.CopyRows(ctx, "events", cols, SliceSource(rows)); err != nil {
			return done, err
		}
		if _, err := s.CopyRows(ctx, "event_orgs", []string{"org_id", "event_id"}, SliceSource(links)); err != nil {
			return done, err
		}
		done += n
	}
	return done, nil
}
