package geoip_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"focal/internal/geoip"
	"focal/internal/geoip/geoiptest"
)

// replace writes a new file and renames it over path, as geoipupdate does,
// with a modification time that differs from the old file's.
func replace(t *testing.T, path string, nets map[string]geoip.Info, mtime time.Time) {
	t.Helper()
	tmp := path + ".tmp"
	geoiptest.WriteTestDB(t, tmp, nets)
	if err := os.Chtimes(tmp, mtime, mtime); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

func asnOf(h *geoip.Holder, ip string) uint32 {
	info, _ := h.Lookup(netip.MustParseAddr(ip))
	return info.ASN
}

func TestHolderReload(t *testing.T) {
	var zero geoip.Holder
	if _, ok := zero.Lookup(netip.MustParseAddr("192.0.2.1")); ok {
		t.Error("zero Holder found something")
	}
	if d := zero.Describe(); d == "" {
		t.Error("zero Holder: empty Describe")
	}

	dir := t.TempDir()
	p := filepath.Join(dir, "db.mmdb")
	t0 := time.Now().Add(-time.Hour)
	replace(t, p, map[string]geoip.Info{"192.0.2.0/24": {ASN: 64496}}, t0)
	h, err := geoip.NewHolder(p, "")
	if err != nil {
		t.Fatal(err)
	}
	h.CloseDelay = 200 * time.Millisecond
	var logs bytes.Buffer
	var logMu sync.Mutex
	h.Logger = slog.New(slog.NewTextHandler(lockedWriter{&logMu, &logs}, nil))
	defer h.Close()

	// Readers keep looking up while the file is replaced.
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			for ctx.Err() == nil {
				if a := asnOf(h, "192.0.2.1"); a != 64496 && a != 64497 {
					t.Errorf("ASN %d during reload", a)
					return
				}
			}
		})
	}

	old := h.Load()
	if a := asnOf(h, "192.0.2.1"); a != 64496 {
		t.Fatalf("ASN %d, want 64496", a)
	}
	if changed, err := h.Check(); changed || err != nil {
		t.Fatalf("Check() = %v, %v on unchanged files", changed, err)
	}
	replace(t, p, map[string]geoip.Info{"192.0.2.0/24": {ASN: 64497}}, t0.Add(time.Minute))
	if changed, err := h.Check(); !changed || err != nil {
		t.Fatalf("Check() = %v, %v after a change", changed, err)
	}
	if a := asnOf(h, "192.0.2.1"); a != 64497 {
		t.Errorf("ASN %d after reload, want 64497", a)
	}
	// The replaced DB is closed after CloseDelay.
	deadline := time.Now().Add(5 * time.Second)
	for {
		if closed(old) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("replaced DB not closed")
		}
		time.Sleep(time.Millisecond)
	}

	// A broken file keeps the current DB, and is not retried until it
	// changes again.
	if err := os.WriteFile(p, []byte("garbage, not a database"), 0o644); err != nil {
		t.Fatal(err)
	}
	if changed, err := h.Check(); changed || err == nil || !strings.Contains(err.Error(), p) {
		t.Fatalf("Check() = %v, %v; want an error naming %s", changed, err, p)
	}
	if changed, err := h.Check(); changed || err != nil {
		t.Fatalf("second Check() = %v, %v; want no retry", changed, err)
	}
	if a := asnOf(h, "192.0.2.1"); a != 64497 {
		t.Errorf("ASN %d after a failed reload, want 64497", a)
	}
	// An explicit Reload with other paths.
	q := filepath.Join(dir, "other.mmdb")
	geoiptest.WriteTestDB(t, q, map[string]geoip.Info{"192.0.2.0/24": {ASN: 64496, Country: "NL"}})
	if err := h.Reload("", q); err != nil {
		t.Fatal(err)
	}
	if info, _ := h.Lookup(netip.MustParseAddr("192.0.2.1")); info != (geoip.Info{ASN: 64496, Country: "NL"}) {
		t.Errorf("after Reload: %+v", info)
	}
	if !strings.Contains(h.Describe(), q) {
		t.Errorf("Describe() = %q, want %s", h.Describe(), q)
	}
	cancel()
	wg.Wait()

	logMu.Lock()
	defer logMu.Unlock()
	if !strings.Contains(logs.String(), "reload failed") || !strings.Contains(logs.String(), "databases loaded") {
		t.Errorf("logs:\n%s", logs.String())
	}
}

// closed reports whether db has been closed: a closed DB finds nothing, not
// even in its cache.
func closed(db *geoip.DB) bool {
	_, ok := db.Lookup(netip.MustParseAddr("192.0.2.77"))
	return !ok
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func TestHolderWatch(t *testing.T) {
	dir := t.TempDir()
	asnPath, countryPath := filepath.Join(dir, "asn.mmdb"), filepath.Join(dir, "country.mmdb")
	t0 := time.Now().Add(-time.Hour)
	replace(t, asnPath, map[string]geoip.Info{"192.0.2.0/24": {ASN: 64496}}, t0)
	replace(t, countryPath, map[string]geoip.Info{"192.0.2.0/24": {Country: "NL"}}, t0)
	h, err := geoip.NewHolder(asnPath, countryPath)
	if err != nil {
		t.Fatal(err)
	}
	h.CloseDelay = time.Millisecond
	defer h.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		h.Watch(ctx, 5*time.Millisecond)
		close(done)
	}()
	// Remove a file: the DB stays.
	if err := os.Remove(countryPath); err != nil {
		t.Fatal(err)
	}
	time.Sleep(30 * time.Millisecond)
	if info, _ := h.Lookup(netip.MustParseAddr("192.0.2.1")); info.Country != "NL" {
		t.Errorf("after removing a file: %+v", info)
	}
	replace(t, countryPath, map[string]geoip.Info{"192.0.2.0/24": {Country: "DE"}}, t0.Add(time.Minute))
	deadline := time.Now().Add(5 * time.Second)
	for {
		info, _ := h.Lookup(netip.MustParseAddr("192.0.2.1"))
		if info == (geoip.Info{ASN: 64496, Country: "DE"}) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Watch did not reload: %+v", info)
		}
		time.Sleep(2 * time.Millisecond)
	}
	cancel()
	<-done
}
