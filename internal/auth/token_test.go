package auth

import (
	"encoding/base64"
	"encoding/hex"
	"strings"
	"testing"
)

func TestNewToken(t *testing.T) {
	for _, prefix := range []string{SessionTokenPrefix, APITokenPrefix, "x", "A-b_9"} {
		t.Run(prefix, func(t *testing.T) {
			tok, hash, err := NewToken(prefix)
			if err != nil {
				t.Fatalf("NewToken(%q) error = %v", prefix, err)
			}
			if want := len(prefix) + 43; len(tok) != want {
				t.Errorf("len(NewToken(%q)) = %d, want %d", prefix, len(tok), want)
			}
			rest, found := strings.CutPrefix(tok, prefix)
			if !found {
				t.Fatalf("NewToken(%q) = %q, want prefix %q", prefix, tok, prefix)
			}
			if b, err := base64.RawURLEncoding.DecodeString(rest); err != nil || len(b) != TokenRandomBytes {
				t.Errorf("NewToken(%q) random part %q decodes to %d bytes, %v, want %d bytes, nil", prefix, rest, len(b), err, TokenRandomBytes)
			}
			if hash != HashToken(tok) {
				t.Errorf("NewToken(%q) hash = %q, want HashToken(token) = %q", prefix, hash, HashToken(tok))
			}
			if got, ok := ParseBearer("Bearer " + tok); !ok || got != tok {
				t.Errorf("ParseBearer(Bearer %q) = %q, %v, want token, true", tok, got, ok)
			}
		})
	}
}

func TestNewTokenUnique(t *testing.T) {
	const n = 10000
	tokens, hashes := make(map[string]bool, n), make(map[string]bool, n)
	for range n {
		tok, hash, err := NewToken(SessionTokenPrefix)
		if err != nil {
			t.Fatalf("NewToken error = %v", err)
		}
		if tokens[tok] || hashes[hash] {
			t.Fatalf("NewToken = %q (hash %q), a repeat after %d tokens", tok, hash, len(tokens))
		}
		tokens[tok], hashes[hash] = true, true
	}
}

func TestNewTokenBadPrefix(t *testing.T) {
	tests := []struct{ name, prefix string }{
		{"empty", ""},
		{"space", "focal s_"},
		{"slash", "focal/"},
		{"non_ascii", "fócal_"},
		{"too_long", strings.Repeat("p", 33)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, hash, err := NewToken(tt.prefix)
			if err == nil || !strings.HasPrefix(err.Error(), "auth: new token: prefix ") || tok != "" || hash != "" {
				t.Errorf("NewToken(%q) = %q, %q, %v, want \"\", \"\", prefix error", tt.prefix, tok, hash, err)
			}
		})
	}
}

func TestHashToken(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
		{"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
	}
	for _, tt := range tests {
		if got := HashToken(tt.in); got != tt.want {
			t.Errorf("HashToken(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	a, _, err := NewToken(APITokenPrefix)
	if err != nil {
		t.Fatalf("NewToken error = %v", err)
	}
	b, _, err := NewToken(APITokenPrefix)
	if err != nil {
		t.Fatalf("NewToken error = %v", err)
	}
	if HashToken(a) != HashToken(a) {
		t.Errorf("HashToken(%q) not deterministic", a)
	}
	if HashToken(a) == HashToken(b) {
		t.Errorf("HashToken(%q) = HashToken(%q), want different", a, b)
	}
	if h := HashToken(a); len(h) != 64 || strings.ToLower(h) != h {
		t.Errorf("HashToken(%q) = %q, want 64 lowercase hex digits", a, h)
	} else if _, err := hex.DecodeString(h); err != nil {
		t.Errorf("HashToken(%q) = %q, not hex: %v", a, h, err)
	}
}

var parseBearerTests = []struct {
	name, header string
	want         string
	ok           bool
}{
	{"simple", "Bearer abc", "abc", true},
	{"lower_scheme", "bearer abc", "abc", true},
	{"upper_scheme", "BEARER abc", "abc", true},
	{"mixed_scheme", "bEaReR abc", "abc", true},
	{"two_spaces", "Bearer  abc", "abc", true},
	{"surrounding_whitespace", " \tBearer abc \t", "abc", true},
	{"focal_token", "Bearer focal_t_AbC-123_xyz", "focal_t_AbC-123_xyz", true},
	{"token68_chars", "Bearer a-b.c_d~e+f/g==", "a-b.c_d~e+f/g==", true},
	{"max_len", "Bearer " + strings.Repeat("a", 256), strings.Repeat("a", 256), true},
	{"too_long", "Bearer " + strings.Repeat("a", 257), "", false},
	{"huge_padding", "Bearer abc" + strings.Repeat(" ", 1000), "", false},
	{"empty", "", "", false},
	{"scheme_only", "Bearer", "", false},
	{"scheme_space", "Bearer ", "", false},
	{"scheme_spaces", "Bearer    ", "", false},
	{"no_space", "Bearerabc", "", false},
	{"tab_separator", "Bearer\tabc", "", false},
	{"basic", "Basic YWxhZGRpbjpvcGVuc2VzYW1l", "", false},
	{"token_prefix_of_scheme", "Bear abc", "", false},
	{"no_scheme", "abc", "", false},
	{"inner_space", "Bearer abc def", "", false},
	{"only_equals", "Bearer ==", "", false},
	{"equals_inside", "Bearer a=b", "", false},
	{"nul", "Bearer abc\x00", "", false},
	{"newline", "Bearer abc\ndef", "", false},
	{"comma", "Bearer abc,def", "", false},
	{"non_ascii", "Bearer tökén", "", false},
	{"quoted", `Bearer "abc"`, "", false},
}

func TestParseBearer(t *testing.T) {
	for _, tt := range parseBearerTests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := ParseBearer(tt.header)
			if got != tt.want || ok != tt.ok {
				t.Errorf("ParseBearer(%.40q) = %.40q, %v, want %.40q, %v", tt.header, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func FuzzParseBearer(f *testing.F) {
	for _, tt := range parseBearerTests {
		f.Add(tt.header)
	}
	f.Fuzz(func(t *testing.T, header string) {
		tok, ok := ParseBearer(header)
		if !ok {
			if tok != "" {
				t.Errorf("ParseBearer(%q) = %q, false, want empty token when not ok", header, tok)
			}
			return
		}
		if tok == "" || len(tok) > MaxBearerLen || strings.ContainsAny(tok, " \t\r\n") || !strings.Contains(header, tok) {
			t.Errorf("ParseBearer(%q) = %q, true, want non-empty token without whitespace, <= %d bytes, taken from header", header, tok, MaxBearerLen)
		}
	})
}
