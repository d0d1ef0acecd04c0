package restapi

import (
	"net/http"
	"time"

	"focal/internal/focal"
)

// feedbackBody is an organisation's feedback on an event as the API shows it.
type feedbackBody struct {
	EventID int64     `json:"event_id"`
	OrgID   int64     `json:"org_id"`
	State   string    `json:"state"`
	Note    string    `json:"note"`
	UserID  int64     `json:"user_id"`
	Author  string    `json:"author"`
	At      time.Time `json:"at"`
}

func feedbackToBody(f focal.EventFeedback) feedbackBody {
	return feedbackBody{EventID: f.EventID, OrgID: f.OrgID, State: f.State, Note: f.Note, UserID: f.UserID, Author: f.Author, At: f.At}
}

// feedbackRequest is the body of PUT /api/v1/my/events/{id}/feedback.
type feedbackRequest struct {
	State string `json:"state"`
	Note  string `json:"note"`
}

// putMyFeedback serves PUT /api/v1/my/events/{id}/feedback: the caller's
// organisation marks one of its events handled or a false positive, with
// an optional note, replacing what it said before. Another
// organisation's event is not found.
func (a *API) putMyFeedback(w http.ResponseWriter, r *http.Request) {
	if _, err := myOrg(focal.PrincipalFromContext(r.Context())); err != nil {
		a.Error(w, r, err)
		return
	}
	id, err := pathID(r)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	var req feedbackRequest
	if err := decode(r, &req); err != nil {
		a.Error(w, r, err)
		return
	}
	f, err := a.Store.SetEventFeedback(r.Context(), id, req.State, req.Note)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	a.writeJSON(w, http.StatusOK, feedbackToBody(*f))
}

// eventFeedback serves GET /api/v1/events/{id}/feedback: what the
// organisations said of the event — staff see every organisation's, a
// constituent its own.
func (a *API) eventFeedback(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	list, err := a.Store.EventFeedback(r.Context(), id)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	out := struct {
		Feedback []feedbackBody `json:"feedback"`
	}{Feedback: make([]feedbackBody, 0, len(list))}
	for _, f := range list {
		out.Feedback = append(out.Feedback, feedbackToBody(f))
	}
	a.writeJSON(w, http.StatusOK, out)
}
