package spamhaus

import (
	"errors"
	"flag"
	"fmt"
	"io"
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
	testFeed = feed.Feed{Name: "test-feed", Provider: "Spamhaus", TLP: focal.TLPClear, Confidence: 90}
	testNow  = time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
)

type parseFunc func(r io.Reader, emit feed.Emit, report feed.Report) (feed.Stats, error)

func drop(r io.Reader, emit feed.Emit, report feed.Report) (feed.Stats, error) {
	return ParseDROP(r, testFeed, Options{}, testNow, emit, report)
}

func asnDrop(r io.Reader, emit feed.Emit, report feed.Report) (feed.Stats, error) {
	return ParseASNDROP(r, testFeed, Options{}, testNow, emit, report)
}

// format is the registry's framing of each parser (see
// internal/feed/formats/spamhaus.go), for the chunking checks.
func format(name string, parse parseFunc) *feed.Format {
	return &feed.Format{
		Name:     name,
		Comments: []string{";"},
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
	src := e.Source.IP.String()
	if !e.Source.IP.IsValid() {
		src = "-"
	}
	return fmt.Sprintf("%s\tasn=%d cc=%q\t%s/%s\tid=%q\t%s", src, e.Source.ASN, e.Source.Country, e.Class, e.Type, e.Identifier, e.DedupKey)
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
	if e.Source.IP.IsValid() == (e.Source.ASN != 0) {
		t.Errorf("want an address or an AS number: %+v", e.Source)
	}
	if e.Source.IP.Is4In6() || e.Source.IP.Zone() != "" {
		t.Errorf("source IP %v not a plain unmapped address", e.Source.IP)
	}
	if e.Count != 1 || !e.SourceTime.Equal(testNow) || !e.FirstSeen.Equal(testNow) || !e.LastSeen.Equal(testNow) ||
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
	}{
		{"drop.txt", drop},
		{"drop.ndjson", drop},
		{"asndrop.txt", asnDrop},
		{"asndrop.ndjson", asnDrop},
	} {
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

// collect parses in and returns the events as "source identifier" (or
// "source -") and problems as "P:reason", one per line.
func collect(t *testing.T, parse parseFunc, in string) (string, feed.Stats, error) {
	t.Helper()
	var parts []string
	st, err := parse(strings.NewReader(in), func(e *focal.Event) error {
		checkEvent(t, e)
		src := e.Source.IP.String()
		if e.Source.ASN != 0 {
			src = fmt.Sprintf("AS%d/%s", e.Source.ASN, e.Source.Country)
		}
		id := e.Identifier
		if id == "" {
			id = "-"
		}
		parts = append(parts, src+" "+id)
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
	tests := []struct {
		name  string
		parse parseFunc
		in    string
		want  string
	}{
		{"empty", drop, "", ""},
		{"comments-only", drop, "; a\n;b\n\n  ; c\n", ""},
		{"bom-crlf", drop, "\ufeff198.51.100.0/24 ; SBL1\r\n192.0.2.0/24 ; SBL2\r\n", "198.51.100.0 cidr:198.51.100.0/24\n192.0.2.0 cidr:192.0.2.0/24"},
		{"no-sbl", drop, "198.51.100.0/24\n198.51.100.0/24 ;\n", "198.51.100.0 cidr:198.51.100.0/24\n198.51.100.0 cidr:198.51.100.0/24"},
		{"host-bits", drop, "203.0.113.77/25 ; SBL1", "203.0.113.0 cidr:203.0.113.0/25"},
		{"full-length", drop, "192.0.2.1/32 ; SBL1\n2001:db8:100::1/128", "192.0.2.1 -\n2001:db8:100::1 -"},
		{"mapped", drop, "::ffff:203.0.113.0/121", "203.0.113.0 cidr:203.0.113.0/25"},
		{"mapped-short", drop, "::ffff:0:0/95", "P:shorter than /96"},
		{"zone", drop, "fe80::1%eth0", "P:not a CIDR prefix or IP address"},
		{"text-after", drop, "198.51.100.0/24 SBL1", "P:want \"PREFIX ; SBLID\""},
		{"too-long", drop, strings.Repeat("1", feed.MaxLine+1) + "\n192.0.2.0/24", "P:longer than\n192.0.2.0 cidr:192.0.2.0/24"},
		{"json", drop, `{"cidr":"2001:db8:100::/40","sblid":"SBL1","rir":"ripencc"}`, "2001:db8:100:: cidr:2001:db8:100::/40"},
		{"json-metadata", drop, `{"type":"metadata","timestamp":1,"records":0}` + "\n" + `{"type":"METADATA"}`, ""},
		{"json-other-type", drop, `{"type":"note","cidr":"192.0.2.0/24"}`, "P:unknown record type \"note\""},
		{"json-wrong-type", drop, `{"cidr":["192.0.2.0/24"]}`, "P:cidr: want a string, got a JSON array"},
		{"json-not-object", drop, `{"cidr":"192.0.2.0/24"} {"x":1}`, "P:bad JSON"},
		{"json-null", drop, `{"cidr":null}`, "P:cidr: missing"},
		{"json-asn-null", drop, `{"asn":null}`, "P:cidr: missing"},
		{"json-cidr-space", drop, `{"cidr":"198.51.100.0/24 "}`, "198.51.100.0 cidr:198.51.100.0/24"},
		{"asn-text", asnDrop, "AS64500 ; FR | X\nas64501;de|Y\n64502", "AS64500/FR asn:64500\nAS64501/DE asn:64501\nAS64502/ asn:64502"},
		{"asn-max", asnDrop, "AS4294967295 ; ZZ | X", "AS4294967295/ZZ asn:4294967295"},
		{"asn-overflow", asnDrop, "AS4294967296", "P:want \"ASN ; CC | NAME\""},
		{"asn-sign", asnDrop, "AS+64500\nAS-1", "P:want \"ASN ; CC | NAME\"\nP:want \"ASN ; CC | NAME\""},
		{"asn-no-cc", asnDrop, "AS64500 ; | X\nAS64501 ; F | X\nAS64502 ; 12 | X", "AS64500/ asn:64500\nAS64501/ asn:64501\nAS64502/ asn:64502"},
		{"asn-json", asnDrop, `{"asn":64500,"cc":"fr"}`, "AS64500/FR asn:64500"},
		{"asn-json-string", asnDrop, `{"asn":" AS64500 "}`, "AS64500/ asn:64500"},
		{"asn-json-exp", asnDrop, `{"asn":6.45e4}`, "P:asn: want an AS number"},
		{"asn-json-zero", asnDrop, `{"asn":"0"}`, "P:asn: want an AS number"},
		{"asn-json-metadata", asnDrop, `{"type":"metadata"}`, ""},
		{"asn-json-type", asnDrop, `{"asn":64500,"cc":["FR"]}`, "P:cc: want a string"},
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
		{"html", drop, "; x\n<!DOCTYPE html>\n", "spamhaus-drop: line 2: the input looks like HTML or XML, not a Spamhaus list: the feed format changed?"},
		{"asn-in-drop", drop, "198.51.100.0/24 ; SBL1\nAS64500 ; FR | X\n", "spamhaus-drop: line 2: \"AS64500\" is an AS number: this is ASN-DROP, read it with format spamhaus-asndrop"},
		{"asn-json-in-drop", drop, `{"asn":64500,"cc":"FR"}`, "spamhaus-drop: line 1: the record has \"asn\" and no \"cidr\": this is ASN-DROP, read it with format spamhaus-asndrop"},
		{"drop-in-asn", asnDrop, "198.51.100.0/24 ; SBL1\n", "spamhaus-asndrop: line 1: \"198.51.100.0/24\" is a network prefix: this is DROP or EDROP, read it with format spamhaus-drop"},
		{"drop-json-in-asn", asnDrop, "\n" + `{"cidr":"198.51.100.0/24","sblid":"SBL1"}`, "spamhaus-asndrop: line 2: the record has \"cidr\" and no \"asn\": this is DROP or EDROP, read it with format spamhaus-drop"},
		{"html-asn", asnDrop, "<html><body>Moved</body></html>", "spamhaus-asndrop: line 1: the input looks like HTML or XML"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := collect(t, tt.parse, tt.in)
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestOptions(t *testing.T) {
	emit := func(*focal.Event) error { return nil }
	for _, opt := range []Options{{Class: "abusive-content"}, {Type: "spam"}, {Class: "nonsense", Type: "x"}, {Class: "abusive-content", Type: "c2-server"}} {
		if _, err := ParseDROP(strings.NewReader("192.0.2.0/24"), testFeed, opt, testNow, emit, nil); err == nil {
			t.Errorf("options %+v accepted", opt)
		}
	}
	var got *focal.Event
	_, err := ParseASNDROP(strings.NewReader("AS64500 ; FR | X"), testFeed, Options{Class: " Abusive-Content", Type: "SPAM "}, testNow,
		func(e *focal.Event) error { got = e; return nil }, nil)
	if err != nil || got == nil || got.Class != "abusive-content" || got.Type != "spam" || got.DedupKey != "test-feed|asn:64500|abusive-content/spam" {
		t.Errorf("err %v, event %+v", err, got)
	}
	if _, err := ParseDROP(strings.NewReader(""), feed.Feed{}, Options{}, testNow, emit, nil); err == nil {
		t.Error("feed without a name accepted")
	}
	if _, err := ParseASNDROP(strings.NewReader(""), testFeed, Options{}, testNow, nil, nil); err == nil {
		t.Error("nil emit accepted")
	}
}

func TestEventFields(t *testing.T) {
	var got []*focal.Event
	in := "198.51.100.0/24 ; SBL100001\n"
	_, err := ParseDROP(strings.NewReader(in), testFeed, Options{}, testNow, func(e *focal.Event) error { got = append(got, e); return nil }, nil)
	if err != nil || len(got) != 1 {
		t.Fatalf("err %v, %d events", err, len(got))
	}
	e := got[0]
	if e.Source.IP.String() != "198.51.100.0" || e.Identifier != "cidr:198.51.100.0/24" || e.Class != "other" || e.Type != "other" ||
		e.DedupKey != "test-feed|198.51.100.0/24|other/other" || e.Raw != strings.TrimSuffix(in, "\n") || !e.Destination.IsZero() {
		t.Errorf("event %+v", e)
	}
	got = nil
	in = `{"asn":64500,"rir":"arin","domain":"example-telecom.example","cc":"US","asname":"EXAMPLE-AS"}`
	_, err = ParseASNDROP(strings.NewReader(in), testFeed, Options{}, testNow, func(e *focal.Event) error { got = append(got, e); return nil }, nil)
	if err != nil || len(got) != 1 {
		t.Fatalf("err %v, %d events", err, len(got))
	}
	e = got[0]
	want := focal.Endpoint{ASN: 64500, Country: "US"}
	if e.Source != want || e.Identifier != "asn:64500" || e.DedupKey != "test-feed|asn:64500|other/other" || e.Raw != in {
		t.Errorf("event %+v", e)
	}
}

func TestInvalidEventIsProblem(t *testing.T) {
	f := testFeed
	f.Confidence = 101
	var probs []feed.Problem
	st, err := ParseDROP(strings.NewReader("192.0.2.0/24\n"), f, Options{}, testNow,
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
	}{{"drop.txt", drop}, {"drop.ndjson", drop}, {"asndrop.txt", asnDrop}, {"asndrop.ndjson", asnDrop}} {
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
	}{{"drop.txt", FormatDROP, drop}, {"drop.ndjson", FormatDROP, drop}, {"asndrop.txt", FormatASNDROP, asnDrop}, {"asndrop.ndjson", FormatASNDROP, asnDrop}} {
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

func fuzzParse(f *testing.F, name string, parse parseFunc, seeds ...string) {
	for _, s := range seeds {
		b, err := os.ReadFile(filepath.Join("testdata", s))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
		for _, l := range strings.Split(string(b), "\n") {
			f.Add(l)
		}
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

func FuzzDROP(f *testing.F) { fuzzParse(f, FormatDROP, drop, "drop.txt", "drop.ndjson") }

func FuzzASNDROP(f *testing.F) { fuzzParse(f, FormatASNDROP, asnDrop, "asndrop.txt", "asndrop.ndjson") }
