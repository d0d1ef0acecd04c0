package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"focal/internal/focal"
)

// MaxRunProblems bounds the quarantined lines kept per run; every problem
// is counted, the first MaxRunProblems are kept with their line and raw
// text.
const MaxRunProblems = 1000

const feedColumns = `id, name, format, url, provider, tlp, confidence, interval_s, options, class, type,
	dedup_fields, dedup_window_s, expire_s, enabled, etag, last_modified, next_run, created, updated`

func scanFeed(sc interface{ Scan(...any) error }) (*focal.FeedDef, error) {
	var f focal.FeedDef
	var tlp, opts, dedup string
	var interval, window, expire, next, created, updated int64
	err := sc.Scan(&f.ID, &f.Name, &f.Format, &f.URL, &f.Provider, &tlp, &f.Confidence, &interval, &opts, &f.Class, &f.Type,
		&dedup, &window, &expire, &f.Enabled, &f.ETag, &f.LastModified, &next, &created, &updated)
	if err != nil {
		return nil, err
	}
	f.TLP = focal.TLP(tlp)
	f.Interval = time.Duration(interval) * time.Second
	f.DedupWindow = time.Duration(window) * time.Second
	f.ExpireAfter = time.Duration(expire) * time.Second
	if dedup != "" {
		f.DedupFields = strings.Split(dedup, ",")
	}
	if opts != "" && opts != "{}" {
		if err := json.Unmarshal([]byte(opts), &f.Options); err != nil {
			return nil, fmt.Errorf("feed %s: options: %w", f.Name, err)
		}
	}
	if next > 0 {
		f.NextRun = time.UnixMilli(next).UTC()
	}
	f.Created, f.Updated = time.UnixMilli(created).UTC(), time.UnixMilli(updated).UTC()
	return &f, nil
}

// CreateFeed stores a new feed definition (validated by the caller against
// the format registry, and here with FeedDef.Validate).
func (s *Store) CreateFeed(ctx context.Context, f *focal.FeedDef) error {
	if err := authorize(ctx, focal.ActionCreate, focal.Resource{Kind: focal.KindFeed}); err != nil {
		return err
	}
	if err := f.Validate(); err != nil {
		return err
	}
	return s.WithTx(ctx, func(tx *Tx) error {
		now := time.Now().UTC().Truncate(time.Millisecond)
		f.Created, f.Updated = now, now
		opts, _ := json.Marshal(f.Options)
		err := tx.QueryRowContext(ctx, `INSERT INTO feeds (name, format, url, provider, tlp, confidence, interval_s, options, class, type,
			dedup_fields, dedup_window_s, expire_s, enabled, next_run, created, updated)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $16) RETURNING id`,
			f.Name, f.Format, f.URL, f.Provider, string(f.TLP), f.Confidence, int64(f.Interval/time.Second), string(opts), f.Class, f.Type,
			strings.Join(f.DedupFields, ","), int64(f.DedupWindow/time.Second), int64(f.ExpireAfter/time.Second), f.Enabled,
			now.UnixMilli(), now.UnixMilli()).Scan(&f.ID)
		if err != nil {
			if isUniqueViolation(err) {
				return focal.FieldErrorf("name", "a feed named %q already exists", f.Name)
			}
			return fmt.Errorf("create feed: %w", err)
		}
		return tx.audit(ctx, "feed.create", "feed", strconv.FormatInt(f.ID, 10), nil, f)
	})
}

// UpdateFeed replaces a feed definition's settings (not its poll state).
func (s *Store) UpdateFeed(ctx context.Context, f *focal.FeedDef) error {
	if err := authorize(ctx, focal.ActionUpdate, focal.Resource{Kind: focal.KindFeed, Object: true}); err != nil {
		return err
	}
	if err := f.Validate(); err != nil {
		return err
	}
	return s.WithTx(ctx, func(tx *Tx) error {
		before, err := scanFeed(tx.QueryRowContext(ctx, "SELECT "+feedColumns+" FROM feeds WHERE id = $1", f.ID))
		if err != nil {
			return notFound(err, "feed")
		}
		f.Updated = time.Now().UTC().Truncate(time.Millisecond)
		opts, _ := json.Marshal(f.Options)
		_, err = tx.ExecContext(ctx, `UPDATE feeds SET name = $1, format = $2, url = $3, provider = $4, tlp = $5, confidence = $6,
			interval_s = $7, options = $8, class = $9, type = $10, dedup_fields = $11, dedup_window_s = $12, expire_s = $13,
			enabled = $14, updated = $15, etag = CASE WHEN url = $3 THEN etag ELSE '' END,
			last_modified = CASE WHEN url = $3 THEN last_modified ELSE '' END WHERE id = $16`,
			f.Name, f.Format, f.URL, f.Provider, string(f.TLP), f.Confidence, int64(f.Interval/time.Second), string(opts), f.Class, f.Type,
			strings.Join(f.DedupFields, ","), int64(f.DedupWindow/time.Second), int64(f.ExpireAfter/time.Second), f.Enabled,
			f.Updated.UnixMilli(), f.ID)
		if err != nil {
			if isUniqueViolation(err) {
				return focal.FieldErrorf("name", "a feed named %q already exists", f.Name)
			}
			return fmt.Errorf("update feed: %w", err)
		}
		f.Created = before.Created
		return tx.audit(ctx, "feed.update", "feed", strconv.FormatInt(f.ID, 10), before, f)
	})
}

// DeleteFeed removes a feed definition with its runs and listings; its
// events stay.
func (s *Store) DeleteFeed(ctx context.Context, id int64) error {
	if err := authorize(ctx, focal.ActionDelete, focal.Resource{Kind: focal.KindFeed, Object: true}); err != nil {
		return err
	}
	return s.WithTx(ctx, func(tx *Tx) error {
		before, err := scanFeed(tx.QueryRowContext(ctx, "SELECT "+feedColumns+" FROM feeds WHERE id = $1", id))
		if err != nil {
			return notFound(err, "feed")
		}
		for _, q := range []string{
			"DELETE FROM feed_problems WHERE run_id IN (SELECT id FROM feed_runs WHERE feed_id = $1)",
			"DELETE FROM feed_runs WHERE feed_id = $1",
			"DELETE FROM feed_listings WHERE feed_id = $1",
			"DELETE FROM feeds WHERE id = $1",
		} {
			if _, err := tx.ExecContext(ctx, q, id); err != nil {
				return fmt.Errorf("delete feed: %w", err)
			}
		}
		return tx.audit(ctx, "feed.delete", "feed", strconv.FormatInt(id, 10), before, nil)
	})
}

// Feed returns a feed definition.
func (s *Store) Feed(ctx context.Context, id int64) (*focal.FeedDef, error) {
	if err := authorize(ctx, focal.ActionRead, focal.Resource{Kind: focal.KindFeed, Object: true}); err != nil {
		return nil, err
	}
	f, err := scanFeed(s.rdb.QueryRowContext(ctx, "SELECT "+feedColumns+" FROM feeds WHERE id = $1", id))
	return f, notFound(err, "feed")
}

// FeedByName returns a feed definition by name.
func (s *Store) FeedByName(ctx context.Context, name string) (*focal.FeedDef, error) {
	if err := authorize(ctx, focal.ActionRead, focal.Resource{Kind: focal.KindFeed, Object: true}); err != nil {
		return nil, err
	}
	f, err := scanFeed(s.rdb.QueryRowContext(ctx, "SELECT "+feedColumns+" FROM feeds WHERE name = $1", name))
	return f, notFound(err, "feed "+strconv.Quote(name))
}

// Feeds lists the feed definitions by name.
func (s *Store) Feeds(ctx context.Context) ([]*focal.FeedDef, error) {
	if err := authorize(ctx, focal.ActionRead, focal.Resource{Kind: focal.KindFeed}); err != nil {
		return nil, err
	}
	return s.queryFeeds(ctx, "SELECT "+feedColumns+" FROM feeds ORDER BY name")
}

func (s *Store) queryFeeds(ctx context.Context, q string, args ...any) ([]*focal.FeedDef, error) {
	rows, err := s.rdb.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("feeds: %w", err)
	}
	defer rows.Close()
	var out []*focal.FeedDef
	for rows.Next() {
		f, err := scanFeed(rows)
		if err != nil {
			return nil, fmt.Errorf("feeds: %w", err)
		}
		out = append(out, f)
	}
	return out, rows.Err()
}

// ClaimDueFeed picks one enabled, polled feed whose next run is due at
// now and moves its next run one interval on, atomically, so that of
// several processes only one polls it. It returns nil when none is due.
func (s *Store) ClaimDueFeed(ctx context.Context, now time.Time) (*focal.FeedDef, error) {
	for range 3 {
		due, err := s.queryFeeds(ctx, "SELECT "+feedColumns+` FROM feeds
			WHERE enabled = $1 AND interval_s > 0 AND url <> '' AND next_run <= $2 ORDER BY next_run LIMIT 1`, true, now.UnixMilli())
		if err != nil || len(due) == 0 {
			return nil, err
		}
		f := due[0]
		next := now.Add(f.Interval).UnixMilli()
		res, err := s.db.ExecContext(ctx, "UPDATE feeds SET next_run = $1 WHERE id = $2 AND next_run = $3", next, f.ID, f.NextRun.UnixMilli())
		if err != nil {
			return nil, fmt.Errorf("claim feed: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 1 {
			f.NextRun = time.UnixMilli(next).UTC()
			return f, nil
		}
	}
	return nil, nil
}

// SetFeedNextRun schedules a feed's next poll (e.g. now, for "run now").
func (s *Store) SetFeedNextRun(ctx context.Context, id int64, at time.Time) error {
	if err := authorize(ctx, focal.ActionUpdate, focal.Resource{Kind: focal.KindFeed, Object: true}); err != nil {
		return err
	}
	_, err := s.db.ExecContext(ctx, "UPDATE feeds SET next_run = $1 WHERE id = $2", at.UnixMilli(), id)
	return err
}

// SetFeedHTTPState keeps the validators of the last successful poll.
func (s *Store) SetFeedHTTPState(ctx context.Context, id int64, etag, lastModified string) error {
	_, err := s.db.ExecContext(ctx, "UPDATE feeds SET etag = $1, last_modified = $2 WHERE id = $3", etag, lastModified, id)
	return err
}

const runColumns = `r.id, r.feed_id, f.name, r.run_key, r.source, r.input, r.started, r.finished, r.state, r.bytes,
	r.chunks_total, r.chunks_done, r.lines, r.events, r.problems, r.stored, r.error`

func scanRun(sc interface{ Scan(...any) error }) (*focal.FeedRun, error) {
	var r focal.FeedRun
	var started, finished int64
	err := sc.Scan(&r.ID, &r.FeedID, &r.Feed, &r.Key, &r.Source, &r.Input, &started, &finished, &r.State, &r.Bytes,
		&r.ChunksTotal, &r.ChunksDone, &r.Lines, &r.Events, &r.Problems, &r.Stored, &r.Error)
	if err != nil {
		return nil, err
	}
	r.Started = time.UnixMilli(started).UTC()
	if finished > 0 {
		r.Finished = time.UnixMilli(finished).UTC()
	}
	return &r, nil
}

// StartRun records a run of feed r.FeedID, or, when a run with the same
// key exists, returns that one (resumed = true) so that an interrupted
// input fed again continues instead of counting twice. A failed run with
// the key starts over.
func (s *Store) StartRun(ctx context.Context, r *focal.FeedRun) (resumed bool, err error) {
	if err := authorize(ctx, focal.ActionCreate, focal.Resource{Kind: focal.KindFeed}); err != nil {
		return false, err
	}
	err = s.WithTx(ctx, func(tx *Tx) error {
		old, err := scanRun(tx.QueryRowContext(ctx, "SELECT "+runColumns+" FROM feed_runs r JOIN feeds f ON f.id = r.feed_id WHERE r.run_key = $1", r.Key))
		if err == nil && old.State != focal.RunFailed {
			*r, resumed = *old, true
			return nil
		}
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("start run: %w", err)
		}
		if err == nil {
			// A failed run with this key: keep it under another key.
			if _, err := tx.ExecContext(ctx, "UPDATE feed_runs SET run_key = run_key || '#' || id WHERE id = $1", old.ID); err != nil {
				return fmt.Errorf("start run: %w", err)
			}
		}
		r.Started = time.Now().UTC().Truncate(time.Millisecond)
		r.State, r.ChunksTotal = focal.RunRunning, -1
		err = tx.QueryRowContext(ctx, `INSERT INTO feed_runs (feed_id, run_key, source, input, started, state)
			VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`, r.FeedID, r.Key, r.Source, r.Input, r.Started.UnixMilli(), r.State).Scan(&r.ID)
		if err != nil {
			return fmt.Errorf("start run: %w", err)
		}
		return nil
	})
	return resumed, err
}

// Run returns a run.
func (s *Store) Run(ctx context.Context, id int64) (*focal.FeedRun, error) {
	if err := authorize(ctx, focal.ActionRead, focal.Resource{Kind: focal.KindFeed, Object: true}); err != nil {
		return nil, err
	}
	r, err := scanRun(s.rdb.QueryRowContext(ctx, "SELECT "+runColumns+" FROM feed_runs r JOIN feeds f ON f.id = r.feed_id WHERE r.id = $1", id))
	return r, notFound(err, "run")
}

// Runs lists the newest runs, of one feed when feedID is not 0.
func (s *Store) Runs(ctx context.Context, feedID int64, limit int) ([]*focal.FeedRun, error) {
	if err := authorize(ctx, focal.ActionRead, focal.Resource{Kind: focal.KindFeed}); err != nil {
		return nil, err
	}
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	q := "SELECT " + runColumns + " FROM feed_runs r JOIN feeds f ON f.id = r.feed_id"
	args := []any{limit}
	if feedID != 0 {
		q += " WHERE r.feed_id = $2"
		args = append(args, feedID)
	}
	rows, err := s.rdb.QueryContext(ctx, q+" ORDER BY r.id DESC LIMIT $1", args...)
	if err != nil {
		return nil, fmt.Errorf("runs: %w", err)
	}
	defer rows.Close()
	var out []*focal.FeedRun
	for rows.Next() {
		r, err := scanRun(rows)
		if err != nil {
			return nil, fmt.Errorf("runs: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// RunProblems returns the quarantined lines of a run, by line.
func (s *Store) RunProblems(ctx context.Context, runID int64, limit int) ([]focal.FeedProblem, error) {
	if err := authorize(ctx, focal.ActionRead, focal.Resource{Kind: focal.KindFeed, Object: true}); err != nil {
		return nil, err
	}
	if limit <= 0 || limit > MaxRunProblems {
		limit = MaxRunProblems
	}
	rows, err := s.rdb.QueryContext(ctx, "SELECT run_id, line, reason, raw FROM feed_problems WHERE run_id = $1 ORDER BY line LIMIT $2", runID, limit)
	if err != nil {
		return nil, fmt.Errorf("run problems: %w", err)
	}
	defer rows.Close()
	var out []focal.FeedProblem
	for rows.Next() {
		var p focal.FeedProblem
		if err := rows.Scan(&p.RunID, &p.Line, &p.Reason, &p.Raw); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// AddRunProblems counts n problems found at intake (before chunks are
// published: over-long lines, unusable parts of a document) and keeps
// the first of ps within the run's bound.
func (s *Store) AddRunProblems(ctx context.Context, runID, n int64, ps []focal.FeedProblem) error {
	if n == 0 {
		return nil
	}
	return s.WithTx(ctx, func(tx *Tx) error {
		return tx.addProblems(ctx, runID, n, ps)
	})
}

// addProblems adds n to the run's problem count and keeps the first of ps
// while the run holds fewer than MaxRunProblems.
func (tx *Tx) addProblems(ctx context.Context, runID, n int64, ps []focal.FeedProblem) error {
	var after int64
	if err := tx.QueryRowContext(ctx, "UPDATE feed_runs SET problems = problems + $1 WHERE id = $2 RETURNING problems", n, runID).Scan(&after); err != nil {
		return fmt.Errorf("run problems: %w", notFound(err, "run"))
	}
	room := MaxRunProblems - (after - n)
	for i := 0; i < len(ps) && int64(i) < room; i++ {
		p := ps[i]
		if _, err := tx.ExecContext(ctx, "INSERT INTO feed_problems (run_id, line, reason, raw) VALUES ($1, $2, $3, $4)",
			runID, p.Line, p.Reason, p.Raw); err != nil {
			return fmt.Errorf("run problems: %w", err)
		}
	}
	return nil
}

// FinishIntake records that the run's input was read to its end in total
// chunks of lines input lines and size bytes, and completes the run if
// every chunk is already committed. Snapshot says the run was a whole
// blocklist, so that entries it lacked are delisted on completion.
func (s *Store) FinishIntake(ctx context.Context, runID, total, size int64, snapshot bool) (*focal.FeedRun, error) {
	var r *focal.FeedRun
	err := s.WithTx(ctx, func(tx *Tx) error {
		if _, err := tx.ExecContext(ctx, "UPDATE feed_runs SET chunks_total = $1, bytes = $2 WHERE id = $3 AND state = $4",
			total, size, runID, focal.RunRunning); err != nil {
			return fmt.Errorf("finish intake: %w", err)
		}
		var err error
		r, err = tx.maybeComplete(ctx, runID, snapshot)
		return err
	})
	return r, err
}

// FailRun marks a run failed with a message saying why.
func (s *Store) FailRun(ctx context.Context, runID int64, msg string) error {
	_, err := s.db.ExecContext(ctx, "UPDATE feed_runs SET state = $1, error = $2, finished = $3 WHERE id = $4",
		focal.RunFailed, focal.CutText(msg, 2000), time.Now().UnixMilli(), runID)
	if err != nil {
		return fmt.Errorf("fail run: %w", err)
	}
	return nil
}

// RecordUnchanged records a poll that the server answered with 304.
func (s *Store) RecordUnchanged(ctx context.Context, feedID int64, url string) error {
	now := time.Now().UnixMilli()
	_, err := s.db.ExecContext(ctx, `INSERT INTO feed_runs (feed_id, run_key, source, input, started, finished, state, chunks_total)
		VALUES ($1, $2, 'poll', $3, $4, $4, $5, 0)`, feedID, fmt.Sprintf("poll:%d:%d:unchanged", feedID, now), url, now, focal.RunUnchanged)
	return err
}

// maybeComplete completes the run when every chunk is committed: state
// done, and for a snapshot feed the lifecycle of its entries (entries the
// run did not list are delisted; entries delisted longer than the feed's
// expiry are expired).
func (tx *Tx) maybeComplete(ctx context.Context, runID int64, snapshot bool) (*focal.FeedRun, error) {
	r, err := scanRun(tx.QueryRowContext(ctx, "SELECT "+runColumns+" FROM feed_runs r JOIN feeds f ON f.id = r.feed_id WHERE r.id = $1", runID))
	if err != nil {
		return nil, fmt.Errorf("run %d: %w", runID, notFound(err, "run"))
	}
	if r.State != focal.RunRunning || !r.Complete() {
		return r, nil
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	if _, err := tx.ExecContext(ctx, "UPDATE feed_runs SET state = $1, finished = $2 WHERE id = $3", focal.RunDone, now.UnixMilli(), runID); err != nil {
		return nil, fmt.Errorf("complete run: %w", err)
	}
	r.State, r.Finished = focal.RunDone, now
	if snapshot {
		if _, err := tx.ExecContext(ctx, `UPDATE feed_listings SET state = $1, delisted_at = $2
			WHERE feed_id = $3 AND last_run <> $4 AND state IN ($5, $6)`,
			focal.ListingDelisted, now.UnixMilli(), r.FeedID, runID, focal.ListingNew, focal.ListingListed); err != nil {
			return nil, fmt.Errorf("complete run: delist: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE feed_listings SET state = $1
			WHERE feed_id = $2 AND state = $3 AND delisted_at < $4 - 1000 * (SELECT expire_s FROM feeds WHERE id = $2)`,
			focal.ListingExpired, r.FeedID, focal.ListingDelisted, now.UnixMilli()); err != nil {
			return nil, fmt.Errorf("complete run: expire: %w", err)
		}
	}
	return r, nil
}

// Listings returns entries of a snapshot feed, in one state when state
// is not "".
func (s *Store) Listings(ctx context.Context, feedID int64, state string, limit int) ([]focal.Listing, error) {
	if err := authorize(ctx, focal.ActionRead, focal.Resource{Kind: focal.KindFeed}); err != nil {
		return nil, err
	}
	if limit <= 0 || limit > 10000 {
		limit = 1000
	}
	q := "SELECT feed_id, indicator, state, first_listed, last_listed, delisted_at FROM feed_listings WHERE feed_id = $1"
	args := []any{feedID, limit}
	if state != "" {
		q += " AND state = $3"
		args = append(args, state)
	}
	rows, err := s.rdb.QueryContext(ctx, q+" ORDER BY indicator LIMIT $2", args...)
	if err != nil {
		return nil, fmt.Errorf("listings: %w", err)
	}
	defer rows.Close()
	var out []focal.Listing
	for rows.Next() {
		var l focal.Listing
		var first, last, del int64
		if err := rows.Scan(&l.FeedID, &l.Indicator, &l.State, &first, &last, &del); err != nil {
			return nil, err
		}
		l.FirstListed, l.LastListed = time.UnixMilli(first).UTC(), time.UnixMilli(last).UTC()
		if del > 0 {
			l.DelistedAt = time.UnixMilli(del).UTC()
		}
		out = append(out, l)
	}
	return out, rows.Err()
}

// ListingCounts counts a snapshot feed's entries per state.
func (s *Store) ListingCounts(ctx context.Context, feedID int64) (map[string]int64, error) {
	if err := authorize(ctx, focal.ActionRead, focal.Resource{Kind: focal.KindFeed}); err != nil {
		return nil, err
	}
	rows, err := s.rdb.QueryContext(ctx, "SELECT state, COUNT(*) FROM feed_listings WHERE feed_id = $1 GROUP BY state", feedID)
	if err != nil {
		return nil, fmt.Errorf("listing counts: %w", err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var st string
		var n int64
		if err := rows.Scan(&st, &n); err != nil {
			return nil, err
		}
		out[st] = n
	}
	return out, rows.Err()
}

// RunChunks returns the sequence numbers of the run's committed chunks,
// so that intake resuming a run does not publish them again.
func (s *Store) RunChunks(ctx context.Context, runID int64) (map[int64]bool, error) {
	rows, err := s.rdb.QueryContext(ctx, "SELECT seq FROM ingest_chunks WHERE run_id = $1", runID)
	if err != nil {
		return nil, fmt.Errorf("run chunks: %w", err)
	}
	defer rows.Close()
	out := map[int64]bool{}
	for rows.Next() {
		var seq int64
		if err := rows.Scan(&seq); err != nil {
			return nil, err
		}
		out[seq] = true
	}
	return out, rows.Err()
}

// ChunkNodes counts committed chunks per process (node), showing how
// the work was shared.
func (s *Store) ChunkNodes(ctx context.Context) (map[string]int64, error) {
	rows, err := s.rdb.QueryContext(ctx, "SELECT node, COUNT(*) FROM ingest_chunks GROUP BY node")
	if err != nil {
		return nil, fmt.Errorf("chunk nodes: %w", err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var node string
		var n int64
		if err := rows.Scan(&node, &n); err != nil {
			return nil, err
		}
		out[node] = n
	}
	return out, rows.Err()
}
