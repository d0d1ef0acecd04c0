package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"focal/internal/focal"
)

// authorize checks the principal in ctx against the policy.
func authorize(ctx context.Context, a focal.Action, r focal.Resource) error {
	return focal.Authorize(focal.PrincipalFromContext(ctx), a, r)
}

// orgAudit is what the audit log records of an organisation.
type orgAudit struct {
	Name          string            `json:"name"`
	Sector        string            `json:"sector"`
	CriticalInfra bool              `json:"critical_infra"`
	Country       string            `json:"country"`
	Networks      []string          `json:"networks"`
	ASNs          []uint32          `json:"asns"`
	Domains       []string          `json:"domains"`
	Contacts      []focal.Contact   `json:"contacts"`
	Notify        focal.NotifyPrefs `json:"notify"`
}

func auditOrg(o *focal.Organisation) orgAudit {
	a := orgAudit{Name: o.Name, Sector: o.Sector, CriticalInfra: o.CriticalInfra, Country: o.Country,
		ASNs: o.ASNs, Domains: o.Domains, Contacts: o.Contacts, Notify: o.Notify}
	for _, p := range o.Networks {
		a.Networks = append(a.Networks, p.String())
	}
	return a
}

// CreateOrganisation validates o, stores it and sets its ID and times.
// Names are unique regardless of case (ECONFLICT otherwise).
func (s *Store) CreateOrganisation(ctx context.Context, o *focal.Organisation) error {
	if err := authorize(ctx, focal.ActionCreate, focal.Resource{Kind: focal.KindOrganisation}); err != nil {
		return err
	}
	o.Normalize()
	if err := o.Validate(); err != nil {
		return err
	}
	return s.WithTx(ctx, func(tx *Tx) error { return tx.createOrganisation(ctx, o) })
}

func (tx *Tx) createOrganisation(ctx context.Context, o *focal.Organisation) error {
	now := time.Now().UTC().Truncate(time.Millisecond)
	notify, err := json.Marshal(o.Notify)
	if err != nil {
		return fmt.Errorf("create organisation: %w", err)
	}
	err = tx.QueryRowContext(ctx, `INSERT INTO organisations (name, name_key, sector, critical_infra, country, notify, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id`,
		o.Name, strings.ToLower(o.Name), o.Sector, o.CriticalInfra, o.Country, string(notify), now.UnixMilli()).Scan(&o.ID)
	if err != nil {
		if isUniqueViolation(err) {
			return focal.FieldErrorf("name", "an organisation named %q already exists", o.Name)
		}
		return fmt.Errorf("create organisation: %w", err)
	}
	o.CreatedAt, o.UpdatedAt = now, now
	if err := tx.insertOrgChildren(ctx, o); err != nil {
		return err
	}
	return tx.audit(ctx, "create", "organisation", strconv.FormatInt(o.ID, 10), nil, auditOrg(o))
}

func (tx *Tx) insertOrgChildren(ctx context.Context, o *focal.Organisation) error {
	for _, p := range o.Networks {
		if _, err := tx.ExecContext(ctx, "INSERT INTO org_networks (org_id, cidr) VALUES ($1, $2)", o.ID, p.String()); err != nil {
			return fmt.Errorf("store network %s: %w", p, err)
		}
	}
	for _, a := range o.ASNs {
		if _, err := tx.ExecContext(ctx, "INSERT INTO org_asns (org_id, asn) VALUES ($1, $2)", o.ID, int64(a)); err != nil {
			return fmt.Errorf("store AS%d: %w", a, err)
		}
	}
	for _, d := range o.Domains {
		if _, err := tx.ExecContext(ctx, "INSERT INTO org_domains (org_id, domain) VALUES ($1, $2)", o.ID, d); err != nil {
			return fmt.Errorf("store domain %s: %w", d, err)
		}
	}
	for i, c := range o.Contacts {
		if _, err := tx.ExecContext(ctx, "INSERT INTO org_contacts (org_id, position, email, role, name, pgp_key, language) VALUES ($1, $2, $3, $4, $5, $6, $7)",
			o.ID, i, c.Email, c.Role, c.Name, c.PGPKey, c.Language); err != nil {
			return fmt.Errorf("store contact %s: %w", c.Email, err)
		}
	}
	return nil
}

// UpdateOrganisation replaces the stored organisation o.ID with o.
func (s *Store) UpdateOrganisation(ctx context.Context, o *focal.Organisation) error {
	if err := authorize(ctx, focal.ActionUpdate, focal.Resource{Kind: focal.KindOrganisation, OrgID: o.ID}); err != nil {
		return err
	}
	o.Normalize()
	if err := o.Validate(); err != nil {
		return err
	}
	return s.WithTx(ctx, func(tx *Tx) error {
		before, err := tx.organisation(ctx, o.ID)
		if err != nil {
			return err
		}
		return tx.updateOrganisation(ctx, before, o)
	})
}

func (tx *Tx) updateOrganisation(ctx context.Context, before, o *focal.Organisation) error {
	now := time.Now().UTC().Truncate(time.Millisecond)
	notify, err := json.Marshal(o.Notify)
	if err != nil {
		return fmt.Errorf("update organisation: %w", err)
	}
	_, err = tx.ExecContext(ctx, `UPDATE organisations SET name = $1, name_key = $2, sector = $3, critical_infra = $4, country = $5, notify = $6, updated_at = $7 WHERE id = $8`,
		o.Name, strings.ToLower(o.Name), o.Sector, o.CriticalInfra, o.Country, string(notify), now.UnixMilli(), o.ID)
	if err != nil {
		if isUniqueViolation(err) {
			return focal.FieldErrorf("name", "an organisation named %q already exists", o.Name)
		}
		return fmt.Errorf("update organisation: %w", err)
	}
	for _, t := range []string{"org_networks", "org_asns", "org_domains", "org_contacts"} {
		if _, err := tx.ExecContext(ctx, "DELETE FROM "+t+" WHERE org_id = $1", o.ID); err != nil {
			return fmt.Errorf("update organisation: %w", err)
		}
	}
	if err := tx.insertOrgChildren(ctx, o); err != nil {
		return err
	}
	o.CreatedAt, o.UpdatedAt = before.CreatedAt, now
	return tx.audit(ctx, "update", "organisation", strconv.FormatInt(o.ID, 10), auditOrg(before), auditOrg(o))
}

// DeleteOrganisation removes an organisation. It fails with ECONFLICT while
// accounts still belong to it.
func (s *Store) DeleteOrganisation(ctx context.Context, id int64) error {
	if err := authorize(ctx, focal.ActionDelete, focal.Resource{Kind: focal.KindOrganisation, OrgID: id}); err != nil {
		return err
	}
	return s.WithTx(ctx, func(tx *Tx) error {
		before, err := tx.organisation(ctx, id)
		if err != nil {
			return err
		}
		var users int
		if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM users WHERE org_id = $1", id).Scan(&users); err != nil {
			return fmt.Errorf("delete organisation: %w", err)
		}
		if users > 0 {
			return focal.Errorf(focal.ECONFLICT, "%s still has %d account(s); remove or move them first", before.Name, users)
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM organisations WHERE id = $1", id); err != nil {
			return fmt.Errorf("delete organisation: %w", err)
		}
		return tx.audit(ctx, "delete", "organisation", strconv.FormatInt(id, 10), auditOrg(before), nil)
	})
}

// Organisation returns one organisation with its networks, ASNs, domains
// and contacts.
func (s *Store) Organisation(ctx context.Context, id int64) (*focal.Organisation, error) {
	if err := authorize(ctx, focal.ActionRead, focal.Resource{Kind: focal.KindOrganisation, OrgID: id}); err != nil {
		return nil, err
	}
	os, err := s.loadOrganisations(ctx, s.rdb, "WHERE o.id = $1", []any{id}, "", true)
	if err != nil {
		return nil, err
	}
	if len(os) == 0 {
		return nil, focal.Errorf(focal.ENOTFOUND, "organisation %d not found", id)
	}
	return os[0], nil
}

// OrganisationByName finds an organisation by name, regardless of case.
func (s *Store) OrganisationByName(ctx context.Context, name string) (*focal.Organisation, error) {
	os, err := s.loadOrganisations(ctx, s.rdb, "WHERE o.name_key = $1", []any{strings.ToLower(strings.Join(strings.Fields(name), " "))}, "", true)
	if err != nil {
		return nil, err
	}
	if len(os) == 0 {
		return nil, focal.Errorf(focal.ENOTFOUND, "no organisation named %q", name)
	}
	if err := authorize(ctx, focal.ActionRead, focal.Resource{Kind: focal.KindOrganisation, OrgID: os[0].ID}); err != nil {
		return nil, err
	}
	return os[0], nil
}

func (tx *Tx) organisation(ctx context.Context, id int64) (*focal.Organisation, error) {
	os, err := tx.store.loadOrganisations(ctx, tx, "WHERE o.id = $1", []any{id}, "", true)
	if err != nil {
		return nil, err
	}
	if len(os) == 0 {
		return nil, focal.Errorf(focal.ENOTFOUND, "organisation %d not found", id)
	}
	return os[0], nil
}

// OrgFilter selects organisations. Zero fields do not filter.
type OrgFilter struct {
	Query   string // substring of the name, case-insensitive
	Sector  string
	Country string
	Limit   int // default 50, at most 1000
	Offset  int
}

// Organisations lists organisations matching f, by name, and the total
// number matching. A constituent sees only its own organisation.
func (s *Store) Organisations(ctx context.Context, f OrgFilter) ([]*focal.Organisation, int, error) {
	if err := authorize(ctx, focal.ActionRead, focal.Resource{Kind: focal.KindOrganisation}); err != nil {
		return nil, 0, err
	}
	var where []string
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	if orgID, all := focal.OrgScope(focal.PrincipalFromContext(ctx)); !all {
		add("o.id = $%d", orgID)
	}
	if f.Query != "" {
		add("o.name_key LIKE $%d ESCAPE '\\'", "%"+likeEscape(strings.ToLower(f.Query))+"%")
	}
	if f.Sector != "" {
		add("o.sector = $%d", f.Sector)
	}
	if f.Country != "" {
		add("o.country = $%d", strings.ToUpper(f.Country))
	}
	cond := ""
	if len(where) > 0 {
		cond = "WHERE " + strings.Join(where, " AND ")
	}
	var total int
	if err := s.rdb.QueryRowContext(ctx, "SELECT COUNT(*) FROM organisations o "+cond, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count organisations: %w", err)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 50
	}
	limit = min(limit, 1000)
	page := fmt.Sprintf(" ORDER BY o.name_key LIMIT %d OFFSET %d", limit, max(f.Offset, 0))
	os, err := s.loadOrganisations(ctx, s.rdb, cond, args, page, true)
	return os, total, err
}

// Constituency returns every organisation's claims (networks, ASNs,
// domains; no contacts) for building the lookup table. It is an internal
// read with no principal check.
func (s *Store) Constituency(ctx context.Context) ([]*focal.Organisation, error) {
	return s.loadOrganisations(ctx, s.rdb, "", nil, wholeRegistry, false)
}

// wholeRegistry is the tail that reads every organisation: only then are
// the child tables read whole instead of by id list.
const wholeRegistry = " ORDER BY o.id"

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// loadOrganisations reads organisations matching cond (a WHERE clause over
// alias o, with args) and then their children, one query per child table.
func (s *Store) loadOrganisations(ctx context.Context, q querier, cond string, args []any, tail string, contacts bool) ([]*focal.Organisation, error) {
	rows, err := q.QueryContext(ctx, `SELECT o.id, o.name, o.sector, o.critical_infra, o.country, o.notify, o.created_at, o.updated_at
		FROM organisations o `+cond+tail, args...)
	if err != nil {
		return nil, fmt.Errorf("list organisations: %w", err)
	}
	var out []*focal.Organisation
	byID := map[int64]*focal.Organisation{}
	for rows.Next() {
		o := &focal.Organisation{}
		var notify string
		var created, updated int64
		if err := rows.Scan(&o.ID, &o.Name, &o.Sector, &o.CriticalInfra, &o.Country, &notify, &created, &updated); err != nil {
			rows.Close()
			return nil, fmt.Errorf("scan organisation: %w", err)
		}
		if err := json.Unmarshal([]byte(notify), &o.Notify); err != nil {
			rows.Close()
			return nil, fmt.Errorf("organisation %d: notify: %w", o.ID, err)
		}
		o.CreatedAt, o.UpdatedAt = time.UnixMilli(created).UTC(), time.UnixMilli(updated).UTC()
		out = append(out, o)
		byID[o.ID] = o
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return nil, fmt.Errorf("list organisations: %w", err)
	}
	if len(out) == 0 {
		return out, nil
	}
	// Children of the selected organisations: for a page or a filter,
	// restrict by id list; for the whole registry, read the tables whole.
	idCond, idArgs := "", []any(nil)
	if cond != "" || tail != wholeRegistry {
		ph := make([]string, len(out))
		for i, o := range out {
			ph[i] = "$" + strconv.Itoa(i+1)
			idArgs = append(idArgs, o.ID)
		}
		idCond = " WHERE org_id IN (" + strings.Join(ph, ",") + ")"
	}
	err = eachRow(ctx, q, "SELECT org_id, cidr FROM org_networks"+idCond+" ORDER BY org_id, cidr", idArgs, func(r *sql.Rows) error {
		var id int64
		var cidr string
		if err := r.Scan(&id, &cidr); err != nil {
			return err
		}
		p, err := netip.ParsePrefix(cidr)
		if err != nil {
			return fmt.Errorf("organisation %d: stored network %q: %w", id, cidr, err)
		}
		if o := byID[id]; o != nil {
			o.Networks = append(o.Networks, p)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = eachRow(ctx, q, "SELECT org_id, asn FROM org_asns"+idCond+" ORDER BY org_id, asn", idArgs, func(r *sql.Rows) error {
		var id, asn int64
		if err := r.Scan(&id, &asn); err != nil {
			return err
		}
		if o := byID[id]; o != nil {
			o.ASNs = append(o.ASNs, uint32(asn))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = eachRow(ctx, q, "SELECT org_id, domain FROM org_domains"+idCond+" ORDER BY org_id, domain", idArgs, func(r *sql.Rows) error {
		var id int64
		var d string
		if err := r.Scan(&id, &d); err != nil {
			return err
		}
		if o := byID[id]; o != nil {
			o.Domains = append(o.Domains, d)
		}
		return nil
	})
	if err != nil || !contacts {
		return out, err
	}
	err = eachRow(ctx, q, "SELECT org_id, email, role, name, pgp_key, language FROM org_contacts"+idCond+" ORDER BY org_id, position", idArgs, func(r *sql.Rows) error {
		var id int64
		var c focal.Contact
		if err := r.Scan(&id, &c.Email, &c.Role, &c.Name, &c.PGPKey, &c.Language); err != nil {
			return err
		}
		if o := byID[id]; o != nil {
			o.Contacts = append(o.Contacts, c)
		}
		return nil
	})
	return out, err
}

// eachRow runs query and calls fn for every row, closing rows and checking
// rows.Err.
func eachRow(ctx context.Context, q querier, query string, args []any, fn func(*sql.Rows) error) error {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("query: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("query: %w", err)
	}
	return nil
}

func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// isUniqueViolation reports whether err is a unique-constraint violation
// in either dialect.
func isUniqueViolation(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "UNIQUE constraint failed") || strings.Contains(msg, "SQLSTATE 23505")
}

// ConstituencyVersion returns a value that changes whenever an
// organisation is created, updated or deleted, so other processes can tell
// when to rebuild their lookup table without reading the registry.
func (s *Store) ConstituencyVersion(ctx context.Context) (string, error) {
	var n, maxUpdated, maxID int64
	err := s.rdb.QueryRowContext(ctx, "SELECT COUNT(*), COALESCE(MAX(updated_at), 0), COALESCE(MAX(id), 0) FROM organisations").Scan(&n, &maxUpdated, &maxID)
	if err != nil {
		return "", fmt.Errorf("constituency version: %w", err)
	}
	return fmt.Sprintf("%d:%d:%d", n, maxUpdated, maxID), nil
}

// OrgName is an organisation's id and name, for menus and labels.
type OrgName struct {
	ID   int64
	Name string
}

// OrganisationNames lists organisations' ids and names by name, at most
// limit, scoped like Organisations: a light query for pages that only
// label or offer organisations.
func (s *Store) OrganisationNames(ctx context.Context, limit int) ([]OrgName, error) {
	if err := authorize(ctx, focal.ActionRead, focal.Resource{Kind: focal.KindOrganisation}); err != nil {
		return nil, err
	}
	q := "SELECT o.id, o.name FROM organisations o"
	var args []any
	if orgID, all := focal.OrgScope(focal.PrincipalFromContext(ctx)); !all {
		q += " WHERE o.id = $1"
		args = append(args, orgID)
	}
	q += fmt.Sprintf(" ORDER BY o.name_key LIMIT %d", max(limit, 1))
	var out []OrgName
	err := eachRow(ctx, s.rdb, q, args, func(r *sql.Rows) error {
		var n OrgName
		if err := r.Scan(&n.ID, &n.Name); err != nil {
			return err
		}
		out = append(out, n)
		return nil
	})
	return out, err
}
