// Package focal holds focal's domain: the types every other package speaks
// (errors now; incidents, organisations, events and the rest as they land),
// their validation rules and state transitions. It imports nothing from
// focal's internal packages, so it can be read on its own.
package focal

import (
	"errors"
	"fmt"
)

// Error codes. Each maps to exactly one HTTP status, in the server package.
const (
	ECONFLICT       = "conflict"        // the object exists or changed meanwhile
	EINTERNAL       = "internal"        // a fault of ours; details are logged, never shown
	EINVALID        = "invalid"         // the input is wrong; the message says where
	ENOTFOUND       = "not_found"       // no such object, or not visible to the caller
	EUNAUTHORIZED   = "unauthorized"    // the caller is not known
	EFORBIDDEN      = "forbidden"       // the caller is known but may not do this
	ETOOLARGE       = "too_large"       // a body or file is over its limit
	ETOOMANY        = "too_many"        // rate limited
	EUNAVAILABLE    = "unavailable"     // a dependency is down or overloaded; retry later
	ENOTIMPLEMENTED = "not_implemented" // a feature that is not built yet
)

// Error is focal's domain error. Message is safe to show to the user; Err is
// the underlying cause, which is logged but never shown. The zero value is
// not useful; build one with Errorf or Wrap.
type Error struct {
	Code    string // one of the E* constants
	Message string // public, human readable
	Field   string // the input field, column or line the message is about, if any
	Err     error  // internal cause, may be nil
}

// Error returns the public message followed by the cause, for logs.
func (e *Error) Error() string {
	msg := e.Message
	if e.Field != "" {
		msg = e.Field + ": " + msg
	}
	if e.Err != nil {
		return msg + ": " + e.Err.Error()
	}
	return msg
}

// Unwrap returns the internal cause.
func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with the given code and a formatted public message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// FieldErrorf returns an EINVALID *Error about one input field.
func FieldErrorf(field, format string, args ...any) *Error {
	return &Error{Code: EINVALID, Field: field, Message: fmt.Sprintf(format, args...)}
}

// Wrap returns an *Error with a public message and an internal cause.
func Wrap(code string, err error, message string) *Error {
	return &Error{Code: code, Message: message, Err: err}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL
// for any other non-nil error, and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the public message of the first *Error in err's chain
// (prefixed with its field, if any), and a generic text for any other error,
// so internal details never reach a user.
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) && e.Code != EINTERNAL {
		if e.Field != "" {
			return e.Field + ": " + e.Message
		}
		return e.Message
	}
	return "internal error"
}
