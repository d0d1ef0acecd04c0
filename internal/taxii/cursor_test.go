package taxii

import (
	"encoding/base64"
	"testing"

	"focal/internal/focal"
)

func TestCursorRoundTrip(t *testing.T) {
	c := &cursors{key: []byte("0123456789abcdef0123456789abcdef")}
	h := filterHash("objects", "/taxii2/focal/", "coll", "", Query{Types: []string{"indicator"}})
	s := c.encode(1700000000123456, 42, h)
	d, seq, err := c.decode(s, h)
	if err != nil || d != 1700000000123456 || seq != 42 {
		t.Fatalf("decode(encode(…)) = %d, %d, %v", d, seq, err)
	}
	other := filterHash("objects", "/taxii2/focal/", "coll", "", Query{Types: []string{"malware"}})
	if _, _, err := c.decode(s, other); focal.ErrorCode(err) != focal.EINVALID {
		t.Errorf("decode with other filters = %v, want EINVALID", err)
	}
	if _, _, err := (&cursors{key: []byte("another key, another node......")}).decode(s, h); focal.ErrorCode(err) != focal.EINVALID {
		t.Errorf("decode with another key = %v, want EINVALID", err)
	}
	b, _ := base64.RawURLEncoding.DecodeString(s)
	for i := range b {
		tampered := append([]byte(nil), b...)
		tampered[i] ^= 1
		if _, _, err := c.decode(base64.RawURLEncoding.EncodeToString(tampered), h); focal.ErrorCode(err) != focal.EINVALID {
			t.Errorf("decode with byte %d altered = %v, want EINVALID", i, err)
		}
	}
	for _, bad := range []string{"", "x", s + "A", s[:len(s)-1], "!!!!" + s[4:]} {
		if _, _, err := c.decode(bad, h); focal.ErrorCode(err) != focal.EINVALID {
			t.Errorf("decode(%q) = %v, want EINVALID", bad, err)
		}
	}
}

// FuzzCursor checks that no string decodes without the key (or panics),
// and that encoding round-trips any position.
func FuzzCursor(f *testing.F) {
	c := &cursors{key: []byte("0123456789abcdef0123456789abcdef")}
	h := filterHash("manifest", "/taxii2/focal/", "coll", "", Query{})
	f.Add(c.encode(1, 1, h), int64(1), int64(1))
	f.Add("", int64(0), int64(0))
	f.Add("AQAAAAAAAAABAAAAAAAAAAE", int64(-1), int64(1<<62))
	f.Fuzz(func(t *testing.T, s string, date, seq int64) {
		if s != c.encode(date, seq, h) {
			if _, _, err := c.decode(s, h); err == nil {
				// Only a cursor this key signed decodes: s must be one.
				d, q, _ := c.decode(s, h)
				if c.encode(d, q, h) != s {
					t.Fatalf("decode accepted a cursor it did not sign: %q", s)
				}
			}
		}
		d, q, err := c.decode(c.encode(date, seq, h), h)
		if err != nil || d != date || q != seq {
			t.Fatalf("round trip of (%d, %d) = %d, %d, %v", date, seq, d, q, err)
		}
	})
}
