// Package httpauth identifies the callers of focal's HTTP surfaces: browser
// sessions (an opaque cookie whose hash is stored server-side), API
// tokens (Authorization: Bearer) and, for TAXII clients under /taxii2/
// only, HTTP Basic name and password; and it logs people in and out with rate
// limits per client address and per account. It turns credentials into a
// focal.Principal; what the principal may do is decided by focal.Authorize.
//
// An Authenticator is safe for concurrent use once its fields are set.
package httpauth

import (
	"context"
	"crypto/sha256"
	"errors"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"time"

	"focal/internal/auth"
	"focal/internal/focal"
	"focal/internal/store"
)

// CookieName is the session cookie.
const CookieName = "focal_session"

// Authenticator authenticates requests against the store.
type Authenticator struct {
	Store          *store.Store
	Logger         *slog.Logger
	SessionTTL     time.Duration  // default 12 h
	Limiter        *auth.Limiter  // login attempts per "ip:…" and "user:…"; required
	TrustedProxies []netip.Prefix // peers whose X-Forwarded-For is believed
	// hashing bounds concurrent argon2id verifications (about 20 MB each).
	hashing chan struct{}
	// basic remembers recent HTTP Basic verifications.
	basic basicCache
}

// BasicPathPrefix is where HTTP Basic credentials are accepted: the TAXII
// server, whose clients (taxii2-client, OpenCTI, Sentinel…) send them on
// every request. Everywhere else Basic is refused, but for HintPath.
const BasicPathPrefix = "/taxii2/"

// HintPath is the federation's push hint, which a peer sends with the
// credentials it polls us with — Basic ones included.
const HintPath = "/api/v1/federation/hint"

// basicPath reports whether Basic credentials are accepted on path:
// under BasicPathPrefix, the prefix without its slash (redirected), or
// the push hint.
func basicPath(path string) bool {
	return strings.HasPrefix(path, BasicPathPrefix) || path == strings.TrimSuffix(BasicPathPrefix, "/") || path == HintPath
}

// basicCacheTTL is how long a verified Basic credential is trusted
// without running argon2id again, so a polling peer does not pay ~40 ms
// of hashing per request; basicCacheMax bounds the entries.
const (
	basicCacheTTL = 60 * time.Second
	basicCacheMax = 4096
)

// basicCache maps sha256(name, password) to the stored password hash it
// was verified against and until when. A changed password (another stored
// hash) or a disabled account misses at once. The zero value is ready.
type basicCache struct {
	mu      sync.Mutex
	entries map[[32]byte]basicEntry
	now     func() time.Time // nil: time.Now; for tests
}

type basicEntry struct {
	hash  string
	until time.Time
}

func (c *basicCache) clock() time.Time {
	if c.now != nil {
		return c.now()
	}
	return time.Now()
}

func (c *basicCache) hit(key [32]byte, hash string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	return ok && e.hash == hash && c.clock().Before(e.until)
}

func (c *basicCache) put(key [32]byte, hash string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.clock()
	if c.entries == nil {
		c.entries = make(map[[32]byte]basicEntry)
	}
	if len(c.entries) >= basicCacheMax {
		for k, e := range c.entries {
			if !now.Before(e.until) {
				delete(c.entries, k)
			}
		}
		if len(c.entries) >= basicCacheMax {
			clear(c.entries)
		}
	}
	c.entries[key] = basicEntry{hash: hash, until: now.Add(basicCacheTTL)}
}

// New returns an Authenticator with default limits.
func New(st *store.Store, logger *slog.Logger) *Authenticator {
	return &Authenticator{
		Store:      st,
		Logger:     logger,
		SessionTTL: 12 * time.Hour,
		Limiter:    auth.NewLimiter(auth.DefaultLimiterConfig()),
		hashing:    make(chan struct{}, 2),
	}
}

// ClientAddr returns the client's address, believing X-Forwarded-For only
// from trusted proxies.
func (a *Authenticator) ClientAddr(r *http.Request) string {
	ip := auth.ClientIP(r.RemoteAddr, strings.Join(r.Header.Values("X-Forwarded-For"), ","), a.TrustedProxies)
	if !ip.IsValid() {
		return r.RemoteAddr
	}
	return ip.String()
}

// secure reports whether the client reached focal over HTTPS: directly,
// or through a trusted proxy that says so in X-Forwarded-Proto.
func (a *Authenticator) secure(r *http.Request) bool {
	if r.TLS != nil {
		return true
	}
	if r.Header.Get("X-Forwarded-Proto") != "https" {
		return false
	}
	peer, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	for _, p := range a.TrustedProxies {
		if p.Contains(peer.Addr().Unmap()) {
			return true
		}
	}
	return false
}

// Authenticate implements server.Server.Authenticate: a bearer token if the
// request carries one (and it must be valid), or under BasicPathPrefix
// HTTP Basic credentials (they must be right), else the session cookie (an
// invalid cookie just means anonymous), else the anonymous public.
func (a *Authenticator) Authenticate(r *http.Request) (focal.Principal, string, error) {
	remote := a.ClientAddr(r)
	ctx := r.Context()
	if h := r.Header.Get("Authorization"); h != "" {
		if len(h) > 6 && strings.EqualFold(h[:6], "basic ") && basicPath(r.URL.Path) {
			p, err := a.basicAuth(r, remote)
			return p, remote, err
		}
		tok, ok := auth.ParseBearer(h)
		if !ok {
			return focal.Anonymous(), remote, focal.Errorf(focal.EUNAUTHORIZED, "malformed Authorization header: want Bearer <token>")
		}
		u, t, err := a.Store.TokenUser(ctx, auth.HashToken(tok))
		if err != nil {
			return focal.Anonymous(), remote, err
		}
		p := u.Principal()
		p.Token, p.ReadOnly = true, t.Scope == "read"
		return p, remote, nil
	}
	if c, err := r.Cookie(CookieName); err == nil && c.Value != "" && len(c.Value) <= 128 {
		u, err := a.Store.SessionUser(ctx, auth.HashToken(c.Value))
		if err == nil {
			return u.Principal(), remote, nil
		}
		if focal.ErrorCode(err) != focal.EUNAUTHORIZED {
			return focal.Anonymous(), remote, err
		}
	}
	return focal.Anonymous(), remote, nil
}

// basicAuth verifies HTTP Basic credentials like Login does — the same
// rate limits per client address and account, the same bound on
// concurrent argon2id, the same work whether or not the account exists,
// failures audited — except that a credential verified in the last
// basicCacheTTL against the same stored hash is trusted without hashing.
// No session is started. Wrong credentials are EUNAUTHORIZED; too many
// attempts ETOOMANY.
func (a *Authenticator) basicAuth(r *http.Request, remote string) (focal.Principal, error) {
	ctx := r.Context()
	name, password, ok := r.BasicAuth()
	if !ok {
		return focal.Anonymous(), focal.Errorf(focal.EUNAUTHORIZED, "malformed Authorization header: want Basic <base64(name:password)>")
	}
	name = strings.ToLower(strings.TrimSpace(name))
	if len(password) > auth.MaxPasswordBytes || len(name) > 64 || name == "" {
		return focal.Anonymous(), focal.Errorf(focal.EUNAUTHORIZED, "wrong name or password")
	}
	key := sha256.Sum256([]byte(name + "\x00" + password))
	u, hash, err := a.Store.Credentials(ctx, name)
	if err != nil && focal.ErrorCode(err) != focal.ENOTFOUND {
		return focal.Anonymous(), err
	}
	if err == nil && hash != "" && !u.Disabled && a.basic.hit(key, hash) {
		return u.Principal(), nil
	}
	for _, k := range []string{"ip:" + remote, "user:" + name} {
		if ok, retry := a.Limiter.Allow(k); !ok {
			return focal.Anonymous(), focal.Errorf(focal.ETOOMANY, "too many login attempts; try again in %s", retry.Round(time.Second))
		}
	}
	if a.hashing != nil {
		select {
		case a.hashing <- struct{}{}:
		case <-ctx.Done():
			return focal.Anonymous(), ctx.Err()
		}
	}
	verified := false
	switch {
	case err == nil && hash != "" && !u.Disabled:
		var verr error
		verified, _, verr = auth.VerifyPassword(password, hash)
		if verr != nil {
			a.Logger.Error("stored password hash is malformed; login refused", "user", name, "err", verr)
		}
	default:
		auth.DummyVerify(password)
	}
	if a.hashing != nil {
		<-a.hashing
	}
	if !verified {
		for _, k := range []string{"ip:" + remote, "user:" + name} {
			a.Limiter.Failure(k)
		}
		if err := a.Store.RecordLogin(ctx, nil, name, false, ""); err != nil {
			a.Logger.Error("audit failed login", "err", err)
		}
		return focal.Anonymous(), focal.Errorf(focal.EUNAUTHORIZED, "wrong name or password")
	}
	a.Limiter.Success("user:" + name)
	a.basic.put(key, hash)
	return u.Principal(), nil
}

// Login checks name and password, and on success starts a session and sets
// its cookie. It returns ETOOMANY when the client or the account is rate
// limited or locked out, and EUNAUTHORIZED for wrong credentials — the same
// error, after the same work, whether or not the account exists.
func (a *Authenticator) Login(w http.ResponseWriter, r *http.Request, name, password string) (*focal.User, error) {
	ctx := r.Context()
	remote := a.ClientAddr(r)
	name = strings.ToLower(strings.TrimSpace(name))
	for _, key := range []string{"ip:" + remote, "user:" + name} {
		if ok, retry := a.Limiter.Allow(key); !ok {
			return nil, focal.Errorf(focal.ETOOMANY, "too many login attempts; try again in %s", retry.Round(time.Second))
		}
	}
	if len(password) > auth.MaxPasswordBytes || len(name) > 64 {
		return nil, focal.Errorf(focal.EUNAUTHORIZED, "wrong name or password")
	}
	select {
	case a.hashing <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	u, hash, err := a.Store.Credentials(ctx, name)
	ok, rehash := false, false
	switch {
	case err == nil && hash != "" && !u.Disabled:
		var verr error
		ok, rehash, verr = auth.VerifyPassword(password, hash)
		if verr != nil {
			a.Logger.Error("stored password hash is malformed; login refused", "user", name, "err", verr)
		}
	case err == nil || focal.ErrorCode(err) == focal.ENOTFOUND:
		auth.DummyVerify(password)
		err = nil
	}
	<-a.hashing
	if err != nil {
		return nil, err
	}
	if !ok {
		for _, key := range []string{"ip:" + remote, "user:" + name} {
			a.Limiter.Failure(key)
		}
		if err := a.Store.RecordLogin(ctx, nil, name, false, ""); err != nil {
			a.Logger.Error("audit failed login", "err", err)
		}
		return nil, focal.Errorf(focal.EUNAUTHORIZED, "wrong name or password")
	}
	a.Limiter.Success("user:" + name)
	newHash := ""
	if rehash {
		if h, err := auth.HashPassword(password, auth.DefaultParams); err == nil {
			newHash = h
		}
	}
	if err := a.Store.RecordLogin(ctx, u, name, true, newHash); err != nil {
		return nil, err
	}
	if err := a.StartSession(ctx, w, r, u); err != nil {
		return nil, err
	}
	return u, nil
}

// StartSession creates a session for u and sets the cookie.
func (a *Authenticator) StartSession(ctx context.Context, w http.ResponseWriter, r *http.Request, u *focal.User) error {
	tok, hash, err := auth.NewToken(auth.SessionTokenPrefix)
	if err != nil {
		return err
	}
	if err := a.Store.CreateSession(ctx, u, hash, a.SessionTTL, a.ClientAddr(r), r.UserAgent()); err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{
		Name: CookieName, Value: tok, Path: "/", HttpOnly: true, Secure: a.secure(r),
		SameSite: http.SameSiteLaxMode, MaxAge: int(a.SessionTTL.Seconds()),
	})
	return nil
}

// SessionHash returns the stored hash of the request's session, or "".
func SessionHash(r *http.Request) string {
	c, err := r.Cookie(CookieName)
	if err != nil || c.Value == "" {
		return ""
	}
	return auth.HashToken(c.Value)
}

// Logout ends the request's session, if any, and clears the cookie.
func (a *Authenticator) Logout(w http.ResponseWriter, r *http.Request) error {
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: "", Path: "/", HttpOnly: true, Secure: a.secure(r), SameSite: http.SameSiteLaxMode, MaxAge: -1})
	h := SessionHash(r)
	if h == "" {
		return nil
	}
	err := a.Store.DeleteSession(r.Context(), h)
	if focal.ErrorCode(err) == focal.ENOTFOUND {
		return nil
	}
	return err
}

// SafeNext returns next if it is a local path (for redirects after login),
// else "/".
func SafeNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return "/"
	}
	u, err := url.Parse(next)
	if err != nil || u.Host != "" || u.Scheme != "" {
		return "/"
	}
	return next
}

// IsPolicyError reports whether err is a password-policy violation and
// returns its user-facing reason.
func IsPolicyError(err error) (string, bool) {
	var pe *auth.PolicyError
	if errors.As(err, &pe) {
		return pe.Reason, true
	}
	return "", false
}
