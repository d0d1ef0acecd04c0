// Package auth provides focal's credential primitives: argon2id password
// hashing and policy checks, opaque session and API tokens, a login rate
// limiter with exponential lockout, and client IP extraction behind trusted
// reverse proxies.
//
// The package is deliberately small and has no storage and no HTTP handlers:
// the store persists only the encoded password hashes and token hashes
// produced here, and the HTTP layer composes the primitives into login,
// session and API-token flows.
//
// Contract:
//   - Passwords are stored only as PHC-formatted argon2id strings from
//     [HashPassword] and checked with [VerifyPassword], which compares in
//     constant time. Logins for unknown users must call [DummyVerify] so that
//     they take as long as logins for known users.
//   - Session and API tokens come from [NewToken]; only the hash from
//     [HashToken] is stored. The plaintext token is shown to its owner once.
//   - Every login attempt must first pass [Limiter.Allow] for the client IP
//     and for the user name, and report its outcome with [Limiter.Failure] or
//     [Limiter.Success].
//   - Rate-limit keys use the address from [ClientIP], never a raw header.
//
// All functions are safe for concurrent use. The package holds no mutable
// package-level state and starts no goroutines. Errors are returned, never
// logged; their messages start with "auth: ".
package auth
