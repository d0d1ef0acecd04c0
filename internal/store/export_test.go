package store

import (
	"context"
	"io/fs"
)

// LoadMigrations exposes loadMigrations to the external test package.
func LoadMigrations(fsys fs.FS, dir string) ([]Migration, error) { return loadMigrations(fsys, dir) }

// ApplyMigrations exposes migrate to the external test package.
func (s *Store) ApplyMigrations(ctx context.Context, ms []Migration) ([]string, error) {
	return s.migrate(ctx, ms)
}

// WithTxExec runs one statement in a write transaction.
func (s *Store) WithTxExec(ctx context.Context, query string) (int64, error) {
	var n int64
	err := s.WithTx(ctx, func(tx *Tx) error {
		res, err := tx.ExecContext(ctx, query)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, err
}

// SetSearchWindow sets the first id window of windowed text search.
func (s *Store) SetSearchWindow(n int64) { s.searchWindow = n }
