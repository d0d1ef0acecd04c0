package geoip_test

import (
	"context"
	"encoding/binary"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"focal/internal/geoip"
)

// dnsServer is a tiny UDP DNS responder for PTR queries: it answers names
// in ptr with one PTR record, names in slow after a delay, and everything
// else with NXDOMAIN.
type dnsServer struct {
	pc   net.PacketConn
	ptr  map[string]string // query name (no final dot) -> target
	slow map[string]time.Duration

	mu      sync.Mutex
	queries map[string]int
}

func startDNS(t *testing.T, ptr map[string]string, slow map[string]time.Duration) *dnsServer {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &dnsServer{pc: pc, ptr: ptr, slow: slow, queries: map[string]int{}}
	t.Cleanup(func() { pc.Close() })
	go s.serve()
	return s
}

func (s *dnsServer) count(name string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.queries[name]
}

func (s *dnsServer) serve() {
	buf := make([]byte, 1500)
	for {
		n, from, err := s.pc.ReadFrom(buf)
		if err != nil {
			return
		}
		q := append([]byte(nil), buf[:n]...)
		name, qend, ok := parseQuestion(q)
		if !ok {
			continue
		}
		s.mu.Lock()
		s.queries[name]++
		s.mu.Unlock()
		resp := s.answer(q[:2], q[12:qend], name)
		if d := s.slow[name]; d > 0 {
			go func() {
				time.Sleep(d)
				s.pc.WriteTo(resp, from)
			}()
			continue
		}
		s.pc.WriteTo(resp, from)
	}
}

// parseQuestion returns the name in the question of query q and where the
// question ends.
func parseQuestion(q []byte) (name string, end int, ok bool) {
	if len(q) < 12 || binary.BigEndian.Uint16(q[4:]) != 1 {
		return "", 0, false
	}
	var labels []string
	i := 12
	for i < len(q) && q[i] != 0 {
		l := int(q[i])
		if l > 63 || i+1+l > len(q) {
			return "", 0, false
		}
		labels = append(labels, string(q[i+1:i+1+l]))
		i += 1 + l
	}
	if i+5 > len(q) {
		return "", 0, false
	}
	return strings.ToLower(strings.Join(labels, ".")), i + 5, true
}

// answer builds the response to a query with id and question.
func (s *dnsServer) answer(id, question []byte, name string) []byte {
	target, found := s.ptr[name]
	flags, ancount := uint16(0x8583), uint16(0) // QR AA RD RA, NXDOMAIN
	if found {
		flags, ancount = 0x8580, 1
	}
	m := append([]byte(nil), id...)
	m = binary.BigEndian.AppendUint16(m, flags)
	m = binary.BigEndian.AppendUint16(m, 1) // QDCOUNT
	m = binary.BigEndian.AppendUint16(m, ancount)
	m = binary.BigEndian.AppendUint32(m, 0) // NSCOUNT, ARCOUNT
	m = append(m, question...)
	if !found {
		return m
	}
	var rdata []byte
	for _, l := range strings.Split(strings.TrimSuffix(target, "."), ".") {
		rdata = append(append(rdata, byte(len(l))), l...)
	}
	rdata = append(rdata, 0)
	m = append(m, 0xc0, 12)                   // name: pointer to the question
	m = binary.BigEndian.AppendUint16(m, 12)  // TYPE PTR
	m = binary.BigEndian.AppendUint16(m, 1)   // CLASS IN
	m = binary.BigEndian.AppendUint32(m, 300) // TTL
	m = binary.BigEndian.AppendUint16(m, uint16(len(rdata)))
	return append(m, rdata...)
}

const (
	arpa1    = "1.2.0.192.in-addr.arpa"
	arpaNone = "2.2.0.192.in-addr.arpa"
	arpaSlow = "3.2.0.192.in-addr.arpa"
	arpa6    = "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa"
)

func newTestResolver(t *testing.T, cfg geoip.ResolverConfig) (*geoip.Resolver, *dnsServer) {
	srv := startDNS(t, map[string]string{
		arpa1:                    "Host1.Example.NET.",
		arpa6:                    "v6.example.net.",
		arpaSlow:                 "slow.example.net.",
		"4.2.0.192.in-addr.arpa": "four.example.net.",
		"5.2.0.192.in-addr.arpa": "five.example.net.",
	}, map[string]time.Duration{arpaSlow: 400 * time.Millisecond})
	cfg.Server = srv.pc.LocalAddr().String()
	if cfg.Timeout == 0 {
		cfg.Timeout = 2 * time.Second
	}
	return geoip.NewResolver(cfg), srv
}

func TestResolverPTR(t *testing.T) {
	r, srv := newTestResolver(t, geoip.ResolverConfig{})
	ctx := context.Background()
	for _, tt := range []struct {
		ip, want, query string
	}{
		{"192.0.2.1", "host1.example.net", arpa1},
		{"::ffff:192.0.2.1", "host1.example.net", arpa1},
		{"2001:db8::1", "v6.example.net", arpa6},
		{"192.0.2.2", "", arpaNone},
	} {
		for range 3 {
			got, ok := r.PTR(ctx, netip.MustParseAddr(tt.ip))
			if got != tt.want || ok != (tt.want != "") {
				t.Errorf("PTR(%s) = %q, %v; want %q", tt.ip, got, ok, tt.want)
			}
		}
		if n := srv.count(tt.query); n != 1 {
			t.Errorf("%s: %d queries, want 1 (then cached)", tt.ip, n)
		}
	}
	if _, ok := r.PTR(ctx, netip.Addr{}); ok {
		t.Error("PTR(invalid) found a name")
	}

	// A Dial function instead of a server address.
	addr := srv.pc.LocalAddr().String()
	r2 := geoip.NewResolver(geoip.ResolverConfig{
		Timeout: 2 * time.Second,
		Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "udp", addr)
		},
	})
	if got, ok := r2.PTR(ctx, netip.MustParseAddr("192.0.2.1")); got != "host1.example.net" || !ok {
		t.Errorf("with Dial: PTR = %q, %v", got, ok)
	}
}

func TestResolverTimeout(t *testing.T) {
	r, srv := newTestResolver(t, geoip.ResolverConfig{Timeout: 100 * time.Millisecond})
	slow := netip.MustParseAddr("192.0.2.3")
	start := time.Now()
	if name, ok := r.PTR(context.Background(), slow); ok {
		t.Errorf("PTR(slow) = %q, want a timeout", name)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("PTR took %v with a 100ms timeout", d)
	}
	// A cancelled context returns at once.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	start = time.Now()
	if _, ok := r.PTR(ctx, netip.MustParseAddr("192.0.2.4")); ok && time.Since(start) > 50*time.Millisecond {
		t.Error("PTR with a cancelled context waited")
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("PTR with a cancelled context took %v", d)
	}
	// The failure is cached.
	queries := srv.count(arpaSlow)
	r.PTR(context.Background(), slow)
	if srv.count(arpaSlow) != queries {
		t.Errorf("failed query not cached: %d queries, then %d", queries, srv.count(arpaSlow))
	}
}

func TestResolverLimits(t *testing.T) {
	r, srv := newTestResolver(t, geoip.ResolverConfig{MaxInFlight: 1, CacheSize: 2, TTL: time.Hour})
	ctx := context.Background()
	slow := netip.MustParseAddr("192.0.2.3")

	// Concurrent calls for one address share a query; while it runs, the
	// single slot is taken and other addresses answer "unknown" at once.
	var wg sync.WaitGroup
	for range 5 {
		wg.Go(func() {
			if name, ok := r.PTR(ctx, slow); name != "slow.example.net" || !ok {
				t.Errorf("PTR(slow) = %q, %v", name, ok)
			}
		})
	}
	deadline := time.Now().Add(5 * time.Second)
	for srv.count(arpaSlow) == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	start := time.Now()
	if name, ok := r.PTR(ctx, netip.MustParseAddr("192.0.2.1")); ok {
		t.Errorf("PTR while the slot is busy = %q, want unknown", name)
	}
	if d := time.Since(start); d > 100*time.Millisecond {
		t.Errorf("PTR while the slot is busy took %v", d)
	}
	wg.Wait()
	if n := srv.count(arpaSlow); n != 1 {
		t.Errorf("%d queries for one address, want 1", n)
	}

	// The cache holds two entries: the third evicts the least recently
	// used.
	for _, ip := range []string{"192.0.2.1", "192.0.2.4", "192.0.2.1", "192.0.2.5", "192.0.2.1", "192.0.2.4"} {
		r.PTR(ctx, netip.MustParseAddr(ip))
	}
	if n := srv.count(arpa1); n != 1 {
		t.Errorf("192.0.2.1 queried %d times, want 1 (kept as recently used)", n)
	}
	if n := srv.count("4.2.0.192.in-addr.arpa"); n != 2 {
		t.Errorf("192.0.2.4 queried %d times, want 2 (evicted once)", n)
	}
}

func TestResolverTTL(t *testing.T) {
	r, srv := newTestResolver(t, geoip.ResolverConfig{TTL: 30 * time.Millisecond, NegativeTTL: 30 * time.Millisecond})
	ctx := context.Background()
	for _, ip := range []string{"192.0.2.1", "192.0.2.2"} {
		r.PTR(ctx, netip.MustParseAddr(ip))
	}
	time.Sleep(60 * time.Millisecond)
	for _, ip := range []string{"192.0.2.1", "192.0.2.2"} {
		r.PTR(ctx, netip.MustParseAddr(ip))
	}
	if a, b := srv.count(arpa1), srv.count(arpaNone); a != 2 || b != 2 {
		t.Errorf("queries after expiry: %d and %d, want 2 each", a, b)
	}
}
