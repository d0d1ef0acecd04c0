package focal

// Role is what a principal is to focal. Every account has exactly one.
type Role string

// The roles. Public is the anonymous visitor; it is never stored.
const (
	RoleCoordinator Role = "coordinator" // administers users, constituency, peers, policies
	RoleHandler     Role = "handler"     // triages and works incidents, sends notifications
	RoleAnalyst     Role = "analyst"     // feeds, rules, sharing, advisories
	RoleAssessor    Role = "assessor"    // readiness assessments
	RoleConstituent Role = "constituent" // a network owner's staff, bound to one organisation
	RolePeer        Role = "peer"        // machine account of another focal point
	RolePublic      Role = "public"      // anyone, not logged in
)

// Roles lists the roles an account may have (all but public).
var Roles = []Role{RoleCoordinator, RoleHandler, RoleAnalyst, RoleAssessor, RoleConstituent, RolePeer}

// ParseRole returns the account role named s.
func ParseRole(s string) (Role, error) {
	for _, r := range Roles {
		if string(r) == s {
			return r, nil
		}
	}
	return "", FieldErrorf("role", "unknown role %q: want coordinator, handler, analyst, assessor, constituent or peer", s)
}

// Staff reports whether r is one of the CIRT's own roles.
func (r Role) Staff() bool {
	return r == RoleCoordinator || r == RoleHandler || r == RoleAnalyst || r == RoleAssessor
}

// Principal is who is acting: a user or token holder, or the anonymous
// public. The zero value is the anonymous public.
type Principal struct {
	UserID int64
	Name   string
	Role   Role  // "" is treated as RolePublic
	OrgID  int64 // the organisation of a constituent; 0 otherwise
	Token  bool  // authenticated by API token rather than a browser session
	// ReadOnly limits the principal to reading (a token with scope "read").
	ReadOnly bool
	// RestrictedAccess is granted explicitly to the handlers who may see
	// restricted categories (child sexual abuse material, harmful speech).
	RestrictedAccess bool
}

// Anonymous returns the public principal.
func Anonymous() Principal { return Principal{Role: RolePublic} }

// IsAnonymous reports whether p is not logged in.
func (p Principal) IsAnonymous() bool { return p.UserID == 0 || p.Role == "" || p.Role == RolePublic }

// Label names the principal for audit records and logs.
func (p Principal) Label() string {
	if p.IsAnonymous() {
		return "anonymous"
	}
	return p.Name
}
