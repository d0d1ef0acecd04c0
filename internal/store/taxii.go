package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"focal/internal/focal"
)

// TaxiiCollection is a TAXII 2.1 collection: a named set of STIX objects
// that peers and constituents read (and some write) through the sharing
// groups granting it. CanRead and CanWrite are what the principal that
// read it may do.
type TaxiiCollection struct {
	ID          string // UUIDv4, assigned by CreateTaxiiCollection
	Alias       string // optional, unique
	Title       string
	Description string
	Public      bool // also served, read-only and TLP:CLEAR only, on the public API root
	CreatedAt   time.Time
	CanRead     bool
	CanWrite    bool
}

// Validate checks a collection about to be stored.
func (c *TaxiiCollection) Validate() error {
	c.Title, c.Alias = strings.TrimSpace(c.Title), strings.TrimSpace(c.Alias)
	if c.Title == "" || len(c.Title) > 200 {
		return focal.FieldErrorf("title", "must be 1 to 200 characters long")
	}
	if len(c.Alias) > 100 {
		return focal.FieldErrorf("alias", "must be at most 100 characters long")
	}
	for _, r := range c.Alias {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return focal.FieldErrorf("alias", "may contain only a-z, 0-9, '-', '_' and '.'")
		}
	}
	if IsUUID(c.Alias) {
		return focal.FieldErrorf("alias", "must not look like a collection id")
	}
	return nil
}

// TaxiiObject is one STIX object version to add to a collection, with the
// header fields the server indexes and its JSON body.
type TaxiiObject struct {
	ID          string
	Type        string
	SpecVersion string
	Version     int64     // modified, else created, in µs since the epoch
	TLP         focal.TLP // "" for unlabelled
	OrgID       int64     // the organisation it concerns (kept only for local objects)
	Body        []byte    // compact JSON, served as is
	// Source overrides the provenance, e.g. "peer:<name>" for objects
	// focal imports from a peer; only staff (focal itself) may set it.
	// Empty: "local" for staff, "user:<id>" for anyone else.
	Source string
}

// TaxiiAdded is the outcome of adding one object: the date_added it got
// (µs), or Duplicate when that version was already in the collection.
type TaxiiAdded struct {
	DateAdded int64
	Duplicate bool
}

// TaxiiVersionMatch selects object versions (TAXII match[version]): the
// zero value selects the latest.
type TaxiiVersionMatch struct {
	First, Last, All bool
	Exact            []int64 // µs
}

// TaxiiFilter selects objects of a collection (the TAXII filters). Zero
// fields do not filter, except SpecVersions (empty: the latest spec
// version of each object) and Versions (zero: the latest version).
type TaxiiFilter struct {
	ObjectID     string   // one object (the object, delete and versions endpoints)
	IDs          []string // match[id]
	Types        []string // match[type]
	SpecVersions []string // match[spec_version]
	// AnySpecVersion, with no SpecVersions, selects every spec version
	// instead of the latest (deleting an object).
	AnySpecVersion bool
	Versions       TaxiiVersionMatch
	AddedAfter     int64 // µs; only with HasAddedAfter
	HasAddedAfter  bool
	// After continues a page: records strictly after (AfterDate, AfterSeq).
	After               bool
	AfterDate, AfterSeq int64
	Limit               int // page size; ≤ 0 means 1000
}

// TaxiiRecord is one object version as listed: its position (DateAdded,
// Seq), header and, when asked for, its body.
type TaxiiRecord struct {
	Seq         int64
	ID          string
	SpecVersion string
	Version     int64 // µs
	DateAdded   int64 // µs
	Body        []byte
}

// TaxiiStatus is the outcome of one add-objects request, kept for at least
// 24 hours for the account that made it (and coordinators) to read.
type TaxiiStatus struct {
	ID               string
	CollectionID     string
	UserID           int64
	RequestTimestamp time.Time
	Total            int
	Success          int
	Failure          int
	Pending          int
	Successes        []TaxiiStatusDetail
	Failures         []TaxiiStatusDetail
	Pendings         []TaxiiStatusDetail
	CreatedAt        time.Time
}

// TaxiiStatusDetail names one object version of a status and, for a
// failure, why.
type TaxiiStatusDetail struct {
	ID      string `json:"id"`
	Version string `json:"version"`
	Message string `json:"message,omitempty"`
}

// taxiiStatusTTL is how long statuses are kept (the spec asks ≥ 24 h).
const taxiiStatusTTL = 7 * 24 * time.Hour

// rowQuerier is a *sql.DB or a transaction.
type rowQuerier interface {
	querier
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// NewUUID returns a random (version 4) UUID.
func NewUUID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("crypto/rand failed: " + err.Error()) // cannot happen on supported platforms
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// IsUUID reports whether s is a UUID in canonical lower-case form.
func IsUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, r := range s {
		switch i {
		case 8, 13, 18, 23:
			if r != '-' {
				return false
			}
		default:
			if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f') {
				return false
			}
		}
	}
	return true
}

type collectionAudit struct {
	Alias       string `json:"alias,omitempty"`
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
	Public      bool   `json:"public"`
}

func auditCollection(c *TaxiiCollection) collectionAudit {
	return collectionAudit{Alias: c.Alias, Title: c.Title, Description: c.Description, Public: c.Public}
}

func nullString(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }

// CreateTaxiiCollection validates and stores c, giving it a new id. Only
// coordinators may; a duplicate alias is EINVALID on the alias.
func (s *Store) CreateTaxiiCollection(ctx context.Context, c *TaxiiCollection) error {
	if err := authorizeSharing(ctx, focal.ActionCreate); err != nil {
		return err
	}
	if err := c.Validate(); err != nil {
		return err
	}
	return s.WithTx(ctx, func(tx *Tx) error {
		c.ID = NewUUID()
		now := time.Now().UTC().Truncate(time.Microsecond)
		_, err := tx.ExecContext(ctx, `INSERT INTO taxii_collections (id, alias, title, description, public, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
			c.ID, nullString(c.Alias), c.Title, c.Description, c.Public, now.UnixMicro())
		if err != nil {
			if isUniqueViolation(err) {
				return focal.FieldErrorf("alias", "a collection with alias %q already exists", c.Alias)
			}
			return fmt.Errorf("create collection: %w", err)
		}
		c.CreatedAt = now
		return tx.audit(ctx, "create", "taxii_collection", c.ID, nil, auditCollection(c))
	})
}

// UpdateTaxiiCollection replaces alias, title, description and the public
// flag of collection c.ID. Only coordinators may.
func (s *Store) UpdateTaxiiCollection(ctx context.Context, c *TaxiiCollection) error {
	if err := authorizeSharing(ctx, focal.ActionUpdate); err != nil {
		return err
	}
	if err := c.Validate(); err != nil {
		return err
	}
	return s.WithTx(ctx, func(tx *Tx) error {
		before, err := loadCollection(ctx, tx, c.ID)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE taxii_collections SET alias = $1, title = $2, description = $3, public = $4 WHERE id = $5`,
			nullString(c.Alias), c.Title, c.Description, c.Public, before.ID)
		if err != nil {
			if isUniqueViolation(err) {
				return focal.FieldErrorf("alias", "a collection with alias %q already exists", c.Alias)
			}
			return fmt.Errorf("update collection: %w", err)
		}
		c.ID, c.CreatedAt = before.ID, before.CreatedAt
		return tx.audit(ctx, "update", "taxii_collection", c.ID, auditCollection(before), auditCollection(c))
	})
}

// DeleteTaxiiCollection deletes a collection with all its objects and
// grants. Only coordinators may.
func (s *Store) DeleteTaxiiCollection(ctx context.Context, id string) error {
	if err := authorizeSharing(ctx, focal.ActionDelete); err != nil {
		return err
	}
	return s.WithTx(ctx, func(tx *Tx) error {
		before, err := loadCollection(ctx, tx, id)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM taxii_collections WHERE id = $1", before.ID); err != nil {
			return fmt.Errorf("delete collection: %w", err)
		}
		return tx.audit(ctx, "delete", "taxii_collection", before.ID, auditCollection(before), nil)
	})
}

const collectionColumns = "c.id, COALESCE(c.alias, ''), c.title, c.description, c.public, c.created_at"

func scanCollection(sc interface{ Scan(...any) error }) (*TaxiiCollection, error) {
	c := &TaxiiCollection{}
	var created int64
	if err := sc.Scan(&c.ID, &c.Alias, &c.Title, &c.Description, &c.Public, &created); err != nil {
		return nil, err
	}
	c.CreatedAt = time.UnixMicro(created).UTC()
	return c, nil
}

// loadCollection reads a collection by id or alias, whoever asks.
func loadCollection(ctx context.Context, q rowQuerier, idOrAlias string) (*TaxiiCollection, error) {
	c, err := scanCollection(q.QueryRowContext(ctx, "SELECT "+collectionColumns+" FROM taxii_collections c WHERE c.id = $1 OR c.alias = $1", idOrAlias))
	if err != nil {
		return nil, notFound(err, "collection "+idOrAlias)
	}
	return c, nil
}

// access returns the collection idOrAlias and what the principal in ctx
// may do with it through the private API root, or through the public one
// (public: public collections only, read-only, TLP:CLEAR only). A
// collection the principal may neither read nor write is ENOTFOUND.
func (s *Store) access(ctx context.Context, q rowQuerier, public bool, idOrAlias string) (*TaxiiCollection, *collectionAccess, error) {
	c, err := loadCollection(ctx, q, idOrAlias)
	if err != nil {
		return nil, nil, err
	}
	acc, err := s.accessTo(ctx, q, public, c)
	if err != nil {
		return nil, nil, err
	}
	if !acc.read && !acc.write {
		return nil, nil, focal.Errorf(focal.ENOTFOUND, "collection %s not found", idOrAlias)
	}
	c.CanRead, c.CanWrite = acc.read, acc.write
	return c, acc, nil
}

func (s *Store) accessTo(ctx context.Context, q rowQuerier, public bool, c *TaxiiCollection) (*collectionAccess, error) {
	if public {
		if !c.Public {
			return &collectionAccess{}, nil
		}
		return &collectionAccess{read: true, recipient: &focal.Recipient{Kind: focal.RecipientPublic, Name: "the public", Via: "public collection"}}, nil
	}
	p := focal.PrincipalFromContext(ctx)
	if err := focal.Authorize(p, focal.ActionRead, focal.Resource{Kind: focal.KindCollection}); err != nil {
		return nil, err
	}
	if p.Role.Staff() {
		return staffAccess(p), nil
	}
	grants, err := grantsFor(ctx, q, p, c.ID)
	if err != nil {
		return nil, err
	}
	if a := grants[c.ID]; a != nil {
		return a, nil
	}
	return &collectionAccess{}, nil
}

// TaxiiCollections returns the collections the principal in ctx may read
// or write, oldest first, with its CanRead and CanWrite: every collection
// for staff, those granted to its sharing groups for a peer or a
// constituent, none for anyone else. With public, the public collections,
// read-only, whoever asks.
func (s *Store) TaxiiCollections(ctx context.Context, public bool) ([]*TaxiiCollection, error) {
	var all []*TaxiiCollection
	cond := ""
	if public {
		cond = " WHERE c.public"
	}
	err := eachRow(ctx, s.rdb, "SELECT "+collectionColumns+" FROM taxii_collections c"+cond+" ORDER BY c.created_at, c.id", nil, func(rows *sql.Rows) error {
		c, err := scanCollection(rows)
		if err != nil {
			return err
		}
		all = append(all, c)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("collections: %w", err)
	}
	var grants map[string]*collectionAccess
	p := focal.PrincipalFromContext(ctx)
	if !public {
		if err := focal.Authorize(p, focal.ActionRead, focal.Resource{Kind: focal.KindCollection}); err != nil {
			return nil, err
		}
		if !p.Role.Staff() {
			if grants, err = grantsFor(ctx, s.rdb, p, ""); err != nil {
				return nil, err
			}
		}
	}
	var out []*TaxiiCollection
	for _, c := range all {
		switch {
		case public:
			c.CanRead = true
		case p.Role.Staff():
			a := staffAccess(p)
			c.CanRead, c.CanWrite = a.read, a.write
		case grants[c.ID] != nil:
			c.CanRead, c.CanWrite = grants[c.ID].read, grants[c.ID].write
		}
		if c.CanRead || c.CanWrite {
			out = append(out, c)
		}
	}
	return out, nil
}

// TaxiiCollection returns the collection idOrAlias (its id or alias) with
// the principal's access, or ENOTFOUND when it may neither read nor write
// it (or, with public, when it is not public).
func (s *Store) TaxiiCollection(ctx context.Context, public bool, idOrAlias string) (*TaxiiCollection, error) {
	c, _, err := s.access(ctx, s.rdb, public, idOrAlias)
	return c, err
}

// sqlArgs numbers query arguments as they are added.
type sqlArgs []any

func (a *sqlArgs) add(v any) string {
	*a = append(*a, v)
	return "$" + strconv.Itoa(len(*a))
}

func (a *sqlArgs) list(vs []string) string {
	ps := make([]string, len(vs))
	for i, v := range vs {
		ps[i] = a.add(v)
	}
	return strings.Join(ps, ", ")
}

// taxiiWhere builds the WHERE condition (over alias o) selecting the
// object versions of collection coll that f matches and that may be
// released to acc's recipient. "Latest" and "first" are computed among the
// versions the recipient may see, so a newer RED version does not hide an
// older GREEN one from a peer.
func taxiiWhere(coll string, f TaxiiFilter, acc *collectionAccess, a *sqlArgs) string {
	labels := newReleaseLabels(acc.recipient, a.add)
	w := []string{"o.collection_id = " + a.add(coll)}
	if v := releasePredicate(acc.recipient, "o", labels); v != "" {
		w = append(w, v)
	}
	if f.ObjectID != "" {
		w = append(w, "o.stix_id = "+a.add(f.ObjectID))
	}
	if len(f.IDs) > 0 {
		w = append(w, "o.stix_id IN ("+a.list(f.IDs)+")")
	}
	if len(f.Types) > 0 {
		w = append(w, "o.type IN ("+a.list(f.Types)+")")
	}
	same := func(alias string) string {
		c := alias + ".collection_id = o.collection_id AND " + alias + ".stix_id = o.stix_id"
		if v := releasePredicate(acc.recipient, alias, labels); v != "" {
			c += " AND " + v
		}
		return c
	}
	var specV string
	if len(f.SpecVersions) > 0 {
		l := a.list(f.SpecVersions)
		w = append(w, "o.spec_version IN ("+l+")")
		specV = " AND v.spec_version IN (" + l + ")"
	} else if f.AnySpecVersion {
		specV = ""
	} else {
		w = append(w, "o.spec_version = (SELECT MAX(s.spec_version) FROM taxii_objects s WHERE "+same("s")+")")
		specV = " AND v.spec_version = o.spec_version"
	}
	if vm := f.Versions; !vm.All {
		var ors []string
		if vm.Last || (!vm.First && len(vm.Exact) == 0) {
			ors = append(ors, "o.version = (SELECT MAX(v.version) FROM taxii_objects v WHERE "+same("v")+specV+")")
		}
		if vm.First {
			ors = append(ors, "o.version = (SELECT MIN(v.version) FROM taxii_objects v WHERE "+same("v")+specV+")")
		}
		if len(vm.Exact) > 0 {
			ps := make([]string, len(vm.Exact))
			for i, v := range vm.Exact {
				ps[i] = a.add(v)
			}
			ors = append(ors, "o.version IN ("+strings.Join(ps, ", ")+")")
		}
		w = append(w, "("+strings.Join(ors, " OR ")+")")
	}
	if f.HasAddedAfter {
		w = append(w, "o.date_added > "+a.add(f.AddedAfter))
	}
	if f.After {
		d := a.add(f.AfterDate)
		w = append(w, "o.date_added >= "+d+" AND (o.date_added > "+d+" OR o.seq > "+a.add(f.AfterSeq)+")")
	}
	return strings.Join(w, " AND ")
}

// readable returns the collection and access for a read, with the TAXII
// answers for a collection the principal may not read: ENOTFOUND if it may
// not write either, EFORBIDDEN if it may.
func (s *Store) readable(ctx context.Context, public bool, collection string) (*collectionAccess, string, error) {
	c, acc, err := s.access(ctx, s.rdb, public, collection)
	if err != nil {
		return nil, "", err
	}
	if !acc.read {
		return nil, "", focal.Errorf(focal.EFORBIDDEN, "you may not read collection %s", collection)
	}
	return acc, c.ID, nil
}

// TaxiiObjects returns one page of the object versions of collection that
// f selects and the principal in ctx may receive, in ascending date_added
// order, and whether more follow. With bodies it reads each object's JSON
// too (the objects endpoints); without, only headers (manifest, versions).
// A collection the principal may write but not read is EFORBIDDEN; one it
// may do neither with is ENOTFOUND.
func (s *Store) TaxiiObjects(ctx context.Context, public bool, collection string, f TaxiiFilter, bodies bool) ([]TaxiiRecord, bool, error) {
	acc, id, err := s.readable(ctx, public, collection)
	if err != nil {
		return nil, false, err
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 1000
	}
	var a sqlArgs
	where := taxiiWhere(id, f, acc, &a)
	cols := "o.seq, o.stix_id, o.spec_version, o.version, o.date_added"
	if bodies {
		cols += ", o.body"
	}
	query := "SELECT " + cols + " FROM taxii_objects o WHERE " + where + " ORDER BY o.date_added, o.seq LIMIT " + a.add(limit+1)
	out := make([]TaxiiRecord, 0, min(limit+1, 1024))
	err = eachRow(ctx, s.rdb, query, a, func(rows *sql.Rows) error {
		var r TaxiiRecord
		dest := []any{&r.Seq, &r.ID, &r.SpecVersion, &r.Version, &r.DateAdded}
		if bodies {
			dest = append(dest, &r.Body)
		}
		if err := rows.Scan(dest...); err != nil {
			return err
		}
		out = append(out, r)
		return nil
	})
	if err != nil {
		return nil, false, fmt.Errorf("taxii objects: %w", err)
	}
	more := len(out) > limit
	if more {
		out = out[:limit]
	}
	return out, more, nil
}

// TaxiiObjectExists reports whether the collection holds any version of
// object id that the principal may receive (to tell "no such object",
// 404, from "nothing matches the filters").
func (s *Store) TaxiiObjectExists(ctx context.Context, public bool, collection, id string) (bool, error) {
	acc, cid, err := s.readable(ctx, public, collection)
	if err != nil {
		return false, err
	}
	var a sqlArgs
	labels := newReleaseLabels(acc.recipient, a.add)
	where := "o.collection_id = " + a.add(cid) + " AND o.stix_id = " + a.add(id)
	if v := releasePredicate(acc.recipient, "o", labels); v != "" {
		where += " AND " + v
	}
	var one int
	err = s.rdb.QueryRowContext(ctx, "SELECT 1 FROM taxii_objects o WHERE "+where+" LIMIT 1", a...).Scan(&one)
	if err == sql.ErrNoRows {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("taxii object exists: %w", err)
	}
	return true, nil
}

// AddTaxiiObjects adds objs to collection in one transaction, in order,
// and returns the outcome of each: its date_added, or Duplicate for a
// version already present (a success in TAXII). date_added is strictly
// increasing within the collection, across processes: the collection row
// is locked (SELECT … FOR UPDATE on PostgreSQL; SQLite has one writer).
// The principal needs write access (EFORBIDDEN if it may only read,
// ENOTFOUND if neither). An object's OrgID is kept only for local objects
// (posted by staff, without another Source): a peer cannot make another
// node's data "concern" one of our organisations.
func (s *Store) AddTaxiiObjects(ctx context.Context, collection string, objs []TaxiiObject) ([]TaxiiAdded, error) {
	c, acc, err := s.access(ctx, s.rdb, false, collection)
	if err != nil {
		return nil, err
	}
	if !acc.write {
		return nil, focal.Errorf(focal.EFORBIDDEN, "you may not write to collection %s", collection)
	}
	p := focal.PrincipalFromContext(ctx)
	source := "local"
	if !p.Role.Staff() {
		source = "user:" + strconv.FormatInt(p.UserID, 10)
	}
	out := make([]TaxiiAdded, len(objs))
	insert, err := s.prepared(ctx, `INSERT INTO taxii_objects (collection_id, stix_id, type, spec_version, version, date_added, tlp, org_id, source, body)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (collection_id, stix_id, version) DO NOTHING`)
	if err != nil {
		return nil, fmt.Errorf("add objects: prepare: %w", err)
	}
	err = s.WithTx(ctx, func(tx *Tx) error {
		var last int64
		lock := "SELECT last_added FROM taxii_collections WHERE id = $1"
		if s.dialect == Postgres {
			lock += " FOR UPDATE"
		}
		if err := tx.QueryRowContext(ctx, lock, c.ID).Scan(&last); err != nil {
			return notFound(err, "collection "+collection)
		}
		st := tx.StmtContext(ctx, insert)
		defer st.Close()
		for i, o := range objs {
			added := max(time.Now().UnixMicro(), last+1)
			src := source
			if o.Source != "" && source == "local" {
				src = o.Source
			}
			org := o.OrgID
			if src != "local" {
				org = 0
			}
			res, err := st.ExecContext(ctx, c.ID, o.ID, o.Type, o.SpecVersion, o.Version, added, string(o.TLP), nullID(org), src, string(o.Body))
			if err != nil {
				return fmt.Errorf("add object %s: %w", o.ID, err)
			}
			if n, _ := res.RowsAffected(); n == 0 {
				out[i].Duplicate = true
				continue
			}
			out[i].DateAdded, last = added, added
		}
		if _, err := tx.ExecContext(ctx, "UPDATE taxii_collections SET last_added = $1 WHERE id = $2", last, c.ID); err != nil {
			return fmt.Errorf("add objects: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DeleteTaxiiObjects deletes the versions of object f.ObjectID that f
// selects (set f.Versions.All and f.AnySpecVersion for every version) and
// returns how many. TAXII's rule: the
// principal needs both read and write; read without write or write
// without read is EFORBIDDEN, neither ENOTFOUND; nothing to delete is
// ENOTFOUND.
func (s *Store) DeleteTaxiiObjects(ctx context.Context, collection string, f TaxiiFilter) (int64, error) {
	c, acc, err := s.access(ctx, s.rdb, false, collection)
	if err != nil {
		return 0, err
	}
	if !acc.read || !acc.write {
		return 0, focal.Errorf(focal.EFORBIDDEN, "deleting needs both read and write access to collection %s", collection)
	}
	if f.ObjectID == "" {
		return 0, focal.FieldErrorf("id", "no object given")
	}
	var n int64
	err = s.WithTx(ctx, func(tx *Tx) error {
		var a sqlArgs
		where := taxiiWhere(c.ID, f, acc, &a)
		res, err := tx.ExecContext(ctx, "DELETE FROM taxii_objects WHERE seq IN (SELECT o.seq FROM taxii_objects o WHERE "+where+")", a...)
		if err != nil {
			return fmt.Errorf("delete objects: %w", err)
		}
		if n, err = res.RowsAffected(); err != nil {
			return fmt.Errorf("delete objects: %w", err)
		}
		if n == 0 {
			return focal.Errorf(focal.ENOTFOUND, "object %s not found", f.ObjectID)
		}
		return tx.audit(ctx, "delete", "taxii_object", c.ID+"/"+f.ObjectID, map[string]any{"versions": n}, nil)
	})
	return n, err
}

// CreateTaxiiStatus stores st for the principal in ctx, giving it a new
// id, and forgets statuses older than a week.
func (s *Store) CreateTaxiiStatus(ctx context.Context, st *TaxiiStatus) error {
	p := focal.PrincipalFromContext(ctx)
	if p.IsAnonymous() {
		return focal.Errorf(focal.EUNAUTHORIZED, "log in first")
	}
	enc := func(ds []TaxiiStatusDetail) (string, error) {
		if ds == nil {
			ds = []TaxiiStatusDetail{}
		}
		b, err := json.Marshal(ds)
		return string(b), err
	}
	succ, err := enc(st.Successes)
	if err != nil {
		return fmt.Errorf("create status: %w", err)
	}
	fail, err := enc(st.Failures)
	if err != nil {
		return fmt.Errorf("create status: %w", err)
	}
	pend, err := enc(st.Pendings)
	if err != nil {
		return fmt.Errorf("create status: %w", err)
	}
	st.ID, st.UserID = NewUUID(), p.UserID
	st.CreatedAt = time.Now().UTC().Truncate(time.Microsecond)
	return s.WithTx(ctx, func(tx *Tx) error {
		if _, err := tx.ExecContext(ctx, "DELETE FROM taxii_status WHERE created_at < $1", st.CreatedAt.Add(-taxiiStatusTTL).UnixMicro()); err != nil {
			return fmt.Errorf("create status: purge: %w", err)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO taxii_status (id, collection_id, user_id, request_timestamp, total_count, success_count, failure_count, pending_count,
			successes, failures, pendings, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
			st.ID, st.CollectionID, st.UserID, st.RequestTimestamp.UnixMicro(), st.Total, st.Success, st.Failure, st.Pending,
			succ, fail, pend, st.CreatedAt.UnixMicro())
		if err != nil {
			return fmt.Errorf("create status: %w", err)
		}
		return nil
	})
}

// TaxiiStatus returns status id to the account that made the request or a
// coordinator; to anyone else it is ENOTFOUND.
func (s *Store) TaxiiStatus(ctx context.Context, id string) (*TaxiiStatus, error) {
	p := focal.PrincipalFromContext(ctx)
	if p.IsAnonymous() {
		return nil, focal.Errorf(focal.EUNAUTHORIZED, "log in first")
	}
	st := &TaxiiStatus{ID: id}
	var req, created int64
	var succ, fail, pend string
	err := s.rdb.QueryRowContext(ctx, `SELECT collection_id, user_id, request_timestamp, total_count, success_count, failure_count, pending_count,
		successes, failures, pendings, created_at FROM taxii_status WHERE id = $1`, id).
		Scan(&st.CollectionID, &st.UserID, &req, &st.Total, &st.Success, &st.Failure, &st.Pending, &succ, &fail, &pend, &created)
	if err != nil {
		return nil, notFound(err, "status "+id)
	}
	if st.UserID != p.UserID && p.Role != focal.RoleCoordinator {
		return nil, focal.Errorf(focal.ENOTFOUND, "status %s not found", id)
	}
	st.RequestTimestamp, st.CreatedAt = time.UnixMicro(req).UTC(), time.UnixMicro(created).UTC()
	for _, d := range []struct {
		s   string
		dst *[]TaxiiStatusDetail
	}{{succ, &st.Successes}, {fail, &st.Failures}, {pend, &st.Pendings}} {
		if err := json.Unmarshal([]byte(d.s), d.dst); err != nil {
			return nil, fmt.Errorf("status %s: %w", id, err)
		}
	}
	return st, nil
}

// InitMeta returns the node-wide fact key, first storing value if it has
// none: every process sharing the database ends up with the same value,
// whichever stored it first.
func (s *Store) InitMeta(ctx context.Context, key, value string) (string, error) {
	if _, err := s.db.ExecContext(ctx, `INSERT INTO focal_meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING`, key, value); err != nil {
		return "", fmt.Errorf("init meta %s: %w", key, err)
	}
	return s.Meta(ctx, key)
}
