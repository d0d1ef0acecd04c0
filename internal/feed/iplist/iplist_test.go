package iplist

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"focal/internal/feed"
	"focal/internal/focal"
)

// Set FOCAL_UPDATE_GOLDEN=1 to rewrite the golden files.
const updateEnv = "FOCAL_UPDATE_GOLDEN"

var (
	testFeed = feed.Feed{Name: "test-feed", Provider: "example", TLP: focal.TLPGreen, Confidence: 80}
	testNow  = time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	testOpt  = Options{Class: "intrusion-attempts", Type: "brute-force"}
)

type parseFunc func(r io.Reader, emit feed.Emit, report feed.Report) (feed.Stats, error)

func ipList(r io.Reader, emit feed.Emit, report feed.Report) (feed.Stats, error) {
	return ParseIPList(r, testFeed, testOpt, testNow, emit, report)
}

func dataPlane(r io.Reader, emit feed.Emit, report feed.Report) (feed.Stats, error) {
	return ParseDataPlane(r, testFeed, testNow, emit, report)
}

// run parses in and renders events and problems, one per line, in input order.
func run(t *testing.T, parse parseFunc, in string) (string, []*focal.Event, feed.Stats, error) {
	t.Helper()
	var out strings.Builder
	var evs []*focal.Event
	line := 0
	st, err := parse(strings.NewReader(in), func(e *focal.Event) error {
		evs = append(evs, e)
		// Events carry no line number; find the line by its raw text.
		fmt.Fprintf(&out, "%d\t%s\t%s/%s\t%s\n", lineOf(in, e.Raw, &line), e.Source.IP, e.Class, e.Type, e.DedupKey)
		return nil
	}, func(p feed.Problem) {
		line = p.Line
		fmt.Fprintf(&out, "PROBLEM %d\t%s\n", p.Line, p.Reason)
	})
	return out.String(), evs, st, err
}

// lineOf finds the 1-based number of the first line after *last whose
// text (without CR) is raw, and records it in *last.
func lineOf(in, raw string, last *int) int {
	for i, l := range strings.Split(in, "\n") {
		if i+1 > *last && strings.TrimSuffix(l, "\r") == raw {
			*last = i + 1
			return i + 1
		}
	}
	return -1
}

func TestGolden(t *testing.T) {
	for _, tt := range []struct {
		name  string
		parse parseFunc
	}{{"blocklist", ipList}, {"dataplane", dataPlane}} {
		t.Run(tt.name, func(t *testing.T) {
			in, err := os.ReadFile(filepath.Join("testdata", tt.name+".txt"))
			if err != nil {
				t.Fatal(err)
			}
			got, evs, st, err := run(t, tt.parse, string(in))
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			for _, e := range evs {
				checkEvent(t, e)
			}
			if st.Events != len(evs) || st.Events+st.Problems > st.Lines {
				t.Errorf("stats %+v with %d events", st, len(evs))
			}
			got += fmt.Sprintf("STATS lines=%d events=%d problems=%d\n", st.Lines, st.Events, st.Problems)
			golden := filepath.Join("testdata", tt.name+".golden")
			if os.Getenv(updateEnv) == "1" {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with %s=1 to create it)", err, updateEnv)
			}
			if got != string(want) {
				t.Errorf("output differs from %s:\n--- got\n%s--- want\n%s", golden, got, want)
			}
		})
	}
}

// checkEvent checks what every emitted event must satisfy.
func checkEvent(t *testing.T, e *focal.Event) {
	t.Helper()
	if err := e.Validate(); err != nil {
		t.Errorf("emitted event does not validate: %v (%+v)", err, e)
	}
	if !e.Source.IP.IsValid() || e.Source.IP.Is4In6() || e.Source.IP.Zone() != "" {
		t.Errorf("source IP %v not a plain unmapped address", e.Source.IP)
	}
	if e.Count != 1 || !e.FirstSeen.Equal(e.SourceTime) || !e.LastSeen.Equal(e.SourceTime) || e.SourceTime.IsZero() {
		t.Errorf("count/times wrong: %+v", e)
	}
	if !e.ObservedTime.Equal(testNow) || e.Feed != testFeed.Name || e.Provider != testFeed.Provider ||
		e.TLP != testFeed.TLP || e.Confidence != testFeed.Confidence {
		t.Errorf("feed defaults not applied: %+v", e)
	}
	if !strings.HasPrefix(e.DedupKey, testFeed.Name+"|") || !strings.HasSuffix(e.DedupKey, "|"+e.Class+"/"+e.Type) {
		t.Errorf("dedup key %q", e.DedupKey)
	}
	if len(e.Raw) > focal.MaxRawLine {
		t.Errorf("raw %d bytes", len(e.Raw))
	}
}

func TestIPListEdgeCases(t *testing.T) {
	tests := []struct {
		name, in string
		want     string // "ip cidr" per event, or "P:reason-substring", joined by "|"
	}{
		{"ipv4", "192.0.2.1", "192.0.2.1 -"},
		{"ipv6-canonical", "2001:DB8:0::1", "2001:db8::1 -"},
		{"mapped", "::ffff:192.0.2.1", "192.0.2.1 -"},
		{"mapped-prefix", "::ffff:198.51.100.0/120", "198.51.100.0 cidr:198.51.100.0/24"},
		{"mapped-prefix-short", "::ffff:0:0/95", "P:shorter than /96"},
		{"host-bits", "203.0.113.99/24", "203.0.113.0 cidr:203.0.113.0/24"},
		{"full-prefix", "203.0.113.99/32", "203.0.113.99 -"},
		{"v6-prefix", "2001:db8:ff::1/32", "2001:db8:: cidr:2001:db8::/32"},
		{"comments", "# a\n; b\n   # c\n\n", ""},
		{"trailing-comment", "192.0.2.1 # x\n192.0.2.2\t; y", "192.0.2.1 -|192.0.2.2 -"},
		{"trailing-text", "192.0.2.1 x", "P:unexpected text"},
		{"glued-comment", "192.0.2.1#x", "P:not an IP address"},
		{"crlf", "192.0.2.1\r\n192.0.2.2\r\n", "192.0.2.1 -|192.0.2.2 -"},
		{"garbage", "\x00\xff\n<html>\n1.2.3\n", "P:not an IP|P:not an IP|P:not an IP"},
		{"zone", "fe80::1%eth0", "P:has a zone"},
		{"bad-prefix", "192.0.2.0/40", "P:not an IP address or CIDR"},
		{"too-long", strings.Repeat("1", feed.MaxLine+1) + "\n192.0.2.1", "P:longer than|192.0.2.1 -"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, st := collect(t, ipList, tt.in)
			if !matches(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			if st.Events+st.Problems > st.Lines {
				t.Errorf("stats %+v", st)
			}
		})
	}
}

// collect parses in and renders events as "ip identifier" (or "ip -")
// and problems as "P:reason", one per line.
func collect(t *testing.T, parse parseFunc, in string) (string, feed.Stats) {
	t.Helper()
	var parts []string
	st, err := parse(strings.NewReader(in), func(e *focal.Event) error {
		checkEvent(t, e)
		id := e.Identifier
		if id == "" || !strings.HasPrefix(id, "cidr:") {
			id = "-"
		}
		parts = append(parts, e.Source.IP.String()+" "+id)
		return nil
	}, func(p feed.Problem) {
		if len(p.Raw) > focal.MaxRawLine {
			t.Errorf("problem raw %d bytes", len(p.Raw))
		}
		parts = append(parts, "P:"+p.Reason)
	})
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return strings.Join(parts, "\n"), st
}

func TestDataPlaneEdgeCases(t *testing.T) {
	const ok = "64496 | EXAMPLE | 192.0.2.1 | 2026-11-20 10:00:00 | sshpwauth"
	tests := []struct {
		name, in string
		want     string
	}{
		{"one", ok, "192.0.2.1 -"},
		{"crlf-comments", "# c\r\n\r\n" + ok + "\r\n", "192.0.2.1 -"},
		{"mapped", "64496|X|::ffff:192.0.2.1|2026-11-20 10:00:00|dnsrd", "192.0.2.1 -"},
		{"later-short", ok + "\n64496 | X", "192.0.2.1 -|P:want 5 pipe-separated fields"},
		{"first-long", ok + " | extra\n" + ok, "P:got 6|192.0.2.1 -"},
		{"bad-asn", "AS-1 | X | 192.0.2.1 | 2026-11-20 10:00:00 | sshpwauth", "P:column 1 (ASN)"},
		{"asn-overflow", "4294967296 | X | 192.0.2.1 | 2026-11-20 10:00:00 | sshpwauth", "P:column 1 (ASN)"},
		{"bad-ip", "64496 | X | 192.0.2.0/24 | 2026-11-20 10:00:00 | sshpwauth", "P:column 3 (ipaddr)"},
		{"bad-time", "64496 | X | 192.0.2.1 | 2026-13-20 10:00:00 | sshpwauth", "P:column 4 (lastseen)"},
		{"empty-category", "64496 | X | 192.0.2.1 | 2026-11-20 10:00:00 | ", "P:column 5 (category)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, st := collect(t, dataPlane, tt.in)
			if !matches(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			if st.Events+st.Problems > st.Lines {
				t.Errorf("stats %+v", st)
			}
		})
	}
}

// matches compares got (one part per line) with want ("|"-joined parts),
// a "P:" part of want matching any problem whose reason contains it.
func matches(got, want string) bool {
	g, w := strings.Split(got, "\n"), strings.Split(want, "|")
	if got == "" || want == "" {
		return got == want
	}
	if len(g) != len(w) {
		return false
	}
	for i := range g {
		if strings.HasPrefix(w[i], "P:") {
			if !strings.HasPrefix(g[i], "P:") || !strings.Contains(g[i], w[i][2:]) {
				return false
			}
		} else if g[i] != w[i] {
			return false
		}
	}
	return true
}

func TestDataPlaneFields(t *testing.T) {
	var got *focal.Event
	_, err := dataPlane(strings.NewReader("64500 | X | 2001:db8::5 | 2026-11-20 10:11:12 | sipquery\n"),
		func(e *focal.Event) error { got = e; return nil }, nil)
	if err != nil || got == nil {
		t.Fatalf("err %v, event %v", err, got)
	}
	want := time.Date(2026, 11, 20, 10, 11, 12, 0, time.UTC)
	if got.Source.ASN != 64500 || !got.SourceTime.Equal(want) || got.SourceTime.Location() != time.UTC ||
		got.Class != "information-gathering" || got.Type != "scanner" || got.Identifier != "sipquery" ||
		got.Protocol != "sip" || got.DedupKey != "test-feed|2001:db8::5|information-gathering/scanner" {
		t.Errorf("event %+v", got)
	}
}

func TestDataPlaneFormatChange(t *testing.T) {
	for _, in := range []string{
		"# header\n#\n64496 | X\n" + "64496 | X | 192.0.2.1 | 2026-11-20 10:00:00 | sshpwauth\n",
		"<html><body>moved</body></html>\n",
	} {
		var events int
		_, err := dataPlane(strings.NewReader(in), func(*focal.Event) error { events++; return nil }, func(feed.Problem) {})
		if err == nil || !strings.Contains(err.Error(), "the feed format changed?") || events != 0 {
			t.Errorf("%q: err %v, %d events; want a format error", in, err, events)
		}
	}
	_, err := dataPlane(strings.NewReader("#\n\n# x\n64496 | X\n"), func(*focal.Event) error { return nil }, nil)
	want := "dataplane: line 4: want 5 pipe-separated fields (ASN | ASname | ipaddr | lastseen | category), got 2: the feed format changed?"
	if err == nil || err.Error() != want {
		t.Errorf("err = %v, want %q", err, want)
	}
}

func TestIPListOptions(t *testing.T) {
	emit := func(*focal.Event) error { return nil }
	for _, opt := range []Options{{}, {Class: "nonsense", Type: "x"}, {Class: "intrusion-attempts"}, {Class: "intrusion-attempts", Type: "spam"}} {
		if _, err := ParseIPList(strings.NewReader("192.0.2.1"), testFeed, opt, testNow, emit, nil); err == nil {
			t.Errorf("options %+v accepted", opt)
		}
	}
	// Case and spaces are normalised.
	var got *focal.Event
	_, err := ParseIPList(strings.NewReader("192.0.2.1"), testFeed, Options{Class: " Malicious-Code", Type: "C2-Server "}, testNow,
		func(e *focal.Event) error { got = e; return nil }, nil)
	if err != nil || got == nil || got.DedupKey != "test-feed|192.0.2.1|malicious-code/c2-server" || !got.SourceTime.Equal(testNow) {
		t.Errorf("err %v, event %+v", err, got)
	}
	if _, err := ParseIPList(strings.NewReader("192.0.2.1"), feed.Feed{}, testOpt, testNow, emit, nil); err == nil {
		t.Error("feed without a name accepted")
	}
	if _, err := ParseDataPlane(strings.NewReader(""), feed.Feed{}, testNow, emit, nil); err == nil {
		t.Error("dataplane feed without a name accepted")
	}
	if _, err := ParseIPList(strings.NewReader("192.0.2.1"), testFeed, testOpt, testNow, nil, nil); err == nil {
		t.Error("nil emit accepted")
	}
}

func TestInvalidEventIsProblem(t *testing.T) {
	f := testFeed
	f.Confidence = 101
	var probs []feed.Problem
	st, err := ParseIPList(strings.NewReader("192.0.2.1\n"), f, testOpt, testNow,
		func(*focal.Event) error { t.Error("invalid event emitted"); return nil },
		func(p feed.Problem) { probs = append(probs, p) })
	if err != nil || len(probs) != 1 || !strings.Contains(probs[0].Reason, "confidence") || st.Problems != 1 || st.Events != 0 {
		t.Errorf("err %v, problems %+v, stats %+v", err, probs, st)
	}
}

func TestEmitErrorStops(t *testing.T) {
	stop := errors.New("store down")
	for _, tt := range []struct {
		name  string
		parse parseFunc
		in    string
	}{
		{"iplist", ipList, "192.0.2.1\n192.0.2.2\n192.0.2.3\n"},
		{"dataplane", dataPlane, "1|a|192.0.2.1|2026-11-20 10:00:00|x\n1|a|192.0.2.2|2026-11-20 10:00:00|x\n"},
	} {
		calls := 0
		st, err := tt.parse(strings.NewReader(tt.in), func(*focal.Event) error { calls++; return stop }, nil)
		if !errors.Is(err, stop) || calls != 1 || st.Events != 0 {
			t.Errorf("%s: err %v, %d calls, stats %+v; want stop after the first", tt.name, err, calls, st)
		}
	}
}

func TestRawCut(t *testing.T) {
	long := "192.0.2.1 #" + strings.Repeat("c", 3*focal.MaxRawLine)
	var got *focal.Event
	if _, err := ipList(strings.NewReader(long), func(e *focal.Event) error { got = e; return nil }, nil); err != nil || got == nil {
		t.Fatalf("err %v", err)
	}
	if got.Raw != long[:focal.MaxRawLine] {
		t.Errorf("raw not cut to %d bytes: %d", focal.MaxRawLine, len(got.Raw))
	}
}

func fuzzParse(f *testing.F, parse parseFunc, seed string) {
	if b, err := os.ReadFile(filepath.Join("testdata", seed)); err == nil {
		f.Add(string(b))
		for _, l := range bytes.Split(b, []byte("\n")) {
			f.Add(string(l))
		}
	}
	f.Add("")
	f.Add("::ffff:0.0.0.0/0\n0.0.0.0\n::\n")
	f.Fuzz(func(t *testing.T, in string) {
		var events int
		st, err := parse(strings.NewReader(in), func(e *focal.Event) error {
			events++
			checkEvent(t, e)
			return nil
		}, func(p feed.Problem) {
			if p.Line < 1 || len(p.Raw) > focal.MaxRawLine {
				t.Errorf("bad problem %+v", p)
			}
		})
		if st.Events != events || st.Events+st.Problems > st.Lines {
			t.Errorf("stats %+v with %d events (err %v)", st, events, err)
		}
	})
}

func FuzzParseIPList(f *testing.F) { fuzzParse(f, ipList, "blocklist.txt") }

func FuzzParseDataPlane(f *testing.F) { fuzzParse(f, dataPlane, "dataplane.txt") }
