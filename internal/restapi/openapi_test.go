package restapi

import (
	"encoding/json"
	"sort"
	"strings"
	"testing"

	"focal/internal/csaf/provider"
	"focal/internal/federation"
)

// The OpenAPI document and the routes must describe the same API: every
// route is documented with its method, and nothing else is.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(openAPI, &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Errorf("openapi = %q, want 3.x", doc.OpenAPI)
	}
	documented := map[string]bool{}
	for path, ops := range doc.Paths {
		for method := range ops {
			documented[strings.ToUpper(method)+" "+path] = true
		}
	}
	routed := map[string]bool{}
	// The peers and the push hint are served by package federation, and
	// an advisory's approval by the CSAF provider, on the same API.
	routes := append((&API{}).Routes(), (&federation.API{}).Routes()...)
	for _, rt := range (&provider.Provider{}).Routes() {
		if strings.HasPrefix(rt.Path, "/api/") {
			routes = append(routes, rt)
		}
	}
	for _, rt := range routes {
		routed[rt.Pattern()] = true
		if !documented[rt.Pattern()] {
			t.Errorf("route %s is not in openapi.json", rt.Pattern())
		}
	}
	var extra []string
	for p := range documented {
		if !routed[p] {
			extra = append(extra, p)
		}
	}
	sort.Strings(extra)
	if len(extra) > 0 {
		t.Errorf("openapi.json documents operations with no route: %v", extra)
	}
}
