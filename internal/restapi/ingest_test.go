package restapi

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"focal/internal/focal"
	"focal/internal/pipeline"
)

// A failed ingest is answered with what the caller can act on: wait, send
// less, fix the input, or nothing it can do.
func TestIngestError(t *testing.T) {
	failed := &focal.FeedRun{ID: 7, Feed: "feodo-csv", State: focal.RunFailed}
	tests := []struct {
		name       string
		run        *focal.FeedRun
		err        error
		status     int
		retryAfter string
		detail     string
	}{
		{"busy", failed, fmt.Errorf("%w (nats: maximum bytes exceeded)", pipeline.ErrBusy), http.StatusServiceUnavailable, "30", "queue is full"},
		{"too-large", failed, fmt.Errorf("read: %w", &http.MaxBytesError{Limit: 10}), http.StatusRequestEntityTooLarge, "", "larger than 10 bytes"},
		{"format-changed", failed, errors.New("the input does not look like feodo-csv: line 1: header is wrong"), http.StatusUnprocessableEntity, "", "does not look like feodo-csv"},
		{"bad-options", nil, focal.FieldErrorf("options", "format iplist: option \"class\" is required"), http.StatusBadRequest, "", "options: format iplist"},
		{"store-down", nil, errors.New("start run: database is locked"), http.StatusInternalServerError, "", "internal error"},
	}
	a := &API{Logger: slog.New(slog.DiscardHandler)}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			a.ingestError(w, httptest.NewRequest("POST", "/api/v1/ingest", nil), tt.run, tt.err)
			if w.Code != tt.status || w.Header().Get("Retry-After") != tt.retryAfter || !strings.Contains(w.Body.String(), tt.detail) {
				t.Errorf("ingestError(%v) = %d Retry-After %q %s, want %d %q %q", tt.err, w.Code, w.Header().Get("Retry-After"), w.Body.String(), tt.status, tt.retryAfter, tt.detail)
			}
			if ct := w.Header().Get("Content-Type"); ct != "application/problem+json" {
				t.Errorf("ingestError(%v) Content-Type = %q, want a problem", tt.err, ct)
			}
		})
	}
}

func TestParseBucket(t *testing.T) {
	tests := []struct {
		in   string
		want string
		ok   bool
	}{
		{"1m", "1m0s", true}, {"15m", "15m0s", true}, {"1h", "1h0m0s", true}, {"1d", "24h0m0s", true}, {"90d", "2160h0m0s", true},
		{"30s", "", false}, {"91d", "", false}, {"soon", "", false}, {"", "", false}, {"-1h", "", false},
	}
	for _, tt := range tests {
		d, err := parseBucket(tt.in)
		if (err == nil) != tt.ok || (tt.ok && d.String() != tt.want) {
			t.Errorf("parseBucket(%q) = %v, %v, want %s ok=%v", tt.in, d, err, tt.want, tt.ok)
		}
	}
}
