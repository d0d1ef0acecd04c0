package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"focal/internal/focal"
)

const alertColumns = "id, name, org_id, sector, class, type, feed, threshold, window_s, severity, enabled, created"

func scanAlertRule(sc interface{ Scan(...any) error }) (*focal.AlertRule, error) {
	var r focal.AlertRule
	var window, created int64
	var sev string
	if err := sc.Scan(&r.ID, &r.Name, &r.OrgID, &r.Sector, &r.Class, &r.Type, &r.Feed, &r.Threshold, &window, &sev, &r.Enabled, &created); err != nil {
		return nil, err
	}
	r.Window, r.Severity, r.Created = time.Duration(window)*time.Second, focal.Severity(sev), time.UnixMilli(created).UTC()
	return &r, nil
}

// CreateAlertRule stores a new alert rule.
func (s *Store) CreateAlertRule(ctx context.Context, r *focal.AlertRule) error {
	if err := authorize(ctx, focal.ActionCreate, focal.Resource{Kind: focal.KindFeed}); err != nil {
		return err
	}
	if err := r.Validate(); err != nil {
		return err
	}
	return s.WithTx(ctx, func(tx *Tx) error {
		r.Created = time.Now().UTC().Truncate(time.Millisecond)
		err := tx.QueryRowContext(ctx, `INSERT INTO alert_rules (name, org_id, sector, class, type, feed, threshold, window_s, severity, enabled, created)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id`,
			r.Name, r.OrgID, r.Sector, r.Class, r.Type, r.Feed, r.Threshold, int64(r.Window/time.Second), string(r.Severity), r.Enabled,
			r.Created.UnixMilli()).Scan(&r.ID)
		if err != nil {
			if isUniqueViolation(err) {
				return focal.FieldErrorf("name", "an alert rule named %q already exists", r.Name)
			}
			return fmt.Errorf("create alert rule: %w", err)
		}
		return tx.audit(ctx, "alert_rule.create", "alert_rule", strconv.FormatInt(r.ID, 10), nil, r)
	})
}

// UpdateAlertRule replaces an alert rule's settings.
func (s *Store) UpdateAlertRule(ctx context.Context, r *focal.AlertRule) error {
	if err := authorize(ctx, focal.ActionUpdate, focal.Resource{Kind: focal.KindFeed, Object: true}); err != nil {
		return err
	}
	if err := r.Validate(); err != nil {
		return err
	}
	return s.WithTx(ctx, func(tx *Tx) error {
		before, err := scanAlertRule(tx.QueryRowContext(ctx, "SELECT "+alertColumns+" FROM alert_rules WHERE id = $1", r.ID))
		if err != nil {
			return notFound(err, "alert rule")
		}
		_, err = tx.ExecContext(ctx, `UPDATE alert_rules SET name = $1, org_id = $2, sector = $3, class = $4, type = $5, feed = $6,
			threshold = $7, window_s = $8, severity = $9, enabled = $10 WHERE id = $11`,
			r.Name, r.OrgID, r.Sector, r.Class, r.Type, r.Feed, r.Threshold, int64(r.Window/time.Second), string(r.Severity), r.Enabled, r.ID)
		if err != nil {
			if isUniqueViolation(err) {
				return focal.FieldErrorf("name", "an alert rule named %q already exists", r.Name)
			}
			return fmt.Errorf("update alert rule: %w", err)
		}
		r.Created = before.Created
		return tx.audit(ctx, "alert_rule.update", "alert_rule", strconv.FormatInt(r.ID, 10), before, r)
	})
}

// DeleteAlertRule removes an alert rule; incidents it opened stay.
func (s *Store) DeleteAlertRule(ctx context.Context, id int64) error {
	if err := authorize(ctx, focal.ActionDelete, focal.Resource{Kind: focal.KindFeed, Object: true}); err != nil {
		return err
	}
	return s.WithTx(ctx, func(tx *Tx) error {
		before, err := scanAlertRule(tx.QueryRowContext(ctx, "SELECT "+alertColumns+" FROM alert_rules WHERE id = $1", id))
		if err != nil {
			return notFound(err, "alert rule")
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM alert_incidents WHERE rule_id = $1", id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM alert_rules WHERE id = $1", id); err != nil {
			return err
		}
		return tx.audit(ctx, "alert_rule.delete", "alert_rule", strconv.FormatInt(id, 10), before, nil)
	})
}

// AlertRule returns one rule.
func (s *Store) AlertRule(ctx context.Context, id int64) (*focal.AlertRule, error) {
	if err := authorize(ctx, focal.ActionRead, focal.Resource{Kind: focal.KindFeed, Object: true}); err != nil {
		return nil, err
	}
	r, err := scanAlertRule(s.rdb.QueryRowContext(ctx, "SELECT "+alertColumns+" FROM alert_rules WHERE id = $1", id))
	return r, notFound(err, "alert rule")
}

// AlertRules lists the rules by name.
func (s *Store) AlertRules(ctx context.Context) ([]*focal.AlertRule, error) {
	if err := authorize(ctx, focal.ActionRead, focal.Resource{Kind: focal.KindFeed}); err != nil {
		return nil, err
	}
	rows, err := s.rdb.QueryContext(ctx, "SELECT "+alertColumns+" FROM alert_rules ORDER BY name")
	if err != nil {
		return nil, fmt.Errorf("alert rules: %w", err)
	}
	defer rows.Close()
	var out []*focal.AlertRule
	for rows.Next() {
		r, err := scanAlertRule(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// IncidentEvents lists the pipeline events linked to an incident, newest
// first.
func (s *Store) IncidentEvents(ctx context.Context, incidentID int64, limit int) ([]*focal.Event, error) {
	if _, err := s.Incident(ctx, incidentID); err != nil {
		return nil, err // authorises the incident
	}
	if limit <= 0 || limit > 1000 {
		limit = 200
	}
	rows, err := s.rdb.QueryContext(ctx, "SELECT "+eventColumns+` FROM incident_events ie JOIN events e ON e.id = ie.event_id
		JOIN feeds f ON f.id = e.feed_id WHERE ie.incident_id = $1 ORDER BY e.last_seen DESC, e.id DESC LIMIT $2`, incidentID, limit)
	if err != nil {
		return nil, fmt.Errorf("incident events: %w", err)
	}
	defer rows.Close()
	var out []*focal.Event
	for rows.Next() {
		e, err := scanEvent(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// AlertHit is an organisation for which a rule's threshold was reached.
type AlertHit struct {
	OrgID  int64
	Events int64
}

// MaxLinkedPerCheck bounds the events linked to an incident per check.
const MaxLinkedPerCheck = 1000

// alertWhere returns the conditions selecting a rule's events since a
// time, with e, eo (event_orgs) and f (feeds) in scope.
func alertWhere(r *focal.AlertRule, since int64) (string, []any) {
	conds := []string{"e.last_seen >= $1"}
	args := []any{since}
	add := func(cond string, v any) {
		args = append(args, v)
		conds = append(conds, fmt.Sprintf(cond, len(args)))
	}
	if r.OrgID != 0 {
		add("eo.org_id = $%d", r.OrgID)
	}
	if r.Sector != "" {
		add("eo.org_id IN (SELECT id FROM organisations WHERE sector = $%d)", r.Sector)
	}
	if r.Class != "" {
		add("e.class = $%d", r.Class)
	}
	if r.Type != "" {
		add("e.type = $%d", r.Type)
	}
	if r.Feed != "" {
		add("f.name = $%d", r.Feed)
	}
	return strings.Join(conds, " AND "), args
}

// AlertHits returns the organisations with at least the rule's threshold
// of matching events last seen within its window before now.
func (s *Store) AlertHits(ctx context.Context, r *focal.AlertRule, now time.Time) ([]AlertHit, error) {
	where, args := alertWhere(r, now.Add(-r.Window).UnixMilli())
	args = append(args, r.Threshold)
	rows, err := s.rdb.QueryContext(ctx, `SELECT eo.org_id, COUNT(*) FROM events e JOIN event_orgs eo ON eo.event_id = e.id
		JOIN feeds f ON f.id = e.feed_id WHERE `+where+fmt.Sprintf(` GROUP BY eo.org_id HAVING COUNT(*) >= $%d ORDER BY eo.org_id`, len(args)), args...)
	if err != nil {
		return nil, fmt.Errorf("alert %s: %w", r.Name, err)
	}
	defer rows.Close()
	var out []AlertHit
	for rows.Next() {
		var h AlertHit
		if err := rows.Scan(&h.OrgID, &h.Events); err != nil {
			return nil, err
		}
		out = append(out, h)
	}
	return out, rows.Err()
}

// AlertIncident returns the open incident rule opened for org, or 0.
func (s *Store) AlertIncident(ctx context.Context, ruleID, orgID int64) (int64, error) {
	var id int64
	var status string
	err := s.rdb.QueryRowContext(ctx, `SELECT i.id, i.status FROM alert_incidents a JOIN incidents i ON i.id = a.incident_id
		WHERE a.rule_id = $1 AND a.org_id = $2`, ruleID, orgID).Scan(&id, &status)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("alert incident: %w", err)
	}
	switch focal.Status(status) {
	case focal.StatusResolved, focal.StatusClosed, focal.StatusRejected, focal.StatusMerged:
		return 0, nil // a new wave opens a new incident
	}
	return id, nil
}

// LinkAlertEvents links the rule's events for org (within its window) to
// incident, at most MaxLinkedPerCheck not yet linked, remembers the
// incident as the rule's for org, and returns how many were linked.
func (s *Store) LinkAlertEvents(ctx context.Context, r *focal.AlertRule, orgID, incidentID int64, now time.Time) (int64, error) {
	var n int64
	err := s.WithTx(ctx, func(tx *Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO alert_incidents (rule_id, org_id, incident_id) VALUES ($1, $2, $3)
			ON CONFLICT (rule_id, org_id) DO UPDATE SET incident_id = excluded.incident_id`, r.ID, orgID, incidentID); err != nil {
			return fmt.Errorf("link alert events: %w", err)
		}
		rr := *r
		rr.OrgID = orgID
		where, args := alertWhere(&rr, now.Add(-r.Window).UnixMilli())
		args = append(args, incidentID)
		inc := len(args)
		res, err := tx.ExecContext(ctx, fmt.Sprintf(`INSERT INTO incident_events (incident_id, event_id)
			SELECT $%d, e.id FROM events e JOIN event_orgs eo ON eo.event_id = e.id JOIN feeds f ON f.id = e.feed_id
			WHERE %s AND NOT EXISTS (SELECT 1 FROM incident_events x WHERE x.incident_id = $%d AND x.event_id = e.id)
			ORDER BY e.last_seen DESC LIMIT %d`, inc, where, inc, MaxLinkedPerCheck), args...)
		if err != nil {
			return fmt.Errorf("link alert events: %w", err)
		}
		n, _ = res.RowsAffected()
		return nil
	})
	return n, err
}
