package collect

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"focal/internal/focal"
	"focal/internal/pipeline"
	"focal/internal/store"
)

// DefaultDirInterval is how often a Dir scans its tree by default.
const DefaultDirInterval = 2 * time.Second

// Names of the subdirectories a Dir moves files to.
const (
	DoneDir   = "done"
	FailedDir = "failed"
)

// Dir ingests the files dropped into Root/<feed-name>/ into the feed of
// that name. Root, Store and Pipeline are required.
//
// Every Interval, Dir scans the directories under Root. A regular file
// whose name does not start with '.' is ingested once it has kept the
// same size and modification time over two scans; a file that changes
// between scans is left until it stops changing. That check is a
// heuristic: a writer pausing longer than Interval is taken for finished.
// Writers should therefore write under a name starting with '.' (or
// elsewhere on the same file system) and rename the complete file into
// place. Symbolic links, subdirectories and files directly in Root are
// ignored; a directory that names no feed is logged once and left alone
// (its files stay where they are).
//
// A file is ingested with Source "dir", Input its name and a key derived
// from its path under Root, size and modification time, so a file whose
// ingest was interrupted (by a restart) resumes its run, and the same
// file dropped again unchanged (same size and time) is not counted
// twice. Once its run is committed the file moves to
// Root/<feed>/done/; when the run fails (the format rejects the file, a
// .zip archive, an error of the pipeline) it moves to Root/<feed>/failed/
// with <name>.error next to it holding the run's error. A file of the
// same name already there is kept: the newcomer gets a suffix .1, .2, …
// Nothing is ever deleted; clearing done/ is the operator's business. To
// retry a failed file, move it back. A file whose run is still not
// committed after WaitTimeout, or whose ingest was stopped by ctx or a
// store error, stays in place and is tried again (resuming) at the next
// scan. A gzip file is gunzipped.
//
// Files are ingested one at a time. Set the fields before Run; Run may be
// called by one goroutine at a time.
type Dir struct {
	Root     string
	Store    *store.Store
	Pipeline *pipeline.Pipeline
	Logger   *slog.Logger
	// Interval is the time between scans (default 2s).
	Interval time.Duration
	// WaitTimeout bounds the wait for a file's run to be committed
	// (default DefaultWaitTimeout).
	WaitTimeout time.Duration
}

// stamp is what tells whether a file changed between two scans.
type stamp struct {
	size  int64
	mtime time.Time
}

// dirScan is the state of a running Dir between scans.
type dirScan struct {
	d       *Dir
	log     *slog.Logger
	seen    map[string]stamp // path -> stamp at the previous scan
	unknown map[string]bool  // directories that name no feed, logged
}

// Run scans Root every Interval until ctx is done and returns nil then.
// It returns an error at once when Root is not a directory or Store or
// Pipeline is missing; later errors are logged and retried.
func (d *Dir) Run(ctx context.Context) error {
	if d.Store == nil || d.Pipeline == nil {
		return errors.New("feed directory: Store and Pipeline are required")
	}
	fi, err := os.Stat(d.Root)
	if err != nil {
		return fmt.Errorf("feed directory: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("feed directory: %s is not a directory", d.Root)
	}
	interval := d.Interval
	if interval <= 0 {
		interval = DefaultDirInterval
	}
	s := &dirScan{d: d, log: discardLogger(d.Logger).With("component", "feeddir"),
		seen: map[string]stamp{}, unknown: map[string]bool{}}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		s.scan(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// scan looks at every feed directory once and ingests its stable files.
func (s *dirScan) scan(ctx context.Context) {
	sys := focal.NewContextWithPrincipal(ctx, focal.System())
	dirs, err := os.ReadDir(s.d.Root)
	if err != nil {
		s.log.Error("read feed directory", "dir", s.d.Root, "err", err)
		return
	}
	next := map[string]stamp{}
	defer func() { s.seen = next }()
	for _, de := range dirs {
		if !de.IsDir() || strings.HasPrefix(de.Name(), ".") {
			continue
		}
		name := de.Name()
		dir := filepath.Join(s.d.Root, name)
		files, err := os.ReadDir(dir)
		if err != nil {
			s.log.Error("read feed directory", "dir", dir, "err", err)
			continue
		}
		var ready []string
		for _, fe := range files {
			if !fe.Type().IsRegular() || strings.HasPrefix(fe.Name(), ".") {
				continue
			}
			info, err := fe.Info()
			if err != nil {
				continue // gone meanwhile
			}
			path := filepath.Join(dir, fe.Name())
			st := stamp{size: info.Size(), mtime: info.ModTime()}
			next[path] = st
			if prev, ok := s.seen[path]; ok && prev.size == st.size && prev.mtime.Equal(st.mtime) {
				ready = append(ready, fe.Name())
			}
		}
		if len(ready) == 0 {
			continue
		}
		f, err := s.d.Store.FeedByName(sys, name)
		if focal.ErrorCode(err) == focal.ENOTFOUND {
			if !s.unknown[name] {
				s.unknown[name] = true
				s.log.Warn("no feed of this name; leaving its files alone", "dir", dir, "feed", name)
			}
			continue
		}
		if err != nil {
			s.log.Error("look up feed", "feed", name, "err", err)
			continue
		}
		delete(s.unknown, name)
		for _, file := range ready {
			if ctx.Err() != nil {
				return
			}
			s.ingest(ctx, f, dir, file, next[filepath.Join(dir, file)])
		}
	}
}

// ingest ingests one file into feed f and moves it to done/ or failed/.
func (s *dirScan) ingest(ctx context.Context, f *focal.FeedDef, dir, name string, st stamp) {
	path := filepath.Join(dir, name)
	file, err := os.Open(path)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			s.log.Error("open feed file", "path", path, "err", err)
		}
		return
	}
	defer file.Close() //nolint:errcheck // read only; closed again after a move
	if info, err := file.Stat(); err != nil || info.Size() != st.size || !info.ModTime().Equal(st.mtime) {
		return // changed since the scan: wait for it to settle
	}
	rel, err := filepath.Rel(s.d.Root, path)
	if err != nil {
		rel = path
	}
	sum := sha256.Sum256([]byte(filepath.ToSlash(rel) + "\x00" + strconv.FormatInt(st.size, 10) + "\x00" +
		strconv.FormatInt(st.mtime.UnixNano(), 10)))
	key := "dir:" + hex.EncodeToString(sum[:16])

	body, err := decodeBody(file, "the file", 0)
	if err != nil {
		msg := fmt.Sprintf("%s: %v", name, err)
		recordFailure(ctx, s.d.Store, s.log, f, "dir", name, msg)
		s.finish(file, f, dir, name, FailedDir, msg)
		return
	}
	run, err := s.d.Pipeline.Ingest(ctx, pipeline.Request{Feed: f, Source: "dir", Input: name, Key: key, Body: body})
	switch {
	case err == nil:
	case ctx.Err() != nil:
		return // shutting down: resume at the next start
	case run != nil && run.State == focal.RunFailed:
		s.finish(file, f, dir, name, FailedDir, run.Error)
		return
	case run == nil && focal.ErrorCode(err) == focal.EINVALID:
		// The feed's format or options are refused: no run exists yet.
		recordFailure(ctx, s.d.Store, s.log, f, "dir", name, err.Error())
		s.finish(file, f, dir, name, FailedDir, err.Error())
		return
	default:
		s.log.Error("ingest feed file; will retry", "path", path, "run", runID(run), "err", err)
		return
	}
	timeout := s.d.WaitTimeout
	if timeout <= 0 {
		timeout = DefaultWaitTimeout
	}
	wctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	r, err := s.d.Pipeline.WaitRun(wctx, run.ID, nil)
	switch {
	case r != nil && r.State == focal.RunFailed:
		s.finish(file, f, dir, name, FailedDir, r.Error)
	case err != nil:
		if ctx.Err() == nil {
			s.log.Warn("feed file not committed yet; will look again", "path", path, "run", run.ID, "err", err)
		}
	default:
		s.log.Info("feed file ingested", "feed", f.Name, "file", name, "run", r.ID, "bytes", r.Bytes,
			"events", r.Events, "problems", r.Problems)
		s.finish(file, f, dir, name, DoneDir, "")
	}
}

// finish closes file and moves it to sub (done or failed) of dir; for
// failed/ it writes msg to <moved name>.error next to it.
func (s *dirScan) finish(file *os.File, f *focal.FeedDef, dir, name, sub, msg string) {
	if err := file.Close(); err != nil {
		s.log.Debug("close feed file", "path", file.Name(), "err", err)
	}
	dst, err := moveInto(dir, name, sub)
	if err != nil {
		s.log.Error("move feed file", "path", filepath.Join(dir, name), "to", sub, "err", err)
		return
	}
	if sub != FailedDir {
		return
	}
	s.log.Warn("feed file failed", "feed", f.Name, "file", name, "moved_to", dst, "err", msg)
	if err := os.WriteFile(dst+".error", []byte(msg+"\n"), 0o640); err != nil {
		s.log.Error("write feed file error", "path", dst+".error", "err", err)
	}
}

// moveInto moves dir/name into dir/sub/, creating it, under name or,
// when that is taken, name.1, name.2, …, and returns the new path.
func moveInto(dir, name, sub string) (string, error) {
	target := filepath.Join(dir, sub)
	if err := os.MkdirAll(target, 0o750); err != nil {
		return "", err
	}
	dst := filepath.Join(target, name)
	for i := 1; ; i++ {
		_, err := os.Lstat(dst)
		_, errNote := os.Lstat(dst + ".error")
		if errors.Is(err, fs.ErrNotExist) && errors.Is(errNote, fs.ErrNotExist) {
			break
		}
		if i > 1000 {
			return "", fmt.Errorf("no free name for %s in %s", name, target)
		}
		dst = filepath.Join(target, name+"."+strconv.Itoa(i))
	}
	return dst, os.Rename(filepath.Join(dir, name), dst)
}
