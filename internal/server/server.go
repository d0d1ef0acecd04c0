// Package server is focal's HTTP front: the listener, the root mux that the
// UI, REST API and other surfaces mount on, the middleware every request
// passes (recover, request log, metrics, security headers, body limits), the
// operational endpoints /healthz, /readyz and /metrics, and the single table
// that maps focal error codes to HTTP statuses.
//
// A Server is configured through its exported fields before Open, then is
// safe for concurrent use. Close shuts it down gracefully.
package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"focal/internal/focal"
)

// DefaultMaxBodyBytes bounds a request body unless a route asks for more.
const DefaultMaxBodyBytes = 1 << 20

// Check is a named readiness probe: nil when the dependency is usable.
type Check struct {
	Name  string
	Check func(ctx context.Context) error
}

// Server serves focal over HTTP. Set the fields, register routes with
// Handle, then call Open.
type Server struct {
	Addr     string               // listen address, host:port; port 0 picks one
	Logger   *slog.Logger         // required
	Registry *prometheus.Registry // metrics registry served at /metrics; required
	Checks   []Check              // readiness probes for /readyz
	// Authenticate identifies the caller of each request (session cookie,
	// bearer token…) and returns the principal and the client address.
	// Nil treats everyone as the anonymous public. An EUNAUTHORIZED error
	// (a bad or expired credential) is answered with 401 at once.
	Authenticate func(r *http.Request) (p focal.Principal, remote string, err error)
	// Protect wraps the mux; the app sets it to CSRF protection.
	Protect func(http.Handler) http.Handler
	// PrefixErrors renders a failed Authenticate for requests whose path
	// starts with a key (or is the key without its final slash) with that
	// surface's error function instead of problem JSON: TAXII clients get
	// a TAXII error resource with WWW-Authenticate (taxii.PathPrefix →
	// taxii.Server.Error).
	PrefixErrors map[string]ErrorFunc
	// TLSConfig, when set, makes Open serve HTTPS with it.
	TLSConfig *tls.Config

	mux      *http.ServeMux
	ln       net.Listener
	srv      *http.Server
	done     chan error
	initOnce sync.Once
	metrics  *httpMetrics
	routes   []Route
}

func (s *Server) init() {
	s.initOnce.Do(func() {
		s.mux = http.NewServeMux()
		s.metrics = newHTTPMetrics(s.Registry)
		metrics := promhttp.HandlerFor(s.Registry, promhttp.HandlerOpts{ErrorLog: slog.NewLogLogger(s.Logger.Handler(), slog.LevelError)})
		ops := []Route{
			{Method: "GET", Path: "/healthz", Kind: focal.KindPublic, Action: focal.ActionRead, Handler: s.handleHealthz},
			{Method: "GET", Path: "/readyz", Kind: focal.KindPublic, Action: focal.ActionRead, Handler: s.handleReadyz},
			{Method: "GET", Path: "/metrics", Kind: focal.KindPublic, Action: focal.ActionRead, Handler: metrics.ServeHTTP},
		}
		if err := s.mount(ops, func(w http.ResponseWriter, r *http.Request, err error) { Error(w, r, s.Logger, err) }); err != nil {
			panic(err) // the table above is fixed; a test covers it
		}
	})
}

// Handle registers h for pattern (net/http ServeMux syntax) on the root mux.
func (s *Server) Handle(pattern string, h http.Handler) {
	s.init()
	s.mux.Handle(pattern, h)
}

// Handler returns the root handler with all middleware, for tests that
// drive it without a listener.
func (s *Server) Handler() http.Handler {
	s.init()
	var h http.Handler = s.mux
	if s.Protect != nil {
		h = s.Protect(h)
	}
	return s.middleware(s.identify(h))
}

// identify runs Authenticate and stores the principal and client address
// in the request context.
func (s *Server) identify(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, remote := focal.Anonymous(), r.RemoteAddr
		if s.Authenticate != nil {
			var err error
			p, remote, err = s.Authenticate(r)
			if err != nil {
				for prefix, onError := range s.PrefixErrors {
					if strings.HasPrefix(r.URL.Path, prefix) || r.URL.Path+"/" == prefix {
						onError(w, r, err)
						return
					}
				}
				Error(w, r, s.Logger, err)
				return
			}
		}
		ctx := focal.NewContextWithRemote(focal.NewContextWithPrincipal(r.Context(), p), remote)
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// Open starts listening on Addr and serving in the background.
func (s *Server) Open() error {
	s.init()
	ln, err := net.Listen("tcp", s.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w (set --addr or FOCAL_ADDR)", s.Addr, err)
	}
	s.ln = ln
	s.srv = &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.Logger.Handler(), slog.LevelWarn),
	}
	if s.TLSConfig != nil {
		s.srv.TLSConfig = s.TLSConfig.Clone()
	}
	s.done = make(chan error, 1)
	go func() {
		var err error
		if s.srv.TLSConfig != nil {
			err = s.srv.ServeTLS(ln, "", "") // certificates come from TLSConfig
		} else {
			err = s.srv.Serve(ln)
		}
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		s.done <- err
	}()
	return nil
}

// URL returns the base URL the server listens on, e.g. http://127.0.0.1:8080.
func (s *Server) URL() string {
	if s.ln == nil {
		return ""
	}
	if s.TLSConfig != nil {
		return "https://" + s.ln.Addr().String()
	}
	return "http://" + s.ln.Addr().String()
}

// Close stops accepting connections and waits for in-flight requests until
// ctx is done; then it cuts the remaining connections.
func (s *Server) Close(ctx context.Context) error {
	if s.srv == nil {
		return nil
	}
	err := s.srv.Shutdown(ctx)
	if err != nil {
		err = errors.Join(err, s.srv.Close())
	}
	if serveErr := <-s.done; serveErr != nil {
		err = errors.Join(err, serveErr)
	}
	s.srv = nil
	return err
}
