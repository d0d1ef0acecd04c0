package store

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"focal/internal/focal"
)

// ImportIncident stores an incident with its history as given — status,
// milestones, waiting time, journal — rather than starting it as new: it
// is how incidents move in from another tool (and how the demo gets a
// month of history). The incident is validated; milestones must not lie in
// the future or precede the report. Coordinators only; audited as an
// import.
func (s *Store) ImportIncident(ctx context.Context, i *focal.Incident, obs []focal.Observable, journal []focal.JournalEntry) error {
	if err := authorize(ctx, focal.ActionCreate, focal.Resource{Kind: focal.KindUser}); err != nil {
		return err // KindUser create: a coordinator's right
	}
	i.Normalize()
	if err := i.Validate(); err != nil {
		return err
	}
	now := time.Now().UTC()
	m := i.Milestones
	if m.Reported.IsZero() || m.Reported.After(now) {
		return focal.FieldErrorf("milestones.reported", "required and not in the future")
	}
	for name, t := range map[string]time.Time{"acknowledged": m.Acknowledged, "triaged": m.Triaged, "first_response": m.FirstResponse,
		"contained": m.Contained, "resolved": m.Resolved, "closed": m.Closed} {
		if !t.IsZero() && (t.Before(m.Reported) || t.After(now)) {
			return focal.FieldErrorf("milestones."+name, "must lie between the report and now")
		}
	}
	return s.WithTx(ctx, func(tx *Tx) error {
		if i.OrgID != 0 {
			o, err := tx.organisation(ctx, i.OrgID)
			if err != nil {
				return focal.FieldErrorf("org", "organisation %d does not exist", i.OrgID)
			}
			if i.Sector == "" {
				i.Sector, i.CriticalInfra = o.Sector, o.CriticalInfra
			}
		}
		ref, err := tx.nextRef(ctx, m.Reported)
		if err != nil {
			return err
		}
		i.Ref, i.CreatedAt, i.UpdatedAt = ref, m.Reported, now
		err = tx.QueryRowContext(ctx, `INSERT INTO incidents (ref, title, description, severity, tlp, pap, status, waiting_on, assignee_id, org_id,
			sector, critical_infra, channel, reporter_name, reporter_email, reporter_phone, reporter_org, restricted, primary_class,
			reported_at, acknowledged_at, triaged_at, first_response_at, contained_at, resolved_at, closed_at, waiting_since, waiting_ms,
			created_at, updated_at, search)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28, $29, $30, $31) RETURNING id`,
			i.Ref, i.Title, i.Description, string(i.Severity), string(i.TLP), string(i.PAP), string(i.Status), i.WaitingOn, nullID(i.AssigneeID), nullID(i.OrgID),
			i.Sector, i.CriticalInfra, i.Channel, i.Reporter.Name, i.Reporter.Email, i.Reporter.Phone, i.Reporter.Organisation, i.Restricted(), primaryClass(i),
			ms(m.Reported), ms(m.Acknowledged), ms(m.Triaged), ms(m.FirstResponse), ms(m.Contained), ms(m.Resolved), ms(m.Closed),
			ms(i.WaitingSince), i.WaitingTotal.Milliseconds(), ms(i.CreatedAt), ms(now), searchText(i)).Scan(&i.ID)
		if err != nil {
			return fmt.Errorf("import incident: %w", err)
		}
		if err := tx.writeClassifications(ctx, i); err != nil {
			return err
		}
		for _, o := range obs {
			if err := tx.addObservable(ctx, i.ID, o, m.Reported); err != nil {
				return err
			}
		}
		for _, e := range journal {
			if e.Kind == "" || e.At.IsZero() {
				return focal.FieldErrorf("journal", "every entry needs a kind and a time")
			}
			if e.TLP == "" {
				e.TLP = i.TLP
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO incident_journal (incident_id, at, author_id, author, kind, tlp, body, meta) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
				i.ID, e.At.UnixMilli(), e.AuthorID, e.Author, e.Kind, string(e.TLP), e.Body, e.Meta)
			if err != nil {
				return fmt.Errorf("import journal: %w", err)
			}
		}
		return tx.audit(ctx, "import", "incident", strconv.FormatInt(i.ID, 10), nil, map[string]any{"ref": i.Ref, "status": i.Status, "journal": len(journal)})
	})
}
