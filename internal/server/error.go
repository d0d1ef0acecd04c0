package server

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"focal/internal/focal"
)

// codes maps focal error codes to HTTP statuses. It is the only such table.
var codes = map[string]int{
	focal.ECONFLICT:       http.StatusConflict,
	focal.EINVALID:        http.StatusBadRequest,
	focal.ENOTFOUND:       http.StatusNotFound,
	focal.EUNAUTHORIZED:   http.StatusUnauthorized,
	focal.EFORBIDDEN:      http.StatusForbidden,
	focal.ETOOLARGE:       http.StatusRequestEntityTooLarge,
	focal.ETOOMANY:        http.StatusTooManyRequests,
	focal.EUNAVAILABLE:    http.StatusServiceUnavailable,
	focal.ENOTIMPLEMENTED: http.StatusNotImplemented,
	focal.EINTERNAL:       http.StatusInternalServerError,
}

// StatusCode returns the HTTP status for err: the mapped status of its focal
// code, 413 for a body over its limit, and 500 for anything else.
func StatusCode(err error) int {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return http.StatusRequestEntityTooLarge
	}
	if s, ok := codes[focal.ErrorCode(err)]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// Problem is an RFC 9457 problem details body.
type Problem struct {
	Type     string `json:"type"`
	Title    string `json:"title"`
	Status   int    `json:"status"`
	Detail   string `json:"detail,omitempty"`
	Instance string `json:"instance,omitempty"`
}

// Error writes err as an RFC 9457 problem (application/problem+json). The
// client sees only the public message; internal errors are logged with
// their cause and shown as "internal error".
func Error(w http.ResponseWriter, r *http.Request, logger *slog.Logger, err error) {
	status := StatusCode(err)
	msg := focal.ErrorMessage(err)
	if status == http.StatusRequestEntityTooLarge && focal.ErrorCode(err) == focal.EINTERNAL {
		msg = "request body too large"
	}
	if status >= 500 {
		logger.Error("request failed", "method", r.Method, "path", r.URL.Path, "status", status, "err", err)
	}
	writeProblem(w, r, status, msg)
}

func writeProblem(w http.ResponseWriter, r *http.Request, status int, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	// The status line is sent; a failed body write has nobody to report to.
	_ = json.NewEncoder(w).Encode(Problem{Type: "about:blank", Title: http.StatusText(status), Status: status, Detail: detail, Instance: r.URL.Path})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	// The status line is sent; a failed body write has nobody to report to.
	_ = json.NewEncoder(w).Encode(v)
}
