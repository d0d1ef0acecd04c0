package store

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"net/netip"
	"time"

	"focal/internal/assess"
	"focal/internal/focal"
)

// MeasureMetric computes one of the metrics focal measures itself
// (assess.Metrics) over window w: the value, the window and the
// definition, ready to be stored with an answer. It reads incidents,
// the registry and events as the system (the numbers are aggregates;
// no object is disclosed), so assessors, who may not read incidents,
// can measure them. class is the RSIT class of events-per-10k. cal is
// the team's working hours for business-hours SLA targets. Assessors and
// coordinators may.
func (s *Store) MeasureMetric(ctx context.Context, metric, class string, w assess.Window, cal focal.Calendar) (*assess.Measurement, error) {
	if err := authorizeAssess(ctx, focal.ActionUpdate); err != nil {
		return nil, err
	}
	m, ok := assess.MetricByID(metric)
	if !ok {
		return nil, focal.FieldErrorf("metric", "unknown metric %q", metric)
	}
	if !w.To.After(w.From) {
		return nil, focal.FieldErrorf("window", "the window must end after it starts")
	}
	out := &assess.Measurement{Metric: metric, From: w.From, To: w.To, Definition: m.Definition}
	var err error
	switch metric {
	case assess.MetricIncidentsWithinSLA:
		err = s.measureSLA(ctx, w, cal, out)
	case assess.MetricContactCoverage:
		err = s.measureContacts(ctx, out)
	case assess.MetricEventsPer10k:
		if class == "" {
			return nil, focal.FieldErrorf("class", "events-per-10k needs an RSIT class")
		}
		out.Definition += "; class " + class
		err = s.measureEvents(ctx, w, class, out)
	}
	if err != nil {
		return nil, fmt.Errorf("measure %s: %w", metric, err)
	}
	out.Value = math.Round(out.Value*100) / 100
	return out, nil
}

func (s *Store) measureSLA(ctx context.Context, w assess.Window, cal focal.Calendar, out *assess.Measurement) error {
	targets, err := s.SLATargets(ctx)
	if err != nil {
		return err
	}
	var met, all int
	err = eachRow(ctx, s.rdb, "SELECT "+incidentColumns+" FROM incidents i WHERE i.resolved_at >= $1 AND i.resolved_at < $2 AND i.merged_into IS NULL",
		[]any{w.From.UnixMilli(), w.To.UnixMilli()}, func(r *sql.Rows) error {
			i, err := scanIncident(r)
			if err != nil {
				return err
			}
			t := focal.PickSLATarget(targets, i.OrgID, i.Severity)
			for _, c := range focal.SLAClocks(i, t, cal, w.To) {
				if c.Name == "resolve" {
					all++
					if c.Met || c.Target == 0 {
						met++
					}
				}
			}
			return nil
		})
	if err != nil {
		return err
	}
	if all > 0 {
		out.Value = float64(met) / float64(all) * 100
	}
	out.Detail = fmt.Sprintf("%d of %d incidents resolved within target", met, all)
	return nil
}

func (s *Store) measureContacts(ctx context.Context, out *assess.Measurement) error {
	var with, all int
	if err := s.rdb.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(SUM(CASE WHEN EXISTS (SELECT 1 FROM org_contacts c WHERE c.org_id = o.id AND c.email <> '') THEN 1 ELSE 0 END), 0)
		FROM organisations o`).Scan(&all, &with); err != nil {
		return err
	}
	if all > 0 {
		out.Value = float64(with) / float64(all) * 100
	}
	out.Detail = fmt.Sprintf("%d of %d organisations have a notification contact", with, all)
	return nil
}

func (s *Store) measureEvents(ctx context.Context, w assess.Window, class string, out *assess.Measurement) error {
	var addrs float64
	err := eachRow(ctx, s.rdb, "SELECT cidr FROM org_networks", nil, func(r *sql.Rows) error {
		var c string
		if err := r.Scan(&c); err != nil {
			return err
		}
		p, err := netip.ParsePrefix(c)
		if err != nil || !p.Addr().Is4() {
			return nil // IPv6 space would swamp the denominator
		}
		addrs += math.Exp2(float64(32 - p.Bits()))
		return nil
	})
	if err != nil {
		return err
	}
	var n int64
	if err := s.rdb.QueryRowContext(ctx, `SELECT COUNT(*) FROM events e WHERE e.class = $1 AND e.first_seen >= $2 AND e.first_seen < $3
		AND EXISTS (SELECT 1 FROM event_orgs o WHERE o.event_id = e.id)`, class, w.From.UnixMilli(), w.To.UnixMilli()).Scan(&n); err != nil {
		return err
	}
	if addrs > 0 {
		out.Value = float64(n) / addrs * 10000
	}
	out.Detail = fmt.Sprintf("%d events over %.0f addresses", n, addrs)
	return nil
}

// EvidenceLinks returns up to limit evidence URLs last checked before
// before (never checked first). It is a system function for the link
// checker: no principal is needed.
func (s *Store) EvidenceLinks(ctx context.Context, before time.Time, limit int) ([]assess.EvidenceLink, error) {
	if limit <= 0 {
		limit = 100
	}
	var out []assess.EvidenceLink
	err := eachRow(ctx, s.rdb, `SELECT assessment_id, item, evidence_url, link_broken FROM assess_answers
		WHERE evidence_url <> '' AND link_checked_at < $1 ORDER BY link_checked_at, assessment_id, item LIMIT $2`,
		[]any{before.UnixMilli(), limit}, func(r *sql.Rows) error {
			var l assess.EvidenceLink
			if err := r.Scan(&l.AssessmentID, &l.Item, &l.URL, &l.Broken); err != nil {
				return err
			}
			out = append(out, l)
			return nil
		})
	return out, err
}

// FlagEvidenceLink records the result of checking an answer's evidence
// URL: broken or not, with the status seen. It never deletes the answer
// or its evidence, and only touches the row while the URL is unchanged.
// A change of the flag is audited.
func (s *Store) FlagEvidenceLink(ctx context.Context, l assess.EvidenceLink, broken bool, status string, at time.Time) error {
	return s.WithTx(ctx, func(tx *Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE assess_answers SET link_broken = $1, link_status = $2, link_checked_at = $3
			WHERE assessment_id = $4 AND item = $5 AND evidence_url = $6`, broken, status, at.UnixMilli(), l.AssessmentID, l.Item, l.URL)
		if err != nil {
			return fmt.Errorf("flag evidence link: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 || broken == l.Broken {
			return nil
		}
		return tx.audit(ctx, "assessment.evidence_link", "assessment", fmt.Sprint(l.AssessmentID),
			map[string]any{"item": l.Item, "broken": l.Broken}, map[string]any{"item": l.Item, "broken": broken, "status": status})
	})
}
