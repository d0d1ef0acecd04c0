// Package ui is focal's server-rendered web interface: the login page, the
// dashboard, the constituency registry (organisations with their networks,
// AS numbers, domains and contacts), user administration, the caller's own
// account, the audit log, the public report form, incident handling
// (the list and triage queue, an incident's page, handling metrics) and
// watch and warning (the events explorer, feeds with their runs and
// uploads, alert rules), and the constituent portal (feedback on an
// organisation's events, the log of notifications sent).
//
// The contract:
//   - Every route is a server.Route with a Kind and an Action, checked by
//     focal.Authorize before the handler runs; the store checks the object
//     again. The navigation shows an item only when focal.Authorize allows
//     reading its Kind, so the menu never re-encodes the policy.
//   - Templates (html/template) and static files are embedded and parsed
//     once in New; a template that does not parse makes New fail, so focal
//     refuses to start rather than serve half a UI. Pages render into a
//     buffer first: a template error gives a clean 500 page, never half a
//     page.
//   - Static files are served at /static/{hash}/{name} with the content hash
//     in the URL and cached for a year as immutable; a wrong hash is a 404.
//   - Every page works without JavaScript. htmx (vendored, 2.0.x) only
//     refines: the organisation, incident and event filters update the
//     results as one types, and a running feed run's page refreshes
//     itself. Charts are SVG drawn on the server.
//   - The public report form (/report) is open to everyone. Its human
//     check needs neither JavaScript nor a third party: a honeypot field
//     hidden by CSS, a minimum and maximum time between rendering and
//     sending, and an arithmetic question, the last two carried in a token
//     signed with a key made at start; reports are rate limited per
//     client address. A report is stored as the anonymous public.
//   - State changes only through POST forms to same-origin paths (the App's
//     cross-origin protection guards them; there are no CSRF tokens), each
//     answered with 303 See Other (Post/Redirect/Get). GET never changes
//     state. A form with a validation error is shown again with the typed
//     values and the message next to the field it is about.
//   - Errors: an anonymous caller on a protected GET page is redirected to
//     /login?next=…; anything else becomes an HTML error page with the
//     status of server.StatusCode and the public message of
//     focal.ErrorMessage; causes of 5xx errors are logged, never shown.
//   - The CSP forbids inline script and style: templates carry neither, nor
//     style attributes.
//
// A UI is safe for concurrent use once New returns.
package ui

import (
	"errors"
	"log/slog"
	"net/http"
	"path/filepath"
	"time"

	"golang.org/x/time/rate"

	"focal/internal/attachment"
	"focal/internal/auth"
	"focal/internal/focal"
	"focal/internal/httpauth"
	"focal/internal/lookup"
	"focal/internal/pipeline"
	"focal/internal/publish"
	"focal/internal/server"
	"focal/internal/store"
)

// Config is what the UI needs from the App. Store, Auth, Logger and Lookup
// are required; the other fields may be left zero.
type Config struct {
	Store  *store.Store
	Auth   *httpauth.Authenticator
	Logger *slog.Logger
	// Lookup returns the current constituency lookup table, for flagging
	// overlapping networks.
	Lookup func() *lookup.Table
	// ConstituencyChanged is called after a change to the registry commits,
	// so the lookup table is rebuilt.
	ConstituencyChanged func()
	// Extract finds observables in the text of a report or a new
	// incident; nil extracts none.
	Extract func(text string) []focal.Observable
	// Calendar is the team's working hours for business-hours SLA
	// targets; nil means Monday to Friday, 09:00–17:00 UTC, as the API.
	Calendar *focal.Calendar
	// MinReportFillTime is how long the public report form must have been
	// on screen before it is sent (a bot fills it at once); 0 means 3 s.
	MinReportFillTime time.Duration
	// ReportLimiter limits public reports per client address; nil means 5
	// per 10 minutes.
	ReportLimiter *auth.Limiter
	// DataDir is focal's data directory; attachments are kept below
	// DataDir/attachments. "" turns attachment uploads off.
	DataDir string
	// Pipeline ingests uploaded feed files; nil turns uploads off.
	Pipeline *pipeline.Pipeline
	// Publisher shares indicators into TAXII collections; nil turns the
	// share form's last step off.
	Publisher *publish.Publisher
}

// The public report form's fill-time bounds: the minimum unless Config
// sets one, and the maximum.
const (
	defaultMinReportFillTime = 3 * time.Second
	maxReportFillTime        = 2 * time.Hour
)

// UI is the web interface. Build it with New, mount Routes with Error as
// the error renderer.
type UI struct {
	h *handlers
}

// New parses the embedded templates and hashes the static files. It fails
// when a template does not parse or a required field of cfg is missing.
func New(cfg Config) (*UI, error) {
	if cfg.Store == nil || cfg.Auth == nil || cfg.Logger == nil || cfg.Lookup == nil {
		return nil, errors.New("ui: Store, Auth, Logger and Lookup are required")
	}
	assets, err := newAssets(staticFS, "static")
	if err != nil {
		return nil, err
	}
	pages, err := parsePages(templateFS, "templates", assets.url)
	if err != nil {
		return nil, err
	}
	h := &handlers{
		store:    cfg.Store,
		auth:     cfg.Auth,
		logger:   cfg.Logger,
		lookup:   cfg.Lookup,
		changed:  cfg.ConstituencyChanged,
		pages:    pages,
		assets:   assets,
		extract:  cfg.Extract,
		calendar: focal.WeekdayCalendar(time.UTC, 9*time.Hour, 17*time.Hour),
		// The key signs the report form's human check and receipts; a new
		// one each start only invalidates forms open across a restart.
		reportKey:   randomBytes(32),
		minFill:     cfg.MinReportFillTime,
		reportLimit: cfg.ReportLimiter,
		pipeline:    cfg.Pipeline,
		publisher:   cfg.Publisher,
	}
	if cfg.DataDir != "" {
		dir := filepath.Join(cfg.DataDir, "attachments")
		h.files = &attachment.Store{Dir: dir}
		h.reportFiles = &attachment.Store{Dir: dir, MaxBytes: maxReportFileBytes}
	}
	if cfg.Calendar != nil {
		h.calendar = *cfg.Calendar
	}
	if h.minFill <= 0 {
		h.minFill = defaultMinReportFillTime
	}
	if h.reportLimit == nil {
		h.reportLimit = auth.NewLimiter(auth.LimiterConfig{Rate: rate.Every(2 * time.Minute), Burst: 5, FailuresBeforeLockout: -1})
	}
	return &UI{h: h}, nil
}

// Routes returns the UI's routes with their authorisation rules.
func (u *UI) Routes() []server.Route {
	h := u.h
	r := func(method, path string, kind focal.Kind, action focal.Action, fn http.HandlerFunc) server.Route {
		return server.Route{Method: method, Path: path, Kind: kind, Action: action, Handler: fn}
	}
	// upload is a route whose form carries a file of at most max bytes.
	upload := func(rt server.Route, max int64) server.Route {
		rt.MaxBody = max
		return rt
	}
	const read, create, update, del = focal.ActionRead, focal.ActionCreate, focal.ActionUpdate, focal.ActionDelete
	routes := []server.Route{
		r("GET", "/static/{hash}/{name}", focal.KindPublic, read, h.static),
		// Logging in and out is open to everyone: they read no resource,
		// and logging out must work when the session has already expired.
		r("GET", "/login", focal.KindPublic, read, h.loginForm),
		r("POST", "/login", focal.KindPublic, read, h.login),
		r("POST", "/logout", focal.KindPublic, read, h.logout),
		r("GET", "/{$}", focal.KindDashboard, read, h.dashboard),
		r("GET", "/organisations", focal.KindOrganisation, read, h.orgList),
		r("GET", "/organisations/new", focal.KindOrganisation, create, h.orgNew),
		r("POST", "/organisations", focal.KindOrganisation, create, h.orgCreate),
		r("GET", "/organisations/{id}", focal.KindOrganisation, read, h.orgDetail),
		r("GET", "/organisations/{id}/edit", focal.KindOrganisation, update, h.orgEdit),
		r("POST", "/organisations/{id}", focal.KindOrganisation, update, h.orgUpdate),
		r("POST", "/organisations/{id}/delete", focal.KindOrganisation, del, h.orgDelete),
		// The constituent portal: an organisation's own constituents keep
		// its contacts and notification policy, and ask for changes to
		// its networks, which a coordinator decides.
		r("GET", "/organisations/{id}/contacts", focal.KindContacts, update, h.orgContactsEdit),
		r("POST", "/organisations/{id}/contacts", focal.KindContacts, update, h.orgContactsUpdate),
		r("GET", "/organisations/{id}/notify-policy", focal.KindContacts, update, h.policyEdit),
		r("POST", "/organisations/{id}/notify-policy", focal.KindContacts, update, h.policyUpdate),
		r("POST", "/organisations/{id}/change-requests", focal.KindChange, create, h.changeCreate),
		r("POST", "/organisations/{id}/products", focal.KindContacts, update, h.orgProductsUpdate),
		r("GET", "/change-requests", focal.KindChange, read, h.changeList),
		r("POST", "/change-requests/{id}/decide", focal.KindChange, update, h.changeDecide),
		r("POST", "/change-requests/{id}/withdraw", focal.KindChange, create, h.changeWithdraw),
		r("GET", "/users", focal.KindUser, read, h.userList),
		r("GET", "/users/new", focal.KindUser, create, h.userNew),
		r("POST", "/users", focal.KindUser, create, h.userCreate),
		r("GET", "/users/{id}", focal.KindUser, read, h.userDetail),
		r("POST", "/users/{id}", focal.KindUser, update, h.userUpdate),
		r("GET", "/account", focal.KindSelf, read, h.account),
		r("POST", "/account/password", focal.KindSelf, update, h.passwordChange),
		r("GET", "/audit", focal.KindAudit, read, h.audit),
		// The public report form: anyone, logged in or not, may report.
		r("GET", "/report", focal.KindReport, read, h.reportForm),
		upload(r("POST", "/report", focal.KindReport, create, h.reportSubmit), maxReportBody),
		r("GET", "/report/sent", focal.KindReport, read, h.reportSent),
		// Incidents: /incidents is the list, /incidents?view=queue the
		// triage queue (new and triaged, oldest first).
		r("GET", "/incidents", focal.KindIncident, read, h.incidentList),
		r("GET", "/incidents/new", focal.KindIncident, create, h.incidentNew),
		r("POST", "/incidents", focal.KindIncident, create, h.incidentCreate),
		r("GET", "/incidents/metrics", focal.KindIncident, read, h.incidentMetrics),
		r("GET", "/incidents/{id}", focal.KindIncident, read, h.incidentDetail),
		r("GET", "/incidents/{id}/content", focal.KindIncident, read, h.incidentContent),
		r("POST", "/incidents/{id}", focal.KindIncident, update, h.incidentUpdate),
		r("POST", "/incidents/{id}/journal", focal.KindIncident, update, h.incidentJournal),
		r("GET", "/incidents/{id}/attachments/{aid}", focal.KindIncident, read, h.attachmentDownload),
		upload(r("POST", "/incidents/{id}/attachments", focal.KindIncident, update, h.attachmentUpload), maxUploadBody),
		r("POST", "/incidents/{id}/tasks", focal.KindIncident, update, h.taskAdd),
		r("POST", "/incidents/{id}/tasks/{task}", focal.KindIncident, update, h.taskUpdate),
		r("POST", "/incidents/{id}/merge", focal.KindIncident, update, h.incidentMerge),
		// Quarantined intake is for those who work incidents.
		r("GET", "/quarantine", focal.KindIncident, update, h.quarantine),
		// SLA targets: everyone who reads incidents sees them; changing
		// them is a coordinator's right, as in the API.
		r("GET", "/sla", focal.KindIncident, read, h.slaTargets),
		r("POST", "/sla", focal.KindUser, update, h.slaUpdate),
		// Watch and warning: events for those who read them (a
		// constituent its own organisation's), feeds and alert rules for
		// analysts, read by handlers.
		r("GET", "/events", focal.KindEvent, read, h.events),
		r("GET", "/events/{id}", focal.KindEvent, read, h.eventDetail),
		r("GET", livePath, focal.KindEvent, read, h.live),
		// The constituent portal: feedback on an organisation's own events
		// (the store allows only its constituents, with a session or a
		// token that may write), and the log of notifications sent
		// (coordinators, handlers, an organisation its own).
		r("POST", "/events/{id}/feedback", focal.KindEvent, read, h.eventFeedbackPost),
		r("GET", "/notifications", focal.KindOrganisation, read, h.notifications),
		r("GET", "/notifications/{id}", focal.KindOrganisation, read, h.notificationDetail),
		r("GET", "/feeds", focal.KindFeed, read, h.feedList),
		r("GET", "/feeds/new", focal.KindFeed, create, h.feedNew),
		r("POST", "/feeds", focal.KindFeed, create, h.feedCreate),
		r("GET", "/feeds/{id}", focal.KindFeed, read, h.feedDetail),
		r("GET", "/feeds/{id}/edit", focal.KindFeed, update, h.feedEdit),
		r("POST", "/feeds/{id}", focal.KindFeed, update, h.feedUpdate),
		r("POST", "/feeds/{id}/delete", focal.KindFeed, del, h.feedDelete),
		r("POST", "/feeds/{id}/run", focal.KindFeed, update, h.feedRunNow),
		upload(r("POST", "/feeds/{id}/upload", focal.KindFeed, create, h.feedUpload), maxFeedUploadBody),
		r("GET", "/runs/{id}", focal.KindFeed, read, h.runDetail),
		// The cooperative network: collections and sharing groups
		// (coordinators change them, staff read them), and sharing.
		r("GET", "/sharing", focal.KindSharing, read, h.sharing),
		r("GET", "/federation", focal.KindSharing, read, h.directory),
		r("POST", "/federation/peers", focal.KindSharing, create, h.peerCreate),
		r("POST", "/federation/peers/{id}/poll", focal.KindSharing, update, h.peerPoll),
		r("POST", "/federation/peers/{id}/delete", focal.KindSharing, del, h.peerDelete),
		r("GET", "/federation/profile", focal.KindSharing, read, h.profileEdit),
		r("POST", "/federation/profile", focal.KindSharing, update, h.profileUpdate),
		r("GET", "/rfc2350", focal.KindPublic, read, h.rfc2350),
		r("GET", "/rfc2350.txt", focal.KindPublic, read, h.rfc2350),
		r("POST", "/sharing/collections", focal.KindSharing, create, h.sharingPost(h.collectionCreate)),
		r("POST", "/sharing/groups", focal.KindSharing, create, h.sharingPost(h.groupCreate)),
		r("POST", "/sharing/groups/{id}/members", focal.KindSharing, update, h.sharingPost(h.groupMemberAdd)),
		r("POST", "/sharing/groups/{id}/collections", focal.KindSharing, update, h.sharingPost(h.groupGrant)),
		r("GET", "/sharing/publish", focal.KindSharing, read, h.publishForm),
		r("POST", "/sharing/publish", focal.KindSharing, read, h.publishForm),
		r("GET", "/alert-rules", focal.KindFeed, read, h.alertRules),
		r("POST", "/alert-rules", focal.KindFeed, create, h.alertRuleCreate),
		r("GET", "/alert-rules/{id}/edit", focal.KindFeed, update, h.alertRuleEdit),
		r("POST", "/alert-rules/{id}", focal.KindFeed, update, h.alertRuleUpdate),
		r("POST", "/alert-rules/{id}/delete", focal.KindFeed, del, h.alertRuleDelete),
	}
	// Advisories (advisory_routes.go) and assessments (assess_routes.go)
	// keep their route tables next to their handlers.
	routes = append(routes, h.advisoryRoutes()...)
	return append(routes, h.assessRoutes()...)
}

// Error renders err for a browser; it is the UI's server.ErrorFunc. An
// anonymous caller (EUNAUTHORIZED) is sent to the login page on GET and
// shown a 401 page otherwise; every other error is an HTML page with the
// status of server.StatusCode and the public message.
func (u *UI) Error(w http.ResponseWriter, r *http.Request, err error) {
	u.h.error(w, r, err)
}
