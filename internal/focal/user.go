package focal

import (
	"fmt"
	"time"
)

// User is an account.
type User struct {
	ID          int64
	Name        string // login name
	Role        Role
	OrgID       int64  // a constituent's organisation
	OrgName     string // filled by the store for display
	Disabled    bool
	CreatedAt   time.Time
	LastLoginAt time.Time // zero if never
	// RestrictedAccess grants sight of restricted incident categories.
	RestrictedAccess bool
}

// Principal returns the principal acting as u.
func (u User) Principal() Principal {
	return Principal{UserID: u.ID, Name: u.Name, Role: u.Role, OrgID: u.OrgID, RestrictedAccess: u.RestrictedAccess}
}

// ValidateUserName checks a login name: 2–64 characters of a–z, 0–9, '.',
// '_', '-' or '@', starting with a letter or digit.
func ValidateUserName(name string) error {
	if len(name) < 2 || len(name) > 64 {
		return FieldErrorf("name", "must be 2 to 64 characters long")
	}
	for i, r := range name {
		ok := r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || (i > 0 && (r == '.' || r == '_' || r == '-' || r == '@'))
		if !ok {
			return FieldErrorf("name", "may contain only a-z, 0-9 and . _ - @ (not first), got %q", fmt.Sprint(string(r)))
		}
	}
	return nil
}

// Validate checks a user about to be stored.
func (u *User) Validate() error {
	if err := ValidateUserName(u.Name); err != nil {
		return err
	}
	if _, err := ParseRole(string(u.Role)); err != nil {
		return err
	}
	if u.Role == RoleConstituent && u.OrgID == 0 {
		return FieldErrorf("org", "a constituent account must belong to an organisation")
	}
	if u.Role != RoleConstituent && u.OrgID != 0 {
		return FieldErrorf("org", "only constituent accounts belong to an organisation")
	}
	return nil
}

// Token is an API token's metadata; the secret itself is shown once and
// stored only as a hash.
type Token struct {
	ID         int64
	UserID     int64
	Name       string
	Scope      string // "read" or "write"
	CreatedAt  time.Time
	ExpiresAt  time.Time
	LastUsedAt time.Time
}

// AuditRecord is one entry of the tamper-evident audit log: who did what to
// which object, when, from where, with the object before and after (JSON).
// Hash covers every other field and PrevHash, chaining the records.
type AuditRecord struct {
	ID         int64
	At         time.Time
	ActorID    int64
	Actor      string
	Role       Role
	Action     string // create, update, delete, login, login_failed, logout, view, …
	ObjectType string
	ObjectID   string
	Remote     string
	Before     string // JSON, "" if none
	After      string // JSON, "" if none
	PrevHash   string
	Hash       string
}
