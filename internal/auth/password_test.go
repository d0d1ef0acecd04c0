package auth

import (
	"errors"
	"strings"
	"testing"
)

// cheapParams keep most tests fast; DefaultParams is exercised once.
var cheapParams = Params{Time: 1, Memory: 64, Threads: 1, SaltLen: 16, KeyLen: 32}

func mustHash(tb testing.TB, password string, p Params) string {
	tb.Helper()
	h, err := HashPassword(password, p)
	if err != nil {
		tb.Fatalf("HashPassword(%q, %+v) error = %v", password, p, err)
	}
	return h
}

func TestHashPasswordRoundTrip(t *testing.T) {
	for _, pw := range []string{"a", "correct horse battery staple", "пароль-с-юникодом", strings.Repeat("x", MaxPasswordBytes)} {
		h := mustHash(t, pw, cheapParams)
		if !strings.HasPrefix(h, "$argon2id$v=19$m=64,t=1,p=1$") {
			t.Errorf("HashPassword(%.20q) = %q, want prefix $argon2id$v=19$m=64,t=1,p=1$", pw, h)
		}
		ok, _, err := VerifyPassword(pw, h)
		if !ok || err != nil {
			t.Errorf("VerifyPassword(%.20q, %q) = %v, %v, want true, nil", pw, h, ok, err)
		}
		for _, wrong := range []string{pw + "x", strings.ToUpper(pw), "", pw[:len(pw)-1]} {
			if wrong == pw {
				continue
			}
			ok, rehash, err := VerifyPassword(wrong, h)
			if ok || rehash || err != nil {
				t.Errorf("VerifyPassword(%.20q, hash of %.20q) = %v, %v, %v, want false, false, nil", wrong, pw, ok, rehash, err)
			}
		}
	}
}

func TestHashPasswordSalted(t *testing.T) {
	a, b := mustHash(t, "same password", cheapParams), mustHash(t, "same password", cheapParams)
	if a == b {
		t.Errorf("HashPassword twice = %q and %q, want different (random salt)", a, b)
	}
}

func TestHashPasswordDefaultParams(t *testing.T) {
	h := mustHash(t, "correct horse battery staple", DefaultParams)
	if want := "$argon2id$v=19$m=19456,t=2,p=1$"; !strings.HasPrefix(h, want) {
		t.Errorf("HashPassword(_, DefaultParams) = %q, want prefix %q", h, want)
	}
	ok, rehash, err := VerifyPassword("correct horse battery staple", h)
	if !ok || rehash || err != nil {
		t.Errorf("VerifyPassword(_, default hash) = %v, %v, %v, want true, false, nil", ok, rehash, err)
	}
	if DefaultParams != (Params{Time: 2, Memory: 19456, Threads: 1, SaltLen: 16, KeyLen: 32}) {
		t.Errorf("DefaultParams = %+v, want OWASP minimum t=2 m=19456 p=1 salt 16 key 32", DefaultParams)
	}
}

// TestVerifyPasswordInterop checks a hash made by another implementation
// (the argon2-cffi documentation example, Python/C reference code).
func TestVerifyPasswordInterop(t *testing.T) {
	const h = "$argon2id$v=19$m=65536,t=3,p=4$MIIRqgvgQbgj220jfp0MPA$YfwJSVjtjSU0zzV/P3S9nnQ/USre2wvJMjfCIjrTQbg"
	ok, rehash, err := VerifyPassword("correct horse battery staple", h)
	if !ok || rehash || err != nil {
		t.Errorf("VerifyPassword(_, %q) = %v, %v, %v, want true, false, nil", h, ok, rehash, err)
	}
}

func TestVerifyPasswordNeedsRehash(t *testing.T) {
	h := mustHash(t, "some password", cheapParams)
	ok, rehash, err := VerifyPassword("some password", h)
	if !ok || !rehash || err != nil {
		t.Errorf("VerifyPassword(_, cheap hash) = %v, %v, %v, want true, true, nil", ok, rehash, err)
	}
}

func TestParamsWeakerThan(t *testing.T) {
	d := DefaultParams
	with := func(f func(*Params)) Params { p := d; f(&p); return p }
	tests := []struct {
		name string
		p    Params
		want bool
	}{
		{"default", d, false},
		{"less_time", with(func(p *Params) { p.Time = 1 }), true},
		{"less_memory", with(func(p *Params) { p.Memory = 19455 }), true},
		{"shorter_salt", with(func(p *Params) { p.SaltLen = 8 }), true},
		{"shorter_key", with(func(p *Params) { p.KeyLen = 16 }), true},
		{"more_threads", with(func(p *Params) { p.Threads = 4 }), false},
		{"stronger", Params{Time: 3, Memory: 65536, Threads: 4, SaltLen: 16, KeyLen: 32}, false},
		{"mixed", Params{Time: 10, Memory: 8192, Threads: 1, SaltLen: 16, KeyLen: 32}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.p.weakerThan(d); got != tt.want {
				t.Errorf("%+v.weakerThan(DefaultParams) = %v, want %v", tt.p, got, tt.want)
			}
		})
	}
}

func TestVerifyPasswordMalformed(t *testing.T) {
	const (
		salt = "c29tZXNhbHRzb21lc2FsdA"                      // 16 bytes
		key  = "YfwJSVjtjSU0zzV/P3S9nnQ/USre2wvJMjfCIjrTQbg" // 32 bytes
	)
	tests := []struct {
		name, encoded, want string
	}{
		{"empty", "", "does not start with '$'"},
		{"no_leading_dollar", "argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + key, "does not start with '$'"},
		{"too_few_fields", "$argon2id$v=19$m=64,t=1,p=1$" + salt, "has 4 '$'-separated fields"},
		{"too_many_fields", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + key + "$", "has 6 '$'-separated fields"},
		{"algorithm_argon2i", "$argon2i$v=19$m=64,t=1,p=1$" + salt + "$" + key, `unsupported algorithm "argon2i"`},
		{"algorithm_bcrypt", "$2b$v=19$m=64,t=1,p=1$" + salt + "$" + key, `unsupported algorithm "2b"`},
		{"version_missing", "$argon2id$m=64,t=1,p=1$" + salt + "$" + key + "$x", "version field"},
		{"version_field", "$argon2id$19$m=64,t=1,p=1$" + salt + "$" + key, `version field "19"`},
		{"version_16", "$argon2id$v=16$m=64,t=1,p=1$" + salt + "$" + key, `unsupported version "16"`},
		{"version_text", "$argon2id$v=x$m=64,t=1,p=1$" + salt + "$" + key, `unsupported version "x"`},
		{"params_count", "$argon2id$v=19$m=64,t=1$" + salt + "$" + key, "parameter field"},
		{"params_order", "$argon2id$v=19$t=1,m=64,p=1$" + salt + "$" + key, `parameter 1 is "t=1", want m=`},
		{"param_empty", "$argon2id$v=19$m=,t=1,p=1$" + salt + "$" + key, "parameter m: empty number"},
		{"param_negative", "$argon2id$v=19$m=64,t=-1,p=1$" + salt + "$" + key, `parameter t: "-1" is not a decimal number`},
		{"param_plus", "$argon2id$v=19$m=+64,t=1,p=1$" + salt + "$" + key, `parameter m: "+64" is not a decimal number`},
		{"param_leading_zero", "$argon2id$v=19$m=064,t=1,p=1$" + salt + "$" + key, "leading zeros"},
		{"param_overflow", "$argon2id$v=19$m=4294967296,t=1,p=1$" + salt + "$" + key, "out of range"},
		{"time_zero", "$argon2id$v=19$m=64,t=0,p=1$" + salt + "$" + key, "time t=0 out of range"},
		{"time_huge", "$argon2id$v=19$m=64,t=1000,p=1$" + salt + "$" + key, "time t=1000 out of range"},
		{"threads_zero", "$argon2id$v=19$m=64,t=1,p=0$" + salt + "$" + key, "threads p=0 out of range"},
		{"threads_256", "$argon2id$v=19$m=4096,t=1,p=256$" + salt + "$" + key, "threads p=256 out of range"},
		{"memory_tiny", "$argon2id$v=19$m=7,t=1,p=1$" + salt + "$" + key, "memory m=7 KiB out of range"},
		{"memory_huge", "$argon2id$v=19$m=4194304,t=1,p=1$" + salt + "$" + key, "memory m=4194304 KiB out of range"},
		{"salt_bad_base64", "$argon2id$v=19$m=64,t=1,p=1$not*base64$" + key, "salt is not unpadded standard base64"},
		{"salt_padded", "$argon2id$v=19$m=64,t=1,p=1$c29tZXNhbHRzb21lc2FsdA==$" + key, "salt is not unpadded standard base64"},
		{"salt_urlsafe", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$YfwJSVjtjSU0zzV_P3S9nnQ_USre2wvJMjfCIjrTQbg", "hash is not unpadded standard base64"},
		{"salt_short", "$argon2id$v=19$m=64,t=1,p=1$c2FsdA$" + key, "salt length 4 out of range"},
		{"salt_empty", "$argon2id$v=19$m=64,t=1,p=1$$" + key, "salt length 0 out of range"},
		{"hash_bad_base64", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$!!!", "hash is not unpadded standard base64"},
		{"hash_short", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$c2FsdA", "key length 4 out of range"},
		{"hash_empty", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$", "key length 0 out of range"},
		{"newline", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + key[:10] + "\n" + key[10:], "invalid byte 0x0a at offset 61"},
		{"space", " $argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + key, "invalid byte 0x20 at offset 0"},
		{"non_ascii", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + key + "é", "invalid byte 0xc3"},
		{"too_long", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + strings.Repeat("A", 600), "longer than 512 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, rehash, err := VerifyPassword("password", tt.encoded)
			if ok || rehash || err == nil || !strings.Contains(err.Error(), tt.want) || !errors.Is(err, ErrMalformedHash) {
				t.Errorf("VerifyPassword(_, %q) = %v, %v, %v, want false, false, ErrMalformedHash containing %q", tt.encoded, ok, rehash, err, tt.want)
			}
		})
	}
	// Sanity check that the parts used above are valid together, so each
	// case fails only for the part it changes.
	if _, _, err := VerifyPassword("password", "$argon2id$v=19$m=64,t=1,p=1$"+salt+"$"+key); err != nil {
		t.Errorf("VerifyPassword(_, well-formed) error = %v, want nil", err)
	}
}

func TestHashPasswordErrors(t *testing.T) {
	tests := []struct {
		name, password string
		p              Params
		want           string
	}{
		{"empty_password", "", cheapParams, "empty password"},
		{"long_password", strings.Repeat("a", MaxPasswordBytes+1), cheapParams, "longer than 1024 bytes"},
		{"zero_params", "password", Params{}, "time t=0 out of range"},
		{"zero_threads", "password", Params{Time: 1, Memory: 64, SaltLen: 16, KeyLen: 32}, "threads p=0"},
		{"memory_below_8p", "password", Params{Time: 1, Memory: 31, Threads: 4, SaltLen: 16, KeyLen: 32}, "memory m=31 KiB out of range [32,"},
		{"short_salt", "password", Params{Time: 1, Memory: 64, Threads: 1, SaltLen: 4, KeyLen: 32}, "salt length 4"},
		{"short_key", "password", Params{Time: 1, Memory: 64, Threads: 1, SaltLen: 16, KeyLen: 8}, "key length 8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := HashPassword(tt.password, tt.p)
			if err == nil || !strings.HasPrefix(err.Error(), "auth: hash password: ") || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("HashPassword(%.20q, %+v) = %q, %v, want error containing %q", tt.password, tt.p, h, err, tt.want)
			}
		})
	}
}

func TestVerifyPasswordTooLong(t *testing.T) {
	long := strings.Repeat("a", MaxPasswordBytes+1)
	h := mustHash(t, long[:MaxPasswordBytes], cheapParams)
	if ok, _, err := VerifyPassword(long, h); ok || err != nil {
		t.Errorf("VerifyPassword(%d bytes, _) = %v, %v, want false, nil", len(long), ok, err)
	}
}

func TestDummyVerify(t *testing.T) {
	// DummyVerify has no result; check it runs for ordinary and edge inputs.
	for _, pw := range []string{"", "password", strings.Repeat("a", MaxPasswordBytes+1)} {
		DummyVerify(pw)
	}
}

func TestCheckPasswordPolicy(t *testing.T) {
	tests := []struct {
		name, password string
		want           string // substring of the reason; "" means acceptable
	}{
		{"empty", "", "at least 12 characters long, got 0"},
		{"short", "abc", "at least 12 characters long, got 3"},
		{"eleven", "abcdefghij1", "got 11"},
		{"twelve_runes_multibyte", "日本語のパスワードですよね", ""},
		{"short_runes_many_bytes", "日本語のパスワード", "got 9"}, // 27 bytes, 9 runes
		{"ok", "tulip-anvil-orbit", ""},
		{"ok_spaces", "four words with spaces", ""},
		{"max_bytes", strings.Repeat("ab", MaxPasswordBytes/2), ""},
		{"too_long", strings.Repeat("ab", MaxPasswordBytes/2) + "c", "at most 1024 bytes"},
		{"invalid_utf8", "abcdefghijkl\xff", "valid utf-8"},
		{"repeated", "aaaaaaaaaaaa", "single repeated character"},
		{"repeated_mixed_case", "aaaaAAAAaaaa", "single repeated character"},
		{"repeated_multibyte", "ääääääääääää", "single repeated character"},
		{"almost_repeated", "aaaaaaaaaaab", ""},
		{"common", "password1234", "too common"},
		{"common_upper", "Password1234", "too common"},
		{"common_keyboard", "1qaz2wsx3edc", "too common"},
		{"common_suffix_ok", "password1234x", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckPasswordPolicy(tt.password)
			if tt.want == "" {
				if err != nil {
					t.Errorf("CheckPasswordPolicy(%.30q) = %v, want nil", tt.password, err)
				}
				return
			}
			var pe *PolicyError
			if !errors.As(err, &pe) || !strings.Contains(pe.Reason, tt.want) || strings.ToLower(pe.Reason) != pe.Reason {
				t.Errorf("CheckPasswordPolicy(%.30q) = %v, want lowercase *PolicyError containing %q", tt.password, err, tt.want)
			}
		})
	}
}

func TestCommonPasswordsList(t *testing.T) {
	list := strings.Split(commonPasswords, "\n")
	if len(list) < 30 {
		t.Errorf("len(commonPasswords) = %d, want >= 30", len(list))
	}
	for _, pw := range list {
		// Every entry must be one the length rule would otherwise accept;
		// shorter entries would be dead weight.
		err := CheckPasswordPolicy(pw)
		var pe *PolicyError
		if !errors.As(err, &pe) || !strings.Contains(pe.Reason, "too common") || pw != strings.ToLower(pw) {
			t.Errorf("CheckPasswordPolicy(%q) = %v, want lowercase entry rejected as too common", pw, err)
		}
	}
}

func BenchmarkHashPassword(b *testing.B) {
	for b.Loop() {
		if _, err := HashPassword("correct horse battery staple", DefaultParams); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyPassword(b *testing.B) {
	h := mustHash(b, "correct horse battery staple", DefaultParams)
	for b.Loop() {
		if _, _, err := VerifyPassword("correct horse battery staple", h); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDummyVerify(b *testing.B) {
	for b.Loop() {
		DummyVerify("correct horse battery staple")
	}
}
