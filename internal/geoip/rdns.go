package geoip

import (
	"container/list"
	"context"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"
)

// ResolverConfig configures a Resolver. The zero value uses the system's
// DNS servers with the defaults below.
type ResolverConfig struct {
	// Server is the DNS server to ask, "host:port" or a bare address (port
	// 53). Empty means the servers in /etc/resolv.conf.
	Server string
	// Timeout bounds each PTR call (default 1s): PTR never blocks its
	// caller longer, whatever the server does.
	Timeout time.Duration
	// CacheSize is how many answers are kept, least recently used first
	// out (default 10,000).
	CacheSize int
	// TTL is how long a name is kept (default 1h); NegativeTTL how long a
	// missing name or a failed query is (default 5m).
	TTL, NegativeTTL time.Duration
	// MaxInFlight bounds the queries running at once (default 32). When
	// that many are running, PTR for an address not in the cache answers
	// "unknown" at once instead of queueing.
	MaxInFlight int
	// Dial, if set, replaces the dialer used to reach the server (tests).
	Dial func(ctx context.Context, network, address string) (net.Conn, error)
}

// Resolver answers reverse DNS (PTR) queries with a bounded cache that
// also remembers failures, merges concurrent queries for one address, and
// limits the queries in flight. It is safe for concurrent use.
type Resolver struct {
	cfg ResolverConfig
	res *net.Resolver
	sem chan struct{}

	mu       sync.Mutex
	lru      *list.List // of *ptrEntry, most recently used first
	entries  map[netip.Addr]*list.Element
	inflight map[netip.Addr]*ptrCall
}

type ptrEntry struct {
	ip      netip.Addr
	name    string // "" if none
	expires time.Time
}

type ptrCall struct {
	done chan struct{}
	name string
}

// NewResolver returns a Resolver configured by cfg.
func NewResolver(cfg ResolverConfig) *Resolver {
	if cfg.Timeout <= 0 {
		cfg.Timeout = time.Second
	}
	if cfg.CacheSize <= 0 {
		cfg.CacheSize = 10_000
	}
	if cfg.TTL <= 0 {
		cfg.TTL = time.Hour
	}
	if cfg.NegativeTTL <= 0 {
		cfg.NegativeTTL = 5 * time.Minute
	}
	if cfg.MaxInFlight <= 0 {
		cfg.MaxInFlight = 32
	}
	res := &net.Resolver{}
	if cfg.Server != "" || cfg.Dial != nil {
		server := serverAddr(cfg.Server)
		dial := cfg.Dial
		if dial == nil {
			var d net.Dialer
			dial = d.DialContext
		}
		res.PreferGo = true
		res.Dial = func(ctx context.Context, network, address string) (net.Conn, error) {
			if server != "" {
				address = server
			}
			return dial(ctx, network, address)
		}
	}
	return &Resolver{
		cfg:      cfg,
		res:      res,
		sem:      make(chan struct{}, cfg.MaxInFlight),
		lru:      list.New(),
		entries:  map[netip.Addr]*list.Element{},
		inflight: map[netip.Addr]*ptrCall{},
	}
}

// serverAddr adds the default port to a server address without one.
func serverAddr(s string) string {
	if s == "" {
		return ""
	}
	if _, _, err := net.SplitHostPort(s); err == nil {
		return s
	}
	return net.JoinHostPort(strings.Trim(s, "[]"), "53")
}

// PTR returns the first name the reverse DNS gives for ip (lower case,
// without the final dot), and whether there is one. It answers from the
// cache when it can, else waits for a query at most until ctx is done or
// the configured timeout has passed, whichever is first; a query still
// running then goes on and fills the cache for later calls.
func (r *Resolver) PTR(ctx context.Context, ip netip.Addr) (string, bool) {
	if !ip.IsValid() {
		return "", false
	}
	ip = ip.Unmap().WithZone("")
	now := time.Now()
	r.mu.Lock()
	if el, ok := r.entries[ip]; ok {
		e := el.Value.(*ptrEntry)
		if now.Before(e.expires) {
			r.lru.MoveToFront(el)
			r.mu.Unlock()
			return e.name, e.name != ""
		}
	}
	c := r.inflight[ip]
	if c == nil {
		select {
		case r.sem <- struct{}{}:
		default:
			r.mu.Unlock()
			return "", false // too many queries running
		}
		c = &ptrCall{done: make(chan struct{})}
		r.inflight[ip] = c
		go r.query(ip, c)
	}
	r.mu.Unlock()

	t := time.NewTimer(r.cfg.Timeout)
	defer t.Stop()
	select {
	case <-c.done:
		return c.name, c.name != ""
	case <-ctx.Done():
	case <-t.C:
	}
	return "", false
}

// query asks the server about ip, caches the answer and completes c.
func (r *Resolver) query(ip netip.Addr, c *ptrCall) {
	ctx, cancel := context.WithTimeout(context.Background(), r.cfg.Timeout)
	names, err := r.res.LookupAddr(ctx, ip.String())
	cancel()
	name := ""
	if err == nil {
		for _, n := range names {
			if n = strings.ToLower(strings.TrimSuffix(n, ".")); n != "" {
				name = n
				break
			}
		}
	}
	ttl := r.cfg.TTL
	if name == "" {
		ttl = r.cfg.NegativeTTL
	}
	r.mu.Lock()
	c.name = name
	delete(r.inflight, ip)
	e := &ptrEntry{ip: ip, name: name, expires: time.Now().Add(ttl)}
	if el, ok := r.entries[ip]; ok {
		el.Value = e
		r.lru.MoveToFront(el)
	} else {
		r.entries[ip] = r.lru.PushFront(e)
		for r.lru.Len() > r.cfg.CacheSize {
			old := r.lru.Remove(r.lru.Back()).(*ptrEntry)
			delete(r.entries, old.ip)
		}
	}
	r.mu.Unlock()
	// Free the slot before waking the callers, so a caller's next query
	// finds it free.
	<-r.sem
	close(c.done)
}
