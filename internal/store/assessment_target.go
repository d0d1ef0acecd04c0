package store

import (
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"focal/internal/assess"
	"focal/internal/focal"
)

// AssessTarget is a stored target: its definition, the baseline
// assessment it starts from, and the value computed when it was set.
type AssessTarget struct {
	ID           int64              `json:"id"`
	Subject      string             `json:"subject"`
	FrameworkKey string             `json:"framework"`
	AssessmentID int64              `json:"baseline_assessment_id"`
	Definition   assess.Target      `json:"definition"`
	Value        assess.TargetValue `json:"value"`
	CreatedAt    time.Time          `json:"created_at"`
	CreatedBy    string             `json:"created_by"`
}

// SetTarget computes and stores a target from the score of a validated
// or published baseline assessment: the baseline score, its year and the
// ruler's maximum come from that assessment, the rest from def (for a
// penetration-adjusted target, the peers and the subject's penetration
// come from def.Series, a reference series, when def.Peers is empty).
// Assessors and coordinators may; audited.
func (s *Store) SetTarget(ctx context.Context, baselineID int64, def assess.Target, peerSubjects []string) (*AssessTarget, error) {
	if err := authorizeAssess(ctx, focal.ActionCreate); err != nil {
		return nil, err
	}
	a, err := s.loadAssessment(ctx, s.rdb, baselineID)
	if err != nil {
		return nil, err
	}
	if a.Score == nil {
		return nil, focal.FieldErrorf("baseline_assessment_id", "assessment %d has no validated score to start from", baselineID)
	}
	f, err := s.FrameworkOf(ctx, a)
	if err != nil {
		return nil, err
	}
	def.Baseline, def.Max = a.Score.Total, a.Score.Max
	if def.BaselineYear == 0 {
		def.BaselineYear = a.Year
	}
	if def.Kind == assess.TargetPenetration && len(def.Peers) == 0 {
		if def.Series == "" {
			return nil, focal.FieldErrorf("series", "name the penetration series (or give the peers)")
		}
		if def.Penetration, def.Peers, err = s.peerSet(ctx, def.Series, a, peerSubjects); err != nil {
			return nil, err
		}
	}
	if err := def.Validate(); err != nil {
		return nil, err
	}
	v, err := def.Compute(f)
	if err != nil {
		return nil, err
	}
	t := &AssessTarget{Subject: a.Subject, FrameworkKey: a.Framework.Key, AssessmentID: a.ID, Definition: def, Value: v,
		CreatedAt: time.Now().UTC().Truncate(time.Millisecond), CreatedBy: focal.PrincipalFromContext(ctx).Label()}
	body, err := json.Marshal(def)
	if err != nil {
		return nil, err
	}
	err = s.WithTx(ctx, func(tx *Tx) error {
		if err := tx.QueryRowContext(ctx, `INSERT INTO assess_targets (subject, framework_key, assessment_id, definition, value, note, created_at, created_by)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`, t.Subject, t.FrameworkKey, t.AssessmentID, string(body), v.Value, v.Note,
			t.CreatedAt.UnixMilli(), t.CreatedBy).Scan(&t.ID); err != nil {
			return fmt.Errorf("set target: %w", err)
		}
		return tx.audit(ctx, "assessment.target", "assessment", strconv.FormatInt(a.ID, 10), nil, t)
	})
	if err != nil {
		return nil, err
	}
	return t, nil
}

// peerSet reads the penetration of the assessment's subject and its
// peers (their latest published score on the same framework) from a
// reference series, the latest value up to the assessment's year.
func (s *Store) peerSet(ctx context.Context, series string, a *Assessment, peers []string) (float64, []assess.PeerPoint, error) {
	pen := func(subject string) (float64, bool, error) {
		var v float64
		err := s.rdb.QueryRowContext(ctx, `SELECT p.value FROM assess_series_points p JOIN assess_series s ON s.id = p.series_id
			WHERE s.name = $1 AND p.subject = $2 AND p.year <= $3 ORDER BY p.year DESC, s.imported_at DESC LIMIT 1`, series, subject, a.Year).Scan(&v)
		if errors.Is(err, sql.ErrNoRows) {
			return 0, false, nil
		}
		return v, err == nil, err
	}
	own, ok, err := pen(a.Subject)
	if err != nil {
		return 0, nil, fmt.Errorf("peer set: %w", err)
	}
	if !ok {
		return 0, nil, focal.FieldErrorf("series", "series %q has no value for %s up to %d", series, a.Subject, a.Year)
	}
	if len(peers) == 0 {
		list, err := s.listAssessments(ctx, AssessmentFilter{Framework: a.Framework.Key, Current: true})
		if err != nil {
			return 0, nil, err
		}
		seen := map[string]bool{a.Subject: true}
		for _, p := range list {
			if !seen[p.Subject] && p.Score != nil {
				seen[p.Subject] = true
				peers = append(peers, p.Subject)
			}
		}
	}
	var out []assess.PeerPoint
	for _, subj := range peers {
		subj = strings.ToUpper(strings.TrimSpace(subj))
		list, err := s.listAssessments(ctx, AssessmentFilter{Subject: subj, Framework: a.Framework.Key, Current: true})
		if err != nil {
			return 0, nil, err
		}
		var score *assess.Result
		for _, p := range list {
			if p.Score != nil && p.Method == a.Method {
				score = p.Score
				break
			}
		}
		v, ok, err := pen(subj)
		if err != nil {
			return 0, nil, fmt.Errorf("peer set: %w", err)
		}
		if score == nil || !ok {
			continue
		}
		out = append(out, assess.PeerPoint{Subject: subj, Score: score.Total, Penetration: v})
	}
	return own, out, nil
}

// Targets lists the targets set for a subject ("" for all), newest first.
// Staff may.
func (s *Store) Targets(ctx context.Context, subject string) ([]AssessTarget, error) {
	if err := authorizeAssess(ctx, focal.ActionRead); err != nil {
		return nil, err
	}
	return s.targets(ctx, subject)
}

func (s *Store) targets(ctx context.Context, subject string) ([]AssessTarget, error) {
	q, args := "SELECT id, subject, framework_key, assessment_id, definition, value, note, created_at, created_by FROM assess_targets", []any{}
	if subject != "" {
		q, args = q+" WHERE subject = $1", append(args, strings.ToUpper(subject))
	}
	out := []AssessTarget{}
	err := eachRow(ctx, s.rdb, q+" ORDER BY id DESC", args, func(r *sql.Rows) error {
		var t AssessTarget
		var def string
		var at int64
		if err := r.Scan(&t.ID, &t.Subject, &t.FrameworkKey, &t.AssessmentID, &def, &t.Value.Value, &t.Value.Note, &at, &t.CreatedBy); err != nil {
			return err
		}
		if err := json.Unmarshal([]byte(def), &t.Definition); err != nil {
			return fmt.Errorf("target %d: %w", t.ID, err)
		}
		t.Value.Feasible = true
		if v, err := t.Definition.Compute(nil); err == nil {
			t.Value = v
		}
		t.CreatedAt = time.UnixMilli(at).UTC()
		out = append(out, t)
		return nil
	})
	return out, err
}

// PublishedTargets lists a subject's targets whose baseline is published,
// for the public pages; the peer set's scores are left out. Anyone may.
func (s *Store) PublishedTargets(ctx context.Context, subject string) ([]AssessTarget, error) {
	all, err := s.targets(ctx, subject)
	if err != nil {
		return nil, err
	}
	var out []AssessTarget
	for _, t := range all {
		var state string
		if err := s.rdb.QueryRowContext(ctx, "SELECT state FROM assessments WHERE id = $1", t.AssessmentID).Scan(&state); err != nil {
			return nil, fmt.Errorf("published targets: %w", err)
		}
		if state == AssessPublished {
			// The peers' scores may not be published themselves.
			t.Definition.Peers = nil
			out = append(out, t)
		}
	}
	return out, nil
}

// Series is a reference series: numbers published by others (benchmark
// scores, ICT penetration), kept apart from the subjects' own scores.
type Series struct {
	ID         int64     `json:"id"`
	Name       string    `json:"name"`
	Vintage    string    `json:"vintage"`
	Source     string    `json:"source"`
	Licence    string    `json:"licence"`
	Unit       string    `json:"unit"`
	ImportedAt time.Time `json:"imported_at"`
	ImportedBy string    `json:"imported_by"`
	Points     int       `json:"points"`
}

// SeriesPoint is one value of a series.
type SeriesPoint struct {
	Series  string  `json:"series"`
	Vintage string  `json:"vintage"`
	Subject string  `json:"subject"`
	Year    int     `json:"year"`
	Value   float64 `json:"value"`
}

// MaxSeriesRows bounds a series import.
const MaxSeriesRows = 100000

// ImportSeries reads a CSV with the header subject,year,value (one row per
// subject and year) into the series meta.Name at meta.Vintage, replacing
// an import of the same name and vintage. Errors name the line and
// column. Assessors and coordinators may; audited.
func (s *Store) ImportSeries(ctx context.Context, meta Series, r io.Reader) (*Series, error) {
	if err := authorizeAssess(ctx, focal.ActionCreate); err != nil {
		return nil, err
	}
	meta.Name, meta.Vintage = strings.TrimSpace(meta.Name), strings.TrimSpace(meta.Vintage)
	if meta.Name == "" || len(meta.Name) > 100 {
		return nil, focal.FieldErrorf("name", "want a series name of 1 to 100 characters")
	}
	if meta.Vintage == "" || len(meta.Vintage) > 50 {
		return nil, focal.FieldErrorf("vintage", "want the source's edition or retrieval date")
	}
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = 3
	head, err := cr.Read()
	if err != nil {
		return nil, focal.FieldErrorf("line 1", "want a header subject,year,value: %v", err)
	}
	for i, want := range []string{"subject", "year", "value"} {
		if strings.ToLower(strings.TrimSpace(strings.TrimPrefix(head[i], "\ufeff"))) != want {
			return nil, focal.FieldErrorf(fmt.Sprintf("line 1, column %d", i+1), "want %q, got %q", want, head[i])
		}
	}
	var pts []SeriesPoint
	seen := map[string]int{}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		line, _ := cr.FieldPos(0)
		if err != nil {
			return nil, focal.FieldErrorf(fmt.Sprintf("line %d", line), "%v", err)
		}
		if len(pts) >= MaxSeriesRows {
			return nil, focal.Errorf(focal.ETOOLARGE, "more than %d rows", MaxSeriesRows)
		}
		subj := strings.ToUpper(strings.TrimSpace(rec[0]))
		if subj == "" || len(subj) > 32 {
			return nil, focal.FieldErrorf(fmt.Sprintf("line %d, column 1", line), "want a subject code")
		}
		year, err := strconv.Atoi(strings.TrimSpace(rec[1]))
		if err != nil || year < 1900 || year > 2200 {
			return nil, focal.FieldErrorf(fmt.Sprintf("line %d, column 2", line), "want a year, got %q", rec[1])
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(rec[2]), 64)
		if err != nil {
			return nil, focal.FieldErrorf(fmt.Sprintf("line %d, column 3", line), "want a number, got %q", rec[2])
		}
		key := subj + "/" + strconv.Itoa(year)
		if prev, dup := seen[key]; dup {
			return nil, focal.FieldErrorf(fmt.Sprintf("line %d", line), "%s %d already given on line %d", subj, year, prev)
		}
		seen[key] = line
		pts = append(pts, SeriesPoint{Subject: subj, Year: year, Value: v})
	}
	meta.ImportedAt = time.Now().UTC().Truncate(time.Millisecond)
	meta.ImportedBy = focal.PrincipalFromContext(ctx).Label()
	meta.Points = len(pts)
	err = s.WithTx(ctx, func(tx *Tx) error {
		if _, err := tx.ExecContext(ctx, "DELETE FROM assess_series WHERE name = $1 AND vintage = $2", meta.Name, meta.Vintage); err != nil {
			return fmt.Errorf("import series: %w", err)
		}
		if err := tx.QueryRowContext(ctx, `INSERT INTO assess_series (name, vintage, source, licence, unit, imported_at, imported_by)
			VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`, meta.Name, meta.Vintage, meta.Source, meta.Licence, meta.Unit,
			meta.ImportedAt.UnixMilli(), meta.ImportedBy).Scan(&meta.ID); err != nil {
			return fmt.Errorf("import series: %w", err)
		}
		for _, p := range pts {
			if _, err := tx.ExecContext(ctx, "INSERT INTO assess_series_points (series_id, subject, year, value) VALUES ($1, $2, $3, $4)",
				meta.ID, p.Subject, p.Year, p.Value); err != nil {
				return fmt.Errorf("import series: %w", err)
			}
		}
		return tx.audit(ctx, "series.import", "series", meta.Name+"@"+meta.Vintage, nil, map[string]any{"points": len(pts), "source": meta.Source})
	})
	if err != nil {
		return nil, err
	}
	return &meta, nil
}

// ListSeries lists the imported reference series. Anyone may: they are
// published numbers (the public pages show them next to scores).
func (s *Store) ListSeries(ctx context.Context) ([]Series, error) {
	out := []Series{}
	err := eachRow(ctx, s.rdb, `SELECT s.id, s.name, s.vintage, s.source, s.licence, s.unit, s.imported_at, s.imported_by,
		(SELECT COUNT(*) FROM assess_series_points p WHERE p.series_id = s.id) FROM assess_series s ORDER BY s.name, s.vintage`, nil, func(r *sql.Rows) error {
		var x Series
		var at int64
		if err := r.Scan(&x.ID, &x.Name, &x.Vintage, &x.Source, &x.Licence, &x.Unit, &at, &x.ImportedBy, &x.Points); err != nil {
			return err
		}
		x.ImportedAt = time.UnixMilli(at).UTC()
		out = append(out, x)
		return nil
	})
	return out, err
}

// SeriesPoints returns the points of the named series (every vintage,
// the latest import first within a subject and year) for the subjects
// given (all when none).
func (s *Store) SeriesPoints(ctx context.Context, name string, subjects []string) ([]SeriesPoint, error) {
	q := `SELECT s.name, s.vintage, p.subject, p.year, p.value FROM assess_series_points p JOIN assess_series s ON s.id = p.series_id WHERE s.name = $1`
	args := []any{name}
	if len(subjects) > 0 {
		var ph []string
		for _, subj := range subjects {
			args = append(args, strings.ToUpper(subj))
			ph = append(ph, fmt.Sprintf("$%d", len(args)))
		}
		q += " AND p.subject IN (" + strings.Join(ph, ", ") + ")"
	}
	out := []SeriesPoint{}
	err := eachRow(ctx, s.rdb, q+" ORDER BY p.subject, p.year, s.imported_at DESC", args, func(r *sql.Rows) error {
		var p SeriesPoint
		if err := r.Scan(&p.Series, &p.Vintage, &p.Subject, &p.Year, &p.Value); err != nil {
			return err
		}
		out = append(out, p)
		return nil
	})
	return out, err
}
