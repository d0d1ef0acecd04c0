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

// SharingGroup is a set of peers (other focal points' machine accounts)
// and constituent organisations that receive the same TAXII collections up
// to the same TLP label: Ceiling is TLP:GREEN for a community group and
// TLP:AMBER for a group granted need-to-know.
type SharingGroup struct {
	ID          int64
	Name        string
	Description string
	Ceiling     focal.TLP
	CreatedAt   time.Time
	Members     []SharingMember // filled by SharingGroup, not by SharingGroups
	Collections []SharingGrant  // likewise
}

// SharingMember is one member of a sharing group: a peer account (UserID)
// or a constituent organisation (OrgID), exactly one of the two. Name is
// filled by the store for display.
type SharingMember struct {
	UserID int64
	OrgID  int64
	Name   string
}

// SharingGrant gives a sharing group's members access to a collection.
type SharingGrant struct {
	CollectionID string
	Title        string // filled by the store for display
	CanRead      bool
	CanWrite     bool
}

// Validate checks a group about to be stored.
func (g *SharingGroup) Validate() error {
	g.Name = strings.TrimSpace(g.Name)
	if g.Name == "" || len(g.Name) > 200 {
		return focal.FieldErrorf("name", "must be 1 to 200 characters long")
	}
	if g.Ceiling != focal.TLPGreen && g.Ceiling != focal.TLPAmber {
		return focal.FieldErrorf("ceiling", "must be GREEN (community) or AMBER (need-to-know), got %q", string(g.Ceiling))
	}
	return nil
}

type sharingGroupAudit struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	Ceiling     string `json:"ceiling"`
}

func auditGroup(g *SharingGroup) sharingGroupAudit {
	return sharingGroupAudit{Name: g.Name, Description: g.Description, Ceiling: string(g.Ceiling)}
}

// authorizeSharing lets only principals allowed action on sharing groups
// (coordinators change them; staff read them) through.
func authorizeSharing(ctx context.Context, a focal.Action) error {
	return authorize(ctx, a, focal.Resource{Kind: focal.KindSharing})
}

// CreateSharingGroup validates and stores g and sets its ID. Only
// coordinators may; a duplicate name is EINVALID on the name.
func (s *Store) CreateSharingGroup(ctx context.Context, g *SharingGroup) error {
	if err := authorizeSharing(ctx, focal.ActionCreate); err != nil {
		return err
	}
	if err := g.Validate(); err != nil {
		return err
	}
	return s.WithTx(ctx, func(tx *Tx) error {
		now := time.Now().UTC().Truncate(time.Millisecond)
		err := tx.QueryRowContext(ctx, `INSERT INTO sharing_groups (name, description, ceiling, created_at) VALUES ($1, $2, $3, $4) RETURNING id`,
			g.Name, g.Description, string(g.Ceiling), now.UnixMilli()).Scan(&g.ID)
		if err != nil {
			if isUniqueViolation(err) {
				return focal.FieldErrorf("name", "a sharing group named %q already exists", g.Name)
			}
			return fmt.Errorf("create sharing group: %w", err)
		}
		g.CreatedAt = now
		return tx.audit(ctx, "create", "sharing_group", strconv.FormatInt(g.ID, 10), nil, auditGroup(g))
	})
}

// UpdateSharingGroup replaces the name, description and ceiling of group
// g.ID. Only coordinators may.
func (s *Store) UpdateSharingGroup(ctx context.Context, g *SharingGroup) error {
	if err := authorizeSharing(ctx, focal.ActionUpdate); err != nil {
		return err
	}
	if err := g.Validate(); err != nil {
		return err
	}
	return s.WithTx(ctx, func(tx *Tx) error {
		before, err := sharingGroup(ctx, tx, g.ID)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, "UPDATE sharing_groups SET name = $1, description = $2, ceiling = $3 WHERE id = $4",
			g.Name, g.Description, string(g.Ceiling), g.ID)
		if err != nil {
			if isUniqueViolation(err) {
				return focal.FieldErrorf("name", "a sharing group named %q already exists", g.Name)
			}
			return fmt.Errorf("update sharing group: %w", err)
		}
		g.CreatedAt = before.CreatedAt
		return tx.audit(ctx, "update", "sharing_group", strconv.FormatInt(g.ID, 10), auditGroup(before), auditGroup(g))
	})
}

// DeleteSharingGroup deletes group id with its members and grants. Only
// coordinators may.
func (s *Store) DeleteSharingGroup(ctx context.Context, id int64) error {
	if err := authorizeSharing(ctx, focal.ActionDelete); err != nil {
		return err
	}
	return s.WithTx(ctx, func(tx *Tx) error {
		before, err := sharingGroup(ctx, tx, id)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM sharing_groups WHERE id = $1", id); err != nil {
			return fmt.Errorf("delete sharing group: %w", err)
		}
		return tx.audit(ctx, "delete", "sharing_group", strconv.FormatInt(id, 10), auditGroup(before), nil)
	})
}

func sharingGroup(ctx context.Context, q rowQuerier, id int64) (*SharingGroup, error) {
	g := &SharingGroup{ID: id}
	var ceiling string
	var created int64
	err := q.QueryRowContext(ctx, "SELECT name, description, ceiling, created_at FROM sharing_groups WHERE id = $1", id).
		Scan(&g.Name, &g.Description, &ceiling, &created)
	if err != nil {
		return nil, notFound(err, "sharing group "+strconv.FormatInt(id, 10))
	}
	g.Ceiling, g.CreatedAt = focal.TLP(ceiling), time.UnixMilli(created).UTC()
	return g, nil
}

// SharingGroup returns group id with its members and collection grants.
// Staff may read sharing groups.
func (s *Store) SharingGroup(ctx context.Context, id int64) (*SharingGroup, error) {
	if err := authorizeSharing(ctx, focal.ActionRead); err != nil {
		return nil, err
	}
	g, err := sharingGroup(ctx, s.rdb, id)
	if err != nil {
		return nil, err
	}
	err = eachRow(ctx, s.rdb, `SELECT COALESCE(m.user_id, 0), COALESCE(m.org_id, 0), COALESCE(u.name, o.name, '')
		FROM sharing_group_members m LEFT JOIN users u ON u.id = m.user_id LEFT JOIN organisations o ON o.id = m.org_id
		WHERE m.group_id = $1 ORDER BY m.id`, []any{id}, func(rows *sql.Rows) error {
		var m SharingMember
		if err := rows.Scan(&m.UserID, &m.OrgID, &m.Name); err != nil {
			return err
		}
		g.Members = append(g.Members, m)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("sharing group members: %w", err)
	}
	err = eachRow(ctx, s.rdb, `SELECT gc.collection_id, c.title, gc.can_read, gc.can_write
		FROM sharing_group_collections gc JOIN taxii_collections c ON c.id = gc.collection_id
		WHERE gc.group_id = $1 ORDER BY c.created_at, c.id`, []any{id}, func(rows *sql.Rows) error {
		var gr SharingGrant
		if err := rows.Scan(&gr.CollectionID, &gr.Title, &gr.CanRead, &gr.CanWrite); err != nil {
			return err
		}
		g.Collections = append(g.Collections, gr)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("sharing group collections: %w", err)
	}
	return g, nil
}

// SharingGroups returns every sharing group by name, without members and
// grants. Staff may read sharing groups.
func (s *Store) SharingGroups(ctx context.Context) ([]*SharingGroup, error) {
	if err := authorizeSharing(ctx, focal.ActionRead); err != nil {
		return nil, err
	}
	var out []*SharingGroup
	err := eachRow(ctx, s.rdb, "SELECT id, name, description, ceiling, created_at FROM sharing_groups ORDER BY name", nil, func(rows *sql.Rows) error {
		g := &SharingGroup{}
		var ceiling string
		var created int64
		if err := rows.Scan(&g.ID, &g.Name, &g.Description, &ceiling, &created); err != nil {
			return err
		}
		g.Ceiling, g.CreatedAt = focal.TLP(ceiling), time.UnixMilli(created).UTC()
		out = append(out, g)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("sharing groups: %w", err)
	}
	return out, nil
}

// AddSharingMember adds m to group groupID: a peer account (which must have
// the peer role) or an organisation. Adding a member twice is a no-op.
// Only coordinators may.
func (s *Store) AddSharingMember(ctx context.Context, groupID int64, m SharingMember) error {
	if err := authorizeSharing(ctx, focal.ActionUpdate); err != nil {
		return err
	}
	if (m.UserID == 0) == (m.OrgID == 0) {
		return focal.FieldErrorf("member", "give either a peer account or an organisation")
	}
	return s.WithTx(ctx, func(tx *Tx) error {
		if _, err := sharingGroup(ctx, tx, groupID); err != nil {
			return err
		}
		if m.UserID != 0 {
			var role string
			err := tx.QueryRowContext(ctx, "SELECT role FROM users WHERE id = $1", m.UserID).Scan(&role)
			if err != nil {
				return notFound(err, "account "+strconv.FormatInt(m.UserID, 10))
			}
			if focal.Role(role) != focal.RolePeer {
				return focal.FieldErrorf("member", "account %d is a %s, not a peer: constituents join through their organisation", m.UserID, role)
			}
		} else if _, err := tx.organisation(ctx, m.OrgID); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, "INSERT INTO sharing_group_members (group_id, user_id, org_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
			groupID, nullID(m.UserID), nullID(m.OrgID))
		if err != nil {
			return fmt.Errorf("add sharing member: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		return tx.audit(ctx, "add_member", "sharing_group", strconv.FormatInt(groupID, 10), nil, m)
	})
}

// RemoveSharingMember removes m from group groupID (ENOTFOUND if it is not
// a member). Only coordinators may.
func (s *Store) RemoveSharingMember(ctx context.Context, groupID int64, m SharingMember) error {
	if err := authorizeSharing(ctx, focal.ActionUpdate); err != nil {
		return err
	}
	return s.WithTx(ctx, func(tx *Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM sharing_group_members WHERE group_id = $1
			AND COALESCE(user_id, 0) = $2 AND COALESCE(org_id, 0) = $3`, groupID, m.UserID, m.OrgID)
		if err != nil {
			return fmt.Errorf("remove sharing member: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return focal.Errorf(focal.ENOTFOUND, "not a member of sharing group %d", groupID)
		}
		return tx.audit(ctx, "remove_member", "sharing_group", strconv.FormatInt(groupID, 10), m, nil)
	})
}

// GrantSharingCollection gives group groupID's members read and/or write
// access to a collection, replacing an earlier grant; a grant of neither
// removes it. Only coordinators may.
func (s *Store) GrantSharingCollection(ctx context.Context, groupID int64, g SharingGrant) error {
	if err := authorizeSharing(ctx, focal.ActionUpdate); err != nil {
		return err
	}
	return s.WithTx(ctx, func(tx *Tx) error {
		if _, err := sharingGroup(ctx, tx, groupID); err != nil {
			return err
		}
		var one int
		if err := tx.QueryRowContext(ctx, "SELECT 1 FROM taxii_collections WHERE id = $1", g.CollectionID).Scan(&one); err != nil {
			return notFound(err, "collection "+g.CollectionID)
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM sharing_group_collections WHERE group_id = $1 AND collection_id = $2", groupID, g.CollectionID); err != nil {
			return fmt.Errorf("grant collection: %w", err)
		}
		if g.CanRead || g.CanWrite {
			if _, err := tx.ExecContext(ctx, "INSERT INTO sharing_group_collections (group_id, collection_id, can_read, can_write) VALUES ($1, $2, $3, $4)",
				groupID, g.CollectionID, g.CanRead, g.CanWrite); err != nil {
				return fmt.Errorf("grant collection: %w", err)
			}
		}
		return tx.audit(ctx, "grant_collection", "sharing_group", strconv.FormatInt(groupID, 10), nil,
			map[string]any{"collection": g.CollectionID, "can_read": g.CanRead, "can_write": g.CanWrite})
	})
}

// collectionAccess is what a principal may do with one collection, and the
// recipient its reads are released to (nil: a local user, no TLP filter).
type collectionAccess struct {
	read, write bool
	recipient   *focal.Recipient
}

// grantsFor returns, per collection id, the access p has through sharing
// groups: peers through groups listing their account, constituents through
// groups listing their organisation. The recipient's ceiling is the most
// permissive among the groups granting read. Staff are not handled here.
func grantsFor(ctx context.Context, q querier, p focal.Principal, collectionID string) (map[string]*collectionAccess, error) {
	var member string
	var arg int64
	rec := focal.Recipient{Name: p.Name}
	switch {
	case p.Role == focal.RolePeer && !p.IsAnonymous():
		member, arg = "m.user_id = $1", p.UserID
		rec.Kind, rec.ID = focal.RecipientPeer, p.UserID
	case p.Role == focal.RoleConstituent && p.OrgID != 0:
		member, arg = "m.org_id = $1", p.OrgID
		rec.Kind, rec.ID = focal.RecipientOrganisation, p.OrgID
	default:
		return map[string]*collectionAccess{}, nil
	}
	query := `SELECT gc.collection_id, gc.can_read, gc.can_write, g.ceiling, g.name
		FROM sharing_group_members m
		JOIN sharing_groups g ON g.id = m.group_id
		JOIN sharing_group_collections gc ON gc.group_id = m.group_id
		WHERE ` + member
	args := []any{arg}
	if collectionID != "" {
		query += " AND gc.collection_id = $2"
		args = append(args, collectionID)
	}
	out := map[string]*collectionAccess{}
	err := eachRow(ctx, q, query+" ORDER BY g.name", args, func(rows *sql.Rows) error {
		var id, ceiling, name string
		var read, write bool
		if err := rows.Scan(&id, &read, &write, &ceiling, &name); err != nil {
			return err
		}
		a := out[id]
		if a == nil {
			r := rec
			a = &collectionAccess{recipient: &r}
			out[id] = a
		}
		a.write = a.write || (write && !p.ReadOnly)
		if read {
			a.read = true
			if c := focal.TLP(ceiling); c.Rank() > a.recipient.Ceiling.Rank() {
				a.recipient.Ceiling, a.recipient.Via = c, "sharing group "+name
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("collection access: %w", err)
	}
	return out, nil
}

// staffAccess is a local user's access to every collection: coordinators
// and analysts (who publish) read and write, other staff read; a read-only
// token only reads.
func staffAccess(p focal.Principal) *collectionAccess {
	return &collectionAccess{read: true, write: (p.Role == focal.RoleCoordinator || p.Role == focal.RoleAnalyst) && !p.ReadOnly}
}

// RecipientPreview is one party that would receive an object, and why.
type RecipientPreview struct {
	Recipient focal.Recipient
	Group     string // the sharing group that grants the collection
	Reason    string // focal.ReleaseDecision's explanation
}

// Recipients previews who would receive an object labelled tlp (about
// organisation orgID, 0 for none) added to collection collectionID: every
// peer and organisation of every sharing group granted read on it that
// focal.ReleaseDecision lets the object go to, and the public if the
// collection is public and the object TLP:CLEAR. Staff may read it.
func (s *Store) Recipients(ctx context.Context, collectionID string, tlp focal.TLP, orgID int64) ([]RecipientPreview, error) {
	if err := authorizeSharing(ctx, focal.ActionRead); err != nil {
		return nil, err
	}
	var public bool
	if err := s.rdb.QueryRowContext(ctx, "SELECT public FROM taxii_collections WHERE id = $1", collectionID).Scan(&public); err != nil {
		return nil, notFound(err, "collection "+collectionID)
	}
	rel := focal.Release{TLP: tlp, OrgID: orgID}
	// Each member's recipient takes the most permissive ceiling of all its
	// groups granting the collection, as when it reads.
	type key struct {
		kind focal.RecipientKind
		id   int64
	}
	recs := map[key]*RecipientPreview{}
	var order []key
	err := eachRow(ctx, s.rdb, `SELECT g.name, g.ceiling, COALESCE(m.user_id, 0), COALESCE(m.org_id, 0), COALESCE(u.name, o.name, '')
		FROM sharing_group_collections gc
		JOIN sharing_groups g ON g.id = gc.group_id
		JOIN sharing_group_members m ON m.group_id = gc.group_id
		LEFT JOIN users u ON u.id = m.user_id
		LEFT JOIN organisations o ON o.id = m.org_id
		WHERE gc.collection_id = $1 AND gc.can_read ORDER BY g.name, m.id`, []any{collectionID}, func(rows *sql.Rows) error {
		var group, ceiling, name string
		var userID, org int64
		if err := rows.Scan(&group, &ceiling, &userID, &org, &name); err != nil {
			return err
		}
		k := key{focal.RecipientPeer, userID}
		if userID == 0 {
			k = key{focal.RecipientOrganisation, org}
		}
		r := recs[k]
		if r == nil {
			r = &RecipientPreview{Recipient: focal.Recipient{Kind: k.kind, ID: k.id, Name: name}}
			recs[k] = r
			order = append(order, k)
		}
		if c := focal.TLP(ceiling); c.Rank() > r.Recipient.Ceiling.Rank() {
			r.Recipient.Ceiling, r.Recipient.Via, r.Group = c, "sharing group "+group, group
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("recipients: %w", err)
	}
	var out []RecipientPreview
	for _, k := range order {
		r := recs[k]
		if ok, why := focal.ReleaseDecision(rel, r.Recipient); ok {
			r.Reason = why
			out = append(out, *r)
		}
	}
	if public {
		pub := focal.Recipient{Kind: focal.RecipientPublic, Name: "the public", Via: "public collection"}
		if ok, why := focal.ReleaseDecision(rel, pub); ok {
			out = append(out, RecipientPreview{Recipient: pub, Group: "public collection", Reason: why})
		}
	}
	return out, nil
}

// releasePredicate returns the SQL condition (on table alias a) that keeps
// exactly the objects focal.ReleaseDecision lets go to rec, with its
// arguments appended through arg; "" when rec is nil (a local user sees
// everything). The decision is asked for every label, unlabelled included,
// once for an object concerning no organisation and once for one
// concerning the recipient's organisation; the SQL only applies the
// answers.
func releasePredicate(rec *focal.Recipient, a string, labels *releaseLabels) string {
	if rec == nil {
		return ""
	}
	cond := "(" + a + ".tlp IN (" + labels.any + ")"
	if labels.concerned != "" {
		cond += " OR (" + a + ".org_id = " + labels.org + " AND " + a + ".tlp IN (" + labels.concerned + "))"
	}
	return cond + ")"
}

// releaseLabels holds the placeholders of the labels a recipient may
// receive: any (whoever the object concerns) and concerned (only objects
// concerning its organisation, at placeholder org).
type releaseLabels struct {
	any, concerned, org string
}

// newReleaseLabels asks focal.ReleaseDecision about every label for rec
// and binds the answers as arguments through arg.
func newReleaseLabels(rec *focal.Recipient, arg func(any) string) *releaseLabels {
	if rec == nil {
		return nil
	}
	labels := append([]focal.TLP{""}, focal.TLPs...)
	var anyL, concerned []string
	orgID := int64(0)
	if rec.Kind == focal.RecipientOrganisation {
		orgID = rec.ID
	}
	for _, l := range labels {
		if ok, _ := focal.ReleaseDecision(focal.Release{TLP: l}, *rec); ok {
			anyL = append(anyL, arg(string(l)))
			continue
		}
		if orgID != 0 {
			if ok, _ := focal.ReleaseDecision(focal.Release{TLP: l, OrgID: orgID}, *rec); ok {
				concerned = append(concerned, arg(string(l)))
			}
		}
	}
	if len(anyL) == 0 {
		anyL = append(anyL, arg("\x00none")) // no label matches: IN needs one value
	}
	out := &releaseLabels{any: strings.Join(anyL, ", ")}
	if len(concerned) > 0 {
		out.concerned, out.org = strings.Join(concerned, ", "), arg(orgID)
	}
	return out
}
