package ui

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"time"

	"focal/internal/focal"
)

//go:embed static/*.css static/*.js
var staticFS embed.FS

// hashLen is how many hex digits of a file's SHA-256 name its version.
const hashLen = 16

// asset is one embedded static file.
type asset struct {
	body  []byte
	hash  string
	ctype string
}

// assets are the static files by name, with their content hashes.
type assets struct {
	files map[string]asset
}

// newAssets reads every file of dir in fsys and hashes it.
func newAssets(fsys fs.FS, dir string) (*assets, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("ui: static files: %w", err)
	}
	a := &assets{files: map[string]asset{}}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		b, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("ui: static file %s: %w", e.Name(), err)
		}
		sum := sha256.Sum256(b)
		ctype := mime.TypeByExtension(path.Ext(e.Name()))
		if ctype == "" {
			ctype = "application/octet-stream"
		}
		a.files[e.Name()] = asset{body: b, hash: hex.EncodeToString(sum[:])[:hashLen], ctype: ctype}
	}
	return a, nil
}

// url returns the versioned URL of the static file name; templates call
// it as {{static "app.css"}}. An unknown name is an error, which fails the
// render (and the tests) rather than emitting a broken link.
func (a *assets) url(name string) (string, error) {
	f, ok := a.files[name]
	if !ok {
		return "", fmt.Errorf("ui: no static file %q", name)
	}
	return "/static/" + f.hash + "/" + name, nil
}

// static serves GET /static/{hash}/{name}: the file, if hash is its
// current content hash, cached for a year as immutable.
func (h *handlers) static(w http.ResponseWriter, r *http.Request) {
	name, hash := r.PathValue("name"), r.PathValue("hash")
	f, ok := h.assets.files[name]
	if !ok || f.hash != hash {
		h.error(w, r, focal.Errorf(focal.ENOTFOUND, "no such file"))
		return
	}
	w.Header().Set("Content-Type", f.ctype)
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	w.Header().Set("ETag", `"`+f.hash+`"`)
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(f.body))
}
