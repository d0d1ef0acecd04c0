package auth

import (
	"container/list"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// LimiterConfig configures a Limiter. A zero field takes its value from
// DefaultLimiterConfig.
type LimiterConfig struct {
	// Rate is the sustained number of attempts per second allowed per key;
	// rate.Inf disables the token bucket. Zero or negative means default.
	Rate rate.Limit
	// Burst is the number of attempts a key may make at once. Zero or
	// negative means default.
	Burst int
	// MaxKeys bounds memory: when a new key would exceed it, the least
	// recently used key is forgotten. Zero or negative means default.
	MaxKeys int
	// FailuresBeforeLockout is the number of consecutive failures after which
	// a key is locked out. Zero means default; negative disables lockout.
	FailuresBeforeLockout int
	// BaseLockout is the first lockout; each further failure doubles it.
	// Zero or negative means default.
	BaseLockout time.Duration
	// MaxLockout caps the lockout. Zero or negative means default; a value
	// below BaseLockout is raised to BaseLockout.
	MaxLockout time.Duration
	// Now returns the current time; nil means time.Now. For tests.
	Now func() time.Time
}

// DefaultLimiterConfig returns the configuration used for zero LimiterConfig
// fields: 5 attempts per minute with a burst of 5 per key, 10000 keys,
// lockout after 5 consecutive failures for 1 minute, doubling up to 15
// minutes.
func DefaultLimiterConfig() LimiterConfig {
	return LimiterConfig{
		Rate:                  rate.Every(12 * time.Second),
		Burst:                 5,
		MaxKeys:               10000,
		FailuresBeforeLockout: 5,
		BaseLockout:           time.Minute,
		MaxLockout:            15 * time.Minute,
		Now:                   time.Now,
	}
}

// Limiter throttles login attempts per key, such as "ip:203.0.113.5" or
// "user:alice". Each key has a token bucket, and a key that fails
// FailuresBeforeLockout times in a row is locked out for BaseLockout,
// doubling with each further failure up to MaxLockout.
//
// At most MaxKeys keys are remembered; beyond that the least recently used
// key is forgotten, which resets its bucket and failure count. Callers
// should therefore limit by client IP as well as by user name, so that an
// attacker cannot flush a user's lockout by cycling through many keys.
//
// A Limiter is safe for concurrent use and starts no goroutines; the zero
// value is not usable, create one with NewLimiter.
type Limiter struct {
	cfg LimiterConfig

	mu    sync.Mutex
	keys  map[string]*list.Element // value is *limiterEntry
	order *list.List               // front is most recently used
}

type limiterEntry struct {
	key         string
	bucket      *rate.Limiter
	failures    int
	lockedUntil time.Time
}

// NewLimiter returns a Limiter configured by cfg, with zero fields taken
// from DefaultLimiterConfig.
func NewLimiter(cfg LimiterConfig) *Limiter {
	def := DefaultLimiterConfig()
	if cfg.Rate <= 0 {
		cfg.Rate = def.Rate
	}
	if cfg.Burst <= 0 {
		cfg.Burst = def.Burst
	}
	if cfg.MaxKeys <= 0 {
		cfg.MaxKeys = def.MaxKeys
	}
	if cfg.FailuresBeforeLockout == 0 {
		cfg.FailuresBeforeLockout = def.FailuresBeforeLockout
	}
	if cfg.BaseLockout <= 0 {
		cfg.BaseLockout = def.BaseLockout
	}
	if cfg.MaxLockout <= 0 {
		cfg.MaxLockout = def.MaxLockout
	}
	cfg.MaxLockout = max(cfg.MaxLockout, cfg.BaseLockout)
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Limiter{cfg: cfg, keys: make(map[string]*list.Element), order: list.New()}
}

// Allow reports whether key may make an attempt now, and consumes one token
// from its bucket if so. When it returns false, retryAfter is how long until
// an attempt may succeed: the remaining lockout, or the time for the bucket
// to refill one token. A refused attempt consumes nothing.
func (l *Limiter) Allow(key string) (ok bool, retryAfter time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.cfg.Now()
	e := l.entry(key)
	if now.Before(e.lockedUntil) {
		return false, e.lockedUntil.Sub(now)
	}
	if l.cfg.Rate == rate.Inf {
		return true, 0
	}
	if tokens := e.bucket.TokensAt(now); tokens < 1 {
		wait := time.Duration((1 - tokens) / float64(l.cfg.Rate) * float64(time.Second))
		return false, max(wait, time.Nanosecond)
	}
	// Cannot fail: at least one token is available at now and we hold l.mu.
	e.bucket.AllowN(now, 1)
	return true, 0
}

// Failure records a failed attempt for key. Once key has failed
// FailuresBeforeLockout times in a row it is locked out for BaseLockout, and
// each further failure locks it for twice as long as the previous one, up to
// MaxLockout.
func (l *Limiter) Failure(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	e := l.entry(key)
	e.failures++
	n := l.cfg.FailuresBeforeLockout
	if n < 0 || e.failures < n {
		return
	}
	d := l.cfg.BaseLockout
	for i := n; i < e.failures && d < l.cfg.MaxLockout; i++ {
		if d > l.cfg.MaxLockout/2 {
			d = l.cfg.MaxLockout // also avoids overflow
			break
		}
		d *= 2
	}
	e.lockedUntil = l.cfg.Now().Add(min(d, l.cfg.MaxLockout))
}

// Success records a successful attempt for key, clearing its failure count
// and any lockout. Its token bucket is unaffected.
func (l *Limiter) Success(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if el, ok := l.keys[key]; ok {
		e := el.Value.(*limiterEntry)
		e.failures = 0
		e.lockedUntil = time.Time{}
		l.order.MoveToFront(el)
	}
}

// Len returns the number of keys currently remembered, at most MaxKeys.
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.keys)
}

// entry returns key's entry, creating it (and evicting the least recently
// used entry if full) when absent, and marks it most recently used. l.mu
// must be held.
func (l *Limiter) entry(key string) *limiterEntry {
	if el, ok := l.keys[key]; ok {
		l.order.MoveToFront(el)
		return el.Value.(*limiterEntry)
	}
	for len(l.keys) >= l.cfg.MaxKeys {
		oldest := l.order.Back()
		l.order.Remove(oldest)
		delete(l.keys, oldest.Value.(*limiterEntry).key)
	}
	e := &limiterEntry{key: key, bucket: rate.NewLimiter(l.cfg.Rate, l.cfg.Burst)}
	l.keys[key] = l.order.PushFront(e)
	return e
}
