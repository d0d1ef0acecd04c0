package store_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"focal/internal/focal"
	"focal/internal/store"
	"focal/internal/store/storetest"
)

func TestMigrateIsIdempotent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		applied, err := s.Migrate(ctx)
		if err != nil {
			t.Fatalf("Migrate again: %v", err)
		}
		if len(applied) != 0 {
			t.Errorf("Migrate again applied %v, want nothing", applied)
		}
		ms, err := store.Migrations(s.Dialect())
		if err != nil {
			t.Fatal(err)
		}
		v, err := s.SchemaVersion(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if want := ms[len(ms)-1].Version; v != want {
			t.Errorf("SchemaVersion = %d, want %d", v, want)
		}
	})
}

func TestDialectsHaveSameMigrations(t *testing.T) {
	lite, err := store.Migrations(store.SQLite)
	if err != nil {
		t.Fatal(err)
	}
	pg, err := store.Migrations(store.Postgres)
	if err != nil {
		t.Fatal(err)
	}
	if len(lite) != len(pg) {
		t.Fatalf("sqlite has %d migrations, postgres %d; every change needs both", len(lite), len(pg))
	}
	for i := range lite {
		if lite[i].Name != pg[i].Name {
			t.Errorf("migration %d: sqlite %s, postgres %s", i, lite[i].Name, pg[i].Name)
		}
	}
}

func TestMeta(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		if _, err := s.Meta(ctx, "nope"); focal.ErrorCode(err) != focal.ENOTFOUND {
			t.Errorf("Meta(nope) error = %v, want not_found", err)
		}
		if err := s.SetMeta(ctx, "k", "v1"); err != nil {
			t.Fatal(err)
		}
		if err := s.SetMeta(ctx, "k", "v2"); err != nil {
			t.Fatal(err)
		}
		if got, err := s.Meta(ctx, "k"); err != nil || got != "v2" {
			t.Errorf("Meta(k) = %q, %v; want v2", got, err)
		}
		a, err := s.NodeID(ctx)
		if err != nil {
			t.Fatal(err)
		}
		b, err := s.NodeID(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if a != b || len(a) != 32 {
			t.Errorf("NodeID = %q then %q, want one stable 32-hex id", a, b)
		}
	})
}

func TestWithTxRollsBackOnError(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		boom := errors.New("boom")
		err := s.WithTx(ctx, func(tx *store.Tx) error {
			if _, err := tx.ExecContext(ctx, "INSERT INTO focal_meta (key, value) VALUES ($1, $2)", "tx", "x"); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("WithTx = %v, want boom", err)
		}
		if _, err := s.Meta(ctx, "tx"); focal.ErrorCode(err) != focal.ENOTFOUND {
			t.Errorf("row written in a rolled-back tx is visible: %v", err)
		}
	})
}

// A failing migration must leave nothing behind: neither its own earlier
// statements nor a record in schema_migrations.
func TestFailedMigrationRollsBack(t *testing.T) {
	for _, d := range storetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			s := storetest.OpenEmpty(t, d)
			ctx := context.Background()
			bad := fstest.MapFS{
				"m/0001_ok.sql":  {Data: []byte("CREATE TABLE ok_one (id INTEGER PRIMARY KEY);")},
				"m/0002_bad.sql": {Data: []byte("CREATE TABLE half (id INTEGER PRIMARY KEY); INSERT INTO no_such_table VALUES (1);")},
			}
			ms, err := store.LoadMigrations(bad, "m")
			if err != nil {
				t.Fatal(err)
			}
			applied, err := s.ApplyMigrations(ctx, ms)
			if err == nil || !strings.Contains(err.Error(), "0002_bad.sql") || !strings.Contains(err.Error(), "rolled back") {
				t.Fatalf("ApplyMigrations error = %v, want one naming 0002_bad.sql and the rollback", err)
			}
			if fmt.Sprint(applied) != "[0001_ok.sql]" {
				t.Errorf("applied = %v, want [0001_ok.sql]", applied)
			}
			if _, err := s.Reader().ExecContext(ctx, "SELECT 1 FROM half"); err == nil {
				t.Error("table half exists: failed migration was not rolled back")
			}
			if v, _ := s.SchemaVersion(ctx); v != 1 {
				t.Errorf("SchemaVersion = %d, want 1", v)
			}
			// Editing an applied migration is refused.
			edited := fstest.MapFS{"m/0001_ok.sql": {Data: []byte("CREATE TABLE ok_two (id INTEGER);")}}
			ms, err = store.LoadMigrations(edited, "m")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.ApplyMigrations(ctx, ms); err == nil || !strings.Contains(err.Error(), "changed after it was applied") {
				t.Errorf("ApplyMigrations(edited) = %v, want a changed-after-applied error", err)
			}
		})
	}
}

func TestLoadMigrationsRejectsBadNames(t *testing.T) {
	tests := []struct {
		name string
		fs   fstest.MapFS
		want string
	}{
		{"no-number", fstest.MapFS{"m/init.sql": {}}, "NNNN_words.sql"},
		{"zero", fstest.MapFS{"m/0000_x.sql": {}}, "NNNN_words.sql"},
		{"duplicate", fstest.MapFS{"m/0001_a.sql": {}, "m/01_b.sql": {}}, "already used"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := store.LoadMigrations(tt.fs, "m")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("LoadMigrations = %v, want error containing %q", err, tt.want)
			}
		})
	}
}

func TestCopyRows(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		if _, err := s.WithTxExec(ctx, "CREATE TABLE copy_test (id BIGINT PRIMARY KEY, name TEXT NOT NULL, score BIGINT)"); err != nil {
			t.Fatal(err)
		}
		// 1,000 rows: several full multi-row statements plus a remainder.
		var rows [][]any
		for i := 0; i < 1000; i++ {
			rows = append(rows, []any{int64(i), fmt.Sprintf("row-%d", i), int64(i * 3)})
		}
		n, err := s.CopyRows(ctx, "copy_test", []string{"id", "name", "score"}, store.SliceSource(rows))
		if err != nil || n != 1000 {
			t.Fatalf("CopyRows = %d, %v; want 1000, nil", n, err)
		}
		var count, sum int64
		if err := s.Reader().QueryRowContext(ctx, "SELECT COUNT(*), SUM(score) FROM copy_test").Scan(&count, &sum); err != nil {
			t.Fatal(err)
		}
		if count != 1000 || sum != 3*999*1000/2 {
			t.Errorf("count, sum = %d, %d; want 1000, %d", count, sum, 3*999*1000/2)
		}
		// A batch with a duplicate key lands not at all.
		bad := [][]any{{int64(5000), "new", int64(1)}, {int64(1), "dup", int64(1)}}
		if _, err := s.CopyRows(ctx, "copy_test", []string{"id", "name", "score"}, store.SliceSource(bad)); err == nil {
			t.Fatal("CopyRows with a duplicate key succeeded")
		}
		if err := s.Reader().QueryRowContext(ctx, "SELECT COUNT(*) FROM copy_test").Scan(&count); err != nil {
			t.Fatal(err)
		}
		if count != 1000 {
			t.Errorf("after failed batch count = %d, want 1000 (batch must be atomic)", count)
		}
		// Bad identifiers and row widths are refused.
		if _, err := s.CopyRows(ctx, "copy_test; DROP TABLE x", []string{"id"}, store.SliceSource(nil)); err == nil {
			t.Error("CopyRows accepted a bad table name")
		}
		if _, err := s.CopyRows(ctx, "copy_test", []string{"id", "name", "score"}, store.SliceSource([][]any{{int64(1)}})); err == nil {
			t.Error("CopyRows accepted a short row")
		}
	})
}

func TestOpenErrors(t *testing.T) {
	ctx := context.Background()
	t.Run("unwritable-dir", func(t *testing.T) {
		if os.Geteuid() == 0 {
			// root writes anywhere; use a path below a regular file instead.
			f := filepath.Join(t.TempDir(), "file")
			if err := os.WriteFile(f, nil, 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := store.Open(ctx, "", f); err == nil {
				t.Error("Open below a regular file succeeded")
			}
			return
		}
		dir := t.TempDir()
		if err := os.Chmod(dir, 0o500); err != nil {
			t.Fatal(err)
		}
		if _, err := store.Open(ctx, "", dir); err == nil {
			t.Error("Open in a read-only directory succeeded")
		}
	})
	t.Run("unreachable-postgres", func(t *testing.T) {
		_, err := store.Open(ctx, "postgres://focal:secret@127.0.0.1:1/none?connect_timeout=2", t.TempDir())
		if err == nil {
			t.Fatal("Open of an unreachable server succeeded")
		}
		if strings.Contains(err.Error(), "secret") {
			t.Errorf("error leaks the password: %v", err)
		}
		if !strings.Contains(err.Error(), "127.0.0.1:1") {
			t.Errorf("error %q does not name the server", err)
		}
	})
	t.Run("unknown-scheme", func(t *testing.T) {
		if _, err := store.Open(ctx, "mysql://x", t.TempDir()); err == nil {
			t.Error("Open(mysql://) succeeded")
		}
	})
}
