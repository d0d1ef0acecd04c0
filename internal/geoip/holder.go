package geoip

import (
	"context"
	"io/fs"
	"log/slog"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultCloseDelay is how long a Holder keeps a replaced DB open for the
// look-ups still using it.
const DefaultCloseDelay = time.Minute

// emptyDB answers every look-up with nothing.
var emptyDB = &DB{}

// Holder holds the current DB and replaces it atomically when the files
// change, so look-ups never wait for a reload: [Holder.Reload] opens the
// new files, swaps them in, and closes the replaced DB after CloseDelay
// (look-ups that still use it then find nothing). The zero
// Holder holds an empty DB and is ready to use. A Holder is safe for
// concurrent use and must not be copied after first use.
type Holder struct {
	// Logger, if set before Watch or Reload are called, receives a line
	// for every reload and every failed one.
	Logger *slog.Logger
	// CloseDelay is how long a replaced DB stays open (DefaultCloseDelay
	// if zero), for callers that got it from Load just before the swap.
	CloseDelay time.Duration

	p    atomic.Pointer[DB]
	opts []Option

	mu          sync.Mutex // serialises Reload and Watch's checks
	asnPath     string
	countryPath string
	loaded      [2]stamp // the files the current DB was opened from
	failed      [2]stamp // the files a reload last failed on
}

// stamp identifies a version of a file.
type stamp struct {
	mtime time.Time
	size  int64
	ok    bool // the file existed
}

func stampOf(path string) stamp {
	if path == "" {
		return stamp{}
	}
	fi, err := os.Stat(path)
	if err != nil {
		return stamp{}
	}
	return stamp{mtime: fi.ModTime(), size: fi.Size(), ok: true}
}

// NewHolder opens the files like [Open] and returns a Holder holding them;
// its reloads use the same options.
func NewHolder(asnPath, countryPath string, opts ...Option) (*Holder, error) {
	h := &Holder{opts: opts}
	if err := h.Reload(asnPath, countryPath); err != nil {
		return nil, err
	}
	return h, nil
}

// Load returns the current DB, never nil. Use it for a short while (a
// look-up or a batch of them) and call Load again later: a replaced DB is
// closed after CloseDelay and then finds nothing.
func (h *Holder) Load() *DB {
	if db := h.p.Load(); db != nil {
		return db
	}
	return emptyDB
}

// Lookup looks ip up in the current DB.
func (h *Holder) Lookup(ip netip.Addr) (Info, bool) {
	return h.Load().Lookup(ip)
}

// Describe describes the current DB.
func (h *Holder) Describe() string {
	return h.Load().Describe()
}

// Reload opens the files (either path may be empty) and, if that works,
// makes them current and schedules the replaced DB to be closed. On error
// the current DB stays.
func (h *Holder) Reload(asnPath, countryPath string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.reload(asnPath, countryPath)
}

func (h *Holder) reload(asnPath, countryPath string) error {
	stamps := [2]stamp{stampOf(asnPath), stampOf(countryPath)}
	db, err := Open(asnPath, countryPath, h.opts...)
	if err != nil {
		h.failed = stamps
		if h.Logger != nil {
			h.Logger.Error("geoip: reload failed; keeping the current databases", "err", err, "current", h.Load().Describe())
		}
		return err
	}
	h.asnPath, h.countryPath = asnPath, countryPath
	h.loaded, h.failed = stamps, [2]stamp{}
	old := h.p.Swap(db)
	if h.Logger != nil {
		h.Logger.Info("geoip: databases loaded", "databases", db.Describe())
	}
	if old != nil {
		delay := h.CloseDelay
		if delay <= 0 {
			delay = DefaultCloseDelay
		}
		time.AfterFunc(delay, func() { old.Close() })
	}
	return nil
}

// Close closes the current DB and leaves the Holder empty.
func (h *Holder) Close() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if db := h.p.Swap(nil); db != nil {
		return db.Close()
	}
	return nil
}

// Check reloads the files of the last successful Reload if one of them
// changed (modification time or size) since it was loaded. It does not
// retry files a reload already failed on until they change again, and
// reports whether it reloaded.
func (h *Holder) Check() (bool, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.asnPath == "" && h.countryPath == "" {
		return false, nil
	}
	now := [2]stamp{stampOf(h.asnPath), stampOf(h.countryPath)}
	if now == h.loaded || now == h.failed {
		return false, nil
	}
	for i, path := range []string{h.asnPath, h.countryPath} {
		if path != "" && !now[i].ok {
			// A missing file is most likely being replaced; wait.
			if h.failed != now && h.Logger != nil {
				h.Logger.Warn("geoip: database file missing; keeping the current databases", "path", path)
			}
			h.failed = now
			return false, &fs.PathError{Op: "stat", Path: path, Err: fs.ErrNotExist}
		}
	}
	if err := h.reload(h.asnPath, h.countryPath); err != nil {
		return false, err
	}
	return true, nil
}

// Watch calls Check every interval until ctx is done, so that replacing a
// file takes effect within an interval. Errors are logged to Logger.
func (h *Holder) Watch(ctx context.Context, interval time.Duration) {
	if interval <= 0 {
		interval = time.Minute
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			h.Check() // errors are logged by Check and reload
		}
	}
}
