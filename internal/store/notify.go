package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"focal/internal/focal"
	"focal/internal/notify"
)

// States of a notification.
const (
	NotificationQueued   = "queued"   // built, not tried yet
	NotificationRetrying = "retrying" // a try failed temporarily; tried again at NextAttempt
	NotificationSent     = "sent"     // accepted by the relay or the webhook
	NotificationFailed   = "failed"   // failed permanently; never tried again
)

// MaxPendingEvents bounds one PendingEvents page.
const MaxPendingEvents = 5000

// SetNotifyPolicy stores organisation orgID's notification policy,
// replacing any earlier one. It validates (and so normalises) p first,
// returning its EINVALID error. Coordinators may for any organisation, a
// constituent for its own; ENOTFOUND when the organisation does not exist
// (or is not the constituent's). The audit log records the change without
// the webhook secret.
func (s *Store) SetNotifyPolicy(ctx context.Context, orgID int64, p *notify.Policy) error {
	if err := authorize(ctx, focal.ActionUpdate, focal.Resource{Kind: focal.KindContacts, Object: true, OrgID: orgID}); err != nil {
		return hideOtherOrg(ctx, err, orgID)
	}
	if err := p.Validate(); err != nil {
		return err
	}
	b, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("set notify policy: %w", err)
	}
	return s.WithTx(ctx, func(tx *Tx) error {
		if _, err := tx.organisation(ctx, orgID); err != nil {
			return err
		}
		var before *notify.Policy
		var old string
		switch err := tx.QueryRowContext(ctx, "SELECT policy FROM notify_policies WHERE org_id = $1", orgID).Scan(&old); {
		case err == nil:
			before = &notify.Policy{}
			if err := json.Unmarshal([]byte(old), before); err != nil {
				return fmt.Errorf("set notify policy: stored policy: %w", err)
			}
		case errors.Is(err, sql.ErrNoRows):
		default:
			return fmt.Errorf("set notify policy: %w", err)
		}
		now := time.Now().UnixMilli()
		by := focal.PrincipalFromContext(ctx).UserID
		if _, err := tx.ExecContext(ctx, `INSERT INTO notify_policies (org_id, policy, updated, updated_by) VALUES ($1, $2, $3, $4)
			ON CONFLICT (org_id) DO UPDATE SET policy = excluded.policy, updated = excluded.updated, updated_by = excluded.updated_by`,
			orgID, string(b), now, by); err != nil {
			return fmt.Errorf("set notify policy: %w", err)
		}
		return tx.audit(ctx, "notify.policy", "organisation", strconv.FormatInt(orgID, 10), redactPolicy(before), redactPolicy(p))
	})
}

// redactPolicy returns a copy of p for the audit log, without its secret.
func redactPolicy(p *notify.Policy) *notify.Policy {
	if p == nil {
		return nil
	}
	c := *p
	if c.WebhookSecret != "" {
		c.WebhookSecret = "(redacted)"
	}
	return &c
}

// NotifyPolicy returns organisation orgID's stored policy, or ENOTFOUND
// when it has none: the caller then uses notify.PolicyFor. A constituent
// reads only its own organisation's. The policy holds the webhook secret:
// callers showing it must blank it.
func (s *Store) NotifyPolicy(ctx context.Context, orgID int64) (*notify.Policy, error) {
	if err := authorize(ctx, focal.ActionRead, focal.Resource{Kind: focal.KindOrganisation, Object: true, OrgID: orgID}); err != nil {
		return nil, err
	}
	var raw string
	if err := s.rdb.QueryRowContext(ctx, "SELECT policy FROM notify_policies WHERE org_id = $1", orgID).Scan(&raw); err != nil {
		return nil, notFound(err, "notification policy")
	}
	var p notify.Policy
	if err := json.Unmarshal([]byte(raw), &p); err != nil {
		return nil, fmt.Errorf("notify policy of organisation %d: %w", orgID, err)
	}
	return &p, nil
}

// NotifyPolicies returns every stored policy by organisation id (for a
// constituent, only its own).
func (s *Store) NotifyPolicies(ctx context.Context) (map[int64]*notify.Policy, error) {
	if err := authorize(ctx, focal.ActionRead, focal.Resource{Kind: focal.KindOrganisation}); err != nil {
		return nil, err
	}
	q, args := "SELECT org_id, policy FROM notify_policies", []any(nil)
	if orgID, all := focal.OrgScope(focal.PrincipalFromContext(ctx)); !all {
		q, args = q+" WHERE org_id = $1", []any{orgID}
	}
	rows, err := s.rdb.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("notify policies: %w", err)
	}
	defer rows.Close()
	out := map[int64]*notify.Policy{}
	for rows.Next() {
		var id int64
		var raw string
		if err := rows.Scan(&id, &raw); err != nil {
			return nil, fmt.Errorf("notify policies: %w", err)
		}
		var p notify.Policy
		if err := json.Unmarshal([]byte(raw), &p); err != nil {
			return nil, fmt.Errorf("notify policy of organisation %d: %w", id, err)
		}
		out[id] = &p
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("notify policies: %w", err)
	}
	return out, nil
}

// Notification is one message to an organisation: queued, being retried,
// sent or failed. Raw is the exact bytes to deliver (an RFC 5322 message,
// or a webhook's JSON body); it is loaded by DueNotifications only.
type Notification struct {
	ID         int64
	Reference  string // unique
	OrgID      int64
	Channel    string   // notify.ChannelDigest, ChannelImmediate or ChannelWebhook
	From       string   // e-mail envelope sender
	Recipients []string // e-mail envelope recipients, or the webhook URL
	Subject    string
	TLP        focal.TLP
	Part       int
	Parts      int
	Events     int     // how many events it carries
	EventIDs   []int64 // the events it carries; set when queueing
	Raw        []byte
	State      string // Notification* constants
	Attempts   int
	// NextAttempt is when a queued or retrying message is due.
	NextAttempt time.Time
	LastError   string
	Created     time.Time
	SentAt      time.Time // zero until sent
}

// QueueNotifications stores msgs as queued (due at once) with the events
// each carries, and, when digest is not zero, records digest as the time
// of organisation orgID's last digest — all in one transaction, so a
// crash cannot queue events without the mark or the other way round. Each
// message must be for orgID. A reference already used is an ECONFLICT
// error. Only coordinators (and the system) may queue.
func (s *Store) QueueNotifications(ctx context.Context, orgID int64, digest time.Time, msgs []*Notification) error {
	if err := authorize(ctx, focal.ActionUpdate, focal.Resource{Kind: focal.KindOrganisation, Object: true, OrgID: orgID}); err != nil {
		return err
	}
	for _, m := range msgs {
		if m.OrgID != orgID {
			return fmt.Errorf("queue notifications: message %s is for organisation %d, not %d", m.Reference, m.OrgID, orgID)
		}
	}
	return s.WithTx(ctx, func(tx *Tx) error {
		now := time.Now().UTC().Truncate(time.Millisecond)
		for _, m := range msgs {
			m.State, m.Attempts, m.Created, m.Events = NotificationQueued, 0, now, len(m.EventIDs)
			if m.NextAttempt.IsZero() {
				m.NextAttempt = now
			}
			err := tx.QueryRowContext(ctx, `INSERT INTO notifications (reference, org_id, channel, mail_from, recipients, subject, tlp,
				part, parts, events, raw, state, attempts, next_attempt, created)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 0, $13, $14) RETURNING id`,
				m.Reference, m.OrgID, m.Channel, m.From, strings.Join(m.Recipients, "\n"), m.Subject, string(m.TLP),
				m.Part, m.Parts, m.Events, m.Raw, m.State, m.NextAttempt.UnixMilli(), now.UnixMilli()).Scan(&m.ID)
			if err != nil {
				if isUniqueViolation(err) {
					return focal.Errorf(focal.ECONFLICT, "notification %s already queued", m.Reference)
				}
				return fmt.Errorf("queue notifications: %w", err)
			}
			if err := tx.linkNotificationEvents(ctx, m); err != nil {
				return err
			}
		}
		if !digest.IsZero() {
			if _, err := tx.ExecContext(ctx, `INSERT INTO notify_marks (org_id, last_digest) VALUES ($1, $2)
				ON CONFLICT (org_id) DO UPDATE SET last_digest = excluded.last_digest`, orgID, digest.UnixMilli()); err != nil {
				return fmt.Errorf("queue notifications: mark: %w", err)
			}
		}
		return nil
	})
}

// linkNotificationEvents records the events m carries: each of its
// organisation's event_orgs rows gets m's id, many per statement.
func (tx *Tx) linkNotificationEvents(ctx context.Context, m *Notification) error {
	const per = 500
	for start := 0; start < len(m.EventIDs); start += per {
		ids := m.EventIDs[start:min(start+per, len(m.EventIDs))]
		var b strings.Builder
		args := make([]any, 0, 2+len(ids))
		args = append(args, m.ID, m.OrgID)
		b.WriteString("UPDATE event_orgs SET notification_id = " + tx.store.placeholder(1) + " WHERE org_id = " + tx.store.placeholder(2) + " AND event_id IN (")
		for i, id := range ids {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(tx.store.placeholder(len(args) + 1))
			args = append(args, id)
		}
		b.WriteString(")")
		if _, err := tx.ExecContext(ctx, b.String(), args...); err != nil {
			return fmt.Errorf("queue notifications: events: %w", err)
		}
	}
	return nil
}

// LastDigest returns when organisation orgID's last digest was built
// (QueueNotifications' digest), or the zero time when never.
func (s *Store) LastDigest(ctx context.Context, orgID int64) (time.Time, error) {
	if err := authorize(ctx, focal.ActionRead, focal.Resource{Kind: focal.KindOrganisation, Object: true, OrgID: orgID}); err != nil {
		return time.Time{}, err
	}
	var at int64
	err := s.rdb.QueryRowContext(ctx, "SELECT last_digest FROM notify_marks WHERE org_id = $1", orgID).Scan(&at)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return time.Time{}, nil
	case err != nil:
		return time.Time{}, fmt.Errorf("last digest: %w", err)
	}
	return time.UnixMilli(at).UTC(), nil
}

// PendingEvents returns up to limit (at most MaxPendingEvents) events of
// organisation orgID observed at or after since, with an id above
// afterID, that no notification to orgID has carried yet, by id. TLP:RED
// events are never returned. Page with afterID = the last id returned.
// Only staff and the system may read them.
func (s *Store) PendingEvents(ctx context.Context, orgID int64, since time.Time, afterID int64, limit int) ([]*focal.Event, error) {
	if err := authorize(ctx, focal.ActionRead, focal.Resource{Kind: focal.KindEvent}); err != nil {
		return nil, err
	}
	if _, all := focal.OrgScope(focal.PrincipalFromContext(ctx)); !all {
		return nil, focal.Errorf(focal.EFORBIDDEN, "only staff may read pending notifications")
	}
	if limit <= 0 || limit > MaxPendingEvents {
		limit = MaxPendingEvents
	}
	// Walk the organisation's slice of event_orgs in key order (its
	// primary key is (org_id, event_id)), so each page is a range scan.
	q := "SELECT " + eventColumns + ` FROM event_orgs eo JOIN events e ON e.id = eo.event_id JOIN feeds f ON f.id = e.feed_id
		WHERE eo.org_id = $1 AND eo.event_id > $3 AND e.observed_time >= $2 AND e.tlp <> $4
		AND eo.notification_id = 0
		ORDER BY eo.event_id LIMIT $5`
	rows, err := s.rdb.QueryContext(ctx, q, orgID, since.UnixMilli(), afterID, string(focal.TLPRed), limit)
	if err != nil {
		return nil, fmt.Errorf("pending events: %w", err)
	}
	defer rows.Close()
	var out []*focal.Event
	for rows.Next() {
		e, err := scanEvent(rows)
		if err != nil {
			return nil, fmt.Errorf("pending events: %w", err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("pending events: %w", err)
	}
	return out, nil
}

const notificationColumns = `id, reference, org_id, channel, mail_from, recipients, subject, tlp, part, parts, events,
	state, attempts, next_attempt, last_error, created, sent_at`

func scanNotification(sc interface{ Scan(...any) error }, raw *[]byte) (*Notification, error) {
	var n Notification
	var rcpt, tlp string
	var next, created, sent int64
	dest := []any{&n.ID, &n.Reference, &n.OrgID, &n.Channel, &n.From, &rcpt, &n.Subject, &tlp, &n.Part, &n.Parts, &n.Events,
		&n.State, &n.Attempts, &next, &n.LastError, &created, &sent}
	if raw != nil {
		dest = append(dest, raw)
	}
	if err := sc.Scan(dest...); err != nil {
		return nil, err
	}
	if rcpt != "" {
		n.Recipients = strings.Split(rcpt, "\n")
	}
	n.TLP = focal.TLP(tlp)
	n.NextAttempt, n.Created = time.UnixMilli(next).UTC(), time.UnixMilli(created).UTC()
	if sent > 0 {
		n.SentAt = time.UnixMilli(sent).UTC()
	}
	return &n, nil
}

// DueNotifications returns up to limit (default and at most 1000) queued
// or retrying notifications due at now, oldest due first, with their Raw
// bytes. Only coordinators and the system may.
func (s *Store) DueNotifications(ctx context.Context, now time.Time, limit int) ([]*Notification, error) {
	if err := authorize(ctx, focal.ActionUpdate, focal.Resource{Kind: focal.KindOrganisation}); err != nil {
		return nil, err
	}
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	rows, err := s.rdb.QueryContext(ctx, "SELECT "+notificationColumns+`, raw FROM notifications
		WHERE state IN ($1, $2) AND next_attempt <= $3 ORDER BY next_attempt, id LIMIT $4`,
		NotificationQueued, NotificationRetrying, now.UnixMilli(), limit)
	if err != nil {
		return nil, fmt.Errorf("due notifications: %w", err)
	}
	defer rows.Close()
	var out []*Notification
	for rows.Next() {
		var raw []byte
		n, err := scanNotification(rows, &raw)
		if err != nil {
			return nil, fmt.Errorf("due notifications: %w", err)
		}
		n.Raw = raw
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("due notifications: %w", err)
	}
	return out, nil
}

// MarkSent records that notification id was delivered at at, counting
// the attempt.
func (s *Store) MarkSent(ctx context.Context, id int64, at time.Time) error {
	return s.markNotification(ctx, id, `UPDATE notifications SET state = $1, attempts = attempts + 1, sent_at = $2,
		last_error = '' WHERE id = $3`, NotificationSent, at.UnixMilli(), id)
}

// MarkRetry records a temporary failure of notification id, counting the
// attempt: it is due again at next.
func (s *Store) MarkRetry(ctx context.Context, id int64, next time.Time, cause string) error {
	return s.markNotification(ctx, id, `UPDATE notifications SET state = $1, attempts = attempts + 1, next_attempt = $2,
		last_error = $3 WHERE id = $4`, NotificationRetrying, next.UnixMilli(), cause, id)
}

// MarkFailed records a permanent failure of notification id, counting
// the attempt: it is never tried again.
func (s *Store) MarkFailed(ctx context.Context, id int64, cause string) error {
	return s.markNotification(ctx, id, `UPDATE notifications SET state = $1, attempts = attempts + 1, last_error = $2
		WHERE id = $3`, NotificationFailed, cause, id)
}

func (s *Store) markNotification(ctx context.Context, id int64, q string, args ...any) error {
	if err := authorize(ctx, focal.ActionUpdate, focal.Resource{Kind: focal.KindOrganisation}); err != nil {
		return err
	}
	return s.WithTx(ctx, func(tx *Tx) error {
		r, err := tx.ExecContext(ctx, q, args...)
		if err != nil {
			return fmt.Errorf("mark notification %d: %w", id, err)
		}
		if n, err := r.RowsAffected(); err == nil && n == 0 {
			return focal.Errorf(focal.ENOTFOUND, "notification %d not found", id)
		}
		return nil
	})
}

// Notifications lists the notifications to organisation orgID (0: every
// organisation), newest first, up to limit (default 100, at most 1000),
// without their Raw bytes. A constituent sees only its own organisation's.
func (s *Store) Notifications(ctx context.Context, orgID int64, limit int) ([]*Notification, error) {
	if err := authorize(ctx, focal.ActionRead, focal.Resource{Kind: focal.KindOrganisation, Object: orgID != 0, OrgID: orgID}); err != nil {
		return nil, err
	}
	if scope, all := focal.OrgScope(focal.PrincipalFromContext(ctx)); !all {
		orgID = scope
	}
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	q, args := "SELECT "+notificationColumns+" FROM notifications", []any{}
	if orgID != 0 {
		q, args = q+" WHERE org_id = $1", append(args, orgID)
	}
	args = append(args, limit)
	q += fmt.Sprintf(" ORDER BY id DESC LIMIT $%d", len(args))
	rows, err := s.rdb.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("notifications: %w", err)
	}
	defer rows.Close()
	var out []*Notification
	for rows.Next() {
		n, err := scanNotification(rows, nil)
		if err != nil {
			return nil, fmt.Errorf("notifications: %w", err)
		}
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("notifications: %w", err)
	}
	return out, nil
}

// NotificationEvents returns the ids of the events notification id
// carried, in id order; ENOTFOUND when there is no such notification or
// it is another organisation's and the principal a constituent.
func (s *Store) NotificationEvents(ctx context.Context, id int64) ([]int64, error) {
	if err := authorize(ctx, focal.ActionRead, focal.Resource{Kind: focal.KindOrganisation}); err != nil {
		return nil, err
	}
	var orgID int64
	if err := s.rdb.QueryRowContext(ctx, "SELECT org_id FROM notifications WHERE id = $1", id).Scan(&orgID); err != nil {
		return nil, notFound(err, "notification")
	}
	if scope, all := focal.OrgScope(focal.PrincipalFromContext(ctx)); !all && scope != orgID {
		return nil, focal.Errorf(focal.ENOTFOUND, "notification not found")
	}
	rows, err := s.rdb.QueryContext(ctx, `SELECT event_id FROM event_orgs
		WHERE org_id = (SELECT org_id FROM notifications WHERE id = $1) AND notification_id = $1 ORDER BY event_id`, id)
	if err != nil {
		return nil, fmt.Errorf("notification events: %w", err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var e int64
		if err := rows.Scan(&e); err != nil {
			return nil, fmt.Errorf("notification events: %w", err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("notification events: %w", err)
	}
	return out, nil
}

// NotificationTotals sums the notification log: messages, the events
// they carry (each event counted once per organisation) and the
// organisations they went to.
type NotificationTotals struct {
	Messages, Events, Orgs int64
}

// NotificationTotals returns the totals of the notification log (staff).
func (s *Store) NotificationTotals(ctx context.Context) (NotificationTotals, error) {
	var t NotificationTotals
	if err := authorize(ctx, focal.ActionRead, focal.Resource{Kind: focal.KindOrganisation}); err != nil {
		return t, err
	}
	if _, all := focal.OrgScope(focal.PrincipalFromContext(ctx)); !all {
		return t, focal.Errorf(focal.EFORBIDDEN, "the notification totals are for the team's staff")
	}
	if err := s.rdb.QueryRowContext(ctx, "SELECT COUNT(*), COUNT(DISTINCT org_id) FROM notifications").Scan(&t.Messages, &t.Orgs); err != nil {
		return t, fmt.Errorf("notification totals: %w", err)
	}
	if err := s.rdb.QueryRowContext(ctx, "SELECT COUNT(*) FROM event_orgs WHERE notification_id <> 0").Scan(&t.Events); err != nil {
		return t, fmt.Errorf("notification totals: %w", err)
	}
	return t, nil
}
