package store

import (
	"context"
	"fmt"
	"strconv"
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
