package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
)

// Token prefixes. The prefix makes a leaked secret recognisable (by people
// and by secret scanners) and tells the HTTP layer which kind it is.
const (
	SessionTokenPrefix = "focal_s_"
	APITokenPrefix     = "focal_t_"
)

// Token sizes.
const (
	// TokenRandomBytes is the number of random bytes in a token.
	TokenRandomBytes = 32
	// MaxBearerLen is the longest bearer token, in bytes, ParseBearer accepts.
	MaxBearerLen = 256
	// maxPrefixLen bounds NewToken's prefix so tokens stay under MaxBearerLen.
	maxPrefixLen = 32
)

// NewToken returns a new random secret token, prefix followed by
// TokenRandomBytes random bytes in unpadded base64url, and hash, its
// HashToken, which is the only form that should be stored. prefix must be 1
// to 32 bytes of ASCII letters, digits, '_' or '-' (use SessionTokenPrefix or
// APITokenPrefix). It returns an error for an invalid prefix or if the system
// random source fails. It is safe for concurrent use.
func NewToken(prefix string) (token string, hash string, err error) {
	if prefix == "" || len(prefix) > maxPrefixLen {
		return "", "", fmt.Errorf("auth: new token: prefix %q must be 1 to %d bytes", prefix, maxPrefixLen)
	}
	for i := 0; i < len(prefix); i++ {
		if c := prefix[i]; !isAlnum(c) && c != '_' && c != '-' {
			return "", "", fmt.Errorf("auth: new token: prefix %q has invalid byte %q", prefix, c)
		}
	}
	b := make([]byte, TokenRandomBytes)
	if _, err := rand.Read(b); err != nil {
		return "", "", fmt.Errorf("auth: new token: %w", err)
	}
	token = prefix + base64.RawURLEncoding.EncodeToString(b)
	return token, HashToken(token), nil
}

// HashToken returns the lowercase hex SHA-256 of token, the form in which
// session and API tokens are stored and looked up. Tokens carry 256 random
// bits, so a fast unsalted hash is sufficient and makes lookup by hash
// possible. It is safe for concurrent use.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// ParseBearer extracts the token from an Authorization header value of the
// form "Bearer <token>" (RFC 6750). The scheme is matched case-insensitively;
// one or more spaces may separate it from the token, and surrounding
// whitespace is ignored. ok is false when the scheme is not Bearer or the
// token is empty, longer than MaxBearerLen bytes, or contains a byte outside
// the RFC 6750 token68 alphabet (letters, digits, "-._~+/", trailing "=").
// It is safe for concurrent use.
func ParseBearer(header string) (token string, ok bool) {
	const scheme = "bearer"
	// Bound the work on hostile input before trimming.
	if len(header) > len(scheme)+MaxBearerLen+64 {
		return "", false
	}
	h := strings.Trim(header, " \t")
	if len(h) <= len(scheme) || !strings.EqualFold(h[:len(scheme)], scheme) || h[len(scheme)] != ' ' {
		return "", false
	}
	token = strings.TrimLeft(h[len(scheme):], " ")
	if token == "" || len(token) > MaxBearerLen || !isToken68(token) {
		return "", false
	}
	return token, true
}

// isToken68 reports whether s matches RFC 7235 token68:
// 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=".
func isToken68(s string) bool {
	body := strings.TrimRight(s, "=")
	if body == "" {
		return false
	}
	for i := 0; i < len(body); i++ {
		c := body[i]
		if !isAlnum(c) && !strings.ContainsRune("-._~+/", rune(c)) {
			return false
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}
