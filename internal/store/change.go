package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"focal/internal/focal"
)

// RequestChange files c for c.OrgID as the caller and returns it with its
// ID, state and times set. A constituent may file requests only for its
// own organisation (another's is ENOTFOUND); a coordinator for any. The
// request is validated (EINVALID naming the field) and audited.
func (s *Store) RequestChange(ctx context.Context, c *focal.ChangeRequest) error {
	if err := authorize(ctx, focal.ActionCreate, focal.Resource{Kind: focal.KindChange, Object: true, OrgID: c.OrgID}); err != nil {
		return hideOtherOrg(ctx, err, c.OrgID)
	}
	c.Normalize()
	if err := c.Validate(); err != nil {
		return err
	}
	p := focal.PrincipalFromContext(ctx)
	c.State, c.RequestedBy, c.Requester = focal.ChangePending, p.UserID, p.Label()
	c.RequestedAt = time.Now().UTC().Truncate(time.Millisecond)
	add, _ := json.Marshal(c.Add)
	remove, _ := json.Marshal(c.Remove)
	return s.WithTx(ctx, func(tx *Tx) error {
		if err := tx.QueryRowContext(ctx, "SELECT name FROM organisations WHERE id = $1", c.OrgID).Scan(&c.OrgName); err != nil {
			return notFound(err, "organisation")
		}
		err := tx.QueryRowContext(ctx, `INSERT INTO org_change_requests (org_id, additions, removals, note, state, requested_by, requester, requested_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
			c.OrgID, string(add), string(remove), c.Note, c.State, c.RequestedBy, c.Requester, c.RequestedAt.UnixMilli()).Scan(&c.ID)
		if err != nil {
			return fmt.Errorf("request change: %w", err)
		}
		return tx.audit(ctx, "change.request", "organisation", strconv.FormatInt(c.OrgID, 10), nil, changeAudit(c))
	})
}

// changeAuditRecord is what the audit log keeps of a change request.
type changeAuditRecord struct {
	Request int64          `json:"request"`
	State   string         `json:"state"`
	Add     focal.Holdings `json:"add"`
	Remove  focal.Holdings `json:"remove"`
	Note    string         `json:"note,omitempty"`
}

func changeAudit(c *focal.ChangeRequest) changeAuditRecord {
	note := c.Note
	if c.State != focal.ChangePending {
		note = c.DecisionNote
	}
	return changeAuditRecord{Request: c.ID, State: c.State, Add: c.Add, Remove: c.Remove, Note: note}
}

// ChangeFilter selects change requests: of one organisation (0: all the
// caller may see) and in one state ("" for any).
type ChangeFilter struct {
	OrgID int64
	State string
	Limit int // default 100, at most 1000
}

const changeColumns = `c.id, c.org_id, o.name, c.additions, c.removals, c.note, c.state, c.requested_by, c.requester, c.requested_at,
	c.decided_by, c.decider, c.decided_at, c.decision_note`

// ChangeRequests lists change requests, newest first. A constituent sees
// only its own organisation's; staff see all.
func (s *Store) ChangeRequests(ctx context.Context, f ChangeFilter) ([]*focal.ChangeRequest, error) {
	if err := authorize(ctx, focal.ActionRead, focal.Resource{Kind: focal.KindChange}); err != nil {
		return nil, err
	}
	orgID, all := focal.OrgScope(focal.PrincipalFromContext(ctx))
	var cond []string
	var args []any
	arg := func(v any) string { args = append(args, v); return "$" + strconv.Itoa(len(args)) }
	switch {
	case !all && orgID <= 0:
		return nil, nil
	case !all:
		if f.OrgID != 0 && f.OrgID != orgID {
			return nil, nil
		}
		cond = append(cond, "c.org_id = "+arg(orgID))
	case f.OrgID != 0:
		cond = append(cond, "c.org_id = "+arg(f.OrgID))
	}
	if f.State != "" {
		cond = append(cond, "c.state = "+arg(f.State))
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	limit = min(limit, 1000)
	q := "SELECT " + changeColumns + " FROM org_change_requests c JOIN organisations o ON o.id = c.org_id"
	if len(cond) > 0 {
		q += " WHERE " + strings.Join(cond, " AND ")
	}
	q += " ORDER BY c.id DESC LIMIT " + arg(limit)
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("change requests: %w", err)
	}
	defer rows.Close()
	var out []*focal.ChangeRequest
	for rows.Next() {
		c, err := scanChange(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// ChangeRequest returns one change request; a constituent only its own
// organisation's (another's is ENOTFOUND).
func (s *Store) ChangeRequest(ctx context.Context, id int64) (*focal.ChangeRequest, error) {
	if err := authorize(ctx, focal.ActionRead, focal.Resource{Kind: focal.KindChange}); err != nil {
		return nil, err
	}
	c, err := scanChange(s.db.QueryRowContext(ctx, "SELECT "+changeColumns+
		" FROM org_change_requests c JOIN organisations o ON o.id = c.org_id WHERE c.id = $1", id))
	if err != nil {
		return nil, notFound(err, "change request")
	}
	if focal.Authorize(focal.PrincipalFromContext(ctx), focal.ActionRead, focal.Resource{Kind: focal.KindChange, Object: true, OrgID: c.OrgID}) != nil {
		return nil, focal.Errorf(focal.ENOTFOUND, "change request not found")
	}
	return c, nil
}

// DecideChange approves or rejects pending request id with a note. Only a
// coordinator decides. Approval applies the request to the organisation
// in the same transaction; both are audited. A request that is no longer
// pending is ECONFLICT.
func (s *Store) DecideChange(ctx context.Context, id int64, approve bool, note string) (*focal.ChangeRequest, error) {
	p := focal.PrincipalFromContext(ctx)
	if err := authorize(ctx, focal.ActionUpdate, focal.Resource{Kind: focal.KindChange}); err != nil {
		return nil, err
	}
	note = strings.TrimSpace(note)
	if len(note) > focal.MaxChangeNote {
		return nil, focal.FieldErrorf("note", "longer than %d characters", focal.MaxChangeNote)
	}
	var out *focal.ChangeRequest
	err := s.WithTx(ctx, func(tx *Tx) error {
		c, err := scanChange(tx.QueryRowContext(ctx, "SELECT "+changeColumns+
			" FROM org_change_requests c JOIN organisations o ON o.id = c.org_id WHERE c.id = $1", id))
		if err != nil {
			return notFound(err, "change request")
		}
		if c.State != focal.ChangePending {
			return focal.Errorf(focal.ECONFLICT, "change request %d is already %s", id, c.State)
		}
		c.State = focal.ChangeRejected
		if approve {
			c.State = focal.ChangeApproved
		}
		c.DecidedBy, c.Decider, c.DecisionNote = p.UserID, p.Label(), note
		c.DecidedAt = time.Now().UTC().Truncate(time.Millisecond)
		if approve {
			before, err := tx.organisation(ctx, c.OrgID)
			if err != nil {
				return err
			}
			after := *before
			after.Networks = append([]netip.Prefix(nil), before.Networks...)
			after.ASNs = append([]uint32(nil), before.ASNs...)
			after.Domains = append([]string(nil), before.Domains...)
			c.Apply(&after)
			if err := after.Validate(); err != nil {
				return err
			}
			if err := tx.updateOrganisation(ctx, before, &after); err != nil {
				return err
			}
		}
		res, err := tx.ExecContext(ctx, `UPDATE org_change_requests SET state = $1, decided_by = $2, decider = $3, decided_at = $4, decision_note = $5
			WHERE id = $6 AND state = $7`, c.State, c.DecidedBy, c.Decider, c.DecidedAt.UnixMilli(), c.DecisionNote, id, focal.ChangePending)
		if err != nil {
			return fmt.Errorf("decide change: %w", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return focal.Errorf(focal.ECONFLICT, "change request %d was decided meanwhile", id)
		}
		out = c
		action := "change.reject"
		if approve {
			action = "change.approve"
		}
		return tx.audit(ctx, action, "organisation", strconv.FormatInt(c.OrgID, 10), nil, changeAudit(c))
	})
	return out, err
}

// WithdrawChange withdraws a pending request of the caller's organisation.
func (s *Store) WithdrawChange(ctx context.Context, id int64) error {
	c, err := s.ChangeRequest(ctx, id)
	if err != nil {
		return err
	}
	if err := authorize(ctx, focal.ActionCreate, focal.Resource{Kind: focal.KindChange, Object: true, OrgID: c.OrgID}); err != nil {
		return err
	}
	p := focal.PrincipalFromContext(ctx)
	return s.WithTx(ctx, func(tx *Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE org_change_requests SET state = $1, decided_by = $2, decider = $3, decided_at = $4
			WHERE id = $5 AND state = $6`, focal.ChangeWithdrawn, p.UserID, p.Label(), time.Now().UTC().UnixMilli(), id, focal.ChangePending)
		if err != nil {
			return fmt.Errorf("withdraw change: %w", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return focal.Errorf(focal.ECONFLICT, "change request %d is no longer pending", id)
		}
		c.State = focal.ChangeWithdrawn
		return tx.audit(ctx, "change.withdraw", "organisation", strconv.FormatInt(c.OrgID, 10), nil, changeAudit(c))
	})
}

func scanChange(row interface{ Scan(...any) error }) (*focal.ChangeRequest, error) {
	var c focal.ChangeRequest
	var add, remove string
	var requested, decided int64
	if err := row.Scan(&c.ID, &c.OrgID, &c.OrgName, &add, &remove, &c.Note, &c.State, &c.RequestedBy, &c.Requester, &requested,
		&c.DecidedBy, &c.Decider, &decided, &c.DecisionNote); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, err
		}
		return nil, fmt.Errorf("scan change request: %w", err)
	}
	if err := json.Unmarshal([]byte(add), &c.Add); err != nil {
		return nil, fmt.Errorf("change request %d: additions: %w", c.ID, err)
	}
	if err := json.Unmarshal([]byte(remove), &c.Remove); err != nil {
		return nil, fmt.Errorf("change request %d: removals: %w", c.ID, err)
	}
	c.RequestedAt = time.UnixMilli(requested).UTC()
	if decided != 0 {
		c.DecidedAt = time.UnixMilli(decided).UTC()
	}
	return &c, nil
}

// UpdateContacts replaces organisation orgID's contacts and notification
// preferences (prefs nil keeps them). A constituent may for its own organisation (the rest of
// the organisation, including its networks, stays a coordinator's); the
// contacts are validated like the organisation's and the change audited.
func (s *Store) UpdateContacts(ctx context.Context, orgID int64, contacts []focal.Contact, prefs *focal.NotifyPrefs) (*focal.Organisation, error) {
	if err := authorize(ctx, focal.ActionUpdate, focal.Resource{Kind: focal.KindContacts, Object: true, OrgID: orgID}); err != nil {
		return nil, hideOtherOrg(ctx, err, orgID)
	}
	var out *focal.Organisation
	err := s.WithTx(ctx, func(tx *Tx) error {
		before, err := tx.organisation(ctx, orgID)
		if err != nil {
			return err
		}
		after := *before
		after.Contacts = contacts
		if prefs != nil {
			after.Notify = *prefs
		}
		after.Normalize()
		if err := after.Validate(); err != nil {
			return err
		}
		if err := tx.updateOrganisation(ctx, before, &after); err != nil {
			return err
		}
		out = &after
		return nil
	})
	return out, err
}

// hideOtherOrg turns a constituent's EFORBIDDEN for another
// organisation's object into ENOTFOUND, so a constituent cannot learn
// which organisations exist by probing; other errors pass unchanged.
func hideOtherOrg(ctx context.Context, err error, orgID int64) error {
	p := focal.PrincipalFromContext(ctx)
	if focal.ErrorCode(err) == focal.EFORBIDDEN && p.Role == focal.RoleConstituent && orgID != p.OrgID {
		return focal.Errorf(focal.ENOTFOUND, "organisation not found")
	}
	return err
}
