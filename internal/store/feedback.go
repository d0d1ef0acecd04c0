package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	"focal/internal/focal"
)

// feedbackAudit is what the audit log records of an event's feedback.
type feedbackAudit struct {
	OrgID int64  `json:"org_id"`
	State string `json:"state"`
	Note  string `json:"note"`
}

// SetEventFeedback records what the caller's organisation says of event
// eventID (state focal.FeedbackHandled or FeedbackFalsePositive, with an
// optional note), replacing what it said before, and returns it. Only a
// constituent bound to an organisation may, with a token that may write,
// and only for an event of its organisation it may read (never TLP:RED):
// any other event is ENOTFOUND. Staff may not give feedback for an
// organisation (EFORBIDDEN). An invalid state or note is EINVALID. The
// change is audited.
func (s *Store) SetEventFeedback(ctx context.Context, eventID int64, state, note string) (*focal.EventFeedback, error) {
	if err := authorize(ctx, focal.ActionRead, focal.Resource{Kind: focal.KindEvent}); err != nil {
		return nil, err
	}
	p := focal.PrincipalFromContext(ctx)
	if p.Role != focal.RoleConstituent || p.OrgID == 0 {
		return nil, focal.Errorf(focal.EFORBIDDEN, "only an organisation's own accounts give feedback on its events")
	}
	if p.ReadOnly {
		return nil, focal.Errorf(focal.EFORBIDDEN, "this token may only read")
	}
	f := &focal.EventFeedback{EventID: eventID, OrgID: p.OrgID, State: state, Note: note, UserID: p.UserID, Author: p.Label(),
		At: time.Now().UTC().Truncate(time.Millisecond)}
	if err := f.Validate(); err != nil {
		return nil, err
	}
	err := s.WithTx(ctx, func(tx *Tx) error {
		var tlp string
		err := tx.QueryRowContext(ctx, `SELECT e.tlp FROM events e JOIN event_orgs o ON o.event_id = e.id AND o.org_id = $1
			WHERE e.id = $2`, p.OrgID, eventID).Scan(&tlp)
		if err != nil {
			return notFound(err, "event")
		}
		if focal.Authorize(p, focal.ActionRead, focal.Resource{Kind: focal.KindEvent, Object: true, OrgID: p.OrgID, TLP: focal.TLP(tlp)}) != nil {
			return focal.Errorf(focal.ENOTFOUND, "event not found")
		}
		var before *feedbackAudit
		var old feedbackAudit
		switch err := tx.QueryRowContext(ctx, "SELECT state, note FROM event_feedback WHERE event_id = $1 AND org_id = $2",
			eventID, p.OrgID).Scan(&old.State, &old.Note); {
		case err == nil:
			old.OrgID = p.OrgID
			before = &old
		case errors.Is(err, sql.ErrNoRows):
		default:
			return fmt.Errorf("set event feedback: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO event_feedback (event_id, org_id, state, note, user_id, author, at)
			VALUES ($1, $2, $3, $4, $5, $6, $7)
			ON CONFLICT (event_id, org_id) DO UPDATE SET state = excluded.state, note = excluded.note,
			user_id = excluded.user_id, author = excluded.author, at = excluded.at`,
			f.EventID, f.OrgID, f.State, f.Note, f.UserID, f.Author, f.At.UnixMilli()); err != nil {
			return fmt.Errorf("set event feedback: %w", err)
		}
		return tx.audit(ctx, "event.feedback", "event", strconv.FormatInt(eventID, 10), before,
			feedbackAudit{OrgID: f.OrgID, State: f.State, Note: f.Note})
	})
	if err != nil {
		return nil, err
	}
	return f, nil
}

// EventFeedback returns the feedback given on event eventID, by
// organisation: staff see every organisation's, a constituent only its
// own. The event must be one the caller may read (Event), else
// ENOTFOUND. No feedback is an empty list, not an error.
func (s *Store) EventFeedback(ctx context.Context, eventID int64) ([]focal.EventFeedback, error) {
	if _, err := s.Event(ctx, eventID); err != nil {
		return nil, err
	}
	q, args := "SELECT event_id, org_id, state, note, user_id, author, at FROM event_feedback WHERE event_id = $1", []any{eventID}
	if orgID, all := focal.OrgScope(focal.PrincipalFromContext(ctx)); !all {
		q, args = q+" AND org_id = $2", append(args, orgID)
	}
	rows, err := s.rdb.QueryContext(ctx, q+" ORDER BY org_id", args...)
	if err != nil {
		return nil, fmt.Errorf("event feedback: %w", err)
	}
	defer rows.Close()
	out := []focal.EventFeedback{}
	for rows.Next() {
		var f focal.EventFeedback
		var at int64
		if err := rows.Scan(&f.EventID, &f.OrgID, &f.State, &f.Note, &f.UserID, &f.Author, &at); err != nil {
			return nil, fmt.Errorf("event feedback: %w", err)
		}
		f.At = time.UnixMilli(at).UTC()
		out = append(out, f)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("event feedback: %w", err)
	}
	return out, nil
}
