package collect

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"focal/internal/focal"
)

// drop writes a file the way writers should: under a dot name, renamed
// into place.
func drop(t *testing.T, dir, name string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o750); err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(dir, "."+name+".tmp")
	if err := os.WriteFile(tmp, data, 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
		t.Fatal(err)
	}
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

// runDir runs a Dir on root until the test ends.
func runDir(t *testing.T, e *env, root string) {
	t.Helper()
	ctx, cancel := context.WithCancel(e.ctx)
	d := &Dir{Root: root, Store: e.s, Pipeline: e.p, Logger: e.log, Interval: 10 * time.Millisecond}
	errc := make(chan error, 1)
	go func() { errc <- d.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-errc; err != nil {
			t.Errorf("Dir.Run = %v, want nil after cancel", err)
		}
	})
}

func TestDir(t *testing.T) {
	e := newEnv(t)
	bf := e.feed(t, focal.FeedDef{Name: "bf", Format: "iplist", Options: iplistOptions})
	feodo := e.feed(t, focal.FeedDef{Name: "feodo", Format: "feodo-csv"})
	root := t.TempDir()
	drop(t, filepath.Join(root, "bf"), "list.txt", []byte(iplistBody))
	drop(t, filepath.Join(root, "bf"), "more.txt.gz", gzipped(t, "192.0.2.99\n"))
	drop(t, filepath.Join(root, "feodo"), "garbage.csv", []byte("# ip,port,when\n1,2,3\n"))
	drop(t, filepath.Join(root, "nofeed"), "x.txt", []byte(iplistBody))
	hidden := filepath.Join(root, "bf", ".partial")
	if err := os.WriteFile(hidden, []byte("192.0.2.1\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	runDir(t, e, root)

	done := filepath.Join(root, "bf", DoneDir)
	failed := filepath.Join(root, "feodo", FailedDir)
	waitFor(t, "files moved", func() bool {
		return exists(filepath.Join(done, "list.txt")) && exists(filepath.Join(done, "more.txt.gz")) &&
			exists(filepath.Join(failed, "garbage.csv.error"))
	})
	if exists(filepath.Join(root, "bf", "list.txt")) || exists(filepath.Join(root, "feodo", "garbage.csv")) {
		t.Error("ingested files left in place")
	}
	if !exists(filepath.Join(failed, "garbage.csv")) {
		t.Error("failed file not in failed/")
	}
	msg, err := os.ReadFile(filepath.Join(failed, "garbage.csv.error"))
	if err != nil || !strings.Contains(string(msg), "feodo-csv") {
		t.Errorf("garbage.csv.error = %q, %v; want the run's error naming the format", msg, err)
	}
	if n := e.events(t); n != 4 {
		t.Errorf("events = %d, want 4", n)
	}
	runs := e.runs(t, bf.ID)
	inputs := map[string]bool{}
	for _, r := range runs {
		if r.State != focal.RunDone || r.Source != "dir" || !strings.HasPrefix(r.Key, "dir:") {
			t.Errorf("run %+v, want a done dir run", r)
		}
		inputs[r.Input] = true
	}
	if len(runs) != 2 || !inputs["list.txt"] || !inputs["more.txt.gz"] {
		t.Errorf("runs of bf = %+v, want list.txt and more.txt.gz", runs)
	}
	if runs := e.runs(t, feodo.ID); len(runs) != 1 || runs[0].State != focal.RunFailed || runs[0].Input != "garbage.csv" {
		t.Errorf("runs of feodo = %+v, want one failed run of garbage.csv", runs)
	}

	// The same name again: ingested, and kept next to the first.
	drop(t, filepath.Join(root, "bf"), "list.txt", []byte("203.0.113.9\n"))
	waitFor(t, "the second list.txt moved", func() bool { return exists(filepath.Join(done, "list.txt.1")) })
	if n := e.events(t); n != 5 {
		t.Errorf("events after a second list.txt = %d, want 5", n)
	}

	// Files that are not ingested are untouched.
	if !exists(filepath.Join(root, "nofeed", "x.txt")) {
		t.Error("file of an unknown feed moved")
	}
	for _, sub := range []string{DoneDir, FailedDir} {
		if exists(filepath.Join(root, "nofeed", sub)) {
			t.Errorf("nofeed/%s created", sub)
		}
	}
	if !exists(hidden) {
		t.Error("dot file moved")
	}
}

// TestDirZip fails a zip archive with a message saying why.
func TestDirZip(t *testing.T) {
	e := newEnv(t)
	bf := e.feed(t, focal.FeedDef{Name: "bf", Format: "iplist", Options: iplistOptions})
	root := t.TempDir()
	drop(t, filepath.Join(root, "bf"), "list.zip", []byte("PK\x03\x04not really a zip"))
	runDir(t, e, root)
	note := filepath.Join(root, "bf", FailedDir, "list.zip.error")
	waitFor(t, "the zip file failed", func() bool { return exists(note) })
	msg, err := os.ReadFile(note)
	if err != nil || !strings.Contains(string(msg), "zip archive") {
		t.Errorf("list.zip.error = %q, %v; want a message about zip", msg, err)
	}
	if runs := e.runs(t, bf.ID); len(runs) != 1 || runs[0].State != focal.RunFailed || runs[0].Source != "dir" {
		t.Errorf("runs = %+v, want one failed dir run", runs)
	}
}

func TestDirRunErrors(t *testing.T) {
	e := newEnv(t)
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o640); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		d    *Dir
	}{
		{"no-store", &Dir{Root: t.TempDir()}},
		{"missing-root", &Dir{Root: filepath.Join(t.TempDir(), "nope"), Store: e.s, Pipeline: e.p}},
		{"root-is-file", &Dir{Root: file, Store: e.s, Pipeline: e.p}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if err := tt.d.Run(ctx); err == nil {
				t.Errorf("Run(%+v) = nil, want an error", tt.d)
			}
		})
	}
}

func TestMoveInto(t *testing.T) {
	dir := t.TempDir()
	for i, want := range []string{"a.txt", "a.txt.1", "a.txt.2"} {
		if err := os.WriteFile(filepath.Join(dir, "a.txt"), []byte{byte(i)}, 0o640); err != nil {
			t.Fatal(err)
		}
		got, err := moveInto(dir, "a.txt", DoneDir)
		if err != nil || got != filepath.Join(dir, DoneDir, want) {
			t.Errorf("moveInto #%d = %q, %v; want %s", i, got, err, want)
		}
	}
	if _, err := os.Lstat(filepath.Join(dir, "a.txt")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("source left behind: %v", err)
	}
}
