// Package taxii is focal's TAXII 2.1 server (and client): discovery at
// /taxii2/, the main API root /taxii2/focal/ for accounts (peers,
// constituents, staff) and a read-only public API root /taxii2/public/
// serving the public collections' TLP:CLEAR objects. It owns everything
// TAXII-protocol — media types and content negotiation, microsecond
// timestamps, resources, filters, stateless signed next cursors, error
// resources — and leaves who may read what to the store (sharing groups)
// and focal.ReleaseDecision (TLP).
//
// A Server is built by New, is safe for concurrent use, and is mounted
// with its Routes and Error:
//
//	ts, err := taxii.New(ctx, taxii.Config{Store: st, Logger: logger})
//	srv.PrefixErrors = map[string]server.ErrorFunc{taxii.PathPrefix: ts.Error}
//	err = srv.Mount(ts.Routes(), ts.Error)
//
// Interop choices (documented in docs/taxii.md): Accept application/json
// and */* are answered like application/taxii+json; empty results carry
// no X-TAXII-Date-Added-First/Last; a path without its trailing slash is
// redirected (308); more:true always comes with next.
package taxii

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"focal/internal/focal"
	"focal/internal/server"
	"focal/internal/store"
)

// The media types: TAXII resources, and the STIX objects of collections.
const (
	MediaType      = "application/taxii+json;version=2.1"
	STIXMediaType  = "application/stix+json;version=2.1"
	stix20Media    = "application/stix+json;version=2.0"
	taxiiMediaBase = "application/taxii+json"
)

// The paths: every TAXII request starts with PathPrefix; the discovery
// resource is PathPrefix itself.
const (
	PathPrefix     = "/taxii2/"
	APIRootPath    = "/taxii2/focal/"
	PublicRootPath = "/taxii2/public/"
)

// Defaults of Config.
const (
	DefaultMaxContentLength = 16 << 20
	DefaultPageSize         = 1000
)

// Config configures a Server. Store and Logger are required.
type Config struct {
	Store  *store.Store
	Logger *slog.Logger
	// Title, Description and Contact describe the server in the discovery
	// resource; Title defaults to "focal TAXII server".
	Title, Description, Contact string
	// MaxContentLength bounds a POSTed envelope (bytes); the API roots
	// advertise it. Default DefaultMaxContentLength.
	MaxContentLength int64
	// PageSize is the most objects, manifest records or versions one
	// response holds; a larger limit is lowered to it. Default
	// DefaultPageSize.
	PageSize int
	// Changed, if set, is called with a collection's id after a POST
	// added objects to it (the federation's push hint to peers).
	Changed func(collectionID string)
}

// Server serves TAXII 2.1. Create it with New.
type Server struct {
	cfg     Config
	cursors *cursors
}

// New returns a Server for cfg. It reads (creating on first use) the
// node-wide key that signs next cursors, so every process on the database
// accepts the cursors of the others.
func New(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.Store == nil || cfg.Logger == nil {
		return nil, errors.New("taxii: Store and Logger are required")
	}
	if cfg.Title == "" {
		cfg.Title = "focal TAXII server"
	}
	if cfg.MaxContentLength <= 0 {
		cfg.MaxContentLength = DefaultMaxContentLength
	}
	if cfg.PageSize <= 0 {
		cfg.PageSize = DefaultPageSize
	}
	key, err := loadCursorKey(ctx, cfg.Store)
	if err != nil {
		return nil, err
	}
	return &Server{cfg: cfg, cursors: &cursors{key: key}}, nil
}

// root is one API root: its path and whether it is the public one.
type root struct {
	path   string
	public bool
	kind   focal.Kind
	title  string
}

// Routes returns every TAXII route with its authorisation rule: the main
// API root and discovery need an account (focal.KindCollection; what it
// may read the store decides), the public API root is open to anyone
// (focal.KindPublic) and read-only. Unknown paths under /taxii2/ get a
// TAXII 404, and paths without their trailing slash a 308 redirect.
func (s *Server) Routes() []server.Route {
	const read, create, del = focal.ActionRead, focal.ActionCreate, focal.ActionDelete
	rt := func(method, path string, kind focal.Kind, action focal.Action, h http.HandlerFunc) server.Route {
		return server.Route{Method: method, Path: path, Kind: kind, Action: action, Handler: s.negotiate(h)}
	}
	routes := []server.Route{
		rt("GET", PathPrefix+"{$}", focal.KindCollection, read, s.discovery),
	}
	for _, r := range []root{
		{APIRootPath, false, focal.KindCollection, "focal"},
		{PublicRootPath, true, focal.KindPublic, "focal (public)"},
	} {
		h := &handler{Server: s, root: r}
		p, k := r.path, r.kind
		routes = append(routes,
			rt("GET", p+"{$}", k, read, h.apiRoot),
			rt("GET", p+"collections/{$}", k, read, h.collections),
			rt("GET", p+"collections/{id}/{$}", k, read, h.collection),
			rt("GET", p+"collections/{id}/manifest/{$}", k, read, h.manifest),
			rt("GET", p+"collections/{id}/objects/{$}", k, read, h.objects),
			rt("GET", p+"collections/{id}/objects/{object}/{$}", k, read, h.object),
			rt("GET", p+"collections/{id}/objects/{object}/versions/{$}", k, read, h.versions),
			// On the public root the policy refuses writes (KindPublic is
			// read-only), with a TAXII 403.
			rt("DELETE", p+"collections/{id}/objects/{object}/{$}", k, del, h.deleteObject),
		)
		post := rt("POST", p+"collections/{id}/objects/{$}", k, create, h.addObjects)
		post.MaxBody = s.cfg.MaxContentLength
		routes = append(routes, post)
		if !r.public {
			routes = append(routes, rt("GET", p+"status/{status}/{$}", k, read, h.status))
		}
	}
	// A path without its trailing slash is redirected (308) to the slashed
	// one; ServeMux would otherwise answer 307 itself for some of them.
	// Everything else under /taxii2/ is a TAXII 404. Open to anyone: it
	// reveals nothing.
	fallback := func(method, path string) server.Route {
		return server.Route{Method: method, Path: path, Kind: focal.KindPublic, Action: read, Handler: s.fallback}
	}
	seen := map[string]bool{}
	for _, r := range routes {
		slashless := strings.TrimSuffix(r.Path, "/{$}")
		if key := r.Method + " " + slashless; !seen[key] {
			seen[key] = true
			routes = append(routes, fallback(r.Method, slashless))
		}
	}
	for _, m := range []string{"GET", "POST", "DELETE", "PUT", "PATCH"} {
		routes = append(routes, fallback(m, PathPrefix))
	}
	return routes
}

// fallback redirects a path missing its trailing slash (308 keeps the
// method and body), refuses PUT and PATCH (405) and answers anything else
// with a TAXII 404.
func (s *Server) fallback(w http.ResponseWriter, r *http.Request) {
	if r.Method == "PUT" || r.Method == "PATCH" {
		w.Header().Set("Allow", "GET, HEAD, POST, DELETE")
		s.Error(w, r, errStatus(http.StatusMethodNotAllowed, "TAXII has no %s", r.Method))
		return
	}
	if !strings.HasSuffix(r.URL.Path, "/") {
		u := *r.URL
		u.Path += "/"
		u.RawPath = ""
		w.Header().Set("Location", u.RequestURI())
		w.Header().Set("Content-Type", MediaType)
		w.WriteHeader(http.StatusPermanentRedirect)
		return
	}
	s.Error(w, r, focal.Errorf(focal.ENOTFOUND, "no TAXII resource at %s", r.URL.Path))
}

// statusError is an error with an HTTP status the focal codes do not have
// (406, 415, 422).
type statusError struct {
	status  int
	message string
	details any
}

func (e *statusError) Error() string { return e.message }

func errStatus(status int, format string, args ...any) error {
	return &statusError{status: status, message: fmt.Sprintf(format, args...)}
}

// errorResource is the TAXII error resource (§3.6.1).
type errorResource struct {
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
	HTTPStatus  string `json:"http_status"`
	Details     any    `json:"details,omitempty"`
}

// Error writes err as a TAXII error resource with the TAXII content type:
// the status of its focal code (or 406, 415, 422 from this package, 413
// for an oversized body), the public message as description, and on 401
// a WWW-Authenticate challenge for HTTP Basic. Internal errors are logged
// and shown as "internal error". It is the server.ErrorFunc for the TAXII
// routes and, through server.Server.PrefixErrors, for failed
// authentication under /taxii2/.
func (s *Server) Error(w http.ResponseWriter, r *http.Request, err error) {
	status, msg := server.StatusCode(err), focal.ErrorMessage(err)
	var details any
	var se *statusError
	if errors.As(err, &se) {
		status, msg, details = se.status, se.message, se.details
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		status, msg = http.StatusRequestEntityTooLarge, fmt.Sprintf("the body is over max_content_length (%d bytes)", s.cfg.MaxContentLength)
	}
	if status >= 500 {
		s.cfg.Logger.Error("taxii request failed", "method", r.Method, "path", r.URL.Path, "status", status, "err", err)
	}
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Basic realm="focal"`)
	}
	writeJSON(w, status, errorResource{Title: http.StatusText(status), Description: msg, HTTPStatus: strconv.Itoa(status), Details: details})
}

// writeJSON writes v with the TAXII content type.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		b, status = []byte(`{"title":"Internal Server Error","http_status":"500"}`), http.StatusInternalServerError
	}
	writeBody(w, status, b)
}

func writeBody(w http.ResponseWriter, status int, b []byte) {
	h := w.Header()
	h.Set("Content-Type", MediaType)
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	// The status line is sent; a failed write has nobody to report to.
	_, _ = w.Write(b)
}

// negotiate refuses (406) a request whose Accept allows no TAXII 2.1
// response, then runs h.
func (s *Server) negotiate(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !Acceptable(r.Header.Values("Accept")) {
			s.Error(w, r, errStatus(http.StatusNotAcceptable, "this server answers only %s", MediaType))
			return
		}
		h(w, r)
	}
}

// Acceptable reports whether Accept header values allow a TAXII 2.1
// answer: application/taxii+json with version 2.1 or no version; or,
// leniently for clients such as OpenCTI, application/json, application/*
// and */*; or no Accept at all. Comma lists are read item by item.
func Acceptable(accept []string) bool {
	if len(accept) == 0 {
		return true
	}
	for _, a := range accept {
		for _, part := range strings.Split(a, ",") {
			if strings.TrimSpace(part) == "" {
				continue
			}
			mt, params, err := mime.ParseMediaType(part)
			if err != nil {
				continue
			}
			if q, ok := params["q"]; ok && strings.Trim(q, "0.") == "" {
				continue // q=0: explicitly not acceptable
			}
			switch mt {
			case taxiiMediaBase:
				if v, ok := params["version"]; !ok || v == "2.1" {
					return true
				}
			case "application/json", "application/*", "*/*":
				return true
			}
		}
	}
	return false
}

// taxiiContentType reports whether a POST's Content-Type is a TAXII 2.1
// envelope.
func taxiiContentType(ct string) bool {
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil || mt != taxiiMediaBase {
		return false
	}
	v, ok := params["version"]
	return !ok || v == "2.1"
}
