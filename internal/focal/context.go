package focal

import "context"

type contextKey int

const (
	principalKey contextKey = iota + 1
	remoteKey
)

// NewContextWithPrincipal returns a context carrying p as the acting
// principal. The store reads it to authorise and to audit.
func NewContextWithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey, p)
}

// PrincipalFromContext returns the acting principal, or the anonymous
// public when there is none.
func PrincipalFromContext(ctx context.Context) Principal {
	if p, ok := ctx.Value(principalKey).(Principal); ok {
		return p
	}
	return Anonymous()
}

// NewContextWithRemote returns a context carrying the client's address
// (IP, or "cli" for the command line), for the audit log.
func NewContextWithRemote(ctx context.Context, remote string) context.Context {
	return context.WithValue(ctx, remoteKey, remote)
}

// RemoteFromContext returns the client's address, or "" when unknown.
func RemoteFromContext(ctx context.Context) string {
	s, _ := ctx.Value(remoteKey).(string)
	return s
}

// System returns the principal for operator actions from the command line
// (focal user add, focal org import…): it has the coordinator's rights and
// is recorded in the audit log as "system".
func System() Principal {
	return Principal{UserID: -1, Name: "system", Role: RoleCoordinator}
}

// Intake returns the principal under which an intake channel (e-mail,
// feeds) files reports and threads replies: it acts with the
// coordinator's rights, may touch restricted categories so that no report
// is ever refused, and is recorded in the audit log and journals as name.
func Intake(name string) Principal {
	return Principal{UserID: -2, Name: name, Role: RoleCoordinator, RestrictedAccess: true}
}
