// Package restapi is focal's JSON API under /api/v1: organisations, users,
// the constituency lookup, incidents, the watch-and-warning pipeline
// (events, feeds, their runs, ingest, alert rules), the constituent
// portal (an organisation's own events, stream, feedback on its events and
// the notifications sent to it), and the OpenAPI 3 document that describes
// them (/api/v1/openapi.json, checked against the routes by a test). Errors
// are RFC 9457 problem details. Request bodies are JSON objects; unknown fields
// are rejected with the field named.
package restapi

import (
	_ "embed"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"focal/internal/attachment"
	"focal/internal/focal"
	"focal/internal/iodef"
	"focal/internal/live"
	"focal/internal/lookup"
	"focal/internal/pipeline"
	"focal/internal/publish"
	"focal/internal/server"
	"focal/internal/store"
)

//go:embed openapi.json
var openAPI []byte

// API serves /api/v1. Set every field before calling Routes.
type API struct {
	Store  *store.Store
	Logger *slog.Logger
	Lookup func() *lookup.Table // the current constituency lookup table
	// ConstituencyChanged is called after a change to the registry commits,
	// so the lookup table is rebuilt.
	ConstituencyChanged func()
	// Extract finds observables in report text; nil extracts none.
	Extract func(text string) []focal.Observable
	// Team names the CIRT in exports (IODEF).
	Team iodef.Team
	// Attachments stores incident attachments outside the database.
	Attachments *attachment.Store
	// Calendar is the team's working hours for business-hours SLA targets;
	// nil means Monday to Friday, 09:00–17:00 UTC.
	Calendar *focal.Calendar
	// Pipeline ingests feed input (POST /api/v1/ingest, feed runs); nil
	// turns ingest routes into 503.
	Pipeline *pipeline.Pipeline
	// Live follows new events per organisation (GET /api/v1/my/stream);
	// nil answers 503 there.
	Live *live.Hub
	// Publisher shares local indicators and incidents into TAXII
	// collections; nil answers 503 there.
	Publisher *publish.Publisher
}

// Routes returns the API's routes with their authorisation rules.
func (a *API) Routes() []server.Route {
	r := func(method, path string, kind focal.Kind, action focal.Action, h http.HandlerFunc) server.Route {
		return server.Route{Method: method, Path: path, Kind: kind, Action: action, Handler: h}
	}
	const read, create, update, del = focal.ActionRead, focal.ActionCreate, focal.ActionUpdate, focal.ActionDelete
	routes := []server.Route{
		r("GET", "/api/v1/openapi.json", focal.KindPublic, read, a.openapi),
		r("GET", "/api/v1/me", focal.KindSelf, read, a.me),
		r("GET", "/api/v1/organisations", focal.KindOrganisation, read, a.listOrganisations),
		r("POST", "/api/v1/organisations", focal.KindOrganisation, create, a.createOrganisation),
		r("GET", "/api/v1/organisations/{id}", focal.KindOrganisation, read, a.getOrganisation),
		r("GET", "/api/v1/organisations/{id}/notify-policy", focal.KindOrganisation, read, a.getNotifyPolicy),
		r("PUT", "/api/v1/organisations/{id}/notify-policy", focal.KindContacts, update, a.putNotifyPolicy),
		r("PUT", "/api/v1/organisations/{id}/contacts", focal.KindContacts, update, a.putContacts),
		r("POST", "/api/v1/organisations/{id}/change-requests", focal.KindChange, create, a.createChange),
		r("GET", "/api/v1/change-requests", focal.KindChange, read, a.listChanges),
		// The cooperative network: collections and sharing groups are a
		// coordinator's (staff read them); analysts publish.
		r("GET", "/api/v1/collections", focal.KindSharing, read, a.listCollections),
		r("POST", "/api/v1/collections", focal.KindSharing, create, a.createCollection),
		r("PUT", "/api/v1/collections/{cid}", focal.KindSharing, update, a.updateCollection),
		r("DELETE", "/api/v1/collections/{cid}", focal.KindSharing, del, a.deleteCollection),
		r("GET", "/api/v1/collections/{cid}/recipients", focal.KindSharing, read, a.collectionRecipients),
		r("POST", "/api/v1/collections/{cid}/publish", focal.KindCollection, create, a.publishToCollection),
		r("GET", "/api/v1/federation/profile", focal.KindSharing, read, a.getProfile),
		r("PUT", "/api/v1/federation/profile", focal.KindSharing, update, a.putProfile),
		r("GET", "/.well-known/focal-point.json", focal.KindPublic, read, a.getProfile),
		r("GET", "/api/v1/sharing-groups", focal.KindSharing, read, a.listGroups),
		r("POST", "/api/v1/sharing-groups", focal.KindSharing, create, a.createGroup),
		r("GET", "/api/v1/sharing-groups/{id}", focal.KindSharing, read, a.getGroup),
		r("PUT", "/api/v1/sharing-groups/{id}", focal.KindSharing, update, a.updateGroup),
		r("DELETE", "/api/v1/sharing-groups/{id}", focal.KindSharing, del, a.deleteGroup),
		r("POST", "/api/v1/sharing-groups/{id}/members", focal.KindSharing, update, a.groupMember(true)),
		r("DELETE", "/api/v1/sharing-groups/{id}/members", focal.KindSharing, update, a.groupMember(false)),
		r("PUT", "/api/v1/sharing-groups/{id}/collections/{cid}", focal.KindSharing, update, a.grantCollection),
		r("GET", "/api/v1/change-requests/{id}", focal.KindChange, read, a.getChange),
		r("POST", "/api/v1/change-requests/{id}/approve", focal.KindChange, update, a.decideChange(true)),
		r("POST", "/api/v1/change-requests/{id}/reject", focal.KindChange, update, a.decideChange(false)),
		r("POST", "/api/v1/change-requests/{id}/withdraw", focal.KindChange, create, a.withdrawChange),
		r("PUT", "/api/v1/organisations/{id}", focal.KindOrganisation, update, a.updateOrganisation),
		r("DELETE", "/api/v1/organisations/{id}", focal.KindOrganisation, del, a.deleteOrganisation),
		r("GET", "/api/v1/users", focal.KindUser, read, a.listUsers),
		r("POST", "/api/v1/users", focal.KindUser, create, a.createUser),
		r("GET", "/api/v1/users/{id}", focal.KindUser, read, a.getUser),
		r("PATCH", "/api/v1/users/{id}", focal.KindUser, update, a.updateUser),
		r("DELETE", "/api/v1/users/{id}", focal.KindUser, del, a.deleteUser),
		r("GET", "/api/v1/lookup", focal.KindLookup, read, a.lookup),
		r("GET", "/api/v1/lookup/overlaps", focal.KindLookup, read, a.overlaps),
		r("GET", "/api/v1/incidents", focal.KindIncident, read, a.listIncidents),
		r("POST", "/api/v1/incidents", focal.KindIncident, create, a.createIncident),
		r("GET", "/api/v1/incidents/{id}", focal.KindIncident, read, a.getIncident),
		r("GET", "/api/v1/incidents/{id}/recipients", focal.KindIncident, read, a.incidentRecipients),
		r("PATCH", "/api/v1/incidents/{id}", focal.KindIncident, update, a.updateIncident),
		r("GET", "/api/v1/incidents/{id}/journal", focal.KindIncident, read, a.getJournal),
		r("POST", "/api/v1/incidents/{id}/journal", focal.KindIncident, update, a.addJournal),
		r("GET", "/api/v1/incidents/{id}/iodef", focal.KindIncident, read, a.exportIODEF),
		r("GET", "/api/v1/incidents/{id}/tasks", focal.KindIncident, read, a.listTasks),
		r("POST", "/api/v1/incidents/{id}/tasks", focal.KindIncident, update, a.addTask),
		r("PATCH", "/api/v1/incidents/{id}/tasks/{task}", focal.KindIncident, update, a.updateTask),
		r("POST", "/api/v1/incidents/{id}/merge", focal.KindIncident, update, a.mergeIncident),
		r("GET", "/api/v1/incidents/{id}/attachments", focal.KindIncident, read, a.listAttachments),
		{Method: "POST", Path: "/api/v1/incidents/{id}/attachments", Kind: focal.KindIncident, Action: update, Handler: a.uploadAttachment, MaxBody: maxUpload},
		r("GET", "/api/v1/incidents/{id}/attachments/{attachment}", focal.KindIncident, read, a.downloadAttachment),
		r("GET", "/api/v1/metrics/incidents", focal.KindIncident, read, a.incidentMetrics),
		r("GET", "/api/v1/sla-targets", focal.KindIncident, read, a.getSLATargets),
		r("PUT", "/api/v1/sla-targets", focal.KindUser, update, a.putSLATargets),
		// Watch and warning: events (a constituent's scoped by the store),
		// feeds, their runs and ingest, alert rules.
		r("GET", "/api/v1/events", focal.KindEvent, read, a.listEvents),
		r("GET", "/api/v1/my/events", focal.KindEvent, read, a.myEvents),
		r("GET", "/api/v1/my/stream", focal.KindEvent, read, a.myStream),
		r("GET", "/api/v1/events/stats", focal.KindEvent, read, a.eventStats),
		r("GET", "/api/v1/events/{id}", focal.KindEvent, read, a.getEvent),
		r("GET", "/api/v1/events/{id}/recipients", focal.KindEvent, read, a.eventRecipients),
		// The constituent portal: feedback on an organisation's own events
		// (the store allows only its constituents to give it, with a token
		// that may write) and the log of notifications sent to it.
		r("GET", "/api/v1/events/{id}/feedback", focal.KindEvent, read, a.eventFeedback),
		r("PUT", "/api/v1/my/events/{id}/feedback", focal.KindEvent, read, a.putMyFeedback),
		r("GET", "/api/v1/my/notifications", focal.KindOrganisation, read, a.myNotifications),
		r("GET", "/api/v1/notifications", focal.KindOrganisation, read, a.listNotifications),
		r("GET", "/api/v1/formats", focal.KindFeed, read, a.listFormats),
		r("GET", "/api/v1/feeds", focal.KindFeed, read, a.listFeeds),
		r("POST", "/api/v1/feeds", focal.KindFeed, create, a.createFeed),
		r("GET", "/api/v1/feeds/{id}", focal.KindFeed, read, a.getFeed),
		r("PUT", "/api/v1/feeds/{id}", focal.KindFeed, update, a.updateFeed),
		r("DELETE", "/api/v1/feeds/{id}", focal.KindFeed, del, a.deleteFeed),
		r("POST", "/api/v1/feeds/{id}/run", focal.KindFeed, update, a.runFeedNow),
		r("GET", "/api/v1/feeds/{id}/runs", focal.KindFeed, read, a.listRuns),
		r("GET", "/api/v1/feeds/{id}/recipients", focal.KindFeed, read, a.feedRecipients),
		r("GET", "/api/v1/feeds/{id}/listings", focal.KindFeed, read, a.listListings),
		r("GET", "/api/v1/runs/{id}", focal.KindFeed, read, a.getRun),
		r("GET", "/api/v1/runs/{id}/problems", focal.KindFeed, read, a.listRunProblems),
		{Method: "POST", Path: "/api/v1/ingest", Kind: focal.KindFeed, Action: create, Handler: a.ingest, MaxBody: maxIngestBody},
		r("GET", "/api/v1/alert-rules", focal.KindFeed, read, a.listAlertRules),
		r("POST", "/api/v1/alert-rules", focal.KindFeed, create, a.createAlertRule),
		r("GET", "/api/v1/alert-rules/{id}", focal.KindFeed, read, a.getAlertRule),
		r("PUT", "/api/v1/alert-rules/{id}", focal.KindFeed, update, a.updateAlertRule),
		r("DELETE", "/api/v1/alert-rules/{id}", focal.KindFeed, del, a.deleteAlertRule),
	}
	// Advisories (advisory_routes.go) and assessments (assess_routes.go)
	// keep their route tables next to their handlers.
	routes = append(routes, a.advisoryRoutes()...)
	return append(routes, a.assessRoutes()...)
}

// Error renders err as problem details; it is the API's server.ErrorFunc.
func (a *API) Error(w http.ResponseWriter, r *http.Request, err error) {
	server.Error(w, r, a.Logger, err)
}

func (a *API) openapi(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	if _, err := w.Write(openAPI); err != nil {
		a.Logger.Debug("write openapi", "err", err)
	}
}

// writeJSON answers with v as JSON.
func (a *API) writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if err := json.NewEncoder(w).Encode(v); err != nil {
		a.Logger.Debug("write response", "err", err)
	}
}

// decode reads a JSON object body into v, rejecting unknown fields,
// trailing data and wrong content types, with errors that name the field.
func decode(r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		return focal.Errorf(focal.EINVALID, "content type must be application/json, got %q", ct)
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if err := dec.Decode(&struct{}{}); err != io.EOF {
		return focal.Errorf(focal.EINVALID, "request body must hold exactly one JSON object")
	}
	return nil
}

func jsonError(err error) error {
	var mbe *http.MaxBytesError
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &mbe):
		return focal.Errorf(focal.ETOOLARGE, "request body larger than %d bytes", mbe.Limit)
	case errors.Is(err, io.EOF):
		return focal.Errorf(focal.EINVALID, "request body is empty; want a JSON object")
	case errors.As(err, &syn):
		return focal.Errorf(focal.EINVALID, "malformed JSON at byte %d: %v", syn.Offset, syn)
	case errors.As(err, &typ):
		return focal.FieldErrorf(typ.Field, "want %s, got JSON %s", typ.Type, typ.Value)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return focal.FieldErrorf(field, "unknown field")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return focal.Errorf(focal.EINVALID, "request body ends in the middle of the JSON")
	}
	var fe *focal.Error
	if errors.As(err, &fe) {
		return fe
	}
	return focal.Errorf(focal.EINVALID, "malformed JSON: %v", err)
}

func pathID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, focal.Errorf(focal.ENOTFOUND, "no such object %q", r.PathValue("id"))
	}
	return id, nil
}

func queryInt(r *http.Request, name string, def, maxV int) (int, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || n > maxV {
		return 0, focal.FieldErrorf(name, "want a whole number from 0 to %d, got %q", maxV, v)
	}
	return n, nil
}

// list is the envelope of a paged listing.
type list[T any] struct {
	Items  []T `json:"items"`
	Total  int `json:"total"`
	Limit  int `json:"limit"`
	Offset int `json:"offset"`
}
