package attachment

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"focal/internal/focal"
)

func TestSave(t *testing.T) {
	s := &Store{Dir: t.TempDir(), MaxBytes: 1024}
	png := append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{0}, 40)...)
	tests := []struct {
		name, declared string
		data           []byte
		code           string
		ct             string
	}{
		{"text", "text/plain; charset=utf-8", []byte("hello logs"), "", "text/plain"},
		{"sniffed", "", []byte("hello logs"), "", "text/plain; charset=utf-8"},
		{"png", "image/png", png, "", "image/png"},
		{"exe-as-text", "text/plain", append([]byte("MZ"), bytes.Repeat([]byte{1}, 100)...), focal.EINVALID, ""},
		{"zip-as-image", "image/png", []byte("PK\x03\x04rest of a zip archive"), focal.EINVALID, ""},
		{"png-as-jpeg", "image/jpeg", png, focal.EINVALID, ""},
		{"exe-declared", "application/octet-stream", append([]byte("MZ"), bytes.Repeat([]byte{1}, 100)...), "", "application/octet-stream"},
		{"bad-type", "not a type", []byte("x"), focal.EINVALID, ""},
		{"too-large", "text/plain", bytes.Repeat([]byte("a"), 1025), focal.ETOOLARGE, ""},
		{"exactly-max", "text/plain", bytes.Repeat([]byte("a"), 1024), "", "text/plain"},
		{"empty", "", nil, "", "text/plain; charset=utf-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.Save(bytes.NewReader(tt.data), tt.declared)
			if focal.ErrorCode(err) != tt.code {
				t.Fatalf("Save(%s) error = %v, want code %q", tt.name, err, tt.code)
			}
			if err != nil {
				return
			}
			if got.Size != int64(len(tt.data)) || got.ContentType != tt.ct || len(got.SHA256) != 64 {
				t.Errorf("Save(%s) = %+v, want size %d, type %q", tt.name, got, len(tt.data), tt.ct)
			}
			f, err := s.Open(got.SHA256)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			back, err := io.ReadAll(f)
			if err != nil || !bytes.Equal(back, tt.data) {
				t.Errorf("Open(%s) returned other bytes (%v)", tt.name, err)
			}
		})
	}
	// The same bytes are stored once; unknown or malformed hashes are not found.
	a, err := s.Save(strings.NewReader("same"), "")
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.Save(strings.NewReader("same"), "text/plain")
	if err != nil || a.SHA256 != b.SHA256 {
		t.Errorf("same bytes saved as %s and %s (%v)", a.SHA256, b.SHA256, err)
	}
	for _, sha := range []string{"../../etc/passwd", strings.Repeat("0", 64), strings.Repeat("G", 64)} {
		if _, err := s.Open(sha); focal.ErrorCode(err) != focal.ENOTFOUND {
			t.Errorf("Open(%q) = %v, want not found", sha, err)
		}
	}
}
