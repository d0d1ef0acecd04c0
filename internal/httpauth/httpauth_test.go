package httpauth

import (
	"context"
	"crypto/tls"
	"io"
	"log/slog"
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"focal/internal/auth"
	"focal/internal/focal"
	"focal/internal/store"
	"focal/internal/store/storetest"
)

func TestSecureAndClientAddr(t *testing.T) {
	a := &Authenticator{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/24")}}
	tests := []struct {
		name, remote, xff, proto string
		tls                      bool
		secure                   bool
		client                   string
	}{
		{"direct-http", "203.0.113.5:4000", "", "", false, false, "203.0.113.5"},
		{"direct-tls", "203.0.113.5:4000", "", "", true, true, "203.0.113.5"},
		{"trusted-proxy-https", "10.0.0.2:5000", "198.51.100.7", "https", false, true, "198.51.100.7"},
		{"trusted-proxy-http", "10.0.0.2:5000", "198.51.100.7", "http", false, false, "198.51.100.7"},
		{"untrusted-claims", "203.0.113.9:5000", "198.51.100.7", "https", false, false, "203.0.113.9"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tt.remote
			if tt.xff != "" {
				r.Header.Set("X-Forwarded-For", tt.xff)
			}
			if tt.proto != "" {
				r.Header.Set("X-Forwarded-Proto", tt.proto)
			}
			if tt.tls {
				r.TLS = &tls.ConnectionState{}
			}
			if got := a.secure(r); got != tt.secure {
				t.Errorf("secure(%s) = %v, want %v", tt.name, got, tt.secure)
			}
			if got := a.ClientAddr(r); got != tt.client {
				t.Errorf("ClientAddr(%s) = %q, want %q", tt.name, got, tt.client)
			}
		})
	}
}

func TestBasicAuth(t *testing.T) {
	st := storetest.Open(t, store.SQLite)
	sysCtx := focal.NewContextWithPrincipal(context.Background(), focal.System())
	hash, err := auth.HashPassword("s3cret-pw", auth.Params{Time: 1, Memory: 64, Threads: 1, SaltLen: 16, KeyLen: 32})
	if err != nil {
		t.Fatal(err)
	}
	u := &focal.User{Name: "peer1", Role: focal.RolePeer}
	if err := st.CreateUser(sysCtx, u, hash); err != nil {
		t.Fatal(err)
	}
	a := New(st, slog.New(slog.NewTextHandler(io.Discard, nil)))
	// One verification per minute: a second one inside the minute is
	// refused, so only the cache can let a second request through.
	now := time.Now()
	clock := func() time.Time { return now }
	a.Limiter = auth.NewLimiter(auth.LimiterConfig{Rate: rate.Every(time.Minute), Burst: 1, FailuresBeforeLockout: -1, Now: clock})
	a.basic.now = clock
	req := func(path, name, password string) (focal.Principal, error) {
		r := httptest.NewRequest("GET", path, nil)
		r.SetBasicAuth(name, password)
		p, _, err := a.Authenticate(r)
		return p, err
	}
	if p, err := req("/taxii2/", "peer1", "s3cret-pw"); err != nil || p.UserID != u.ID {
		t.Fatalf("Basic with right credentials = %+v, %v", p, err)
	}
	for i := range 3 {
		if p, err := req("/taxii2/focal/collections/", "Peer1", "s3cret-pw"); err != nil || p.UserID != u.ID {
			t.Fatalf("cached Basic #%d = %+v, %v", i, p, err)
		}
	}
	if _, err := req("/api/v1/me", "peer1", "s3cret-pw"); focal.ErrorCode(err) != focal.EUNAUTHORIZED {
		t.Errorf("Basic outside /taxii2/ = %v, want EUNAUTHORIZED", err)
	}
	// The push hint takes the credentials the peer polls with.
	if p, err := req(HintPath, "peer1", "s3cret-pw"); err != nil || p.UserID != u.ID {
		t.Errorf("Basic on the hint path = %+v, %v", p, err)
	}
	if _, err := req(HintPath+"/x", "peer1", "s3cret-pw"); focal.ErrorCode(err) != focal.EUNAUTHORIZED {
		t.Errorf("Basic below the hint path = %v, want EUNAUTHORIZED", err)
	}
	// Past the cache TTL, the limiter's next token is needed again.
	now = now.Add(2 * basicCacheTTL)
	if _, err := req("/taxii2/", "peer1", "s3cret-pw"); err != nil {
		t.Errorf("Basic after the cache TTL, with a token = %v", err)
	}
	a.Limiter = auth.NewLimiter(auth.LimiterConfig{Burst: 100, FailuresBeforeLockout: -1})
	if _, err := req("/taxii2/", "peer1", "wrong"); focal.ErrorCode(err) != focal.EUNAUTHORIZED {
		t.Errorf("Basic with a wrong password = %v, want EUNAUTHORIZED", err)
	}
	if _, err := req("/taxii2/", "nobody", "x"); focal.ErrorCode(err) != focal.EUNAUTHORIZED {
		t.Errorf("Basic of an unknown account = %v, want EUNAUTHORIZED", err)
	}
	// A changed password misses the cache at once.
	newHash, err := auth.HashPassword("other-pw", auth.Params{Time: 1, Memory: 64, Threads: 1, SaltLen: 16, KeyLen: 32})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.SetPassword(sysCtx, u.ID, newHash, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := req("/taxii2/", "peer1", "s3cret-pw"); focal.ErrorCode(err) != focal.EUNAUTHORIZED {
		t.Errorf("Basic with the old password after a change = %v, want EUNAUTHORIZED", err)
	}
	// Too many attempts: ETOOMANY.
	a.Limiter = auth.NewLimiter(auth.LimiterConfig{Rate: rate.Every(time.Hour), Burst: 1, FailuresBeforeLockout: -1})
	_, _ = req("/taxii2/", "peer1", "wrong")
	if _, err := req("/taxii2/", "peer1", "wrong"); focal.ErrorCode(err) != focal.ETOOMANY {
		t.Errorf("Basic over the rate limit = %v, want ETOOMANY", err)
	}
}
