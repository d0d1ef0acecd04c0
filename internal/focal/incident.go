package focal

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Status is where an incident stands in its lifecycle.
type Status string

// The statuses. new → triaged → in_progress ⇄ waiting → resolved → closed;
// rejected and merged end an incident early.
const (
	StatusNew        Status = "new"
	StatusTriaged    Status = "triaged"
	StatusInProgress Status = "in_progress"
	StatusWaiting    Status = "waiting"
	StatusResolved   Status = "resolved"
	StatusClosed     Status = "closed"
	StatusRejected   Status = "rejected"
	StatusMerged     Status = "merged"
)

// Statuses lists the statuses in lifecycle order.
var Statuses = []Status{StatusNew, StatusTriaged, StatusInProgress, StatusWaiting, StatusResolved, StatusClosed, StatusRejected, StatusMerged}

// transitions lists, for each status, where an incident may go next.
// Reopening (resolved/closed → in_progress, rejected → triaged) is allowed
// and recorded like any other change.
var transitions = map[Status][]Status{
	StatusNew:        {StatusTriaged, StatusRejected, StatusMerged},
	StatusTriaged:    {StatusInProgress, StatusWaiting, StatusResolved, StatusRejected, StatusMerged},
	StatusInProgress: {StatusWaiting, StatusResolved, StatusMerged},
	StatusWaiting:    {StatusInProgress, StatusResolved, StatusMerged},
	StatusResolved:   {StatusClosed, StatusInProgress},
	StatusClosed:     {StatusInProgress},
	StatusRejected:   {StatusTriaged},
	StatusMerged:     nil,
}

// WaitingOn names whom a waiting incident waits for.
var WaitingOn = []string{"reporter", "constituent", "peer", "third-party"}

// ParseStatus returns the status named s.
func ParseStatus(s string) (Status, error) {
	v := Status(strings.ToLower(strings.TrimSpace(s)))
	if slices.Contains(Statuses, v) {
		return v, nil
	}
	return "", FieldErrorf("status", "unknown status %q", s)
}

// CanTransition reports whether an incident may go from one status to another.
func CanTransition(from, to Status) bool {
	return slices.Contains(transitions[from], to)
}

// NextStatuses returns where an incident in status s may go.
func NextStatuses(s Status) []Status { return slices.Clone(transitions[s]) }

// Open reports whether an incident in status s is still being handled
// (its SLA clocks run).
func (s Status) Open() bool {
	return s == StatusNew || s == StatusTriaged || s == StatusInProgress || s == StatusWaiting
}

// Reporter is who reported an incident. It is personal data: shown only to
// handlers, audited when viewed, subject to the retention policy.
type Reporter struct {
	Name         string `json:"name,omitempty"`
	Email        string `json:"email,omitempty"`
	Phone        string `json:"phone,omitempty"`
	Organisation string `json:"organisation,omitempty"`
}

// Milestones are the immutable timestamps of an incident's handling: each
// is set once, the first time the incident reaches it, and never changed.
type Milestones struct {
	Reported      time.Time `json:"reported"`
	Acknowledged  time.Time `json:"acknowledged,omitzero"`   // first touch by a handler
	Triaged       time.Time `json:"triaged,omitzero"`        // classified and prioritised
	FirstResponse time.Time `json:"first_response,omitzero"` // first message to the reporter or constituent
	Contained     time.Time `json:"contained,omitzero"`
	Resolved      time.Time `json:"resolved,omitzero"`
	Closed        time.Time `json:"closed,omitzero"`
}

// Incident is a case handled by the team.
type Incident struct {
	ID              int64
	Ref             string // human reference, e.g. FOC-2026-000042
	Title           string
	Description     string
	Classifications []Classification
	Severity        Severity
	TLP             TLP
	PAP             PAP
	Status          Status
	WaitingOn       string // when Status is waiting
	AssigneeID      int64
	OrgID           int64 // the affected organisation, if known
	Sector          string
	CriticalInfra   bool
	Channel         string // web, api, email, pipeline, peer
	Reporter        Reporter
	MergedInto      int64
	Milestones      Milestones
	WaitingSince    time.Time     // when the current wait began (zero if not waiting)
	WaitingTotal    time.Duration // time spent waiting so far, excluded from SLA clocks
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

// Channels lists how incidents arrive.
var Channels = []string{"web", "api", "email", "pipeline", "peer", "phone"}

// Restricted reports whether any classification of the incident is a
// restricted category (see Classification.Restricted).
func (i *Incident) Restricted() bool {
	return slices.ContainsFunc(i.Classifications, Classification.Restricted)
}

// Normalize trims text and fills defaults: TLP AMBER, PAP AMBER, severity
// medium, status new.
func (i *Incident) Normalize() {
	i.Title = strings.Join(strings.Fields(i.Title), " ")
	i.Description = strings.TrimSpace(i.Description)
	if i.TLP == "" {
		i.TLP = TLPAmber
	}
	if i.PAP == "" {
		i.PAP = PAPAmber
	}
	if i.Severity == "" {
		i.Severity = SeverityMedium
	}
	if i.Status == "" {
		i.Status = StatusNew
	}
	i.Reporter.Email = strings.TrimSpace(i.Reporter.Email)
}

// Validate checks an incident about to be stored.
func (i *Incident) Validate() error {
	switch {
	case i.Title == "":
		return FieldErrorf("title", "required")
	case len(i.Title) > 300:
		return FieldErrorf("title", "longer than 300 characters")
	case len(i.Description) > 200_000:
		return FieldErrorf("description", "longer than 200,000 characters")
	}
	for n := range i.Classifications {
		if err := i.Classifications[n].Validate(); err != nil {
			e := err.(*Error)
			e.Field = fmt.Sprintf("classification[%d].%s", n, strings.TrimPrefix(e.Field, "classification."))
			return e
		}
	}
	if i.TLP.Rank() < 0 {
		return FieldErrorf("tlp", "unknown TLP label %q", i.TLP)
	}
	if _, err := ParsePAP(string(i.PAP)); err != nil {
		return err
	}
	if _, err := ParseSeverity(string(i.Severity)); err != nil {
		return err
	}
	if _, err := ParseStatus(string(i.Status)); err != nil {
		return err
	}
	if i.Status == StatusWaiting && !slices.Contains(WaitingOn, i.WaitingOn) {
		return FieldErrorf("waiting_on", "want one of %s", strings.Join(WaitingOn, ", "))
	}
	if i.Channel != "" && !slices.Contains(Channels, i.Channel) {
		return FieldErrorf("channel", "unknown channel %q", i.Channel)
	}
	if i.Reporter.Email != "" {
		if err := ValidateEmail(i.Reporter.Email); err != nil {
			return FieldErrorf("reporter.email", "%v", err)
		}
	}
	return nil
}

// Transition moves the incident to status to at time now, enforcing the
// lifecycle, stamping milestones the first time they are reached, and
// accounting waiting time. waitingOn is required when to is waiting.
func (i *Incident) Transition(to Status, waitingOn string, now time.Time) error {
	if !CanTransition(i.Status, to) {
		next := make([]string, 0, 4)
		for _, s := range transitions[i.Status] {
			next = append(next, string(s))
		}
		return FieldErrorf("status", "an incident that is %s cannot become %s (it can become: %s)", i.Status, to, strings.Join(next, ", "))
	}
	if to == StatusWaiting && !slices.Contains(WaitingOn, waitingOn) {
		return FieldErrorf("waiting_on", "say whom the incident waits for: %s", strings.Join(WaitingOn, ", "))
	}
	if i.Status == StatusWaiting && !i.WaitingSince.IsZero() {
		i.WaitingTotal += now.Sub(i.WaitingSince)
		i.WaitingSince = time.Time{}
	}
	switch to {
	case StatusTriaged:
		if len(i.Classifications) == 0 {
			return FieldErrorf("classification", "classify the incident before triaging it")
		}
		stamp(&i.Milestones.Acknowledged, now)
		stamp(&i.Milestones.Triaged, now)
	case StatusInProgress:
		stamp(&i.Milestones.Acknowledged, now)
	case StatusWaiting:
		i.WaitingSince = now
	case StatusResolved:
		stamp(&i.Milestones.Resolved, now)
	case StatusClosed:
		stamp(&i.Milestones.Closed, now)
	case StatusRejected, StatusMerged:
		stamp(&i.Milestones.Acknowledged, now)
		stamp(&i.Milestones.Closed, now)
	}
	i.Status, i.WaitingOn = to, ""
	if to == StatusWaiting {
		i.WaitingOn = waitingOn
	}
	return nil
}

func stamp(t *time.Time, now time.Time) {
	if t.IsZero() {
		*t = now
	}
}

// Observable is an indicator attached to an incident: an address, domain,
// URL, e-mail address, hash, AS number or file name.
type Observable struct {
	Kind      string    `json:"kind"`   // ipv4, ipv6, cidr, domain, url, email, md5, sha1, sha256, asn, filename
	Value     string    `json:"value"`  // canonical form
	TLP       TLP       `json:"tlp"`    // label of the observable itself
	Source    string    `json:"source"` // extracted or manual
	CreatedAt time.Time `json:"created_at"`
}

// JournalEntry is one immutable line of an incident's history.
type JournalEntry struct {
	ID       int64
	At       time.Time
	AuthorID int64
	Author   string
	Kind     string // note, email_in, email_out, state, assignment, classification, view, merge, system
	TLP      TLP
	Body     string
	Meta     string // JSON details
}

// JournalKinds lists the kinds of journal entry.
var JournalKinds = []string{"note", "email_in", "email_out", "state", "assignment", "classification", "view", "merge", "system"}
