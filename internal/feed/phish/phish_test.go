package phish

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
	testFeed = feed.Feed{Name: "test-feed", Provider: "example", TLP: focal.TLPGreen, Confidence: 75}
	testNow  = time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
)

type parseFunc func(r io.Reader, emit feed.Emit, report feed.Report) (feed.Stats, error)

func openPhish(r io.Reader, emit feed.Emit, report feed.Report) (feed.Stats, error) {
	return ParseOpenPhish(r, testFeed, testNow, emit, report)
}

func phishTank(r io.Reader, emit feed.Emit, report feed.Report) (feed.Stats, error) {
	return ParsePhishTank(r, testFeed, testNow, emit, report)
}

// format is the registry's framing of each parser (see
// internal/feed/formats/phish.go), for the chunking checks.
func format(name string, parse parseFunc) *feed.Format {
	f := &feed.Format{
		Name: name,
		Parse: func(r io.Reader, _ feed.Run, emit feed.Emit, report feed.Report) (feed.Stats, error) {
			return parse(r, emit, report)
		},
	}
	if name == FormatOpenPhish {
		f.Comments = []string{"#"}
	} else {
		f.HeaderLines = 1
	}
	return f
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
	d := e.Destination
	host := d.FQDN
	if d.IP.IsValid() {
		host = d.IP.String()
	}
	return fmt.Sprintf("%s..%s\t%s host=%q port=%d\t%s/%s\tid=%q\t%s", e.FirstSeen.Format(time.RFC3339), e.LastSeen.Format(time.RFC3339),
		d.URL, host, d.Port, e.Class, e.Type, e.Identifier, e.DedupKey)
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
	d := e.Destination
	if e.Class != Class || e.Type != Type || !e.Source.IsZero() || d.URL == "" || len(d.URL) > MaxURL ||
		(d.IP.IsValid() && d.FQDN != "") || d.IP.Is4In6() || d.IP.Zone() != "" {
		t.Errorf("classification or endpoints: %+v", e)
	}
	if e.Count != 1 || e.SourceTime.IsZero() || !e.FirstSeen.Equal(e.SourceTime) || e.LastSeen.Before(e.FirstSeen) ||
		!e.ObservedTime.Equal(testNow) || e.Feed != testFeed.Name || e.Provider != testFeed.Provider ||
		e.TLP != testFeed.TLP || e.Confidence != testFeed.Confidence {
		t.Errorf("run and feed defaults not applied: %+v", e)
	}
	if e.DedupKey != testFeed.Name+"|"+d.URL+"|fraud/phishing" {
		t.Errorf("dedup key %q", e.DedupKey)
	}
	if len(e.Raw) > focal.MaxRawLine {
		t.Errorf("raw %d bytes", len(e.Raw))
	}
}

func TestGolden(t *testing.T) {
	long := strings.Repeat("h", feed.MaxLine+1) + "\n"
	for _, tt := range []struct {
		file  string
		parse parseFunc
	}{{"openphish.txt", openPhish}, {"phishtank.csv", phishTank}} {
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

func TestEndpoint(t *testing.T) {
	tests := []struct {
		in   string
		want focal.Endpoint
		err  string
	}{
		{"https://Login.Univ.Example/x", focal.Endpoint{URL: "https://Login.Univ.Example/x", FQDN: "login.univ.example"}, ""},
		{"http://univ.example.:8080", focal.Endpoint{URL: "http://univ.example.:8080", FQDN: "univ.example", Port: 8080}, ""},
		{"http://198.51.100.1./", focal.Endpoint{URL: "http://198.51.100.1./", IP: netip.MustParseAddr("198.51.100.1")}, ""},
		{"http://[2001:db8:100::1]:443/", focal.Endpoint{URL: "http://[2001:db8:100::1]:443/", IP: netip.MustParseAddr("2001:db8:100::1"), Port: 443}, ""},
		{"http://user:pw@univ.example/", focal.Endpoint{URL: "http://user:pw@univ.example/", FQDN: "univ.example"}, ""},
		{"http://localhost/x", focal.Endpoint{URL: "http://localhost/x"}, ""},
		{"http://under_score.univ.example/", focal.Endpoint{URL: "http://under_score.univ.example/"}, ""},
		{"http://0x7f.1/", focal.Endpoint{URL: "http://0x7f.1/"}, ""},
		{"http://bücher.example/", focal.Endpoint{URL: "http://bücher.example/"}, ""},
		{"", focal.Endpoint{}, "empty URL"},
		{"univ.example/x", focal.Endpoint{}, "want an absolute URL"},
		{"http:///x", focal.Endpoint{}, "want an absolute URL"},
		{"mailto:a@univ.example", focal.Endpoint{}, "want an absolute URL"},
		{"http://univ.example/a b", focal.Endpoint{}, "white space"},
		{"http://univ.example/\x00", focal.Endpoint{}, "control"},
		{"http://univ.example:0/", focal.Endpoint{}, "not from 1 to 65535"},
		{"http://univ.example:65536/", focal.Endpoint{}, "not from 1 to 65535"},
		{"http://[fe80::1%25eth0]/", focal.Endpoint{}, "has a zone"},
		{"http://%41/", focal.Endpoint{}, "not a URL"},
		{"http://univ.example/" + strings.Repeat("a", MaxURL), focal.Endpoint{}, "longer than"},
	}
	for _, tt := range tests {
		got, err := Endpoint(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("Endpoint(%q) = %+v, %v; want error %q", tt.in, got, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("Endpoint(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
}

func TestPhishTankEvent(t *testing.T) {
	line := `8000002,"http://198.51.100.61/secure/index.php?a=1,b=2",http://www.phishtank.com/phish_detail.php?phish_id=8000002,2026-11-20T11:00:00+01:00,yes,2026-11-20T12:30:00+00:00,yes,PayPal`
	var got *focal.Event
	_, err := phishTank(strings.NewReader(strings.Join(phishTankHeader, ",")+"\r\n"+line+"\r\n"), func(e *focal.Event) error { got = e; return nil }, nil)
	if err != nil || got == nil {
		t.Fatalf("err %v, event %v", err, got)
	}
	sub, ver := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC), time.Date(2026, 11, 20, 12, 30, 0, 0, time.UTC)
	want := focal.Event{
		SourceTime: sub, ObservedTime: testNow, Class: "fraud", Type: "phishing",
		Destination: focal.Endpoint{URL: "http://198.51.100.61/secure/index.php?a=1,b=2", IP: netip.MustParseAddr("198.51.100.61")},
		Identifier:  "PayPal", Feed: "test-feed", Provider: "example", TLP: focal.TLPGreen, Confidence: 75,
		DedupKey: "test-feed|http://198.51.100.61/secure/index.php?a=1,b=2|fraud/phishing", Count: 1,
		FirstSeen: sub, LastSeen: ver, Raw: line,
	}
	if fmt.Sprint(*got) != fmt.Sprint(want) {
		t.Errorf("event\n%+v\nwant\n%+v", *got, want)
	}
	if got.SourceTime.Location() != time.UTC {
		t.Errorf("time not in UTC: %v", got.SourceTime)
	}
}

func TestOpenPhishEvent(t *testing.T) {
	var got *focal.Event
	_, err := openPhish(strings.NewReader("  https://northwind.example:8443/login  \n"), func(e *focal.Event) error { got = e; return nil }, nil)
	if err != nil || got == nil {
		t.Fatalf("err %v, event %v", err, got)
	}
	want := focal.Endpoint{URL: "https://northwind.example:8443/login", FQDN: "northwind.example", Port: 8443}
	if got.Destination != want || !got.SourceTime.Equal(testNow) || !got.LastSeen.Equal(testNow) || got.Identifier != "" ||
		got.Raw != "  https://northwind.example:8443/login  " {
		t.Errorf("event %+v", got)
	}
}

// collect parses in and returns the events as their URL and problems as
// "P:reason", one per line.
func collect(t *testing.T, parse parseFunc, in string) (string, feed.Stats, error) {
	t.Helper()
	var parts []string
	st, err := parse(strings.NewReader(in), func(e *focal.Event) error {
		checkEvent(t, e)
		parts = append(parts, e.Destination.URL)
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
	hdr := strings.Join(phishTankHeader, ",") + "\n"
	row := func(url, sub, verified, ver, target string) string {
		return "1," + url + ",http://www.phishtank.com/phish_detail.php?phish_id=1," + sub + "," + verified + "," + ver + ",yes," + target
	}
	const u = "https://univ.example/x"
	tests := []struct {
		name  string
		parse parseFunc
		in    string
		want  string
	}{
		{"op-empty", openPhish, "", ""},
		{"op-comments", openPhish, "#\n  # x\n\n", ""},
		{"op-bom-crlf", openPhish, "\ufeff" + u + "\r\n" + u + "\r\n", u + "\n" + u},
		{"op-too-long", openPhish, strings.Repeat("h", feed.MaxLine+1) + "\n" + u, "P:longer than\n" + u},
		{"op-url-too-long", openPhish, u + strings.Repeat("a", MaxURL), "P:URL longer than"},
		{"op-two-urls", openPhish, u + " " + u, "P:white space"},
		{"pt-header-only", phishTank, hdr, ""},
		{"pt-bom-header-case", phishTank, "\ufeff\n" + strings.ToUpper(hdr) + row(u, "2026-11-20T10:00:00Z", "yes", "", "Other"), u},
		{"pt-quoted-header", phishTank, `"phish_id","url","phish_detail_url","submission_time","verified","verification_time","online","target"` + "\n" + row(u, "2026-11-20T10:00:00Z", "yes", "", ""), u},
		{"pt-unverified", phishTank, hdr + row(u, "2026-11-20T10:00:00Z", "no", "", ""), "P:column 5 (verified): not verified"},
		{"pt-verified-case", phishTank, hdr + row(u, "2026-11-20T10:00:00Z", "YES", "", ""), u},
		{"pt-bad-verified", phishTank, hdr + row(u, "2026-11-20T10:00:00Z", "", "", ""), "P:column 5 (verified): want yes or no"},
		{"pt-bad-sub", phishTank, hdr + row(u, "2026-11-20", "yes", "", ""), "P:column 4 (submission_time)"},
		{"pt-sub-range", phishTank, hdr + row(u, "0000-01-01T00:00:00+01:00", "yes", "", ""), "P:column 4 (submission_time): time"},
		{"pt-bad-ver", phishTank, hdr + row(u, "2026-11-20T10:00:00Z", "yes", "now", ""), "P:column 6 (verification_time)"},
		{"pt-bad-url", phishTank, hdr + row("univ.example", "2026-11-20T10:00:00Z", "yes", "", ""), "P:column 2 (url): want an absolute URL"},
		{"pt-bad-id", phishTank, hdr + strings.Replace(row(u, "2026-11-20T10:00:00Z", "yes", "", ""), "1,", "0,", 1), "P:column 1 (phish_id)"},
		{"pt-columns", phishTank, hdr + "1,2,3", "P:want 8 columns"},
		{"pt-bad-csv", phishTank, hdr + `1,"x,y`, "P:bad CSV"},
		{"pt-too-long", phishTank, hdr + strings.Repeat("h", feed.MaxLine+1) + "\n" + row(u, "2026-11-20T10:00:00Z", "yes", "", ""), "P:longer than\n" + u},
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
		{"pt-no-header", phishTank, "8000001,https://univ.example/,x,2026-11-20T10:00:00Z,yes,,yes,Other\n",
			`phishtank: line 1: want the header "phish_id,url,phish_detail_url,submission_time,verified,verification_time,online,target", found "8000001,https://univ.example/,x,2026-11-20t10:00:00z,yes,,yes,other": the feed format changed?`},
		{"pt-new-column", phishTank, "\nphish_id,url,phish_detail_url,submission_time,verified,verification_time,online,target,asn\n",
			`phishtank: line 2: want the header "phish_id,url,phish_detail_url,submission_time,verified,verification_time,online,target", found "phish_id,url,phish_detail_url,submission_time,verified,verification_time,online,target,asn": the feed format changed?`},
		{"pt-json", phishTank, `[{"phish_id":"1","url":"https://univ.example/"}]`,
			`phishtank: line 1: want the header "phish_id,url,phish_detail_url,submission_time,verified,verification_time,online,target", found "[{\"phish_id\":\"1\",\"url\":\"https://univ.example/\"}]": the feed format changed?`},
		{"op-html", openPhish, "# x\n<html><body>Rate limited</body></html>\n",
			"openphish: line 2: the input looks like HTML or XML, not a list of URLs: the feed format changed?"},
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

func TestRequired(t *testing.T) {
	emit := func(*focal.Event) error { return nil }
	if _, err := ParseOpenPhish(strings.NewReader(""), feed.Feed{}, testNow, emit, nil); err == nil {
		t.Error("feed without a name accepted")
	}
	if _, err := ParsePhishTank(strings.NewReader(""), testFeed, testNow, nil, nil); err == nil {
		t.Error("nil emit accepted")
	}
}

func TestInvalidEventIsProblem(t *testing.T) {
	f := testFeed
	f.Confidence = 101
	var probs []feed.Problem
	st, err := ParseOpenPhish(strings.NewReader("https://univ.example/\n"), f, testNow,
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
	}{{"openphish.txt", openPhish}, {"phishtank.csv", phishTank}} {
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
	}{{"openphish.txt", FormatOpenPhish, openPhish}, {"phishtank.csv", FormatPhishTank, phishTank}} {
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
	lines := strings.Split(string(b), "\n")
	for _, l := range lines[1:] {
		// With the first line, for phishtank's header.
		f.Add(lines[0] + "\n" + l)
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

func FuzzOpenPhish(f *testing.F) { fuzzParse(f, FormatOpenPhish, openPhish, "openphish.txt") }

func FuzzPhishTank(f *testing.F) { fuzzParse(f, FormatPhishTank, phishTank, "phishtank.csv") }
