package auth

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"golang.org/x/time/rate"
)

// fakeClock is a manually advanced clock for Limiter tests.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// wantAllow checks l.Allow(key), allowing retryAfter to differ from want by
// at most a millisecond (the token bucket computes in floating point).
func wantAllow(tb testing.TB, l *Limiter, key string, wantOK bool, wantRetry time.Duration) {
	tb.Helper()
	ok, retry := l.Allow(key)
	if ok != wantOK || (retry-wantRetry).Abs() > time.Millisecond {
		tb.Errorf("Allow(%q) = %v, %v, want %v, %v", key, ok, retry, wantOK, wantRetry)
	}
}

func TestLimiterBurstAndRefill(t *testing.T) {
	clk := newFakeClock()
	l := NewLimiter(LimiterConfig{Rate: rate.Every(time.Second), Burst: 3, FailuresBeforeLockout: -1, Now: clk.Now})
	for range 3 {
		wantAllow(t, l, "ip:a", true, 0)
	}
	wantAllow(t, l, "ip:a", false, time.Second)
	wantAllow(t, l, "ip:a", false, time.Second) // a refusal consumes nothing
	wantAllow(t, l, "ip:b", true, 0)            // keys are independent

	clk.Advance(400 * time.Millisecond)
	wantAllow(t, l, "ip:a", false, 600*time.Millisecond)
	clk.Advance(600 * time.Millisecond)
	wantAllow(t, l, "ip:a", true, 0)
	wantAllow(t, l, "ip:a", false, time.Second)

	clk.Advance(time.Hour) // refills to Burst, not beyond
	for range 3 {
		wantAllow(t, l, "ip:a", true, 0)
	}
	wantAllow(t, l, "ip:a", false, time.Second)
}

func TestLimiterInfRate(t *testing.T) {
	l := NewLimiter(LimiterConfig{Rate: rate.Inf, Burst: 1, FailuresBeforeLockout: -1, Now: newFakeClock().Now})
	for range 100 {
		wantAllow(t, l, "k", true, 0)
	}
}

func TestLimiterLockout(t *testing.T) {
	clk := newFakeClock()
	l := NewLimiter(LimiterConfig{
		Rate: rate.Inf, FailuresBeforeLockout: 3,
		BaseLockout: time.Minute, MaxLockout: 5 * time.Minute, Now: clk.Now,
	})
	l.Failure("user:alice")
	l.Failure("user:alice")
	wantAllow(t, l, "user:alice", true, 0)
	// Each failure from the 3rd on locks for Base doubled per extra failure,
	// capped at Max.
	for i, want := range []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute, 5 * time.Minute, 5 * time.Minute} {
		l.Failure("user:alice")
		t.Run(fmt.Sprintf("failure_%d", i+3), func(t *testing.T) {
			wantAllow(t, l, "user:alice", false, want)
			wantAllow(t, l, "user:bob", true, 0)
		})
	}
	clk.Advance(4 * time.Minute)
	wantAllow(t, l, "user:alice", false, time.Minute)
	clk.Advance(time.Minute)
	wantAllow(t, l, "user:alice", true, 0)

	// Failures stay consecutive across an expired lockout.
	l.Failure("user:alice")
	wantAllow(t, l, "user:alice", false, 5*time.Minute)

	// Success clears the lockout and the failure count.
	l.Success("user:alice")
	wantAllow(t, l, "user:alice", true, 0)
	l.Failure("user:alice")
	l.Failure("user:alice")
	wantAllow(t, l, "user:alice", true, 0)
	l.Failure("user:alice")
	wantAllow(t, l, "user:alice", false, time.Minute)

	l.Success("user:nobody") // unknown key: no effect, no entry
	if got := l.Len(); got != 2 {
		t.Errorf("Len() = %d, want 2", got)
	}
}

func TestLimiterLockoutHugeMax(t *testing.T) {
	// Doubling must not overflow time.Duration.
	clk := newFakeClock()
	const maxD = time.Duration(1<<63 - 1)
	l := NewLimiter(LimiterConfig{Rate: rate.Inf, FailuresBeforeLockout: 1, BaseLockout: time.Hour, MaxLockout: maxD, Now: clk.Now})
	for range 100 {
		l.Failure("k")
	}
	if ok, retry := l.Allow("k"); ok || retry < 1000*time.Hour {
		t.Errorf("Allow(k) after 100 failures = %v, %v, want false, a very long lockout", ok, retry)
	}
}

func TestLimiterLockoutDisabled(t *testing.T) {
	l := NewLimiter(LimiterConfig{Rate: rate.Inf, FailuresBeforeLockout: -1, Now: newFakeClock().Now})
	for range 100 {
		l.Failure("k")
	}
	wantAllow(t, l, "k", true, 0)
}

func TestLimiterDefaults(t *testing.T) {
	clk := newFakeClock()
	l := NewLimiter(LimiterConfig{Now: clk.Now})
	def := DefaultLimiterConfig()
	for range def.Burst {
		wantAllow(t, l, "k", true, 0)
	}
	wantAllow(t, l, "k", false, 12*time.Second)
	for range def.FailuresBeforeLockout {
		l.Failure("u")
	}
	wantAllow(t, l, "u", false, def.BaseLockout)

	// MaxLockout below BaseLockout is raised to BaseLockout.
	l = NewLimiter(LimiterConfig{Rate: rate.Inf, FailuresBeforeLockout: 1, BaseLockout: time.Hour, MaxLockout: time.Minute, Now: clk.Now})
	l.Failure("u")
	l.Failure("u")
	wantAllow(t, l, "u", false, time.Hour)
}

func TestLimiterEviction(t *testing.T) {
	clk := newFakeClock()
	l := NewLimiter(LimiterConfig{Rate: rate.Inf, MaxKeys: 3, FailuresBeforeLockout: 1, BaseLockout: time.Minute, Now: clk.Now})
	l.Failure("a")
	l.Failure("b")
	l.Failure("c")
	wantAllow(t, l, "a", false, time.Minute) // a is now most recently used; b is least
	l.Failure("d")                           // evicts b
	if got := l.Len(); got != 3 {
		t.Errorf("Len() = %d, want 3", got)
	}
	wantAllow(t, l, "a", false, time.Minute) // kept
	wantAllow(t, l, "c", false, time.Minute) // kept
	wantAllow(t, l, "d", false, time.Minute)
	wantAllow(t, l, "b", true, 0) // forgotten: lockout lost, re-added (evicting a)
	wantAllow(t, l, "a", true, 0)
	for i := range 100 {
		l.Allow(fmt.Sprint("k", i))
		if got := l.Len(); got > 3 {
			t.Fatalf("Len() = %d after %d keys, want <= 3", got, i+5)
		}
	}
}

func TestLimiterConcurrent(t *testing.T) {
	const maxKeys = 50
	l := NewLimiter(LimiterConfig{Rate: 1000, Burst: 10, MaxKeys: maxKeys, FailuresBeforeLockout: 3, BaseLockout: time.Millisecond})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 2000 {
				key := fmt.Sprintf("k%d", (g*7+i)%(2*maxKeys))
				l.Allow(key)
				switch i % 3 {
				case 0:
					l.Failure(key)
				case 1:
					l.Success(key)
				}
				if n := l.Len(); n > maxKeys {
					t.Errorf("Len() = %d, want <= %d", n, maxKeys)
					return
				}
			}
		})
	}
	wg.Wait()
	if n := l.Len(); n != maxKeys {
		t.Errorf("Len() = %d after use of %d keys, want %d", n, 2*maxKeys, maxKeys)
	}
}
