package pipeline

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/netip"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"focal/internal/feed"
	"focal/internal/feed/formats"
	"focal/internal/feed/shadowserver"
	"focal/internal/focal"
	"focal/internal/lookup"
)

// BenchInput describes the synthetic benchmark input: a Shadowserver
// scan_smb report (shadowserver.WriteScanSMB) of Rows rows, or of Bytes
// bytes when Bytes > 0; Distinct makes every row a new address.
type BenchInput struct {
	Rows     int
	Bytes    int64
	Distinct bool
}

// Reader streams the input; close it when done.
func (in BenchInput) Reader() io.ReadCloser {
	pr, pw := io.Pipe()
	go func() {
		var w io.Writer = pw
		rows := in.Rows
		if in.Bytes > 0 {
			w = &limitWriter{w: pw, left: in.Bytes}
			rows = 1 << 40
		}
		err := shadowserver.WriteScanSMB(w, rows, in.Distinct)
		if err == errLimit {
			err = nil
		}
		pw.CloseWithError(err)
	}()
	return pr
}

var errLimit = fmt.Errorf("input size reached")

// limitWriter stops the generator after left bytes, at a line end.
type limitWriter struct {
	w    io.Writer
	left int64
	done bool // the line the limit fell in is written
}

func (l *limitWriter) Write(p []byte) (int, error) {
	if l.done {
		return 0, errLimit
	}
	if int64(len(p)) < l.left {
		n, err := l.w.Write(p)
		l.left -= int64(n)
		return n, err
	}
	// The limit falls in p (or fell earlier): end with the line it falls in.
	from := max(l.left-1, 0)
	end := len(p)
	if i := bytes.IndexByte(p[from:], '\n'); i >= 0 {
		end = int(from) + i + 1
		l.done = true
	}
	n, err := l.w.Write(p[:end])
	l.left -= int64(n)
	if err != nil {
		return n, err
	}
	if l.done {
		return n, errLimit
	}
	return n, nil
}

// BenchConstituency builds a lookup table of n prefixes held by n/5
// organisations: the benchmark input's networks (so its events match)
// and then /24s elsewhere, as a national registry would hold.
func BenchConstituency(n int) (*lookup.Table, error) {
	var prefixes []netip.Prefix
	for _, base := range []string{"192.0.2.0", "198.51.100.0", "203.0.113.0"} {
		a := netip.MustParseAddr(base).As4()
		for i := 0; i < 16; i++ {
			a[3] = byte(i * 16)
			prefixes = append(prefixes, netip.PrefixFrom(netip.AddrFrom4(a), 28))
		}
	}
	for i := 0; i < 512*4; i++ { // 198.18.0.0/15 as /26s
		a := [4]byte{198, 18 + byte(i>>10), byte(i >> 2), byte(i&3) * 64}
		prefixes = append(prefixes, netip.PrefixFrom(netip.AddrFrom4(a), 26))
	}
	for i := 0; i < 1024; i++ { // 2001:db8::/32 as /48s
		a := netip.MustParseAddr("2001:db8::").As16()
		a[4], a[5] = byte(i>>8), byte(i)
		prefixes = append(prefixes, netip.PrefixFrom(netip.AddrFrom16(a), 48))
	}
	for i := 0; len(prefixes) < n; i++ { // elsewhere: 20.0.0.0/6 as /24s
		a := [4]byte{20 + byte(i>>16&3), byte(i >> 8), byte(i), 0}
		prefixes = append(prefixes, netip.PrefixFrom(netip.AddrFrom4(a), 24))
	}
	prefixes = prefixes[:n]
	orgs := max(n/5, 1)
	entries := make([]lookup.Entry, orgs)
	for i := range entries {
		entries[i].OrgID = int64(i + 1)
	}
	for i, p := range prefixes {
		e := &entries[i%orgs]
		e.Networks = append(e.Networks, p)
	}
	return lookup.Build(entries)
}

// MemoryBenchResult is the outcome of BenchMemory.
type MemoryBenchResult struct {
	Lines, Events, Rows, Matched int
	Elapsed                      time.Duration
}

// Rate is events per second.
func (r MemoryBenchResult) Rate() float64 { return float64(r.Events) / r.Elapsed.Seconds() }

// BenchMemory runs the in-memory stages — chunking, parse, enrich,
// match, dedup digest and aggregation — over the input on GOMAXPROCS
// workers, without JetStream or a database.
func BenchMemory(ctx context.Context, in BenchInput, t *lookup.Table, geo GeoFunc) (MemoryBenchResult, error) {
	f, err := formats.Lookup("shadowserver")
	if err != nil {
		return MemoryBenchResult{}, err
	}
	h := &chunkHeader{Feed: "bench-scan-smb", TLP: focal.TLPAmber, Confidence: 80, Format: f.Name,
		Options: map[string]string{"report": "scan_smb"}, Window: int64(focal.DefaultDedupWindow / time.Second), Now: time.Now().UnixMilli()}
	run := h.run()
	r := in.Reader()
	defer r.Close()
	start := time.Now()
	chunks := make(chan feed.Chunk, 4)
	type result struct{ events, rows, matched int }
	results := make(chan result, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			var res result
			var scratch []byte
			for c := range chunks {
				agg := map[[16]byte]*focal.Event{}
				_, _ = feed.ParseChunk(f, c, run, func(e *focal.Event) error {
					enrich(e, geo)
					e.Orgs = match(t, e)
					var k [16]byte
					k, scratch = dedupDigest(h, e, scratch)
					if a, ok := agg[k]; ok {
						fold(a, e)
					} else {
						agg[k] = e
					}
					res.events++
					if len(e.Orgs) > 0 {
						res.matched++
					}
					return nil
				}, nil)
				res.rows += len(agg)
			}
			results <- res
		})
	}
	lines, err := feed.Chunks(f, r, run, DefaultChunkSize, func(c feed.Chunk) error {
		select {
		case chunks <- c:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}, nil)
	close(chunks)
	wg.Wait()
	close(results)
	out := MemoryBenchResult{Lines: lines, Elapsed: time.Since(start)}
	for res := range results {
		out.Events += res.events
		out.Rows += res.rows
		out.Matched += res.matched
	}
	return out, err
}

// PeakRSS returns the process's peak resident set in MiB (Linux), or 0.
func PeakRSS() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return kb / 1024
		}
	}
	return 0
}
