package generic

import (
	"errors"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"focal/internal/feed"
	"focal/internal/focal"
)

var update = flag.Bool("update", false, "rewrite the golden files (or set FOCAL_UPDATE_GOLDEN=1)")

func updating() bool { return *update || os.Getenv("FOCAL_UPDATE_GOLDEN") == "1" }

var (
	testNow  = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	testFeed = feed.Feed{Name: "test-generic", Provider: "example", TLP: focal.TLPGreen, Confidence: 50}
	csvFmt   = &feed.Format{Name: FormatCSV, Framing: feed.FrameRecords, Options: CSVOptions, Check: CheckCSV, Split: SplitCSV, Record: RecordCSV}
	jsonFmt  = &feed.Format{Name: FormatJSON, Framing: feed.FrameRecords, Options: JSONOptions, Check: CheckJSON, Split: SplitJSON, Record: RecordJSON}
)

func testRun(o feed.Options) feed.Run {
	return feed.Run{Feed: testFeed, Now: testNow, Name: "test", Options: o}
}

// The options of the golden inputs.
var goldens = []struct {
	file string
	f    *feed.Format
	opts feed.Options
}{
	{"sinkhole.csv", csvFmt, feed.Options{
		"map":   "source_time=timestamp,source.ip=Src IP,source.port=src port,malware=family,destination.fqdn=dst host,destination.url=link,confidence=conf",
		"class": "malicious-code", "type": "infected-system"}},
	{"noheader.tsv", csvFmt, feed.Options{
		"map": "class=1,destination.ip=2,destination.port=3,source_time=4", "header": "false", "delimiter": "tab",
		"comment": ";", "type": "phishing", "time_format": "unix_ms"}},
	{"events.ndjson", jsonFmt, feed.Options{
		"map":   "source.ip=src.addr,source.port=src.port,source_time=ts,protocol=attack,identifier=tags.0",
		"class": "intrusion-attempts", "type": "brute-force"}},
	{"wrapped.json", jsonFmt, feed.Options{
		"map":  "destination.url=url,class=kind,type=type,source_time=seen,tlp=tlp",
		"path": "result.items"}},
}

// render parses in and renders events (with the line of their record) and
// problems, then the error and the stats.
func render(t testing.TB, f *feed.Format, in string, opts feed.Options) string {
	t.Helper()
	var b strings.Builder
	var st feed.Stats
	run := testRun(opts)
	err := f.Split(strings.NewReader(in), run, func(line int, rec []byte) error {
		st.Lines++
		n, err := feed.RecordEvents(f, line, rec, run, func(e *focal.Event) error {
			checkEvent(t, e)
			fmt.Fprintf(&b, "%d\t%s\n", line, describe(e))
			return nil
		}, func(p feed.Problem) {
			st.Problems++
			fmt.Fprintf(&b, "PROBLEM %d\t%s\n", p.Line, p.Reason)
		})
		st.Events += n
		if err != nil && n == 0 {
			return nil
		}
		return err
	}, func(p feed.Problem) {
		st.Problems++
		fmt.Fprintf(&b, "PROBLEM %d\t%s\n", p.Line, p.Reason)
	})
	if err != nil {
		fmt.Fprintf(&b, "ERROR %v\n", err)
	}
	fmt.Fprintf(&b, "STATS records=%d events=%d problems=%d\n", st.Lines, st.Events, st.Problems)
	return b.String()
}

func describe(e *focal.Event) string {
	ep := func(p focal.Endpoint) string {
		var parts []string
		if p.IP.IsValid() {
			parts = append(parts, p.IP.String())
		}
		if p.Port != 0 {
			parts = append(parts, fmt.Sprintf("port=%d", p.Port))
		}
		if p.FQDN != "" {
			parts = append(parts, p.FQDN)
		}
		if p.URL != "" {
			parts = append(parts, p.URL)
		}
		return strings.Join(parts, " ")
	}
	return fmt.Sprintf("%s/%s\tsrc=[%s] dst=[%s]\tmalware=%s proto=%s id=%s tlp=%s conf=%d\t%s\t%s",
		e.Class, e.Type, ep(e.Source), ep(e.Destination), e.Malware, e.Protocol, e.Identifier, e.TLP, e.Confidence,
		e.SourceTime.Format(time.RFC3339Nano), strings.TrimPrefix(e.DedupKey, testFeed.Name+"|"))
}

func checkEvent(t testing.TB, e *focal.Event) {
	t.Helper()
	if err := e.Validate(); err != nil {
		t.Errorf("emitted event does not validate: %v (%+v)", err, e)
	}
	if e.Feed != testFeed.Name || !e.ObservedTime.Equal(testNow) || e.Count < 1 || e.FirstSeen.IsZero() ||
		e.LastSeen.Before(e.FirstSeen) || len(e.Raw) > focal.MaxRawLine || e.Raw == "" {
		t.Errorf("event not completed: %+v", e)
	}
	if e.TLP.Rank() < testFeed.TLP.Rank() {
		t.Errorf("event TLP %s is less strict than the feed's %s", e.TLP, testFeed.TLP)
	}
}

func TestGolden(t *testing.T) {
	for _, g := range goldens {
		t.Run(g.file, func(t *testing.T) {
			if err := g.f.CheckOptions(g.opts); err != nil {
				t.Fatal(err)
			}
			in, err := os.ReadFile(filepath.Join("testdata", g.file))
			if err != nil {
				t.Fatal(err)
			}
			got := render(t, g.f, string(in), g.opts)
			golden := filepath.Join("testdata", g.file+".golden")
			if updating() {
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

// TestChunked checks the pipeline's framing gives the whole parse's result.
func TestChunked(t *testing.T) {
	for _, g := range goldens {
		in, err := os.ReadFile(filepath.Join("testdata", g.file))
		if err != nil {
			t.Fatal(err)
		}
		var whole, chunked []string
		add := func(out *[]string) (feed.Emit, feed.Report) {
			return func(e *focal.Event) error { *out = append(*out, describe(e)+"\t"+e.Raw); return nil },
				func(p feed.Problem) { *out = append(*out, p.Error()) }
		}
		emit, report := add(&whole)
		if _, err := feed.ParseAll(g.f, strings.NewReader(string(in)), testRun(g.opts), emit, report); err != nil {
			t.Fatal(err)
		}
		emit, report = add(&chunked)
		if _, err := feed.Chunks(g.f, strings.NewReader(string(in)), testRun(g.opts), 100, func(c feed.Chunk) error {
			_, err := feed.ParseChunk(g.f, c, testRun(g.opts), emit, report)
			return err
		}, report); err != nil {
			t.Fatal(err)
		}
		if g, w := strings.Join(sortedCopy(chunked), "\n"), strings.Join(sortedCopy(whole), "\n"); g != w {
			t.Errorf("chunked differs\n--- chunked\n%s\n--- whole\n%s", g, w)
		}
	}
}

func sortedCopy(s []string) []string {
	out := append([]string(nil), s...)
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j] < out[j-1]; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

func parse(t *testing.T, f *feed.Format, in string, opts feed.Options) ([]*focal.Event, []feed.Problem, error) {
	t.Helper()
	var evs []*focal.Event
	var probs []feed.Problem
	_, err := feed.ParseAll(f, strings.NewReader(in), testRun(opts), func(e *focal.Event) error {
		checkEvent(t, e)
		evs = append(evs, e)
		return nil
	}, func(p feed.Problem) { probs = append(probs, p) })
	return evs, probs, err
}

func TestCSVEvent(t *testing.T) {
	opts := feed.Options{"map": "source.ip=ip,source.asn=asn,source.country=cc,first_seen=first,last_seen=last,count=n,tlp=tlp,destination.url=u",
		"class": "Vulnerable", "type": "DDoS-Amplifier", "delimiter": ";", "time_format": "02.01.2006 15:04"}
	in := "ip;asn;cc;first;last;n;tlp;u\n198.51.100.5;AS64496;fr;21.11.2026 10:00;22.11.2026 09:30;7;amber;https://Svc.Univ.Example:8443/p\n"
	evs, probs, err := parse(t, csvFmt, in, opts)
	if err != nil || len(probs) > 0 || len(evs) != 1 {
		t.Fatalf("%d events, %v, %v", len(evs), probs, err)
	}
	e := evs[0]
	first := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	if e.Source != (focal.Endpoint{IP: netip.MustParseAddr("198.51.100.5"), ASN: 64496, Country: "FR"}) ||
		e.Destination != (focal.Endpoint{URL: "https://Svc.Univ.Example:8443/p", FQDN: "svc.univ.example", Port: 8443}) ||
		e.Class != "vulnerable" || e.Type != "ddos-amplifier" || !e.SourceTime.Equal(first) || !e.FirstSeen.Equal(first) ||
		!e.LastSeen.Equal(time.Date(2026, 11, 22, 9, 30, 0, 0, time.UTC)) || e.Count != 7 || e.TLP != focal.TLPAmber ||
		e.Confidence != testFeed.Confidence || e.Raw != strings.Split(in, "\n")[1] ||
		e.DedupKey != "test-generic|198.51.100.5|vulnerable/ddos-amplifier" {
		t.Errorf("event %+v", e)
	}
}

func TestCheck(t *testing.T) {
	base := func(kv ...string) feed.Options {
		o := feed.Options{"map": "source.ip=ip", "class": "malicious-code", "type": "c2-server"}
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i+1] == "-" {
				delete(o, kv[i])
			} else {
				o[kv[i]] = kv[i+1]
			}
		}
		return o
	}
	for _, tt := range []struct {
		name string
		f    *feed.Format
		o    feed.Options
		want string // "" = valid
	}{
		{"ok-csv", csvFmt, base(), ""},
		{"ok-json", jsonFmt, base("map", "source.ip=a.b.0,destination.url=u", "path", "data.items"), ""},
		{"ok-class-column", csvFmt, base("class", "-", "type", "-", "map", "source.ip=ip,class=c"), ""},
		{"ok-class-column-type", csvFmt, base("class", "-", "map", "source.ip=ip,class=c"), ""},
		{"ok-no-header", csvFmt, base("header", "false", "map", "source.ip=3,source_time=1", "delimiter", "tab", "comment", "none"), ""},
		{"ok-layout", csvFmt, base("time_format", "2006-01-02 15:04:05 MST"), ""},
		{"no-map", csvFmt, base("map", "-"), "option \"map\" is required"},
		{"bad-pair", csvFmt, base("map", "source.ip"), "want field=column"},
		{"unknown-field", csvFmt, base("map", "src.ip=ip"), `unknown field "src.ip"; fields are source.ip`},
		{"twice", csvFmt, base("map", "source.ip=a,source.ip=b"), "mapped twice"},
		{"no-host", csvFmt, base("map", "source.port=p,malware=m"), "an event needs a host"},
		{"no-class", csvFmt, base("class", "-", "type", "-"), "set the RSIT classification"},
		{"bad-class", csvFmt, base("class", "evil"), `unknown RSIT class "evil"`},
		{"bad-type", csvFmt, base("type", "phishing"), `"phishing" is not a type of RSIT class "malicious-code"`},
		{"no-type", csvFmt, base("type", "-"), "option type is required with class malicious-code"},
		{"bad-type-only", csvFmt, base("class", "-", "type", "nope", "map", "source.ip=ip,class=c"), `"nope" is not an RSIT type`},
		{"bad-time", csvFmt, base("time_format", "yyyy-mm-dd"), "not unix, unix_ms, rfc3339 or a Go layout"},
		{"bad-delim", csvFmt, base("delimiter", "::"), "want one character"},
		{"quote-delim", csvFmt, base("delimiter", `"`), "want one character"},
		{"bad-header", csvFmt, base("header", "maybe"), "option header: want true or false"},
		{"bad-column-number", csvFmt, base("header", "false"), "a column is a number from 1 to 1000"},
		{"long-comment", csvFmt, base("comment", "#########"), "want a short prefix"},
		{"comment-delim", csvFmt, base("comment", "#,"), "contains the delimiter"},
		{"json-empty-step", jsonFmt, base("map", "source.ip=a..b"), "empty step"},
		{"json-bad-path", jsonFmt, base("path", "data."), "option path \"data.\" has an empty step"},
		{"csv-path", csvFmt, base("path", "data"), `unknown option "path"`},
		{"json-delimiter", jsonFmt, base("delimiter", ";"), `unknown option "delimiter"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.f.CheckOptions(tt.o)
			if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
				t.Errorf("CheckOptions(%v) = %v, want %q", tt.o, err, tt.want)
			}
		})
	}
}

func TestRunFailures(t *testing.T) {
	csvOpts := feed.Options{"map": "source.ip=ip,source_time=ts", "class": "other", "type": "other"}
	jsonOpts := feed.Options{"map": "source.ip=ip,source_time=ts", "class": "other", "type": "other"}
	pathOpts := feed.Options{"map": "source.ip=ip", "class": "other", "type": "other", "path": "data.items"}
	for _, tt := range []struct {
		name string
		f    *feed.Format
		o    feed.Options
		in   string
		want string
	}{
		{"csv-missing-column", csvFmt, csvOpts, "# c\nip,time\n192.0.2.1,1\n", `line 2: column "ts" (mapped to source_time) is not in the header "ip,time"`},
		{"csv-duplicate-column", csvFmt, csvOpts, "ip,ts,IP\n", `column "ip" (mapped to source.ip) appears twice`},
		{"csv-bad-header", csvFmt, csvOpts, "ip,\"ts\n", "line 1: header: bad csv"},
		{"csv-bad-options", csvFmt, feed.Options{"map": "x=y"}, "ip\n", "csv: options: map: unknown field"},
		{"json-object-no-path", jsonFmt, jsonOpts, `{"data":[{"ip":"192.0.2.1"}]}`, "line 1: the first element has none of the mapped paths ip, ts: did the feed's format change? (if the array is inside an object, set option path)"},
		{"json-string", jsonFmt, jsonOpts, `"x"`, "want a JSON array"},
		{"json-broken", jsonFmt, jsonOpts, "[{\"ip\":\"192.0.2.1\"},\n{\"ip\" 1}]", "line 2"},
		{"json-empty", jsonFmt, jsonOpts, "", "empty input"},
		{"path-missing", jsonFmt, pathOpts, `{"data":{"other":[]}}`, `no "data.items" in the input`},
		{"path-not-array", jsonFmt, pathOpts, `{"data":{"items":{}}}`, `"data.items" is an object, want an array`},
		{"path-not-object", jsonFmt, pathOpts, `{"data":[1]}`, `"data" is an array, want an object holding "items"`},
		{"path-top-array", jsonFmt, pathOpts, `[{"ip":"192.0.2.1"}]`, `top-level value is an array, want an object holding "data"`},
		{"path-empty", jsonFmt, pathOpts, ``, `empty input, want an object with the array at "data.items"`},
		{"path-trailing", jsonFmt, pathOpts, `{"data":{"items":[]}} {}`, "data after the document"},
		{"path-truncated", jsonFmt, pathOpts, `{"data":{"items":[{"ip":"192.0.2.1"},`, "unexpected EOF"},
		{"path-first-element", jsonFmt, pathOpts, `{"data":{"items":[{"addr":"192.0.2.1"}]}}`, "none of the mapped paths ip"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := parse(t, tt.f, tt.in, tt.o)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestEdgeCases(t *testing.T) {
	opts := feed.Options{"map": "source.ip=ip", "class": "other", "type": "other"}
	for _, tt := range []struct {
		name          string
		f             *feed.Format
		o             feed.Options
		in            string
		events, probs int
	}{
		{"csv-empty", csvFmt, opts, "", 0, 0},
		{"csv-only-header", csvFmt, opts, "ip\n", 0, 0},
		{"csv-bom-crlf", csvFmt, opts, "\ufeffIP\r\n192.0.2.1\r\n192.0.2.2", 2, 0},
		{"csv-too-long", csvFmt, opts, "ip\n192.0.2.1\n" + strings.Repeat("x", feed.MaxLine+1) + "\n192.0.2.2\n", 2, 1},
		{"csv-no-comments", csvFmt, feed.Options{"map": "source.ip=#ip", "class": "other", "type": "other", "comment": "none"}, "#ip\n192.0.2.1\n", 1, 0},
		{"json-empty-array", jsonFmt, opts, " [ ] ", 0, 0},
		{"json-null-path", jsonFmt, feed.Options{"map": "source.ip=ip", "class": "other", "type": "other", "path": "data"}, `{"data":null}`, 0, 0},
		{"json-first-not-object", jsonFmt, opts, `[1, {"ip":"192.0.2.1"}]`, 1, 1},
		{"json-path-large-skipped", jsonFmt, feed.Options{"map": "source.ip=ip", "class": "other", "type": "other", "path": "data"},
			`{"junk":"` + strings.Repeat("j", 1<<20) + `","data":[{"ip":"192.0.2.1","x":"` + strings.Repeat("y", feed.MaxRecord) + `"},{"ip":"192.0.2.2"}]}`, 1, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			evs, probs, err := parse(t, tt.f, tt.in, tt.o)
			if err != nil || len(evs) != tt.events || len(probs) != tt.probs {
				t.Errorf("%d events, problems %v, err %v; want %d events, %d problems", len(evs), probs, err, tt.events, tt.probs)
			}
		})
	}
}

func TestTimes(t *testing.T) {
	for _, tt := range []struct{ format, in, want string }{
		{"", "2026-11-21T10:00:00Z", "2026-11-21T10:00:00Z"},
		{"", "2026-11-21T10:00:00.25+02:00", "2026-11-21T08:00:00.25Z"},
		{"", "2026-11-21 10:00:00", "2026-11-21T10:00:00Z"},
		{"", "2026-11-21 10:00:00 +0100", "2026-11-21T09:00:00Z"},
		{"", "2026-11-21", "2026-11-21T00:00:00Z"},
		{"", "1795255200", "2026-11-21T10:00:00Z"},
		{"", "1795255200.5", "2026-11-21T10:00:00.5Z"},
		{"", "1795255200500", "2026-11-21T10:00:00.5Z"},
		{"", "21/Nov/2026:10:00:00 +0000", "2026-11-21T10:00:00Z"},
		{"unix", "1795255200", "2026-11-21T10:00:00Z"},
		{"unix_ms", "1795255200000", "2026-11-21T10:00:00Z"},
		{"rfc3339", "2026-11-21T10:00:00Z", "2026-11-21T10:00:00Z"},
		{"2006/01/02", "2026/11/21", "2026-11-21T00:00:00Z"},
		{"", "21.11.2026", "ERR not a time focal recognises"},
		{"unix", "-5", "ERR want unix seconds"},
		{"unix", "99999999999999", "ERR want unix seconds"},
		{"rfc3339", "2026-11-21", "ERR want an RFC 3339 time"},
		{"2006/01/02", "2026-11-21", `ERR want a time like "2026/11/22"`},
	} {
		got, err := parseTime(tt.format, tt.in)
		s := got.Format(time.RFC3339Nano)
		if err != nil {
			s = "ERR " + err.Error()
		}
		if !strings.HasPrefix(s, tt.want) {
			t.Errorf("parseTime(%q, %q) = %s, want %s", tt.format, tt.in, s, tt.want)
		}
	}
}

func TestEmitErrorStops(t *testing.T) {
	for _, g := range goldens {
		in, err := os.ReadFile(filepath.Join("testdata", g.file))
		if err != nil {
			t.Fatal(err)
		}
		stop := errors.New("store down")
		calls := 0
		_, err = feed.ParseAll(g.f, strings.NewReader(string(in)), testRun(g.opts), func(*focal.Event) error {
			calls++
			return stop
		}, nil)
		if !errors.Is(err, stop) || calls != 1 {
			t.Errorf("%s: err %v after %d calls, want store down after 1", g.file, err, calls)
		}
	}
}

func seed(f *testing.F, file string) {
	b, err := os.ReadFile(filepath.Join("testdata", file))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(b))
	for _, l := range strings.Split(string(b), "\n") {
		f.Add(l)
	}
}

func fuzzBody(t *testing.T, f *feed.Format, opts feed.Options, in string) {
	events := 0
	st, _ := feed.ParseAll(f, strings.NewReader(in), testRun(opts), func(e *focal.Event) error {
		events++
		checkEvent(t, e)
		return nil
	}, func(p feed.Problem) {
		if p.Line < 1 || len(p.Raw) > focal.MaxRawLine || p.Reason == "" {
			t.Errorf("bad problem %+v", p)
		}
	})
	if st.Events != events {
		t.Errorf("stats %+v with %d events", st, events)
	}
}

func FuzzCSV(f *testing.F) {
	seed(f, "sinkhole.csv")
	opts := goldens[0].opts
	f.Fuzz(func(t *testing.T, in string) { fuzzBody(t, csvFmt, opts, in) })
}

func FuzzJSON(f *testing.F) {
	seed(f, "events.ndjson")
	seed(f, "wrapped.json")
	f.Add(`[{"src":{"addr":"192.0.2.1"},"ts":"2026-01-01","tags":[]}]`)
	opts := goldens[2].opts
	f.Fuzz(func(t *testing.T, in string) { fuzzBody(t, jsonFmt, opts, in) })
}

func FuzzJSONPath(f *testing.F) {
	seed(f, "wrapped.json")
	f.Add(`{"result":{"items":[{"url":"http://a.example/","kind":"other/other"}]}}`)
	opts := goldens[3].opts
	f.Fuzz(func(t *testing.T, in string) { fuzzBody(t, jsonFmt, opts, in) })
}
