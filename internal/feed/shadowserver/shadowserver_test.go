package shadowserver

import (
	"bytes"
	"errors"
	"flag"
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

// Run with -update (or FOCAL_UPDATE_GOLDEN=1) to rewrite the golden files.
var update = flag.Bool("update", false, "rewrite testdata/*.golden")

var (
	testFeed = feed.Feed{Name: "test-feed", Provider: "Shadowserver", TLP: focal.TLPAmber, Confidence: 90}
	testNow  = time.Date(2026, 11, 22, 6, 0, 0, 0, time.UTC)
)

func testRun(name string, opts feed.Options) feed.Run {
	return feed.Run{Feed: testFeed, Now: testNow, Name: name, Options: opts}
}

// parse runs Parse over in and collects events and problems.
func parse(tb testing.TB, in string, run feed.Run) ([]*focal.Event, []feed.Problem, feed.Stats, error) {
	tb.Helper()
	var evs []*focal.Event
	var probs []feed.Problem
	st, err := Parse(strings.NewReader(in), run, func(e *focal.Event) error {
		evs = append(evs, e)
		return nil
	}, func(p feed.Problem) { probs = append(probs, p) })
	return evs, probs, st, err
}

// renderEvent shows every field a parser sets, on one line.
func renderEvent(e *focal.Event) string {
	ep := func(p focal.Endpoint) string {
		if p.IsZero() {
			return "-"
		}
		return fmt.Sprintf("%v port=%d asn=%d cc=%s fqdn=%s url=%s", p.IP, p.Port, p.ASN, p.Country, p.FQDN, p.URL)
	}
	return fmt.Sprintf("%s/%s time=%s src=[%s] dst=[%s] proto=%s malware=%s id=%q key=%s",
		e.Class, e.Type, e.SourceTime.Format(time.RFC3339Nano), ep(e.Source), ep(e.Destination),
		e.Protocol, e.Malware, e.Identifier, e.DedupKey)
}

// lineOf finds the 1-based line after *last whose text (without CR) is raw.
func lineOf(in, raw string, last *int) int {
	for i, l := range strings.Split(in, "\n") {
		if i+1 > *last && strings.TrimSuffix(l, "\r") == raw {
			*last = i + 1
			return i + 1
		}
	}
	return -1
}

// render parses in and renders events and problems in input order, then
// the error and the stats.
func render(tb testing.TB, in string, run feed.Run) string {
	tb.Helper()
	var b strings.Builder
	last := 0
	st, err := Parse(strings.NewReader(in), run, func(e *focal.Event) error {
		checkEvent(tb, e)
		fmt.Fprintf(&b, "%d\t%s\n", lineOf(in, e.Raw, &last), renderEvent(e))
		return nil
	}, func(p feed.Problem) {
		last = p.Line
		fmt.Fprintf(&b, "PROBLEM %d\t%s\n", p.Line, p.Reason)
	})
	if err != nil {
		fmt.Fprintf(&b, "ERROR %v\n", err)
	}
	fmt.Fprintf(&b, "STATS lines=%d events=%d problems=%d\n", st.Lines, st.Events, st.Problems)
	return b.String()
}

// checkEvent checks what every event must satisfy.
func checkEvent(tb testing.TB, e *focal.Event) {
	tb.Helper()
	if err := e.Validate(); err != nil {
		tb.Errorf("emitted an invalid event: %v", err)
	}
	if e.Feed != testFeed.Name || e.Provider != testFeed.Provider || e.TLP != testFeed.TLP || e.Confidence != testFeed.Confidence ||
		!e.ObservedTime.Equal(testNow) || e.Count != 1 || !e.FirstSeen.Equal(e.SourceTime) || !e.LastSeen.Equal(e.SourceTime) ||
		len(e.Raw) > focal.MaxRawLine || !strings.HasPrefix(e.DedupKey, testFeed.Name+"|") || e.SourceTime.Location() != time.UTC {
		tb.Errorf("event misses the contract: %+v", *e)
	}
}

func TestGolden(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.csv"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata: %v", err)
	}
	for _, file := range files {
		name := filepath.Base(file)
		t.Run(strings.TrimSuffix(name, ".csv"), func(t *testing.T) {
			in, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			// The report comes from the file name, as in production.
			got := render(t, string(in), testRun("/var/spool/focal/"+name, nil))
			golden := file + ".golden"
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
			// Parsing from the header alone agrees wherever the header
			// tells the report (not for scan6_ssl and scan_foo, whose
			// names say more than their headers).
			if strings.Contains(name, "scan6_ssl") || strings.Contains(name, "scan_foo") {
				return
			}
			if byHeader := render(t, string(in), testRun("report.csv", nil)); byHeader != got {
				t.Errorf("detected from the header:\n%s\nfrom the name:\n%s", byHeader, got)
			}
		})
	}
}

const smbHeader = "timestamp,ip,protocol,port,hostname,tag,asn,geo,region,city,naics,sic,sector,smb_implant,arch,key,smbv1_support,smb_major_number,smb_minor_number,smb_revision,smb_version_string"
const smbRow = "2026-11-21 00:00:01,192.0.2.10,tcp,445,,smb,64496,AT,WIEN,VIENNA,0,0,,N,,,N,2,1,0,SMB 2.1"

func TestDetect(t *testing.T) {
	event4 := `timestamp,protocol,src_ip,src_port,src_asn,src_geo,src_region,src_city,src_hostname,src_naics,src_sector,device_vendor,device_type,device_model,dst_ip,dst_port,dst_asn,dst_geo,dst_region,dst_city,dst_hostname,dst_naics,dst_sector,public_source,infection,family,tag,application,version,event_id`
	event4Row := `2026-11-21 08:00:00,tcp,198.51.100.80,49152,64496,AT,,,,,,,,,203.0.113.200,443,64511,DE,,,,,,,andromeda,,,,,`
	tests := []struct {
		name   string
		run    feed.Run
		in     string
		report string // the report name the dedup key ends in
	}{
		{"option", testRun("2026-11-21-scan_rdp-x.csv", feed.Options{"report": "scan_smb"}), smbHeader + "\n" + smbRow, "scan_smb"},
		{"option-ipv6", testRun("", feed.Options{"report": " Scan6_SMB "}), smbHeader + "\n" + smbRow, "scan_smb"},
		{"option-generic-scan", testRun("", feed.Options{"report": "scan_quux"}), smbHeader + "\n" + smbRow, "scan_quux"},
		{"name", testRun("2026-11-21-scan_smb-example_org-asn.csv", nil), smbHeader + "\n" + smbRow, "scan_smb"},
		{"name-url", testRun("https://dl.example.org/2026-11-21-scan6_smb-example_org-geo.csv?k=1", nil), smbHeader + "\n" + smbRow, "scan_smb"},
		{"name-generic-scan", testRun("2026-11-21-scan_quux-example_org.csv", nil), smbHeader + "\n" + smbRow, "scan_quux"},
		{"name-device6", testRun("2026-11-21-device_id6-org.csv", nil), smbHeader + "\n" + smbRow, "device_id"},
		{"name-event6", testRun("2026-11-21-event6_sinkhole-org.csv", nil), event4 + "\n" + event4Row, "event4_sinkhole"},
		{"name-generic-event4", testRun("2026-11-21-event4_honeypot_smb_scan-org.csv", nil), event4 + "\n" + event4Row, "event4_honeypot_smb_scan"},
		{"name-word-scan-is-not-a-report", testRun("my-scan-results.csv", nil), smbHeader + "\n" + smbRow, "scan_smb"},
		{"header-smb", testRun("sample-shadowserver", nil), smbHeader + "\n" + smbRow, "scan_smb"},
		{"header-generic-scan", testRun("x.csv", nil), "timestamp,ip,port,tag\n2026-11-21 00:00:01,192.0.2.10,445,x", "scan"},
		{"header-sinkhole", testRun("x.csv", nil), event4 + "\n" + event4Row, "event4_sinkhole"},
		{"header-darknet", testRun("x.csv", nil), event4 + ",count\n" + event4Row + ",1", "event4_honeypot_darknet"},
		{"header-ddos-amp", testRun("x.csv", nil), event4 + ",request,count,bytes,end_time\n" + event4Row + ",,,,", "event4_honeypot_ddos_amp"},
		{"header-generic-event4", testRun("x.csv", nil), "timestamp,src_ip\n2026-11-21 00:00:01,192.0.2.10", "event4"},
		{"header-blocklist", testRun("x.csv", nil), "timestamp,ip,source,reason\n2026-11-21 00:00:01,192.0.2.10,x,y", "blocklist"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			evs, probs, _, err := parse(t, tt.in, tt.run)
			if err != nil || len(evs) != 1 || len(probs) != 0 {
				t.Fatalf("got %d events, problems %v, err %v", len(evs), probs, err)
			}
			if !strings.HasSuffix(evs[0].DedupKey, "|"+tt.report) {
				t.Errorf("dedup key %q, want report %s", evs[0].DedupKey, tt.report)
			}
		})
	}
}

func TestRunErrors(t *testing.T) {
	tests := []struct {
		name string
		run  feed.Run
		in   string
		want string
	}{
		{"header-lacks-column", testRun("2026-11-21-scan_smb-org.csv", nil),
			"timestamp,protocol,port,hostname\n2026-11-21 00:00:01,tcp,445,x\n",
			`shadowserver scan_smb: header lacks column "ip"; got "timestamp,protocol,port,hostname"`},
		{"option-header-lacks-column", testRun("", feed.Options{"report": "event4_sinkhole"}), smbHeader + "\n" + smbRow,
			`shadowserver event4_sinkhole: header lacks column "src_ip"; got "timestamp,ip,`},
		{"unknown-option", testRun("", feed.Options{"report": "nope"}), smbHeader, `shadowserver: unknown Shadowserver report "nope"`},
		{"undetectable", testRun("data.csv", nil), "a,b,c\n1,2,3\n", `shadowserver: line 1: cannot tell the report from the name "data.csv" or the header "a,b,c"`},
		{"broken-header", testRun("data.csv", nil), "\"timestamp,ip\n", `shadowserver: line 1: header: a quoted field is not closed`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			evs, _, _, err := parse(t, tt.in, tt.run)
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) || len(evs) != 0 {
				t.Errorf("Parse = %d events, %v; want error %q", len(evs), err, tt.want)
			}
		})
	}
	if err := CheckReport("scan6_smb"); err != nil {
		t.Errorf("CheckReport(scan6_smb) = %v", err)
	}
	if err := CheckReport("scan_"); err == nil {
		t.Errorf("CheckReport(scan_) = nil, want an error")
	}
}

func TestQuotedFields(t *testing.T) {
	in := `"timestamp","ip","port","tag","hostname"` + "\n" +
		`"2026-11-21 00:00:01","192.0.2.10","445","open, ""very"" exposed","host.example.net"` + "\n" +
		`"2026-11-21 00:00:02",192.0.2.11,445,"",` + "\n" +
		`"2026-11-21 00:00:03",192.0.2.12,445,"x"y,` + "\n" +
		`2026-11-21 00:00:04,192.0.2.13,445,a"b,` + "\n"
	evs, probs, st, err := parse(t, in, testRun("2026-11-21-scan_quux-org.csv", nil))
	if err != nil || len(evs) != 3 || len(probs) != 1 || st.Lines != 5 {
		t.Fatalf("got %d events, problems %v, stats %+v, err %v", len(evs), probs, st, err)
	}
	if got := evs[0].Identifier; got != `open, "very" exposed` {
		t.Errorf("identifier = %q, want the unquoted field", got)
	}
	if evs[0].Source.FQDN != "host.example.net" || evs[0].Source.Port != 445 {
		t.Errorf("event %+v", evs[0].Source)
	}
	if evs[1].Identifier != "accessible-service" {
		t.Errorf("empty quoted tag: identifier = %q, want the constant", evs[1].Identifier)
	}
	if evs[2].Identifier != `a"b` {
		t.Errorf("bare quote: identifier = %q, want a\"b", evs[2].Identifier)
	}
	if p := probs[0]; p.Line != 4 || !strings.Contains(p.Reason, "closing quote") {
		t.Errorf("problem %+v", p)
	}
}

func TestCRLF(t *testing.T) {
	lf := smbHeader + "\n" + smbRow + "\n" + strings.Replace(smbRow, "192.0.2.10", "192.0.2.11", 1) + "\n"
	crlf := "\ufeff" + strings.ReplaceAll(lf, "\n", "\r\n")
	run := testRun("2026-11-21-scan_smb-org.csv", nil)
	a := render(t, lf, run)
	b := render(t, crlf, run)
	if a != b || strings.Contains(a, "PROBLEM") {
		t.Errorf("LF:\n%s\nCRLF:\n%s", a, b)
	}
	evs, _, _, _ := parse(t, crlf, run)
	if len(evs) != 2 || evs[0].Raw != smbRow {
		t.Errorf("raw %q, want the line without CR", evs[0].Raw)
	}
}

func TestEvent(t *testing.T) {
	in := smbHeader + "\n" + "2026-11-21 00:00:01,192.0.2.10,tcp,445,Host.Example.NET,smb,64496,AT,WIEN,VIENNA,0,0,,N,,,N,2,1,0,SMB 2.1\n"
	evs, _, _, err := parse(t, in, testRun("2026-11-21-scan_smb-org.csv", nil))
	if err != nil || len(evs) != 1 {
		t.Fatalf("%d events, err %v", len(evs), err)
	}
	ts := time.Date(2026, 11, 21, 0, 0, 1, 0, time.UTC)
	want := focal.Event{
		SourceTime: ts, ObservedTime: testNow,
		Class: "vulnerable", Type: "potentially-unwanted-accessible",
		Source:   focal.Endpoint{IP: netip.MustParseAddr("192.0.2.10"), Port: 445, ASN: 64496, Country: "AT", FQDN: "host.example.net"},
		Protocol: "tcp", Identifier: "open-smb",
		Feed: "test-feed", Provider: "Shadowserver", TLP: focal.TLPAmber, Confidence: 90,
		DedupKey: "test-feed|192.0.2.10|445|scan_smb", Count: 1, FirstSeen: ts, LastSeen: ts,
		Raw: strings.Split(in, "\n")[1],
	}
	if fmt.Sprint(*evs[0]) != fmt.Sprint(want) {
		t.Errorf("event\n%+v\nwant\n%+v", *evs[0], want)
	}
}

func TestLongLines(t *testing.T) {
	long := strings.Replace(smbRow, "SMB 2.1", strings.Repeat("x", 3*focal.MaxRawLine), 1)
	huge := strings.Repeat("y", feed.MaxLine+10)
	in := smbHeader + "\n" + long + "\n" + huge + "\n" + smbRow
	evs, probs, st, err := parse(t, in, testRun("2026-11-21-scan_smb-org.csv", nil))
	if err != nil || len(evs) != 2 || len(probs) != 1 || st.Lines != 4 || probs[0].Line != 3 {
		t.Fatalf("%d events, problems %+v, stats %+v, err %v", len(evs), probs, st, err)
	}
	if evs[0].Raw != long[:focal.MaxRawLine] {
		t.Errorf("raw not cut to %d bytes: %d", focal.MaxRawLine, len(evs[0].Raw))
	}
}

func TestEmitErrorStops(t *testing.T) {
	stop := errors.New("store down")
	in := smbHeader + "\n" + smbRow + "\n" + smbRow + "\n"
	calls := 0
	st, err := Parse(strings.NewReader(in), testRun("2026-11-21-scan_smb-org.csv", nil), func(*focal.Event) error {
		calls++
		return stop
	}, nil)
	if err != stop || calls != 1 || st.Events != 0 {
		t.Errorf("err %v, %d calls, stats %+v; want store down after one call", err, calls, st)
	}
}

type failReader struct{ r io.Reader }

func (f failReader) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if err == io.EOF {
		return n, errors.New("disk on fire")
	}
	return n, err
}

func TestReadError(t *testing.T) {
	in := smbHeader + "\n" + smbRow + "\n"
	_, err := Parse(failReader{strings.NewReader(in)}, testRun("2026-11-21-scan_smb-org.csv", nil), func(*focal.Event) error { return nil }, nil)
	if err == nil || !strings.Contains(err.Error(), "disk on fire") {
		t.Errorf("err = %v, want the read error", err)
	}
}

func TestSplitLine(t *testing.T) {
	tests := []struct {
		in     string
		want   []string
		reason string
	}{
		{"", []string{""}, ""},
		{"a", []string{"a"}, ""},
		{"a,b,", []string{"a", "b", ""}, ""},
		{",", []string{"", ""}, ""},
		{`"a,b",c`, []string{"a,b", "c"}, ""},
		{`"a""b",""`, []string{`a"b`, ""}, ""},
		{`"",`, []string{"", ""}, ""},
		{`x,"y",`, []string{"x", "y", ""}, ""},
		{`""""`, []string{`"`}, ""},
		{`a"b,c`, []string{`a"b`, "c"}, ""},
		{`"a`, nil, "a quoted field is not closed"},
		{`"a""`, nil, "a quoted field is not closed"},
		{`"a"b`, nil, "text after a quoted field's closing quote"},
		{`x,"a" ,y`, []string{"x", "a"}, "text after a quoted field's closing quote"},
	}
	for _, tt := range tests {
		got, n, reason := splitLine(nil, tt.in, maxInt)
		if reason != tt.reason || (reason == "" && (strings.Join(got, "|") != strings.Join(tt.want, "|") || n != len(got))) || len(got) == 0 && reason == "" {
			t.Errorf("splitLine(%q) = %q, %d, %q; want %q, %q", tt.in, got, n, reason, tt.want, tt.reason)
		}
		// Reading fewer fields gives the first ones and the same count.
		for max := range len(tt.want) {
			part, pn, preason := splitLine(nil, tt.in, max)
			if preason != reason || reason == "" && (pn != n || strings.Join(part, "|") != strings.Join(got[:max], "|")) {
				t.Errorf("splitLine(%q, %d) = %q, %d, %q; want %q, %d", tt.in, max, part, pn, preason, got[:max], n)
			}
		}
	}
}

// FuzzSplitLine checks that reading some fields counts them all, and
// finds the same fault, as reading them all.
func FuzzSplitLine(f *testing.F) {
	for _, s := range []string{`a,"b,c",d`, `"a""b",x"y,"",`, `x,"a" ,y`, `"a`, `,,"`, `a"b,"c"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		all, n, reason := splitLine(nil, line, maxInt)
		if reason == "" && n != len(all) {
			t.Fatalf("splitLine(%q) = %d fields, count %d", line, len(all), n)
		}
		for max := range min(len(all)+1, 8) {
			part, pn, preason := splitLine(nil, line, max)
			if preason != reason || reason == "" && (pn != n || len(part) != max || strings.Join(part, "\x00") != strings.Join(all[:max], "\x00")) {
				t.Fatalf("splitLine(%q, %d) = %q, %d, %q; all: %q, %d, %q", line, max, part, pn, preason, all, n, reason)
			}
		}
	})
}

func TestTimes(t *testing.T) {
	tests := []struct {
		in   string
		want string // RFC 3339 in UTC; "" = rejected
	}{
		{"2026-11-21 00:00:01", "2026-11-21T00:00:01Z"},
		{"2026-11-21T00:00:01Z", "2026-11-21T00:00:01Z"},
		{"2026-11-21 00:00:01Z", "2026-11-21T00:00:01Z"},
		{"2026-11-21 00:00:01 UTC", "2026-11-21T00:00:01Z"},
		{"2026-11-21T00:00:01.521730Z", "2026-11-21T00:00:01.52173Z"},
		{"2026-11-21T00:00:01+01:00", "2026-11-20T23:00:01Z"},
		{"2026-11-21 00:00:01-0130", "2026-11-21T01:30:01Z"},
		{"2026-11-21 00:00:01 +00:00", "2026-11-21T00:00:01Z"},
		{"2026-11-21", "2026-11-21T00:00:00Z"},
		{"2024-02-29 23:59:59", "2024-02-29T23:59:59Z"},
		{"2026-11-21T00:00:01.123456789+00:00", "2026-11-21T00:00:01.123456789Z"},
		{"2025-02-29 00:00:00", ""},
		{"2026-13-01 00:00:00", ""},
		{"2026-11-21 24:00:00", ""},
		{"2026-11-21 00:60:00", ""},
		{"2026-11-21 00:00:01.", ""},
		{"2026-11-21 00:00:01.1234567890", ""},
		{"2026-11-21 00:00:01+25:00", ""},
		{"2026-11-21 00:00:01 CET", ""},
		{"2026-1x-21 00:00:01", ""},
		{"21.11.2026", ""},
		{"", ""},
	}
	var tp timeParser
	for _, tt := range tests {
		got, ok := tp.parse(tt.in)
		s := ""
		if ok {
			s = got.Format(time.RFC3339Nano)
		}
		if s != tt.want {
			t.Errorf("parse(%q) = %q, want %q", tt.in, s, tt.want)
		}
	}
}

func TestValues(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"Example.COM.", "example.com"}, {"a.example.net", "a.example.net"}, {"bad_host.example", ""},
		{"example", ""}, {"192.0.2.1", ""}, {"-a.example", ""}, {"a..example", ""}, {".", ""},
		{"host-2001:db8::1.example.net", ""}, {strings.Repeat("a", 64) + ".example", ""},
	} {
		if got := hostname(tt.in); got != tt.want {
			t.Errorf("hostname(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if got := hostname(tt.in); got != "" {
			if err := focal.ValidateDomain(got); err != nil {
				t.Errorf("hostname(%q) = %q, which ValidateDomain refuses: %v", tt.in, got, err)
			}
		}
	}
	for _, tt := range []struct{ in, want string }{{"AT", "AT"}, {"at", "AT"}, {"aT", "AT"}, {"A1", ""}, {"AUT", ""}, {"", ""}} {
		if got := country(tt.in); got != tt.want {
			t.Errorf("country(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	for _, tt := range []struct {
		in   string
		want uint32
		ok   bool
	}{{"64496", 64496, true}, {"AS64496", 64496, true}, {"as1", 1, true}, {"4294967295", 1<<32 - 1, true},
		{"4294967296", 0, false}, {"AS", 0, false}, {"-1", 0, false}, {"12345678901", 0, false}} {
		if got, ok := parseASN(tt.in); got != tt.want || ok != tt.ok {
			t.Errorf("parseASN(%q) = %d, %v; want %d, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
	for _, tt := range []struct {
		in   string
		want uint16
		ok   bool
	}{{"0", 0, true}, {"65535", 65535, true}, {"65536", 0, false}, {"+1", 0, false}, {"000443", 0, false}} {
		if got, ok := parsePort(tt.in); got != tt.want || ok != tt.ok {
			t.Errorf("parsePort(%q) = %d, %v; want %d, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestParseIP(t *testing.T) {
	for _, in := range []string{
		"192.0.2.1", "0.0.0.0", "255.255.255.255", "1.2.3", "1.2.3.4.5", "256.1.1.1", "01.2.3.4", "1.2.3.04",
		"1..2.3", ".1.2.3", "1.2.3.", "1.2.3.4 ", "2001:db8::1", "::ffff:192.0.2.1", "fe80::1%eth0", "", "1.2.3.1000",
		"0.0.0.00", "10.0.0.0",
	} {
		want, werr := netip.ParseAddr(in)
		got, err := parseIP(in)
		if got != want || (err == nil) != (werr == nil) {
			t.Errorf("parseIP(%q) = %v, %v; want %v, %v", in, got, err, want, werr)
		}
		if err == nil && got.Is4() && got.String() != in {
			t.Errorf("parseIP(%q) accepted a non-canonical form", in)
		}
	}
}

func TestTable(t *testing.T) {
	for _, m := range reports.list {
		c := focal.Classification{Class: m.class, Type: m.typ}
		if err := c.Validate(); err != nil {
			t.Errorf("%s: %v", m.name, err)
		}
	}
	if len(Reports()) < 20 {
		t.Errorf("only %d reports", len(Reports()))
	}
	for _, tt := range []struct{ name, json, want string }{
		{"syntax", `{`, "EOF"},
		{"empty", `{"reports":[]}`, "no reports"},
		{"bad-class", `{"reports":[{"name":"a","title":"A","class":"x","type":"y","required":["t"],"fields":{"time":["t"],"source.ip":["i"]}}]}`, "bad RSIT"},
		{"bad-field", `{"reports":[{"name":"a","title":"A","class":"other","type":"other","required":["t"],"fields":{"time":["t"],"src":["i"]}}]}`, "unknown field"},
		{"bad-constant", `{"reports":[{"name":"a","title":"A","class":"other","type":"other","required":["t"],"fields":{"time":["t"],"source.ip":["i"]},"constants":{"time":"x"}}]}`, "constant"},
		{"bad-extends", `{"reports":[{"name":"a","title":"A","extends":"b"}]}`, "extends"},
		{"duplicate", `{"reports":[{"name":"a","title":"A","class":"other","type":"other","required":["t"],"fields":{"time":["t"],"source.ip":["i"]}},{"name":"a","title":"A","extends":"a"}]}`, "twice"},
		{"no-ip", `{"reports":[{"name":"a","title":"A","class":"other","type":"other","required":["t"],"fields":{"time":["t"]}}]}`, "source.ip"},
		{"bad-key", `{"reports":[{"name":"a","title":"A","class":"other","type":"other","required":["t"],"fields":{"time":["t"],"source.ip":["i"]},"key":["time"]}]}`, "key"},
		{"bad-name", `{"reports":[{"name":"A-b","title":"A"}]}`, "bad name"},
	} {
		if _, err := load([]byte(tt.json)); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: load = %v, want an error with %q", tt.name, err, tt.want)
		}
	}
}

// TestChunks checks that parsing a report cut into chunks, as the
// pipeline does, gives the events and problem lines of parsing it whole.
func TestChunks(t *testing.T) {
	f := &feed.Format{Name: FormatName, HeaderLines: 1, Parse: Parse}
	in, err := os.ReadFile(filepath.Join("testdata", "2026-11-21-scan_smb-example_org-asn.csv"))
	if err != nil {
		t.Fatal(err)
	}
	run := testRun("2026-11-21-scan_smb-example_org-asn.csv", nil)
	collect := func(parse func(emit feed.Emit, report feed.Report) error) string {
		var b strings.Builder
		if err := parse(func(e *focal.Event) error {
			b.WriteString(renderEvent(e) + "\n")
			return nil
		}, func(p feed.Problem) { fmt.Fprintf(&b, "PROBLEM %d %s\n", p.Line, p.Reason) }); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	whole := collect(func(emit feed.Emit, report feed.Report) error {
		_, err := Parse(bytes.NewReader(in), run, emit, report)
		return err
	})
	for _, size := range []int{1, 300, 1 << 20} {
		chunked := collect(func(emit feed.Emit, report feed.Report) error {
			_, err := feed.Chunks(f, bytes.NewReader(in), run, size, func(c feed.Chunk) error {
				_, err := feed.ParseChunk(f, c, run, emit, report)
				return err
			}, report)
			return err
		})
		if chunked != whole {
			t.Errorf("size %d: chunked\n%s\nwhole\n%s", size, chunked, whole)
		}
	}
}

func TestWriteScanSMB(t *testing.T) {
	for _, distinct := range []bool{false, true} {
		var b bytes.Buffer
		const rows = 1<<17 + 500 // into the IPv6 part
		if err := WriteScanSMB(&b, rows, distinct); err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
		if len(lines) != rows+1 || lines[0] != smbHeader {
			t.Fatalf("distinct=%v: %d lines, header %q", distinct, len(lines), lines[0])
		}
		if !strings.HasPrefix(lines[1], "2024-09-01 00:00:00,") || !strings.HasPrefix(lines[6], "2024-09-01 00:00:04,") {
			t.Errorf("timestamps: %q, %q", lines[1], lines[6])
		}
		addrs := map[netip.Addr]bool{}
		var probs []string
		st, err := Parse(&b, testRun("x.csv", nil), func(e *focal.Event) error {
			addrs[e.Source.IP] = true
			return nil
		}, func(p feed.Problem) { probs = append(probs, p.Error()) })
		if err != nil || st.Events != rows || len(probs) != 0 {
			t.Fatalf("distinct=%v: stats %+v, err %v, problems %q", distinct, st, err, probs[:min(len(probs), 3)])
		}
		want := 762
		if distinct {
			want = rows
		}
		if len(addrs) != want {
			t.Errorf("distinct=%v: %d addresses, want %d", distinct, len(addrs), want)
		}
	}
	if !strings.Contains(sampleFor(t, true, 1<<17+1), "2001:db8::2:0,") {
		t.Errorf("distinct row %d is not 2001:db8::2:0", 1<<17)
	}
}

func sampleFor(t *testing.T, distinct bool, rows int) string {
	t.Helper()
	var b bytes.Buffer
	if err := WriteScanSMB(&b, rows, distinct); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

type errWriter struct{}

func (errWriter) Write([]byte) (int, error) { return 0, errors.New("full") }

func TestWriteScanSMBError(t *testing.T) {
	if err := WriteScanSMB(errWriter{}, 100000, false); err == nil {
		t.Error("WriteScanSMB to a failing writer = nil, want its error")
	}
}

func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.csv"))
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b), "")
		lines := strings.SplitN(string(b), "\n", 3)
		if len(lines) >= 2 {
			f.Add(lines[0]+"\n"+lines[1], filepath.Base(file))
		}
	}
	f.Add(smbHeader+"\n"+smbRow, "report=scan_smb")
	f.Add("timestamp,ip\n2026-11-21,::ffff:0.0.0.0/0\n", "blocklist")
	f.Fuzz(func(t *testing.T, in, name string) {
		run := testRun(name, nil)
		if r, ok := strings.CutPrefix(name, "report="); ok {
			run.Options = feed.Options{"report": r}
		}
		events := 0
		st, err := Parse(strings.NewReader(in), run, func(e *focal.Event) error {
			events++
			checkEvent(t, e)
			return nil
		}, func(p feed.Problem) {
			if p.Line < 1 || len(p.Raw) > focal.MaxRawLine || p.Reason == "" {
				t.Errorf("bad problem %+v", p)
			}
		})
		if st.Events != events || st.Events+st.Problems > st.Lines || st.Lines > strings.Count(in, "\n")+1 {
			t.Errorf("stats %+v with %d events (err %v)", st, events, err)
		}
	})
}

// BenchmarkParseScanSMB parses a generated scan_smb report of a million
// rows (a quarter with a quoted field) and reports rows per second of wall
// time and of the process's CPU time. Run it with -cpu 1 for the one-core
// figure.
func BenchmarkParseScanSMB(b *testing.B) {
	for _, distinct := range []bool{false, true} {
		b.Run(fmt.Sprintf("distinct=%v", distinct), func(b *testing.B) {
			const rows = 1_000_000
			var in bytes.Buffer
			if err := WriteScanSMB(&in, rows, distinct); err != nil {
				b.Fatal(err)
			}
			run := testRun("2026-11-21-scan_smb-example_org-asn.csv", nil)
			b.SetBytes(int64(in.Len()))
			b.ReportAllocs()
			b.ResetTimer()
			cpu0 := cpuTime()
			for b.Loop() {
				st, err := Parse(bytes.NewReader(in.Bytes()), run, func(*focal.Event) error { return nil }, nil)
				if err != nil || st.Events+st.Problems != rows {
					b.Fatalf("stats %+v, err %v", st, err)
				}
			}
			total := float64(rows) * float64(b.N)
			b.ReportMetric(total/b.Elapsed().Seconds(), "rows/s")
			// Wall time suffers when other processes share the cores; the
			// process's CPU time (GC included) does not.
			if cpu := cpuTime() - cpu0; cpu > 0 {
				b.ReportMetric(total/cpu.Seconds(), "rows/cpu-s")
			}
		})
	}
}

func BenchmarkSplitLine(b *testing.B) {
	plain := "2024-09-01 00:00:00,192.0.2.1,tcp,445,host-192-0-2-1.example.net,smb,64500,AT,WIEN,VIENNA,517311,0,,N,,,N,3,0,2,SMB 3.0.2"
	mixed := `2024-09-01 00:00:01,203.0.113.1,tcp,445,host-203-0-113-1.example.net,smb,64509,NL,NOORD-HOLLAND,AMSTERDAM,517311,821101,"Communications, Service Provider, and Hosting Service",N,,,Y,1,0,0,SMB 1.0`
	quoted := `"2024-09-01 00:00:01","203.0.113.1","tcp",445,"host-203-0-113-1.example.net","smb",64509,"NL","NOORD-HOLLAND","AMSTERDAM",517311,821101,"Communications, Service Provider, and Hosting Service","N",,,"Y",1,0,0,"SMB 1.0"`
	for _, tt := range []struct{ name, line string }{{"plain", plain}, {"mixed", mixed}, {"quoted", quoted}} {
		b.Run(tt.name, func(b *testing.B) {
			var dst []string
			cpu0 := cpuTime()
			for b.Loop() {
				var n int
				dst, n, _ = splitLine(dst[:0], tt.line, 8)
				if n != 21 {
					b.Fatal(n)
				}
			}
			if cpu := cpuTime() - cpu0; cpu > 0 {
				b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
			}
		})
	}
}
