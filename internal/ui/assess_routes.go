package ui

import (
	"net/http"

	"focal/internal/focal"
	"focal/internal/server"
)

// assessRoutes returns the UI routes of readiness assessments (issue #9):
// the public pages of published assessments (public evidence only), and
// the staff workspace — assessors answer and validate, coordinators
// publish (the store enforces who may do which step).
func (h *handlers) assessRoutes() []server.Route {
	r := func(method, path string, kind focal.Kind, action focal.Action, fn http.HandlerFunc) server.Route {
		return server.Route{Method: method, Path: path, Kind: kind, Action: action, Handler: fn}
	}
	const read, create, update = focal.ActionRead, focal.ActionCreate, focal.ActionUpdate
	const pub, as = focal.KindPublic, focal.KindAssessment
	answers := r("POST", "/assess/{id}/answers", as, update, h.assessAnswer)
	answers.MaxBody = 26 << 20 // an evidence file; the attachment store's own limit applies inside
	frameworks := r("POST", "/assessment-frameworks", as, create, h.assessFrameworkImport)
	frameworks.MaxBody = 2 << 20
	series := r("POST", "/reference-series", as, create, h.assessSeriesImport)
	series.MaxBody = 8 << 20
	return []server.Route{
		r("GET", "/assessments", pub, read, h.assessPublic),
		r("GET", "/assessments/{id}", pub, read, h.assessPublicDetail),
		r("GET", "/assessments/{id}/export.csv", pub, read, h.assessPublicExport("csv")),
		r("GET", "/assessments/{id}/export.json", pub, read, h.assessPublicExport("json")),
		r("GET", "/assessments/{id}/evidence/{item}", pub, read, h.assessPublicEvidence),
		r("GET", "/assess", as, read, h.assessList),
		r("POST", "/assess", as, create, h.assessCreate),
		r("GET", "/assess/{id}", as, read, h.assessDetail),
		answers,
		r("POST", "/assess/{id}/measure", as, update, h.assessMeasure),
		r("POST", "/assess/{id}/state", as, update, h.assessState),
		r("POST", "/assess/{id}/target", as, create, h.assessTarget),
		r("GET", "/assess/{id}/export.csv", as, read, h.assessExport("csv")),
		r("GET", "/assess/{id}/export.json", as, read, h.assessExport("json")),
		r("GET", "/assess/{id}/evidence/{item}", as, read, h.assessEvidence),
		r("GET", "/assessment-frameworks/{key}/{version}", as, read, h.assessFramework),
		r("GET", "/assessment-frameworks/{key}/{version}/export.json", as, read, h.assessFrameworkExport),
		frameworks,
		series,
	}
}
