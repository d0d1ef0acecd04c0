package restapi

import (
	"net/http"

	"focal/internal/assess"
	"focal/internal/focal"
	"focal/internal/server"
)

// assessRoutes returns the API routes of readiness assessments (issue #9):
// assessors write assessments, frameworks, targets and reference series,
// the rest of the staff read them, and the store lets only a coordinator
// publish (and only after someone other than the author validated).
func (a *API) assessRoutes() []server.Route {
	r := func(method, path string, action focal.Action, h http.HandlerFunc) server.Route {
		return server.Route{Method: method, Path: path, Kind: focal.KindAssessment, Action: action, Handler: h}
	}
	const read, create, update = focal.ActionRead, focal.ActionCreate, focal.ActionUpdate
	routes := []server.Route{
		r("GET", "/api/v1/assessments", read, a.listAssessments),
		r("POST", "/api/v1/assessments", create, a.createAssessment),
		r("GET", "/api/v1/assessments/{id}", read, a.getAssessment),
		r("GET", "/api/v1/assessments/{id}/export.csv", read, a.exportAssessmentCSV),
		r("GET", "/api/v1/assessments/{id}/rescore", read, a.rescore),
		r("PUT", "/api/v1/assessments/{id}/answers/{item}", update, a.putAnswer),
		r("POST", "/api/v1/assessments/{id}/answers/{item}/measure", update, a.measureAnswer),
		r("GET", "/api/v1/assessments/{id}/evidence/{item}", read, a.getEvidence),
		r("POST", "/api/v1/assessments/{id}/transitions", update, a.transition),
		r("POST", "/api/v1/assessments/{id}/revisions", create, a.revise),
		r("GET", "/api/v1/assessment-frameworks", read, a.listFrameworks),
		r("GET", "/api/v1/assessment-frameworks/{key}/{version}", read, a.exportFramework),
		r("GET", "/api/v1/assessment-targets", read, a.listTargets),
		r("POST", "/api/v1/assessment-targets", create, a.createTarget),
		r("GET", "/api/v1/reference-series", read, a.listSeries),
	}
	imp := r("POST", "/api/v1/assessment-frameworks", create, a.importFramework)
	imp.MaxBody = assess.MaxFrameworkBytes
	ev := r("POST", "/api/v1/assessments/{id}/evidence", update, a.uploadEvidence)
	ev.MaxBody = 26 << 20 // the attachment store's own limit applies inside
	series := r("POST", "/api/v1/reference-series", create, a.importSeries)
	series.MaxBody = 8 << 20
	return append(routes, imp, ev, series)
}
