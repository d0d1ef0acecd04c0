package store

import (
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"focal/internal/csaf"
	"focal/internal/focal"
	"focal/internal/notify"
)

// The states of an advisory: a draft its authors edit, submitted for
// review, and published (a correction sends it back to draft while the
// published revision stays served until the next one is approved).
const (
	AdvisoryDraft     = "draft"
	AdvisoryReview    = "review"
	AdvisoryPublished = "published"
)

// Advisory is a security advisory with its workflow: Body is what the
// authors write (csaf.Advisory). Published is true once any revision was
// published (State may then be draft or review again for a correction).
type Advisory struct {
	ID         int64
	State      string
	Body       csaf.Advisory
	AuthorID   int64
	Author     string
	EditorID   int64 // who last changed the body
	Editor     string
	ApproverID int64 // who approved the last publication
	Approver   string
	Version    int // published revisions
	Created    time.Time
	Updated    time.Time
	Published  time.Time // last publication; zero if never
	Incidents  []int64   // linked incidents
}

// PublishedDocument is the CSAF document of an advisory's current
// published revision and what the provider serves with it. Document is
// loaded by PublishedDocument only.
type PublishedDocument struct {
	AdvisoryID     int64
	TrackingID     string
	Filename       string
	Label          string // CSAF TLP label in lower case: white, green, amber, red
	Year           int    // of the initial release: the directory
	Title          string
	Version        string
	InitialRelease time.Time
	CurrentRelease time.Time
	Document       []byte
	SHA256         string
	SHA512         string
	Signature      string
}

// Path is the document's path below the provider's root:
// "white/2026/focal-2026-0001.json".
func (d *PublishedDocument) Path() string {
	return fmt.Sprintf("%s/%d/%s", d.Label, d.Year, d.Filename)
}

// TLP returns the document's label as a TLP 2.0 label.
func (d *PublishedDocument) TLP() focal.TLP {
	t, err := focal.ParseTLP(d.Label)
	if err != nil {
		return focal.TLPRed
	}
	return t
}

// CreateAdvisory stores a as a new draft written by the caller and sets
// its ID, state and times. A draft needs only a title and a TLP label;
// the rest is checked on submission. Linked incidents must exist.
func (s *Store) CreateAdvisory(ctx context.Context, a *Advisory) error {
	if err := authorize(ctx, focal.ActionCreate, focal.Resource{Kind: focal.KindAdvisory}); err != nil {
		return err
	}
	a.Body.Normalize()
	if err := draftCheck(&a.Body); err != nil {
		return err
	}
	p := focal.PrincipalFromContext(ctx)
	now := time.Now().UTC().Truncate(time.Millisecond)
	a.State, a.AuthorID, a.Author, a.EditorID, a.Editor = AdvisoryDraft, p.UserID, p.Label(), p.UserID, p.Label()
	a.Created, a.Updated, a.Version = now, now, 0
	a.ApproverID, a.Approver, a.Published = 0, "", time.Time{}
	body, err := json.Marshal(a.Body)
	if err != nil {
		return fmt.Errorf("create advisory: %w", err)
	}
	return s.WithTx(ctx, func(tx *Tx) error {
		if a.Body.TrackingID != "" {
			var n int
			if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM advisories WHERE tracking_id = $1", a.Body.TrackingID).Scan(&n); err != nil {
				return fmt.Errorf("create advisory: %w", err)
			}
			if n > 0 {
				return focal.FieldErrorf("tracking_id", "an advisory with the tracking ID %s exists already", a.Body.TrackingID)
			}
		}
		err := tx.QueryRowContext(ctx, `INSERT INTO advisories (tracking_id, title, tlp, severity, state, body, author_id, author, editor_id, editor, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id`,
			a.Body.TrackingID, a.Body.Title, string(a.Body.TLP), a.Body.Severity, a.State, string(body),
			a.AuthorID, a.Author, a.EditorID, a.Editor, now.UnixMilli(), now.UnixMilli()).Scan(&a.ID)
		if err != nil {
			if isUniqueViolation(err) {
				return focal.FieldErrorf("tracking_id", "an advisory with the tracking ID %s exists already", a.Body.TrackingID)
			}
			return fmt.Errorf("create advisory: %w", err)
		}
		if err := tx.linkIncidents(ctx, a.ID, a.Incidents); err != nil {
			return err
		}
		return tx.audit(ctx, "advisory.create", "advisory", strconv.FormatInt(a.ID, 10), nil, advisoryAudit(a))
	})
}

// draftCheck is what even a draft needs.
func draftCheck(b *csaf.Advisory) error {
	if b.Title == "" {
		return focal.FieldErrorf("title", "give the advisory a title")
	}
	if b.TLP.Rank() < 0 {
		return focal.FieldErrorf("tlp", "choose a TLP label")
	}
	if len(b.Products) > csaf.MaxProducts || len(b.Vulnerabilities) > csaf.MaxVulnerabilities {
		return focal.FieldErrorf("products", "too many products or vulnerabilities")
	}
	return nil
}

type advisoryAuditRecord struct {
	ID      int64  `json:"id"`
	State   string `json:"state"`
	Title   string `json:"title"`
	TLP     string `json:"tlp"`
	Version int    `json:"version,omitempty"`
}

func advisoryAudit(a *Advisory) advisoryAuditRecord {
	return advisoryAuditRecord{ID: a.ID, State: a.State, Title: a.Body.Title, TLP: string(a.Body.TLP), Version: a.Version}
}

func (tx *Tx) linkIncidents(ctx context.Context, advisoryID int64, ids []int64) error {
	if _, err := tx.ExecContext(ctx, "DELETE FROM advisory_incidents WHERE advisory_id = $1", advisoryID); err != nil {
		return fmt.Errorf("link incidents: %w", err)
	}
	seen := map[int64]bool{}
	for _, id := range ids {
		if seen[id] {
			continue
		}
		seen[id] = true
		var n int
		if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM incidents WHERE id = $1", id).Scan(&n); err != nil {
			return fmt.Errorf("link incidents: %w", err)
		}
		if n == 0 {
			return focal.FieldErrorf("incidents", "there is no incident %d", id)
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO advisory_incidents (advisory_id, incident_id) VALUES ($1, $2)", advisoryID, id); err != nil {
			return fmt.Errorf("link incidents: %w", err)
		}
	}
	return nil
}

const advisoryColumns = `id, state, body, author_id, author, editor_id, editor, approver_id, approver, version, created_at, updated_at, published_at`

func scanAdvisory(sc interface{ Scan(...any) error }) (*Advisory, error) {
	var a Advisory
	var body string
	var created, updated, published int64
	if err := sc.Scan(&a.ID, &a.State, &body, &a.AuthorID, &a.Author, &a.EditorID, &a.Editor, &a.ApproverID, &a.Approver,
		&a.Version, &created, &updated, &published); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(body), &a.Body); err != nil {
		return nil, fmt.Errorf("advisory %d: %w", a.ID, err)
	}
	a.Created, a.Updated = time.UnixMilli(created).UTC(), time.UnixMilli(updated).UTC()
	if published != 0 {
		a.Published = time.UnixMilli(published).UTC()
	}
	return &a, nil
}

// advisoryVisible decides whether the caller may read a: staff any; a
// constituent a published one labelled CLEAR or GREEN, or one that
// concerned its organisation (and never RED).
func (s *Store) advisoryVisible(ctx context.Context, a *Advisory) error {
	p := focal.PrincipalFromContext(ctx)
	res := focal.Resource{Kind: focal.KindAdvisory, Object: true, TLP: a.Body.TLP}
	if err := focal.Authorize(p, focal.ActionRead, res); err != nil {
		return focal.Errorf(focal.ENOTFOUND, "advisory not found")
	}
	if p.Role.Staff() {
		return nil
	}
	if a.Version == 0 {
		return focal.Errorf(focal.ENOTFOUND, "advisory not found")
	}
	if a.Body.TLP == focal.TLPClear || a.Body.TLP == focal.TLPGreen {
		return nil
	}
	var n int
	if err := s.rdb.QueryRowContext(ctx, "SELECT COUNT(*) FROM advisory_orgs WHERE advisory_id = $1 AND org_id = $2", a.ID, p.OrgID).Scan(&n); err != nil {
		return fmt.Errorf("advisory: %w", err)
	}
	if n == 0 {
		return focal.Errorf(focal.ENOTFOUND, "advisory not found")
	}
	return nil
}

// Advisory returns advisory id with its linked incidents. Staff read
// every advisory; a constituent only published ones it may see (CLEAR,
// GREEN, or concerning its organisation); anything else is ENOTFOUND.
func (s *Store) Advisory(ctx context.Context, id int64) (*Advisory, error) {
	if err := authorize(ctx, focal.ActionRead, focal.Resource{Kind: focal.KindAdvisory}); err != nil {
		return nil, err
	}
	a, err := scanAdvisory(s.rdb.QueryRowContext(ctx, "SELECT "+advisoryColumns+" FROM advisories WHERE id = $1", id))
	if err != nil {
		return nil, notFound(err, "advisory")
	}
	if err := s.advisoryVisible(ctx, a); err != nil {
		return nil, err
	}
	rows, err := s.rdb.QueryContext(ctx, "SELECT incident_id FROM advisory_incidents WHERE advisory_id = $1 ORDER BY incident_id", id)
	if err != nil {
		return nil, fmt.Errorf("advisory incidents: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var i int64
		if err := rows.Scan(&i); err != nil {
			return nil, err
		}
		a.Incidents = append(a.Incidents, i)
	}
	return a, rows.Err()
}

// AdvisoryFilter selects advisories: in one state ("" any) and, with
// Published, only those with a published revision.
type AdvisoryFilter struct {
	State     string
	Published bool
	Limit     int // default 100, at most 1000
}

// Advisories lists the advisories the caller may read, newest first
// (incidents are not loaded).
func (s *Store) Advisories(ctx context.Context, f AdvisoryFilter) ([]*Advisory, error) {
	if err := authorize(ctx, focal.ActionRead, focal.Resource{Kind: focal.KindAdvisory}); err != nil {
		return nil, err
	}
	var cond []string
	var args []any
	arg := func(v any) string { args = append(args, v); return "$" + strconv.Itoa(len(args)) }
	if f.State != "" {
		cond = append(cond, "state = "+arg(f.State))
	}
	p := focal.PrincipalFromContext(ctx)
	if f.Published || !(p.Role.Staff()) {
		cond = append(cond, "version > 0")
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	q := "SELECT " + advisoryColumns + " FROM advisories"
	if len(cond) > 0 {
		q += " WHERE " + strings.Join(cond, " AND ")
	}
	q += " ORDER BY id DESC LIMIT " + arg(min(limit, 1000))
	rows, err := s.rdb.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("advisories: %w", err)
	}
	defer rows.Close()
	var all []*Advisory
	for rows.Next() {
		a, err := scanAdvisory(rows)
		if err != nil {
			return nil, err
		}
		all = append(all, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("advisories: %w", err)
	}
	rows.Close()
	var out []*Advisory
	for _, a := range all {
		if s.advisoryVisible(ctx, a) == nil {
			out = append(out, a)
		}
	}
	return out, nil
}

// UpdateAdvisory replaces the body and linked incidents of a draft or an
// advisory in review (which goes back to draft: the change needs a new
// review). The tracking fields (ID, version, revisions, release dates)
// are kept from the stored body: publication sets them. A published
// advisory must be revised first (ECONFLICT).
func (s *Store) UpdateAdvisory(ctx context.Context, a *Advisory) error {
	if err := authorize(ctx, focal.ActionUpdate, focal.Resource{Kind: focal.KindAdvisory, Object: true}); err != nil {
		return err
	}
	a.Body.Normalize()
	if err := draftCheck(&a.Body); err != nil {
		return err
	}
	p := focal.PrincipalFromContext(ctx)
	return s.WithTx(ctx, func(tx *Tx) error {
		old, err := scanAdvisory(tx.QueryRowContext(ctx, "SELECT "+advisoryColumns+" FROM advisories WHERE id = $1", a.ID))
		if err != nil {
			return notFound(err, "advisory")
		}
		if old.State == AdvisoryPublished {
			return focal.Errorf(focal.ECONFLICT, "this advisory is published: start a correction (revise) to change it")
		}
		b := a.Body
		b.TrackingID, b.Version, b.Status, b.Revisions = old.Body.TrackingID, old.Body.Version, old.Body.Status, old.Body.Revisions
		b.InitialRelease, b.CurrentRelease, b.Publisher, b.Generator = old.Body.InitialRelease, old.Body.CurrentRelease, old.Body.Publisher, old.Body.Generator
		if old.Body.TrackingID == "" && old.Version == 0 {
			b.TrackingID = a.Body.TrackingID // an imported or unpublished draft may still set it
		}
		body, err := json.Marshal(b)
		if err != nil {
			return fmt.Errorf("update advisory: %w", err)
		}
		now := time.Now().UTC().Truncate(time.Millisecond)
		if _, err := tx.ExecContext(ctx, `UPDATE advisories SET tracking_id = $1, title = $2, tlp = $3, severity = $4, state = $5, body = $6,
			editor_id = $7, editor = $8, updated_at = $9 WHERE id = $10`,
			b.TrackingID, b.Title, string(b.TLP), b.Severity, AdvisoryDraft, string(body), p.UserID, p.Label(), now.UnixMilli(), a.ID); err != nil {
			if isUniqueViolation(err) {
				return focal.FieldErrorf("tracking_id", "an advisory with the tracking ID %s exists already", b.TrackingID)
			}
			return fmt.Errorf("update advisory: %w", err)
		}
		if err := tx.linkIncidents(ctx, a.ID, a.Incidents); err != nil {
			return err
		}
		*a = *old
		a.Body, a.State, a.EditorID, a.Editor, a.Updated = b, AdvisoryDraft, p.UserID, p.Label(), now
		return tx.audit(ctx, "advisory.update", "advisory", strconv.FormatInt(a.ID, 10), advisoryAudit(old), advisoryAudit(a))
	})
}

// SubmitAdvisory sends a draft to review. It must be complete: EINVALID
// names the first problem csaf.Advisory.Check finds.
func (s *Store) SubmitAdvisory(ctx context.Context, id int64) (*Advisory, error) {
	return s.transition(ctx, id, "advisory.submit", func(a *Advisory) error {
		if a.State != AdvisoryDraft {
			return focal.Errorf(focal.ECONFLICT, "only a draft can be submitted for review (this one is %s)", a.State)
		}
		if err := a.Body.Validate(); err != nil {
			return err
		}
		a.State = AdvisoryReview
		return nil
	})
}

// ReviseAdvisory starts a correction of a published advisory: it becomes
// a draft again with summary as the next revision's summary; the
// published revision stays served until the correction is approved.
func (s *Store) ReviseAdvisory(ctx context.Context, id int64, summary string) (*Advisory, error) {
	summary = strings.TrimSpace(summary)
	if summary == "" {
		return nil, focal.FieldErrorf("summary", "say what the correction changes (it goes into the revision history)")
	}
	return s.transition(ctx, id, "advisory.revise", func(a *Advisory) error {
		if a.State != AdvisoryPublished {
			return focal.Errorf(focal.ECONFLICT, "only a published advisory can be corrected (this one is %s)", a.State)
		}
		p := focal.PrincipalFromContext(ctx)
		a.State, a.Body.RevisionSummary, a.EditorID, a.Editor = AdvisoryDraft, summary, p.UserID, p.Label()
		return nil
	})
}

// transition applies change to advisory id in a transaction and audits it.
func (s *Store) transition(ctx context.Context, id int64, action string, change func(a *Advisory) error) (*Advisory, error) {
	if err := authorize(ctx, focal.ActionUpdate, focal.Resource{Kind: focal.KindAdvisory, Object: true}); err != nil {
		return nil, err
	}
	var a *Advisory
	err := s.WithTx(ctx, func(tx *Tx) error {
		old, err := scanAdvisory(tx.QueryRowContext(ctx, "SELECT "+advisoryColumns+" FROM advisories WHERE id = $1", id))
		if err != nil {
			return notFound(err, "advisory")
		}
		a = new(Advisory)
		*a = *old
		if err := change(a); err != nil {
			return err
		}
		body, err := json.Marshal(a.Body)
		if err != nil {
			return err
		}
		a.Updated = time.Now().UTC().Truncate(time.Millisecond)
		if _, err := tx.ExecContext(ctx, "UPDATE advisories SET state = $1, body = $2, updated_at = $3, editor_id = $4, editor = $5 WHERE id = $6",
			a.State, string(body), a.Updated.UnixMilli(), a.EditorID, a.Editor, id); err != nil {
			return fmt.Errorf("%s: %w", action, err)
		}
		return tx.audit(ctx, action, "advisory", strconv.FormatInt(id, 10), advisoryAudit(old), advisoryAudit(a))
	})
	if err != nil {
		return nil, err
	}
	return a, nil
}

// PublishOptions is what publication needs from the application.
type PublishOptions struct {
	// Publisher is the team as CSAF names it (name, namespace, contact).
	Publisher csaf.Publisher
	// TrackingPrefix starts assigned tracking IDs: PREFIX-YYYY-NNNN.
	TrackingPrefix string
	// Signer signs the document with the team key; required.
	Signer *csaf.Signer
	// Message builds the notification to an affected organisation; nil
	// sends none.
	Message func(org *focal.Organisation, recipients []string, a *Advisory, doc *PublishedDocument) (*Notification, error)
	// Now is the publication time; zero means now.
	Now time.Time
}

// ApproveAdvisory publishes advisory id, which must be in review, as the
// caller, who must be someone other than its last editor and, for a first
// publication, its author (EFORBIDDEN otherwise; coordinators included). Publication sets the
// tracking fields (a tracking ID on first publication, the next version,
// a revision history entry, the release dates), generates the CSAF
// document, validates it against the CSAF schema and mandatory tests
// (EINVALID, nothing published), signs and hashes it, and writes the
// document with the advisory's new state, the organisations it concerns
// (which declared an affected product or own a linked incident) and
// their notifications in one transaction: the provider's feeds, index,
// hashes and signature change together or not at all.
func (s *Store) ApproveAdvisory(ctx context.Context, id int64, opts PublishOptions) (*PublishedDocument, error) {
	if err := authorize(ctx, focal.ActionUpdate, focal.Resource{Kind: focal.KindAdvisory, Object: true}); err != nil {
		return nil, err
	}
	if opts.Signer == nil {
		return nil, focal.Errorf(focal.EUNAVAILABLE, "no team key is configured: run focal keys init (or import one) before publishing")
	}
	p := focal.PrincipalFromContext(ctx)
	a, err := scanAdvisory(s.rdb.QueryRowContext(ctx, "SELECT "+advisoryColumns+" FROM advisories WHERE id = $1", id))
	if err != nil {
		return nil, notFound(err, "advisory")
	}
	if a.State != AdvisoryReview {
		return nil, focal.Errorf(focal.ECONFLICT, "only an advisory in review can be approved (this one is %s)", a.State)
	}
	// Four eyes: the approver is neither who wrote the advisory (for its
	// first publication) nor who made the change under review.
	if p.UserID == a.EditorID || (a.Version == 0 && p.UserID == a.AuthorID) {
		return nil, focal.Errorf(focal.EFORBIDDEN, "a second person must approve publication: you wrote or last changed this advisory")
	}
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	now = now.UTC().Truncate(time.Second)
	b := a.Body
	if b.TrackingID == "" {
		prefix := strings.TrimSpace(opts.TrackingPrefix)
		if prefix == "" {
			prefix = "FOCAL"
		}
		b.TrackingID = fmt.Sprintf("%s-%d-%04d", prefix, now.Year(), a.ID)
	}
	next := 1
	if n := len(b.Revisions); n > 0 {
		last, _, _ := strings.Cut(b.Revisions[n-1].Number, ".")
		v, err := strconv.Atoi(last)
		if err != nil {
			return nil, focal.Errorf(focal.EINVALID, "the revision history ends with %q, not a whole number", b.Revisions[n-1].Number)
		}
		next = v + 1
		if !now.After(b.Revisions[n-1].Date) {
			now = b.Revisions[n-1].Date.Add(time.Second)
		}
	}
	summary := b.RevisionSummary
	if summary == "" {
		summary = "Initial version"
		if next > 1 {
			summary = "Correction"
		}
	}
	b.Revisions = append(b.Revisions, csaf.Revision{Number: strconv.Itoa(next), Date: now, Summary: summary})
	b.Version, b.Status, b.RevisionSummary = strconv.Itoa(next), "final", ""
	if b.InitialRelease.IsZero() {
		b.InitialRelease = now
	}
	b.CurrentRelease = now
	b.Publisher, b.Generator = opts.Publisher, "focal"
	raw, err := csaf.Document(&b)
	if err != nil {
		return nil, err
	}
	if err := csaf.ValidateDocument(raw); err != nil {
		return nil, err
	}
	sig, err := opts.Signer.Sign(raw)
	if err != nil {
		return nil, fmt.Errorf("approve advisory: %w", err)
	}
	h256, h512 := sha256.Sum256(raw), sha512.Sum512(raw)
	doc := &PublishedDocument{
		AdvisoryID: id, TrackingID: b.TrackingID, Filename: csaf.Filename(b.TrackingID),
		Label: strings.ToLower(csaf.CSAFLabel(b.TLP)), Year: b.InitialRelease.Year(), Title: b.Title, Version: b.Version,
		InitialRelease: b.InitialRelease, CurrentRelease: b.CurrentRelease, Document: raw,
		SHA256: hex.EncodeToString(h256[:]), SHA512: hex.EncodeToString(h512[:]), Signature: string(sig),
	}
	published := *a
	published.Body, published.State, published.Version = b, AdvisoryPublished, next
	published.ApproverID, published.Approver, published.Published = p.UserID, p.Label(), now
	concerned, err := s.concernedOrgs(ctx, &published)
	if err != nil {
		return nil, err
	}
	var msgs []*Notification
	for _, c := range concerned {
		m, err := s.advisoryMessage(ctx, c, &published, doc, opts)
		if err != nil {
			return nil, err
		}
		if m != nil {
			msgs = append(msgs, m)
		}
	}
	body, err := json.Marshal(b)
	if err != nil {
		return nil, err
	}
	err = s.WithTx(ctx, func(tx *Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE advisories SET tracking_id = $1, state = $2, body = $3, approver_id = $4, approver = $5,
			version = $6, published_at = $7, updated_at = $8 WHERE id = $9 AND state = $10 AND updated_at = $11`,
			b.TrackingID, AdvisoryPublished, string(body), p.UserID, p.Label(), next, now.UnixMilli(), now.UnixMilli(),
			id, AdvisoryReview, a.Updated.UnixMilli())
		if err != nil {
			if isUniqueViolation(err) {
				return focal.FieldErrorf("tracking_id", "another advisory has the tracking ID %s", b.TrackingID)
			}
			return fmt.Errorf("approve advisory: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return focal.Errorf(focal.ECONFLICT, "the advisory changed meanwhile: reload it and approve again")
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM advisory_documents WHERE advisory_id = $1", id); err != nil {
			return fmt.Errorf("approve advisory: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO advisory_documents (advisory_id, tracking_id, filename, label, year, title, version,
			initial_release, current_release, document, sha256, sha512, signature)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
			id, doc.TrackingID, doc.Filename, doc.Label, doc.Year, doc.Title, doc.Version, doc.InitialRelease.UnixMilli(),
			doc.CurrentRelease.UnixMilli(), string(doc.Document), doc.SHA256, doc.SHA512, doc.Signature); err != nil {
			if isUniqueViolation(err) {
				return focal.Errorf(focal.ECONFLICT, "another published advisory has the file name %s", doc.Filename)
			}
			return fmt.Errorf("approve advisory: document: %w", err)
		}
		for _, c := range concerned {
			if _, err := tx.ExecContext(ctx, `INSERT INTO advisory_orgs (advisory_id, org_id, reason) VALUES ($1, $2, $3)
				ON CONFLICT (advisory_id, org_id) DO UPDATE SET reason = excluded.reason`, id, c.org.ID, c.reason); err != nil {
				return fmt.Errorf("approve advisory: organisations: %w", err)
			}
		}
		for _, m := range msgs {
			if err := tx.queueNotification(ctx, m, now); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, "UPDATE advisory_orgs SET notified = $1 WHERE advisory_id = $2 AND org_id = $3", m.ID, id, m.OrgID); err != nil {
				return fmt.Errorf("approve advisory: %w", err)
			}
		}
		return tx.audit(ctx, "advisory.publish", "advisory", strconv.FormatInt(id, 10), advisoryAudit(a), advisoryAudit(&published))
	})
	if err != nil {
		return nil, err
	}
	return doc, nil
}

type concernedOrg struct {
	org    *focal.Organisation
	reason string
}

// concernedOrgs finds the organisations an advisory concerns: those that
// declared an affected (or under investigation) product, matched on
// vendor and product name without regard to case ("*" as the product
// matches every product of the vendor), those of linked incidents, and
// those the pipeline matched: with recent events naming one of its CVEs.
func (s *Store) concernedOrgs(ctx context.Context, a *Advisory) ([]concernedOrg, error) {
	reasons := map[int64]string{}
	var order []int64
	note := func(id int64, why string) {
		if _, ok := reasons[id]; !ok {
			order = append(order, id)
			reasons[id] = why
		}
	}
	affected := map[string]bool{}
	for _, v := range a.Body.Vulnerabilities {
		for _, id := range append(append([]string{}, v.Affected...), v.UnderInvestigation...) {
			affected[id] = true
		}
	}
	for _, p := range a.Body.Products {
		if !affected[p.ID] {
			continue
		}
		rows, err := s.rdb.QueryContext(ctx, `SELECT org_id, product FROM org_products WHERE vendor = $1 AND (product = $2 OR product = '*') ORDER BY org_id`,
			strings.ToLower(p.Vendor), strings.ToLower(p.Name))
		if err != nil {
			return nil, fmt.Errorf("concerned organisations: %w", err)
		}
		for rows.Next() {
			var id int64
			var prod string
			if err := rows.Scan(&id, &prod); err != nil {
				rows.Close()
				return nil, err
			}
			note(id, fmt.Sprintf("declared %s %s", p.Vendor, p.Name))
		}
		if err := rows.Close(); err != nil {
			return nil, err
		}
	}
	rows, err := s.rdb.QueryContext(ctx, `SELECT i.id, i.org_id FROM advisory_incidents ai JOIN incidents i ON i.id = ai.incident_id
		WHERE ai.advisory_id = $1 AND i.org_id IS NOT NULL ORDER BY i.id`, a.ID)
	if err != nil {
		return nil, fmt.Errorf("concerned organisations: %w", err)
	}
	for rows.Next() {
		var inc, org int64
		if err := rows.Scan(&inc, &org); err != nil {
			rows.Close()
			return nil, err
		}
		note(org, fmt.Sprintf("incident %d", inc))
	}
	if err := rows.Close(); err != nil {
		return nil, err
	}
	// Matched by the pipeline: organisations with events of the last 30
	// days that name one of the advisory's CVEs (scan feeds tag
	// vulnerable hosts with them), never from TLP:RED events.
	since := time.Now().AddDate(0, 0, -30).UnixMilli()
	for _, v := range a.Body.Vulnerabilities {
		if v.CVE == "" {
			continue
		}
		rows, err := s.rdb.QueryContext(ctx, `SELECT eo.org_id, COUNT(*) FROM events e JOIN event_orgs eo ON eo.event_id = e.id
			WHERE e.last_seen >= $1 AND e.tlp <> $2 AND LOWER(e.identifier) LIKE $3 GROUP BY eo.org_id ORDER BY eo.org_id`,
			since, string(focal.TLPRed), "%"+strings.ToLower(v.CVE)+"%")
		if err != nil {
			return nil, fmt.Errorf("concerned organisations: %w", err)
		}
		for rows.Next() {
			var id, n int64
			if err := rows.Scan(&id, &n); err != nil {
				rows.Close()
				return nil, err
			}
			note(id, fmt.Sprintf("%d events of the last 30 days name %s", n, v.CVE))
		}
		if err := rows.Close(); err != nil {
			return nil, err
		}
	}
	sys := focal.NewContextWithPrincipal(ctx, focal.System())
	var out []concernedOrg
	for _, id := range order {
		o, err := s.Organisation(sys, id)
		if focal.ErrorCode(err) == focal.ENOTFOUND {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, concernedOrg{org: o, reason: reasons[id]})
	}
	return out, nil
}

// advisoryMessage builds the notification of an advisory to a concerned
// organisation, or nil when none goes: no message builder, TLP forbids
// it (focal.ReleaseDecision; RED never leaves), the organisation's
// policy ceiling is lower, it takes webhooks only, or has no recipients.
func (s *Store) advisoryMessage(ctx context.Context, c concernedOrg, a *Advisory, doc *PublishedDocument, opts PublishOptions) (*Notification, error) {
	if opts.Message == nil {
		return nil, nil
	}
	tlp := a.Body.TLP
	if ok, _ := focal.ReleaseDecision(focal.Release{TLP: tlp, OrgID: c.org.ID}, focal.Recipient{Kind: focal.RecipientOrganisation, ID: c.org.ID, Name: c.org.Name}); !ok {
		return nil, nil
	}
	sys := focal.NewContextWithPrincipal(ctx, focal.System())
	pol, err := s.NotifyPolicy(sys, c.org.ID)
	if focal.ErrorCode(err) == focal.ENOTFOUND {
		d := notify.PolicyFor(c.org)
		pol, err = &d, nil
	}
	if err != nil {
		return nil, err
	}
	ceiling := pol.MaxTLP
	if ceiling == "" {
		ceiling = focal.TLPAmberStrict
	}
	if tlp.Rank() > ceiling.Rank() || pol.Channel == notify.ChannelWebhook || len(pol.Recipients) == 0 {
		return nil, nil
	}
	m, err := opts.Message(c.org, pol.Recipients, a, doc)
	if err != nil || m == nil {
		return nil, err
	}
	m.OrgID, m.TLP = c.org.ID, tlp
	if m.Channel == "" {
		m.Channel = notify.ChannelImmediate
	}
	return m, nil
}

// queueNotification inserts m as queued, due at once.
func (tx *Tx) queueNotification(ctx context.Context, m *Notification, now time.Time) error {
	m.State, m.Created, m.NextAttempt, m.Part, m.Parts = NotificationQueued, now, now, 1, 1
	err := tx.QueryRowContext(ctx, `INSERT INTO notifications (reference, org_id, channel, mail_from, recipients, subject, tlp,
		part, parts, events, raw, state, attempts, next_attempt, created)
		VALUES ($1, $2, $3, $4, $5, $6, $7, 1, 1, 0, $8, $9, 0, $10, $11) RETURNING id`,
		m.Reference, m.OrgID, m.Channel, m.From, strings.Join(m.Recipients, "\n"), m.Subject, string(m.TLP),
		m.Raw, m.State, now.UnixMilli(), now.UnixMilli()).Scan(&m.ID)
	if err != nil {
		return fmt.Errorf("queue advisory notification: %w", err)
	}
	return nil
}

// AdvisoryOrganisations returns the organisations a published advisory
// concerned, with why, and the notification sent to each (0 for none).
func (s *Store) AdvisoryOrganisations(ctx context.Context, id int64) ([]AdvisoryOrg, error) {
	if err := authorize(ctx, focal.ActionRead, focal.Resource{Kind: focal.KindOrganisation}); err != nil {
		return nil, err
	}
	p := focal.PrincipalFromContext(ctx)
	if !(p.Role.Staff()) {
		return nil, focal.Errorf(focal.EFORBIDDEN, "only staff see which organisations an advisory concerns")
	}
	rows, err := s.rdb.QueryContext(ctx, `SELECT ao.org_id, o.name, ao.reason, ao.notified FROM advisory_orgs ao
		JOIN organisations o ON o.id = ao.org_id WHERE ao.advisory_id = $1 ORDER BY o.name`, id)
	if err != nil {
		return nil, fmt.Errorf("advisory organisations: %w", err)
	}
	defer rows.Close()
	var out []AdvisoryOrg
	for rows.Next() {
		var o AdvisoryOrg
		if err := rows.Scan(&o.OrgID, &o.Name, &o.Reason, &o.NotificationID); err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

// AdvisoryOrg is an organisation a published advisory concerned.
type AdvisoryOrg struct {
	OrgID          int64
	Name           string
	Reason         string
	NotificationID int64
}

const docColumns = `advisory_id, tracking_id, filename, label, year, title, version, initial_release, current_release, sha256, sha512, signature`

func scanDoc(sc interface{ Scan(...any) error }, withBody bool) (*PublishedDocument, error) {
	var d PublishedDocument
	var initial, current int64
	dest := []any{&d.AdvisoryID, &d.TrackingID, &d.Filename, &d.Label, &d.Year, &d.Title, &d.Version, &initial, &current, &d.SHA256, &d.SHA512, &d.Signature}
	var body string
	if withBody {
		dest = append(dest, &body)
	}
	if err := sc.Scan(dest...); err != nil {
		return nil, err
	}
	d.InitialRelease, d.CurrentRelease = time.UnixMilli(initial).UTC(), time.UnixMilli(current).UTC()
	d.Document = []byte(body)
	return &d, nil
}

// mayReadLabel checks the caller may read published documents labelled
// label (CSAF lower-case): WHITE anyone; others need an account allowed
// to read them. orgOnly is not 0 when a constituent may read only the
// documents that concerned its organisation (AMBER).
func mayReadLabel(ctx context.Context, label string) (orgOnly int64, err error) {
	if label == "white" {
		return 0, nil
	}
	t, err := focal.ParseTLP(label)
	if err != nil {
		return 0, focal.Errorf(focal.ENOTFOUND, "no such TLP folder")
	}
	if err := authorize(ctx, focal.ActionRead, focal.Resource{Kind: focal.KindAdvisory, Object: true, TLP: t}); err != nil {
		return 0, err
	}
	p := focal.PrincipalFromContext(ctx)
	if !p.Role.Staff() && t != focal.TLPGreen {
		return p.OrgID, nil
	}
	return 0, nil
}

// orgCond restricts a document query to those that concerned orgID (0:
// no restriction), as its n-th argument.
func orgCond(orgID int64, n int) (string, []any) {
	if orgID == 0 {
		return "", nil
	}
	return " AND advisory_id IN (SELECT advisory_id FROM advisory_orgs WHERE org_id = $" + strconv.Itoa(n) + ")", []any{orgID}
}

// PublishedDocuments lists the published documents labelled label
// (white, green, amber or red), newest release first, without their
// bodies, in one read so a listing, a feed or an index is consistent.
// WHITE is public; other labels need an account that may read them.
func (s *Store) PublishedDocuments(ctx context.Context, label string) ([]*PublishedDocument, error) {
	orgOnly, err := mayReadLabel(ctx, label)
	if err != nil {
		return nil, err
	}
	cond, args := orgCond(orgOnly, 2)
	rows, err := s.rdb.QueryContext(ctx, "SELECT "+docColumns+" FROM advisory_documents WHERE label = $1"+cond+" ORDER BY current_release DESC, tracking_id",
		append([]any{label}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("published documents: %w", err)
	}
	defer rows.Close()
	var out []*PublishedDocument
	for rows.Next() {
		d, err := scanDoc(rows, false)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("published documents: %w", err)
	}
	return out, nil
}

// ReadableDocuments lists, in one read, the published documents of
// every label the caller may read (WHITE for anyone), newest release
// first, without their bodies: the provider's top-level index.
func (s *Store) ReadableDocuments(ctx context.Context) ([]*PublishedDocument, error) {
	var args []any
	var conds []string
	for _, l := range []string{"white", "green", "amber", "red"} {
		orgOnly, err := mayReadLabel(ctx, l)
		if err != nil {
			continue
		}
		args = append(args, l)
		c := "label = $" + strconv.Itoa(len(args))
		if orgOnly != 0 {
			oc, oa := orgCond(orgOnly, len(args)+1)
			c += oc
			args = append(args, oa...)
		}
		conds = append(conds, "("+c+")")
	}
	rows, err := s.rdb.QueryContext(ctx, "SELECT "+docColumns+" FROM advisory_documents WHERE "+strings.Join(conds, " OR ")+
		" ORDER BY current_release DESC, tracking_id", args...)
	if err != nil {
		return nil, fmt.Errorf("published documents: %w", err)
	}
	defer rows.Close()
	var out []*PublishedDocument
	for rows.Next() {
		d, err := scanDoc(rows, false)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("published documents: %w", err)
	}
	return out, nil
}

// PublishedDocument returns one published document with its body by its
// place in the provider (label, year, file name); ENOTFOUND if there is
// none or the caller may not read its label.
func (s *Store) PublishedDocument(ctx context.Context, label string, year int, filename string) (*PublishedDocument, error) {
	orgOnly, err := mayReadLabel(ctx, label)
	if err != nil {
		return nil, err
	}
	cond, args := orgCond(orgOnly, 4)
	d, err := scanDoc(s.rdb.QueryRowContext(ctx, "SELECT "+docColumns+", document FROM advisory_documents WHERE label = $1 AND year = $2 AND filename = $3"+cond,
		append([]any{label, year, filename}, args...)...), true)
	if err != nil {
		return nil, notFound(err, "document")
	}
	return d, nil
}

// AdvisoryDocument returns the published document of advisory id, for
// whoever may read the advisory; ENOTFOUND when it was never published.
func (s *Store) AdvisoryDocument(ctx context.Context, id int64) (*PublishedDocument, error) {
	d, err := scanDoc(s.rdb.QueryRowContext(ctx, "SELECT "+docColumns+", document FROM advisory_documents WHERE advisory_id = $1", id), true)
	if err != nil {
		return nil, notFound(err, "published document")
	}
	if d.Label == "white" {
		return d, nil
	}
	if _, err := s.Advisory(ctx, id); err != nil {
		return nil, err
	}
	return d, nil
}

// LastPublication returns when the provider last changed (the newest
// current release of any published document), zero if nothing is
// published.
func (s *Store) LastPublication(ctx context.Context) (time.Time, error) {
	var at sql.NullInt64
	if err := s.rdb.QueryRowContext(ctx, "SELECT MAX(current_release) FROM advisory_documents").Scan(&at); err != nil {
		return time.Time{}, fmt.Errorf("last publication: %w", err)
	}
	if !at.Valid {
		return time.Time{}, nil
	}
	return time.UnixMilli(at.Int64).UTC(), nil
}

// ProductDeclaration is a product an organisation says it runs, so
// advisories about it reach the organisation. Product "*" is every
// product of the vendor.
type ProductDeclaration struct {
	Vendor  string `json:"vendor"`
	Product string `json:"product"`
}

// SetOrgProducts replaces the products organisation orgID declares. The
// organisation itself (its constituents) and coordinators may; names are
// stored in lower case. Audited.
func (s *Store) SetOrgProducts(ctx context.Context, orgID int64, ps []ProductDeclaration) error {
	if err := authorize(ctx, focal.ActionUpdate, focal.Resource{Kind: focal.KindContacts, Object: true, OrgID: orgID}); err != nil {
		return hideOtherOrg(ctx, err, orgID)
	}
	var clean []ProductDeclaration
	seen := map[ProductDeclaration]bool{}
	for i, p := range ps {
		p.Vendor, p.Product = strings.ToLower(strings.TrimSpace(p.Vendor)), strings.ToLower(strings.TrimSpace(p.Product))
		if p.Vendor == "" && p.Product == "" {
			continue
		}
		if p.Vendor == "" || p.Product == "" || len(p.Vendor) > 200 || len(p.Product) > 200 {
			return focal.FieldErrorf(fmt.Sprintf("products.%d", i), "give a vendor and a product (or * for all its products)")
		}
		if !seen[p] {
			seen[p] = true
			clean = append(clean, p)
		}
	}
	if len(clean) > 1000 {
		return focal.FieldErrorf("products", "at most 1000 products")
	}
	return s.WithTx(ctx, func(tx *Tx) error {
		if _, err := tx.ExecContext(ctx, "DELETE FROM org_products WHERE org_id = $1", orgID); err != nil {
			return fmt.Errorf("set products: %w", err)
		}
		for _, p := range clean {
			if _, err := tx.ExecContext(ctx, "INSERT INTO org_products (org_id, vendor, product) VALUES ($1, $2, $3)", orgID, p.Vendor, p.Product); err != nil {
				return fmt.Errorf("set products: %w", err)
			}
		}
		return tx.audit(ctx, "org.products", "organisation", strconv.FormatInt(orgID, 10), nil, clean)
	})
}

// OrgProducts returns the products organisation orgID declared.
func (s *Store) OrgProducts(ctx context.Context, orgID int64) ([]ProductDeclaration, error) {
	if err := authorize(ctx, focal.ActionRead, focal.Resource{Kind: focal.KindContacts, Object: true, OrgID: orgID}); err != nil {
		return nil, hideOtherOrg(ctx, err, orgID)
	}
	rows, err := s.rdb.QueryContext(ctx, "SELECT vendor, product FROM org_products WHERE org_id = $1 ORDER BY vendor, product", orgID)
	if err != nil {
		return nil, fmt.Errorf("org products: %w", err)
	}
	defer rows.Close()
	var out []ProductDeclaration
	for rows.Next() {
		var p ProductDeclaration
		if err := rows.Scan(&p.Vendor, &p.Product); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}
