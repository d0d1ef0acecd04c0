package focal

import (
	"net/netip"
	"strings"
	"testing"
	"time"
)

func TestAuthorize(t *testing.T) {
	coord := Principal{UserID: 1, Name: "c", Role: RoleCoordinator}
	handler := Principal{UserID: 2, Name: "h", Role: RoleHandler}
	consA := Principal{UserID: 3, Name: "a", Role: RoleConstituent, OrgID: 10}
	unbound := Principal{UserID: 4, Name: "u", Role: RoleConstituent}
	peer := Principal{UserID: 5, Name: "p", Role: RolePeer}
	ro := Principal{UserID: 6, Name: "r", Role: RoleCoordinator, ReadOnly: true}
	org := func(id int64, tlp TLP) Resource { return Resource{Kind: KindOrganisation, OrgID: id, TLP: tlp} }
	tests := []struct {
		name string
		p    Principal
		a    Action
		r    Resource
		want string // "" allowed, else error code
	}{
		{"public-reads-public", Anonymous(), ActionRead, Resource{Kind: KindPublic}, ""},
		{"nobody-writes-public", coord, ActionUpdate, Resource{Kind: KindPublic}, EFORBIDDEN},
		{"anonymous-must-log-in", Anonymous(), ActionRead, org(10, ""), EUNAUTHORIZED},
		{"coordinator-all", coord, ActionDelete, Resource{Kind: KindUser}, ""},
		{"readonly-token-reads", ro, ActionRead, Resource{Kind: KindAudit}, ""},
		{"readonly-token-no-write", ro, ActionCreate, org(0, ""), EFORBIDDEN},
		{"self-read", handler, ActionRead, Resource{Kind: KindSelf, OwnerID: 2}, ""},
		{"self-of-other", handler, ActionUpdate, Resource{Kind: KindSelf, OwnerID: 3}, EFORBIDDEN},
		{"self-delete", handler, ActionDelete, Resource{Kind: KindSelf, OwnerID: 2}, EFORBIDDEN},
		{"handler-reads-orgs", handler, ActionRead, org(10, TLPRed), ""},
		{"handler-no-org-edit", handler, ActionUpdate, org(10, ""), EFORBIDDEN},
		{"handler-no-audit", handler, ActionRead, Resource{Kind: KindAudit}, EFORBIDDEN},
		{"handler-lookup", handler, ActionRead, Resource{Kind: KindLookup}, ""},
		{"constituent-own-org", consA, ActionRead, org(10, TLPAmberStrict), ""},
		{"constituent-own-red", consA, ActionRead, org(10, TLPRed), EFORBIDDEN},
		{"constituent-list", consA, ActionRead, org(0, ""), ""},
		{"constituent-other-org", consA, ActionRead, org(11, TLPAmber), EFORBIDDEN},
		{"constituent-other-green", consA, ActionRead, org(11, TLPGreen), ""},
		{"constituent-other-clear", consA, ActionRead, org(11, TLPClear), ""},
		{"constituent-other-unlabelled", consA, ActionRead, org(11, ""), EFORBIDDEN},
		{"constituent-no-lookup", consA, ActionRead, Resource{Kind: KindLookup}, EFORBIDDEN},
		{"constituent-no-edit", consA, ActionUpdate, org(10, ""), EFORBIDDEN},
		{"unbound-constituent-nothing", unbound, ActionRead, org(0, ""), EFORBIDDEN},
		{"constituent-dashboard", consA, ActionRead, Resource{Kind: KindDashboard}, ""},
		{"peer-no-orgs", peer, ActionRead, org(0, TLPClear), EFORBIDDEN},
		{"constituent-own-incident", consA, ActionRead, Resource{Kind: KindIncident, Object: true, OrgID: 10, TLP: TLPAmber}, ""},
		{"constituent-incident-of-no-org", consA, ActionRead, Resource{Kind: KindIncident, Object: true, TLP: TLPAmber}, EFORBIDDEN},
		{"constituent-incident-of-other", consA, ActionRead, Resource{Kind: KindIncident, Object: true, OrgID: 11, TLP: TLPClear}, EFORBIDDEN},
		{"constituent-incident-red", consA, ActionRead, Resource{Kind: KindIncident, Object: true, OrgID: 10, TLP: TLPRed}, EFORBIDDEN},
		{"constituent-incident-list", consA, ActionRead, Resource{Kind: KindIncident}, ""},
		{"constituent-reports", consA, ActionCreate, Resource{Kind: KindIncident}, ""},
		{"peer-no-dashboard", peer, ActionRead, Resource{Kind: KindDashboard}, EFORBIDDEN},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Authorize(tt.p, tt.a, tt.r)
			if got := ErrorCode(err); got != tt.want {
				t.Errorf("Authorize(%s, %s, %+v) = %q (%v), want %q", tt.p.Role, tt.a, tt.r, got, err, tt.want)
			}
		})
	}
}

func TestOrgScope(t *testing.T) {
	tests := []struct {
		name string
		p    Principal
		id   int64
		all  bool
	}{
		{"staff", Principal{UserID: 1, Role: RoleAnalyst}, 0, true},
		{"constituent", Principal{UserID: 1, Role: RoleConstituent, OrgID: 7}, 7, false},
		{"unbound", Principal{UserID: 1, Role: RoleConstituent}, -1, false},
		{"peer", Principal{UserID: 1, Role: RolePeer}, -1, false},
		{"anonymous", Anonymous(), -1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, all := OrgScope(tt.p)
			if id != tt.id || all != tt.all {
				t.Errorf("OrgScope(%+v) = %d, %v; want %d, %v", tt.p, id, all, tt.id, tt.all)
			}
		})
	}
}

var tlpTests = []struct {
	in   string
	want TLP
	ok   bool
}{
	{"AMBER", TLPAmber, true}, {"tlp:amber+strict", TLPAmberStrict, true}, {" TLP:RED ", TLPRed, true},
	{"white", TLPClear, true}, {"CLEAR", TLPClear, true}, {"green", TLPGreen, true},
	{"AMBER STRICT", "", false}, {"", "", false}, {"TLP:BLUE", "", false},
}

func TestParseTLP(t *testing.T) {
	for _, tt := range tlpTests {
		got, err := ParseTLP(tt.in)
		if got != tt.want || (err == nil) != tt.ok {
			t.Errorf("ParseTLP(%q) = %q, %v; want %q, ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func FuzzParseTLP(f *testing.F) {
	for _, tt := range tlpTests {
		f.Add(tt.in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseTLP(s)
		if err == nil && got.Rank() < 0 {
			t.Errorf("ParseTLP(%q) = %q, an unknown label without error", s, got)
		}
	})
}

func TestRSIT(t *testing.T) {
	if len(RSIT) != 11 {
		t.Errorf("RSIT has %d classes, want 11", len(RSIT))
	}
	seen := map[string]bool{}
	for _, c := range RSIT {
		for _, ty := range c.Types {
			key := c.Value + "/" + ty.Value
			if seen[key] {
				t.Errorf("duplicate RSIT entry %s", key)
			}
			seen[key] = true
		}
	}
	tests := []struct {
		c     Classification
		field string
	}{
		{Classification{Class: "fraud", Type: "phishing"}, ""},
		{Classification{Class: "FRAUD", Type: " Phishing "}, ""},
		{Classification{Class: "fraud"}, ""},
		{Classification{Class: "fraud", Type: "spam"}, "classification.type"},
		{Classification{Class: "nonsense"}, "classification.class"},
		{Classification{Class: "fraud", Type: "phishing", Weight: 1.5}, "classification.weight"},
	}
	for _, tt := range tests {
		err := tt.c.Validate()
		var field string
		if e, ok := err.(*Error); ok {
			field = e.Field
		}
		if field != tt.field {
			t.Errorf("Validate(%+v) = %v, want field %q", tt.c, err, tt.field)
		}
	}
	if !(Classification{Class: "abusive-content", Type: "violence"}).Restricted() || (Classification{Class: "abusive-content", Type: "spam"}).Restricted() {
		t.Error("Restricted: violence must be restricted, spam not")
	}
}

func TestTransitions(t *testing.T) {
	allowed := map[[2]Status]bool{}
	for from, tos := range transitions {
		for _, to := range tos {
			allowed[[2]Status{from, to}] = true
		}
	}
	for _, from := range Statuses {
		for _, to := range Statuses {
			if got := CanTransition(from, to); got != allowed[[2]Status{from, to}] {
				t.Errorf("CanTransition(%s, %s) = %v", from, to, got)
			}
		}
	}
	for _, bad := range [][2]Status{{StatusNew, StatusClosed}, {StatusNew, StatusResolved}, {StatusMerged, StatusInProgress}, {StatusClosed, StatusNew}} {
		if CanTransition(bad[0], bad[1]) {
			t.Errorf("CanTransition(%s, %s) = true, want false", bad[0], bad[1])
		}
	}
}

func TestIncidentLifecycle(t *testing.T) {
	t0 := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	at := func(min int) time.Time { return t0.Add(time.Duration(min) * time.Minute) }
	i := &Incident{Title: "Phishing site", Milestones: Milestones{Reported: t0}}
	i.Normalize()
	if err := i.Validate(); err != nil {
		t.Fatal(err)
	}
	if err := i.Transition(StatusClosed, "", at(1)); err == nil || !strings.Contains(err.Error(), "cannot become closed") {
		t.Fatalf("closing a new incident = %v, want refusal", err)
	}
	if err := i.Transition(StatusTriaged, "", at(2)); err == nil || !strings.Contains(err.Error(), "classify") {
		t.Fatalf("triage without classification = %v, want refusal", err)
	}
	i.Classifications = []Classification{{Class: "fraud", Type: "phishing"}}
	steps := []struct {
		to  Status
		on  string
		min int
	}{
		{StatusTriaged, "", 10}, {StatusInProgress, "", 20}, {StatusWaiting, "reporter", 30},
		{StatusInProgress, "", 90}, {StatusWaiting, "constituent", 100}, {StatusResolved, "", 130},
		{StatusInProgress, "", 140}, {StatusResolved, "", 150}, {StatusClosed, "", 200},
	}
	for _, s := range steps {
		if err := i.Transition(s.to, s.on, at(s.min)); err != nil {
			t.Fatalf("Transition(%s) at +%dm: %v", s.to, s.min, err)
		}
	}
	m := i.Milestones
	if !m.Acknowledged.Equal(at(10)) || !m.Triaged.Equal(at(10)) || !m.Resolved.Equal(at(130)) || !m.Closed.Equal(at(200)) {
		t.Errorf("milestones = %+v; want acknowledged/triaged +10m, resolved +130m (first time, not the reopen), closed +200m", m)
	}
	if i.WaitingTotal != 90*time.Minute {
		t.Errorf("WaitingTotal = %s, want 1h30m (60m on the reporter + 30m on the constituent)", i.WaitingTotal)
	}
	if err := i.Transition(StatusWaiting, "", at(210)); err == nil {
		t.Error("closed → waiting succeeded")
	}
	j := &Incident{Status: StatusTriaged}
	if err := j.Transition(StatusWaiting, "nobody", t0); err == nil || !strings.Contains(err.Error(), "waiting_on") {
		t.Errorf("waiting on nobody = %v, want a waiting_on error", err)
	}
}

func TestParseHelpers(t *testing.T) {
	if a, err := ParseASN("as64496"); err != nil || a != 64496 {
		t.Errorf("ParseASN(as64496) = %d, %v", a, err)
	}
	if _, err := ParseASN("AS-1"); err == nil {
		t.Error("ParseASN(AS-1) succeeded")
	}
	if p, err := ParsePrefix("192.0.2.7"); err != nil || p.String() != "192.0.2.7/32" {
		t.Errorf("ParsePrefix(192.0.2.7) = %v, %v", p, err)
	}
	if p, err := ParsePrefix("::ffff:192.0.2.7"); err != nil || p.String() != "192.0.2.7/32" {
		t.Errorf("ParsePrefix(mapped) = %v, %v", p, err)
	}
	if _, err := ParsePrefix("192.0.2.0/33"); err == nil {
		t.Error("ParsePrefix(/33) succeeded")
	}
	for _, d := range []string{"example.org", "xn--bcher-kva.example"} {
		if err := ValidateDomain(d); err != nil {
			t.Errorf("ValidateDomain(%q) = %v", d, err)
		}
	}
	for _, d := range []string{"example", "-a.example", "bücher.example", "a..example", "192.0.2.1", "host.123"} {
		if err := ValidateDomain(d); err == nil {
			t.Errorf("ValidateDomain(%q) succeeded", d)
		}
	}
}

func TestErrorMessages(t *testing.T) {
	e := Wrap(EINTERNAL, errStub("disk on fire"), "could not save")
	if ErrorMessage(e) != "internal error" || ErrorCode(e) != EINTERNAL {
		t.Errorf("internal errors must not leak: %q", ErrorMessage(e))
	}
	f := FieldErrorf("name", "required")
	if ErrorMessage(f) != "name: required" || ErrorCode(f) != EINVALID {
		t.Errorf("ErrorMessage(field error) = %q", ErrorMessage(f))
	}
	if ErrorCode(errStub("x")) != EINTERNAL || ErrorCode(nil) != "" {
		t.Error("ErrorCode of a plain error must be internal, of nil empty")
	}
}

type errStub string

func (e errStub) Error() string { return string(e) }

func TestEventValidate(t *testing.T) {
	ok := func() Event {
		return Event{Class: "Malicious-Code", Type: "infected-system", Feed: "test",
			Source: Endpoint{IP: netip.MustParseAddr("192.0.2.1"), Country: "FR", FQDN: "host.example.net"}, Confidence: 80}
	}
	tests := []struct {
		name  string
		edit  func(*Event)
		field string
	}{
		{"ok", func(*Event) {}, ""},
		{"bad-class", func(e *Event) { e.Class = "malware" }, "classification.class"},
		{"no-endpoint", func(e *Event) { e.Source = Endpoint{} }, "source"},
		{"bad-country", func(e *Event) { e.Source.Country = "FRA" }, "source.country"},
		{"bad-fqdn", func(e *Event) { e.Destination.FQDN = "bad host" }, "destination.fqdn"},
		{"confidence", func(e *Event) { e.Confidence = 101 }, "confidence"},
		{"raw", func(e *Event) { e.Raw = strings.Repeat("x", MaxRawLine+1) }, "raw"},
		{"no-feed", func(e *Event) { e.Feed = "" }, "feed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := ok()
			tt.edit(&e)
			err := e.Validate()
			field := ""
			if fe, isFE := err.(*Error); isFE {
				field = fe.Field
			}
			if field != tt.field || (tt.field == "" && err != nil) {
				t.Errorf("Validate(%s) = %v, want field %q", tt.name, err, tt.field)
			}
			if tt.field == "" && e.Class != "malicious-code" {
				t.Errorf("Validate did not normalise the class: %q", e.Class)
			}
		})
	}
}
