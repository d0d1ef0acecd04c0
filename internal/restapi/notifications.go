package restapi

import (
	"net/http"
	"strconv"
	"time"

	"focal/internal/focal"
	"focal/internal/store"
)

// notificationBody is a notification in the sent log as the API shows it:
// never its raw message, recipients or delivery errors.
type notificationBody struct {
	ID        int64     `json:"id"`
	Reference string    `json:"reference"`
	OrgID     int64     `json:"org_id"`
	Channel   string    `json:"channel"`
	Subject   string    `json:"subject"`
	TLP       string    `json:"tlp"`
	State     string    `json:"state"`
	Attempts  int       `json:"attempts"`
	Created   time.Time `json:"created"`
	SentAt    time.Time `json:"sent_at,omitzero"`
	Events    int       `json:"events"`
}

// maxNotifications bounds the limit parameter of the notification logs.
const maxNotifications = 1000

// myNotifications serves GET /api/v1/my/notifications: the notifications
// sent (or being sent) to the caller's organisation, newest first.
func (a *API) myNotifications(w http.ResponseWriter, r *http.Request) {
	org, err := myOrg(focal.PrincipalFromContext(r.Context()))
	if err != nil {
		a.Error(w, r, err)
		return
	}
	a.notificationLog(w, r, org)
}

// listNotifications serves GET /api/v1/notifications: the notifications
// to the constituency, newest first, of one organisation with org=ID.
// For coordinators and handlers (focal.MayReadNotifications); a
// constituent uses /api/v1/my/notifications.
func (a *API) listNotifications(w http.ResponseWriter, r *http.Request) {
	p := focal.PrincipalFromContext(r.Context())
	if _, all := focal.OrgScope(p); !all || !focal.MayReadNotifications(p) {
		a.Error(w, r, focal.Errorf(focal.EFORBIDDEN, "the notification log is for coordinators and handlers; an organisation reads its own at /api/v1/my/notifications"))
		return
	}
	var org int64
	if s := r.URL.Query().Get("org"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n <= 0 {
			a.Error(w, r, focal.FieldErrorf("org", "want an organisation id, got %q", s))
			return
		}
		org = n
	}
	a.notificationLog(w, r, org)
}

// notificationLog answers with the notifications to org (0: all the
// caller may read), up to the limit parameter.
func (a *API) notificationLog(w http.ResponseWriter, r *http.Request, org int64) {
	limit, err := queryInt(r, "limit", 100, maxNotifications)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	list, err := a.Store.Notifications(r.Context(), org, limit)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	out := struct {
		Notifications []notificationBody `json:"notifications"`
	}{Notifications: make([]notificationBody, 0, len(list))}
	for _, n := range list {
		out.Notifications = append(out.Notifications, notificationToBody(n))
	}
	a.writeJSON(w, http.StatusOK, out)
}

func notificationToBody(n *store.Notification) notificationBody {
	return notificationBody{ID: n.ID, Reference: n.Reference, OrgID: n.OrgID, Channel: n.Channel, Subject: n.Subject,
		TLP: string(n.TLP), State: n.State, Attempts: n.Attempts, Created: n.Created, SentAt: n.SentAt, Events: n.Events}
}
