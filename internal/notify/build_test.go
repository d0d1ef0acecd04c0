package notify

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"focal/internal/focal"
)

func build(tb testing.TB, p Policy, events []*focal.Event, team Team) []*Message {
	tb.Helper()
	msgs, err := Build(testOrg(), p, events, team, testNow)
	if err != nil {
		tb.Fatalf("Build() = %v", err)
	}
	return msgs
}

func TestBuildMessage(t *testing.T) {
	events := []*focal.Event{
		testEvent(1, "malicious-code", "infected-system", focal.TLPGreen),
		testEvent(2, "vulnerable", "vulnerable-system", focal.TLPAmberStrict),
		testEvent(3, "malicious-code", "infected-system", focal.TLPClear),
		testEvent(4, "intrusions", "system-compromise", focal.TLPRed), // never sent
	}
	msgs := build(t, testPolicy(), events, testTeam())
	if len(msgs) != 1 {
		t.Fatalf("Build() = %d messages, want 1", len(msgs))
	}
	m := msgs[0]
	if !slices.Equal(m.EventIDs, []int64{3, 1, 2}) {
		t.Errorf("EventIDs = %v, want [3 1 2] (RED left out, sorted by class, type, time)", m.EventIDs)
	}
	if m.TLP != focal.TLPAmberStrict {
		t.Errorf("TLP = %s, want the highest, AMBER+STRICT", m.TLP)
	}
	refRE := regexp.MustCompile(`^FOCAL-N-20260304-[A-Z2-7]{8}$`)
	if !refRE.MatchString(m.Reference) {
		t.Errorf("Reference = %q, want FOCAL-N-20260304-<8 base32>", m.Reference)
	}
	p := parseMessage(t, m.Raw)
	subject, err := p.header.Subject()
	if err != nil {
		t.Fatal(err)
	}
	if want := "[TLP:AMBER+STRICT] CERT-XX security notification " + m.Reference; subject != want {
		t.Errorf("Subject = %q, want %q", subject, want)
	}
	for k, want := range map[string]string{
		"X-Focal-Reference": m.Reference,
		"Auto-Submitted":    "auto-generated",
		"Mime-Version":      "1.0",
		"Precedence":        "",
		"List-Unsubscribe":  "",
	} {
		if got := p.header.Get(k); got != want {
			t.Errorf("header %s = %q, want %q", k, got, want)
		}
	}
	if id, _ := p.header.MessageID(); !strings.HasSuffix(id, "@cert.example") {
		t.Errorf("Message-ID = %q, want …@cert.example", id)
	}
	if d, err := p.header.Date(); err != nil || !d.Equal(testNow) {
		t.Errorf("Date = %v, %v, want %v", d, err, testNow)
	}
	from, _ := p.header.AddressList("From")
	if len(from) != 1 || from[0].Address != "cert@cert.example" || from[0].Name != "CERT-XX" {
		t.Errorf("From = %v, want CERT-XX <cert@cert.example>", from)
	}
	to, _ := p.header.AddressList("To")
	if len(to) != 2 || to[1].Address != "soc@telecom.example" || to[1].Name != "Security Desk" {
		t.Errorf("To = %v, want both recipients with their names", to)
	}
	if !slices.Equal(m.To, []string{"abuse@telecom.example", "soc@telecom.example"}) {
		t.Errorf("Message.To = %v, want the bare addresses", m.To)
	}
	if !strings.HasPrefix(p.text, "TLP:AMBER+STRICT\r\n") {
		t.Errorf("body starts %q, want the TLP label on the first line", p.text[:min(40, len(p.text))])
	}
	mustContain(t, "body", p.text, "only on a need-to-know basis within\r\nyour own organisation")
	mustContain(t, "body", p.text, "Dear Example Telecom security team")
	mustContain(t, "body", p.text, "3 events (")
	mustContain(t, "body", p.text, "\r\nmalicious-code  infected-system    2       6\r\n")
	mustContain(t, "body", p.text, m.Reference)
	if strings.Contains(p.text, "part 1") {
		t.Errorf("body of a single message mentions parts")
	}
	csvData := p.files[m.Reference+".csv"]
	if csvData == nil {
		t.Fatalf("attachments = %v, want %s.csv", p.order, m.Reference)
	}
	recs := readCSV(t, csvData)
	if len(recs) != 4 || !slices.Equal(recs[0], CSVHeader) {
		t.Fatalf("CSV = %d records, header %v; want header + 3", len(recs), recs[0])
	}
	if !strings.Contains(string(m.Raw), "Content-Type: text/csv; charset=utf-8; header=present;") {
		t.Errorf("CSV part lacks its content type")
	}
	if !strings.Contains(string(m.Raw), "Content-Transfer-Encoding: quoted-printable") || !strings.Contains(string(m.Raw), "Content-Transfer-Encoding: base64") {
		t.Errorf("want a quoted-printable text and a base64 attachment")
	}
}

func TestBuildCSVRoundTrip(t *testing.T) {
	e1 := testEvent(1, "fraud", "phishing", focal.TLPAmber)
	e1.Destination.URL = `https://login.example/a,b?q="x"`
	e1.Destination.FQDN = "login.example"
	e1.Identifier = "=HYPERLINK(\"http://evil\")"
	e1.Malware = "multi\nline"
	e2 := testEvent(2, "vulnerable", "ddos-amplifier", focal.TLPGreen)
	e2.Destination = focal.Endpoint{}
	e2.Protocol = "dns"
	e2.FirstSeen, e2.LastSeen = time.Time{}, time.Time{}
	msgs := build(t, testPolicy(), []*focal.Event{e1, e2}, testTeam())
	p := parseMessage(t, msgs[0].Raw)
	recs := readCSV(t, p.files[msgs[0].Reference+".csv"])
	if len(recs) != 3 {
		t.Fatalf("CSV has %d records, want 3", len(recs))
	}
	col := func(rec []string, name string) string { return rec[slices.Index(CSVHeader, name)] }
	phish, amp := recs[1], recs[2]
	for _, c := range []struct{ got, want string }{
		{col(phish, "time"), "2026-03-04T05:05:07Z"},
		{col(phish, "class"), "fraud"},
		{col(phish, "type"), "phishing"},
		{col(phish, "source_ip"), "198.51.100.1"},
		{col(phish, "source_port"), "40001"},
		{col(phish, "source_asn"), "64496"},
		{col(phish, "source_country"), "XX"},
		{col(phish, "destination_ip"), "203.0.113.9"},
		{col(phish, "destination_port"), "443"},
		{col(phish, "source_url"), ""},
		{col(phish, "destination_fqdn"), "login.example"},
		{col(phish, "destination_url"), `https://login.example/a,b?q="x"`},
		{col(phish, "identifier"), "'=HYPERLINK(\"http://evil\")"}, // defused
		{col(phish, "malware"), "multi\nline"},
		{col(phish, "feed"), "shadowserver-sinkhole"},
		{col(phish, "count"), "2"},
		{col(phish, "tlp"), "TLP:AMBER"},
		{col(amp, "destination_ip"), ""},
		{col(amp, "destination_port"), ""},
		{col(amp, "protocol"), "dns"},
		{col(amp, "first_seen"), ""},
		{col(amp, "tlp"), "TLP:GREEN"},
	} {
		if c.got != c.want {
			t.Errorf("CSV field = %q, want %q", c.got, c.want)
		}
	}
	// The URL is in the destination column of the phishing event.
	raw := string(p.files[msgs[0].Reference+".csv"])
	mustContain(t, "CSV", raw, `"https://login.example/a,b?q=""x"""`)
	if !strings.Contains(raw, "\r\n") {
		t.Errorf("CSV lines do not end in CRLF (RFC 4180)")
	}
}

func TestBuildSplit(t *testing.T) {
	events := manyEvents(600)
	team := testTeam()
	team.MaxMessageSize = 64 << 10
	msgs := build(t, testPolicy(), events, team)
	if len(msgs) < 3 {
		t.Fatalf("Build() = %d messages, want the digest split into at least 3", len(msgs))
	}
	seen := map[int64]int{}
	for i, m := range msgs {
		if len(m.Raw) > team.MaxMessageSize {
			t.Errorf("part %d is %d bytes, over the %d cap", i+1, len(m.Raw), team.MaxMessageSize)
		}
		if m.Part != i+1 || m.Parts != len(msgs) {
			t.Errorf("message %d is part %d of %d, want %d of %d", i, m.Part, m.Parts, i+1, len(msgs))
		}
		if want := fmt.Sprintf("%s-%d", m.Digest, i+1); m.Reference != want {
			t.Errorf("Reference = %q, want %q", m.Reference, want)
		}
		p := parseMessage(t, m.Raw)
		subject, _ := p.header.Subject()
		mustContain(t, "Subject", subject, fmt.Sprintf("(part %d of %d)", i+1, len(msgs)))
		mustContain(t, "body", p.text, fmt.Sprintf("this is part %d of %d", i+1, len(msgs)))
		if got := p.header.Get("X-Focal-Part"); got != fmt.Sprintf("%d/%d", i+1, len(msgs)) {
			t.Errorf("X-Focal-Part = %q", got)
		}
		recs := readCSV(t, p.files[m.Reference+".csv"])
		if len(recs)-1 != len(m.EventIDs) {
			t.Errorf("part %d: CSV has %d events, EventIDs %d", i+1, len(recs)-1, len(m.EventIDs))
		}
		for _, id := range m.EventIDs {
			seen[id]++
		}
	}
	for _, e := range events {
		if seen[e.ID] != 1 {
			t.Errorf("event %d is in %d parts, want exactly 1", e.ID, seen[e.ID])
		}
	}
	if len(seen) != len(events) {
		t.Errorf("parts hold %d events, want %d", len(seen), len(events))
	}
}

func TestBuildSplitTooSmall(t *testing.T) {
	team := testTeam()
	team.MaxMessageSize = 1000
	_, err := Build(testOrg(), testPolicy(), manyEvents(2), team, testNow)
	if err == nil || !strings.Contains(err.Error(), "alone makes a message") {
		t.Errorf("Build() with a 1000-byte cap = %v, want an error about one event", err)
	}
}

func TestBuildLanguages(t *testing.T) {
	tests := []struct {
		lang, subject, body string
	}{
		{"en", "CERT-XX security notification", "Dear Example Telecom security team"},
		{"fr", "CERT-XX notification de sécurité", "Madame, Monsieur,"},
		{"fr-BE", "notification de sécurité", "Vous ne pouvez partager ces informations qu'en cas de besoin"},
		{"de", "security notification", "Dear Example Telecom"}, // no German templates: English
	}
	for _, tt := range tests {
		t.Run(tt.lang, func(t *testing.T) {
			p := testPolicy()
			p.Language = tt.lang
			msgs := build(t, p, manyEvents(3), testTeam())
			pm := parseMessage(t, msgs[0].Raw)
			subject, err := pm.header.Subject()
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(subject, "[TLP:AMBER] ") {
				t.Errorf("Subject = %q, want the untranslated TLP label first", subject)
			}
			mustContain(t, "Subject", subject, tt.subject)
			if !strings.HasPrefix(pm.text, "TLP:AMBER\r\n") {
				t.Errorf("body does not start with the TLP label")
			}
			mustContain(t, "body", pm.text, tt.body)
		})
	}
}

func TestLoadTemplatesOverride(t *testing.T) {
	write := func(dir, name, text string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Run("override", func(t *testing.T) {
		dir := t.TempDir()
		write(dir, "en/subject.txt.tmpl", "Report {{.Reference}} for {{.Org.Name}}")
		write(dir, "de/digest.txt.tmpl", "{{.Label}}\n{{template \"tlp-meaning\" .}}\nSehr geehrte Damen und Herren,\n{{.Total}} Ereignisse.\n")
		tmpl, err := LoadTemplates(dir)
		if err != nil {
			t.Fatalf("LoadTemplates() = %v", err)
		}
		if got := tmpl.Languages(); !slices.Equal(got, []string{"de", "en", "fr"}) {
			t.Errorf("Languages() = %v, want [de en fr]", got)
		}
		team := testTeam()
		team.Templates = tmpl
		p := testPolicy()
		msgs := build(t, p, manyEvents(2), team)
		pm := parseMessage(t, msgs[0].Raw)
		subject, _ := pm.header.Subject()
		if want := "[TLP:AMBER] Report " + msgs[0].Reference + " for Example Telecom"; subject != want {
			t.Errorf("Subject = %q, want %q", subject, want)
		}
		mustContain(t, "body", pm.text, "Dear Example Telecom") // embedded digest kept
		p.Language = "de"
		msgs = build(t, p, manyEvents(2), team)
		pm = parseMessage(t, msgs[0].Raw)
		mustContain(t, "body", pm.text, "Sehr geehrte Damen und Herren")
		subject, _ = pm.header.Subject()
		mustContain(t, "Subject", subject, "Report ") // English subject override for the German set
	})
	for name, text := range map[string]string{
		"parse-error":   "{{.Label}\n",
		"unknown-field": "{{.Label}}\n{{.Nope}}\n",
		"no-label":      "Dear all,\n{{.Label}}\n",
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			write(dir, "en/digest.txt.tmpl", text)
			if _, err := LoadTemplates(dir); err == nil || !strings.Contains(err.Error(), "digest.txt.tmpl") {
				t.Errorf("LoadTemplates(%s) = %v, want an error naming digest.txt.tmpl", name, err)
			}
		})
	}
	if _, err := LoadTemplates(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Errorf("LoadTemplates(missing dir) = nil, want an error")
	}
}

func TestBuildXARF(t *testing.T) {
	p := testPolicy()
	p.Format = FormatXARF
	events := []*focal.Event{
		testEvent(1, "malicious-code", "infected-system", focal.TLPAmber),
		testEvent(2, "information-gathering", "scanner", focal.TLPGreen),
		testEvent(3, "vulnerable", "vulnerable-system", focal.TLPAmber),
	}
	events[2].Identifier = "cve-2024-3400"
	msgs := build(t, p, events, testTeam())
	pm := parseMessage(t, msgs[0].Raw)
	if len(pm.files) != 3 {
		t.Fatalf("attachments = %v, want 3 XARF reports", pm.order)
	}
	mustContain(t, "body", pm.text, "one XARF v4 report in JSON (3 attachments)")
	uuidRE := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	tagRE := regexp.MustCompile(`^[a-z0-9][a-z0-9_+-]*:[a-z0-9][a-z0-9_+\-.]*$`)
	categories := []string{"messaging", "content", "copyright", "connection", "vulnerability", "infrastructure", "reputation"}
	var kinds []string
	for _, name := range pm.order {
		var r map[string]any
		if err := json.Unmarshal(pm.files[name], &r); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, f := range []string{"xarf_version", "report_id", "timestamp", "reporter", "sender", "source_identifier", "category", "type"} {
			if r[f] == nil || r[f] == "" {
				t.Errorf("%s: required field %s missing", name, f)
			}
		}
		if r["xarf_version"] != "4.0.0" {
			t.Errorf("%s: xarf_version = %v", name, r["xarf_version"])
		}
		if !uuidRE.MatchString(fmt.Sprint(r["report_id"])) {
			t.Errorf("%s: report_id = %v, want a UUID v4", name, r["report_id"])
		}
		if _, err := time.Parse(time.RFC3339, fmt.Sprint(r["timestamp"])); err != nil {
			t.Errorf("%s: timestamp: %v", name, err)
		}
		for _, who := range []string{"reporter", "sender"} {
			c, _ := r[who].(map[string]any)
			if c["org"] != "CERT-XX" || c["contact"] != "cert@cert.example" || c["domain"] != "cert.example" || len(c) != 3 {
				t.Errorf("%s: %s = %v, want org, contact and domain only", name, who, c)
			}
		}
		if !slices.Contains(categories, fmt.Sprint(r["category"])) {
			t.Errorf("%s: category %v not in the XARF v4 list", name, r["category"])
		}
		if c, ok := r["confidence"].(float64); !ok || c != 0.8 {
			t.Errorf("%s: confidence = %v, want 0.8", name, r["confidence"])
		}
		tags, _ := r["tags"].([]any)
		for _, tag := range tags {
			if !tagRE.MatchString(fmt.Sprint(tag)) {
				t.Errorf("%s: tag %q does not match the XARF pattern", name, tag)
			}
		}
		ev, _ := r["evidence"].([]any)
		if len(ev) != 1 {
			t.Errorf("%s: evidence = %v, want the raw line", name, r["evidence"])
		}
		kinds = append(kinds, fmt.Sprintf("%v/%v", r["category"], r["type"]))
	}
	slices.Sort(kinds)
	if want := []string{"connection/port_scan", "infrastructure/botnet", "vulnerability/cve"}; !slices.Equal(kinds, want) {
		t.Errorf("reports = %v, want %v", kinds, want)
	}
}

func TestToXARF(t *testing.T) {
	team := testTeam()
	tests := []struct {
		name  string
		edit  func(*focal.Event)
		class string
		check func(*testing.T, XARFReport)
	}{
		{"botnet", nil, "malicious-code/infected-system", func(t *testing.T, r XARFReport) {
			if r.Category != "infrastructure" || r.Type != "botnet" || r.CompromiseEvidence == "" || r.MalwareFamily != "mirai" || r.C2Server != "203.0.113.9" {
				t.Errorf("got %+v", r)
			}
			if r.SourceIdentifier != "198.51.100.1" || r.SourcePort != 40001 {
				t.Errorf("source = %s:%d", r.SourceIdentifier, r.SourcePort)
			}
		}},
		{"port-scan", nil, "information-gathering/scanner", func(t *testing.T, r XARFReport) {
			if r.Category != "connection" || r.Type != "port_scan" || r.Protocol != "tcp" || r.FirstSeen == "" || r.DestinationIP != "203.0.113.9" {
				t.Errorf("got %+v", r)
			}
		}},
		{"port-scan-without-port", func(e *focal.Event) { e.Source.Port = 0 }, "information-gathering/scanner", func(t *testing.T, r XARFReport) {
			if r.Category != "reputation" || r.Type != "threat_intelligence" || r.ThreatType != "scanner" {
				t.Errorf("got %s/%s %q, want the threat_intelligence fallback", r.Category, r.Type, r.ThreatType)
			}
		}},
		{"c2-destination-side", func(e *focal.Event) { e.Source = focal.Endpoint{} }, "malicious-code/c2-server", func(t *testing.T, r XARFReport) {
			if r.SourceIdentifier != "203.0.113.9" || r.SourcePort != 443 || r.Category != "reputation" || r.ThreatType != "c2_server" {
				t.Errorf("got %+v", r)
			}
		}},
		{"phishing", func(e *focal.Event) {
			e.Destination = focal.Endpoint{URL: "https://login.example/x", FQDN: "login.example"}
		}, "fraud/phishing", func(t *testing.T, r XARFReport) {
			if r.Category != "content" || r.Type != "phishing" || r.URL != "https://login.example/x" || r.SourceIdentifier != "login.example" || r.Domain != "login.example" {
				t.Errorf("got %+v", r)
			}
		}},
		{"phishing-without-url", nil, "fraud/phishing", func(t *testing.T, r XARFReport) {
			if r.Category != "reputation" || r.ThreatType != "phishing" {
				t.Errorf("got %s/%s", r.Category, r.Type)
			}
		}},
		{"spam", nil, "abusive-content/spam", func(t *testing.T, r XARFReport) {
			if r.Category != "reputation" || r.Type != "blocklist" || r.ThreatType != "spam" {
				t.Errorf("got %+v", r)
			}
		}},
		{"open-service", func(e *focal.Event) { e.Protocol = "memcached"; e.Identifier = "" }, "vulnerable/ddos-amplifier", func(t *testing.T, r XARFReport) {
			if r.Category != "vulnerability" || r.Type != "open_service" || r.Service != "memcached" || r.ServicePort != 40001 {
				t.Errorf("got %+v", r)
			}
		}},
		{"weak-crypto", nil, "vulnerable/weak-crypto", func(t *testing.T, r XARFReport) {
			if r.Category != "vulnerability" || r.Type != "misconfiguration" || r.Service != "tcp" {
				t.Errorf("got %+v", r)
			}
		}},
		{"as-only", func(e *focal.Event) {
			e.Source = focal.Endpoint{ASN: 64511}
			e.Destination = focal.Endpoint{}
		}, "other/other", func(t *testing.T, r XARFReport) {
			if r.SourceIdentifier != "AS64511" || r.Category != "reputation" {
				t.Errorf("got %+v", r)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			class, typ, _ := strings.Cut(tt.class, "/")
			e := testEvent(1, class, typ, focal.TLPAmber)
			if tt.edit != nil {
				tt.edit(e)
			}
			tt.check(t, ToXARF(e, team, testNow))
		})
	}
}

func TestBuildRefusesOtherOrganisationsEvents(t *testing.T) {
	e := testEvent(1, "malicious-code", "infected-system", focal.TLPAmber)
	e.Orgs = []int64{7}
	if _, err := Build(testOrg(), testPolicy(), []*focal.Event{e}, testTeam(), testNow); err == nil {
		t.Errorf("Build() with another organisation's event = nil error, want one")
	}
}

func TestBuildNothingWanted(t *testing.T) {
	p := testPolicy()
	p.Classes = []string{"vulnerable"}
	msgs, err := Build(testOrg(), p, manyEvents(3), testTeam(), testNow)
	if err != nil || len(msgs) != 0 {
		t.Errorf("Build() = %d messages, %v; want none and no error", len(msgs), err)
	}
}

func TestBuildInvalid(t *testing.T) {
	p := testPolicy()
	p.Recipients = []string{"nope"}
	if _, err := Build(testOrg(), p, manyEvents(1), testTeam(), testNow); focal.ErrorCode(err) != focal.EINVALID {
		t.Errorf("Build() with a bad policy = %v, want EINVALID", err)
	}
	team := testTeam()
	team.Email = ""
	if _, err := Build(testOrg(), testPolicy(), manyEvents(1), team, testNow); focal.ErrorCode(err) != focal.EINVALID {
		t.Errorf("Build() with no team address = %v, want EINVALID", err)
	}
}
