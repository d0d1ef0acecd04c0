package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// Params are argon2id cost parameters. Memory is in KiB, SaltLen and KeyLen
// in bytes.
type Params struct {
	Time    uint32 // number of passes over memory
	Memory  uint32 // memory in KiB
	Threads uint8  // degree of parallelism (lanes)
	SaltLen uint32 // salt length in bytes
	KeyLen  uint32 // derived key length in bytes
}

// DefaultParams are the argon2id parameters for new password hashes: the
// OWASP minimum of t=2, m=19 MiB, p=1, with a 16-byte salt and a 32-byte key.
// Hashes encoded with weaker parameters are reported by [VerifyPassword] as
// needing a rehash.
//
// DefaultParams is a value meant to be copied (HashPassword(pw, DefaultParams));
// it must never be assigned to or modified.
var DefaultParams = Params{Time: 2, Memory: 19 * 1024, Threads: 1, SaltLen: 16, KeyLen: 32}

// Bounds on parameters and inputs accepted by HashPassword and
// VerifyPassword. The upper bounds keep a corrupt or hostile encoded hash from
// making a single verification allocate gigabytes or run for minutes.
const (
	// MaxPasswordBytes is the longest password, in bytes, that is accepted.
	MaxPasswordBytes = 1024
	// MinPasswordRunes is the shortest password, in characters, allowed by
	// CheckPasswordPolicy.
	MinPasswordRunes = 12

	minSaltLen = 8
	maxSaltLen = 64
	minKeyLen  = 16
	maxKeyLen  = 64
	maxTime    = 32
	maxMemory  = 1 << 20 // KiB, i.e. 1 GiB
	maxEncoded = 512     // bytes of a PHC string; real ones are ~100
)

// ErrMalformedHash is wrapped by every error VerifyPassword returns for an
// encoded hash that cannot be parsed; the message says which part is wrong.
var ErrMalformedHash = errors.New("auth: malformed password hash")

// validate reports whether p can be used to hash or verify a password.
func (p Params) validate() error {
	switch {
	case p.Time < 1 || p.Time > maxTime:
		return fmt.Errorf("time t=%d out of range [1, %d]", p.Time, maxTime)
	case p.Threads < 1:
		return fmt.Errorf("threads p=%d out of range [1, 255]", p.Threads)
	case p.Memory < 8*uint32(p.Threads) || p.Memory > maxMemory:
		return fmt.Errorf("memory m=%d KiB out of range [%d, %d]", p.Memory, 8*uint32(p.Threads), maxMemory)
	case p.SaltLen < minSaltLen || p.SaltLen > maxSaltLen:
		return fmt.Errorf("salt length %d out of range [%d, %d]", p.SaltLen, minSaltLen, maxSaltLen)
	case p.KeyLen < minKeyLen || p.KeyLen > maxKeyLen:
		return fmt.Errorf("key length %d out of range [%d, %d]", p.KeyLen, minKeyLen, maxKeyLen)
	}
	return nil
}

// weakerThan reports whether p costs an attacker less than q. Threads are
// not compared: more lanes over the same memory and passes are not weaker.
func (p Params) weakerThan(q Params) bool {
	return p.Time < q.Time || p.Memory < q.Memory || p.SaltLen < q.SaltLen || p.KeyLen < q.KeyLen
}

// HashPassword hashes password with argon2id and a fresh random salt and
// returns it in PHC string format:
//
//	$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>
//
// with salt and hash in unpadded standard base64. It returns an error if
// password is empty or longer than MaxPasswordBytes, if p is out of range, or
// if the system random source fails. It does not apply CheckPasswordPolicy.
// It is safe for concurrent use; each call allocates p.Memory KiB.
func HashPassword(password string, p Params) (string, error) {
	if password == "" {
		return "", errors.New("auth: hash password: empty password")
	}
	if len(password) > MaxPasswordBytes {
		return "", fmt.Errorf("auth: hash password: password longer than %d bytes", MaxPasswordBytes)
	}
	if err := p.validate(); err != nil {
		return "", fmt.Errorf("auth: hash password: %w", err)
	}
	salt := make([]byte, p.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("auth: hash password: read salt: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// VerifyPassword reports whether password matches encoded, a PHC string
// produced by HashPassword. The derived key is compared in constant time.
//
// needsRehash is true only when ok is true and encoded uses parameters weaker
// than DefaultParams; the caller should then store a fresh HashPassword of
// the (now known good) password.
//
// err is non-nil, wrapping ErrMalformedHash, when encoded cannot be parsed or
// its parameters are out of range; the message says which part is wrong. A
// wrong password is not an error. A password longer than MaxPasswordBytes
// never matches. VerifyPassword is safe for concurrent use.
func VerifyPassword(password, encoded string) (ok bool, needsRehash bool, err error) {
	p, salt, want, err := decodeHash(encoded)
	if err != nil {
		return false, false, err
	}
	if len(password) > MaxPasswordBytes {
		return false, false, nil
	}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	if subtle.ConstantTimeCompare(got, want) != 1 {
		return false, false, nil
	}
	return true, p.weakerThan(DefaultParams), nil
}

// DummyVerify spends the same time and memory as VerifyPassword of password
// against a hash made with DefaultParams, and discards the result. Call it
// when a login names an unknown user, so response timing does not reveal
// which user names exist. (Hashes stored with parameters other than
// DefaultParams take correspondingly different time; VerifyPassword's
// needsRehash moves them to DefaultParams over time.) It is safe for
// concurrent use.
func DummyVerify(password string) {
	p := DefaultParams
	if len(password) > MaxPasswordBytes {
		return // VerifyPassword also returns early for these
	}
	salt := make([]byte, p.SaltLen)
	want := make([]byte, p.KeyLen)
	got := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	// The result is irrelevant; the comparison only mirrors VerifyPassword's work.
	subtle.ConstantTimeCompare(got, want)
}

// decodeHash parses a PHC argon2id string into its parameters, salt and key.
func decodeHash(encoded string) (Params, []byte, []byte, error) {
	malformed := func(format string, args ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrMalformedHash}, args...)...)
	}
	var p Params
	if len(encoded) > maxEncoded {
		return p, nil, nil, malformed("longer than %d bytes", maxEncoded)
	}
	// The base64 decoder silently skips CR and LF; refuse them (and any other
	// whitespace or control byte) so that only one spelling of a hash is valid.
	for i := 0; i < len(encoded); i++ {
		if c := encoded[i]; c <= ' ' || c >= 0x7f {
			return p, nil, nil, malformed("invalid byte %#02x at offset %d", c, i)
		}
	}
	// "$argon2id$v=19$m=..,t=..,p=..$salt$hash" splits into 6 fields, the
	// first one empty.
	if !strings.HasPrefix(encoded, "$") {
		return p, nil, nil, malformed("does not start with '$'")
	}
	f := strings.Split(encoded, "$")
	if len(f) != 6 {
		return p, nil, nil, malformed("has %d '$'-separated fields, want 5 ($argon2id$v=19$m=<m>,t=<t>,p=<p>$<salt>$<hash>)", len(f)-1)
	}
	if f[1] != "argon2id" {
		return p, nil, nil, malformed("unsupported algorithm %q, want argon2id", f[1])
	}
	vs, found := strings.CutPrefix(f[2], "v=")
	if !found {
		return p, nil, nil, malformed("version field %q, want v=%d", f[2], argon2.Version)
	}
	if v, err := parseDecimal(vs); err != nil || v != argon2.Version {
		return p, nil, nil, malformed("unsupported version %q, want %d", vs, argon2.Version)
	}
	params := strings.Split(f[3], ",")
	if len(params) != 3 {
		return p, nil, nil, malformed("parameter field %q, want m=<m>,t=<t>,p=<p>", f[3])
	}
	var threads uint32
	for i, dst := range []*uint32{&p.Memory, &p.Time, &threads} {
		name := [...]string{"m", "t", "p"}[i]
		vs, found := strings.CutPrefix(params[i], name+"=")
		if !found {
			return p, nil, nil, malformed("parameter %d is %q, want %s=<number>", i+1, params[i], name)
		}
		v, err := parseDecimal(vs)
		if err != nil {
			return p, nil, nil, malformed("parameter %s: %v", name, err)
		}
		*dst = v
	}
	if threads > 255 {
		return p, nil, nil, malformed("threads p=%d out of range [1, 255]", threads)
	}
	p.Threads = uint8(threads)
	b64 := base64.RawStdEncoding.Strict()
	salt, err := b64.DecodeString(f[4])
	if err != nil {
		return p, nil, nil, malformed("salt is not unpadded standard base64: %v", err)
	}
	key, err := b64.DecodeString(f[5])
	if err != nil {
		return p, nil, nil, malformed("hash is not unpadded standard base64: %v", err)
	}
	p.SaltLen, p.KeyLen = uint32(len(salt)), uint32(len(key))
	if err := p.validate(); err != nil {
		return p, nil, nil, malformed("%v", err)
	}
	return p, salt, key, nil
}

// parseDecimal parses a canonical unsigned decimal uint32: digits only, no
// sign and no leading zeros.
func parseDecimal(s string) (uint32, error) {
	if s == "" {
		return 0, errors.New("empty number")
	}
	if len(s) > 1 && s[0] == '0' {
		return 0, fmt.Errorf("number %q has leading zeros", s)
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, fmt.Errorf("%q is not a decimal number", s)
		}
	}
	v, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("number %q out of range", s)
	}
	return uint32(v), nil
}

// PolicyError is returned by CheckPasswordPolicy. Reason is a lowercase,
// user-facing sentence fragment saying what is wrong, suitable for showing
// to the person choosing the password.
type PolicyError struct {
	Reason string
}

// Error returns "auth: weak password: " followed by Reason.
func (e *PolicyError) Error() string { return "auth: weak password: " + e.Reason }

// CheckPasswordPolicy returns nil if password is acceptable for a new
// account password, or a *PolicyError whose Reason says what is wrong.
// A password must be valid UTF-8, at least MinPasswordRunes characters
// (runes), at most MaxPasswordBytes bytes, not a single character repeated
// (ignoring case), and not one of a small built-in list of very common
// passwords (ignoring case). It is safe for concurrent use.
func CheckPasswordPolicy(password string) error {
	if len(password) > MaxPasswordBytes {
		return &PolicyError{fmt.Sprintf("password must be at most %d bytes long", MaxPasswordBytes)}
	}
	if !utf8.ValidString(password) {
		return &PolicyError{"password must be valid utf-8 text"}
	}
	if n := utf8.RuneCountInString(password); n < MinPasswordRunes {
		return &PolicyError{fmt.Sprintf("password must be at least %d characters long, got %d", MinPasswordRunes, n)}
	}
	lower := strings.ToLower(password)
	first, _ := utf8.DecodeRuneInString(lower) // valid and non-empty: checked above
	if strings.Trim(lower, string(first)) == "" {
		return &PolicyError{"password must not be a single repeated character"}
	}
	for common := range strings.SplitSeq(commonPasswords, "\n") {
		if lower == common {
			return &PolicyError{"password is too common, choose a less predictable one"}
		}
	}
	return nil
}

// commonPasswords lists, one per line in lowercase, very common passwords
// that satisfy the length rule and so would otherwise be accepted. It is a
// constant so that it cannot be modified.
const commonPasswords = `123456789012
1234567890123
12345678901234
123123123123
1q2w3e4r5t6y
1qaz2wsx3edc
zaq12wsxcde3
qwerty123456
qwertyuiop123
qwertyuiopasdfgh
asdfghjkl123
abcdefghijkl
abc123abc123
password1234
password123!
passw0rd1234
p@ssw0rd1234
passwordpassword
iloveyou1234
letmein12345
welcome12345
changeme1234
administrator
adminadmin123
trustno1trustno1
football1234
baseball1234
monkey123456
superman1234
sunshine1234
princess1234
dragon123456
correcthorsebatterystaple`
