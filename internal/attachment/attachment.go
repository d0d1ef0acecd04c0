// Package attachment keeps the files attached to incidents outside the
// database, named by their SHA-256 under DATA/attachments/ab/abcdef…, so a
// file sent twice is stored once and can be checked against its name.
// Save streams (memory stays bounded whatever the size), refuses files
// over a limit, and checks the declared content type against the bytes:
// a declared text or image whose bytes are an executable or an archive is
// refused. A Store is safe for concurrent use.
package attachment

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"focal/internal/focal"
)

// DefaultMaxBytes bounds one attachment.
const DefaultMaxBytes = 25 << 20

// Store saves and opens attachments below Dir.
type Store struct {
	Dir      string // e.g. DATA/attachments
	MaxBytes int64  // 0 = DefaultMaxBytes
}

// Saved describes a stored file.
type Saved struct {
	SHA256      string
	Size        int64
	ContentType string // the declared type, or the sniffed one when none was declared
}

// Save streams r into the store. declared is the client's content type
// ("" if none). It returns EINVALID when the declared type contradicts the
// bytes and ETOOLARGE when the file is over the limit; nothing is kept then.
func (s *Store) Save(r io.Reader, declared string) (Saved, error) {
	max := s.MaxBytes
	if max <= 0 {
		max = DefaultMaxBytes
	}
	if err := os.MkdirAll(s.Dir, 0o700); err != nil {
		return Saved{}, fmt.Errorf("attachment: %w", err)
	}
	f, err := os.CreateTemp(s.Dir, ".upload-*")
	if err != nil {
		return Saved{}, fmt.Errorf("attachment: %w", err)
	}
	tmp := f.Name()
	keep := false
	defer func() {
		if !keep {
			_ = os.Remove(tmp) // best effort: a leftover temp file is harmless
		}
	}()
	h := sha256.New()
	head := make([]byte, 512)
	n, rerr := io.ReadFull(r, head)
	if rerr != nil && !errors.Is(rerr, io.ErrUnexpectedEOF) && !errors.Is(rerr, io.EOF) {
		_ = f.Close() // the read error is the one to report
		return Saved{}, fmt.Errorf("attachment: read: %w", rerr)
	}
	head = head[:n]
	sniffed := http.DetectContentType(head)
	ct, err := checkType(declared, sniffed, head)
	if err != nil {
		_ = f.Close() // the type error is the one to report
		return Saved{}, err
	}
	w := io.MultiWriter(f, h)
	if _, err := w.Write(head); err != nil {
		_ = f.Close() // the write error is the one to report
		return Saved{}, fmt.Errorf("attachment: %w", err)
	}
	rest, err := io.Copy(w, io.LimitReader(r, max-int64(n)+1))
	if err != nil {
		_ = f.Close() // the copy error is the one to report
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return Saved{}, focal.Errorf(focal.ETOOLARGE, "attachment larger than %d bytes", max)
		}
		return Saved{}, fmt.Errorf("attachment: %w", err)
	}
	if err := f.Close(); err != nil {
		return Saved{}, fmt.Errorf("attachment: %w", err)
	}
	size := int64(n) + rest
	if size > max {
		return Saved{}, focal.Errorf(focal.ETOOLARGE, "attachment larger than %d bytes", max)
	}
	sum := hex.EncodeToString(h.Sum(nil))
	dst := s.path(sum)
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		return Saved{}, fmt.Errorf("attachment: %w", err)
	}
	if _, err := os.Stat(dst); errors.Is(err, os.ErrNotExist) {
		if err := os.Rename(tmp, dst); err != nil {
			return Saved{}, fmt.Errorf("attachment: %w", err)
		}
		keep = true
	}
	return Saved{SHA256: sum, Size: size, ContentType: ct}, nil
}

// SaveBytes stores b (for intake paths that already hold the bytes).
func (s *Store) SaveBytes(b []byte, declared string) (Saved, error) {
	return s.Save(strings.NewReader(string(b)), declared)
}

// Open returns the file with the given SHA-256 for reading.
func (s *Store) Open(sha string) (*os.File, error) {
	if len(sha) != 64 || strings.Trim(sha, "0123456789abcdef") != "" {
		return nil, focal.Errorf(focal.ENOTFOUND, "no such attachment")
	}
	f, err := os.Open(s.path(sha))
	if errors.Is(err, os.ErrNotExist) {
		return nil, focal.Errorf(focal.ENOTFOUND, "attachment %s is missing from the data directory", sha[:12])
	}
	return f, err
}

func (s *Store) path(sha string) string { return filepath.Join(s.Dir, sha[:2], sha) }

// dangerous are sniffed types that must not pass as text or images.
var dangerous = map[string]bool{
	"application/x-msdownload": true, "application/zip": true, "application/x-rar-compressed": true,
	"application/x-gzip": true, "application/pdf": true, "application/wasm": true, "application/vnd.ms-cab-compressed": true,
}

// checkType returns the content type to record, or an error when the
// declared type is malformed or contradicts the bytes.
func checkType(declared, sniffed string, head []byte) (string, error) {
	if declared == "" {
		return sniffed, nil
	}
	mt, _, err := mime.ParseMediaType(declared)
	if err != nil {
		return "", focal.FieldErrorf("content_type", "not a media type: %q", declared)
	}
	base, _, _ := strings.Cut(sniffed, ";")
	isExe := len(head) >= 2 && head[0] == 'M' && head[1] == 'Z' || len(head) >= 4 && string(head[:4]) == "\x7fELF"
	innocent := strings.HasPrefix(mt, "text/") || strings.HasPrefix(mt, "image/")
	if innocent && (isExe || dangerous[base]) {
		kind := base
		if isExe {
			kind = "an executable"
		}
		return "", focal.FieldErrorf("content_type", "declared %s, but the file is %s", mt, kind)
	}
	if strings.HasPrefix(mt, "image/") && strings.HasPrefix(base, "image/") && mt != base && !(mt == "image/jpg" && base == "image/jpeg") {
		return "", focal.FieldErrorf("content_type", "declared %s, but the file is %s", mt, base)
	}
	return mt, nil
}
