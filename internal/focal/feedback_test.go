package focal_test

import (
	"errors"
	"strings"
	"testing"

	"focal/internal/focal"
)

func TestEventFeedbackValidate(t *testing.T) {
	tests := []struct {
		name     string
		state    string
		note     string
		wantNote string
		field    string // "" when valid
	}{
		{"handled", focal.FeedbackHandled, "", "", ""},
		{"false-positive-with-note", focal.FeedbackFalsePositive, "  a sinkhole \n", "a sinkhole", ""},
		{"note-at-limit", focal.FeedbackHandled, strings.Repeat("é", focal.MaxFeedbackNote), strings.Repeat("é", focal.MaxFeedbackNote), ""},
		{"note-too-long", focal.FeedbackHandled, strings.Repeat("é", focal.MaxFeedbackNote+1), "", "note"},
		{"note-invalid-utf8", focal.FeedbackHandled, "\xff", "", "note"},
		{"no-state", "", "", "", "state"},
		{"unknown-state", "fixed", "", "", "state"},
		{"state-case", "Handled", "", "", "state"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &focal.EventFeedback{State: tt.state, Note: tt.note}
			err := f.Validate()
			if tt.field == "" {
				if err != nil || f.Note != tt.wantNote {
					t.Errorf("Validate(%q, %q) = %v, note %q; want nil, %q", tt.state, tt.note, err, f.Note, tt.wantNote)
				}
				return
			}
			var fe *focal.Error
			if !errors.As(err, &fe) || fe.Code != focal.EINVALID || fe.Field != tt.field {
				t.Errorf("Validate(%q, %q) = %v, want it about %s", tt.state, tt.note, err, tt.field)
			}
		})
	}
}

func TestMayReadNotifications(t *testing.T) {
	tests := []struct {
		p    focal.Principal
		want bool
	}{
		{focal.Principal{UserID: 1, Role: focal.RoleCoordinator}, true},
		{focal.Principal{UserID: 1, Role: focal.RoleHandler}, true},
		{focal.Principal{UserID: 1, Role: focal.RoleConstituent, OrgID: 3}, true},
		{focal.Principal{UserID: 1, Role: focal.RoleConstituent}, false},
		{focal.Principal{UserID: 1, Role: focal.RoleAnalyst}, false},
		{focal.Principal{UserID: 1, Role: focal.RoleAssessor}, false},
		{focal.Principal{UserID: 1, Role: focal.RolePeer}, false},
		{focal.Anonymous(), false},
	}
	for _, tt := range tests {
		if got := focal.MayReadNotifications(tt.p); got != tt.want {
			t.Errorf("MayReadNotifications(%s, org %d) = %v, want %v", tt.p.Role, tt.p.OrgID, got, tt.want)
		}
	}
}
