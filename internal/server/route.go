package server

import (
	"fmt"
	"net/http"

	"focal/internal/focal"
)

// Route is one endpoint of a surface (UI, REST API…) together with its
// authorisation rule: before the handler runs, the principal must be
// allowed Action on a resource of Kind (focal.Authorize). Object-level
// checks (which organisation, which TLP) happen again in the store. A route
// without a rule cannot be mounted.
type Route struct {
	Method  string // GET, POST, …
	Path    string // ServeMux path pattern, e.g. /api/v1/organisations/{id}
	Kind    focal.Kind
	Action  focal.Action
	Handler http.HandlerFunc
	MaxBody int64 // request body limit; 0 = DefaultMaxBodyBytes
}

// Pattern returns the ServeMux pattern "METHOD /path".
func (rt Route) Pattern() string { return rt.Method + " " + rt.Path }

// ErrorFunc renders an error for a surface: problem JSON for the API, an
// HTML page or a login redirect for the UI.
type ErrorFunc func(w http.ResponseWriter, r *http.Request, err error)

// Mount registers routes, each behind its authorisation guard; onError
// renders refusals. It returns an error for a route with no rule, so a
// surface that forgets one fails at start (and in tests).
func (s *Server) Mount(routes []Route, onError ErrorFunc) error {
	s.init()
	return s.mount(routes, onError)
}

func (s *Server) mount(routes []Route, onError ErrorFunc) error {
	for _, rt := range routes {
		if rt.Method == "" || rt.Path == "" || rt.Kind == "" || rt.Action == "" || rt.Handler == nil {
			return fmt.Errorf("mount %q: every route needs a method, a path, a kind, an action and a handler", rt.Pattern())
		}
		s.routes = append(s.routes, rt)
		s.mux.Handle(rt.Pattern(), s.guard(rt, onError))
	}
	return nil
}

// Routes returns every mounted route, for the authorisation matrix test
// and the OpenAPI check.
func (s *Server) Routes() []Route { return append([]Route(nil), s.routes...) }

func (s *Server) guard(rt Route, onError ErrorFunc) http.Handler {
	limit := rt.MaxBody
	if limit <= 0 {
		limit = DefaultMaxBodyBytes
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if route, ok := r.Context().Value(routeKey{}).(*string); ok {
			*route = rt.Pattern()
		}
		p := focal.PrincipalFromContext(r.Context())
		if err := focal.Authorize(p, rt.Action, focal.Resource{Kind: rt.Kind, OwnerID: p.UserID}); err != nil {
			onError(w, r, err)
			return
		}
		if r.Body != nil {
			r.Body = http.MaxBytesReader(w, r.Body, limit)
		}
		rt.Handler(w, r)
	})
}
