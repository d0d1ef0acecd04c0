package store

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/jackc/pgx/v5"
)

// RowSource yields rows for CopyRows. Next advances to the next row and
// reports whether there is one; Values returns that row's values in column
// order; Err reports why Next stopped early. It is the same shape as pgx's
// CopyFromSource, so PostgreSQL streams it straight into COPY.
type RowSource interface {
	Next() bool
	Values() ([]any, error)
	Err() error
}

// SliceSource returns a RowSource over rows held in memory.
func SliceSource(rows [][]any) RowSource { return &sliceSource{rows: rows, i: -1} }

type sliceSource struct {
	rows [][]any
	i    int
}

func (s *sliceSource) Next() bool             { s.i++; return s.i < len(s.rows) }
func (s *sliceSource) Values() ([]any, error) { return s.rows[s.i], nil }
func (s *sliceSource) Err() error             { return nil }

var identRE = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

// sqliteRowsPerStmt is how many rows one multi-row INSERT carries on SQLite:
// enough to amortise statement overhead, well under SQLite's variable limit.
const sqliteRowsPerStmt = 256

// CopyRows inserts every row of src into table in one transaction and
// returns the number of rows inserted. It is the bulk path: PostgreSQL uses
// COPY, SQLite prepared multi-row INSERTs. Either all rows land or none do;
// callers bound memory by calling it once per batch. table and columns must
// be plain lower-case identifiers.
func (s *Store) CopyRows(ctx context.Context, table string, columns []string, src RowSource) (int64, error) {
	if !identRE.MatchString(table) {
		return 0, fmt.Errorf("copy: bad table name %q", table)
	}
	if len(columns) == 0 {
		return 0, fmt.Errorf("copy %s: no columns", table)
	}
	for _, c := range columns {
		if !identRE.MatchString(c) {
			return 0, fmt.Errorf("copy %s: bad column name %q", table, c)
		}
	}
	if s.dialect == Postgres {
		n, err := s.pool.CopyFrom(ctx, pgx.Identifier{table}, columns, src)
		if err != nil {
			return n, fmt.Errorf("copy %s: %w", table, err)
		}
		return n, nil
	}
	return s.copySQLite(ctx, table, columns, src)
}

func (s *Store) copySQLite(ctx context.Context, table string, columns []string, src RowSource) (int64, error) {
	per := sqliteRowsPerStmt
	if max := 32000 / len(columns); per > max {
		per = max
	}
	tx, err := s.BeginTx(ctx)
	if err != nil {
		return 0, fmt.Errorf("copy %s: %w", table, err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	full, err := tx.PrepareContext(ctx, insertSQL(table, columns, per))
	if err != nil {
		return 0, fmt.Errorf("copy %s: %w", table, err)
	}
	defer full.Close()
	args := make([]any, 0, per*len(columns))
	var n int64
	flush := func(rows int) error {
		if rows == 0 {
			return nil
		}
		var err error
		if rows == per {
			_, err = full.ExecContext(ctx, args...)
		} else {
			_, err = tx.ExecContext(ctx, insertSQL(table, columns, rows), args...)
		}
		if err != nil {
			return fmt.Errorf("copy %s: rows %d-%d: %w", table, n-int64(rows)+1, n, err)
		}
		args = args[:0]
		return nil
	}
	rows := 0
	for src.Next() {
		vals, err := src.Values()
		if err != nil {
			return 0, fmt.Errorf("copy %s: row %d: %w", table, n+1, err)
		}
		if len(vals) != len(columns) {
			return 0, fmt.Errorf("copy %s: row %d has %d values, want %d", table, n+1, len(vals), len(columns))
		}
		args = append(args, vals...)
		n++
		rows++
		if rows == per {
			if err := flush(rows); err != nil {
				return 0, err
			}
			rows = 0
		}
	}
	if err := src.Err(); err != nil {
		return 0, fmt.Errorf("copy %s: source: %w", table, err)
	}
	if err := flush(rows); err != nil {
		return 0, err
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("copy %s: commit: %w", table, err)
	}
	return n, nil
}

// insertSQL builds a multi-row INSERT for SQLite. It uses anonymous "?"
// placeholders: modernc resolves each named "$N" parameter by a linear scan
// of the statement's name list, which is quadratic in a statement with
// thousands of parameters; "?" parameters have no names to scan.
func insertSQL(table string, columns []string, rows int) string {
	var b strings.Builder
	b.WriteString("INSERT INTO ")
	b.WriteString(table)
	b.WriteString(" (")
	b.WriteString(strings.Join(columns, ", "))
	b.WriteString(") VALUES ")
	for r := 0; r < rows; r++ {
		if r > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('(')
		for c := range columns {
			if c > 0 {
				b.WriteByte(',')
			}
			b.WriteByte('?')
		}
		b.WriteByte(')')
	}
	return b.String()
}
