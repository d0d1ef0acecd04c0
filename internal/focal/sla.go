package focal

import (
	"fmt"
	"strings"
	"time"
)

// SLATarget is how quickly incidents of one severity (for one organisation,
// or everyone) must be acknowledged, triaged and resolved. Zero durations
// mean "no target".
type SLATarget struct {
	OrgID         int64 // 0 = the default for every organisation
	Severity      Severity
	Acknowledge   time.Duration
	Triage        time.Duration
	Resolve       time.Duration
	BusinessHours bool // count only the calendar's working time
}

// DefaultSLATargets are used where no target is configured: round-the-clock
// for critical and high, business hours for the rest.
var DefaultSLATargets = []SLATarget{
	{Severity: SeverityCritical, Acknowledge: 30 * time.Minute, Triage: time.Hour, Resolve: 24 * time.Hour},
	{Severity: SeverityHigh, Acknowledge: 2 * time.Hour, Triage: 4 * time.Hour, Resolve: 72 * time.Hour},
	{Severity: SeverityMedium, Acknowledge: 8 * time.Hour, Triage: 16 * time.Hour, Resolve: 10 * 8 * time.Hour, BusinessHours: true},
	{Severity: SeverityLow, Acknowledge: 16 * time.Hour, Triage: 40 * time.Hour, Resolve: 20 * 8 * time.Hour, BusinessHours: true},
}

// Calendar says when the team works: the same hours on the given weekdays,
// in one time zone, minus holidays. The zero value is round-the-clock.
type Calendar struct {
	Location *time.Location
	Days     [7]bool       // indexed by time.Weekday
	Start    time.Duration // offset from midnight, e.g. 9h
	End      time.Duration // e.g. 17h; End > Start
	Holidays map[string]bool
}

// WeekdayCalendar returns a Monday–Friday calendar from start to end o'clock in loc.
func WeekdayCalendar(loc *time.Location, start, end time.Duration) Calendar {
	c := Calendar{Location: loc, Start: start, End: end}
	for d := time.Monday; d <= time.Friday; d++ {
		c.Days[d] = true
	}
	return c
}

// Always reports whether the calendar is round-the-clock.
func (c Calendar) Always() bool { return c.Location == nil }

// Validate checks the calendar's hours.
func (c Calendar) Validate() error {
	if c.Always() {
		return nil
	}
	if c.Start < 0 || c.End > 24*time.Hour || c.End <= c.Start {
		return fmt.Errorf("calendar: working hours %s–%s are not a day's span", c.Start, c.End)
	}
	for _, d := range c.Days {
		if d {
			return nil
		}
	}
	return fmt.Errorf("calendar: no working day")
}

// workWindow returns the working span of the day containing t, if any.
func (c Calendar) workWindow(t time.Time) (start, end time.Time, ok bool) {
	t = t.In(c.Location)
	y, m, d := t.Date()
	midnight := time.Date(y, m, d, 0, 0, 0, 0, c.Location)
	if !c.Days[t.Weekday()] || c.Holidays[midnight.Format("2006-01-02")] {
		return time.Time{}, time.Time{}, false
	}
	return midnight.Add(c.Start), midnight.Add(c.End), true
}

// nextDay returns midnight of the day after t in the calendar's zone.
func (c Calendar) nextDay(t time.Time) time.Time {
	t = t.In(c.Location)
	y, m, d := t.Date()
	return time.Date(y, m, d+1, 0, 0, 0, 0, c.Location)
}

// Add returns the time when budget of working time has elapsed after from.
func (c Calendar) Add(from time.Time, budget time.Duration) time.Time {
	if c.Always() {
		return from.Add(budget)
	}
	t := from
	for guard := 0; guard < 3700; guard++ { // ten years of days: a bounded walk
		start, end, ok := c.workWindow(t)
		if ok && t.Before(end) {
			if t.Before(start) {
				t = start
			}
			if avail := end.Sub(t); budget <= avail {
				return t.Add(budget)
			} else {
				budget -= avail
			}
		}
		t = c.nextDay(t)
	}
	return t
}

// Between returns the working time between from and to (0 if to is not after from).
func (c Calendar) Between(from, to time.Time) time.Duration {
	if !to.After(from) {
		return 0
	}
	if c.Always() {
		return to.Sub(from)
	}
	var total time.Duration
	t := from
	for guard := 0; guard < 3700 && t.Before(to); guard++ {
		start, end, ok := c.workWindow(t)
		if ok {
			s, e := maxTime(start, t), minTime(end, to)
			if e.After(s) {
				total += e.Sub(s)
			}
		}
		t = c.nextDay(t)
	}
	return total
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// SLAClock is one measured interval of an incident against its target.
type SLAClock struct {
	Name    string        // acknowledge, triage, resolve
	Target  time.Duration // 0 = no target
	Due     time.Time     // when the target falls due (waiting time pushes it back)
	Elapsed time.Duration // counted time so far (or until the milestone)
	Done    bool          // the milestone was reached
	Met     bool          // done within target (meaningful when Done)
	Overdue bool          // not done and past due at now, or done late
}

// SLAClocks measures incident i against target t at time now, counting
// only the calendar's working time when the target says so, and excluding
// the time spent waiting on others.
func SLAClocks(i *Incident, t SLATarget, cal Calendar, now time.Time) []SLAClock {
	if !t.BusinessHours {
		cal = Calendar{}
	}
	waiting := i.WaitingTotal
	if !i.WaitingSince.IsZero() {
		waiting += now.Sub(i.WaitingSince)
	}
	start := i.Milestones.Reported
	out := make([]SLAClock, 0, 3)
	for _, m := range []struct {
		name   string
		target time.Duration
		at     time.Time
	}{
		{"acknowledge", t.Acknowledge, i.Milestones.Acknowledged},
		{"triage", t.Triage, i.Milestones.Triaged},
		{"resolve", t.Resolve, i.Milestones.Resolved},
	} {
		c := SLAClock{Name: m.name, Target: m.target, Done: !m.at.IsZero()}
		end := now
		if c.Done {
			end = m.at
		}
		c.Elapsed = cal.Between(start, end)
		// Waiting only pauses the resolve clock: acknowledging and
		// triaging are the team's own steps.
		if m.name == "resolve" {
			c.Elapsed -= min(waiting, c.Elapsed)
		}
		if m.target > 0 {
			due := cal.Add(start, m.target)
			if m.name == "resolve" {
				due = due.Add(waiting)
			}
			c.Due = due
			c.Met = c.Done && c.Elapsed <= m.target
			c.Overdue = (!c.Done && c.Elapsed > m.target) || (c.Done && !c.Met)
		}
		out = append(out, c)
	}
	return out
}

// PickSLATarget returns the target for an incident: the organisation's own
// for its severity, else the default among targets, else DefaultSLATargets.
func PickSLATarget(targets []SLATarget, orgID int64, sev Severity) SLATarget {
	var fallback *SLATarget
	for n := range targets {
		t := &targets[n]
		if t.Severity != sev {
			continue
		}
		if t.OrgID == orgID && orgID != 0 {
			return *t
		}
		if t.OrgID == 0 {
			fallback = t
		}
	}
	if fallback != nil {
		return *fallback
	}
	for _, t := range DefaultSLATargets {
		if t.Severity == sev {
			return t
		}
	}
	return SLATarget{Severity: sev}
}

var weekdays = map[string]time.Weekday{"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday}

// ParseBusinessHours reads a working-hours calendar written as
// "Mon-Fri 09:00-17:00 Europe/Paris" (days as a range or a comma list,
// e.g. "Sun-Thu" or "Mon,Tue,Thu"; the zone is an IANA name), with
// holidays as comma-separated dates ("2026-12-25,2027-01-01").
func ParseBusinessHours(spec, holidays string) (Calendar, error) {
	f := strings.Fields(spec)
	if len(f) != 3 {
		return Calendar{}, fmt.Errorf("want days, hours and a time zone such as \"Mon-Fri 09:00-17:00 Europe/Paris\", got %q", spec)
	}
	loc, err := time.LoadLocation(f[2])
	if err != nil {
		return Calendar{}, fmt.Errorf("unknown time zone %q", f[2])
	}
	c := Calendar{Location: loc}
	for _, part := range strings.Split(strings.ToLower(f[0]), ",") {
		from, to, isRange := strings.Cut(part, "-")
		a, ok1 := weekdays[from]
		b, ok2 := weekdays[to]
		if !ok1 || (isRange && !ok2) {
			return Calendar{}, fmt.Errorf("days %q: want names such as Mon-Fri or Mon,Wed", f[0])
		}
		if !isRange {
			b = a
		}
		for d := a; ; d = (d + 1) % 7 {
			c.Days[d] = true
			if d == b {
				break
			}
		}
	}
	start, end, ok := strings.Cut(f[1], "-")
	if !ok {
		return Calendar{}, fmt.Errorf("hours %q: want HH:MM-HH:MM", f[1])
	}
	if c.Start, err = clock(start); err == nil {
		c.End, err = clock(end)
	}
	if err != nil {
		return Calendar{}, fmt.Errorf("hours %q: want HH:MM-HH:MM", f[1])
	}
	if holidays != "" {
		c.Holidays = map[string]bool{}
		for _, d := range strings.Split(holidays, ",") {
			d = strings.TrimSpace(d)
			if _, err := time.Parse("2006-01-02", d); err != nil {
				return Calendar{}, fmt.Errorf("holiday %q: want a date such as 2026-12-25", d)
			}
			c.Holidays[d] = true
		}
	}
	return c, c.Validate()
}

func clock(s string) (time.Duration, error) {
	t, err := time.Parse("15:04", s)
	if err != nil {
		if s == "24:00" {
			return 24 * time.Hour, nil
		}
		return 0, err
	}
	return time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute, nil
}
