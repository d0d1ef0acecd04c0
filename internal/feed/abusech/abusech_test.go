package abusech

import (
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"focal/internal/feed"
	"focal/internal/focal"
)

type parser func(io.Reader, feed.Feed, time.Time, feed.Emit, feed.Report) (feed.Stats, error)

var (
	testNow  = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	testFeed = feed.Feed{Name: "test-feed", Provider: "abuse.ch", TLP: focal.TLPClear, Confidence: 80}
)

// run parses in, collecting the events and a log of events and problems.
func run(t testing.TB, p parser, in string) (string, []*focal.Event, feed.Stats, error) {
	t.Helper()
	var b strings.Builder
	var events []*focal.Event
	st, err := p(strings.NewReader(in), testFeed, testNow, func(e *focal.Event) error {
		events = append(events, e)
		fmt.Fprintf(&b, "%s\t%s/%s\t%s\n", strings.TrimPrefix(e.DedupKey, testFeed.Name+"|"), e.Class, e.Type, e.Malware)
		return nil
	}, func(pr feed.Problem) {
		fmt.Fprintf(&b, "PROBLEM %d\t%s\n", pr.Line, pr.Reason)
	})
	return b.String(), events, st, err
}

// csvLineOf finds the line an event came from: the line equal to its Raw.
func csvLineOf(in, raw string) int {
	for i, l := range strings.Split(in, "\n") {
		if strings.TrimSuffix(l, "\r") == raw {
			return i + 1
		}
	}
	return 0
}

// render runs p over in and renders events as line<TAB>indicator<TAB>
// class/type<TAB>malware, problems as PROBLEM line<TAB>reason, then the
// error and the stats.
func render(t testing.TB, p parser, in string, jsonLines bool) string {
	t.Helper()
	var b strings.Builder
	// An event does not carry its line: find it in the input.
	st, err := p(strings.NewReader(in), testFeed, testNow, func(e *focal.Event) error {
		n := 0
		if jsonLines {
			n = jsonLineOf(in, e)
		} else {
			n = csvLineOf(in, e.Raw)
		}
		fmt.Fprintf(&b, "%d\t%s\t%s/%s\t%s\n", n, strings.TrimPrefix(e.DedupKey, testFeed.Name+"|"), e.Class, e.Type, e.Malware)
		return nil
	}, func(pr feed.Problem) {
		fmt.Fprintf(&b, "PROBLEM %d\t%s\n", pr.Line, pr.Reason)
	})
	if err != nil {
		fmt.Fprintf(&b, "ERROR %v\n", err)
	}
	fmt.Fprintf(&b, "STATS lines=%d events=%d problems=%d\n", st.Lines, st.Events, st.Problems)
	return b.String()
}

// jsonLineOf finds the line the event's element starts on: the line with
// its "ip_address", or the nearest "{" line before it.
func jsonLineOf(in string, e *focal.Event) int {
	lines := strings.Split(in, "\n")
	for i, l := range lines {
		if strings.Contains(l, `"ip_address": "`+e.Destination.IP.String()+`"`) {
			for j := i; j >= 0; j-- {
				if strings.HasPrefix(strings.TrimSpace(lines[j]), "{") {
					return j + 1
				}
			}
			return i + 1
		}
	}
	return 0
}

func TestGolden(t *testing.T) {
	for _, tt := range []struct {
		file string
		p    parser
		json bool
	}{
		{"feodo.csv", ParseFeodoCSV, false},
		{"feodo.json", ParseFeodoJSON, true},
		{"urlhaus.csv", ParseURLhaus, false},
	} {
		t.Run(tt.file, func(t *testing.T) {
			in, err := os.ReadFile(filepath.Join("testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			got := render(t, tt.p, string(in), tt.json)
			golden := filepath.Join("testdata", tt.file+".golden")
			if os.Getenv("FOCAL_UPDATE_GOLDEN") == "1" {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if got != string(want) {
				t.Errorf("%s: got\n%s\nwant\n%s", tt.file, got, want)
			}
		})
	}
}

func TestFeodoCSVEvent(t *testing.T) {
	line := `"2026-11-01 10:00:00","198.51.100.7","443","online","2026-11-20","Dridex"`
	_, events, st, err := run(t, ParseFeodoCSV, "# comment\r\n"+line+"\r\n")
	if err != nil || len(events) != 1 || st.Lines != 2 || st.Events != 1 || st.Problems != 0 {
		t.Fatalf("got %d events, stats %+v, err %v", len(events), st, err)
	}
	e := events[0]
	first := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	want := focal.Event{
		SourceTime: first, ObservedTime: testNow,
		Class: "malicious-code", Type: "c2-server",
		Destination: focal.Endpoint{IP: netip.MustParseAddr("198.51.100.7"), Port: 443},
		Malware:     "dridex", Identifier: "online",
		Feed: "test-feed", Provider: "abuse.ch", TLP: focal.TLPClear, Confidence: 80,
		DedupKey: "test-feed|198.51.100.7:443", Count: 1,
		FirstSeen: first, LastSeen: time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC),
		Raw: line,
	}
	if fmt.Sprint(*e) != fmt.Sprint(want) {
		t.Errorf("event\n%+v\nwant\n%+v", *e, want)
	}
}

func TestFeodoJSONEvent(t *testing.T) {
	in := `[{"ip_address":"203.0.113.45","port":"8080","status":"offline","hostname":"C2.Example.NET.","as_number":64511,"as_name":"X","country":"de","first_seen":"2026-11-02 11:30:00","last_online":"2026-11-02","malware":"QakBot"}]`
	_, events, st, err := run(t, ParseFeodoJSON, in)
	if err != nil || len(events) != 1 || st.Lines != 1 || st.Events != 1 {
		t.Fatalf("got %d events, stats %+v, err %v", len(events), st, err)
	}
	e := events[0]
	wantDst := focal.Endpoint{IP: netip.MustParseAddr("203.0.113.45"), Port: 8080, ASN: 64511, Country: "DE", FQDN: "c2.example.net"}
	if e.Destination != wantDst {
		t.Errorf("destination %+v, want %+v", e.Destination, wantDst)
	}
	first := time.Date(2026, 11, 2, 11, 30, 0, 0, time.UTC)
	if !e.FirstSeen.Equal(first) || !e.LastSeen.Equal(first) || e.Count != 1 || e.Malware != "qakbot" ||
		e.Identifier != "offline" || e.DedupKey != "test-feed|203.0.113.45:8080" || e.Raw != in[1:len(in)-1] {
		t.Errorf("event %+v", *e)
	}
}

func TestURLhausEvent(t *testing.T) {
	line := `"1","2026-11-01 10:00:00","http://Malware.Example.com:8080/x","online","2026-11-02 08:00:00","malware_download","elf,Mirai","https://urlhaus.example.org/url/1/","r"`
	_, events, _, err := run(t, ParseURLhaus, line)
	if err != nil || len(events) != 1 {
		t.Fatalf("got %d events, err %v", len(events), err)
	}
	e := events[0]
	want := focal.Endpoint{URL: "http://Malware.Example.com:8080/x", FQDN: "malware.example.com", Port: 8080}
	if e.Destination != want || e.Malware != "mirai" || e.Identifier != "malware_download" ||
		e.DedupKey != "test-feed|http://Malware.Example.com:8080/x" ||
		!e.LastSeen.Equal(time.Date(2026, 11, 2, 8, 0, 0, 0, time.UTC)) {
		t.Errorf("event %+v", *e)
	}
}

func TestEdgeCases(t *testing.T) {
	const good = `"2026-11-01 10:00:00","198.51.100.7","443","online","2026-11-20","Dridex"`
	const ugood = `"1","2026-11-01 10:00:00","http://a.example.com/x","online","","malware_download","","https://urlhaus.example.org/url/1/","r"`
	tests := []struct {
		name    string
		p       parser
		in      string
		events  int
		probs   int
		wantErr string // substring; "" = no error
	}{
		{"csv-empty", ParseFeodoCSV, "", 0, 0, ""},
		{"csv-only-comments", ParseFeodoCSV, "# a\n#\n\n", 0, 0, ""},
		{"csv-bom-crlf", ParseFeodoCSV, "\ufeff" + good + "\r\n" + good + "\r\n", 2, 0, ""},
		{"csv-first-row-short", ParseFeodoCSV, "# x\n\"a\",\"b\",\"c\",\"d\"\n" + good, 0, 0, "feodo-csv: line 2: want 6 fields"},
		{"csv-later-row-short", ParseFeodoCSV, good + "\n\"a\",\"b\"\n", 1, 1, ""},
		{"csv-header-changed", ParseFeodoCSV, "# \"first_seen_utc\",\"dst_ip\",\"dst_port\",\"asn\"\n" + good, 0, 0, "header is"},
		{"csv-header-uncommented", ParseFeodoCSV, "first_seen_utc,dst_ip,dst_port,c2_status,last_online,malware\n" + good, 1, 0, ""},
		{"csv-too-long", ParseFeodoCSV, good + "\n" + strings.Repeat("x", feed.MaxLine+1) + "\n" + good, 2, 1, ""},
		{"csv-mapped-v6", ParseFeodoCSV, `"2026-11-01 10:00:00","::ffff:192.0.2.1","443","online","","x"`, 1, 0, ""},
		{"csv-zone", ParseFeodoCSV, good + "\n" + `"2026-11-01 10:00:00","fe80::1%eth0","443","online","","x"`, 1, 1, ""},
		{"csv-port-zero", ParseFeodoCSV, good + "\n" + `"2026-11-01 10:00:00","192.0.2.1","0","online","","x"`, 1, 1, ""},
		{"json-empty-array", ParseFeodoJSON, " [ ] \n", 0, 0, ""},
		{"json-empty-input", ParseFeodoJSON, "", 0, 0, "empty input"},
		{"json-object", ParseFeodoJSON, `{"ip_address":"192.0.2.1"}`, 0, 0, "top-level value is an object"},
		{"json-string", ParseFeodoJSON, `"x"`, 0, 0, "top-level value is a string"},
		{"json-truncated", ParseFeodoJSON, `[{"ip_address":"192.0.2.1","port":443,"first_seen":"2026-11-01 10:00:00"},{"ip_a`, 1, 1, "unexpected EOF"},
		{"json-syntax", ParseFeodoJSON, "[\n{\"ip_address\":\"192.0.2.1\",\"port\":443,\"first_seen\":\"2026-11-01 10:00:00\"},\n{\"ip_address\" \"x\"}]", 1, 1, "line 3: element 1"},
		{"json-trailing", ParseFeodoJSON, `[] []`, 0, 0, "data after the array"},
		{"json-unclosed", ParseFeodoJSON, `[`, 0, 0, "EOF"},
		{"json-null-element", ParseFeodoJSON, `[null]`, 0, 1, ""},
		{"json-bad-asn", ParseFeodoJSON, `[{"ip_address":"192.0.2.1","port":443,"as_number":-1,"first_seen":"2026-11-01 10:00:00"}]`, 0, 1, ""},
		{"urlhaus-empty", ParseURLhaus, "", 0, 0, ""},
		{"urlhaus-good", ParseURLhaus, ugood, 1, 0, ""},
		{"urlhaus-first-row-feodo", ParseURLhaus, good, 0, 0, "urlhaus: line 1: want 9 fields"},
		{"urlhaus-header-changed", ParseURLhaus, "# id,dateadded,url\n" + ugood, 0, 0, "header is"},
		{"urlhaus-relative-url", ParseURLhaus, ugood + "\n" + strings.Replace(ugood, "http://a.example.com/x", "/x", 1), 1, 1, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, events, st, err := run(t, tt.p, tt.in)
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("err = %v, want %q", err, tt.wantErr)
			}
			if len(events) != tt.events || st.Events != tt.events || st.Problems != tt.probs {
				t.Errorf("%d events, stats %+v, want %d events, %d problems\n%s", len(events), st, tt.events, tt.probs, out)
			}
		})
	}
}

func TestEmitErrorStops(t *testing.T) {
	stop := errors.New("store down")
	for _, tt := range []struct {
		file string
		p    parser
	}{{"feodo.csv", ParseFeodoCSV}, {"feodo.json", ParseFeodoJSON}, {"urlhaus.csv", ParseURLhaus}} {
		in, err := os.ReadFile(filepath.Join("testdata", tt.file))
		if err != nil {
			t.Fatal(err)
		}
		calls := 0
		st, err := tt.p(strings.NewReader(string(in)), testFeed, testNow, func(*focal.Event) error {
			calls++
			return stop
		}, nil)
		if !errors.Is(err, stop) || calls != 1 || st.Events != 0 {
			t.Errorf("%s: err %v, %d calls, stats %+v; want store down after 1 call", tt.file, err, calls, st)
		}
	}
}

// fuzzBody checks the invariants every parser keeps on any input.
func fuzzBody(t *testing.T, p parser, in string, csvInput bool) {
	st, err := p(strings.NewReader(in), testFeed, testNow, func(e *focal.Event) error {
		if verr := e.Validate(); verr != nil {
			t.Errorf("emitted an invalid event: %v", verr)
		}
		if len(e.Raw) > focal.MaxRawLine || e.Count != 1 || e.FirstSeen.IsZero() || e.LastSeen.Before(e.FirstSeen) {
			t.Errorf("bad event %+v", *e)
		}
		return nil
	}, func(feed.Problem) {})
	if csvInput && st.Events+st.Problems > st.Lines {
		t.Errorf("events %d + problems %d > lines %d", st.Events, st.Problems, st.Lines)
	}
	if st.Events < 0 || st.Problems < 0 || (err == nil && st.Lines < 0) {
		t.Errorf("stats %+v", st)
	}
}

func seed(f *testing.F, file string) {
	in, err := os.ReadFile(filepath.Join("testdata", file))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(in))
	for _, l := range strings.Split(string(in), "\n") {
		f.Add(l)
	}
}

func FuzzFeodoCSV(f *testing.F) {
	seed(f, "feodo.csv")
	f.Fuzz(func(t *testing.T, in string) { fuzzBody(t, ParseFeodoCSV, in, true) })
}

func FuzzFeodoJSON(f *testing.F) {
	seed(f, "feodo.json")
	f.Add(`[null, 1, "x", {}, []]`)
	f.Fuzz(func(t *testing.T, in string) { fuzzBody(t, ParseFeodoJSON, in, false) })
}

func FuzzURLhaus(f *testing.F) {
	seed(f, "urlhaus.csv")
	f.Fuzz(func(t *testing.T, in string) { fuzzBody(t, ParseURLhaus, in, true) })
}
