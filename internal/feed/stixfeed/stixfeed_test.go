package stixfeed

import (
	"encoding/json"
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
	testFeed = feed.Feed{Name: "test-stix", Provider: "example", TLP: focal.TLPGreen, Confidence: 60}
	testFmt  = &feed.Format{Name: Format, Framing: feed.FrameRecords, Split: Split, Record: Record}
)

func testRun() feed.Run { return feed.Run{Feed: testFeed, Now: testNow, Name: "test.json"} }

// render parses in and renders every event (with the line of its record)
// and problem, then the error and the stats.
func render(t testing.TB, in string) string {
	t.Helper()
	var b strings.Builder
	var st feed.Stats
	err := Split(strings.NewReader(in), testRun(), func(line int, rec []byte) error {
		st.Lines++
		n, err := feed.RecordEvents(testFmt, line, rec, testRun(), func(e *focal.Event) error {
			checkEvent(t, e)
			fmt.Fprintf(&b, "%d\t%s\n", line, describe(e))
			return nil
		}, func(p feed.Problem) {
			st.Problems++
			fmt.Fprintf(&b, "PROBLEM %d\t%s\n", p.Line, p.Reason)
		})
		st.Events += n
		if err != nil && n == 0 {
			return nil // a problem, reported
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
	return fmt.Sprintf("%s/%s\tsrc=[%s] dst=[%s]\ttlp=%s conf=%d count=%d\t%s %s..%s\t%s\t%s",
		e.Class, e.Type, ep(e.Source), ep(e.Destination), e.TLP, e.Confidence, e.Count,
		e.SourceTime.Format(time.RFC3339), e.FirstSeen.Format(time.RFC3339), e.LastSeen.Format(time.RFC3339),
		e.Identifier, strings.TrimPrefix(e.DedupKey, testFeed.Name+"|"))
}

// checkEvent checks what every emitted event must satisfy.
func checkEvent(t testing.TB, e *focal.Event) {
	t.Helper()
	if err := e.Validate(); err != nil {
		t.Errorf("emitted event does not validate: %v (%+v)", err, e)
	}
	if e.Feed != testFeed.Name || e.Provider != testFeed.Provider || !e.ObservedTime.Equal(testNow) ||
		e.Count < 1 || e.FirstSeen.IsZero() || e.LastSeen.Before(e.FirstSeen) || len(e.Raw) > focal.MaxRawLine {
		t.Errorf("event not completed: %+v", e)
	}
	if e.TLP.Rank() < testFeed.TLP.Rank() {
		t.Errorf("event TLP %s is less strict than the feed's %s", e.TLP, testFeed.TLP)
	}
	if !strings.HasPrefix(e.DedupKey, testFeed.Name+"|") || !strings.HasSuffix(e.DedupKey, "|"+e.Class+"/"+e.Type) {
		t.Errorf("dedup key %q", e.DedupKey)
	}
}

func TestGolden(t *testing.T) {
	for _, name := range []string{"bundle.json", "v20.json", "malformed.json"} {
		t.Run(name, func(t *testing.T) {
			in, err := os.ReadFile(filepath.Join("testdata", name))
			if err != nil {
				t.Fatal(err)
			}
			got := render(t, string(in))
			golden := filepath.Join("testdata", name+".golden")
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

// TestChunked checks that the pipeline's framing (records carried one per
// line in chunks) gives the events and problems of a whole parse.
func TestChunked(t *testing.T) {
	for _, name := range []string{"bundle.json", "malformed.json"} {
		in, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		var whole, chunked []string
		collect := func(out *[]string) (feed.Emit, feed.Report) {
			return func(e *focal.Event) error { *out = append(*out, describe(e)); return nil },
				func(p feed.Problem) { *out = append(*out, p.Error()) }
		}
		emit, report := collect(&whole)
		if _, err := feed.ParseAll(testFmt, strings.NewReader(string(in)), testRun(), emit, report); err != nil {
			t.Fatal(err)
		}
		emit, report = collect(&chunked)
		var splitProblems []string
		_, err = feed.Chunks(testFmt, strings.NewReader(string(in)), testRun(), 1, func(c feed.Chunk) error {
			_, err := feed.ParseChunk(testFmt, c, testRun(), emit, report)
			return err
		}, func(p feed.Problem) { splitProblems = append(splitProblems, p.Error()) })
		if err != nil {
			t.Fatal(err)
		}
		// Split problems come first in a chunked run only in the order
		// they were met; compare as sets.
		got := strings.Join(sorted(append(chunked, splitProblems...)), "\n")
		want := strings.Join(sorted(whole), "\n")
		if got != want {
			t.Errorf("%s: chunked differs\n--- chunked\n%s\n--- whole\n%s", name, got, want)
		}
	}
}

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j] < out[j-1]; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

func parse(t *testing.T, in string) ([]*focal.Event, []feed.Problem, error) {
	t.Helper()
	var evs []*focal.Event
	var probs []feed.Problem
	_, err := feed.ParseAll(testFmt, strings.NewReader(in), testRun(), func(e *focal.Event) error {
		checkEvent(t, e)
		evs = append(evs, e)
		return nil
	}, func(p feed.Problem) { probs = append(probs, p) })
	return evs, probs, err
}

func bundle(objs ...string) string {
	return `{"type":"bundle","id":"bundle--x","objects":[` + strings.Join(objs, ",\n") + `]}`
}

func TestIndicatorEvent(t *testing.T) {
	in := bundle(`{"type":"indicator","id":"indicator--a","indicator_types":["malicious-activity"],` +
		`"pattern":"[ipv4-addr:value = '198.51.100.7']","valid_from":"2026-11-01T10:00:00.5Z","confidence":0,` +
		`"object_marking_refs":["marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"]}`)
	evs, probs, err := parse(t, in)
	if err != nil || len(probs) > 0 || len(evs) != 1 {
		t.Fatalf("events %d, problems %v, err %v", len(evs), probs, err)
	}
	e := evs[0]
	vf := time.Date(2026, 11, 1, 10, 0, 0, 5e8, time.UTC)
	if e.Class != "malicious-code" || e.Type != "c2-server" ||
		e.Destination.IP != netip.MustParseAddr("198.51.100.7") || !e.Source.IsZero() ||
		e.TLP != focal.TLPAmberStrict || !e.SourceTime.Equal(vf) || !e.FirstSeen.Equal(vf) ||
		e.Identifier != "indicator--a" || e.DedupKey != "test-stix|198.51.100.7|malicious-code/c2-server" || e.Count != 1 {
		t.Errorf("event %+v", e)
	}
	// confidence 0 is "unset" for Complete: the feed's confidence applies.
	if e.Confidence != testFeed.Confidence {
		t.Errorf("confidence %d", e.Confidence)
	}
}

func TestTLP(t *testing.T) {
	for _, tt := range []struct {
		feed     focal.TLP
		markings string
		want     focal.TLP
	}{
		{focal.TLPGreen, `[]`, focal.TLPGreen},
		{focal.TLPGreen, `["marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"]`, focal.TLPGreen}, // CLEAR is looser
		{focal.TLPGreen, `["marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"]`, focal.TLPRed},
		{focal.TLPAmber, `["marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb", "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"]`, focal.TLPAmberStrict},
		{"", `["marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9"]`, focal.TLPClear}, // TLP 1.0 WHITE
		{focal.TLPClear, `["marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"]`, focal.TLPAmber},
		{focal.TLPClear, `["marking-definition--00000000-0000-4000-8000-000000000000"]`, focal.TLPClear}, // unknown marking
	} {
		run := testRun()
		run.Feed.TLP = tt.feed
		rec := `{"type":"indicator","id":"indicator--a","pattern":"[domain-name:value = 'univ.example']","object_marking_refs":` + tt.markings + `}`
		evs, err := Record([]byte(rec), run)
		if err != nil || len(evs) != 1 {
			t.Fatalf("%s: %v", tt.markings, err)
		}
		if evs[0].TLP != tt.want {
			t.Errorf("feed %s, markings %s: TLP %s, want %s", tt.feed, tt.markings, evs[0].TLP, tt.want)
		}
	}
}

func TestClassify(t *testing.T) {
	for _, tt := range []struct {
		labels string
		want   string
	}{
		{"", "other/undetermined"},
		{"malicious-activity", "malicious-code/c2-server"},
		{"C2", "malicious-code/c2-server"},
		{"botnet", "malicious-code/c2-server"},
		{"phishing", "fraud/phishing"},
		{"malicious-activity,phishing", "fraud/phishing"},
		{"compromised", "intrusions/system-compromise"},
		{"anomalous-activity", "other/other"},
		{"unknown", "other/undetermined"},
		{"something-else", "other/undetermined"},
		{"Malware Distribution", "malicious-code/malware-distribution"},
		{`phishing,rsit:information-gathering="scanner"`, "information-gathering/scanner"},
		{`rsit:malicious-code="nonsense"`, "other/undetermined"},
		{"benign", "benign"},
		{"benign,malicious-activity", "malicious-code/c2-server"},
	} {
		var labels []string
		if tt.labels != "" {
			labels = strings.Split(tt.labels, ",")
		}
		c, ty, benign := Classify(labels)
		got := c + "/" + ty
		if benign {
			got = "benign"
		}
		if got != tt.want {
			t.Errorf("Classify(%q) = %s, want %s", tt.labels, got, tt.want)
		}
	}
}

func TestRunFailures(t *testing.T) {
	for _, tt := range []struct {
		name, in, want string
		events         int
	}{
		{"empty", "", "empty input, want a STIX bundle", 0},
		{"blank", " \n\t", "empty input", 0},
		{"array", `[{"type":"indicator"}]`, "line 1: top-level value is an array, want a STIX bundle object", 0},
		{"string", `"bundle"`, "top-level value is a string", 0},
		{"other-type", `{"type":"indicator","id":"indicator--x","pattern":"[ipv4-addr:value = '192.0.2.1']"}`, `type is "indicator", want "bundle"`, 0},
		{"type-number", `{"type":1}`, `type is a number, want "bundle"`, 0},
		{"misp", `{"Event":{"uuid":"x","Attribute":[]}}`, `neither "type": "bundle" nor "objects"`, 0},
		{"objects-object", `{"type":"bundle","objects":{}}`, `"objects" is an object, want an array`, 0},
		{"truncated", bundle(`{"type":"indicator","id":"indicator--a","pattern":"[ipv4-addr:value = '192.0.2.1']"}`, `{"type":"indicator","id":"indicator--b"}`)[:160], "unexpected EOF", 1},
		{"syntax", "{\"type\":\"bundle\",\n\"objects\":[\n{\"type\" \"indicator\"}]}", "line 3: expected colon after object key", 0},
		{"trailing", bundle() + ` {}`, "data after the document", 0},
		{"late-type", `{"objects":[{"type":"indicator","id":"indicator--a","pattern":"[ipv4-addr:value = '192.0.2.1']"}],"type":"report"}`, `type is "report"`, 1},
		{"huge-value", bundle(`{"type":"note","content":"` + strings.Repeat("x", feed.MaxJSONValue+100_000) + `"}`), "over 8388608 bytes", 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			evs, _, err := parse(t, tt.in)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
			if len(evs) != tt.events {
				t.Errorf("%d events before the failure, want %d", len(evs), tt.events)
			}
		})
	}
}

func TestEnvelopeAndNulls(t *testing.T) {
	in := `{"more":false,"objects":[{"type":"indicator","id":"indicator--a","pattern":"[url:value = 'http://univ.example/x']"}]}`
	evs, probs, err := parse(t, in)
	if err != nil || len(probs) > 0 || len(evs) != 1 {
		t.Errorf("TAXII envelope: %d events, %v, %v", len(evs), probs, err)
	}
	evs, probs, err = parse(t, `{"type":"bundle","id":"bundle--x","objects":null}`)
	if err != nil || len(probs)+len(evs) > 0 {
		t.Errorf("null objects: %d events, %v, %v", len(evs), probs, err)
	}
	evs, probs, err = parse(t, "\ufeff"+bundle())
	if err != nil || len(probs)+len(evs) > 0 {
		t.Errorf("BOM: %d events, %v, %v", len(evs), probs, err)
	}
}

// TestSkipsLargeIgnoredValues checks that a large property of an object
// Split does not read is skipped, not held.
func TestSkipsLargeIgnoredValues(t *testing.T) {
	big := strings.Repeat("y", 1<<20)
	var objs []string
	for range 20 {
		objs = append(objs, `{"type":"report","id":"report--r","description":"`+big+`","object_refs":["a","b"]}`)
	}
	objs = append(objs, `{"type":"indicator","id":"indicator--a","description":"`+big+`","pattern":"[ipv4-addr:value = '192.0.2.1']"}`)
	evs, probs, err := parse(t, bundle(objs...))
	if err != nil || len(probs) > 0 || len(evs) != 1 {
		t.Errorf("%d events, %v, %v", len(evs), probs, err)
	}
}

func TestBufferBound(t *testing.T) {
	defer func(s, b int) { maxSCOs, maxBuffered = s, b }(maxSCOs, maxBuffered)
	maxSCOs = 3
	var objs []string
	objs = append(objs, `{"type":"observed-data","id":"observed-data--early","first_observed":"2026-11-01T00:00:00Z","last_observed":"2026-11-01T00:00:00Z","number_observed":1,"object_refs":["ipv4-addr--1","ipv4-addr--5"]}`)
	for i := 1; i <= 5; i++ {
		objs = append(objs, fmt.Sprintf(`{"type":"ipv4-addr","id":"ipv4-addr--%d","value":"192.0.2.%d"}`, i, i))
	}
	objs = append(objs, `{"type":"observed-data","id":"observed-data--late","first_observed":"2026-11-01T00:00:00Z","last_observed":"2026-11-01T00:00:00Z","number_observed":1,"object_refs":["ipv4-addr--2","ipv4-addr--4"]}`)
	evs, probs, err := parse(t, bundle(objs...))
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 2 || len(probs) != 2 {
		t.Fatalf("%d events, problems %v; want 2 events (192.0.2.1, .2) and 2 problems", len(evs), probs)
	}
	for _, p := range probs {
		if !strings.Contains(p.Reason, "holds at most 3 observables") {
			t.Errorf("problem %q does not say the buffer was full", p.Reason)
		}
	}

	// A full byte budget resolves observed-data at once instead of waiting.
	maxSCOs, maxBuffered = MaxSCOs, 10
	evs, probs, err = parse(t, bundle(
		`{"type":"observed-data","id":"observed-data--x","number_observed":1,"object_refs":["ipv4-addr--1"]}`,
		`{"type":"ipv4-addr","id":"ipv4-addr--1","value":"192.0.2.1"}`))
	if err != nil || len(evs) != 0 || len(probs) != 1 || probs[0].Line != 1 {
		t.Errorf("byte budget: %d events, %v, %v", len(evs), probs, err)
	}
}

func TestEmitErrorStops(t *testing.T) {
	in, err := os.ReadFile(filepath.Join("testdata", "bundle.json"))
	if err != nil {
		t.Fatal(err)
	}
	stop := errors.New("store down")
	calls := 0
	_, err = feed.ParseAll(testFmt, strings.NewReader(string(in)), testRun(), func(*focal.Event) error {
		calls++
		return stop
	}, nil)
	if !errors.Is(err, stop) || calls != 1 {
		t.Errorf("err %v after %d calls, want store down after 1", err, calls)
	}
}

func TestRecordRobust(t *testing.T) {
	for _, rec := range []string{``, `null`, `[]`, `"x"`, `{"type":"indicator"}`, `{"type":"indicator","pattern":7}`,
		`{"type":"observed-data","objects":[]}`, `{"type":"observed-data","objects":{"0":7}}`, `{"type":"x"}`,
		`{"type":"indicator","pattern":"[ipv4-addr:value = '192.0.2.1']","confidence":1.5}`,
		`{"type":"observed-data","number_observed":"x","objects":{"0":{"type":"url","value":"http://univ.example/"}}}`} {
		evs, err := Record([]byte(rec), testRun())
		if err == nil {
			t.Errorf("Record(%s): want an error, got %d events", rec, len(evs))
		}
	}
}

// seedFiles adds the golden inputs, and each of their objects as a
// bundle of its own, small inputs the fuzzer mutates faster.
func seedFiles(f *testing.F) {
	for _, name := range []string{"bundle.json", "v20.json", "malformed.json"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
		var doc struct {
			Objects []json.RawMessage `json:"objects"`
		}
		if err := json.Unmarshal(b, &doc); err != nil {
			f.Fatal(err)
		}
		for _, o := range doc.Objects {
			f.Add(bundle(string(o)))
		}
	}
}

func FuzzSTIX(f *testing.F) {
	seedFiles(f)
	f.Add(bundle())
	f.Add(`{"objects":[{"type":"observed-data","object_refs":["ipv4-addr--1"]},{"type":"ipv4-addr","id":"ipv4-addr--1","value":"::ffff:1.2.3.4/120"}]}`)
	f.Fuzz(func(t *testing.T, in string) {
		events := 0
		st, _ := feed.ParseAll(testFmt, strings.NewReader(in), testRun(), func(e *focal.Event) error {
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
	})
}
