package ui

import (
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"focal/internal/attachment"
	"focal/internal/auth"
	"focal/internal/focal"
	"focal/internal/httpauth"
	"focal/internal/lookup"
	"focal/internal/pipeline"
	"focal/internal/publish"
	"focal/internal/store"
)

// handlers holds the dependencies of the page handlers, which are its
// methods (one file per page or action).
type handlers struct {
	store   *store.Store
	auth    *httpauth.Authenticator
	logger  *slog.Logger
	lookup  func() *lookup.Table
	changed func() // may be nil
	pages   *pages
	assets  *assets

	extract     func(string) []focal.Observable // may be nil
	calendar    focal.Calendar                  // working hours for SLA clocks
	reportKey   []byte                          // signs the report form's check and receipts
	minFill     time.Duration                   // the report form's minimum fill time
	reportLimit *auth.Limiter                   // public reports per client address
	files       *attachment.Store               // incident attachments; nil: uploads are off
	reportFiles *attachment.Store               // the same directory, with the public form's smaller limit
	pipeline    *pipeline.Pipeline              // feed uploads; nil: they are off
	publisher   *publish.Publisher              // sharing into TAXII collections; nil: off
}

// base is what the layout shows on every page.
type base struct {
	Title     string
	Principal focal.Principal
	LoggedIn  bool
	Nav       []navItem
	Notice    string // a confirmation after a redirect, e.g. "Saved."
}

// noticeText returns the confirmation a redirect asked for with
// ?notice=key; only these fixed texts can appear, so a link cannot put
// words in focal's mouth.
func noticeText(key string) string {
	switch key {
	case "created":
		return "Created."
	case "saved":
		return "Saved."
	case "deleted":
		return "Deleted."
	case "password":
		return "Your password was changed. Your other sessions were ended."
	case "noted":
		return "Added to the journal."
	case "attached":
		return "The file was attached."
	case "task":
		return "The task was saved."
	case "merged":
		return "The incident was merged into this one."
	case "requested":
		return "Your request was sent; the team will review it."
	case "withdrawn":
		return "The request was withdrawn."
	case "decided":
		return "The decision was recorded."
	case "scheduled":
		return "The feed is due: it will be polled shortly."
	}
	return ""
}

// base returns the layout data for a page titled title.
func (h *handlers) base(r *http.Request, title string) base {
	p := focal.PrincipalFromContext(r.Context())
	return base{
		Title:     title,
		Principal: p,
		LoggedIn:  !p.IsAnonymous(),
		Nav:       navFor(p, r.URL.Path),
		Notice:    noticeText(r.URL.Query().Get("notice")),
	}
}

// redirect answers a successful form with 303 See Other to path.
func redirect(w http.ResponseWriter, r *http.Request, path string) {
	http.Redirect(w, r, path, http.StatusSeeOther)
}

// withNotice appends ?notice=key to path.
func withNotice(path, key string) string {
	return path + "?notice=" + url.QueryEscape(key)
}

// pathID parses the {id} of the URL path.
func pathID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, focal.Errorf(focal.ENOTFOUND, "no such page")
	}
	return id, nil
}

// may reports whether the caller may do a to a resource of kind (for
// showing links and buttons; the route and the store still check).
func may(r *http.Request, a focal.Action, res focal.Resource) bool {
	return focal.Authorize(focal.PrincipalFromContext(r.Context()), a, res) == nil
}

// lookupTable returns the current constituency table, nil when there is none.
func (h *handlers) lookupTable() *lookup.Table {
	if h.lookup == nil {
		return nil
	}
	return h.lookup()
}

// constituencyChanged tells the App to rebuild its lookup table.
func (h *handlers) constituencyChanged() {
	if h.changed != nil {
		h.changed()
	}
}

// parseForm parses a posted form, turning a body over its limit or a
// malformed body into a focal error.
func parseForm(r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return focal.Errorf(focal.ETOOLARGE, "the form is too large")
		}
		return focal.Wrap(focal.EINVALID, err, "malformed form")
	}
	return nil
}
