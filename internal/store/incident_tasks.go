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

// Task is a piece of work on an incident, with an owner and a due date.
type Task struct {
	ID         int64
	IncidentID int64
	Title      string
	OwnerID    int64
	Due        time.Time // zero: no due date
	Done       time.Time // zero: open
	CreatedAt  time.Time
}

// AddTask adds a task to an incident.
func (s *Store) AddTask(ctx context.Context, t *Task) error {
	t.Title = strings.Join(strings.Fields(t.Title), " ")
	if t.Title == "" || len(t.Title) > 300 {
		return focal.FieldErrorf("title", "required, at most 300 characters")
	}
	return s.WithTx(ctx, func(tx *Tx) error {
		i, err := tx.store.loadIncident(ctx, tx, t.IncidentID)
		if err != nil {
			return err
		}
		if err := authorize(ctx, focal.ActionUpdate, incidentResource(i)); err != nil {
			return err
		}
		now := time.Now().UTC().Truncate(time.Millisecond)
		t.CreatedAt = now
		err = tx.QueryRowContext(ctx, "INSERT INTO incident_tasks (incident_id, title, owner_id, due_at, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
			t.IncidentID, t.Title, nullID(t.OwnerID), ms(t.Due), now.UnixMilli()).Scan(&t.ID)
		if err != nil {
			if isForeignKeyViolation(err) {
				return focal.FieldErrorf("owner_id", "user %d does not exist", t.OwnerID)
			}
			return fmt.Errorf("add task: %w", err)
		}
		body := "task added: " + t.Title
		if !t.Due.IsZero() {
			body += " (due " + t.Due.Format(time.RFC3339) + ")"
		}
		return tx.journal(ctx, t.IncidentID, "system", i.TLP, body, "", now)
	})
}

// CompleteTask marks a task done (or open again with done=false).
func (s *Store) CompleteTask(ctx context.Context, incidentID, taskID int64, done bool) error {
	return s.WithTx(ctx, func(tx *Tx) error {
		i, err := tx.store.loadIncident(ctx, tx, incidentID)
		if err != nil {
			return err
		}
		if err := authorize(ctx, focal.ActionUpdate, incidentResource(i)); err != nil {
			return err
		}
		now := time.Now().UTC().Truncate(time.Millisecond)
		var at int64
		if done {
			at = now.UnixMilli()
		}
		var title string
		err = tx.QueryRowContext(ctx, "UPDATE incident_tasks SET done_at = $1 WHERE id = $2 AND incident_id = $3 RETURNING title", at, taskID, incidentID).Scan(&title)
		if err != nil {
			return notFound(err, "task "+strconv.FormatInt(taskID, 10))
		}
		state := "reopened"
		if done {
			state = "done"
		}
		return tx.journal(ctx, incidentID, "system", i.TLP, "task "+state+": "+title, "", now)
	})
}

// Tasks lists an incident's tasks, open first, by due date.
func (s *Store) Tasks(ctx context.Context, incidentID int64) ([]Task, error) {
	if _, err := s.visibleIncident(ctx, incidentID); err != nil {
		return nil, err
	}
	var out []Task
	err := eachRow(ctx, s.rdb, `SELECT id, title, COALESCE(owner_id, 0), due_at, done_at, created_at FROM incident_tasks WHERE incident_id = $1
		ORDER BY CASE WHEN done_at = 0 THEN 0 ELSE 1 END, CASE WHEN due_at = 0 THEN 1 ELSE 0 END, due_at, id`, []any{incidentID}, func(r *sql.Rows) error {
		t := Task{IncidentID: incidentID}
		var due, done, created int64
		if err := r.Scan(&t.ID, &t.Title, &t.OwnerID, &due, &done, &created); err != nil {
			return err
		}
		t.Due, t.Done, t.CreatedAt = fromMS(due), fromMS(done), fromMS(created)
		out = append(out, t)
		return nil
	})
	return out, err
}

// MergeIncident merges duplicate into survivor: the duplicate ends as
// merged and points to the survivor, its observables are copied over, and
// both journals say so. Both must be visible and writable to the caller.
func (s *Store) MergeIncident(ctx context.Context, duplicate, survivor int64, note string) error {
	if duplicate == survivor {
		return focal.FieldErrorf("into", "an incident cannot be merged into itself")
	}
	return s.WithTx(ctx, func(tx *Tx) error {
		dup, err := tx.store.loadIncident(ctx, tx, duplicate)
		if err != nil {
			return err
		}
		surv, err := tx.store.loadIncident(ctx, tx, survivor)
		if err != nil {
			return focal.FieldErrorf("into", "incident %d not found", survivor)
		}
		for _, i := range []*focal.Incident{dup, surv} {
			if err := authorize(ctx, focal.ActionUpdate, incidentResource(i)); err != nil {
				return err
			}
		}
		if surv.Status == focal.StatusMerged {
			return focal.FieldErrorf("into", "%s is itself merged into another incident; merge into that one", surv.Ref)
		}
		now := time.Now().UTC().Truncate(time.Millisecond)
		before := *dup
		if err := dup.Transition(focal.StatusMerged, "", now); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "UPDATE incidents SET status = $1, merged_into = $2, waiting_on = '', acknowledged_at = $3, closed_at = $4, updated_at = $5 WHERE id = $6",
			string(dup.Status), survivor, ms(dup.Milestones.Acknowledged), ms(dup.Milestones.Closed), now.UnixMilli(), duplicate); err != nil {
			return fmt.Errorf("merge: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO incident_observables (incident_id, kind, value, tlp, source, created_at)
			SELECT $1, kind, value, tlp, source, created_at FROM incident_observables WHERE incident_id = $2
			ON CONFLICT (incident_id, kind, value) DO NOTHING`, survivor, duplicate); err != nil {
			return fmt.Errorf("merge observables: %w", err)
		}
		msg := "merged into " + surv.Ref
		if note != "" {
			msg += ": " + note
		}
		if err := tx.journal(ctx, duplicate, "merge", dup.TLP, msg, "", now); err != nil {
			return err
		}
		if err := tx.journal(ctx, survivor, "merge", surv.TLP, dup.Ref+" merged into this incident: "+dup.Title, "", now); err != nil {
			return err
		}
		return tx.audit(ctx, "merge", "incident", strconv.FormatInt(duplicate, 10), incidentAudit(&before), map[string]any{"merged_into": survivor})
	})
}
