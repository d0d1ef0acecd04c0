package focal

// Action is what a principal wants to do to a resource.
type Action string

// The actions. Read covers both viewing one object and listing.
const (
	ActionRead   Action = "read"
	ActionCreate Action = "create"
	ActionUpdate Action = "update"
	ActionDelete Action = "delete"
)

// Kind is the type of a resource, as far as authorisation is concerned.
type Kind string

// The kinds of resource.
const (
	KindPublic       Kind = "public"       // login page, public pages, health: anyone may read
	KindSelf         Kind = "self"         // the principal's own account (password, tokens)
	KindDashboard    Kind = "dashboard"    // the logged-in home page
	KindOrganisation Kind = "organisation" // the constituency registry
	KindUser         Kind = "user"         // accounts of others
	KindAudit        Kind = "audit"        // the audit log
	KindLookup       Kind = "lookup"       // "who owns this address" across the constituency
	KindIncident     Kind = "incident"     // incidents, their journal, tasks and observables
	KindReport       Kind = "report"       // the public report form: anyone may create
	KindEvent        Kind = "event"        // pipeline events (watch and warning)
	KindFeed         Kind = "feed"         // feed definitions, runs, ingest and alert rules
	KindContacts     Kind = "contacts"     // an organisation's contacts and notification policy
	KindChange       Kind = "change"       // requests to change an organisation's networks, reviewed by a coordinator
	KindAdvisory     Kind = "advisory"     // security advisories (CSAF) and public warnings
	KindAssessment   Kind = "assessment"   // readiness assessments, frameworks, targets
	KindCollection   Kind = "collection"   // TAXII collections: access per collection comes from sharing groups
	KindSharing      Kind = "sharing"      // sharing groups, peers and the focal-point directory
)

// Resource describes the object of an action. Object is true when it is
// one particular object rather than a kind (a route guard or a listing the
// store scopes with OrgScope); OrgID is the organisation the object belongs
// to (0 for none); OwnerID the user it belongs to; TLP its label, if any.
type Resource struct {
	Kind    Kind
	Object  bool
	OrgID   int64
	OwnerID int64
	TLP     TLP
	// Restricted marks a restricted category (see Classification.Restricted):
	// only principals granted RestrictedAccess may touch it, whatever their role.
	Restricted bool
}

// Authorize decides whether p may do a to r. It is the one place where
// focal decides who may do what: handlers, API and CLI all call it, and a
// test checks every route against it for every role. It returns nil, an
// EUNAUTHORIZED error when an anonymous principal must log in first, or an
// EFORBIDDEN error.
//
// The rules:
//   - public resources are readable by anyone; nothing else is open to the
//     anonymous public;
//   - coordinators may do everything;
//   - every account may read and update itself;
//   - staff (handler, analyst, assessor) read the constituency and use the
//     lookup, but only coordinators change it, manage users or read the audit log;
//   - a constituent reads only its own organisation's objects, up to
//     TLP:AMBER+STRICT, and another's only when TLP:CLEAR or GREEN; never
//     the lookup (it would reveal who owns other networks);
//   - a read-only token may only read, whatever its role;
//   - restricted incident categories only for principals granted them,
//     whatever their role;
//   - handlers work incidents (coordinators too), analysts read them;
//     a constituent reads and reports its own organisation's incidents,
//     never TLP:RED ones; anyone may use the public report form;
//   - analysts run the watch-and-warning pipeline (feeds, ingest, alert
//     rules); handlers and analysts read its events and feed runs;
//     a constituent reads only its own organisation's events;
//   - a constituent keeps its own organisation's contacts and
//     notification policy (staff read them), and asks for changes to its
//     networks, AS numbers and domains through change requests that only
//     a coordinator approves; staff read the requests;
//   - handlers and analysts write advisories (coordinators too; the store
//     requires a second person to approve publication); the rest of the
//     staff read them; constituents read published ones (the store
//     applies TLP); anyone reads TLP:CLEAR ones on the public pages;
//   - assessors write assessments and frameworks; other staff read them;
//     coordinators publish (the store requires a validator other than
//     the author); anyone reads published ones on the public pages;
//   - TAXII collections are open, at the route, to every account (a
//     read-only token only reads); which collections it may read or
//     write, and which objects by their TLP, the sharing groups decide
//     in the store (focal.ReleaseDecision);
//   - sharing groups, peers and the directory are configured by
//     coordinators; staff read them (to see who would receive what);
//   - a peer (another focal point's machine account) has no other access:
//     its access is through the sharing collections.
func Authorize(p Principal, a Action, r Resource) error {
	if r.Kind == KindPublic {
		if a == ActionRead {
			return nil
		}
		return forbidden(p, a, r)
	}
	if r.Kind == KindReport {
		if a == ActionCreate || a == ActionRead {
			return nil
		}
		return forbidden(p, a, r)
	}
	if p.IsAnonymous() {
		return Errorf(EUNAUTHORIZED, "log in first")
	}
	if p.ReadOnly && a != ActionRead {
		return Errorf(EFORBIDDEN, "this token may only read")
	}
	if r.Restricted && !p.RestrictedAccess {
		return Errorf(EFORBIDDEN, "this incident is in a restricted category you have not been granted")
	}
	if p.Role == RoleCoordinator {
		return nil
	}
	if r.Kind == KindCollection {
		return nil
	}
	if r.Kind == KindSelf {
		if r.OwnerID == p.UserID && (a == ActionRead || a == ActionUpdate) {
			return nil
		}
		return forbidden(p, a, r)
	}
	switch {
	case p.Role.Staff():
		switch r.Kind {
		case KindDashboard, KindOrganisation, KindLookup, KindSharing, KindContacts, KindChange:
			if a == ActionRead {
				return nil
			}
		case KindIncident:
			if p.Role == RoleHandler && a != ActionDelete {
				return nil
			}
			if p.Role == RoleAnalyst && a == ActionRead {
				return nil
			}
		case KindEvent:
			if (p.Role == RoleHandler || p.Role == RoleAnalyst) && a == ActionRead {
				return nil
			}
		case KindFeed:
			if p.Role == RoleAnalyst || (p.Role == RoleHandler && a == ActionRead) {
				return nil
			}
		case KindAdvisory:
			if p.Role == RoleHandler || p.Role == RoleAnalyst || a == ActionRead {
				return nil
			}
		case KindAssessment:
			if p.Role == RoleAssessor || a == ActionRead {
				return nil
			}
		}
	case p.Role == RoleConstituent:
		switch r.Kind {
		case KindDashboard:
			if a == ActionRead {
				return nil
			}
		case KindOrganisation:
			if a == ActionRead && constituentMayRead(p, r) {
				return nil
			}
		case KindContacts:
			// Its own organisation's (a route guard has no OrgID; the
			// store checks the organisation).
			own := p.OrgID != 0 && (!r.Object || r.OrgID == p.OrgID)
			if own && (a == ActionRead || a == ActionUpdate) {
				return nil
			}
		case KindChange:
			own := p.OrgID != 0 && (!r.Object || r.OrgID == p.OrgID)
			if own && (a == ActionRead || a == ActionCreate) {
				return nil
			}
		case KindAdvisory:
			// Published advisories (the store applies TLP and publication).
			if a == ActionRead && p.OrgID != 0 && constituentRelease(p, r.TLP, p.OrgID) {
				return nil
			}
		case KindIncident:
			// Only its own organisation's incidents — an incident of no
			// organisation is not its own — never TLP:RED; it may report
			// new ones and list (the store scopes the listing).
			own := p.OrgID != 0 && (!r.Object || r.OrgID == p.OrgID)
			if own && constituentRelease(p, r.TLP, p.OrgID) && (a == ActionRead || a == ActionCreate) {
				return nil
			}
		case KindEvent:
			// Its own organisation's events only (the store scopes a
			// listing), never TLP:RED.
			own := p.OrgID != 0 && (!r.Object || r.OrgID == p.OrgID)
			if own && constituentRelease(p, r.TLP, p.OrgID) && a == ActionRead {
				return nil
			}
		}
	}
	return forbidden(p, a, r)
}

// constituentMayRead applies organisation scoping and TLP for a
// constituent's read. OrgID 0 means a listing the store scopes to the
// constituent's organisation. The TLP rule is ReleaseDecision's — the one
// rule for data leaving the team — with the constituent's organisation as
// the recipient, a member of the community (TLP:GREEN): its own data up to
// TLP:AMBER+STRICT, another's when TLP:CLEAR or GREEN, TLP:RED never.
func constituentMayRead(p Principal, r Resource) bool {
	if p.OrgID == 0 {
		return false // a constituent account not bound to an organisation sees nothing
	}
	concerns := r.OrgID
	if concerns == 0 {
		concerns = p.OrgID // a listing: the store keeps it to the constituent's organisation
	}
	return constituentRelease(p, r.TLP, concerns)
}

// constituentRelease asks ReleaseDecision whether data labelled t about
// organisation org may go to constituent p's organisation.
func constituentRelease(p Principal, t TLP, org int64) bool {
	if t == "" {
		// Unlabelled local data: its own organisation's is the
		// organisation's, as ReleaseDecision's AMBER default allows.
		t = TLPAmber
	}
	ok, _ := ReleaseDecision(Release{TLP: t, OrgID: org},
		Recipient{Kind: RecipientOrganisation, ID: p.OrgID, Ceiling: TLPGreen, Via: "the constituency"})
	return ok
}

// OrgScope says which organisations' objects a listing for p may include:
// all (for staff), only orgID (for a constituent), or none.
func OrgScope(p Principal) (orgID int64, all bool) {
	switch {
	case p.Role == RoleCoordinator || p.Role.Staff():
		return 0, true
	case p.Role == RoleConstituent && p.OrgID != 0:
		return p.OrgID, false
	}
	return -1, false
}

func forbidden(p Principal, a Action, r Resource) error {
	return Errorf(EFORBIDDEN, "a %s may not %s this %s", roleName(p), a, r.Kind)
}

func roleName(p Principal) string {
	if p.Role == "" {
		return string(RolePublic)
	}
	return string(p.Role)
}
