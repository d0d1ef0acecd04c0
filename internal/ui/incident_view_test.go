package ui

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"focal/internal/focal"
)

// TestHumanCheck checks the report form's signed token: accepted with
// the right answer inside the fill-time window, refused otherwise.
func TestHumanCheck(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	issued := time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)
	c := newHumanCheck(key, issued)
	var a, b int
	if _, err := fmt.Sscanf(c.Question, "What is %d plus %d?", &a, &b); err != nil {
		t.Fatalf("question %q: %v", c.Question, err)
	}
	answer := strconv.Itoa(a + b)
	other := newHumanCheck([]byte("another key, another process....."), issued)
	tests := []struct {
		name   string
		token  string
		answer string
		after  time.Duration
		want   checkResult
	}{
		{"ok", c.Token, answer, time.Minute, checkOK},
		{"ok-padded", c.Token, " " + answer + " ", time.Minute, checkOK},
		{"wrong", c.Token, strconv.Itoa(a + b + 1), time.Minute, checkWrong},
		{"words", c.Token, "seven", time.Minute, checkWrong},
		{"too-fast", c.Token, answer, 2 * time.Second, checkTooFast},
		{"expired", c.Token, answer, 2*time.Hour + time.Second, checkExpired},
		{"just-in-time", c.Token, answer, 2 * time.Hour, checkOK},
		{"other-key", other.Token, answer, time.Minute, checkInvalid},
		{"truncated", c.Token[:len(c.Token)-2], answer, time.Minute, checkInvalid},
		{"empty", "", answer, time.Minute, checkInvalid},
		{"swapped-answer", swapAnswer(c.Token, other.Token), answer, time.Minute, checkInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, got := verifyHumanCheck(key, tt.token, tt.answer, issued.Add(tt.after), 3*time.Second, 2*time.Hour); got != tt.want {
				t.Errorf("verifyHumanCheck(%s, %q, +%s) = %d, want %d", tt.name, tt.answer, tt.after, got, tt.want)
			}
		})
	}
	if strings.Contains(c.Token, "."+answer+".") {
		t.Errorf("the token %q carries the answer in clear", c.Token)
	}
}

// swapAnswer puts the answer MAC of token b into token a.
func swapAnswer(a, b string) string {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	pa[2] = pb[2]
	return strings.Join(pa, ".")
}

// TestReportCategories checks every category maps to the taxonomy, and
// that exactly the harassment and abuse material ones are restricted.
func TestReportCategories(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range reportCategories() {
		cl := c.Class
		if err := cl.Validate(); err != nil || cl.Type == "" {
			t.Errorf("category %s maps to %v: %v", c.Key, c.Class, err)
		}
		if seen[c.Key] {
			t.Errorf("category %s appears twice", c.Key)
		}
		seen[c.Key] = true
		if want := c.Key == "csam" || c.Key == "harassment"; cl.Restricted() != want {
			t.Errorf("category %s restricted = %v, want %v", c.Key, cl.Restricted(), want)
		}
	}
	if len(seen) != 12 {
		t.Errorf("%d categories, want 12", len(seen))
	}
}

// TestDefangText checks addresses in free text are defanged and the rest
// kept.
func TestDefangText(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"", ""},
		{"nothing to see", "nothing to see"},
		{"visit http://evil.example/a.b?c=d now", "visit hxxp://evil[.]example/a[.]b?c=d now"},
		{"already hxxps://evil[.]example/x", "already hxxps://evil[.]example/x"},
		{"mail bob@evil.example or 192.0.2.1, 2001:db8::1", "mail bob[@]evil[.]example or 192[.]0[.]2[.]1, 2001[:]db8[:][:]1"},
		{"net 198.51.100.0/24 and evil.example.", "net 198[.]51[.]100[.]0/24 and evil[.]example."},
		{"hash d41d8cd98f00b204e9800998ecf8427e stays", "hash d41d8cd98f00b204e9800998ecf8427e stays"},
		{"<b>é</b> https://x.example", "<b>é</b> hxxps://x[.]example"},
	}
	for _, tt := range tests {
		if got := defangText(tt.in); got != tt.want {
			t.Errorf("defangText(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestHumanDuration checks durations are shown in at most two units.
func TestHumanDuration(t *testing.T) {
	tests := []struct {
		in   time.Duration
		want string
	}{
		{0, "0s"}, {42 * time.Second, "42s"}, {-90 * time.Second, "1m"}, {59 * time.Minute, "59m"},
		{time.Hour, "1h"}, {3*time.Hour + 5*time.Minute, "3h 5m"}, {24 * time.Hour, "1d"}, {52 * time.Hour, "2d 4h"},
	}
	for _, tt := range tests {
		if got := humanDuration(tt.in); got != tt.want {
			t.Errorf("humanDuration(%s) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestSLASummary checks the SLA state shown in lists.
func TestSLASummary(t *testing.T) {
	now := time.Date(2026, 11, 2, 12, 0, 0, 0, time.UTC)
	target := focal.SLATarget{Severity: focal.SeverityCritical, Acknowledge: 30 * time.Minute, Triage: time.Hour, Resolve: 24 * time.Hour}
	tests := []struct {
		name string
		i    focal.Incident
		want slaView
	}{
		{"due", focal.Incident{Status: focal.StatusNew, Milestones: focal.Milestones{Reported: now.Add(-10 * time.Minute)}},
			slaView{Label: "acknowledge due in 20m", Class: "sla-ok"}},
		{"overdue", focal.Incident{Status: focal.StatusNew, Milestones: focal.Milestones{Reported: now.Add(-2 * time.Hour)}},
			slaView{Label: "acknowledge overdue by 1h 30m", Class: "sla-overdue", Overdue: true}},
		{"next-clock", focal.Incident{Status: focal.StatusInProgress, Milestones: focal.Milestones{Reported: now.Add(-2 * time.Hour), Acknowledged: now.Add(-110 * time.Minute), Triaged: now.Add(-100 * time.Minute)}},
			slaView{Label: "resolve due in 22h", Class: "sla-ok"}},
		{"met", focal.Incident{Status: focal.StatusResolved, Milestones: focal.Milestones{Reported: now.Add(-2 * time.Hour), Acknowledged: now.Add(-110 * time.Minute), Triaged: now.Add(-100 * time.Minute), Resolved: now}},
			slaView{Label: "met", Class: "sla-met"}},
		{"missed", focal.Incident{Status: focal.StatusClosed, Milestones: focal.Milestones{Reported: now.Add(-48 * time.Hour), Acknowledged: now.Add(-47 * time.Hour), Triaged: now.Add(-47 * time.Hour), Resolved: now}},
			slaView{Label: "missed", Class: "sla-missed"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := slaSummary(&tt.i, focal.SLAClocks(&tt.i, target, focal.Calendar{}, now), now); got != tt.want {
				t.Errorf("slaSummary(%s) = %+v, want %+v", tt.name, got, tt.want)
			}
		})
	}
}
