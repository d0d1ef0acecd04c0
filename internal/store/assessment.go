package store

import (
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"focal/internal/assess"
	"focal/internal/focal"
)

// The states of an assessment, in order.
const (
	AssessDraft     = "draft"
	AssessSubmitted = "submitted"
	AssessValidated = "validated"
	AssessPublished = "published"
)

// The transitions an assessment goes through (Transition's action).
const (
	ActSubmit   = "submit"   // draft → submitted (the assessor)
	ActReturn   = "return"   // submitted → draft (a validator sends it back)
	ActValidate = "validate" // submitted → validated (someone other than the author)
	ActPublish  = "publish"  // validated → published (a coordinator)
)

// The kinds of assessed subject.
var SubjectKinds = []string{"country", "sector", "organisation"}

// FrameworkInfo is a stored framework version without its body.
type FrameworkInfo struct {
	ID         int64     `json:"id"`
	Key        string    `json:"key"`
	Version    string    `json:"version"`
	Title      string    `json:"title"`
	Method     string    `json:"method"`
	SHA256     string    `json:"sha256"`
	Used       bool      `json:"used"`
	ImportedAt time.Time `json:"imported_at"`
	ImportedBy string    `json:"imported_by"`
}

// Ref names the framework version.
func (f FrameworkInfo) Ref() string { return f.Key + "@" + f.Version }

// Assessment is one assessment of a subject for a period under one
// framework version, with its answers.
type Assessment struct {
	ID          int64          `json:"id"`
	SubjectKind string         `json:"subject_kind"`
	Subject     string         `json:"subject"`
	SubjectName string         `json:"subject_name"`
	Period      string         `json:"period"`
	Year        int            `json:"year"`
	Framework   FrameworkInfo  `json:"framework"`
	Method      string         `json:"method"`
	State       string         `json:"state"`
	Revision    int            `json:"revision"`
	PreviousID  int64          `json:"previous_id,omitempty"`
	Superseded  bool           `json:"superseded"`
	Respondents []string       `json:"respondents"`
	AuthorID    int64          `json:"author_id"`
	Author      string         `json:"author"`
	ValidatorID int64          `json:"validator_id,omitempty"`
	Validator   string         `json:"validator,omitempty"`
	PublisherID int64          `json:"publisher_id,omitempty"`
	Publisher   string         `json:"publisher,omitempty"`
	Score       *assess.Result `json:"score,omitempty"`        // frozen at validation
	PublicScore *assess.Result `json:"public_score,omitempty"` // the same, public evidence only
	Diff        []AnswerChange `json:"diff,omitempty"`         // against the previous revision
	CreatedAt   time.Time      `json:"created_at"`
	UpdatedAt   time.Time      `json:"updated_at"`
	SubmittedAt time.Time      `json:"submitted_at,omitzero"`
	ValidatedAt time.Time      `json:"validated_at,omitzero"`
	PublishedAt time.Time      `json:"published_at,omitzero"`
	// Answers by question id; filled by Assessment, not by listings.
	Answers map[string]assess.Answer `json:"answers,omitempty"`
}

// AnswerChange is one difference between two revisions.
type AnswerChange struct {
	Item   string `json:"item"`
	Field  string `json:"field"`
	Before string `json:"before"`
	After  string `json:"after"`
}

// Validate checks the assessment's own fields (not its answers).
func (a *Assessment) Validate() error {
	a.Subject = strings.ToUpper(strings.TrimSpace(a.Subject))
	a.SubjectName = strings.TrimSpace(a.SubjectName)
	a.Period = strings.TrimSpace(a.Period)
	if a.SubjectKind == "" {
		a.SubjectKind = "country"
	}
	ok := false
	for _, k := range SubjectKinds {
		ok = ok || k == a.SubjectKind
	}
	if !ok {
		return focal.FieldErrorf("subject_kind", "want country, sector or organisation, got %q", a.SubjectKind)
	}
	if a.Subject == "" || len(a.Subject) > 32 {
		return focal.FieldErrorf("subject", "want a code of 1 to 32 characters, e.g. an ISO 3166 country code")
	}
	if a.SubjectName == "" || len(a.SubjectName) > 200 {
		return focal.FieldErrorf("subject_name", "want a name of 1 to 200 characters")
	}
	if a.Period == "" {
		a.Period = strconv.Itoa(a.Year)
	}
	if a.Year < 1990 || a.Year > 2200 {
		return focal.FieldErrorf("year", "want a year from 1990 to 2200")
	}
	if len(a.Period) > 32 {
		return focal.FieldErrorf("period", "at most 32 characters")
	}
	for i, r := range a.Respondents {
		a.Respondents[i] = strings.TrimSpace(r)
	}
	return nil
}

func authorizeAssess(ctx context.Context, a focal.Action) error {
	return authorize(ctx, a, focal.Resource{Kind: focal.KindAssessment})
}

// ImportFramework parses and stores a framework version and returns it.
// Importing the same body again is a no-op; a different body under an
// existing id and version replaces it only while no assessment uses it,
// else ECONFLICT (a used version is immutable: publish a new version).
// Parse errors are EINVALID with their location. Assessors and
// coordinators may; audited.
func (s *Store) ImportFramework(ctx context.Context, body []byte) (*FrameworkInfo, error) {
	if err := authorizeAssess(ctx, focal.ActionCreate); err != nil {
		return nil, err
	}
	f, err := assess.Parse(body)
	if err != nil {
		return nil, err
	}
	var info *FrameworkInfo
	err = s.WithTx(ctx, func(tx *Tx) error {
		info, err = importFramework(ctx, tx, f, body)
		return err
	})
	return info, err
}

func importFramework(ctx context.Context, tx *Tx, f *assess.Framework, body []byte) (*FrameworkInfo, error) {
	now := time.Now().UTC().Truncate(time.Millisecond)
	by := focal.PrincipalFromContext(ctx).Label()
	var id int64
	var sum string
	var used bool
	err := tx.QueryRowContext(ctx, "SELECT id, sha256, used FROM assess_frameworks WHERE key = $1 AND version = $2", f.ID, f.Version).Scan(&id, &sum, &used)
	switch {
	case err == nil && sum == f.Hash:
		return frameworkInfoTx(ctx, tx, id)
	case err == nil && used:
		return nil, focal.Errorf(focal.ECONFLICT, "%s is used by an assessment and can no longer change; import it as a new version", f.Ref())
	case err == nil:
		if _, err := tx.ExecContext(ctx, `UPDATE assess_frameworks SET title = $1, method = $2, body = $3, sha256 = $4, imported_at = $5, imported_by = $6 WHERE id = $7`,
			f.Title, f.Method, string(body), f.Hash, now.UnixMilli(), by, id); err != nil {
			return nil, fmt.Errorf("import framework: %w", err)
		}
	case errors.Is(err, sql.ErrNoRows):
		if err := tx.QueryRowContext(ctx, `INSERT INTO assess_frameworks (key, version, title, method, body, sha256, imported_at, imported_by)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`, f.ID, f.Version, f.Title, f.Method, string(body), f.Hash, now.UnixMilli(), by).Scan(&id); err != nil {
			return nil, fmt.Errorf("import framework: %w", err)
		}
	default:
		return nil, fmt.Errorf("import framework: %w", err)
	}
	if err := tx.audit(ctx, "framework.import", "framework", f.Ref(), nil, map[string]string{"sha256": f.Hash, "title": f.Title}); err != nil {
		return nil, err
	}
	return frameworkInfoTx(ctx, tx, id)
}

const frameworkInfoColumns = "id, key, version, title, method, sha256, used, imported_at, imported_by"

func scanFrameworkInfo(r interface{ Scan(...any) error }) (*FrameworkInfo, error) {
	var f FrameworkInfo
	var at int64
	if err := r.Scan(&f.ID, &f.Key, &f.Version, &f.Title, &f.Method, &f.SHA256, &f.Used, &at, &f.ImportedBy); err != nil {
		return nil, err
	}
	f.ImportedAt = time.UnixMilli(at).UTC()
	return &f, nil
}

func frameworkInfoTx(ctx context.Context, tx *Tx, id int64) (*FrameworkInfo, error) {
	f, err := scanFrameworkInfo(tx.QueryRowContext(ctx, "SELECT "+frameworkInfoColumns+" FROM assess_frameworks WHERE id = $1", id))
	if err != nil {
		return nil, notFound(err, "framework")
	}
	return f, nil
}

// EnsureFrameworks imports the frameworks focal ships with that are not
// stored yet (never replacing a stored one). Assessors and coordinators
// may.
func (s *Store) EnsureFrameworks(ctx context.Context) error {
	if err := authorizeAssess(ctx, focal.ActionCreate); err != nil {
		return err
	}
	fws, err := assess.Frameworks()
	if err != nil {
		return err
	}
	return s.WithTx(ctx, func(tx *Tx) error {
		for _, f := range fws {
			var n int
			if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM assess_frameworks WHERE key = $1 AND version = $2", f.ID, f.Version).Scan(&n); err != nil {
				return fmt.Errorf("ensure frameworks: %w", err)
			}
			if n > 0 {
				continue
			}
			body, err := f.Canonical()
			if err != nil {
				return err
			}
			if _, err := importFramework(ctx, tx, f, body); err != nil {
				return err
			}
		}
		return nil
	})
}

// Frameworks lists the stored framework versions, by key and version.
// Staff may.
func (s *Store) Frameworks(ctx context.Context) ([]FrameworkInfo, error) {
	if err := authorizeAssess(ctx, focal.ActionRead); err != nil {
		return nil, err
	}
	out := []FrameworkInfo{}
	err := eachRow(ctx, s.rdb, "SELECT "+frameworkInfoColumns+" FROM assess_frameworks ORDER BY key, version", nil, func(r *sql.Rows) error {
		f, err := scanFrameworkInfo(r)
		if err != nil {
			return err
		}
		out = append(out, *f)
		return nil
	})
	return out, err
}

// Framework returns a stored framework version, parsed, with its body
// as imported. Staff may; ENOTFOUND when absent.
func (s *Store) Framework(ctx context.Context, key, version string) (*assess.Framework, []byte, error) {
	if err := authorizeAssess(ctx, focal.ActionRead); err != nil {
		return nil, nil, err
	}
	return s.frameworkBy(ctx, "key = $1 AND version = $2", key, version)
}

func (s *Store) frameworkBy(ctx context.Context, cond string, args ...any) (*assess.Framework, []byte, error) {
	var body string
	if err := s.rdb.QueryRowContext(ctx, "SELECT body FROM assess_frameworks WHERE "+cond, args...).Scan(&body); err != nil {
		return nil, nil, notFound(err, "framework")
	}
	f, err := assess.Parse([]byte(body))
	if err != nil {
		return nil, nil, fmt.Errorf("stored framework: %w", err)
	}
	return f, []byte(body), nil
}

// CreateAssessment starts a draft assessment of a subject for a period
// under the framework version a.Framework.Key@Version (an embedded one is
// imported on first use) and sets a's ID. The caller is its author.
// Assessors and coordinators may; audited.
func (s *Store) CreateAssessment(ctx context.Context, a *Assessment) error {
	if err := authorizeAssess(ctx, focal.ActionCreate); err != nil {
		return err
	}
	if err := a.Validate(); err != nil {
		return err
	}
	p := focal.PrincipalFromContext(ctx)
	now := time.Now().UTC().Truncate(time.Millisecond)
	return s.WithTx(ctx, func(tx *Tx) error {
		info, err := s.frameworkForUse(ctx, tx, a.Framework.Key, a.Framework.Version)
		if err != nil {
			return err
		}
		if a.Method == "" {
			a.Method = info.Method
		}
		if assess.MethodVersion(a.Method) == "" {
			return focal.FieldErrorf("method", "unknown scoring method %q", a.Method)
		}
		resp, err := json.Marshal(nonNil(a.Respondents))
		if err != nil {
			return err
		}
		a.Framework, a.State, a.Revision = *info, AssessDraft, 1
		a.AuthorID, a.Author, a.CreatedAt, a.UpdatedAt = p.UserID, p.Label(), now, now
		if err := tx.QueryRowContext(ctx, `INSERT INTO assessments (subject_kind, subject, subject_name, period, year, framework_id, method, state,
			respondents, author_id, author, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id`,
			a.SubjectKind, a.Subject, a.SubjectName, a.Period, a.Year, info.ID, a.Method, a.State, string(resp), a.AuthorID, a.Author,
			now.UnixMilli(), now.UnixMilli()).Scan(&a.ID); err != nil {
			return fmt.Errorf("create assessment: %w", err)
		}
		if _, err := tx.ExecContext(ctx, "UPDATE assess_frameworks SET used = $1 WHERE id = $2", true, info.ID); err != nil {
			return fmt.Errorf("create assessment: %w", err)
		}
		return tx.audit(ctx, "assessment.create", "assessment", strconv.FormatInt(a.ID, 10), nil,
			map[string]any{"subject": a.Subject, "period": a.Period, "framework": info.Ref(), "method": a.Method})
	})
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// frameworkForUse finds a framework version in tx, importing an embedded
// one that is not stored yet.
func (s *Store) frameworkForUse(ctx context.Context, tx *Tx, key, version string) (*FrameworkInfo, error) {
	f, err := scanFrameworkInfo(tx.QueryRowContext(ctx, "SELECT "+frameworkInfoColumns+" FROM assess_frameworks WHERE key = $1 AND version = $2", key, version))
	if err == nil {
		return f, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("framework: %w", err)
	}
	fws, err := assess.Frameworks()
	if err != nil {
		return nil, err
	}
	for _, fw := range fws {
		if fw.ID == key && fw.Version == version {
			body, err := fw.Canonical()
			if err != nil {
				return nil, err
			}
			return importFramework(ctx, tx, fw, body)
		}
	}
	return nil, focal.FieldErrorf("framework", "no framework %s@%s", key, version)
}

const assessmentColumns = `a.id, a.subject_kind, a.subject, a.subject_name, a.period, a.year, a.method, a.state, a.revision, a.previous_id, a.superseded,
	a.respondents, a.author_id, a.author, a.validator_id, a.validator, a.publisher_id, a.publisher, a.score, a.public_score, a.diff,
	a.created_at, a.updated_at, a.submitted_at, a.validated_at, a.published_at,
	f.id, f.key, f.version, f.title, f.method, f.sha256, f.used, f.imported_at, f.imported_by`

const assessmentFrom = " FROM assessments a JOIN assess_frameworks f ON f.id = a.framework_id"

func scanAssessment(r interface{ Scan(...any) error }) (*Assessment, error) {
	var a Assessment
	var resp, score, pub, diff string
	var created, updated, sub, val, publ, fat int64
	if err := r.Scan(&a.ID, &a.SubjectKind, &a.Subject, &a.SubjectName, &a.Period, &a.Year, &a.Method, &a.State, &a.Revision, &a.PreviousID, &a.Superseded,
		&resp, &a.AuthorID, &a.Author, &a.ValidatorID, &a.Validator, &a.PublisherID, &a.Publisher, &score, &pub, &diff,
		&created, &updated, &sub, &val, &publ,
		&a.Framework.ID, &a.Framework.Key, &a.Framework.Version, &a.Framework.Title, &a.Framework.Method, &a.Framework.SHA256, &a.Framework.Used,
		&fat, &a.Framework.ImportedBy); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(resp), &a.Respondents); err != nil {
		return nil, fmt.Errorf("assessment %d respondents: %w", a.ID, err)
	}
	for _, j := range []struct {
		s string
		v any
	}{{score, &a.Score}, {pub, &a.PublicScore}, {diff, &a.Diff}} {
		if j.s == "" {
			continue
		}
		if err := json.Unmarshal([]byte(j.s), j.v); err != nil {
			return nil, fmt.Errorf("assessment %d: %w", a.ID, err)
		}
	}
	ms := func(v int64) time.Time {
		if v == 0 {
			return time.Time{}
		}
		return time.UnixMilli(v).UTC()
	}
	a.CreatedAt, a.UpdatedAt, a.SubmittedAt, a.ValidatedAt, a.PublishedAt = ms(created), ms(updated), ms(sub), ms(val), ms(publ)
	a.Framework.ImportedAt = ms(fat)
	return &a, nil
}

// AssessmentFilter selects assessments. The zero value lists them all.
type AssessmentFilter struct {
	Subject   string // a subject code
	Framework string // a framework key
	State     string
	// Current leaves out revisions superseded by a later one.
	Current bool
}

// Assessments lists assessments, newest year first, without answers.
// Staff may.
func (s *Store) Assessments(ctx context.Context, f AssessmentFilter) ([]*Assessment, error) {
	if err := authorizeAssess(ctx, focal.ActionRead); err != nil {
		return nil, err
	}
	return s.listAssessments(ctx, f)
}

// PublishedAssessments lists published, current assessments for the
// public pages: anyone may.
func (s *Store) PublishedAssessments(ctx context.Context, f AssessmentFilter) ([]*Assessment, error) {
	f.State, f.Current = AssessPublished, true
	return s.listAssessments(ctx, f)
}

func (s *Store) listAssessments(ctx context.Context, f AssessmentFilter) ([]*Assessment, error) {
	var conds []string
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		conds = append(conds, fmt.Sprintf(cond, len(args)))
	}
	if f.Subject != "" {
		add("a.subject = $%d", strings.ToUpper(f.Subject))
	}
	if f.Framework != "" {
		add("f.key = $%d", f.Framework)
	}
	if f.State != "" {
		add("a.state = $%d", f.State)
	}
	if f.Current {
		add("a.superseded = $%d", false)
	}
	q := "SELECT " + assessmentColumns + assessmentFrom
	if len(conds) > 0 {
		q += " WHERE " + strings.Join(conds, " AND ")
	}
	out := []*Assessment{}
	err := eachRow(ctx, s.rdb, q+" ORDER BY a.year DESC, a.subject, a.id DESC", args, func(r *sql.Rows) error {
		a, err := scanAssessment(r)
		if err != nil {
			return err
		}
		out = append(out, a)
		return nil
	})
	return out, err
}

// Assessment returns an assessment with its answers. Staff may;
// ENOTFOUND when absent.
func (s *Store) Assessment(ctx context.Context, id int64) (*Assessment, error) {
	if err := authorizeAssess(ctx, focal.ActionRead); err != nil {
		return nil, err
	}
	return s.loadAssessment(ctx, s.rdb, id)
}

// PublishedAssessment returns a published assessment for the public
// pages: restricted evidence is removed (the answer stays, its evidence
// does not), and so is the declared score when the caller asks for the
// public view. Anyone may; ENOTFOUND for any assessment not published.
func (s *Store) PublishedAssessment(ctx context.Context, id int64) (*Assessment, error) {
	a, err := s.loadAssessment(ctx, s.rdb, id)
	if err != nil {
		return nil, err
	}
	if a.State != AssessPublished {
		return nil, focal.Errorf(focal.ENOTFOUND, "assessment not found")
	}
	for k, ans := range a.Answers {
		if ans.Evidence.Visibility != assess.VisibilityPublic {
			ans.Evidence = assess.Evidence{}
		}
		ans.Comment = ""
		a.Answers[k] = ans
	}
	a.Respondents = nil
	// A correction's diff may name restricted evidence and comments.
	var diff []AnswerChange
	for _, c := range a.Diff {
		if c.Field == "value" || c.Field == "evidence_date" || c.Field == "visibility" {
			diff = append(diff, c)
		}
	}
	a.Diff = diff
	return a, nil
}

func (s *Store) loadAssessment(ctx context.Context, q rowQuerier, id int64) (*Assessment, error) {
	a, err := scanAssessment(q.QueryRowContext(ctx, "SELECT "+assessmentColumns+assessmentFrom+" WHERE a.id = $1", id))
	if err != nil {
		return nil, notFound(err, "assessment")
	}
	a.Answers = map[string]assess.Answer{}
	err = eachRow(ctx, q, `SELECT item, value, comment, evidence_url, evidence_sha256, evidence_name, evidence_date, uploaded_at, visibility, review_by,
		link_broken, link_status, link_checked_at, measured FROM assess_answers WHERE assessment_id = $1 ORDER BY item`, []any{id}, func(r *sql.Rows) error {
		var ans assess.Answer
		e := &ans.Evidence
		var up, checked int64
		var measured string
		if err := r.Scan(&ans.Item, &ans.Value, &ans.Comment, &e.URL, &e.SHA256, &e.FileName, &e.Date, &up, &e.Visibility, &e.ReviewBy,
			&e.LinkBroken, &e.LinkStatus, &checked, &measured); err != nil {
			return err
		}
		if up != 0 {
			e.UploadedAt = time.UnixMilli(up).UTC()
		}
		if checked != 0 {
			e.LinkCheckedAt = time.UnixMilli(checked).UTC()
		}
		if measured != "" {
			ans.Measured = &assess.Measurement{}
			if err := json.Unmarshal([]byte(measured), ans.Measured); err != nil {
				return fmt.Errorf("answer %s: %w", ans.Item, err)
			}
		}
		a.Answers[ans.Item] = ans
		return nil
	})
	if err != nil {
		return nil, err
	}
	return a, nil
}

// FrameworkOf returns the parsed framework version an assessment uses.
func (s *Store) FrameworkOf(ctx context.Context, a *Assessment) (*assess.Framework, error) {
	f, _, err := s.frameworkBy(ctx, "id = $1", a.Framework.ID)
	return f, err
}

// SaveAnswer records (or replaces) the answer to one question of a draft
// assessment, after checking it against the framework (EINVALID naming
// the field: a value off the question's scale, an evidence URL that does
// not parse). A file's upload time is kept from an earlier save of the
// same file. Assessors and coordinators may; audited.
func (s *Store) SaveAnswer(ctx context.Context, id int64, ans assess.Answer) error {
	if err := authorizeAssess(ctx, focal.ActionUpdate); err != nil {
		return err
	}
	p := focal.PrincipalFromContext(ctx)
	now := time.Now().UTC().Truncate(time.Millisecond)
	return s.WithTx(ctx, func(tx *Tx) error {
		a, err := s.loadAssessment(ctx, tx, id)
		if err != nil {
			return err
		}
		if a.State != AssessDraft {
			return focal.Errorf(focal.ECONFLICT, "assessment %d is %s: only a draft takes answers (publish a correction as a new revision)", id, a.State)
		}
		f, _, err := s.frameworkBy(ctx, "id = $1", a.Framework.ID)
		if err != nil {
			return err
		}
		if err := assess.ValidateAnswer(f, &ans); err != nil {
			return err
		}
		before, had := a.Answers[ans.Item]
		e := ans.Evidence
		if e.SHA256 != "" {
			if had && before.Evidence.SHA256 == e.SHA256 && !before.Evidence.UploadedAt.IsZero() {
				e.UploadedAt = before.Evidence.UploadedAt
			} else if e.UploadedAt.IsZero() {
				e.UploadedAt = now
			}
		} else {
			e.UploadedAt = time.Time{}
		}
		// A changed URL has not been checked yet.
		if had && before.Evidence.URL == e.URL {
			e.LinkBroken, e.LinkStatus, e.LinkCheckedAt = before.Evidence.LinkBroken, before.Evidence.LinkStatus, before.Evidence.LinkCheckedAt
		} else {
			e.LinkBroken, e.LinkStatus, e.LinkCheckedAt = false, "", time.Time{}
		}
		measured := ""
		if ans.Measured != nil {
			b, err := json.Marshal(ans.Measured)
			if err != nil {
				return err
			}
			measured = string(b)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO assess_answers (assessment_id, item, value, comment, evidence_url, evidence_sha256, evidence_name,
			evidence_date, uploaded_at, visibility, review_by, link_broken, link_status, link_checked_at, measured, answered_by, answered_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
			ON CONFLICT (assessment_id, item) DO UPDATE SET value = excluded.value, comment = excluded.comment, evidence_url = excluded.evidence_url,
			evidence_sha256 = excluded.evidence_sha256, evidence_name = excluded.evidence_name, evidence_date = excluded.evidence_date,
			uploaded_at = excluded.uploaded_at, visibility = excluded.visibility, review_by = excluded.review_by, link_broken = excluded.link_broken,
			link_status = excluded.link_status, link_checked_at = excluded.link_checked_at, measured = excluded.measured,
			answered_by = excluded.answered_by, answered_at = excluded.answered_at`,
			id, ans.Item, ans.Value, ans.Comment, e.URL, e.SHA256, e.FileName, e.Date, msOrZero(e.UploadedAt), e.Visibility, e.ReviewBy,
			e.LinkBroken, e.LinkStatus, msOrZero(e.LinkCheckedAt), measured, p.Label(), now.UnixMilli()); err != nil {
			return fmt.Errorf("save answer: %w", err)
		}
		if _, err := tx.ExecContext(ctx, "UPDATE assessments SET updated_at = $1 WHERE id = $2", now.UnixMilli(), id); err != nil {
			return fmt.Errorf("save answer: %w", err)
		}
		var old any
		if had {
			old = answerAudit(before)
		}
		return tx.audit(ctx, "assessment.answer", "assessment", strconv.FormatInt(id, 10), old, answerAudit(ans))
	})
}

func msOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func answerAudit(a assess.Answer) map[string]string {
	return map[string]string{"item": a.Item, "value": a.Value, "evidence_url": a.Evidence.URL, "evidence_sha256": a.Evidence.SHA256,
		"evidence_date": a.Evidence.Date, "visibility": a.Evidence.Visibility}
}

// Transition moves an assessment through its states: submit (draft →
// submitted, by an assessor or coordinator), return (submitted → draft),
// validate (submitted → validated, by someone other than its author; the
// score is computed and frozen), publish (validated → published, by a
// coordinator; a correction supersedes the revision it corrects and
// records its diff). A wrong state is ECONFLICT, a wrong person
// EFORBIDDEN. Audited.
func (s *Store) Transition(ctx context.Context, id int64, action string) (*Assessment, error) {
	if err := authorizeAssess(ctx, focal.ActionUpdate); err != nil {
		return nil, err
	}
	p := focal.PrincipalFromContext(ctx)
	now := time.Now().UTC().Truncate(time.Millisecond)
	var out *Assessment
	err := s.WithTx(ctx, func(tx *Tx) error {
		a, err := s.loadAssessment(ctx, tx, id)
		if err != nil {
			return err
		}
		from := a.State
		if need, ok := map[string]string{ActSubmit: AssessDraft, ActReturn: AssessSubmitted, ActValidate: AssessSubmitted, ActPublish: AssessValidated}[action]; ok && from != need {
			return focal.Errorf(focal.ECONFLICT, "assessment %d is %s; %s needs it %s", id, from, action, need)
		}
		var want, to string
		set := ""
		var args []any
		switch action {
		case ActSubmit:
			want, to, set = AssessDraft, AssessSubmitted, "submitted_at = $3"
			args = []any{now.UnixMilli()}
		case ActReturn:
			want, to, set = AssessSubmitted, AssessDraft, "submitted_at = $3"
			args = []any{0}
		case ActValidate:
			want, to = AssessSubmitted, AssessValidated
			if p.UserID != 0 && p.UserID == a.AuthorID {
				return focal.Errorf(focal.EFORBIDDEN, "the author of an assessment may not validate it: another person must")
			}
			f, _, err := s.frameworkBy(ctx, "id = $1", a.Framework.ID)
			if err != nil {
				return err
			}
			declared, err := assess.Score(f, a.Answers, assess.Options{Method: a.Method})
			if err != nil {
				return err
			}
			public, err := assess.Score(f, a.Answers, assess.Options{Method: a.Method, PublicOnly: true})
			if err != nil {
				return err
			}
			ds, err := json.Marshal(declared)
			if err != nil {
				return err
			}
			ps, err := json.Marshal(public)
			if err != nil {
				return err
			}
			set = "validated_at = $3, validator_id = $4, validator = $5, score = $6, public_score = $7"
			args = []any{now.UnixMilli(), p.UserID, p.Label(), string(ds), string(ps)}
		case ActPublish:
			want, to = AssessValidated, AssessPublished
			if p.Role != focal.RoleCoordinator {
				return focal.Errorf(focal.EFORBIDDEN, "only a coordinator publishes an assessment")
			}
			diff := ""
			if a.PreviousID != 0 {
				prev, err := s.loadAssessment(ctx, tx, a.PreviousID)
				if err != nil {
					return err
				}
				b, err := json.Marshal(DiffAnswers(prev.Answers, a.Answers))
				if err != nil {
					return err
				}
				diff = string(b)
				if _, err := tx.ExecContext(ctx, "UPDATE assessments SET superseded = $1, updated_at = $2 WHERE id = $3", true, now.UnixMilli(), a.PreviousID); err != nil {
					return fmt.Errorf("publish: %w", err)
				}
			}
			set = "published_at = $3, publisher_id = $4, publisher = $5, diff = $6"
			args = []any{now.UnixMilli(), p.UserID, p.Label(), diff}
		default:
			return focal.FieldErrorf("action", "unknown action %q; want submit, return, validate or publish", action)
		}
		if from != want {
			return focal.Errorf(focal.ECONFLICT, "assessment %d is %s; %s needs it %s", id, from, action, want)
		}
		res, err := tx.ExecContext(ctx, "UPDATE assessments SET state = $1, updated_at = $2, "+set+fmt.Sprintf(" WHERE id = $%d AND state = $%d", len(args)+3, len(args)+4),
			append(append([]any{to, now.UnixMilli()}, args...), id, from)...)
		if err != nil {
			return fmt.Errorf("%s assessment: %w", action, err)
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return focal.Errorf(focal.ECONFLICT, "assessment %d changed meanwhile", id)
		}
		if err := tx.audit(ctx, "assessment."+action, "assessment", strconv.FormatInt(id, 10), map[string]string{"state": from}, map[string]string{"state": to}); err != nil {
			return err
		}
		out, err = s.loadAssessment(ctx, tx, id)
		return err
	})
	return out, err
}

// Revise starts a correction of a published assessment: a new draft
// revision with the same subject, period, framework and answers. The
// published one stays public until the correction is published. Assessors
// and coordinators may; audited.
func (s *Store) Revise(ctx context.Context, id int64) (*Assessment, error) {
	if err := authorizeAssess(ctx, focal.ActionCreate); err != nil {
		return nil, err
	}
	p := focal.PrincipalFromContext(ctx)
	now := time.Now().UTC().Truncate(time.Millisecond)
	var newID int64
	err := s.WithTx(ctx, func(tx *Tx) error {
		a, err := s.loadAssessment(ctx, tx, id)
		if err != nil {
			return err
		}
		if a.State != AssessPublished || a.Superseded {
			return focal.Errorf(focal.ECONFLICT, "only the current published revision is corrected; assessment %d is %s", id, a.State)
		}
		var open int
		if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM assessments WHERE previous_id = $1 AND state <> $2", id, AssessPublished).Scan(&open); err != nil {
			return fmt.Errorf("revise: %w", err)
		}
		if open > 0 {
			return focal.Errorf(focal.ECONFLICT, "a correction of assessment %d is already in progress", id)
		}
		resp, err := json.Marshal(nonNil(a.Respondents))
		if err != nil {
			return err
		}
		if err := tx.QueryRowContext(ctx, `INSERT INTO assessments (subject_kind, subject, subject_name, period, year, framework_id, method, state,
			revision, previous_id, respondents, author_id, author, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) RETURNING id`,
			a.SubjectKind, a.Subject, a.SubjectName, a.Period, a.Year, a.Framework.ID, a.Method, AssessDraft, a.Revision+1, a.ID,
			string(resp), p.UserID, p.Label(), now.UnixMilli(), now.UnixMilli()).Scan(&newID); err != nil {
			return fmt.Errorf("revise: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO assess_answers (assessment_id, item, value, comment, evidence_url, evidence_sha256, evidence_name,
			evidence_date, uploaded_at, visibility, review_by, link_broken, link_status, link_checked_at, measured, answered_by, answered_at)
			SELECT $1, item, value, comment, evidence_url, evidence_sha256, evidence_name, evidence_date, uploaded_at, visibility, review_by,
			link_broken, link_status, link_checked_at, measured, answered_by, answered_at FROM assess_answers WHERE assessment_id = $2`, newID, id); err != nil {
			return fmt.Errorf("revise: %w", err)
		}
		return tx.audit(ctx, "assessment.revise", "assessment", strconv.FormatInt(newID, 10), map[string]int64{"corrects": id},
			map[string]int{"revision": a.Revision + 1})
	})
	if err != nil {
		return nil, err
	}
	return s.loadAssessment(ctx, s.rdb, newID)
}

// DiffAnswers lists what changed from one set of answers to another, by
// question and field.
func DiffAnswers(before, after map[string]assess.Answer) []AnswerChange {
	items := map[string]bool{}
	for k := range before {
		items[k] = true
	}
	for k := range after {
		items[k] = true
	}
	keys := make([]string, 0, len(items))
	for k := range items {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := []AnswerChange{}
	for _, k := range keys {
		b, a := before[k], after[k]
		for _, f := range []struct{ name, b, a string }{
			{"value", b.Value, a.Value}, {"comment", b.Comment, a.Comment}, {"evidence_url", b.Evidence.URL, a.Evidence.URL},
			{"evidence_sha256", b.Evidence.SHA256, a.Evidence.SHA256}, {"evidence_date", b.Evidence.Date, a.Evidence.Date},
			{"visibility", b.Evidence.Visibility, a.Evidence.Visibility},
		} {
			if f.b != f.a {
				out = append(out, AnswerChange{Item: k, Field: f.name, Before: f.b, After: f.a})
			}
		}
	}
	return out
}

// ScoreAssessment scores an assessment's stored answers under its own
// framework version with o (o.Method "" = the assessment's method): the
// same answers always give the same score.
func (s *Store) ScoreAssessment(ctx context.Context, a *Assessment, o assess.Options) (*assess.Result, error) {
	f, err := s.FrameworkOf(ctx, a)
	if err != nil {
		return nil, err
	}
	if o.Method == "" {
		o.Method = a.Method
	}
	return assess.Score(f, a.Answers, o)
}

// CompareAssessments scores two assessments on one ruler: directly when
// they share a framework version, else through the newer one's crosswalk
// with the overlap shown (ECONFLICT below minOverlap).
func (s *Store) CompareAssessments(ctx context.Context, before, after *Assessment, o assess.Options, minOverlap float64) (*assess.Comparison, error) {
	bf, err := s.FrameworkOf(ctx, before)
	if err != nil {
		return nil, err
	}
	af, err := s.FrameworkOf(ctx, after)
	if err != nil {
		return nil, err
	}
	if o.Method == "" {
		o.Method = after.Method
	}
	return assess.Compare(bf, before.Answers, af, after.Answers, o, minOverlap)
}

// WriteCSV writes x as CSV with a header: one row per question of f (its
// framework) with its answer, evidence and its line of the score trace,
// and a last row with the total and the ruler. publicOnly leaves out
// restricted evidence and comments (for the public pages).
func (x *Assessment) WriteCSV(w io.Writer, f *assess.Framework, publicOnly bool) error {
	score := x.Score
	if score == nil {
		var err error
		if score, err = assess.Score(f, x.Answers, assess.Options{Method: x.Method}); err != nil {
			return err
		}
	}
	lines := map[string]assess.Line{}
	for _, l := range score.Trace {
		lines[l.Item] = l
	}
	cw := csv.NewWriter(w)
	if err := cw.Write([]string{"subject", "period", "framework", "item", "pillar", "question", "value", "points", "max", "note", "evidence_url",
		"evidence_sha256", "evidence_date", "visibility", "review_by", "link_broken", "comment"}); err != nil {
		return err
	}
	for _, q := range f.Questions() {
		ans := x.Answers[q.ID]
		e := ans.Evidence
		if publicOnly && e.Visibility != assess.VisibilityPublic {
			e = assess.Evidence{}
		}
		comment := ans.Comment
		if publicOnly {
			comment = ""
		}
		l := lines[q.ID]
		if err := cw.Write([]string{x.Subject, x.Period, x.Framework.Ref(), q.ID, f.Top(q.ID).Title, csvSafe(q.Title), ans.Value,
			ftoa(l.Points), ftoa(l.Max), l.Note, csvSafe(e.URL), e.SHA256, e.Date, e.Visibility, e.ReviewBy, strconv.FormatBool(e.LinkBroken), csvSafe(comment)}); err != nil {
			return err
		}
	}
	if err := cw.Write([]string{x.Subject, x.Period, x.Framework.Ref(), "TOTAL", "", "", "", ftoa(score.Total), ftoa(score.Max),
		"ruler " + score.Ruler.ID + " method " + score.Ruler.Method + " v" + score.Ruler.MethodVersion, "", "", "", "", "", "", ""}); err != nil {
		return err
	}
	cw.Flush()
	return cw.Error()
}

func ftoa(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// csvSafe defuses a cell a spreadsheet would run as a formula.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// RescoreAssessment scores a's stored answers under another framework
// version (key@version): the answers are carried through that version's
// crosswalk, and the overlap says how many of its questions they cover.
// The stored score of a never changes. Staff may.
func (s *Store) RescoreAssessment(ctx context.Context, a *Assessment, key, version string, o assess.Options) (*assess.Result, *assess.Overlap, error) {
	if err := authorizeAssess(ctx, focal.ActionRead); err != nil {
		return nil, nil, err
	}
	from, err := s.FrameworkOf(ctx, a)
	if err != nil {
		return nil, nil, err
	}
	to, _, err := s.frameworkBy(ctx, "key = $1 AND version = $2", key, version)
	if err != nil {
		return nil, nil, err
	}
	answers, ov := assess.Translate(from, to, a.Answers)
	if o.Method == "" {
		o.Method = to.Method
	}
	res, err := assess.Score(to, answers, o)
	if err != nil {
		return nil, nil, err
	}
	return res, &ov, nil
}
