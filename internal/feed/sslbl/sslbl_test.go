package sslbl

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"focal/internal/feed"
	"focal/internal/focal"
)

// Run with -update (or FOCAL_UPDATE_GOLDEN=1) to rewrite the golden files.
var update = flag.Bool("update", false, "rewrite the golden files in testdata")

var (
	testFeed = feed.Feed{Name: "test-feed", Provider: "abuse.ch", TLP: focal.TLPClear, Confidence: 85}
	testNow  = time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
)

type parseFunc func(r io.Reader, emit feed.Emit, report feed.Report) (feed.Stats, error)

func ip(r io.Reader, emit feed.Emit, report feed.Report) (feed.Stats, error) {
	return ParseIP(r, testFeed, testNow, emit, report)
}

func cert(r io.Reader, emit feed.Emit, report feed.Report) (feed.Stats, error) {
	return ParseCert(r, testFeed, testNow, emit, report)
}

// format is the registry's framing of each parser (see
// internal/feed/formats/sslbl.go), for the chunking checks.
func format(name string, parse parseFunc) *feed.Format {
	return &feed.Format{
		Name:     name,
		Comments: []string{"#"},
		Parse: func(r io.Reader, _ feed.Run, emit feed.Emit, report feed.Report) (feed.Stats, error) {
			return parse(r, emit, report)
		},
	}
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

// describe renders an event on one line.
func describe(e *focal.Event) string {
	dst := e.Destination.URL
	if e.Destination.IP.IsValid() {
		dst = netip.AddrPortFrom(e.Destination.IP, e.Destination.Port).String()
	}
	return fmt.Sprintf("%s\t%s\t%s/%s\tid=%q malware=%q\t%s", e.SourceTime.Format(time.RFC3339), dst, e.Class, e.Type, e.Identifier, e.Malware, e.DedupKey)
}

// render parses in and renders events (with their line), problems, the
// error and the stats, one per line.
func render(t *testing.T, parse parseFunc, in string) string {
	t.Helper()
	var b strings.Builder
	line := 0
	st, err := parse(strings.NewReader(in), func(e *focal.Event) error {
		checkEvent(t, e)
		fmt.Fprintf(&b, "%d\t%s\n", lineOf(in, e.Raw, &line), describe(e))
		return nil
	}, func(p feed.Problem) {
		line = p.Line
		fmt.Fprintf(&b, "PROBLEM %d\t%s\n", p.Line, p.Reason)
	})
	if err != nil {
		fmt.Fprintf(&b, "ERROR %v\n", err)
	}
	fmt.Fprintf(&b, "STATS lines=%d events=%d problems=%d\n", st.Lines, st.Events, st.Problems)
	return b.String()
}

// checkEvent checks what every emitted event must satisfy.
func checkEvent(t *testing.T, e *focal.Event) {
	t.Helper()
	if err := e.Validate(); err != nil {
		t.Errorf("emitted event does not validate: %v (%+v)", err, e)
	}
	if e.Class != "malicious-code" || e.Type != "c2-server" || !e.Source.IsZero() {
		t.Errorf("classification or source: %+v", e)
	}
	switch {
	case e.Destination.IP.IsValid():
		if e.Destination.Port == 0 || e.Destination.IP.Is4In6() || e.Destination.IP.Zone() != "" || e.Destination.URL != "" {
			t.Errorf("destination %+v", e.Destination)
		}
	case !strings.HasPrefix(e.Destination.URL, "urn:sha1:") || e.Identifier != strings.TrimPrefix(e.Destination.URL, "urn:"):
		t.Errorf("certificate event: destination %+v, identifier %q", e.Destination, e.Identifier)
	}
	if e.Count != 1 || e.SourceTime.IsZero() || !e.FirstSeen.Equal(e.SourceTime) || !e.LastSeen.Equal(e.SourceTime) ||
		!e.ObservedTime.Equal(testNow) || e.Feed != testFeed.Name || e.Provider != testFeed.Provider ||
		e.TLP != testFeed.TLP || e.Confidence != testFeed.Confidence {
		t.Errorf("run and feed defaults not applied: %+v", e)
	}
	if !strings.HasPrefix(e.DedupKey, testFeed.Name+"|") || !strings.HasSuffix(e.DedupKey, "|"+e.Class+"/"+e.Type) {
		t.Errorf("dedup key %q", e.DedupKey)
	}
	if len(e.Raw) > focal.MaxRawLine {
		t.Errorf("raw %d bytes", len(e.Raw))
	}
}

func TestGolden(t *testing.T) {
	long := strings.Repeat("9", feed.MaxLine+1) + "\n"
	for _, tt := range []struct {
		file  string
		parse parseFunc
	}{{"ip.csv", ip}, {"cert.csv", cert}} {
		t.Run(tt.file, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			// A line over feed.MaxLine is appended rather than kept in
			// the file.
			got := render(t, tt.parse, string(b)+long)
			golden := filepath.Join("testdata", tt.file+".golden")
			if *update || os.Getenv("FOCAL_UPDATE_GOLDEN") == "1" {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("output differs from %s:\n--- got\n%s--- want\n%s", golden, got, want)
			}
		})
	}
}

// collect parses in and returns the events as their destination and
// problems as "P:reason", one per line.
func collect(t *testing.T, parse parseFunc, in string) (string, feed.Stats, error) {
	t.Helper()
	var parts []string
	st, err := parse(strings.NewReader(in), func(e *focal.Event) error {
		checkEvent(t, e)
		if e.Destination.IP.IsValid() {
			parts = append(parts, netip.AddrPortFrom(e.Destination.IP, e.Destination.Port).String())
		} else {
			parts = append(parts, e.Destination.URL+" "+e.Malware)
		}
		return nil
	}, func(p feed.Problem) {
		if p.Line < 1 || len(p.Raw) > focal.MaxRawLine {
			t.Errorf("bad problem %+v", p)
		}
		parts = append(parts, "P:"+p.Reason)
	})
	return strings.Join(parts, "\n"), st, err
}

// matches compares got with want, part by part (one per line); a "P:"
// part of want matches a problem whose reason contains the rest.
func matches(got, want string) bool {
	if got == "" || want == "" {
		return got == want
	}
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
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

func TestEdgeCases(t *testing.T) {
	const sha = "0123456789abcdef0123456789abcdef01234567"
	tests := []struct {
		name  string
		parse parseFunc
		in    string
		want  string
	}{
		{"empty", ip, "", ""},
		{"comments-only", ip, "#\n# x\n\n", ""},
		{"no-header", ip, "2026-11-20 10:00:00,198.51.100.5,443", "198.51.100.5:443"},
		{"bom-crlf", ip, "\ufeff# Firstseen,DstIP,DstPort\r\n2026-11-20 10:00:00,198.51.100.5,443\r\n", "198.51.100.5:443"},
		{"header-spaces-case", ip, "#   FirstSeen , DstIP ,dstport  \n2026-11-20 10:00:00,198.51.100.5,443", "198.51.100.5:443"},
		{"v6", ip, "2026-11-20 10:00:00,2001:DB8:100::1,443", "[2001:db8:100::1]:443"},
		{"mapped", ip, "2026-11-20 10:00:00,::ffff:192.0.2.1,443", "192.0.2.1:443"},
		{"zone", ip, "2026-11-20 10:00:00,fe80::1%eth0,443", "P:column 2 (DstIP)"},
		{"cidr", ip, "2026-11-20 10:00:00,192.0.2.0/24,443", "P:column 2 (DstIP)"},
		{"port-zero", ip, "2026-11-20 10:00:00,192.0.2.1,0", "P:column 3 (DstPort)"},
		{"port-sign", ip, "2026-11-20 10:00:00,192.0.2.1,+443", "P:column 3 (DstPort)"},
		{"rfc3339", ip, "2026-11-20T10:00:00Z,192.0.2.1,443", "P:column 1 (Firstseen)"},
		{"year-0", ip, "0000-01-01 00:00:00,192.0.2.1,443", "P:column 1 (Firstseen): time before 1970"},
		{"two-columns", ip, "2026-11-20 10:00:00,192.0.2.1", "P:want 3 comma-separated columns (firstseen,dstip,dstport), got 2"},
		{"four-columns", ip, "2026-11-20 10:00:00,192.0.2.1,443,x", "P:got 4"},
		{"too-long", ip, strings.Repeat("1", feed.MaxLine+1) + "\n2026-11-20 10:00:00,192.0.2.1,443", "P:longer than\n192.0.2.1:443"},
		{"cert", cert, "2026-11-20 10:00:00," + sha + ",QakBot C&C", "urn:sha1:" + sha + " qakbot"},
		{"cert-upper", cert, "2026-11-20 10:00:00," + strings.ToUpper(sha) + ",Dridex C2", "urn:sha1:" + sha + " dridex"},
		{"cert-generic", cert, "2026-11-20 10:00:00," + sha + ",Malware C&C\n2026-11-20 10:00:00," + sha + ",C&C", "urn:sha1:" + sha + " \nurn:sha1:" + sha + " "},
		{"cert-comma-reason", cert, "2026-11-20 10:00:00," + sha + ",Gozi, variant C&C", "urn:sha1:" + sha + " gozi, variant"},
		{"cert-reason-no-suffix", cert, "2026-11-20 10:00:00," + sha + ",Gozi MITM", "urn:sha1:" + sha + " "},
		{"cert-no-reason", cert, "2026-11-20 10:00:00," + sha, "P:got 2"},
		{"cert-short-sha", cert, "2026-11-20 10:00:00," + sha[1:] + ",x", "P:column 2 (SHA1)"},
		{"cert-sha256", cert, "2026-11-20 10:00:00," + sha + sha[:24] + ",x", "P:column 2 (SHA1)"},
		{"cert-bad-time", cert, "2026-11-20," + sha + ",x", "P:column 1 (Listingdate)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, st, err := collect(t, tt.parse, tt.in)
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			if !matches(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			if st.Events+st.Problems > st.Lines {
				t.Errorf("stats %+v", st)
			}
		})
	}
}

func TestFormatChange(t *testing.T) {
	tests := []struct {
		name  string
		parse parseFunc
		in    string
		want  string
	}{
		{"cert-to-ip", ip, "# Listingdate,SHA1,Listingreason\n", `sslbl-ip: line 1: header is "listingdate,sha1,listingreason", want "firstseen,dstip,dstport" (this is the SSLBL certificate blacklist, format sslbl-cert): the feed format changed?`},
		{"ip-to-cert", cert, "#\n# Firstseen,DstIP,DstPort\n2026-11-20 10:00:00,198.51.100.5,443\n", `sslbl-cert: line 2: header is "firstseen,dstip,dstport", want "listingdate,sha1,listingreason" (this is the SSLBL IP blacklist, format sslbl-ip): the feed format changed?`},
		{"new-column", ip, "# Firstseen,DstIP,DstPort,Malware\n", `sslbl-ip: line 1: header is "firstseen,dstip,dstport,malware", want "firstseen,dstip,dstport": the feed format changed?`},
		{"html", cert, "<!DOCTYPE html>\n<html>", "sslbl-cert: line 1: the input looks like HTML or XML, not an SSLBL CSV list: the feed format changed?"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := collect(t, tt.parse, tt.in)
			if err == nil || err.Error() != tt.want {
				t.Errorf("err = %v\nwant %s", err, tt.want)
			}
		})
	}
}

func TestEventFields(t *testing.T) {
	line := "2026-11-20 10:11:12,198.51.100.5,443"
	var got *focal.Event
	if _, err := ip(strings.NewReader(line), func(e *focal.Event) error { got = e; return nil }, nil); err != nil || got == nil {
		t.Fatalf("err %v", err)
	}
	ts := time.Date(2026, 11, 20, 10, 11, 12, 0, time.UTC)
	want := focal.Event{
		SourceTime: ts, ObservedTime: testNow, Class: "malicious-code", Type: "c2-server",
		Destination: focal.Endpoint{IP: netip.MustParseAddr("198.51.100.5"), Port: 443},
		Feed:        "test-feed", Provider: "abuse.ch", TLP: focal.TLPClear, Confidence: 85,
		DedupKey: "test-feed|198.51.100.5:443|malicious-code/c2-server", Count: 1, FirstSeen: ts, LastSeen: ts, Raw: line,
	}
	if fmt.Sprint(*got) != fmt.Sprint(want) {
		t.Errorf("event\n%+v\nwant\n%+v", *got, want)
	}
	line = "2026-11-20 10:11:12,0123456789ABCDEF0123456789ABCDEF01234567,AsyncRAT C&C"
	if _, err := cert(strings.NewReader(line), func(e *focal.Event) error { got = e; return nil }, nil); err != nil {
		t.Fatalf("err %v", err)
	}
	const sha = "0123456789abcdef0123456789abcdef01234567"
	want.Destination = focal.Endpoint{URL: "urn:sha1:" + sha}
	want.Identifier, want.Malware = "sha1:"+sha, "asyncrat"
	want.DedupKey = "test-feed|sha1:" + sha + "|malicious-code/c2-server"
	want.Raw = line
	if fmt.Sprint(*got) != fmt.Sprint(want) {
		t.Errorf("event\n%+v\nwant\n%+v", *got, want)
	}
}

func TestFamily(t *testing.T) {
	for in, want := range map[string]string{
		"QakBot C&C": "qakbot", "Cobalt Strike C&C": "cobalt strike", " Dridex  CnC ": "dridex",
		"Malware C&C": "", "C&C": "", "": "", "Gozi MITM": "", "RAT C2": "", "QakBot": "",
		strings.Repeat("x", 65) + " C&C": "", "Gozi C&C, variant 3": "",
	} {
		if got := Family(in); got != want {
			t.Errorf("Family(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRequired(t *testing.T) {
	emit := func(*focal.Event) error { return nil }
	if _, err := ParseIP(strings.NewReader(""), feed.Feed{}, testNow, emit, nil); err == nil {
		t.Error("feed without a name accepted")
	}
	if _, err := ParseCert(strings.NewReader(""), testFeed, testNow, nil, nil); err == nil {
		t.Error("nil emit accepted")
	}
}

func TestInvalidEventIsProblem(t *testing.T) {
	f := testFeed
	f.Confidence = -1
	var probs []feed.Problem
	st, err := ParseIP(strings.NewReader("2026-11-20 10:00:00,198.51.100.5,443\n"), f, testNow,
		func(*focal.Event) error { t.Error("invalid event emitted"); return nil },
		func(p feed.Problem) { probs = append(probs, p) })
	if err != nil || len(probs) != 1 || !strings.Contains(probs[0].Reason, "invalid event: confidence") || st.Problems != 1 || st.Events != 0 {
		t.Errorf("err %v, problems %+v, stats %+v", err, probs, st)
	}
}

func TestEmitErrorStops(t *testing.T) {
	stop := errors.New("store down")
	for _, tt := range []struct {
		file  string
		parse parseFunc
	}{{"ip.csv", ip}, {"cert.csv", cert}} {
		in, err := os.ReadFile(filepath.Join("testdata", tt.file))
		if err != nil {
			t.Fatal(err)
		}
		calls := 0
		st, err := tt.parse(strings.NewReader(string(in)), func(*focal.Event) error { calls++; return stop }, nil)
		if !errors.Is(err, stop) || calls != 1 || st.Events != 0 {
			t.Errorf("%s: err %v, %d calls, stats %+v; want stop after the first", tt.file, err, calls, st)
		}
	}
}

// TestChunked checks the testdata parse the same whole and cut into
// chunks, as the pipeline does.
func TestChunked(t *testing.T) {
	for _, tt := range []struct {
		file, name string
		parse      parseFunc
	}{{"ip.csv", FormatIP, ip}, {"cert.csv", FormatCert, cert}} {
		in, err := os.ReadFile(filepath.Join("testdata", tt.file))
		if err != nil {
			t.Fatal(err)
		}
		checkChunked(t, format(tt.name, tt.parse), string(in), 1, 100, 1<<20)
	}
}

// checkChunked parses in whole and in chunks of each size in bytes and
// compares events and problems.
func checkChunked(t *testing.T, f *feed.Format, in string, sizes ...int) {
	t.Helper()
	run := feed.Run{Feed: testFeed, Now: testNow}
	var whole, wholeProbs []string
	_, werr := feed.ParseAll(f, strings.NewReader(in), run, func(e *focal.Event) error {
		whole = append(whole, describe(e)+"\t"+e.Raw)
		return nil
	}, func(p feed.Problem) { wholeProbs = append(wholeProbs, p.Error()) })
	for _, size := range sizes {
		var got, probs []string
		chunks := 0
		_, err := feed.Chunks(f, strings.NewReader(in), run, size, func(c feed.Chunk) error {
			chunks++
			_, err := feed.ParseChunk(f, c, run, func(e *focal.Event) error {
				got = append(got, describe(e)+"\t"+e.Raw)
				return nil
			}, func(p feed.Problem) { probs = append(probs, p.Error()) })
			return err
		}, func(p feed.Problem) { probs = append(probs, p.Error()) })
		if chunks == 0 && err == nil {
			// Only a preamble: the pipeline has nothing to parse (and
			// does not see a changed header with no data under it).
			continue
		}
		if (err == nil) != (werr == nil) {
			t.Fatalf("size %d: chunked error %v, whole error %v", size, err, werr)
		}
		if werr != nil {
			continue
		}
		if strings.Join(got, "\n") != strings.Join(whole, "\n") {
			t.Fatalf("size %d: chunked events differ\nwhole:\n%s\nchunked:\n%s", size, strings.Join(whole, "\n"), strings.Join(got, "\n"))
		}
		// Problems found while cutting the input (a line or record too
		// long, an unusable part of a document) are reported before the
		// chunk they precede is parsed: compare them in line order.
		sort.Strings(probs)
		sort.Strings(wholeProbs)
		if strings.Join(probs, "\n") != strings.Join(wholeProbs, "\n") {
			t.Fatalf("size %d: chunked problems differ\nwhole:\n%s\nchunked:\n%s", size, strings.Join(wholeProbs, "\n"), strings.Join(probs, "\n"))
		}
	}
}

func fuzzParse(f *testing.F, name string, parse parseFunc, seed string) {
	b, err := os.ReadFile(filepath.Join("testdata", seed))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(b))
	for _, l := range strings.Split(string(b), "\n") {
		f.Add(l)
	}
	f.Fuzz(func(t *testing.T, in string) {
		events, problems := 0, 0
		st, err := parse(strings.NewReader(in), func(e *focal.Event) error {
			events++
			checkEvent(t, e)
			return nil
		}, func(p feed.Problem) {
			problems++
			if p.Line < 1 || len(p.Raw) > focal.MaxRawLine || p.Reason == "" {
				t.Errorf("bad problem %+v", p)
			}
		})
		if st.Events != events || st.Problems != problems || st.Events+st.Problems > st.Lines {
			t.Errorf("stats %+v with %d events, %d problems (err %v)", st, events, problems, err)
		}
		// Chunks of a few lines: one line per chunk costs a 64 KiB
		// buffer per line and slows the fuzzer down.
		checkChunked(t, format(name, parse), in, 100, 1<<20)
	})
}

func FuzzIP(f *testing.F) { fuzzParse(f, FormatIP, ip, "ip.csv") }

func FuzzCert(f *testing.F) { fuzzParse(f, FormatCert, cert, "cert.csv") }
