package store

import (
	"bytes"
	"cmp"
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"focal/internal/focal"
)

// EventRow is an event ready to store: its dedup key digest and the feed
// and run it came from. Events of one batch must have distinct keys (the
// pipeline aggregates them first).
type EventRow struct {
	Key    [16]byte
	FeedID int64
	RunID  int64
	E      *focal.Event
}

// ChunkDone is a chunk of a run whose events are in the batch.
type ChunkDone struct {
	RunID, Seq                  int64
	Lines, Events, ProblemCount int64
	Problems                    []focal.FeedProblem // the kept ones (bounded by the caller)
	Snapshot                    bool
}

// ListingSeen is an entry of a snapshot feed seen by a run.
type ListingSeen struct {
	FeedID, RunID int64
	Indicator     string
	At            time.Time
}

// EventBatch is what a pipeline worker commits in one transaction.
type EventBatch struct {
	Node     string // the process, for ingest_chunks
	Chunks   []ChunkDone
	Rows     []EventRow
	Listings []ListingSeen
}

// CommitResult says what a commit did.
type CommitResult struct {
	New, Updated int64
	// Completed runs: every chunk of them is now committed.
	Completed []*focal.FeedRun
	// IDs holds, parallel to Rows, each row's stored event id, negated
	// for a row that was inserted (see IsNew and EventID).
	IDs []int64
}

// DoneChunks returns which of the (run, seq) pairs are already committed,
// so a worker can skip a redelivered chunk before aggregating.
func (s *Store) DoneChunks(ctx context.Context, pairs [][2]int64) (map[[2]int64]bool, error) {
	done := map[[2]int64]bool{}
	for len(pairs) > 0 {
		n := min(len(pairs), 200)
		var b strings.Builder
		args := make([]any, 0, 2*n)
		for i, p := range pairs[:n] {
			if i > 0 {
				b.WriteString(" OR ")
			}
			b.WriteString("(run_id = " + s.placeholder(2*i+1) + " AND seq = " + s.placeholder(2*i+2) + ")")
			args = append(args, p[0], p[1])
		}
		rows, err := s.db.QueryContext(ctx, "SELECT run_id, seq FROM ingest_chunks WHERE "+b.String(), args...)
		if err != nil {
			return nil, fmt.Errorf("done chunks: %w", err)
		}
		for rows.Next() {
			var p [2]int64
			if err := rows.Scan(&p[0], &p[1]); err != nil {
				rows.Close()
				return nil, err
			}
			done[p] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
		pairs = pairs[n:]
	}
	return done, nil
}

// ErrChunkCommitted is returned by CommitEvents when a chunk of the batch
// was committed meanwhile (by another process); the caller retries the
// batch, which DoneChunks then filters.
var ErrChunkCommitted = focal.Errorf(focal.ECONFLICT, "a chunk of the batch was committed by another worker")

// placeholder returns the n-th (1-based) bind parameter: "?" on SQLite,
// whose parser and driver look numbered names up linearly (quadratic for
// statements of thousands of parameters), "$n" on PostgreSQL.
func (s *Store) placeholder(n int) string {
	if s.dialect == SQLite {
		return "?"
	}
	return "$" + strconv.Itoa(n)
}

// upsertRows bounds the rows of one multi-row statement.
const upsertRows = 100

const eventInsertCols = `dedup_key, feed_id, run_id, class, type, src_ip, src_port, src_asn, src_cc, src_fqdn, src_url,
	dst_ip, dst_port, dst_asn, dst_cc, dst_fqdn, dst_url, protocol, malware, identifier, provider, tlp, confidence,
	source_time, observed_time, first_seen, last_seen, count, orgs, raw`

const eventInsertN = 30

// CommitEvents writes a batch in one transaction: the chunk markers (a
// chunk already committed fails the batch with ErrChunkCommitted), the
// events (a key already stored adds the count and widens first/last
// seen), their organisations, the listings of snapshot feeds, the run
// counters and quarantined lines; runs whose every chunk is now committed
// are completed.
func (s *Store) CommitEvents(ctx context.Context, b *EventBatch) (*CommitResult, error) {
	// One order for every writer: concurrent PostgreSQL transactions
	// upserting overlapping keys then wait for each other instead of
	// deadlocking.
	slices.SortFunc(b.Rows, func(x, y EventRow) int { return bytes.Compare(x.Key[:], y.Key[:]) })
	slices.SortFunc(b.Listings, func(x, y ListingSeen) int {
		if c := cmp.Compare(x.FeedID, y.FeedID); c != 0 {
			return c
		}
		return strings.Compare(x.Indicator, y.Indicator)
	})
	res := &CommitResult{IDs: make([]int64, len(b.Rows))}
	// Prepared outside the transaction: on SQLite the writer has one
	// connection, which the transaction holds.
	var stmts [2]*sql.Stmt
	for i, n := range []int{upsertRows, 1} {
		st, err := s.prepared(ctx, s.upsertSQL(n))
		if err != nil {
			return nil, fmt.Errorf("commit events: prepare: %w", err)
		}
		stmts[i] = st
	}
	err := s.WithTx(ctx, func(tx *Tx) error {
		now := time.Now().UnixMilli()
		for _, c := range b.Chunks {
			r, err := tx.ExecContext(ctx, `INSERT INTO ingest_chunks (run_id, seq, at, node, events) VALUES ($1, $2, $3, $4, $5)
				ON CONFLICT (run_id, seq) DO NOTHING`, c.RunID, c.Seq, now, b.Node, c.Events)
			if err != nil {
				return fmt.Errorf("commit events: chunk: %w", err)
			}
			if n, _ := r.RowsAffected(); n != 1 {
				return ErrChunkCommitted
			}
		}
		if err := tx.upsertEvents(ctx, stmts, b.Rows, res); err != nil {
			return err
		}
		if err := tx.linkOrgs(ctx, b.Rows, res.IDs); err != nil {
			return err
		}
		if err := tx.seeListings(ctx, b.Listings); err != nil {
			return err
		}
		// Per-run counters, in run order so concurrent PostgreSQL
		// writers lock rows in the same order.
		type agg struct {
			chunks, lines, events, problems, stored int64
			snapshot                                bool
			kept                                    []focal.FeedProblem
		}
		runs := map[int64]*agg{}
		var order []int64
		for _, c := range b.Chunks {
			a := runs[c.RunID]
			if a == nil {
				a = &agg{}
				runs[c.RunID] = a
				order = append(order, c.RunID)
			}
			a.chunks++
			a.lines += c.Lines
			a.events += c.Events
			a.problems += c.ProblemCount
			a.snapshot = a.snapshot || c.Snapshot
			a.kept = append(a.kept, c.Problems...)
		}
		for i, row := range b.Rows {
			if a := runs[row.RunID]; a != nil && res.IsNew(i) {
				a.stored++
			}
		}
		slices.Sort(order)
		for _, id := range order {
			a := runs[id]
			if _, err := tx.ExecContext(ctx, `UPDATE feed_runs SET chunks_done = chunks_done + $1, lines = lines + $2,
				events = events + $3, stored = stored + $4 WHERE id = $5`, a.chunks, a.lines, a.events, a.stored, id); err != nil {
				return fmt.Errorf("commit events: run %d: %w", id, err)
			}
			if a.problems > 0 {
				if err := tx.addProblems(ctx, id, a.problems, a.kept); err != nil {
					return err
				}
			}
			r, err := tx.maybeComplete(ctx, id, a.snapshot)
			if err != nil {
				return err
			}
			if r.State == focal.RunDone && r.Finished.UnixMilli() >= now {
				res.Completed = append(res.Completed, r)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// IsNew reports whether row i of the batch became a new event (rather
// than adding a sighting to a stored one).
func (r *CommitResult) IsNew(i int) bool { return r.IDs[i] < 0 }

// EventID returns the stored id of row i of the batch.
func (r *CommitResult) EventID(i int) int64 {
	if r.IDs[i] < 0 {
		return -r.IDs[i]
	}
	return r.IDs[i]
}

func ipBytes(a netip.Addr) any {
	if !a.IsValid() {
		return nil
	}
	b := a.As16()
	return b[:]
}

func orgList(ids []int64) string {
	if len(ids) == 0 {
		return ""
	}
	var b strings.Builder
	for i, id := range ids {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatInt(id, 10))
	}
	return b.String()
}

// upsertSQL is the multi-row event upsert for n rows.
func (s *Store) upsertSQL(n int) string {
	least, greatest := "min", "max"
	if s.dialect == Postgres {
		least, greatest = "LEAST", "GREATEST"
	}
	var b strings.Builder
	b.WriteString("INSERT INTO events (" + eventInsertCols + ") VALUES ")
	p := 1
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('(')
		for j := 0; j < eventInsertN; j++ {
			if j > 0 {
				b.WriteByte(',')
			}
			b.WriteString(s.placeholder(p))
			p++
		}
		b.WriteByte(')')
	}
	fmt.Fprintf(&b, ` ON CONFLICT (dedup_key) DO UPDATE SET count = events.count + excluded.count,
		first_seen = %[1]s(events.first_seen, excluded.first_seen), last_seen = %[2]s(events.last_seen, excluded.last_seen),
		observed_time = excluded.observed_time, run_id = excluded.run_id, orgs = excluded.orgs
		RETURNING id, dedup_key, count`, least, greatest)
	return b.String()
}

// upsertEvents inserts or folds the rows, recording each row's id in
// res.IDs (negated for a new row).
func (tx *Tx) upsertEvents(ctx context.Context, stmts [2]*sql.Stmt, rows []EventRow, res *CommitResult) error {
	if len(rows) == 0 {
		return nil
	}
	index := make(map[[16]byte]int, len(rows))
	for i := range rows {
		index[rows[i].Key] = i
	}
	args := make([]any, 0, upsertRows*eventInsertN)
	for start := 0; start < len(rows); {
		// Full statements of upsertRows, then single rows: two shapes
		// only, each prepared once per process.
		n := upsertRows
		if len(rows)-start < upsertRows {
			n = 1
		}
		part := rows[start : start+n]
		start += n
		args = args[:0]
		for _, r := range part {
			e := r.E
			args = append(args, r.Key[:], r.FeedID, r.RunID, e.Class, e.Type,
				ipBytes(e.Source.IP), int64(e.Source.Port), int64(e.Source.ASN), e.Source.Country, e.Source.FQDN, e.Source.URL,
				ipBytes(e.Destination.IP), int64(e.Destination.Port), int64(e.Destination.ASN), e.Destination.Country, e.Destination.FQDN, e.Destination.URL,
				e.Protocol, e.Malware, e.Identifier, e.Provider, string(e.TLP), int64(e.Confidence),
				ms(e.SourceTime), ms(e.ObservedTime), ms(e.FirstSeen), ms(e.LastSeen), int64(e.Count), orgList(e.Orgs), e.Raw)
		}
		st := stmts[0]
		if n == 1 {
			st = stmts[1]
		}
		q, err := tx.StmtContext(ctx, st).QueryContext(ctx, args...)
		if err != nil {
			return fmt.Errorf("commit events: upsert: %w", err)
		}
		for q.Next() {
			var id, count int64
			var key []byte
			if err := q.Scan(&id, &key, &count); err != nil {
				q.Close()
				return fmt.Errorf("commit events: upsert: %w", err)
			}
			var k [16]byte
			copy(k[:], key)
			i, ok := index[k]
			if !ok {
				continue
			}
			if count == int64(rows[i].E.Count) {
				res.IDs[i] = -id
				res.New++
			} else {
				res.IDs[i] = id
				res.Updated++
			}
		}
		if err := q.Close(); err != nil {
			return fmt.Errorf("commit events: upsert: %w", err)
		}
		if err := q.Err(); err != nil {
			return fmt.Errorf("commit events: upsert: %w", err)
		}
	}
	return nil
}

// linkOrgs records the organisations of the rows that have some, in
// (organisation, event) order.
func (tx *Tx) linkOrgs(ctx context.Context, rows []EventRow, ids []int64) error {
	var links [][2]int64
	for i, r := range rows {
		id := ids[i]
		if id < 0 {
			id = -id
		}
		if id == 0 {
			continue
		}
		for _, org := range r.E.Orgs {
			links = append(links, [2]int64{org, id})
		}
	}
	slices.SortFunc(links, func(x, y [2]int64) int {
		if c := cmp.Compare(x[0], y[0]); c != 0 {
			return c
		}
		return cmp.Compare(x[1], y[1])
	})
	var args []any
	flush := func() error {
		if len(args) == 0 {
			return nil
		}
		var b strings.Builder
		b.WriteString("INSERT INTO event_orgs (org_id, event_id) VALUES ")
		for i := 0; i < len(args)/2; i++ {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString("(" + tx.store.placeholder(2*i+1) + "," + tx.store.placeholder(2*i+2) + ")")
		}
		b.WriteString(" ON CONFLICT DO NOTHING")
		if _, err := tx.ExecContext(ctx, b.String(), args...); err != nil {
			return fmt.Errorf("commit events: organisations: %w", err)
		}
		args = args[:0]
		return nil
	}
	for _, l := range links {
		args = append(args, l[0], l[1])
		if len(args) >= 1000 {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return flush()
}

// seeListings upserts the entries of snapshot feeds a run listed, many
// rows per statement.
func (tx *Tx) seeListings(ctx context.Context, ls []ListingSeen) error {
	const per = 200
	args := make([]any, 0, per*6)
	for start := 0; start < len(ls); start += per {
		part := ls[start:min(start+per, len(ls))]
		args = args[:0]
		var b strings.Builder
		b.WriteString("INSERT INTO feed_listings (feed_id, indicator, state, first_listed, last_listed, last_run) VALUES ")
		for i, l := range part {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteByte('(')
			for j := range 6 {
				if j > 0 {
					b.WriteByte(',')
				}
				b.WriteString(tx.store.placeholder(len(args) + j + 1))
			}
			b.WriteByte(')')
			at := l.At.UnixMilli()
			args = append(args, l.FeedID, l.Indicator, focal.ListingNew, at, at, l.RunID)
		}
		fmt.Fprintf(&b, ` ON CONFLICT (feed_id, indicator) DO UPDATE SET
			state = CASE WHEN feed_listings.last_run = excluded.last_run THEN feed_listings.state ELSE '%s' END,
			last_listed = excluded.last_listed, last_run = excluded.last_run, delisted_at = 0`, focal.ListingListed)
		if _, err := tx.ExecContext(ctx, b.String(), args...); err != nil {
			return fmt.Errorf("commit events: listings: %w", err)
		}
	}
	return nil
}

const eventColumns = `e.id, f.name, e.class, e.type, e.src_ip, e.src_port, e.src_asn, e.src_cc, e.src_fqdn, e.src_url,
	e.dst_ip, e.dst_port, e.dst_asn, e.dst_cc, e.dst_fqdn, e.dst_url, e.protocol, e.malware, e.identifier, e.provider,
	e.tlp, e.confidence, e.source_time, e.observed_time, e.first_seen, e.last_seen, e.count, e.orgs, e.raw`

func scanEvent(sc interface{ Scan(...any) error }) (*focal.Event, error) {
	var e focal.Event
	var sip, dip []byte
	var sport, dport, sasn, dasn, conf, count int64
	var tlp, orgs string
	var st, ot, fs, ls int64
	err := sc.Scan(&e.ID, &e.Feed, &e.Class, &e.Type, &sip, &sport, &sasn, &e.Source.Country, &e.Source.FQDN, &e.Source.URL,
		&dip, &dport, &dasn, &e.Destination.Country, &e.Destination.FQDN, &e.Destination.URL, &e.Protocol, &e.Malware, &e.Identifier, &e.Provider,
		&tlp, &conf, &st, &ot, &fs, &ls, &count, &orgs, &e.Raw)
	if err != nil {
		return nil, err
	}
	e.Source.IP, e.Destination.IP = addrOf(sip), addrOf(dip)
	e.Source.Port, e.Destination.Port = uint16(sport), uint16(dport)
	e.Source.ASN, e.Destination.ASN = uint32(sasn), uint32(dasn)
	e.TLP, e.Confidence, e.Count = focal.TLP(tlp), int(conf), int(count)
	e.SourceTime, e.ObservedTime = time.UnixMilli(st).UTC(), time.UnixMilli(ot).UTC()
	e.FirstSeen, e.LastSeen = time.UnixMilli(fs).UTC(), time.UnixMilli(ls).UTC()
	for _, s := range strings.Split(orgs, ",") {
		if id, err := strconv.ParseInt(s, 10, 64); err == nil {
			e.Orgs = append(e.Orgs, id)
		}
	}
	return &e, nil
}

func addrOf(b []byte) netip.Addr {
	if len(b) != 16 {
		return netip.Addr{}
	}
	return netip.AddrFrom16([16]byte(b)).Unmap()
}

// prefixRange returns the first and last 16-byte forms of a prefix.
func prefixRange(p netip.Prefix) ([]byte, []byte) {
	p = p.Masked()
	lo := p.Addr().As16()
	hi := lo
	bits := p.Bits()
	if p.Addr().Is4() {
		bits += 96
	}
	for i := bits; i < 128; i++ {
		hi[i/8] |= 1 << (7 - i%8)
	}
	return lo[:], hi[:]
}

// eventWhere builds the conditions of f, scoped to orgID unless all.
func eventWhere(f focal.EventFilter, orgID int64, all bool) (string, []any) {
	var conds []string
	var args []any
	add := func(cond string, vals ...any) {
		for _, v := range vals {
			args = append(args, v)
			cond = strings.Replace(cond, "?", "$"+strconv.Itoa(len(args)), 1)
		}
		conds = append(conds, cond)
	}
	if !all {
		f.OrgID = orgID
	}
	if f.OrgID != 0 {
		add("e.id IN (SELECT event_id FROM event_orgs WHERE org_id = ?)", f.OrgID)
	}
	if !f.Since.IsZero() {
		add("e.last_seen >= ?", f.Since.UnixMilli())
	}
	if !f.Until.IsZero() {
		add("e.last_seen < ?", f.Until.UnixMilli())
	}
	if f.IP.IsValid() {
		b := ipBytes(f.IP.Unmap())
		add("(e.src_ip = ? OR e.dst_ip = ?)", b, b)
	}
	if f.CIDR.IsValid() {
		lo, hi := prefixRange(f.CIDR)
		add("((e.src_ip >= ? AND e.src_ip <= ?) OR (e.dst_ip >= ? AND e.dst_ip <= ?))", lo, hi, lo, hi)
	}
	if f.ASN != 0 {
		add("(e.src_asn = ? OR e.dst_asn = ?)", int64(f.ASN), int64(f.ASN))
	}
	if f.Class != "" {
		add("e.class = ?", f.Class)
	}
	if f.Type != "" {
		add("e.type = ?", f.Type)
	}
	if f.Feed != "" {
		add("f.name = ?", f.Feed)
	}
	if f.Country != "" {
		c := strings.ToUpper(f.Country)
		add("(e.src_cc = ? OR e.dst_cc = ?)", c, c)
	}
	if !all {
		add("e.tlp <> ?", string(focal.TLPRed))
	}
	if len(conds) == 0 {
		return "", args
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

// Events lists events matching f, newest last-seen first, with a cursor
// for the next page ("" at the end). A constituent sees only its
// organisation's events, never TLP:RED.
func (s *Store) Events(ctx context.Context, f focal.EventFilter) ([]*focal.Event, string, error) {
	if err := authorize(ctx, focal.ActionRead, focal.Resource{Kind: focal.KindEvent}); err != nil {
		return nil, "", err
	}
	orgID, all := focal.OrgScope(focal.PrincipalFromContext(ctx))
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 100
	}
	where, args := eventWhere(f, orgID, all)
	if f.Cursor != "" {
		ls, id, err := decodeCursor(f.Cursor)
		if err != nil {
			return nil, "", err
		}
		c := fmt.Sprintf("(e.last_seen < $%d OR (e.last_seen = $%d AND e.id < $%d))", len(args)+1, len(args)+1, len(args)+2)
		args = append(args, ls, id)
		if where == "" {
			where = " WHERE " + c
		} else {
			where += " AND " + c
		}
	}
	args = append(args, f.Limit+1)
	q := "SELECT " + eventColumns + " FROM events e JOIN feeds f ON f.id = e.feed_id" + where +
		fmt.Sprintf(" ORDER BY e.last_seen DESC, e.id DESC LIMIT $%d", len(args))
	rows, err := s.rdb.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, "", fmt.Errorf("events: %w", err)
	}
	defer rows.Close()
	var out []*focal.Event
	for rows.Next() {
		e, err := scanEvent(rows)
		if err != nil {
			return nil, "", fmt.Errorf("events: %w", err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("events: %w", err)
	}
	next := ""
	if len(out) > f.Limit {
		out = out[:f.Limit]
		last := out[len(out)-1]
		next = encodeCursor(last.LastSeen.UnixMilli(), last.ID)
	}
	return out, next, nil
}

// EachEvent calls fn for every event matching f (no limit), newest first,
// streaming from the database: exports use it.
func (s *Store) EachEvent(ctx context.Context, f focal.EventFilter, fn func(*focal.Event) error) error {
	for {
		page, next, err := s.Events(ctx, focal.EventFilter{Since: f.Since, Until: f.Until, IP: f.IP, CIDR: f.CIDR, ASN: f.ASN,
			OrgID: f.OrgID, Class: f.Class, Type: f.Type, Feed: f.Feed, Country: f.Country, Cursor: f.Cursor, Limit: 1000})
		if err != nil {
			return err
		}
		for _, e := range page {
			if err := fn(e); err != nil {
				return err
			}
		}
		if next == "" {
			return nil
		}
		f.Cursor = next
	}
}

// Event returns one event; a constituent only its organisation's.
func (s *Store) Event(ctx context.Context, id int64) (*focal.Event, error) {
	if err := authorize(ctx, focal.ActionRead, focal.Resource{Kind: focal.KindEvent}); err != nil {
		return nil, err
	}
	e, err := scanEvent(s.rdb.QueryRowContext(ctx, "SELECT "+eventColumns+" FROM events e JOIN feeds f ON f.id = e.feed_id WHERE e.id = $1", id))
	if err != nil {
		return nil, notFound(err, "event")
	}
	p := focal.PrincipalFromContext(ctx)
	orgID, all := focal.OrgScope(p)
	if !all {
		// Not its organisation's event: as if it did not exist.
		if !slices.Contains(e.Orgs, orgID) ||
			focal.Authorize(p, focal.ActionRead, focal.Resource{Kind: focal.KindEvent, Object: true, OrgID: orgID, TLP: e.TLP}) != nil {
			return nil, focal.Errorf(focal.ENOTFOUND, "event not found")
		}
	}
	return e, nil
}

// EventStats summarises the events matching f: total events and
// sightings, counts per time bucket, and the top organisations, ASNs,
// classes and feeds.
type EventStats struct {
	Events, Sightings int64
	Buckets           []EventBucket
	TopOrgs           []Top
	TopASNs           []Top
	TopClasses        []Top
	TopFeeds          []Top
}

// EventBucket is the number of events last seen in [Start, Start+width).
type EventBucket struct {
	Start  time.Time
	Events int64
}

// Top is one entry of a top list.
type Top struct {
	Key   string
	ID    int64
	Count int64
}

// EventStatistics computes EventStats for f over buckets of width.
func (s *Store) EventStatistics(ctx context.Context, f focal.EventFilter, width time.Duration, top int) (*EventStats, error) {
	if err := authorize(ctx, focal.ActionRead, focal.Resource{Kind: focal.KindEvent}); err != nil {
		return nil, err
	}
	orgID, all := focal.OrgScope(focal.PrincipalFromContext(ctx))
	where, args := eventWhere(f, orgID, all)
	from := " FROM events e JOIN feeds f ON f.id = e.feed_id" + where
	st := &EventStats{}
	if err := s.rdb.QueryRowContext(ctx, "SELECT COUNT(*), COALESCE(SUM(e.count), 0)"+from, args...).Scan(&st.Events, &st.Sightings); err != nil {
		return nil, fmt.Errorf("event stats: %w", err)
	}
	w := max(width.Milliseconds(), 1)
	rows, err := s.rdb.QueryContext(ctx, fmt.Sprintf("SELECT (e.last_seen / %d) * %d AS b, COUNT(*)%s GROUP BY b ORDER BY b", w, w, from), args...)
	if err != nil {
		return nil, fmt.Errorf("event stats: %w", err)
	}
	for rows.Next() {
		var b EventBucket
		var at int64
		if err := rows.Scan(&at, &b.Events); err != nil {
			rows.Close()
			return nil, err
		}
		b.Start = time.UnixMilli(at).UTC()
		st.Buckets = append(st.Buckets, b)
	}
	rows.Close()
	topOf := func(expr, join string) ([]Top, error) {
		q := fmt.Sprintf("SELECT %s AS k, COUNT(*) AS n FROM events e JOIN feeds f ON f.id = e.feed_id%s%s GROUP BY k ORDER BY n DESC, k LIMIT %d", expr, join, where, top)
		rows, err := s.rdb.QueryContext(ctx, q, args...)
		if err != nil {
			return nil, fmt.Errorf("event stats: %w", err)
		}
		defer rows.Close()
		var out []Top
		for rows.Next() {
			var t Top
			var k any
			if err := rows.Scan(&k, &t.Count); err != nil {
				return nil, err
			}
			switch v := k.(type) {
			case int64:
				t.ID, t.Key = v, strconv.FormatInt(v, 10)
			case []byte:
				t.Key = string(v)
			case string:
				t.Key = v
			}
			out = append(out, t)
		}
		return out, rows.Err()
	}
	if st.TopOrgs, err = topOf("eo.org_id", " JOIN event_orgs eo ON eo.event_id = e.id"); err != nil {
		return nil, err
	}
	if st.TopASNs, err = topOf("e.src_asn", ""); err != nil {
		return nil, err
	}
	if st.TopClasses, err = topOf("e.class", ""); err != nil {
		return nil, err
	}
	if st.TopFeeds, err = topOf("f.name", ""); err != nil {
		return nil, err
	}
	// ASN 0 means unknown: leave it out of the top list.
	out := st.TopASNs[:0]
	for _, t := range st.TopASNs {
		if t.ID != 0 {
			out = append(out, t)
		}
	}
	st.TopASNs = out
	return st, nil
}

func encodeCursor(lastSeen, id int64) string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(lastSeen))
	binary.BigEndian.PutUint64(b[8:], uint64(id))
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func decodeCursor(s string) (int64, int64, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) != 16 {
		return 0, 0, focal.FieldErrorf("cursor", "not a cursor from a previous page")
	}
	return int64(binary.BigEndian.Uint64(b[:8])), int64(binary.BigEndian.Uint64(b[8:])), nil
}

// CountEvents returns the number of stored events and their sightings.
func (s *Store) CountEvents(ctx context.Context) (events, sightings int64, err error) {
	err = s.rdb.QueryRowContext(ctx, "SELECT COUNT(*), COALESCE(SUM(count), 0) FROM events").Scan(&events, &sightings)
	return events, sightings, err
}

// EventsByID returns the events with the given ids that the principal
// may read (a constituent: its organisation's, never TLP:RED), in the
// order of ids.
func (s *Store) EventsByID(ctx context.Context, ids []int64) ([]*focal.Event, error) {
	if err := authorize(ctx, focal.ActionRead, focal.Resource{Kind: focal.KindEvent}); err != nil {
		return nil, err
	}
	orgID, all := focal.OrgScope(focal.PrincipalFromContext(ctx))
	byID := map[int64]*focal.Event{}
	order := ids
	for len(ids) > 0 {
		n := min(len(ids), 500)
		var b strings.Builder
		args := make([]any, 0, n+1)
		for i, id := range ids[:n] {
			if i > 0 {
				b.WriteByte(',')
			}
			args = append(args, id)
			b.WriteString("$" + strconv.Itoa(len(args)))
		}
		q := "SELECT " + eventColumns + " FROM events e JOIN feeds f ON f.id = e.feed_id WHERE e.id IN (" + b.String() + ")"
		if !all {
			args = append(args, orgID, string(focal.TLPRed))
			q += fmt.Sprintf(" AND e.id IN (SELECT event_id FROM event_orgs WHERE org_id = $%d) AND e.tlp <> $%d", len(args)-1, len(args))
		}
		rows, err := s.rdb.QueryContext(ctx, q, args...)
		if err != nil {
			return nil, fmt.Errorf("events by id: %w", err)
		}
		for rows.Next() {
			e, err := scanEvent(rows)
			if err != nil {
				rows.Close()
				return nil, err
			}
			byID[e.ID] = e
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
		ids = ids[n:]
	}
	out := make([]*focal.Event, 0, len(byID))
	for _, id := range order {
		if e := byID[id]; e != nil {
			out = append(out, e)
		}
	}
	return out, nil
}

// FeedOrg is an organisation that has events of a feed: how many since a
// time, and its newest one.
type FeedOrg struct {
	OrgID  int64
	Events int64
	Newest int64 // event id
}

// FeedOrganisations returns the organisations with events of feed last
// seen since a time, most events first (at most limit).
func (s *Store) FeedOrganisations(ctx context.Context, feedID int64, since time.Time, limit int) ([]FeedOrg, error) {
	if err := authorize(ctx, focal.ActionRead, focal.Resource{Kind: focal.KindFeed}); err != nil {
		return nil, err
	}
	if limit <= 0 || limit > 10000 {
		limit = 1000
	}
	rows, err := s.rdb.QueryContext(ctx, `SELECT eo.org_id, COUNT(*), MAX(e.id) FROM events e JOIN event_orgs eo ON eo.event_id = e.id
		WHERE e.feed_id = $1 AND e.last_seen >= $2 GROUP BY eo.org_id ORDER BY COUNT(*) DESC, eo.org_id LIMIT $3`, feedID, since.UnixMilli(), limit)
	if err != nil {
		return nil, fmt.Errorf("feed organisations: %w", err)
	}
	defer rows.Close()
	var out []FeedOrg
	for rows.Next() {
		var f FeedOrg
		if err := rows.Scan(&f.OrgID, &f.Events, &f.Newest); err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, rows.Err()
}
