package store

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"

	"focal/internal/focal"
)

// QuarantineItem is intake that could not be processed, kept for review.
type QuarantineItem struct {
	ID       int64
	At       time.Time
	Source   string
	Sender   string
	Reason   string
	Size     int64
	SHA256   string
	Path     string // relative to the data directory
	Resolved bool
}

// Quarantine records an item whose raw bytes the caller has already saved.
func (s *Store) Quarantine(ctx context.Context, q *QuarantineItem) error {
	if q.At.IsZero() {
		q.At = time.Now().UTC()
	}
	return s.WithTx(ctx, func(tx *Tx) error {
		err := tx.QueryRowContext(ctx, `INSERT INTO quarantine (at, source, sender, reason, size, sha256, path) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
			q.At.UnixMilli(), q.Source, q.Sender, q.Reason, q.Size, q.SHA256, q.Path).Scan(&q.ID)
		if err != nil {
			return fmt.Errorf("quarantine: %w", err)
		}
		return tx.audit(ctx, "quarantine", "quarantine", strconv.FormatInt(q.ID, 10), nil, map[string]any{"source": q.Source, "reason": q.Reason, "size": q.Size})
	})
}

// QuarantineItems lists quarantined intake, newest first. Handlers and
// coordinators may read it.
func (s *Store) QuarantineItems(ctx context.Context, limit int) ([]QuarantineItem, error) {
	if err := authorize(ctx, focal.ActionUpdate, focal.Resource{Kind: focal.KindIncident}); err != nil {
		return nil, err
	}
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	var out []QuarantineItem
	err := eachRow(ctx, s.rdb, fmt.Sprintf("SELECT id, at, source, sender, reason, size, sha256, path, resolved FROM quarantine ORDER BY id DESC LIMIT %d", limit), nil, func(r *sql.Rows) error {
		var q QuarantineItem
		var at int64
		if err := r.Scan(&q.ID, &at, &q.Source, &q.Sender, &q.Reason, &q.Size, &q.SHA256, &q.Path, &q.Resolved); err != nil {
			return err
		}
		q.At = fromMS(at)
		out = append(out, q)
		return nil
	})
	return out, err
}

// IncidentIDByRef returns the id of the incident with reference ref
// (e.g. FOC-2026-000042), without a visibility check: intake uses it to
// thread replies.
func (s *Store) IncidentIDByRef(ctx context.Context, ref string) (int64, error) {
	var id int64
	err := s.rdb.QueryRowContext(ctx, "SELECT id FROM incidents WHERE ref = $1", strings.ToUpper(ref)).Scan(&id)
	if err != nil {
		return 0, notFound(err, "incident "+ref)
	}
	return id, nil
}

// Attachment is a file attached to an incident; its bytes live in the data
// directory under attachments/, named by their SHA-256.
type Attachment struct {
	ID          int64
	IncidentID  int64
	Name        string
	ContentType string
	Size        int64
	SHA256      string
	TLP         focal.TLP
	CreatedAt   time.Time
}

// AddAttachment records an attachment whose bytes the caller has stored.
func (s *Store) AddAttachment(ctx context.Context, a *Attachment) error {
	return s.WithTx(ctx, func(tx *Tx) error {
		i, err := tx.store.loadIncident(ctx, tx, a.IncidentID)
		if err != nil {
			return err
		}
		if err := authorize(ctx, focal.ActionUpdate, incidentResource(i)); err != nil {
			return err
		}
		if a.TLP == "" {
			a.TLP = i.TLP
		}
		now := time.Now().UTC().Truncate(time.Millisecond)
		a.CreatedAt = now
		err = tx.QueryRowContext(ctx, `INSERT INTO incident_attachments (incident_id, name, content_type, size, sha256, tlp, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
			a.IncidentID, a.Name, a.ContentType, a.Size, a.SHA256, string(a.TLP), now.UnixMilli()).Scan(&a.ID)
		if err != nil {
			return fmt.Errorf("attachment: %w", err)
		}
		return tx.journal(ctx, a.IncidentID, "system", a.TLP, fmt.Sprintf("attachment %q (%s, %d bytes, sha256 %s)", a.Name, a.ContentType, a.Size, a.SHA256), "", now)
	})
}

// Attachments lists an incident's attachments.
func (s *Store) Attachments(ctx context.Context, incidentID int64) ([]Attachment, error) {
	if _, err := s.visibleIncident(ctx, incidentID); err != nil {
		return nil, err
	}
	var out []Attachment
	err := eachRow(ctx, s.rdb, "SELECT id, name, content_type, size, sha256, tlp, created_at FROM incident_attachments WHERE incident_id = $1 ORDER BY id", []any{incidentID}, func(r *sql.Rows) error {
		a := Attachment{IncidentID: incidentID}
		var tlp string
		var at int64
		if err := r.Scan(&a.ID, &a.Name, &a.ContentType, &a.Size, &a.SHA256, &tlp, &at); err != nil {
			return err
		}
		a.TLP, a.CreatedAt = focal.TLP(tlp), fromMS(at)
		out = append(out, a)
		return nil
	})
	return out, err
}

// Attachment returns one attachment's record, if the principal may read
// its incident.
func (s *Store) Attachment(ctx context.Context, incidentID, id int64) (*Attachment, error) {
	if _, err := s.visibleIncident(ctx, incidentID); err != nil {
		return nil, err
	}
	a := &Attachment{IncidentID: incidentID}
	var tlp string
	var at int64
	err := s.rdb.QueryRowContext(ctx, "SELECT id, name, content_type, size, sha256, tlp, created_at FROM incident_attachments WHERE incident_id = $1 AND id = $2",
		incidentID, id).Scan(&a.ID, &a.Name, &a.ContentType, &a.Size, &a.SHA256, &tlp, &at)
	if err != nil {
		return nil, notFound(err, "attachment "+strconv.FormatInt(id, 10))
	}
	a.TLP, a.CreatedAt = focal.TLP(tlp), fromMS(at)
	return a, nil
}

// AddObservables attaches observables to an incident (existing ones are
// kept as they are) and journals how many were new and where they came from.
func (s *Store) AddObservables(ctx context.Context, incidentID int64, obs []focal.Observable, from string) (int, error) {
	added := 0
	err := s.WithTx(ctx, func(tx *Tx) error {
		i, err := tx.store.loadIncident(ctx, tx, incidentID)
		if err != nil {
			return err
		}
		if err := authorize(ctx, focal.ActionUpdate, incidentResource(i)); err != nil {
			return err
		}
		now := time.Now().UTC().Truncate(time.Millisecond)
		for _, o := range obs {
			if o.TLP == "" {
				o.TLP = i.TLP
			}
			if o.Source == "" {
				o.Source = "extracted"
			}
			res, err := tx.ExecContext(ctx, `INSERT INTO incident_observables (incident_id, kind, value, tlp, source, created_at) VALUES ($1, $2, $3, $4, $5, $6)
				ON CONFLICT (incident_id, kind, value) DO NOTHING`, incidentID, o.Kind, o.Value, string(o.TLP), o.Source, now.UnixMilli())
			if err != nil {
				return fmt.Errorf("observable %s %s: %w", o.Kind, o.Value, err)
			}
			if n, err := res.RowsAffected(); err == nil && n > 0 {
				added++
			}
		}
		if added == 0 {
			return nil
		}
		return tx.journal(ctx, incidentID, "system", i.TLP, fmt.Sprintf("%d observable(s) extracted from %s", added, from), "", now)
	})
	return added, err
}
