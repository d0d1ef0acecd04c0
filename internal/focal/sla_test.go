package focal

import (
	"strings"
	"testing"
	"time"
)

func TestCalendar(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Skip("no time zone data: " + err.Error())
	}
	cal := WeekdayCalendar(paris, 9*time.Hour, 17*time.Hour)
	cal.Holidays = map[string]bool{"2026-11-11": true} // a Wednesday
	at := func(s string) time.Time {
		v, err := time.ParseInLocation("2006-01-02 15:04", s, paris)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	addTests := []struct {
		name, from string
		budget     time.Duration
		want       string
	}{
		{"within-day", "2026-11-09 10:00", 2 * time.Hour, "2026-11-09 12:00"},
		{"before-opening", "2026-11-09 07:00", time.Hour, "2026-11-09 10:00"},
		{"overnight", "2026-11-09 16:00", 2 * time.Hour, "2026-11-10 10:00"},
		{"friday-to-monday", "2026-11-13 16:30", time.Hour, "2026-11-16 09:30"},
		{"weekend-start", "2026-11-14 12:00", 8 * time.Hour, "2026-11-16 17:00"},
		{"skips-holiday", "2026-11-10 16:00", 2 * time.Hour, "2026-11-12 10:00"},
		{"exactly-closing", "2026-11-09 09:00", 8 * time.Hour, "2026-11-09 17:00"},
		{"dst-end-week", "2026-10-23 16:00", 2 * time.Hour, "2026-10-26 10:00"},
	}
	for _, tt := range addTests {
		t.Run("add-"+tt.name, func(t *testing.T) {
			if got := cal.Add(at(tt.from), tt.budget); !got.Equal(at(tt.want)) {
				t.Errorf("Add(%s, %s) = %s, want %s", tt.from, tt.budget, got.In(paris).Format("2006-01-02 15:04"), tt.want)
			}
		})
	}
	betweenTests := []struct {
		name, from, to string
		want           time.Duration
	}{
		{"same-day", "2026-11-09 10:00", "2026-11-09 12:30", 150 * time.Minute},
		{"overnight", "2026-11-09 16:00", "2026-11-10 10:00", 2 * time.Hour},
		{"over-weekend", "2026-11-13 16:00", "2026-11-16 10:00", 2 * time.Hour},
		{"reversed", "2026-11-10 10:00", "2026-11-09 10:00", 0},
		{"holiday", "2026-11-10 17:00", "2026-11-12 09:00", 0},
	}
	for _, tt := range betweenTests {
		t.Run("between-"+tt.name, func(t *testing.T) {
			if got := cal.Between(at(tt.from), at(tt.to)); got != tt.want {
				t.Errorf("Between(%s, %s) = %s, want %s", tt.from, tt.to, got, tt.want)
			}
		})
	}
	if got := (Calendar{}).Add(at("2026-11-14 12:00"), time.Hour); !got.Equal(at("2026-11-14 13:00")) {
		t.Errorf("round-the-clock Add = %s", got)
	}
	if err := (Calendar{Location: paris, Start: 17 * time.Hour, End: 9 * time.Hour}).Validate(); err == nil {
		t.Error("Validate accepted hours that end before they start")
	}
}

func TestSLAClocks(t *testing.T) {
	t0 := time.Date(2026, 11, 9, 9, 0, 0, 0, time.UTC)
	at := func(min int) time.Time { return t0.Add(time.Duration(min) * time.Minute) }
	target := SLATarget{Severity: SeverityHigh, Acknowledge: 60 * time.Minute, Triage: 120 * time.Minute, Resolve: 600 * time.Minute}
	i := &Incident{Status: StatusNew, Milestones: Milestones{Reported: t0}, Classifications: []Classification{{Class: "fraud"}}}
	// Not yet acknowledged after 90 minutes: overdue.
	c := SLAClocks(i, target, Calendar{}, at(90))
	if !c[0].Overdue || c[0].Done || c[1].Overdue {
		t.Errorf("at +90m: %+v; want acknowledge overdue, triage not yet", c)
	}
	for _, step := range []struct {
		to  Status
		on  string
		min int
	}{{StatusTriaged, "", 100}, {StatusWaiting, "reporter", 200}, {StatusInProgress, "", 500}, {StatusResolved, "", 800}} {
		if err := i.Transition(step.to, step.on, at(step.min)); err != nil {
			t.Fatal(err)
		}
	}
	c = SLAClocks(i, target, Calendar{}, at(900))
	// Acknowledged at +100 (late), triaged at +100 (met), resolved at +800
	// with 300 minutes waiting on the reporter: 500 counted, within 600.
	if c[0].Met || !c[0].Overdue {
		t.Errorf("acknowledge = %+v, want missed", c[0])
	}
	if !c[1].Met || c[1].Elapsed != 100*time.Minute {
		t.Errorf("triage = %+v, want met in 100m", c[1])
	}
	if !c[2].Met || c[2].Elapsed != 500*time.Minute || !c[2].Due.Equal(at(900)) {
		t.Errorf("resolve = %+v, want met in 500m, due +900m (waiting pushes the due time back)", c[2])
	}
}

func TestPickSLATarget(t *testing.T) {
	targets := []SLATarget{
		{Severity: SeverityHigh, Acknowledge: time.Hour},
		{OrgID: 7, Severity: SeverityHigh, Acknowledge: 15 * time.Minute},
	}
	if got := PickSLATarget(targets, 7, SeverityHigh); got.Acknowledge != 15*time.Minute {
		t.Errorf("org 7 high = %s, want its own 15m", got.Acknowledge)
	}
	if got := PickSLATarget(targets, 8, SeverityHigh); got.Acknowledge != time.Hour {
		t.Errorf("org 8 high = %s, want the configured default 1h", got.Acknowledge)
	}
	if got := PickSLATarget(targets, 8, SeverityCritical); got.Acknowledge != 30*time.Minute {
		t.Errorf("critical = %s, want the built-in 30m", got.Acknowledge)
	}
}

func TestParseBusinessHours(t *testing.T) {
	tests := []struct {
		spec, holidays string
		days           string // working weekdays, Sunday first
		start, end     time.Duration
		err            string
	}{
		{"Mon-Fri 09:00-17:00 UTC", "", "0111110", 9 * time.Hour, 17 * time.Hour, ""},
		{"Sun-Thu 08:00-16:30 Asia/Riyadh", "", "1111100", 8 * time.Hour, 16*time.Hour + 30*time.Minute, ""},
		{"Fri-Mon 00:00-24:00 UTC", "", "1100011", 0, 24 * time.Hour, ""},
		{"Mon,Wed,Fri 10:00-12:00 Europe/Paris", "2026-12-25", "0101010", 10 * time.Hour, 12 * time.Hour, ""},
		{"Mon-Fri 09:00-17:00", "", "", 0, 0, "time zone"},
		{"Mon-Fri 09:00-17:00 Mars/Olympus", "", "", 0, 0, "unknown time zone"},
		{"Mo-Fr 09:00-17:00 UTC", "", "", 0, 0, "days"},
		{"Mon-Fri 9-5 UTC", "", "", 0, 0, "hours"},
		{"Mon-Fri 17:00-09:00 UTC", "", "", 0, 0, "not a day's span"},
		{"Mon-Fri 09:00-17:00 UTC", "Christmas", "", 0, 0, "holiday"},
	}
	for _, tt := range tests {
		t.Run(strings.ReplaceAll(tt.spec, " ", "_"), func(t *testing.T) {
			c, err := ParseBusinessHours(tt.spec, tt.holidays)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Errorf("ParseBusinessHours(%q) = %v, want error containing %q", tt.spec, err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var days strings.Builder
			for _, d := range c.Days {
				if d {
					days.WriteByte('1')
				} else {
					days.WriteByte('0')
				}
			}
			if days.String() != tt.days || c.Start != tt.start || c.End != tt.end {
				t.Errorf("ParseBusinessHours(%q) = days %s %s–%s, want %s %s–%s", tt.spec, days.String(), c.Start, c.End, tt.days, tt.start, tt.end)
			}
			if tt.holidays != "" && !c.Holidays[tt.holidays] {
				t.Errorf("holiday %s missing", tt.holidays)
			}
		})
	}
}
