package focal

import (
	"strings"
	"time"
	"unicode/utf8"
)

// The states a constituent may give one of its organisation's events.
const (
	FeedbackHandled       = "handled"        // the organisation dealt with it
	FeedbackFalsePositive = "false-positive" // the organisation says it is wrong
)

// MaxFeedbackNote bounds the note of an EventFeedback, in characters.
const MaxFeedbackNote = 1000

// EventFeedback is what one organisation says of one of its events: that
// it handled it, or that it is a false positive, with an optional note. An
// organisation has at most one per event; giving it again replaces it.
type EventFeedback struct {
	EventID int64
	OrgID   int64
	State   string // FeedbackHandled or FeedbackFalsePositive
	Note    string
	UserID  int64     // who gave it
	Author  string    // their name, as it was then
	At      time.Time // when it was last given
}

// Validate checks the state and the note, trimming the note's surrounding
// space. It returns an EINVALID error naming the field.
func (f *EventFeedback) Validate() error {
	if f.State != FeedbackHandled && f.State != FeedbackFalsePositive {
		return FieldErrorf("state", "want %q or %q, got %q", FeedbackHandled, FeedbackFalsePositive, f.State)
	}
	f.Note = strings.TrimSpace(f.Note)
	if n := utf8.RuneCountInString(f.Note); n > MaxFeedbackNote {
		return FieldErrorf("note", "at most %d characters, got %d", MaxFeedbackNote, n)
	}
	if !utf8.ValidString(f.Note) {
		return FieldErrorf("note", "not valid UTF-8")
	}
	return nil
}

// MayReadNotifications reports whether p may read the log of
// notifications sent to the constituency: coordinators and handlers (who
// send them) all organisations', a constituent bound to an organisation
// its own. The store scopes what a constituent sees.
func MayReadNotifications(p Principal) bool {
	switch p.Role {
	case RoleCoordinator, RoleHandler:
		return true
	case RoleConstituent:
		return p.OrgID != 0
	}
	return false
}
