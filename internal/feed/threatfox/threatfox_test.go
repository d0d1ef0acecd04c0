package threatfox

import (
	"errors"
	"flag"
	"fmt"
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
	testFeed = feed.Feed{Name: "test-feed", Provider: "abuse.ch", TLP: focal.TLPClear, Confidence: 80}
	testNow  = time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
)

// format is the registry's framing (see internal/feed/formats/threatfox.go).
var format = &feed.Format{Name: Format, Framing: feed.FrameRecords, Split: Split, Record: Record}

func testRun(opt feed.Options) feed.Run {
	return feed.Run{Feed: testFeed, Now: testNow, Name: "test", Options: opt}
}

// describe renders an event on one line.
func describe(e *focal.Event) string {
	d := e.Destination
	dst := d.URL
	switch {
	case d.FQDN != "" && d.URL == "":
		dst = d.FQDN
	case d.IP.IsValid() && d.URL == "":
		dst = netip.AddrPortFrom(d.IP, d.Port).String()
	}
	return fmt.Sprintf("%s..%s\t%s ip=%v fqdn=%q port=%d\t%s/%s\tid=%q malware=%q\t%s",
		e.FirstSeen.Format(time.RFC3339), e.LastSeen.Format(time.RFC3339), dst, d.IP, d.FQDN, d.Port,
		e.Class, e.Type, e.Identifier, e.Malware, e.DedupKey)
}

// render splits in and maps each record as the pipeline does, rendering
// events with their record's line, problems, the error and the stats.
func render(t *testing.T, in string, opt feed.Options) string {
	t.Helper()
	var b strings.Builder
	var st feed.Stats
	run := testRun(opt)
	report := func(p feed.Problem) {
		st.Problems++
		fmt.Fprintf(&b, "PROBLEM %d\t%s\n", p.Line, p.Reason)
	}
	err := Split(strings.NewReader(in), run, func(line int, rec []byte) error {
		st.Lines++
		checkRecord(t, rec)
		n, err := feed.RecordEvents(format, line, rec, run, func(e *focal.Event) error {
			checkEvent(t, e)
			fmt.Fprintf(&b, "%d\t%s\n", line, describe(e))
			return nil
		}, report)
		st.Events += n
		if err != nil && n == 0 {
			return nil // a problem, reported
		}
		return err
	}, report)
	if err != nil {
		fmt.Fprintf(&b, "ERROR %v\n", err)
	}
	fmt.Fprintf(&b, "STATS records=%d events=%d problems=%d\n", st.Lines, st.Events, st.Problems)
	return b.String()
}

// checkRecord checks a record is one line of compact JSON, as the
// pipeline carries it.
func checkRecord(t *testing.T, rec []byte) {
	t.Helper()
	if len(rec) == 0 || len(rec) > feed.MaxRecord || strings.ContainsAny(string(rec), "\n\r") {
		t.Errorf("record not a bounded single line: %q", feed.Cut(string(rec), 200))
	}
}

// checkEvent checks what every emitted event must satisfy.
func checkEvent(t *testing.T, e *focal.Event) {
	t.Helper()
	if err := e.Validate(); err != nil {
		t.Errorf("emitted event does not validate: %v (%+v)", err, e)
	}
	d := e.Destination
	if !e.Source.IsZero() || d.IsZero() || d.IP.Is4In6() || d.IP.Zone() != "" {
		t.Errorf("endpoints: %+v", e)
	}
	if strings.HasPrefix(d.URL, "urn:") && (e.Identifier != strings.TrimPrefix(d.URL, "urn:") || d.IP.IsValid() || d.FQDN != "") {
		t.Errorf("hash event: %+v", e)
	}
	if e.Count != 1 || e.SourceTime.IsZero() || !e.FirstSeen.Equal(e.SourceTime) || e.LastSeen.Before(e.FirstSeen) ||
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
	for _, tt := range []struct {
		file, golden string
		opt          feed.Options
	}{
		{"export.json", "export.json.golden", nil},
		{"export.json", "export-skip-hashes.json.golden", feed.Options{OptionHashes: HashesSkip}},
		{"api.json", "api.json.golden", nil},
		{"array.json", "array.json.golden", nil},
	} {
		t.Run(tt.golden, func(t *testing.T) {
			in, err := os.ReadFile(filepath.Join("testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			got := render(t, string(in), tt.opt)
			golden := filepath.Join("testdata", tt.golden)
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

func TestRecordKeepsID(t *testing.T) {
	var recs []string
	in := `{"1":[{}, {"a":1}], "2":[{"id":"own"}, 5], "3\"x":[{"b":2}]}`
	if err := Split(strings.NewReader(in), testRun(nil), func(_ int, rec []byte) error {
		recs = append(recs, string(rec))
		return nil
	}, nil); err != nil {
		t.Fatal(err)
	}
	want := []string{`{"id":"1"}`, `{"id":"1","a":1}`, `{"id":"2","id":"own"}`, `5`, `{"id":"3\"x","b":2}`}
	if strings.Join(recs, "\n") != strings.Join(want, "\n") {
		t.Errorf("records\n%s\nwant\n%s", strings.Join(recs, "\n"), strings.Join(want, "\n"))
	}
}

func TestSplitLines(t *testing.T) {
	in := "\ufeff\n[\n  {\"a\": 1},\n\n  {\n   \"b\": 2\n  }, 3\n]\n"
	var got []string
	if err := Split(strings.NewReader(in), testRun(nil), func(line int, rec []byte) error {
		got = append(got, fmt.Sprintf("%d:%s", line, rec))
		return nil
	}, nil); err != nil {
		t.Fatal(err)
	}
	if s := strings.Join(got, " "); s != `3:{"a":1} 5:{"b":2} 7:3` {
		t.Errorf("records %s", s)
	}
}

func TestSplitErrors(t *testing.T) {
	tests := []struct {
		name, in string
		records  int
		problems int
		err      string // substring; "" = no error
	}{
		{"empty", "", 0, 0, "threatfox-json: empty input, want a ThreatFox JSON export"},
		{"blank", " \n\t", 0, 0, "empty input"},
		{"string", `"x"`, 0, 0, "threatfox-json: top-level value is a string, want a ThreatFox export (an object of arrays), an API answer or an array: the feed format changed?"},
		{"html", "<html>", 0, 0, "threatfox-json: line 1: invalid character '<'"},
		{"empty-object", "{}", 0, 0, ""},
		{"empty-array", "[]", 0, 0, ""},
		{"first-not-array", `{"1": {"ioc_value":"x"}, "2": []}`, 0, 0, `threatfox-json: line 1: the value of "1" is an object, want an array of IOCs: the feed format changed?`},
		{"feodo-like", `{"ip_address":"192.0.2.1","port":443}`, 0, 0, `the value of "ip_address" is a string, want an array of IOCs`},
		{"later-not-array", "{\"1\": [{}],\n\"2\": {\"x\": [1, {\"y\": []}]},\n\"3\": 7,\n\"4\": [{}]}", 2, 2, ""},
		{"api-ok", `{"query_status":"ok","data":[{},{}]}`, 2, 0, ""},
		{"api-data-first", `{"data":[{}],"query_status":"ok","extra":{"a":[1,2]}}`, 1, 0, ""},
		{"api-no-result", `{"query_status":"no_result","data":"Your search did not yield any results"}`, 0, 0, ""},
		{"api-error", `{"query_status":"unknown_auth_key","data":"Invalid Auth-Key"}`, 0, 0, `threatfox-json: the ThreatFox API answered query_status "unknown_auth_key": Invalid Auth-Key`},
		{"api-no-status", `{"data":[]}`, 0, 0, `answered query_status ""`},
		{"api-status-type", `{"query_status":1}`, 0, 0, "query_status is a number, want a string"},
		{"api-data-object", `{"query_status":"ok","data":{"1":[]}}`, 0, 0, "data is an object, want an array of IOCs"},
		{"truncated", `{"1":[{"a":1},{"b"`, 1, 0, "threatfox-json: line 1: unexpected EOF"},
		{"truncated-array", `[{"a":1}`, 1, 0, "unexpected EOF"},
		{"syntax", "[\n{\"a\":1},\n{\"a\" 1}]", 1, 0, "threatfox-json: line 3: invalid character '1'"},
		{"trailing", `[] []`, 0, 0, "threatfox-json: line 1: data after the document"},
		{"trailing-object", `{} x`, 0, 0, "data after the document"},
		{"too-big", `[{"a":"` + strings.Repeat("x", feed.MaxRecord) + `"},{}]`, 1, 1, ""},
		{"too-big-with-id", `{"123":[{"a":"` + strings.Repeat("x", feed.MaxRecord-8) + `"},{}]}`, 1, 1, ""},
		{"just-fits", `[{"a":"` + strings.Repeat("x", feed.MaxRecord-8) + `"}]`, 1, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			records, problems := 0, 0
			err := Split(strings.NewReader(tt.in), testRun(nil), func(_ int, rec []byte) error {
				records++
				checkRecord(t, rec)
				return nil
			}, func(p feed.Problem) {
				problems++
				if p.Line < 1 || len(p.Raw) > focal.MaxRawLine {
					t.Errorf("bad problem %+v", p)
				}
			})
			if tt.err == "" && err != nil || tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)) {
				t.Errorf("err = %v, want %q", err, tt.err)
			}
			if records != tt.records || problems != tt.problems {
				t.Errorf("%d records, %d problems; want %d, %d", records, problems, tt.records, tt.problems)
			}
		})
	}
}

func TestRecord(t *testing.T) {
	const first = `"first_seen_utc":"2026-11-20 10:00:00"`
	tests := []struct {
		name, rec string
		opt       feed.Options
		want      string // describe-like "dst class/type id malware", "" for no event, or "E:reason"
	}{
		{"ip-port", `{"ioc_value":"198.51.100.5:443","ioc_type":"ip:port","threat_type":"botnet_cc","malware":"win.qakbot",` + first + `}`, nil,
			"198.51.100.5:443 malicious-code/c2-server botnet_cc qakbot"},
		{"ip-no-port", `{"ioc_value":"198.51.100.5","ioc_type":"IP:PORT","threat_type":"BOTNET_CC",` + first + `}`, nil,
			"198.51.100.5 malicious-code/c2-server botnet_cc "},
		{"ip-mapped", `{"ioc_value":"[::ffff:192.0.2.1]:80","ioc_type":"ip:port","threat_type":"botnet_cc",` + first + `}`, nil,
			"192.0.2.1:80 malicious-code/c2-server botnet_cc "},
		{"ip-zone", `{"ioc_value":"[fe80::1%eth0]:80","ioc_type":"ip:port","threat_type":"botnet_cc",` + first + `}`, nil, "E:has a zone"},
		{"ip-port-zero", `{"ioc_value":"192.0.2.1:0","ioc_type":"ip:port","threat_type":"botnet_cc",` + first + `}`, nil, "E:ioc_value: port 0"},
		{"domain", `{"ioc":"C2.Univ.Example","ioc_type":"domain","threat_type":"payload","malware_printable":"Emotet",` + first + `}`, nil,
			"c2.univ.example malicious-code/malware-distribution payload emotet"},
		{"domain-bad", `{"ioc_value":"c2..univ.example","ioc_type":"domain","threat_type":"payload",` + first + `}`, nil, "E:ioc_value: not a domain name"},
		{"url", `{"ioc_value":"http://[2001:db8:100::1]:8080/x","ioc_type":"url","threat_type":"payload_delivery",` + first + `}`, nil,
			"http://[2001:db8:100::1]:8080/x malicious-code/malware-distribution payload_delivery "},
		{"url-port", `{"ioc_value":"http://univ.example:99999/","ioc_type":"url","threat_type":"payload_delivery",` + first + `}`, nil, "E:ioc_value: URL port"},
		{"url-space", `{"ioc_value":"http://univ.example/a b","ioc_type":"url","threat_type":"payload_delivery",` + first + `}`, nil, "E:white space"},
		{"url-long", `{"ioc_value":"http://univ.example/` + strings.Repeat("a", MaxURL) + `","ioc_type":"url","threat_type":"payload_delivery",` + first + `}`, nil, "E:longer than"},
		{"sha1", `{"ioc_value":"0123456789abcdef0123456789abcdef01234567","ioc_type":"sha1_hash","threat_type":"payload",` + first + `}`, nil,
			"urn:sha1:0123456789abcdef0123456789abcdef01234567 malicious-code/malware-distribution sha1:0123456789abcdef0123456789abcdef01234567 "},
		{"sha3", `{"ioc_value":"` + strings.Repeat("ab", 48) + `","ioc_type":"sha3_384_hash","threat_type":"payload",` + first + `}`, nil,
			"urn:sha3-384:" + strings.Repeat("ab", 48) + " malicious-code/malware-distribution sha3-384:" + strings.Repeat("ab", 48) + " "},
		{"hash-skip", `{"ioc_value":"0123456789abcdef0123456789abcdef","ioc_type":"md5_hash","threat_type":"payload",` + first + `}`, feed.Options{OptionHashes: HashesSkip}, ""},
		{"hash-skip-bad", `{"ioc_value":"xyz","ioc_type":"md5_hash","threat_type":"payload",` + first + `}`, feed.Options{OptionHashes: HashesSkip}, ""},
		{"hash-len", `{"ioc_value":"0123456789abcdef0123456789abcdef","ioc_type":"sha256_hash","threat_type":"payload",` + first + `}`, nil, "E:want 64 hexadecimal digits for sha256_hash"},
		{"unknown-threat", `{"ioc_value":"192.0.2.1:80","ioc_type":"ip:port","threat_type":"Something_New",` + first + `}`, nil,
			"192.0.2.1:80 other/undetermined something_new "},
		{"long-threat", `{"ioc_value":"192.0.2.1:80","ioc_type":"ip:port","threat_type":"` + strings.Repeat("x", 65) + `",` + first + `}`, nil, "E:threat_type: \"xxx"},
		{"unsupported-type", `{"ioc_value":"x@univ.example","ioc_type":"envelope_from","threat_type":"payload",` + first + `}`, nil, `E:ioc_type: unsupported "envelope_from"`},
		{"no-value", `{"ioc_type":"ip:port","threat_type":"botnet_cc",` + first + `}`, nil, "E:ioc_value: missing or empty"},
		{"no-threat", `{"ioc_value":"192.0.2.1:80","ioc_type":"ip:port",` + first + `}`, nil, "E:threat_type: missing or empty"},
		{"no-first", `{"ioc_value":"192.0.2.1:80","ioc_type":"ip:port","threat_type":"botnet_cc"}`, nil, "E:first_seen_utc: missing or empty"},
		{"bad-first-api", `{"ioc":"192.0.2.1:80","ioc_type":"ip:port","threat_type":"botnet_cc","first_seen":"x"}`, nil, "E:first_seen: want a time"},
		{"bad-last", `{"ioc_value":"192.0.2.1:80","ioc_type":"ip:port","threat_type":"botnet_cc",` + first + `,"last_seen_utc":"y"}`, nil, "E:last_seen_utc: want a time"},
		{"first-range", `{"ioc_value":"192.0.2.1:80","ioc_type":"ip:port","threat_type":"botnet_cc","first_seen_utc":"0000-01-01T00:00:00+01:00"}`, nil, "E:out of range"},
		{"wrong-type", `{"ioc_value":"192.0.2.1:80","ioc_type":"ip:port","threat_type":1}`, nil, "E:threat_type: want a string, got a JSON number"},
		{"not-object", `[1]`, nil, "E:want an IOC object, got a JSON array"},
		{"null", `null`, nil, "E:ioc_value: missing or empty"},
		{"bad-json", `{"a"`, nil, "E:bad JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			evs, err := Record([]byte(tt.rec), testRun(tt.opt))
			var got string
			switch {
			case err != nil:
				got = "E:" + err.Error()
			case len(evs) == 1:
				e := evs[0]
				feed.Complete(e, testRun(tt.opt), tt.rec)
				checkEvent(t, e)
				d := e.Destination
				dst := d.URL
				if dst == "" {
					dst = d.FQDN
				}
				if d.IP.IsValid() && d.URL == "" {
					dst = d.IP.String()
					if d.Port != 0 {
						dst = netip.AddrPortFrom(d.IP, d.Port).String()
					}
				}
				got = fmt.Sprintf("%s %s/%s %s %s", dst, e.Class, e.Type, e.Identifier, e.Malware)
			case len(evs) > 1:
				t.Fatalf("%d events", len(evs))
			}
			if strings.HasPrefix(tt.want, "E:") {
				if !strings.HasPrefix(got, "E:") || !strings.Contains(got, tt.want[2:]) {
					t.Errorf("got %q, want an error with %q", got, tt.want[2:])
				}
			} else if got != tt.want {
				t.Errorf("got %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestRecordFields(t *testing.T) {
	rec := `{"id":"1600001","ioc_value":"198.51.100.5:443","ioc_type":"ip:port","threat_type":"botnet_cc","malware":"win.qakbot","malware_printable":"QakBot","first_seen_utc":"2026-11-20 10:00:00","last_seen_utc":"2026-11-21 08:00:00","confidence_level":100,"tags":"Qakbot"}`
	evs, err := Record([]byte(rec), testRun(nil))
	if err != nil || len(evs) != 1 {
		t.Fatalf("err %v, %d events", err, len(evs))
	}
	first, last := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC), time.Date(2026, 11, 21, 8, 0, 0, 0, time.UTC)
	want := focal.Event{
		SourceTime: first, ObservedTime: testNow, Class: "malicious-code", Type: "c2-server",
		Destination: focal.Endpoint{IP: netip.MustParseAddr("198.51.100.5"), Port: 443},
		Malware:     "qakbot", Identifier: "botnet_cc", Feed: "test-feed", Provider: "abuse.ch", TLP: focal.TLPClear, Confidence: 80,
		DedupKey: "test-feed|198.51.100.5:443|malicious-code/c2-server", Count: 1, FirstSeen: first, LastSeen: last, Raw: rec,
	}
	if fmt.Sprint(*evs[0]) != fmt.Sprint(want) {
		t.Errorf("event\n%+v\nwant\n%+v", *evs[0], want)
	}
}

func TestFamily(t *testing.T) {
	for _, tt := range [][3]string{
		{"win.qakbot", "QakBot", "qakbot"},
		{"elf.mirai", "", "mirai"},
		{"", "Cobalt Strike", "cobalt strike"},
		{"unknown", "Unknown malware", ""},
		{"", "Unknown malware", ""},
		{"win.unknown", "", ""},
		{"", "", ""},
		{"win." + strings.Repeat("x", 65), "", ""},
	} {
		if got := Family(tt[0], tt[1]); got != tt[2] {
			t.Errorf("Family(%q, %q) = %q, want %q", tt[0], tt[1], got, tt[2])
		}
	}
}

func TestCheckOptions(t *testing.T) {
	for _, o := range []feed.Options{nil, {OptionHashes: "emit"}, {OptionHashes: " skip "}, {OptionHashes: ""}} {
		if err := CheckOptions(o); err != nil {
			t.Errorf("CheckOptions(%v) = %v", o, err)
		}
	}
	if err := CheckOptions(feed.Options{OptionHashes: "drop"}); err == nil || !strings.Contains(err.Error(), `want emit or skip, got "drop"`) {
		t.Errorf("CheckOptions(drop) = %v", err)
	}
}

func TestEmitErrorStops(t *testing.T) {
	stop := errors.New("store down")
	for _, file := range []string{"export.json", "api.json", "array.json"} {
		in, err := os.ReadFile(filepath.Join("testdata", file))
		if err != nil {
			t.Fatal(err)
		}
		calls := 0
		_, err = feed.ParseAll(format, strings.NewReader(string(in)), testRun(nil), func(*focal.Event) error { calls++; return stop }, nil)
		if !errors.Is(err, stop) || calls != 1 {
			t.Errorf("%s: err %v, %d calls; want stop after the first", file, err, calls)
		}
		calls = 0
		err = Split(strings.NewReader(string(in)), testRun(nil), func(int, []byte) error { calls++; return stop }, nil)
		if !errors.Is(err, stop) || calls != 1 {
			t.Errorf("%s: split err %v, %d calls; want stop after the first", file, err, calls)
		}
	}
}

func TestInvalidEventIsProblem(t *testing.T) {
	run := testRun(nil)
	run.Feed.Confidence = 101
	var probs []feed.Problem
	st, err := feed.ParseAll(format, strings.NewReader(`[{"ioc_value":"192.0.2.1:80","ioc_type":"ip:port","threat_type":"botnet_cc","first_seen_utc":"2026-11-20 10:00:00"}]`), run,
		func(*focal.Event) error { t.Error("invalid event emitted"); return nil },
		func(p feed.Problem) { probs = append(probs, p) })
	if err != nil || len(probs) != 1 || !strings.Contains(probs[0].Reason, "invalid event: confidence") || st.Problems != 1 || st.Events != 0 {
		t.Errorf("err %v, problems %+v, stats %+v", err, probs, st)
	}
}

// checkChunked parses in whole and as the pipeline's chunks of records,
// of each size in bytes, and compares events and problems.
func checkChunked(t *testing.T, in string, opt feed.Options, sizes ...int) {
	t.Helper()
	run := testRun(opt)
	var whole, wholeProbs []string
	_, werr := feed.ParseAll(format, strings.NewReader(in), run, func(e *focal.Event) error {
		whole = append(whole, describe(e)+"\t"+e.Raw)
		return nil
	}, func(p feed.Problem) { wholeProbs = append(wholeProbs, p.Error()) })
	for _, size := range sizes {
		var got, probs []string
		_, err := feed.Chunks(format, strings.NewReader(in), run, size, func(c feed.Chunk) error {
			_, err := feed.ParseChunk(format, c, run, func(e *focal.Event) error {
				got = append(got, describe(e)+"\t"+e.Raw)
				return nil
			}, func(p feed.Problem) { probs = append(probs, p.Error()) })
			return err
		}, func(p feed.Problem) { probs = append(probs, p.Error()) })
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

func TestChunked(t *testing.T) {
	for _, file := range []string{"export.json", "api.json", "array.json"} {
		in, err := os.ReadFile(filepath.Join("testdata", file))
		if err != nil {
			t.Fatal(err)
		}
		checkChunked(t, string(in), nil, 1, 1<<20)
		checkChunked(t, string(in), feed.Options{OptionHashes: HashesSkip}, 1, 1<<20)
	}
}

func FuzzThreatFox(f *testing.F) {
	for _, file := range []string{"export.json", "api.json", "array.json"} {
		b, err := os.ReadFile(filepath.Join("testdata", file))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b), false)
	}
	f.Add(`{"1":[{"ioc_value":"0123456789abcdef0123456789abcdef","ioc_type":"md5_hash","threat_type":"payload","first_seen_utc":"2026-11-20 10:00:00"}]}`, true)
	f.Add(`{"query_status":"ok","data":[null,{"ioc":"univ.example","ioc_type":"domain","threat_type":"botnet_cc","first_seen":"2026-11-20 10:00:00 UTC"}]}`, false)
	f.Fuzz(func(t *testing.T, in string, skipHashes bool) {
		var opt feed.Options
		if skipHashes {
			opt = feed.Options{OptionHashes: HashesSkip}
		}
		run := testRun(opt)
		records, events, problems := 0, 0, 0
		err := Split(strings.NewReader(in), run, func(line int, rec []byte) error {
			records++
			checkRecord(t, rec)
			if line < 1 {
				t.Errorf("record line %d", line)
			}
			// Record directly: a panic must fail the fuzz test, not
			// become a problem as it would in RecordEvents.
			evs, err := Record(rec, run)
			if err == nil && len(evs) > 1 || err != nil && len(evs) > 0 {
				t.Errorf("record gave %d events and error %v", len(evs), err)
			}
			n, err := feed.RecordEvents(format, line, rec, run, func(e *focal.Event) error {
				events++
				checkEvent(t, e)
				return nil
			}, func(p feed.Problem) {
				problems++
				if p.Line != line || p.Reason == "" || len(p.Raw) > focal.MaxRawLine {
					t.Errorf("bad problem %+v", p)
				}
			})
			if n > 1 || err != nil && n != 0 {
				t.Errorf("RecordEvents: %d events, error %v", n, err)
			}
			return nil
		}, func(p feed.Problem) {
			if p.Line < 1 || p.Reason == "" || len(p.Raw) > focal.MaxRawLine {
				t.Errorf("bad split problem %+v", p)
			}
		})
		if events+problems > records {
			t.Errorf("%d events + %d problems > %d records", events, problems, records)
		}
		st, perr := feed.ParseAll(format, strings.NewReader(in), run, func(*focal.Event) error { return nil }, nil)
		if (perr == nil) != (err == nil) || st.Events != events || st.Lines != records {
			t.Errorf("ParseAll stats %+v err %v; split saw %d records, %d events, err %v", st, perr, records, events, err)
		}
		// Chunks of a record or two: one record per chunk costs a
		// 64 KiB buffer per record and slows the fuzzer down.
		checkChunked(t, in, opt, 400, 1<<20)
	})
}
