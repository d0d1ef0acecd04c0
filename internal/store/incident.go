package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"focal/internal/focal"
)

// incidentResource is what the policy sees of an incident.
func incidentResource(i *focal.Incident) focal.Resource {
	return focal.Resource{Kind: focal.KindIncident, Object: true, OrgID: i.OrgID, TLP: i.TLP, Restricted: i.Restricted()}
}

func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func fromMS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v).UTC()
}

// nextRef issues the next human reference for the year of now, e.g.
// FOC-2026-000042, inside tx (references are never reused).
func (tx *Tx) nextRef(ctx context.Context, now time.Time) (string, error) {
	year := now.Year()
	var last int64
	err := tx.QueryRowContext(ctx, `INSERT INTO incident_refs (year, last) VALUES ($1, 1)
		ON CONFLICT (year) DO UPDATE SET last = incident_refs.last + 1 RETURNING last`, year).Scan(&last)
	if err != nil {
		return "", fmt.Errorf("incident reference: %w", err)
	}
	return fmt.Sprintf("FOC-%d-%06d", year, last), nil
}

// CreateIncident validates and stores a new incident with its observables,
// opens its journal, and sets ID, Ref and the times. The reported milestone
// defaults to now.
func (s *Store) CreateIncident(ctx context.Context, i *focal.Incident, obs []focal.Observable) error {
	i.Normalize()
	p := focal.PrincipalFromContext(ctx)
	if p.Role == focal.RoleConstituent {
		i.OrgID = p.OrgID // a constituent reports for its own organisation
	}
	kind := focal.KindIncident
	if p.IsAnonymous() {
		kind = focal.KindReport
	}
	r := incidentResource(i)
	r.Kind = kind
	// Whoever may report may create it, restricted or not, for an
	// organisation or none: the checks on restricted categories and on
	// the organisation apply to reading it back.
	r.Restricted, r.Object = false, false
	if err := focal.Authorize(p, focal.ActionCreate, r); err != nil {
		return err
	}
	if err := i.Validate(); err != nil {
		return err
	}
	return s.WithTx(ctx, func(tx *Tx) error {
		now := time.Now().UTC().Truncate(time.Millisecond)
		if i.Milestones.Reported.IsZero() {
			i.Milestones.Reported = now
		}
		if i.OrgID != 0 {
			o, err := tx.organisation(ctx, i.OrgID)
			if err != nil {
				return focal.FieldErrorf("org", "organisation %d does not exist", i.OrgID)
			}
			if i.Sector == "" {
				i.Sector, i.CriticalInfra = o.Sector, o.CriticalInfra
			}
		}
		ref, err := tx.nextRef(ctx, now)
		if err != nil {
			return err
		}
		i.Ref, i.CreatedAt, i.UpdatedAt = ref, now, now
		err = tx.QueryRowContext(ctx, `INSERT INTO incidents (ref, title, description, severity, tlp, pap, status, waiting_on, assignee_id, org_id,
			sector, critical_infra, channel, reporter_name, reporter_email, reporter_phone, reporter_org, restricted, primary_class,
			reported_at, created_at, updated_at, search)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $21, $22) RETURNING id`,
			i.Ref, i.Title, i.Description, string(i.Severity), string(i.TLP), string(i.PAP), string(i.Status), i.WaitingOn, nullID(i.AssigneeID), nullID(i.OrgID),
			i.Sector, i.CriticalInfra, i.Channel, i.Reporter.Name, i.Reporter.Email, i.Reporter.Phone, i.Reporter.Organisation, i.Restricted(), primaryClass(i),
			ms(i.Milestones.Reported), ms(now), searchText(i)).Scan(&i.ID)
		if err != nil {
			return fmt.Errorf("create incident: %w", err)
		}
		if err := tx.writeClassifications(ctx, i); err != nil {
			return err
		}
		for _, o := range obs {
			if err := tx.addObservable(ctx, i.ID, o, now); err != nil {
				return err
			}
		}
		meta, err := json.Marshal(map[string]any{"channel": i.Channel, "observables": len(obs)})
		if err != nil {
			return err
		}
		if err := tx.journal(ctx, i.ID, "system", i.TLP, "incident reported", string(meta), now); err != nil {
			return err
		}
		return tx.audit(ctx, "create", "incident", strconv.FormatInt(i.ID, 10), nil, map[string]any{"ref": i.Ref, "title": i.Title, "tlp": i.TLP, "org_id": i.OrgID})
	})
}

func primaryClass(i *focal.Incident) string {
	if len(i.Classifications) == 0 {
		return ""
	}
	return i.Classifications[0].Class
}

func searchText(i *focal.Incident) string {
	return strings.ToLower(i.Ref + "\n" + i.Title + "\n" + i.Description)
}

func (tx *Tx) writeClassifications(ctx context.Context, i *focal.Incident) error {
	if _, err := tx.ExecContext(ctx, "DELETE FROM incident_classes WHERE incident_id = $1", i.ID); err != nil {
		return fmt.Errorf("classifications: %w", err)
	}
	for n, c := range i.Classifications {
		if _, err := tx.ExecContext(ctx, "INSERT INTO incident_classes (incident_id, position, class, type, weight) VALUES ($1, $2, $3, $4, $5)",
			i.ID, n, c.Class, c.Type, c.Weight); err != nil {
			return fmt.Errorf("classifications: %w", err)
		}
	}
	return nil
}

func (tx *Tx) addObservable(ctx context.Context, incidentID int64, o focal.Observable, now time.Time) error {
	if o.TLP == "" {
		o.TLP = focal.TLPAmber
	}
	if o.Source == "" {
		o.Source = "manual"
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO incident_observables (incident_id, kind, value, tlp, source, created_at) VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (incident_id, kind, value) DO NOTHING`, incidentID, o.Kind, o.Value, string(o.TLP), o.Source, now.UnixMilli())
	if err != nil {
		return fmt.Errorf("observable %s %s: %w", o.Kind, o.Value, err)
	}
	return nil
}

// journal appends one immutable entry; the author is the principal in ctx.
func (tx *Tx) journal(ctx context.Context, incidentID int64, kind string, tlp focal.TLP, body, meta string, now time.Time) error {
	p := focal.PrincipalFromContext(ctx)
	_, err := tx.ExecContext(ctx, `INSERT INTO incident_journal (incident_id, at, author_id, author, kind, tlp, body, meta) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		incidentID, now.UnixMilli(), p.UserID, p.Label(), kind, string(tlp), body, meta)
	if err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	return nil
}

const incidentColumns = `i.id, i.ref, i.title, i.description, i.severity, i.tlp, i.pap, i.status, i.waiting_on, COALESCE(i.assignee_id, 0), COALESCE(i.org_id, 0),
	i.sector, i.critical_infra, i.channel, i.reporter_name, i.reporter_email, i.reporter_phone, i.reporter_org, COALESCE(i.merged_into, 0),
	i.reported_at, i.acknowledged_at, i.triaged_at, i.first_response_at, i.contained_at, i.resolved_at, i.closed_at, i.waiting_since, i.waiting_ms,
	i.created_at, i.updated_at`

func scanIncident(row interface{ Scan(...any) error }) (*focal.Incident, error) {
	i := &focal.Incident{}
	var sev, tlp, pap, status string
	var rep, ack, tri, first, cont, res, clo, wsince, wms, created, updated int64
	err := row.Scan(&i.ID, &i.Ref, &i.Title, &i.Description, &sev, &tlp, &pap, &status, &i.WaitingOn, &i.AssigneeID, &i.OrgID,
		&i.Sector, &i.CriticalInfra, &i.Channel, &i.Reporter.Name, &i.Reporter.Email, &i.Reporter.Phone, &i.Reporter.Organisation, &i.MergedInto,
		&rep, &ack, &tri, &first, &cont, &res, &clo, &wsince, &wms, &created, &updated)
	if err != nil {
		return nil, err
	}
	i.Severity, i.TLP, i.PAP, i.Status = focal.Severity(sev), focal.TLP(tlp), focal.PAP(pap), focal.Status(status)
	i.Milestones = focal.Milestones{Reported: fromMS(rep), Acknowledged: fromMS(ack), Triaged: fromMS(tri), FirstResponse: fromMS(first),
		Contained: fromMS(cont), Resolved: fromMS(res), Closed: fromMS(clo)}
	i.WaitingSince, i.WaitingTotal = fromMS(wsince), time.Duration(wms)*time.Millisecond
	i.CreatedAt, i.UpdatedAt = fromMS(created), fromMS(updated)
	return i, nil
}

// loadIncident reads one incident with its classifications, unchecked.
func (s *Store) loadIncident(ctx context.Context, q querier, id int64) (*focal.Incident, error) {
	var found *focal.Incident
	err := eachRow(ctx, q, "SELECT "+incidentColumns+" FROM incidents i WHERE i.id = $1", []any{id}, func(r *sql.Rows) error {
		var err error
		found, err = scanIncident(r)
		return err
	})
	if err != nil {
		return nil, err
	}
	if found == nil {
		return nil, focal.Errorf(focal.ENOTFOUND, "incident %d not found", id)
	}
	err = eachRow(ctx, q, "SELECT class, type, weight FROM incident_classes WHERE incident_id = $1 ORDER BY position", []any{id}, func(r *sql.Rows) error {
		var c focal.Classification
		if err := r.Scan(&c.Class, &c.Type, &c.Weight); err != nil {
			return err
		}
		found.Classifications = append(found.Classifications, c)
		return nil
	})
	return found, err
}

// Incident returns one incident, if the principal may see it. Viewing an
// incident in a restricted category is recorded in its journal.
func (s *Store) Incident(ctx context.Context, id int64) (*focal.Incident, error) {
	if err := authorize(ctx, focal.ActionRead, focal.Resource{Kind: focal.KindIncident}); err != nil {
		return nil, err
	}
	i, err := s.loadIncident(ctx, s.rdb, id)
	if err != nil {
		return nil, err
	}
	if err := authorize(ctx, focal.ActionRead, incidentResource(i)); err != nil {
		return nil, err
	}
	// Access to restricted data is recorded: TLP:AMBER and above, and the
	// reporter's personal data, in the audit log; restricted categories
	// also in the incident's own journal.
	p := focal.PrincipalFromContext(ctx)
	personal := p.Role.Staff() && i.Reporter != (focal.Reporter{})
	if i.TLP.Rank() >= focal.TLPAmber.Rank() || personal || i.Restricted() {
		err := s.WithTx(ctx, func(tx *Tx) error {
			if i.Restricted() {
				if err := tx.journal(ctx, id, "view", i.TLP, "viewed (restricted category)", "", time.Now().UTC()); err != nil {
					return err
				}
			}
			return tx.audit(ctx, "view", "incident", strconv.FormatInt(id, 10), nil,
				map[string]any{"tlp": i.TLP, "personal_data": personal, "restricted": i.Restricted()})
		})
		if err != nil {
			return nil, err
		}
	}
	return i, nil
}

// IncidentFilter selects incidents. Zero fields do not filter.
type IncidentFilter struct {
	Status     []focal.Status
	Class      string
	TLP        focal.TLP
	OrgID      int64
	AssigneeID int64
	Query      string // words of reference, title or description (each a prefix; all must match)
	BeforeID   int64  // keyset paging: incidents older than this id
	Oldest     bool   // oldest first (the triage queue) instead of newest first
	AfterID    int64  // keyset paging with Oldest: incidents newer than this id
	Limit      int    // default 50, at most 500
}

// Incidents lists incidents matching f, newest first, scoped to what the
// principal may see: a constituent only its organisation's (never RED),
// and restricted categories only with the grant.
func (s *Store) Incidents(ctx context.Context, f IncidentFilter) ([]*focal.Incident, error) {
	p := focal.PrincipalFromContext(ctx)
	if err := authorize(ctx, focal.ActionRead, focal.Resource{Kind: focal.KindIncident}); err != nil {
		return nil, err
	}
	where, args := incidentConditions(p, f)
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	windowed := false
	if f.Query != "" {
		cond, arg, win, ok := s.textSearch(f.Query, len(args)+1)
		if !ok {
			return nil, nil // nothing searchable in the query: no match
		}
		args = append(args, arg)
		where = append(where, cond)
		windowed = win
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 50
	}
	limit = min(limit, 500)
	var out []*focal.Incident
	byID := map[int64]*focal.Incident{}
	scan := func(r *sql.Rows) error {
		i, err := scanIncident(r)
		if err != nil {
			return err
		}
		out = append(out, i)
		byID[i.ID] = i
		return nil
	}
	run := func(extra string, extraArgs []any, n int, order string) error {
		conds := where
		if extra != "" {
			conds = append(slices.Clone(where), extra)
		}
		q := "SELECT " + incidentColumns + " FROM incidents i"
		if len(conds) > 0 {
			q += " WHERE " + strings.Join(conds, " AND ")
		}
		q += fmt.Sprintf(" ORDER BY %s LIMIT %d", order, n)
		return eachRow(ctx, s.rdb, q, append(slices.Clone(args), extraArgs...), scan)
	}
	var err error
	switch {
	case f.Oldest:
		if f.AfterID > 0 {
			add("i.id > $%d", f.AfterID)
		}
		err = run("", nil, limit, "i.id ASC")
	case !windowed:
		if f.BeforeID > 0 {
			add("i.id < $%d", f.BeforeID)
		}
		err = run("", nil, limit, "i.id DESC")
	default:
		err = s.searchWindows(ctx, f.BeforeID, limit, len(args), &out, run)
	}
	if err != nil || len(out) == 0 {
		return out, err
	}
	ph := make([]string, len(out))
	ids := make([]any, len(out))
	for n, i := range out {
		ph[n], ids[n] = "$"+strconv.Itoa(n+1), i.ID
	}
	err = eachRow(ctx, s.rdb, "SELECT incident_id, class, type, weight FROM incident_classes WHERE incident_id IN ("+strings.Join(ph, ",")+") ORDER BY incident_id, position", ids, func(r *sql.Rows) error {
		var id int64
		var c focal.Classification
		if err := r.Scan(&id, &c.Class, &c.Type, &c.Weight); err != nil {
			return err
		}
		byID[id].Classifications = append(byID[id].Classifications, c)
		return nil
	})
	return out, err
}

// IncidentChange is an update to an incident's handling fields. Nil fields
// are left as they are.
type IncidentChange struct {
	Status          *focal.Status
	WaitingOn       string
	Classifications []focal.Classification // nil = unchanged
	Severity        *focal.Severity
	TLP             *focal.TLP
	PAP             *focal.PAP
	AssigneeID      *int64
	OrgID           *int64
	Note            string // journal note explaining the change, optional
}

// UpdateIncident applies ch to incident id: the lifecycle rules are the
// domain's (focal.Incident.Transition), milestones are set once, and every
// change is journalled and audited.
func (s *Store) UpdateIncident(ctx context.Context, id int64, ch IncidentChange) (*focal.Incident, error) {
	var out *focal.Incident
	err := s.WithTx(ctx, func(tx *Tx) error {
		i, err := tx.store.loadIncident(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := authorize(ctx, focal.ActionUpdate, incidentResource(i)); err != nil {
			return err
		}
		before := *i
		now := time.Now().UTC().Truncate(time.Millisecond)
		var changes []string
		if ch.Classifications != nil {
			i.Classifications = ch.Classifications
			changes = append(changes, "classification")
		}
		if ch.Severity != nil && *ch.Severity != i.Severity {
			i.Severity = *ch.Severity
			changes = append(changes, "severity "+string(before.Severity)+" → "+string(i.Severity))
		}
		if ch.TLP != nil && *ch.TLP != i.TLP {
			i.TLP = *ch.TLP
			changes = append(changes, "TLP "+string(before.TLP)+" → "+string(i.TLP))
		}
		if ch.PAP != nil && *ch.PAP != i.PAP {
			i.PAP = *ch.PAP
			changes = append(changes, "PAP "+string(before.PAP)+" → "+string(i.PAP))
		}
		if ch.AssigneeID != nil && *ch.AssigneeID != i.AssigneeID {
			i.AssigneeID = *ch.AssigneeID
			stampOnce(&i.Milestones.Acknowledged, now)
			changes = append(changes, fmt.Sprintf("assigned to user %d", i.AssigneeID))
		}
		if ch.OrgID != nil && *ch.OrgID != i.OrgID {
			i.OrgID = *ch.OrgID
			if i.OrgID != 0 {
				o, err := tx.organisation(ctx, i.OrgID)
				if err != nil {
					return focal.FieldErrorf("org", "organisation %d does not exist", i.OrgID)
				}
				i.Sector, i.CriticalInfra = o.Sector, o.CriticalInfra
			}
			changes = append(changes, fmt.Sprintf("organisation %d", i.OrgID))
		}
		if ch.Status != nil && *ch.Status != i.Status {
			if err := i.Transition(*ch.Status, ch.WaitingOn, now); err != nil {
				return err
			}
			state := "status " + string(before.Status) + " → " + string(i.Status)
			if i.WaitingOn != "" {
				state += " (on " + i.WaitingOn + ")"
			}
			changes = append(changes, state)
		}
		if err := i.Validate(); err != nil {
			return err
		}
		if len(changes) == 0 && ch.Note == "" {
			out = i
			return nil
		}
		i.UpdatedAt = now
		_, err = tx.ExecContext(ctx, `UPDATE incidents SET severity = $1, tlp = $2, pap = $3, status = $4, waiting_on = $5, assignee_id = $6, org_id = $7,
			sector = $8, critical_infra = $9, restricted = $10, primary_class = $11, acknowledged_at = $12, triaged_at = $13, first_response_at = $14,
			contained_at = $15, resolved_at = $16, closed_at = $17, waiting_since = $18, waiting_ms = $19, updated_at = $20 WHERE id = $21`,
			string(i.Severity), string(i.TLP), string(i.PAP), string(i.Status), i.WaitingOn, nullID(i.AssigneeID), nullID(i.OrgID),
			i.Sector, i.CriticalInfra, i.Restricted(), primaryClass(i), ms(i.Milestones.Acknowledged), ms(i.Milestones.Triaged), ms(i.Milestones.FirstResponse),
			ms(i.Milestones.Contained), ms(i.Milestones.Resolved), ms(i.Milestones.Closed), ms(i.WaitingSince), i.WaitingTotal.Milliseconds(), now.UnixMilli(), id)
		if err != nil {
			return fmt.Errorf("update incident: %w", err)
		}
		if ch.Classifications != nil {
			if err := tx.writeClassifications(ctx, i); err != nil {
				return err
			}
		}
		if len(changes) > 0 {
			if err := tx.journal(ctx, id, "state", i.TLP, strings.Join(changes, "; "), "", now); err != nil {
				return err
			}
		}
		if ch.Note != "" {
			if err := tx.journal(ctx, id, "note", i.TLP, ch.Note, "", now); err != nil {
				return err
			}
		}
		out = i
		return tx.audit(ctx, "update", "incident", strconv.FormatInt(id, 10), incidentAudit(&before), incidentAudit(i))
	})
	return out, err
}

func stampOnce(t *time.Time, now time.Time) {
	if t.IsZero() {
		*t = now
	}
}

func incidentAudit(i *focal.Incident) map[string]any {
	return map[string]any{"status": i.Status, "severity": i.Severity, "tlp": i.TLP, "pap": i.PAP, "assignee_id": i.AssigneeID,
		"org_id": i.OrgID, "classifications": i.Classifications}
}

// AddJournal appends a note (or another kind of entry) to an incident.
func (s *Store) AddJournal(ctx context.Context, id int64, kind string, tlp focal.TLP, body string) error {
	if kind == "" {
		kind = "note"
	}
	if strings.TrimSpace(body) == "" {
		return focal.FieldErrorf("body", "required")
	}
	if len(body) > 100_000 {
		return focal.FieldErrorf("body", "longer than 100,000 characters")
	}
	return s.WithTx(ctx, func(tx *Tx) error {
		i, err := tx.store.loadIncident(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := authorize(ctx, focal.ActionUpdate, incidentResource(i)); err != nil {
			return err
		}
		if tlp == "" {
			tlp = i.TLP
		}
		now := time.Now().UTC().Truncate(time.Millisecond)
		if kind == "email_out" && i.Milestones.FirstResponse.IsZero() {
			if _, err := tx.ExecContext(ctx, "UPDATE incidents SET first_response_at = $1 WHERE id = $2 AND first_response_at = 0", now.UnixMilli(), id); err != nil {
				return fmt.Errorf("first response: %w", err)
			}
		}
		if _, err := tx.ExecContext(ctx, "UPDATE incidents SET updated_at = $1 WHERE id = $2", now.UnixMilli(), id); err != nil {
			return fmt.Errorf("journal: %w", err)
		}
		return tx.journal(ctx, id, kind, tlp, body, "", now)
	})
}

// Journal returns an incident's journal, oldest first, without entries
// whose TLP the principal may not read.
func (s *Store) Journal(ctx context.Context, id int64) ([]focal.JournalEntry, error) {
	i, err := s.visibleIncident(ctx, id)
	if err != nil {
		return nil, err
	}
	p := focal.PrincipalFromContext(ctx)
	var out []focal.JournalEntry
	err = eachRow(ctx, s.rdb, "SELECT id, at, author_id, author, kind, tlp, body, meta FROM incident_journal WHERE incident_id = $1 ORDER BY id", []any{id}, func(r *sql.Rows) error {
		var e focal.JournalEntry
		var at int64
		var tlp string
		if err := r.Scan(&e.ID, &at, &e.AuthorID, &e.Author, &e.Kind, &tlp, &e.Body, &e.Meta); err != nil {
			return err
		}
		e.At, e.TLP = fromMS(at), focal.TLP(tlp)
		res := incidentResource(i)
		res.TLP = e.TLP
		if focal.Authorize(p, focal.ActionRead, res) == nil {
			out = append(out, e)
		}
		return nil
	})
	return out, err
}

// visibleIncident loads an incident the principal may read, without
// recording a view: for reads of its parts (observables, tasks, related
// incidents) that follow the one audited read of the incident itself.
func (s *Store) visibleIncident(ctx context.Context, id int64) (*focal.Incident, error) {
	i, err := s.loadIncident(ctx, s.rdb, id)
	if err != nil {
		return nil, err
	}
	if err := authorize(ctx, focal.ActionRead, incidentResource(i)); err != nil {
		return nil, err
	}
	return i, nil
}

// Observables returns an incident's observables.
func (s *Store) Observables(ctx context.Context, id int64) ([]focal.Observable, error) {
	if _, err := s.visibleIncident(ctx, id); err != nil {
		return nil, err
	}
	var out []focal.Observable
	err := eachRow(ctx, s.rdb, "SELECT kind, value, tlp, source, created_at FROM incident_observables WHERE incident_id = $1 ORDER BY kind, value", []any{id}, func(r *sql.Rows) error {
		var o focal.Observable
		var tlp string
		var at int64
		if err := r.Scan(&o.Kind, &o.Value, &tlp, &o.Source, &at); err != nil {
			return err
		}
		o.TLP, o.CreatedAt = focal.TLP(tlp), fromMS(at)
		out = append(out, o)
		return nil
	})
	return out, err
}

// RelatedIncidents returns the ids of other incidents sharing an
// observable with incident id, most recent first, among those the
// principal may see.
func (s *Store) RelatedIncidents(ctx context.Context, id int64, limit int) ([]*focal.Incident, error) {
	if _, err := s.visibleIncident(ctx, id); err != nil {
		return nil, err
	}
	var ids []int64
	err := eachRow(ctx, s.rdb, `SELECT DISTINCT b.incident_id FROM incident_observables a JOIN incident_observables b ON a.kind = b.kind AND a.value = b.value
		WHERE a.incident_id = $1 AND b.incident_id <> $1 ORDER BY b.incident_id DESC LIMIT 200`, []any{id}, func(r *sql.Rows) error {
		var other int64
		if err := r.Scan(&other); err != nil {
			return err
		}
		ids = append(ids, other)
		return nil
	})
	if err != nil {
		return nil, err
	}
	var out []*focal.Incident
	for _, other := range ids {
		if len(out) >= limit {
			break
		}
		i, err := s.loadIncident(ctx, s.rdb, other)
		if err != nil {
			return nil, err
		}
		if focal.Authorize(focal.PrincipalFromContext(ctx), focal.ActionRead, incidentResource(i)) == nil {
			out = append(out, i)
		}
	}
	return out, nil
}

// searchWindows runs a text search newest-first in id windows that grow
// eightfold (20,000 ids, then 160,000, …) until a page is full or the
// oldest incident is passed: a common word fills the page in the first,
// bounded window; a rare one reaches the later windows, which are read
// through the text index and cost a few probes and a small sort. run executes the query with an
// extra condition on the window; nargs is the number of arguments before it.
func (s *Store) searchWindows(ctx context.Context, before int64, limit, nargs int, out *[]*focal.Incident,
	run func(extra string, extraArgs []any, n int, order string) error) error {
	upper := before
	if upper <= 0 {
		var maxID int64
		if err := s.rdb.QueryRowContext(ctx, "SELECT COALESCE(MAX(id), 0) FROM incidents").Scan(&maxID); err != nil {
			return fmt.Errorf("search: %w", err)
		}
		upper = maxID + 1
	}
	window := s.searchWindow
	if window <= 0 {
		window = 20_000
	}
	first := window
	for ; upper > 1 && len(*out) < limit; window *= 8 {
		lower := max(upper-window, 0)
		cond := fmt.Sprintf("i.id < $%d AND i.id >= $%d", nargs+1, nargs+2)
		// The first window may walk the key range; a later one is reached
		// only when the words are rare, so it goes through the text index
		// ("+ 0" keeps the planner from ordering by the primary key).
		order := "i.id DESC"
		if window > first {
			order = "i.id + 0 DESC"
		}
		if err := run(cond, []any{upper, lower}, limit-len(*out), order); err != nil {
			return err
		}
		upper = lower
	}
	return nil
}

// CountIncidents counts the incidents matching f that the principal may
// see, stopping at limit: it returns limit and true when there are more,
// so a busy queue costs a bounded count.
func (s *Store) CountIncidents(ctx context.Context, f IncidentFilter, limit int) (int, bool, error) {
	p := focal.PrincipalFromContext(ctx)
	if err := authorize(ctx, focal.ActionRead, focal.Resource{Kind: focal.KindIncident}); err != nil {
		return 0, false, err
	}
	where, args := incidentConditions(p, f)
	if f.Query != "" {
		return 0, false, focal.Errorf(focal.ENOTIMPLEMENTED, "counting does not take a text query")
	}
	q := "SELECT COUNT(*) FROM (SELECT 1 FROM incidents i"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += fmt.Sprintf(" LIMIT %d) AS capped", limit+1)
	var n int
	if err := s.rdb.QueryRowContext(ctx, q, args...).Scan(&n); err != nil {
		return 0, false, fmt.Errorf("count incidents: %w", err)
	}
	if n > limit {
		return limit, true, nil
	}
	return n, false, nil
}

// incidentConditions returns the WHERE conditions (over alias i) and their
// arguments for what p may see of incidents and for f's filters other
// than the text query and paging: the one place listing and counting
// agree on scope.
func incidentConditions(p focal.Principal, f IncidentFilter) ([]string, []any) {
	var where []string
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	if orgID, all := focal.OrgScope(p); !all {
		add("i.org_id = $%d", orgID)
		add("i.tlp <> $%d", string(focal.TLPRed))
	}
	if !p.RestrictedAccess {
		add("i.restricted = $%d", false)
	}
	if len(f.Status) > 0 {
		ph := make([]string, len(f.Status))
		for n, st := range f.Status {
			args = append(args, string(st))
			ph[n] = "$" + strconv.Itoa(len(args))
		}
		where = append(where, "i.status IN ("+strings.Join(ph, ",")+")")
	}
	if f.Class != "" {
		// EXISTS lets the newest-first walk stop after a page of matches.
		add("EXISTS (SELECT 1 FROM incident_classes c WHERE c.incident_id = i.id AND c.class = $%d)", f.Class)
	}
	if f.TLP != "" {
		add("i.tlp = $%d", string(f.TLP))
	}
	if f.OrgID != 0 {
		add("i.org_id = $%d", f.OrgID)
	}
	if f.AssigneeID != 0 {
		add("i.assignee_id = $%d", f.AssigneeID)
	}
	return where, args
}
