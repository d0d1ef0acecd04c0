package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"focal/internal/focal"
)

// EachIncident calls fn for every incident reported in [since, until) that
// the principal may see, oldest first, with its classifications. It streams:
// one incident is in memory at a time.
func (s *Store) EachIncident(ctx context.Context, since, until time.Time, fn func(*focal.Incident) error) error {
	p := focal.PrincipalFromContext(ctx)
	if err := authorize(ctx, focal.ActionRead, focal.Resource{Kind: focal.KindIncident}); err != nil {
		return err
	}
	q := "SELECT " + incidentColumns + ", COALESCE(c.class, ''), COALESCE(c.type, ''), COALESCE(c.weight, 0) FROM incidents i LEFT JOIN incident_classes c ON c.incident_id = i.id WHERE i.reported_at >= $1 AND i.reported_at < $2"
	args := []any{since.UnixMilli(), until.UnixMilli()}
	if orgID, all := focal.OrgScope(p); !all {
		args = append(args, orgID, string(focal.TLPRed))
		q += fmt.Sprintf(" AND i.org_id = $%d AND i.tlp <> $%d", len(args)-1, len(args))
	}
	if !p.RestrictedAccess {
		args = append(args, false)
		q += fmt.Sprintf(" AND i.restricted = $%d", len(args))
	}
	q += " ORDER BY i.id, c.position"
	var cur *focal.Incident
	err := eachRow(ctx, s.rdb, q, args, func(r *sql.Rows) error {
		var c focal.Classification
		i, err := scanIncidentWith(r, &c.Class, &c.Type, &c.Weight)
		if err != nil {
			return err
		}
		if cur != nil && cur.ID != i.ID {
			if err := fn(cur); err != nil {
				return err
			}
			cur = nil
		}
		if cur == nil {
			cur = i
		}
		if c.Class != "" {
			cur.Classifications = append(cur.Classifications, c)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if cur != nil {
		return fn(cur)
	}
	return nil
}

// scanIncidentWith scans incidentColumns followed by extra destinations.
func scanIncidentWith(r *sql.Rows, extra ...any) (*focal.Incident, error) {
	return scanIncident(rowScanner(func(dest ...any) error { return r.Scan(append(dest, extra...)...) }))
}

type rowScanner func(dest ...any) error

func (f rowScanner) Scan(dest ...any) error { return f(dest...) }

// SLATargets returns the configured SLA targets (empty: built-in defaults apply).
func (s *Store) SLATargets(ctx context.Context) ([]focal.SLATarget, error) {
	var out []focal.SLATarget
	err := eachRow(ctx, s.rdb, "SELECT COALESCE(org_id, 0), severity, acknowledge_min, triage_min, resolve_min, business_hours FROM sla_targets ORDER BY id", nil, func(r *sql.Rows) error {
		var t focal.SLATarget
		var sev string
		var ack, tri, res int64
		if err := r.Scan(&t.OrgID, &sev, &ack, &tri, &res, &t.BusinessHours); err != nil {
			return err
		}
		t.Severity = focal.Severity(sev)
		t.Acknowledge, t.Triage, t.Resolve = time.Duration(ack)*time.Minute, time.Duration(tri)*time.Minute, time.Duration(res)*time.Minute
		out = append(out, t)
		return nil
	})
	return out, err
}

// SetSLATargets replaces all configured SLA targets (coordinators only;
// audited). An empty list returns to the built-in defaults.
func (s *Store) SetSLATargets(ctx context.Context, targets []focal.SLATarget) error {
	if err := authorize(ctx, focal.ActionUpdate, focal.Resource{Kind: focal.KindUser}); err != nil {
		return err // KindUser update: a coordinator's right
	}
	seen := map[[2]string]bool{}
	for n, t := range targets {
		f := fmt.Sprintf("targets[%d]", n)
		if _, err := focal.ParseSeverity(string(t.Severity)); err != nil {
			return focal.FieldErrorf(f+".severity", "unknown severity %q", t.Severity)
		}
		if t.Acknowledge < 0 || t.Triage < 0 || t.Resolve < 0 {
			return focal.FieldErrorf(f, "durations must not be negative")
		}
		key := [2]string{fmt.Sprint(t.OrgID), string(t.Severity)}
		if seen[key] {
			return focal.FieldErrorf(f, "a second target for organisation %d, severity %s", t.OrgID, t.Severity)
		}
		seen[key] = true
	}
	return s.WithTx(ctx, func(tx *Tx) error {
		before, err := tx.store.SLATargets(ctx)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM sla_targets"); err != nil {
			return fmt.Errorf("sla targets: %w", err)
		}
		for n, t := range targets {
			if t.OrgID != 0 {
				if _, err := tx.organisation(ctx, t.OrgID); err != nil {
					return focal.FieldErrorf(fmt.Sprintf("targets[%d].org_id", n), "organisation %d does not exist", t.OrgID)
				}
			}
			if _, err := tx.ExecContext(ctx, "INSERT INTO sla_targets (org_id, severity, acknowledge_min, triage_min, resolve_min, business_hours) VALUES ($1, $2, $3, $4, $5, $6)",
				nullID(t.OrgID), string(t.Severity), int64(t.Acknowledge/time.Minute), int64(t.Triage/time.Minute), int64(t.Resolve/time.Minute), t.BusinessHours); err != nil {
				return fmt.Errorf("sla targets: %w", err)
			}
		}
		return tx.audit(ctx, "update", "sla_targets", "all", before, targets)
	})
}
