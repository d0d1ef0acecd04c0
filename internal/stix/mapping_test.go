package stix

import (
	"bytes"
	"encoding/json"
	"flag"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"focal/internal/focal"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

const creator = "identity--ff6a9d4a-0f00-4da6-b521-73f60a8c2cf3"

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func infectedEvent() focal.Event {
	return focal.Event{
		SourceTime:   t0.Add(-2 * time.Hour),
		ObservedTime: t0,
		Class:        "malicious-code", Type: "infected-system",
		Source:      focal.Endpoint{IP: netip.MustParseAddr("192.0.2.10"), Port: 49152, ASN: 64496, Country: "AT"},
		Destination: focal.Endpoint{IP: netip.MustParseAddr("203.0.113.66"), Port: 443, FQDN: "c2.example.net"},
		Protocol:    "tcp", Malware: "examplebot", Feed: "shadowserver-sinkhole", Provider: "Shadowserver",
		TLP: focal.TLPAmberStrict, Confidence: 90, Count: 3,
		FirstSeen: t0.Add(-3 * time.Hour), LastSeen: t0.Add(-time.Hour),
	}
}

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := "testdata/" + name
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want := readFile(t, path)
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (go test -update to rewrite):\n%s", path, got)
	}
}

func indent(t *testing.T, objs []Object) []byte {
	t.Helper()
	var buf bytes.Buffer
	for _, o := range objs {
		if err := json.Indent(&buf, o.Raw(), "", "  "); err != nil {
			t.Fatal(err)
		}
		buf.WriteByte('\n')
	}
	return buf.Bytes()
}

func TestFromEventGolden(t *testing.T) {
	objs, err := FromEvent(infectedEvent(), creator)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "event-infected.golden", indent(t, objs))
	for _, o := range objs {
		if err := Validate(o); err != nil {
			t.Errorf("Validate(%s): %v", o.ID, err)
		}
		if tlp, _ := TLPOf(o.Common); tlp != focal.TLPAmberStrict {
			t.Errorf("%s: TLP %q, want AMBER+STRICT", o.ID, tlp)
		}
	}
	again, err := FromEvent(infectedEvent(), creator)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(indent(t, objs), indent(t, again)) {
		t.Error("FromEvent is not deterministic")
	}
}

func TestEventRoundTrip(t *testing.T) {
	v6 := focal.Event{ObservedTime: t0, Class: "information-gathering", Type: "scanner",
		Source: focal.Endpoint{IP: netip.MustParseAddr("2001:db8::5")}, TLP: focal.TLPClear, Feed: "scan", Count: 1}
	phish := focal.Event{SourceTime: t0, Class: "fraud", Type: "phishing",
		Destination: focal.Endpoint{URL: "https://login.example.org/x?a='b'", FQDN: "login.example.org", IP: netip.MustParseAddr("198.51.100.80")},
		Feed:        "phish"}
	vuln := focal.Event{ObservedTime: t0, FirstSeen: t0.Add(-time.Minute), Class: "vulnerable", Type: "vulnerable-system",
		Source: focal.Endpoint{IP: netip.MustParseAddr("192.0.2.99"), FQDN: "host.example.com"}, TLP: focal.TLPRed, Feed: "vuln", Count: 2_000_000_000}
	for name, e := range map[string]focal.Event{"infected": infectedEvent(), "ipv6-scanner": v6, "phishing": phish, "vulnerable": vuln} {
		t.Run(name, func(t *testing.T) {
			objs, err := FromEvent(e, creator)
			if err != nil {
				t.Fatal(err)
			}
			var od Object
			for _, o := range objs {
				if o.Type == "observed-data" {
					od = o
				}
			}
			res, err := ToEvents(od, Index(objs), "")
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Events) != 1 || len(res.Ignored) != 0 {
				t.Fatalf("ToEvents = %d events, ignored %q; want 1 event", len(res.Events), res.Ignored)
			}
			got := res.Events[0]
			wantTLP := e.TLP
			if wantTLP == "" {
				wantTLP = focal.TLPAmber
			}
			for _, c := range []struct {
				what      string
				got, want any
			}{
				{"source ip", got.Source.IP, e.Source.IP},
				{"source fqdn", got.Source.FQDN, e.Source.FQDN},
				{"source url", got.Source.URL, e.Source.URL},
				{"source asn", got.Source.ASN, e.Source.ASN},
				{"destination ip", got.Destination.IP, e.Destination.IP},
				{"destination fqdn", got.Destination.FQDN, e.Destination.FQDN},
				{"destination url", got.Destination.URL, e.Destination.URL},
				{"tlp", got.TLP, wantTLP},
				{"class", got.Class, e.Class},
				{"type", got.Type, e.Type},
				{"confidence", got.Confidence, e.Confidence},
				{"malware", got.Malware, e.Malware},
				{"feed", got.Feed, "taxii"},
				{"count", got.Count, min(max(e.Count, 1), 999_999_999)},
			} {
				if c.got != c.want {
					t.Errorf("%s = %v, want %v", c.what, c.got, c.want)
				}
			}
			first := e.FirstSeen
			if first.IsZero() {
				first = e.SourceTime
			}
			if first.IsZero() {
				first = e.ObservedTime
			}
			if !got.SourceTime.Equal(first) || !got.FirstSeen.Equal(first) {
				t.Errorf("source time %v, first seen %v; want %v", got.SourceTime, got.FirstSeen, first)
			}
		})
	}
}

func TestFromEventIndicator(t *testing.T) {
	objs, err := FromEvent(infectedEvent(), creator)
	if err != nil {
		t.Fatal(err)
	}
	ind := objs[len(objs)-1]
	if ind.Type != "indicator" {
		t.Fatalf("last object is %s, want the indicator", ind.Type)
	}
	var typed Indicator
	if err := ind.As(&typed); err != nil {
		t.Fatal(err)
	}
	if want := "[ipv4-addr:value = '203.0.113.66'] OR [domain-name:value = 'c2.example.net']"; typed.Pattern != want {
		t.Errorf("pattern = %s, want %s", typed.Pattern, want)
	}
	res, err := ToEvents(ind, nil, "peer")
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Events) != 2 {
		t.Fatalf("ToEvents(indicator) = %d events (ignored %q), want 2", len(res.Events), res.Ignored)
	}
	for _, e := range res.Events {
		if e.Class != "malicious-code" || e.Type != "c2-server" || e.TLP != focal.TLPAmberStrict || e.Feed != "peer" || e.Malware != "examplebot" || !e.Source.IsZero() {
			t.Errorf("event %+v: want a c2-server AMBER+STRICT event of feed peer with only a destination", e)
		}
	}
	if res.Events[0].Destination.IP != netip.MustParseAddr("203.0.113.66") || res.Events[1].Destination.FQDN != "c2.example.net" {
		t.Errorf("destinations = %+v, %+v", res.Events[0].Destination, res.Events[1].Destination)
	}
	if res.Events[0].DedupKey != "peer|203.0.113.66|malicious-code/c2-server" {
		t.Errorf("dedup key = %q", res.Events[0].DedupKey)
	}

	// A vulnerable system is not an indicator of compromise.
	e := infectedEvent()
	e.Class, e.Type = "vulnerable", "vulnerable-system"
	objs, err = FromEvent(e, creator)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		if o.Type == "indicator" {
			t.Errorf("FromEvent(vulnerable-system) made an indicator %s", o.Raw())
		}
	}
}

func TestFromEventErrors(t *testing.T) {
	e := infectedEvent()
	if _, err := FromEvent(e, "malware--ff6a9d4a-0f00-4da6-b521-73f60a8c2cf3"); err == nil {
		t.Error("FromEvent with a malware creator succeeded")
	}
	e.TLP = "PURPLE"
	if _, err := FromEvent(e, creator); err == nil {
		t.Error("FromEvent with TLP PURPLE succeeded")
	}
	if _, err := FromEvent(focal.Event{Source: focal.Endpoint{IP: netip.MustParseAddr("192.0.2.1")}}, ""); err == nil {
		t.Error("FromEvent without a time succeeded")
	}
	if _, err := FromEvent(focal.Event{ObservedTime: t0, Source: focal.Endpoint{Country: "AT"}}, ""); err == nil {
		t.Error("FromEvent without an observable succeeded")
	}
}

func TestToEventsGoldenBundle(t *testing.T) {
	b, err := DecodeBundle(readFile(t, "testdata/bundle.json"))
	if err != nil {
		t.Fatal(err)
	}
	idx := Index(b.Objects)
	res, err := ToEvents(idx["indicator--e46d52e8-37bf-492a-aaef-7ad30ebdc1c6"], idx, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Events) != 2 {
		t.Fatalf("indicator: %d events, ignored %q; want 2", len(res.Events), res.Ignored)
	}
	e := res.Events[0]
	if e.Destination.IP != netip.MustParseAddr("198.51.100.3") || e.Class != "malicious-code" || e.Type != "c2-server" ||
		e.TLP != focal.TLPAmber || e.Confidence != 80 || e.Malware != "examplebot" || e.Provider != "CSIRT Example" ||
		e.Identifier != "indicator--e46d52e8-37bf-492a-aaef-7ad30ebdc1c6" || !e.SourceTime.Equal(time.Date(2026, 1, 5, 9, 10, 11, 0, time.UTC)) {
		t.Errorf("indicator event = %+v", e)
	}
	if res.Events[1].Destination.FQDN != "example.com" {
		t.Errorf("second event destination = %+v, want example.com", res.Events[1].Destination)
	}

	res, err = ToEvents(idx["observed-data--94e216f7-e967-4e80-9894-af1d0a0cfe45"], idx, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Events) != 2 {
		t.Fatalf("observed-data: %d events, ignored %q; want 2", len(res.Events), res.Ignored)
	}
	ip, url := res.Events[0], res.Events[1]
	if ip.Source.IP != netip.MustParseAddr("198.51.100.3") || ip.Count != 12 || ip.Class != "other" || ip.Type != "undetermined" {
		t.Errorf("observed-data address event = %+v", ip)
	}
	if url.Destination.URL != "https://example.com/" || !url.LastSeen.Equal(time.Date(2026, 1, 5, 9, 14, 0, 0, time.UTC)) {
		t.Errorf("observed-data url event = %+v", url)
	}

	if _, err := ToEvents(idx["malware--e31c9a7d-7f9f-4ba7-aed8-19f1b066dd25"], idx, ""); err == nil {
		t.Error("ToEvents(malware) succeeded")
	}
}

func TestToEventsIgnored(t *testing.T) {
	ind := func(set map[string]any) Object {
		o, err := Decode(mutate(t, baseIndicator, set))
		if err != nil {
			t.Fatal(err)
		}
		return o
	}
	tests := []struct {
		name   string
		obj    Object
		events int
		want   string
	}{
		{"revoked", ind(map[string]any{"revoked": true}), 0, "revoked"},
		{"sigma", ind(map[string]any{"pattern_type": "sigma", "pattern": "title: x"}), 0, `pattern_type "sigma" is not stix`},
		{"benign", ind(map[string]any{"indicator_types": []string{"benign"}}), 0, "benign activity"},
		{"hashes", ind(map[string]any{"pattern": "[file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e'] OR [ipv4-addr:value = '192.0.2.1']"}), 1, "focal events carry no md5 observables"},
		{"cidr", ind(map[string]any{"pattern": "[ipv4-addr:value = '198.51.100.0/24']"}), 1, ""},
		{"email", ind(map[string]any{"pattern": "[email-addr:value = 'Spammer@Example.NET']"}), 1, ""},
		{"bad-domain", ind(map[string]any{"pattern": "[domain-name:value = 'not a domain']"}), 0, "domain-name:value = 'not a domain'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := ToEvents(tt.obj, nil, "")
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Events) != tt.events {
				t.Errorf("%d events, want %d (ignored %q)", len(res.Events), tt.events, res.Ignored)
			}
			if tt.want != "" && !strings.Contains(strings.Join(res.Ignored, "\n"), tt.want) {
				t.Errorf("ignored = %q, want a line containing %q", res.Ignored, tt.want)
			}
			for _, e := range res.Events {
				if err := e.Validate(); err != nil {
					t.Errorf("event %v does not validate: %v", e, err)
				}
			}
		})
	}
	res, _ := ToEvents(tests[4].obj, nil, "")
	if e := res.Events[0]; e.Source.IP != netip.MustParseAddr("198.51.100.0") || e.Identifier != "cidr:198.51.100.0/24" {
		t.Errorf("cidr event = %+v", e)
	}
	res, _ = ToEvents(tests[5].obj, nil, "")
	if e := res.Events[0]; e.Source.URL != "mailto:spammer@example.net" || e.Source.FQDN != "example.net" {
		t.Errorf("e-mail event = %+v", e)
	}
	bad := ind(map[string]any{"pattern": "[ipv4-addr:value = "})
	if _, err := ToEvents(bad, nil, ""); err == nil || !strings.Contains(err.Error(), "pattern: at byte") {
		t.Errorf("ToEvents(broken pattern) = %v, want a pattern error", err)
	}
}

func TestIndicatorFromObservable(t *testing.T) {
	o := focal.Observable{Kind: "domain", Value: "evil.example.com", TLP: focal.TLPGreen, CreatedAt: t0.Add(-time.Hour)}
	ind, err := IndicatorFromObservable(o, creator, t0)
	if err != nil {
		t.Fatal(err)
	}
	obj := MustObject(ind)
	if err := Validate(obj); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	if ind.Pattern != "[domain-name:value = 'evil.example.com']" || ind.PatternType != "stix" || ind.PatternVersion != "2.1" ||
		ind.ValidFrom.String() != "2026-03-01T11:00:00.000Z" || ind.Modified.String() != "2026-03-01T12:00:00.000Z" ||
		ind.Name != "domain evil.example.com" || ind.CreatedByRef != creator || len(ind.IndicatorTypes) != 1 {
		t.Errorf("indicator = %+v", ind)
	}
	if tlp, _ := TLPOf(ind.Common); tlp != focal.TLPGreen {
		t.Errorf("TLP = %q, want GREEN", tlp)
	}
	later, err := IndicatorFromObservable(o, creator, t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if later.ID != ind.ID || !later.Modified.After(ind.Modified.Time) || later.Created != ind.Created {
		t.Errorf("a later export is not a new version of %s: %s modified %s", ind.ID, later.ID, later.Modified)
	}
	o.TLP = ""
	if amber, err := IndicatorFromObservable(o, creator, t0); err != nil || amber.ObjectMarkingRefs[0] != TLP2Amber {
		t.Errorf("unlabelled observable: %v, markings %v; want AMBER", err, amber.ObjectMarkingRefs)
	}
	res, err := ToEvents(obj, nil, "")
	if err != nil || len(res.Events) != 1 || res.Events[0].Destination.FQDN != "evil.example.com" || res.Events[0].TLP != focal.TLPGreen {
		t.Errorf("ToEvents(IndicatorFromObservable) = %+v, %v", res, err)
	}
	if _, err := IndicatorFromObservable(focal.Observable{Kind: "ipv4", Value: "nope"}, creator, t0); err == nil {
		t.Error("IndicatorFromObservable(invalid ipv4) succeeded")
	}
}

func TestReportFromIncident(t *testing.T) {
	inc := focal.Incident{
		ID: 42, Ref: "FOC-2026-000042", Title: "Phishing against example.org",
		Description: "Credential phishing page.", TLP: focal.TLPAmber, PAP: focal.PAPAmber,
		Severity: focal.SeverityHigh, Status: focal.StatusInProgress,
		Classifications: []focal.Classification{{Class: "fraud", Type: "phishing"}},
		Reporter:        focal.Reporter{Name: "Erika Mustermann", Email: "erika@example.org"},
		Milestones:      focal.Milestones{Reported: t0.Add(-time.Hour)},
		CreatedAt:       t0.Add(-time.Hour), UpdatedAt: t0,
	}
	obs := []focal.Observable{
		{Kind: "url", Value: "https://login.example.net/", TLP: focal.TLPGreen, Source: "extracted"},
		{Kind: "ipv4", Value: "198.51.100.80", Source: "extracted"},
		{Kind: "sha256", Value: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", Source: "manual"},
	}
	objs, err := ReportFromIncident(inc, obs, creator)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "incident-report.golden", indent(t, objs))
	if len(objs) != 5 || objs[0].Type != "report" || objs[1].Type != "incident" {
		t.Fatalf("got %d objects starting %s, %s; want report, incident and 3 indicators", len(objs), objs[0].Type, objs[1].Type)
	}
	var rep Report
	if err := objs[0].As(&rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.ObjectRefs) != 4 || rep.ObjectRefs[0] != objs[1].ID || rep.Name != "FOC-2026-000042: Phishing against example.org" {
		t.Errorf("report = %+v", rep)
	}
	for _, o := range objs {
		if err := Validate(o); err != nil {
			t.Errorf("Validate(%s): %v", o.ID, err)
		}
		if bytes.Contains(o.Raw(), []byte("erika")) || bytes.Contains(o.Raw(), []byte("Mustermann")) {
			t.Errorf("%s exports the reporter: %s", o.ID, o.Raw())
		}
	}
	if tlp, _ := TLPOf(objs[2].Common); tlp != focal.TLPGreen {
		t.Errorf("the URL indicator has TLP %q, want its own GREEN", tlp)
	}
	if tlp, _ := TLPOf(objs[3].Common); tlp != focal.TLPAmber {
		t.Errorf("the unlabelled indicator has TLP %q, want the incident's AMBER", tlp)
	}
	inc.UpdatedAt = t0.Add(time.Hour)
	again, err := ReportFromIncident(inc, obs, creator)
	if err != nil {
		t.Fatal(err)
	}
	if again[0].ID != objs[0].ID || again[1].ID != objs[1].ID || !again[0].Modified.After(objs[0].Modified.Time) {
		t.Error("a later export is not a new version of the same report and incident")
	}
}

func TestIdentityFor(t *testing.T) {
	a := IdentityFor("CSIRT Example", "csirt@example.org")
	b := IdentityFor("CSIRT Example", "soc@example.org")
	c := IdentityFor("Other CSIRT", "csirt@example.org")
	if a.ID != b.ID || a.ID == c.ID {
		t.Errorf("ids %s, %s, %s: want the first two equal and the third different", a.ID, b.ID, c.ID)
	}
	if want := NameID("identity", []byte("CSIRT Example")); a.ID != want {
		t.Errorf("id = %s, want %s", a.ID, want)
	}
	if a.ContactInformation != "csirt@example.org" || a.IdentityClass != "organization" || a.Name != "CSIRT Example" ||
		a.Created.String() != "2020-01-01T00:00:00.000Z" || a.Modified != a.Created {
		t.Errorf("identity = %+v", a)
	}
	b.Modified = NewTimestamp(t0)
	for _, id := range []Identity{a, b} {
		if err := Validate(MustObject(id)); err != nil {
			t.Errorf("Validate(%+v): %v", id, err)
		}
	}
}

func TestClassify(t *testing.T) {
	tests := []struct {
		name        string
		labels      []string
		types       []string
		class, typ  string
		benign      bool
		customClass string
	}{
		{"machine-tag-wins", []string{"c2", `rsit:fraud="phishing"`}, nil, "fraud", "phishing", false, ""},
		{"specific-over-generic", nil, []string{"malicious-activity", "Phishing"}, "fraud", "phishing", false, ""},
		{"generic", nil, []string{"malicious-activity"}, "malicious-code", "c2-server", false, ""},
		{"nothing", []string{"foo"}, nil, "other", "undetermined", false, ""},
		{"benign", nil, []string{"benign"}, "other", "undetermined", true, ""},
		{"benign-and-c2", []string{"c2"}, []string{"benign"}, "malicious-code", "c2-server", false, ""},
		{"bad-machine-tag", []string{`rsit:fraud="nope"`, "spam"}, nil, "abusive-content", "spam", false, ""},
		{"custom-wins", []string{"c2"}, nil, "vulnerable", "weak-crypto", false, "vulnerable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Common{Labels: tt.labels}
			if tt.customClass != "" {
				if err := c.SetCustom("x_focal_class", tt.customClass); err != nil {
					t.Fatal(err)
				}
				if err := c.SetCustom("x_focal_type", tt.typ); err != nil {
					t.Fatal(err)
				}
			}
			class, typ, benign := Classify(c, tt.types)
			if class != tt.class || typ != tt.typ || benign != tt.benign {
				t.Errorf("Classify(%v, %v) = %s/%s %v, want %s/%s %v", tt.labels, tt.types, class, typ, benign, tt.class, tt.typ, tt.benign)
			}
		})
	}
}
