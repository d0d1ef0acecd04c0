package server

import (
	"context"
	"net/http"
	"time"
)

// readyTimeout bounds each readiness probe so /readyz answers promptly even
// when a dependency hangs.
const readyTimeout = 2 * time.Second

// handleHealthz answers 200 while the process is up.
func (s *Server) handleHealthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

type readyBody struct {
	Status string            `json:"status"`
	Checks map[string]string `json:"checks"`
}

// handleReadyz runs every readiness check concurrently and answers 200 when
// all pass, 503 otherwise, with a JSON body saying which failed.
func (s *Server) handleReadyz(w http.ResponseWriter, r *http.Request) {
	type result struct {
		name string
		err  error
	}
	results := make(chan result, len(s.Checks))
	for _, c := range s.Checks {
		go func() {
			ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
			defer cancel()
			results <- result{c.Name, c.Check(ctx)}
		}()
	}
	body := readyBody{Status: "ok", Checks: map[string]string{}}
	status := http.StatusOK
	for range s.Checks {
		res := <-results
		if res.err != nil {
			body.Checks[res.name] = "unavailable: " + res.err.Error()
			body.Status = "unavailable"
			status = http.StatusServiceUnavailable
			s.Logger.Warn("readiness check failed", "check", res.name, "err", res.err)
			continue
		}
		body.Checks[res.name] = "ok"
	}
	writeJSON(w, status, body)
}
