package iodef

import (
	"bytes"
	"encoding/xml"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"focal/internal/focal"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

var (
	testTeam = Team{Name: "cert.example", Email: "cert@cert.example", Lang: "en"}
	testNow  = time.Date(2026, 3, 12, 16, 30, 0, 0, time.UTC)
	reporter = focal.Reporter{
		Name:         "Alice Reporter",
		Email:        "alice.reporter@example.org",
		Phone:        "+1 555 0100",
		Organisation: "Example Bank",
	}
)

// phishing returns a realistic phishing incident with observables of every
// kind (documentation ranges and example domains only) and a journal.
func phishing() (*focal.Incident, []focal.Observable, []focal.JournalEntry) {
	cet := time.FixedZone("CET", 3600)
	reported := time.Date(2026, 3, 10, 9, 15, 0, 0, cet)
	inc := &focal.Incident{
		ID:    42,
		Ref:   "FOC-2026-000042",
		Title: "Credential phishing against Example Bank customers",
		Description: "Phishing e-mails impersonating Example Bank lead to a fake login page <login.example.com> & collect credentials.\n" +
			"Reported by ALICE.Reporter@Example.org (Alice Reporter, +1 555 0100) after her colleague \"Bob\" clicked.",
		Classifications: []focal.Classification{
			{Class: "fraud", Type: "phishing"},
			{Class: "information-gathering", Type: "social-engineering"},
		},
		Severity:   focal.SeverityHigh,
		TLP:        focal.TLPAmberStrict,
		PAP:        focal.PAPAmber,
		Status:     focal.StatusInProgress,
		Channel:    "email",
		Reporter:   reporter,
		Milestones: focal.Milestones{Reported: reported, Acknowledged: reported.Add(20 * time.Minute)},
		CreatedAt:  reported,
		UpdatedAt:  reported.Add(26 * time.Hour),
	}
	o := func(kind, value string) focal.Observable {
		return focal.Observable{Kind: kind, Value: value, Source: "extracted", CreatedAt: reported}
	}
	obs := []focal.Observable{
		o("ipv4", "192.0.2.10"),
		o("ipv4", "198.51.100.23"),
		o("ipv6", "2001:db8::10"),
		o("ipv6", "2001:db8:1::5"),
		o("cidr", "192.0.2.0/24"),
		o("cidr", "2001:db8:2::/48"),
		o("asn", "AS64496"),
		o("asn", "AS64511"),
		o("domain", "login.example.com"),
		o("domain", "example-bank.example.net"),
		o("url", "https://login.example.com/verify?acct=1&lang=en"),
		o("url", "https://example-bank.example.net/secure/login.php?u=alice.reporter@example.org"),
		o("email", "security-team@example-bank.example.net"),
		o("email", "alice.reporter@example.org"),
		o("md5", "900150983cd24fb0d6963f7d28e17f72"),
		o("sha1", "a9993e364706816aba3e25717850c26c9cd0d89d"),
		o("sha256", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
		o("sha256", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
		o("filename", "Rechnung_März.pdf.exe"),
	}
	obs[8].TLP = focal.TLPGreen
	obs[9].TLP = focal.TLPClear
	j := func(min int, author, kind string, tlp focal.TLP, body string) focal.JournalEntry {
		return focal.JournalEntry{At: reported.Add(time.Duration(min) * time.Minute), Author: author, Kind: kind, TLP: tlp, Body: body}
	}
	journal := []focal.JournalEntry{
		j(0, "", "email_in", focal.TLPAmber, "From: Alice Reporter <alice.reporter@example.org>\nWe received the attached phishing e-mail."),
		j(5, "Carol Handler", "view", "", "viewed the reporter"),
		j(20, "Carol Handler", "state", "", "new → triaged"),
		j(21, "Carol Handler", "classification", "", "fraud/phishing"),
		j(35, "Carol Handler", "note", focal.TLPAmberStrict, "Site hosted at 192.0.2.10 (AS64496); kit collects credentials & OTPs."),
		j(50, "Carol Handler", "email_out", focal.TLPAmber, "Takedown request sent to abuse@example.net."),
		j(60, "Carol Handler", "state", "", "triaged → in_progress"),
	}
	return inc, obs, journal
}

func encode(t *testing.T, inc *focal.Incident, obs []focal.Observable, journal []focal.JournalEntry, opt Options) []byte {
	t.Helper()
	if opt.Now == nil {
		opt.Now = func() time.Time { return testNow }
	}
	var buf bytes.Buffer
	if err := Encode(&buf, testTeam, inc, obs, journal, opt); err != nil {
		t.Fatalf("Encode: %v", err)
	}
	return buf.Bytes()
}

func TestGolden(t *testing.T) {
	inc, obs, journal := phishing()
	got := encode(t, inc, obs, journal, Options{IncludePersonal: true})
	path := filepath.Join("testdata", "phishing.xml")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run TestGolden -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("Encode(phishing) differs from %s (run with -update if intended); got:\n%s", path, got)
	}
	if _, err := Decode(bytes.NewReader(want)); err != nil {
		t.Errorf("Decode(%s) = %v, want nil", path, err)
	}
}

func TestRestriction(t *testing.T) {
	for _, tc := range []struct {
		tlp       focal.TLP
		want, ext string
	}{
		{focal.TLPClear, "white", ""},
		{focal.TLPGreen, "green", ""},
		{focal.TLPAmber, "amber", ""},
		{focal.TLPAmberStrict, "ext-value", "amber+strict"},
		{focal.TLPRed, "red", ""},
		{"", "amber", ""},
		{"PURPLE", "red", ""},
	} {
		name := string(tc.tlp)
		if name == "" {
			name = "unlabelled"
		}
		t.Run(name, func(t *testing.T) {
			if got, ext := Restriction(tc.tlp); got != tc.want || ext != tc.ext {
				t.Errorf("Restriction(%q) = %q, %q, want %q, %q", tc.tlp, got, ext, tc.want, tc.ext)
			}
			inc, _, _ := phishing()
			inc.TLP = tc.tlp
			out := encode(t, inc, nil, nil, Options{})
			doc, err := Decode(bytes.NewReader(out))
			if err != nil {
				t.Fatalf("Decode(Encode(TLP %q)) = %v", tc.tlp, err)
			}
			x := doc.Incidents[0]
			if x.Restriction != tc.want || x.ExtRestriction != tc.ext {
				t.Errorf("Encode(TLP %q) restriction = %q, %q, want %q, %q", tc.tlp, x.Restriction, x.ExtRestriction, tc.want, tc.ext)
			}
			if tc.tlp.Rank() >= 0 {
				if back := TLPOf(x.Restriction, x.ExtRestriction); back != tc.tlp {
					t.Errorf("TLPOf(%q, %q) = %q, want %q", x.Restriction, x.ExtRestriction, back, tc.tlp)
				}
			}
		})
	}
}

func TestTLPOf(t *testing.T) {
	for _, tc := range []struct {
		restriction, ext string
		want             focal.TLP
	}{
		{"public", "", focal.TLPClear},
		{"partner", "", focal.TLPGreen},
		{"need-to-know", "", focal.TLPAmber},
		{"private", "", focal.TLPRed},
		{"AMBER", "", focal.TLPAmber},
		{"ext-value", "AMBER+STRICT", focal.TLPAmberStrict},
		{"ext-value", "other", ""},
		{"default", "", ""},
		{"", "", ""},
	} {
		t.Run(tc.restriction+"_"+tc.ext, func(t *testing.T) {
			if got := TLPOf(tc.restriction, tc.ext); got != tc.want {
				t.Errorf("TLPOf(%q, %q) = %q, want %q", tc.restriction, tc.ext, got, tc.want)
			}
		})
	}
}

func TestNoPersonalData(t *testing.T) {
	inc, obs, journal := phishing()
	out := encode(t, inc, obs, journal, Options{})
	lower := strings.ToLower(string(out))
	for _, s := range []string{reporter.Email, reporter.Name, reporter.Phone, "Carol Handler"} {
		if strings.Contains(lower, strings.ToLower(s)) {
			t.Errorf("Encode(IncludePersonal=false) contains %q; output:\n%s", s, out)
		}
	}
	doc, err := Decode(bytes.NewReader(out))
	if err != nil {
		t.Fatalf("Decode = %v", err)
	}
	x := doc.Incidents[0]
	if len(x.Contact) != 1 || x.Contact[0].Role != "irt" {
		t.Errorf("Encode(IncludePersonal=false) contacts = %+v, want the team only", x.Contact)
	}
	if got, want := len(x.Observables()), len(obs)-1; got != want {
		t.Errorf("Encode(IncludePersonal=false) has %d observables, want %d (the reporter's address left out)", got, want)
	}
	if !strings.Contains(string(out), "login.php?u=[redacted]") {
		t.Errorf("Encode(IncludePersonal=false) did not redact the reporter in a URL")
	}

	// With personal data, the reporter is there, marked private.
	out = encode(t, inc, obs, journal, Options{IncludePersonal: true})
	doc, err = Decode(bytes.NewReader(out))
	if err != nil {
		t.Fatalf("Decode = %v", err)
	}
	cs := doc.Incidents[0].Contact
	if len(cs) != 2 || cs[1].Role != "reporter" || cs[1].Restriction != "private" || len(cs[1].Contact) != 1 || cs[1].Contact[0].Email[0].EmailTo != reporter.Email {
		t.Errorf("Encode(IncludePersonal=true) contacts = %+v, want team and private reporter with e-mail %s", cs, reporter.Email)
	}
}

func TestReporterContact(t *testing.T) {
	for _, tc := range []struct {
		name     string
		r        focal.Reporter
		ok       bool
		typ      string
		children int
	}{
		{"empty", focal.Reporter{}, false, "", 0},
		{"person", focal.Reporter{Name: "A B", Email: "a@example.org"}, true, "person", 0},
		{"organisation", focal.Reporter{Organisation: "Example Ltd"}, true, "organization", 0},
		{"person_at_organisation", reporter, true, "organization", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, ok := reporterContact(tc.r)
			if ok != tc.ok || ok && (c.Type != tc.typ || len(c.Contact) != tc.children || c.Role != "reporter" || c.Restriction != "private") {
				t.Errorf("reporterContact(%+v) = %+v, %v, want type %q with %d nested, %v", tc.r, c, ok, tc.typ, tc.children, tc.ok)
			}
		})
	}
}

func TestRedact(t *testing.T) {
	clean := redactor(reporter)
	for _, tc := range []struct{ name, in, want string }{
		{"email", "from alice.reporter@example.org.", "from [redacted]."},
		{"email_case", "<ALICE.REPORTER@EXAMPLE.ORG>", "<[redacted]>"},
		{"email_longer_address", "bob.alice.reporter@example.org", "bob.alice.reporter@example.org"},
		{"name", "Alice Reporter said", "[redacted] said"},
		{"name_in_word", "Alice Reporters", "Alice Reporters"},
		{"phone", "call +1 555 0100 now", "call [redacted] now"},
		{"url_param", "https://x.example/?u=alice.reporter@example.org&a=1", "https://x.example/?u=[redacted]&a=1"},
		{"nothing", "no personal data", "no personal data"},
		{"empty", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := clean(tc.in); got != tc.want {
				t.Errorf("redact(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestRoundTrip(t *testing.T) {
	inc, obs, journal := phishing()
	out := encode(t, inc, obs, journal, Options{IncludePersonal: true})
	doc, err := Decode(bytes.NewReader(out))
	if err != nil {
		t.Fatalf("Decode(Encode(phishing)) = %v", err)
	}
	if doc.Version != "2.00" || doc.Lang != "en" || len(doc.Incidents) != 1 {
		t.Fatalf("Decode(Encode(phishing)) = version %q lang %q %d incidents, want 2.00 en 1", doc.Version, doc.Lang, len(doc.Incidents))
	}
	x := doc.Incidents[0]
	for _, c := range []struct{ field, got, want string }{
		{"IncidentID", x.IncidentID.Value, inc.Ref},
		{"IncidentID@name", x.IncidentID.Name, testTeam.Name},
		{"purpose", x.Purpose, "reporting"},
		{"restriction", x.Restriction, "ext-value"},
		{"ext-restriction", x.ExtRestriction, "amber+strict"},
		{"status", x.Status, "in-progress"},
		{"GenerationTime", x.GenerationTime.Format(time.RFC3339), "2026-03-12T16:30:00Z"},
		{"ReportTime", x.ReportTime.Format(time.RFC3339), "2026-03-10T08:15:00Z"},
		{"Description", x.Description[1].Value, inc.Description},
		{"severity", x.Assessment[0].SystemImpact[0].Severity, "high"},
	} {
		if c.got != c.want {
			t.Errorf("Decode(Encode(phishing)) %s = %q, want %q", c.field, c.got, c.want)
		}
	}
	got := x.Observables()
	for _, o := range obs {
		i := slices.IndexFunc(got, func(g focal.Observable) bool { return g.Kind == o.Kind && g.Value == o.Value })
		if i < 0 {
			t.Errorf("Decode(Encode(phishing)) lacks observable %s %q", o.Kind, o.Value)
			continue
		}
		if got[i].TLP != o.TLP {
			t.Errorf("Decode(Encode(phishing)) observable %s TLP = %q, want %q", o.Value, got[i].TLP, o.TLP)
		}
	}
	if len(got) != len(obs) {
		t.Errorf("Decode(Encode(phishing)) has %d observables, want %d", len(got), len(obs))
	}
	if cl := x.Classifications(); !slices.Equal(cl, inc.Classifications) {
		t.Errorf("Decode(Encode(phishing)) classifications = %v, want %v", cl, inc.Classifications)
	}
	if x.History == nil || len(x.History.HistoryItem) != len(journal)-1 {
		t.Errorf("Decode(Encode(phishing)) history = %+v, want %d items (view left out)", x.History, len(journal)-1)
	}
}

func TestStatus(t *testing.T) {
	for _, tc := range []struct {
		in        focal.Status
		want, ext string
	}{
		{focal.StatusNew, "new", ""},
		{focal.StatusTriaged, "new", ""},
		{focal.StatusInProgress, "in-progress", ""},
		{focal.StatusWaiting, "in-progress", ""},
		{focal.StatusResolved, "resolved", ""},
		{focal.StatusClosed, "resolved", ""},
		{focal.StatusRejected, "ext-value", "rejected"},
		{focal.StatusMerged, "ext-value", "merged"},
		{"", "", ""},
	} {
		t.Run(string(tc.in)+"_", func(t *testing.T) {
			inc, _, _ := phishing()
			inc.Status = tc.in
			doc, err := Decode(bytes.NewReader(encode(t, inc, nil, nil, Options{})))
			if err != nil {
				t.Fatalf("Decode = %v", err)
			}
			if x := doc.Incidents[0]; x.Status != tc.want || x.ExtStatus != tc.ext {
				t.Errorf("Encode(status %q) status = %q, %q, want %q, %q", tc.in, x.Status, x.ExtStatus, tc.want, tc.ext)
			}
		})
	}
}

func TestMachineTag(t *testing.T) {
	for _, tc := range []struct {
		in   focal.Classification
		want string
	}{
		{focal.Classification{Class: "fraud", Type: "phishing"}, `rsit:fraud="phishing"`},
		{focal.Classification{Class: "malicious-code"}, `rsit:malicious-code`},
	} {
		t.Run(tc.in.Class, func(t *testing.T) {
			if got := MachineTag(tc.in); got != tc.want {
				t.Errorf("MachineTag(%v) = %q, want %q", tc.in, got, tc.want)
			}
			if back, ok := ParseMachineTag(tc.want); !ok || back != tc.in {
				t.Errorf("ParseMachineTag(%q) = %v, %v, want %v, true", tc.want, back, ok, tc.in)
			}
		})
	}
	for _, bad := range []string{"", "rsit:", "misp:x", `rsit:fraud="`, `rsit:fraud=""`, `rsit:="x"`} {
		if c, ok := ParseMachineTag(bad); ok {
			t.Errorf("ParseMachineTag(%q) = %v, true, want false", bad, c)
		}
	}
}

// rfcOrder lists, for some parents, their children in RFC 7970 schema order.
var rfcOrder = map[string][]string{
	"IODEF-Document": {"Incident", "AdditionalData"},
	"Incident": {"IncidentID", "AlternativeID", "RelatedActivity", "DetectTime", "StartTime", "EndTime",
		"RecoveryTime", "ReportTime", "GenerationTime", "Description", "Discovery", "Assessment", "Method",
		"Contact", "EventData", "IndicatorData", "History", "AdditionalData"},
	"Assessment": {"IncidentCategory", "SystemImpact", "BusinessImpact", "TimeImpact", "MonetaryImpact",
		"IntendedImpact", "Counter", "MitigatingFactor", "Cause", "Confidence", "AdditionalData"},
	"Method":    {"Reference", "Description", "AdditionalData"},
	"Reference": {"ReferenceName", "URL", "Description"},
	"Contact": {"ContactName", "ContactTitle", "Description", "RegistryHandle", "PostalAddress", "Email",
		"Telephone", "Timezone", "Contact", "AdditionalData"},
	"Email": {"EmailTo", "Description"},
	"Indicator": {"IndicatorID", "AlternativeIndicatorID", "Description", "StartTime", "EndTime", "Confidence",
		"Contact", "Observable", "uid-ref", "IndicatorExpression", "IndicatorReference", "NodeRole",
		"AttackPhase", "Reference", "AdditionalData"},
	"System":      {"Node", "NodeRole", "Service", "OperatingSystem", "Counter", "AssetID", "Description", "AdditionalData"},
	"Node":        {"DomainData", "Address", "PostalAddress", "Location", "Counter"},
	"DomainData":  {"Name", "DateDomainWasChecked", "RegistrationDate", "ExpirationDate", "RelatedDNS", "Nameservers", "DomainContacts"},
	"File":        {"FileName", "FileSize", "FileType", "URL", "HashData", "SignatureData", "AssociatedSoftware", "FileProperties"},
	"HashData":    {"HashTargetID", "Hash", "FuzzyHash"},
	"Hash":        {"DigestMethod", "DigestValue", "CanonicalizationMethod", "Application"},
	"History":     {"HistoryItem"},
	"HistoryItem": {"DateTime", "IncidentID", "Contact", "Description", "DefinedCOA", "AdditionalData"},
}

func TestElementOrder(t *testing.T) {
	inc, obs, journal := phishing()
	out := encode(t, inc, obs, journal, Options{IncludePersonal: true})
	type frame struct {
		name     string
		children []string
	}
	var stack []frame
	var incidentChildren []string
	d := xml.NewDecoder(bytes.NewReader(out))
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("Token: %v", err)
		}
		switch e := tok.(type) {
		case xml.StartElement:
			if len(stack) > 0 {
				top := &stack[len(stack)-1]
				top.children = append(top.children, e.Name.Local)
			}
			stack = append(stack, frame{name: e.Name.Local})
		case xml.EndElement:
			f := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if f.name == "Incident" {
				incidentChildren = f.children
			}
			order, ok := rfcOrder[f.name]
			if !ok {
				continue
			}
			last := -1
			for _, c := range f.children {
				i := slices.Index(order, c)
				if i < 0 {
					t.Errorf("<%s> has child <%s>, not in RFC 7970 order %v", f.name, c, order)
					continue
				}
				if i < last {
					t.Errorf("<%s> children = %v, want in RFC 7970 order %v", f.name, f.children, order)
					break
				}
				last = i
			}
		}
	}
	for _, req := range []string{"IncidentID", "GenerationTime", "Contact"} {
		if !slices.Contains(incidentChildren, req) {
			t.Errorf("<Incident> children = %v, want a <%s>", incidentChildren, req)
		}
	}
	for _, want := range []string{"ReportTime", "Description", "Assessment", "Method", "IndicatorData", "History", "AdditionalData"} {
		if !slices.Contains(incidentChildren, want) {
			t.Errorf("<Incident> children = %v, want a <%s> for the phishing incident", incidentChildren, want)
		}
	}
}

func TestEscaping(t *testing.T) {
	inc, _, _ := phishing()
	inc.Title = `<script>alert("x")</script> & 'quotes' ]]> `
	inc.Description = "nul\x00byte"
	journal := []focal.JournalEntry{{At: testNow, Kind: "note", Body: "</Description><Contact>"}}
	out := encode(t, inc, nil, journal, Options{})
	doc, err := Decode(bytes.NewReader(out))
	if err != nil {
		t.Fatalf("Decode(Encode(markup)) = %v; output:\n%s", err, out)
	}
	x := doc.Incidents[0]
	if got, want := x.Description[0].Value, strings.TrimSpace(inc.Title); got != want {
		t.Errorf("Decode(Encode(title)) = %q, want %q", got, want)
	}
	if got, want := x.Description[1].Value, "nul\uFFFDbyte"; got != want {
		t.Errorf("Decode(Encode(description)) = %q, want %q", got, want)
	}
	if got := x.History.HistoryItem[0].Description[0].Value; got != journal[0].Body {
		t.Errorf("Decode(Encode(note)) = %q, want %q", got, journal[0].Body)
	}
	if len(x.Contact) != 1 {
		t.Errorf("Decode(Encode(markup)) has %d contacts, want 1", len(x.Contact))
	}
}

func TestEncodeErrors(t *testing.T) {
	inc, _, _ := phishing()
	noRef := *inc
	noRef.Ref, noRef.ID = "", 0
	for _, tc := range []struct {
		name string
		team Team
		inc  *focal.Incident
		obs  []focal.Observable
		opt  Options
		want string
	}{
		{"nil_incident", testTeam, nil, nil, Options{}, "no incident"},
		{"no_team_name", Team{Email: "x@example.org"}, inc, nil, Options{}, "no name"},
		{"no_reference", testTeam, &noRef, nil, Options{}, "neither a reference nor an ID"},
		{"bad_purpose", testTeam, inc, nil, Options{Purpose: "gossip"}, "unknown purpose"},
		{"bad_hash", testTeam, inc, []focal.Observable{{Kind: "sha256", Value: "abc"}}, Options{}, "want 64 hexadecimal digits"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			err := Encode(&buf, tc.team, tc.inc, tc.obs, nil, tc.opt)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Encode(%s) = %v, want an error containing %q", tc.name, err, tc.want)
			}
			if buf.Len() != 0 {
				t.Errorf("Encode(%s) wrote %d bytes, want none", tc.name, buf.Len())
			}
		})
	}
}

func TestEncodeOptions(t *testing.T) {
	inc, obs, _ := phishing()
	doc, err := Decode(bytes.NewReader(encode(t, inc, obs, nil, Options{Purpose: "mitigation"})))
	if err != nil {
		t.Fatalf("Decode = %v", err)
	}
	if got := doc.Incidents[0].Purpose; got != "mitigation" {
		t.Errorf("Encode(Purpose mitigation) purpose = %q, want %q", got, "mitigation")
	}
	ids := map[string]bool{}
	for _, ind := range doc.Incidents[0].IndicatorData.Indicator {
		id := ind.IndicatorID.Value
		if ids[id] || xmlID(id) != id {
			t.Errorf("IndicatorID %q is duplicate or not an xs:ID", id)
		}
		ids[id] = true
	}
	for _, tc := range []struct{ in, want string }{
		{"obs-FOC-2026-1", "obs-FOC-2026-1"},
		{"42", "_42"},
		{"a b:c/ä", "a_b_c___"},
		{"", "_"},
	} {
		if got := xmlID(tc.in); got != tc.want {
			t.Errorf("xmlID(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	valid := func(mod func(string) string) string {
		inc, _, _ := phishing()
		var buf bytes.Buffer
		if err := Encode(&buf, testTeam, inc, nil, nil, Options{Now: func() time.Time { return testNow }}); err != nil {
			t.Fatal(err)
		}
		return mod(buf.String())
	}
	deep := `<IODEF-Document xmlns="urn:ietf:params:xml:ns:iodef-2.0" version="2.00">` +
		strings.Repeat("<a>", MaxDepth) + strings.Repeat("</a>", MaxDepth) + `</IODEF-Document>`
	for _, tc := range []struct {
		name string
		in   string
		is   error
		want string
	}{
		{"empty", "", ErrNotIODEF, "no root element"},
		{"not_xml", "hello", ErrNotIODEF, "text outside the root"},
		{"unclosed", `<IODEF-Document xmlns="urn:ietf:params:xml:ns:iodef-2.0" version="2.00"><Incident>`, nil, "unexpected EOF"},
		{"mismatched", `<IODEF-Document xmlns="urn:ietf:params:xml:ns:iodef-2.0"><a></b></IODEF-Document>`, nil, "in IODEF-Document/a"},
		{"iodef_v1", `<IODEF-Document xmlns="urn:ietf:params:xml:ns:iodef-1.0" version="1.00"/>`, ErrNotIODEF, "iodef-1.0"},
		{"no_namespace", `<IODEF-Document version="2.00"/>`, ErrNotIODEF, "want {urn:ietf:params:xml:ns:iodef-2.0}IODEF-Document"},
		{"doctype", `<!DOCTYPE x [<!ENTITY a "aaaa">]><IODEF-Document xmlns="urn:ietf:params:xml:ns:iodef-2.0"/>`, ErrDTD, "DTDs"},
		{"too_deep", deep, ErrTooDeep, "nested deeper than 64"},
		{"too_large", valid(func(s string) string { return s + strings.Repeat(" ", MaxSize) }), ErrTooLarge, "larger than 10 MiB"},
		{"two_roots", valid(func(s string) string { return s + "<IODEF-Document/>" }), ErrNotIODEF, "content after the root"},
		{"version", valid(func(s string) string { return strings.Replace(s, `version="2.00"`, `version="1.00"`, 1) }), nil, `version "1.00"`},
		{"no_incident", `<IODEF-Document xmlns="urn:ietf:params:xml:ns:iodef-2.0" version="2.00"></IODEF-Document>`, nil, "no Incident"},
		{"no_contact", valid(func(s string) string {
			return s[:strings.Index(s, "<Contact ")] + s[strings.Index(s, "</Contact>")+len("</Contact>"):]
		}), nil, "Incident[1]: no Contact"},
		{"no_incident_id", valid(func(s string) string { return strings.Replace(s, ">FOC-2026-000042<", "><", 1) }), nil, "IncidentID: missing"},
		{"bad_time", valid(func(s string) string {
			return strings.Replace(s, "<GenerationTime>2026-03-12T16:30:00Z", "<GenerationTime>yesterday", 1)
		}), nil, `invalid date-time "yesterday"`},
		{"latin1", `<?xml version="1.0" encoding="ISO-8859-1"?><IODEF-Document/>`, nil, "ISO-8859-1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc, err := Decode(strings.NewReader(tc.in))
			var de *DecodeError
			if err == nil || !errors.As(err, &de) || !strings.Contains(err.Error(), tc.want) || tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("Decode(%s) = %v, %v, want a *DecodeError containing %q", tc.name, doc, err, tc.want)
			}
		})
	}
}

func TestDecodeLenient(t *testing.T) {
	// A peer's document: prefixed namespaces, a time without zone, an
	// address observable directly in Observable, a System in EventData.
	in := `<?xml version="1.0" encoding="UTF-8"?>
<iodef:IODEF-Document xmlns:iodef="urn:ietf:params:xml:ns:iodef-2.0" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" version="2.00" xml:lang="de">
  <iodef:Incident purpose="watch" restriction="green">
    <iodef:IncidentID name="csirt.example.net">X-1</iodef:IncidentID>
    <iodef:GenerationTime> 2026-01-02T03:04:05 </iodef:GenerationTime>
    <iodef:Contact role="creator" type="organization"><iodef:ContactName>Peer</iodef:ContactName></iodef:Contact>
    <iodef:EventData><iodef:Flow><iodef:System category="source"><iodef:Node><iodef:Address category="ipv4-addr">203.0.113.5</iodef:Address></iodef:Node></iodef:System></iodef:Flow></iodef:EventData>
    <iodef:IndicatorData>
      <iodef:Indicator>
        <iodef:IndicatorID name="csirt.example.net" version="1">I1</iodef:IndicatorID>
        <iodef:Observable><iodef:Address category="ipv6-net">2001:db8::/32</iodef:Address></iodef:Observable>
      </iodef:Indicator>
      <iodef:Indicator restriction="amber">
        <iodef:IndicatorID name="csirt.example.net" version="1">I2</iodef:IndicatorID>
        <iodef:Observable><iodef:FileData><iodef:File><iodef:HashData scope="file-contents"><iodef:Hash>
          <ds:DigestMethod Algorithm="http://www.w3.org/2000/09/xmldsig#sha1"/>
          <ds:DigestValue>qZk+NkcGgWq6PiVxeFDCbJzQ2J0=</ds:DigestValue>
        </iodef:Hash></iodef:HashData></iodef:File></iodef:FileData></iodef:Observable>
      </iodef:Indicator>
    </iodef:IndicatorData>
  </iodef:Incident>
</iodef:IODEF-Document>`
	doc, err := Decode(strings.NewReader(in))
	if err != nil {
		t.Fatalf("Decode(peer document) = %v", err)
	}
	x := doc.Incidents[0]
	if got, want := x.GenerationTime.Format(time.RFC3339), "2026-01-02T03:04:05Z"; got != want {
		t.Errorf("Decode(peer document) GenerationTime = %s, want %s", got, want)
	}
	if got := x.EventData[0].Flow[0].System[0].Node.Address[0].Value; got != "203.0.113.5" {
		t.Errorf("Decode(peer document) EventData address = %q, want 203.0.113.5", got)
	}
	want := []focal.Observable{
		{Kind: "cidr", Value: "2001:db8::/32"},
		{Kind: "sha1", Value: "a9993e364706816aba3e25717850c26c9cd0d89d", TLP: focal.TLPAmber},
	}
	if got := x.Observables(); !slices.Equal(got, want) {
		t.Errorf("Decode(peer document).Observables() = %v, want %v", got, want)
	}
}

func FuzzDecode(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.xml"))
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`<IODEF-Document xmlns="urn:ietf:params:xml:ns:iodef-2.0" version="2.00"><Incident purpose="x"/></IODEF-Document>`))
	f.Add([]byte(`<!DOCTYPE a><a/>`))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, b []byte) {
		doc, err := Decode(bytes.NewReader(b))
		if err != nil {
			if doc != nil || err.Error() == "" {
				t.Fatalf("Decode = %v, %q, want nil and a message", doc, err)
			}
			return
		}
		for i := range doc.Incidents {
			doc.Incidents[i].Observables()
			doc.Incidents[i].Classifications()
		}
	})
}
