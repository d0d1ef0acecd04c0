package ui

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"focal/internal/focal"
)

// feedbackSection is the feedback part of an event's page: the form of a
// constituent of the event's organisation, and for staff what every
// organisation said.
type feedbackSection struct {
	Form     *feedbackForm // nil unless the caller may give feedback
	Received []feedbackRow // staff only
	Staff    bool          // show the received list, even when empty
}

// feedbackForm is a constituent's feedback form, with what its
// organisation said before (Current) or what was just posted.
type feedbackForm struct {
	EventID int64
	Note    string
	Current *feedbackRow
	Error   string // the note's or state's error after a refused post
	MaxNote int
}

// feedbackRow is one organisation's feedback as the page shows it.
type feedbackRow struct {
	Org    orgLink
	State  string // focal.Feedback* constant, for the badge's class
	Label  string
	Note   string
	Author string
	At     time.Time
}

// feedbackLabel names a feedback state for people.
func feedbackLabel(state string) string {
	switch state {
	case focal.FeedbackHandled:
		return "Handled"
	case focal.FeedbackFalsePositive:
		return "False positive"
	}
	return state
}

// eventFeedbackSection builds the feedback part of event e's page for p;
// posted, when not nil, is a refused form to show again.
func (h *handlers) eventFeedbackSection(ctx context.Context, p focal.Principal, e *focal.Event, names map[int64]string, posted *feedbackForm) (feedbackSection, error) {
	list, err := h.store.EventFeedback(ctx, e.ID)
	if err != nil {
		return feedbackSection{}, err
	}
	var sec feedbackSection
	_, sec.Staff = focal.OrgScope(p)
	for _, f := range list {
		row := feedbackRow{Org: orgLink{ID: f.OrgID, Name: orgName(names, f.OrgID)}, State: f.State, Label: feedbackLabel(f.State),
			Note: f.Note, Author: f.Author, At: f.At}
		if sec.Staff {
			sec.Received = append(sec.Received, row)
		}
		if p.Role == focal.RoleConstituent && f.OrgID == p.OrgID {
			if posted == nil {
				posted = &feedbackForm{Note: f.Note}
			}
			posted.Current = &row
		}
	}
	if p.Role == focal.RoleConstituent && p.OrgID != 0 && !p.ReadOnly {
		if posted == nil {
			posted = &feedbackForm{}
		}
		posted.EventID, posted.MaxNote = e.ID, focal.MaxFeedbackNote
		sec.Form = posted
	}
	return sec, nil
}

// eventFeedbackPost serves POST /events/{id}/feedback: a constituent
// marks its organisation's event handled or a false positive (the button
// pressed) with an optional note. A refused form is shown again on the
// event's page with 400.
func (h *handlers) eventFeedbackPost(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		h.error(w, r, err)
		return
	}
	if err := parseForm(r); err != nil {
		h.error(w, r, err)
		return
	}
	state, note := r.PostForm.Get("state"), r.PostForm.Get("note")
	if _, err := h.store.SetEventFeedback(r.Context(), id, state, note); err != nil {
		if focal.ErrorCode(err) == focal.EINVALID {
			h.renderEvent(w, r, http.StatusBadRequest, &feedbackForm{Note: note, Error: focal.ErrorMessage(err)})
			return
		}
		h.error(w, r, err)
		return
	}
	redirect(w, r, withNotice("/events/"+strconv.FormatInt(id, 10), "saved")+"#feedback")
}
