package misp

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
	testFeed = feed.Feed{Name: "test-misp", Provider: "example", TLP: focal.TLPGreen, Confidence: 70}
	testFmt  = &feed.Format{Name: Format, Framing: feed.FrameRecords, Split: Split, Record: Record}
)

func testRun(opts feed.Options) feed.Run {
	return feed.Run{Feed: testFeed, Now: testNow, Name: "event.json", Options: opts}
}

// render parses in and renders every event (with the line of its record)
// and problem, then the error and the stats.
func render(t testing.TB, in string, opts feed.Options) string {
	t.Helper()
	var b strings.Builder
	var st feed.Stats
	run := testRun(opts)
	err := Split(strings.NewReader(in), run, func(line int, rec []byte) error {
		st.Lines++
		n, err := feed.RecordEvents(testFmt, line, rec, run, func(e *focal.Event) error {
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
	return fmt.Sprintf("%s/%s\tsrc=[%s] dst=[%s]\tmalware=%s tlp=%s\t%s %s..%s\t%s\t%s",
		e.Class, e.Type, ep(e.Source), ep(e.Destination), e.Malware, e.TLP,
		e.SourceTime.Format(time.RFC3339), e.FirstSeen.Format(time.RFC3339), e.LastSeen.Format(time.RFC3339),
		e.Identifier, strings.TrimPrefix(e.DedupKey, testFeed.Name+"|"))
}

func checkEvent(t testing.TB, e *focal.Event) {
	t.Helper()
	if err := e.Validate(); err != nil {
		t.Errorf("emitted event does not validate: %v (%+v)", err, e)
	}
	if e.Feed != testFeed.Name || !e.ObservedTime.Equal(testNow) || e.Count != 1 || e.FirstSeen.IsZero() ||
		e.LastSeen.Before(e.FirstSeen) || len(e.Raw) > focal.MaxRawLine || e.Confidence != testFeed.Confidence {
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
	for _, tt := range []struct {
		file, golden string
		opts         feed.Options
	}{
		{"event.json", "event.json.golden", nil},
		{"event.json", "event-all.json.golden", feed.Options{"all": "true"}},
		{"early.json", "early.json.golden", nil},
		{"malformed.json", "malformed.json.golden", nil},
	} {
		t.Run(tt.golden, func(t *testing.T) {
			in, err := os.ReadFile(filepath.Join("testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			got := render(t, string(in), tt.opts)
			golden := filepath.Join("testdata", tt.golden)
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

func parse(t *testing.T, in string, opts feed.Options) ([]*focal.Event, []feed.Problem, error) {
	t.Helper()
	var evs []*focal.Event
	var probs []feed.Problem
	_, err := feed.ParseAll(testFmt, strings.NewReader(in), testRun(opts), func(e *focal.Event) error {
		checkEvent(t, e)
		evs = append(evs, e)
		return nil
	}, func(p feed.Problem) { probs = append(probs, p) })
	return evs, probs, err
}

// TestChunked checks the pipeline's framing gives the whole parse's result.
func TestChunked(t *testing.T) {
	for _, name := range []string{"event.json", "malformed.json"} {
		in, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		var whole, chunked []string
		add := func(out *[]string) (feed.Emit, feed.Report) {
			return func(e *focal.Event) error { *out = append(*out, describe(e)+"\t"+e.Raw); return nil },
				func(p feed.Problem) { *out = append(*out, p.Error()) }
		}
		emit, report := add(&whole)
		if _, err := feed.ParseAll(testFmt, strings.NewReader(string(in)), testRun(nil), emit, report); err != nil {
			t.Fatal(err)
		}
		emit, report = add(&chunked)
		if _, err := feed.Chunks(testFmt, strings.NewReader(string(in)), testRun(nil), 300, func(c feed.Chunk) error {
			_, err := feed.ParseChunk(testFmt, c, testRun(nil), emit, report)
			return err
		}, report); err != nil {
			t.Fatal(err)
		}
		// Split problems are reported as the document is read, record
		// problems when the chunk is parsed: compare as sets.
		if g, w := strings.Join(sortedCopy(chunked), "\n"), strings.Join(sortedCopy(whole), "\n"); g != w {
			t.Errorf("%s: chunked differs\n--- chunked\n%s\n--- whole\n%s", name, g, w)
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

func event(attrs ...string) string {
	return `{"Event":{"uuid":"11111111-2222-4333-8444-555555555555","info":"x","date":"2026-11-01","Attribute":[` +
		strings.Join(attrs, ",") + `],"Tag":[{"name":"tlp:amber+strict"}]}}`
}

func TestAttributeEvent(t *testing.T) {
	evs, probs, err := parse(t, event(`{"uuid":"a","type":"ip-dst|port","category":"Network activity","to_ids":true,"value":"::ffff:198.51.100.8|443","timestamp":"1762000000"}`), nil)
	if err != nil || len(probs) > 0 || len(evs) != 1 {
		t.Fatalf("%d events, %v, %v", len(evs), probs, err)
	}
	e := evs[0]
	at := time.Unix(1762000000, 0).UTC()
	if e.Destination.IP != netip.MustParseAddr("198.51.100.8") || e.Destination.Port != 443 || !e.Source.IsZero() ||
		e.Class != "malicious-code" || e.Type != "c2-server" || e.TLP != focal.TLPAmberStrict ||
		!e.SourceTime.Equal(at) || !e.FirstSeen.Equal(at) || e.Identifier != "11111111-2222-4333-8444-555555555555" ||
		e.DedupKey != "test-misp|198.51.100.8:443|malicious-code/c2-server" || !strings.HasPrefix(e.Raw, `{"attribute":{"type":"ip-dst|port"`) {
		t.Errorf("event %+v", e)
	}
	// Without a timestamp the event date is the source time.
	evs, _, _ = parse(t, event(`{"type":"domain","to_ids":true,"value":"univ.example"}`), nil)
	if len(evs) != 1 || !evs[0].SourceTime.Equal(time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("event date not used: %+v", evs)
	}
}

func TestClassify(t *testing.T) {
	for _, tt := range []struct {
		attr, event   []string
		category, typ string
		want          string
	}{
		{nil, nil, "Network activity", "ip-dst", "malicious-code/c2-server"},
		{nil, nil, "Network activity", "ip-src", "other/undetermined"},
		{nil, nil, "Payload delivery", "url", "malicious-code/malware-distribution"},
		{nil, nil, "Payload delivery", "email-src", "abusive-content/spam"},
		{nil, nil, "External analysis", "domain", "other/undetermined"},
		{nil, []string{`rsit:fraud="phishing"`}, "Network activity", "url", "fraud/phishing"},
		{[]string{`ecsirt:malicious-code="botnet-drone"`}, []string{`rsit:fraud="phishing"`}, "", "ip-src", "malicious-code/infected-system"},
		{[]string{`ECSIRT:Vulnerable="vulnerable-service"`}, nil, "", "ip-src", "vulnerable/vulnerable-system"},
		{[]string{`rsit:malicious-code="nonsense"`, `tlp:red`}, []string{`ecsirt:fraud="unauthorized-use-of-resources"`}, "", "ip-src", "fraud/unauthorised-use-of-resources"},
		{[]string{`rsit:malicious-code`}, nil, "Other", "ip-src", "other/undetermined"},
		{nil, []string{`ecsirt:other="blacklist"`}, "", "ip-src", "other/other"},
	} {
		c, ty := Classify(tt.attr, tt.event, tt.category, tt.typ)
		if got := c + "/" + ty; got != tt.want {
			t.Errorf("Classify(%v, %v, %q, %q) = %s, want %s", tt.attr, tt.event, tt.category, tt.typ, got, tt.want)
		}
	}
}

func TestMalwareAndTLP(t *testing.T) {
	for _, tt := range []struct {
		attr, event []string
		want        string
	}{
		{nil, []string{`misp-galaxy:malpedia="Emotet"`}, "emotet"},
		{[]string{`misp-galaxy:mitre-malware="Cobalt Strike - S0154"`}, []string{`misp-galaxy:malpedia="Emotet"`}, "cobalt strike"},
		{[]string{`misp-galaxy:threat-actor="APT0"`, `misp-galaxy:mitre-attack-pattern="Phishing - T1566"`}, nil, ""},
		{[]string{`MISP-GALAXY:Ransomware="LockBit"`}, nil, "lockbit"},
	} {
		if got := Malware(tt.attr, tt.event); got != tt.want {
			t.Errorf("Malware(%v, %v) = %q, want %q", tt.attr, tt.event, got, tt.want)
		}
	}
	for _, tt := range []struct {
		feed focal.TLP
		tags string
		want focal.TLP
	}{
		{focal.TLPGreen, `{"name":"tlp:white"}`, focal.TLPGreen},
		{focal.TLPClear, `{"name":"tlp:white"}`, focal.TLPClear},
		{focal.TLPClear, `{"name":"tlp:amber"},{"name":"tlp:green"}`, focal.TLPAmber},
		{focal.TLPGreen, `{"name":"TLP:AMBER+STRICT"}`, focal.TLPAmberStrict},
		{focal.TLPAmber, `{"name":"tlp:red"}`, focal.TLPRed},
		{"", `{"name":"tlp:clear"}`, focal.TLPClear},
		{focal.TLPGreen, `{"name":"tlp:ex:chr"}`, focal.TLPGreen},
	} {
		run := testRun(nil)
		run.Feed.TLP = tt.feed
		in := `{"Event":{"uuid":"u","Attribute":[{"type":"ip-src","to_ids":true,"value":"192.0.2.1"}],"Tag":[` + tt.tags + `]}}`
		var got focal.TLP
		_, err := feed.ParseAll(testFmt, strings.NewReader(in), run, func(e *focal.Event) error { got = e.TLP; return nil }, nil)
		if err != nil || got != tt.want {
			t.Errorf("feed %s, tags %s: TLP %s (err %v), want %s", tt.feed, tt.tags, got, err, tt.want)
		}
	}
}

func TestBadEventTags(t *testing.T) {
	in := `{"Event":{"uuid":"u","Attribute":[{"type":"ip-src","to_ids":true,"value":"192.0.2.1"}],"Tag":{"name":"tlp:red"}}}`
	evs, probs, err := parse(t, in, nil)
	if err != nil || len(evs) != 0 || len(probs) != 1 || !strings.Contains(probs[0].Reason, "TLP cannot be known") {
		t.Errorf("%d events, %v, %v", len(evs), probs, err)
	}
}

func TestRunFailures(t *testing.T) {
	for _, tt := range []struct{ name, in, want string }{
		{"empty", "", "empty input, want a MISP event file"},
		{"array", `[{"Event":{}}]`, "line 1: top-level value is an array, want a MISP event file"},
		{"no-event", `{"response":[]}`, `has no "Event"`},
		{"manifest", `{"4f1c7a2e-9b3d-4e6a-8c5f-1a2b3c4d5e6f":{"info":"x","timestamp":"1"}}`, `has no "Event"`},
		{"stix", `{"type":"bundle","objects":[]}`, `has no "Event"`},
		{"event-string", `{"Event":"x"}`, `"Event" is a string, want an object`},
		{"truncated", `{"Event":{"uuid":"u","Attribute":[{"type":"ip-src","to_ids":true,"value":"192.0.2.1"},{"ty`, "unexpected EOF"},
		{"syntax", "{\"Event\":{\n\"uuid\":\"u\",\n\"info\" \"x\"}}", "line 3:"},
		{"trailing", `{"Event":{}} x`, "data after the document"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := parse(t, tt.in, nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestBufferBound(t *testing.T) {
	defer func(n, b int) { maxAttributes, maxBuffered = n, b }(maxAttributes, maxBuffered)
	maxAttributes = 2
	var attrs []string
	for i := 1; i <= 4; i++ {
		attrs = append(attrs, fmt.Sprintf(`{"uuid":"a%d","type":"ip-src","to_ids":true,"value":"192.0.2.%d"}`, i, i))
	}
	evs, probs, err := parse(t, event(attrs...), nil)
	if err != nil || len(evs) != 2 || len(probs) != 2 || !strings.Contains(probs[0].Reason, "holds at most 2 attributes") {
		t.Errorf("%d events, %v, %v", len(evs), probs, err)
	}
	// With the context first nothing waits, so nothing overflows.
	in := `{"Event":{"uuid":"u","info":"i","date":"2026-11-01","timestamp":"1","Tag":[],"Attribute":[` + strings.Join(attrs, ",") + `]}}`
	evs, probs, err = parse(t, in, nil)
	if err != nil || len(evs) != 4 || len(probs) != 0 {
		t.Errorf("context first: %d events, %v, %v", len(evs), probs, err)
	}
}

func TestSkipsSampleData(t *testing.T) {
	big := strings.Repeat("QUFB", 1<<20)
	in := event(`{"type":"malware-sample","to_ids":true,"value":"x.exe|d41d8cd98f00b204e9800998ecf8427e","data":"`+big+`"}`,
		`{"type":"ip-dst","to_ids":true,"value":"198.51.100.1","data":"`+big+`"}`)
	evs, probs, err := parse(t, in, nil)
	if err != nil || len(evs) != 1 || len(probs) != 0 || len(evs[0].Raw) > 1000 {
		t.Errorf("%d events, %v, %v", len(evs), probs, err)
	}
}

func TestEmitErrorStops(t *testing.T) {
	in, err := os.ReadFile(filepath.Join("testdata", "event.json"))
	if err != nil {
		t.Fatal(err)
	}
	stop := errors.New("store down")
	calls := 0
	_, err = feed.ParseAll(testFmt, strings.NewReader(string(in)), testRun(nil), func(*focal.Event) error {
		calls++
		return stop
	}, nil)
	if !errors.Is(err, stop) || calls != 1 {
		t.Errorf("err %v after %d calls, want store down after 1", err, calls)
	}
}

func TestManifest(t *testing.T) {
	f, err := os.Open(filepath.Join("testdata", "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got, err := ParseManifest(f)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("%d entries", len(got))
	}
	want := []string{"11111111-2222-4333-8444-555555555555", "22222222-2222-4333-8444-555555555555", "4f1c7a2e-9b3d-4e6a-8c5f-1a2b3c4d5e6f"}
	for i, e := range got {
		if e.UUID != want[i] {
			t.Errorf("entry %d is %s, want %s (oldest first)", i, e.UUID, want[i])
		}
	}
	e := got[2]
	if e.Info != "Phishing campaign against regional hospitals" || !e.Timestamp.Equal(time.Unix(1763632800, 0)) ||
		!e.Date.Equal(time.Date(2026, 11, 18, 0, 0, 0, 0, time.UTC)) || e.ThreatLevel != 2 || e.Analysis != 2 ||
		e.Orgc != "Example Telecom CERT" || len(e.Tags) != 1 || e.Tags[0] != "tlp:amber" {
		t.Errorf("entry %+v", e)
	}
	if got[0].ThreatLevel != 1 || got[0].Analysis != 1 || got[1].Analysis != -1 || !got[1].Date.IsZero() {
		t.Errorf("numbers and absent fields: %+v, %+v", got[0], got[1])
	}
}

func TestManifestErrors(t *testing.T) {
	const id = "4f1c7a2e-9b3d-4e6a-8c5f-1a2b3c4d5e6f"
	for _, tt := range []struct{ name, in, want string }{
		{"empty", "", "empty input"},
		{"array", "[]", "top-level value is an array"},
		{"bad-key", `{"../../etc/passwd":{"timestamp":"1"}}`, `key "../../etc/passwd" is not an event uuid`},
		{"duplicate", `{"` + id + `":{"timestamp":"1"},"` + strings.ToUpper(id) + `":{"timestamp":"2"}}`, "listed twice"},
		{"no-timestamp", `{"` + id + `":{"info":"x"}}`, "timestamp: missing"},
		{"bad-timestamp", "{\n\"" + id + `":{"timestamp":"soon"}}`, "line 2: event " + id + ": timestamp: want unix seconds"},
		{"bad-date", `{"` + id + `":{"timestamp":"1","date":"18/11/2026"}}`, "date: want YYYY-MM-DD"},
		{"entry-string", `{"` + id + `":"x"}`, "want an object"},
		{"truncated", `{"` + id + `":{"timestamp":"1"`, "unexpected EOF"},
		{"trailing", `{} {}`, "data after the document"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseManifest(strings.NewReader(tt.in))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
		})
	}
	if got, err := ParseManifest(strings.NewReader(" {} ")); err != nil || len(got) != 0 {
		t.Errorf("empty manifest: %v, %v", got, err)
	}

	defer func(n int) { maxManifestEntries = n }(maxManifestEntries)
	maxManifestEntries = 2
	in := `{"` + id + `":{"timestamp":"1"},"11111111-2222-4333-8444-555555555555":{"timestamp":"1"},"22222222-2222-4333-8444-555555555555":{"timestamp":"1"}}`
	if _, err := ParseManifest(strings.NewReader(in)); err == nil || !strings.Contains(err.Error(), "more than 2 events") {
		t.Errorf("bound: %v", err)
	}
}

// seedFiles adds the golden inputs, and each of their attributes as an
// event of its own, small inputs the fuzzer mutates faster.
func seedFiles(f *testing.F) {
	for _, name := range []string{"event.json", "early.json", "malformed.json"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b), false)
		var doc struct {
			Event struct {
				Attribute []json.RawMessage
			}
		}
		if err := json.Unmarshal(b, &doc); err != nil {
			f.Fatal(err)
		}
		for _, a := range doc.Event.Attribute {
			f.Add(event(string(a)), false)
		}
	}
}

func FuzzMISP(f *testing.F) {
	seedFiles(f)
	f.Add(event(`{"type":"domain|ip","to_ids":true,"value":"a.example|::ffff:1.2.3.4"}`), true)
	f.Fuzz(func(t *testing.T, in string, all bool) {
		events := 0
		st, _ := feed.ParseAll(testFmt, strings.NewReader(in), testRun(feed.Options{"all": fmt.Sprint(all)}), func(e *focal.Event) error {
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

func FuzzManifest(f *testing.F) {
	b, err := os.ReadFile(filepath.Join("testdata", "manifest.json"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(b))
	f.Fuzz(func(t *testing.T, in string) {
		entries, err := ParseManifest(strings.NewReader(in))
		if err != nil {
			return
		}
		for i, e := range entries {
			if !isUUID(e.UUID) || e.Timestamp.IsZero() && e.Timestamp != time.Unix(0, 0).UTC() {
				t.Errorf("entry %+v", e)
			}
			if i > 0 && entries[i-1].Timestamp.After(e.Timestamp) {
				t.Errorf("entries not oldest first")
			}
		}
	})
}
