package ui

import (
	"net/http"
	"strconv"
	"time"

	"focal/internal/focal"
	"focal/internal/store"
)

// notificationsPath is the notification log's page.
const notificationsPath = "/notifications"

// notificationsShown bounds the notifications the log page lists.
const notificationsShown = 200

// notificationEventsShown bounds the events a notification's page lists.
const notificationEventsShown = 500

// notificationsPage is the data of the notification log.
type notificationsPage struct {
	base
	Staff bool        // all organisations': show the organisation column and filter
	Orgs  []orgOption // the filter's choices (staff)
	OrgID int64       // the organisation filtered on; 0 for all
	Rows  []notificationRow
}

// notificationRow is one notification as the log lists it: never its
// message, recipients or delivery errors.
type notificationRow struct {
	ID        int64
	Reference string
	Org       orgLink
	Subject   string
	TLP       focal.TLP
	TLPClass  string
	State     string
	Attempts  int
	Created   time.Time
	SentAt    time.Time // zero until sent
	Events    int
}

// mayReadNotifications refuses the callers focal.MayReadNotifications
// does not allow.
func mayReadNotifications(r *http.Request) error {
	if !focal.MayReadNotifications(focal.PrincipalFromContext(r.Context())) {
		return focal.Errorf(focal.EFORBIDDEN, "the notification log is for coordinators, handlers and the organisations notified")
	}
	return nil
}

// notifications serves GET /notifications: the notifications sent to the
// constituency, newest first — a constituent's organisation's only; staff
// every organisation's, or one's with ?org=ID. Each row links to the
// events it carried.
func (h *handlers) notifications(w http.ResponseWriter, r *http.Request) {
	if err := mayReadNotifications(r); err != nil {
		h.error(w, r, err)
		return
	}
	ctx := r.Context()
	page := notificationsPage{base: h.base(r, "Notifications")}
	_, page.Staff = focal.OrgScope(page.Principal)
	orgs, names, err := h.orgNames(ctx)
	if err != nil {
		h.error(w, r, err)
		return
	}
	if page.Staff {
		page.Orgs = orgs
		if s := r.URL.Query().Get("org"); s != "" {
			n, err := strconv.ParseInt(s, 10, 64)
			if err != nil || n <= 0 {
				h.error(w, r, focal.FieldErrorf("org", "want an organisation, got %q", s))
				return
			}
			page.OrgID = n
		}
	}
	list, err := h.store.Notifications(ctx, page.OrgID, notificationsShown)
	if err != nil {
		h.error(w, r, err)
		return
	}
	for _, n := range list {
		page.Rows = append(page.Rows, newNotificationRow(n, names))
	}
	h.render(w, r, http.StatusOK, "notifications", page)
}

func newNotificationRow(n *store.Notification, names map[int64]string) notificationRow {
	return notificationRow{ID: n.ID, Reference: n.Reference, Org: orgLink{ID: n.OrgID, Name: orgName(names, n.OrgID)},
		Subject: n.Subject, TLP: n.TLP, TLPClass: tlpClass(n.TLP), State: n.State, Attempts: n.Attempts,
		Created: n.Created, SentAt: n.SentAt, Events: n.Events}
}

// notificationEventsPage is the data of a notification's page.
type notificationEventsPage struct {
	base
	ID     int64
	Rows   []eventRow
	Total  int // events carried
	Hidden int // carried but not listed (over the bound, or no longer readable)
}

// notificationDetail serves GET /notifications/{id}: the events
// notification id carried (a constituent: only its organisation's
// notifications; another's is not found).
func (h *handlers) notificationDetail(w http.ResponseWriter, r *http.Request) {
	if err := mayReadNotifications(r); err != nil {
		h.error(w, r, err)
		return
	}
	ctx := r.Context()
	id, err := pathID(r)
	if err != nil {
		h.error(w, r, err)
		return
	}
	ids, err := h.store.NotificationEvents(ctx, id)
	if err != nil {
		h.error(w, r, err)
		return
	}
	page := notificationEventsPage{base: h.base(r, "Notification "+strconv.FormatInt(id, 10)), ID: id, Total: len(ids)}
	events, err := h.store.EventsByID(ctx, ids[:min(len(ids), notificationEventsShown)])
	if err != nil {
		h.error(w, r, err)
		return
	}
	_, names, err := h.orgNames(ctx)
	if err != nil {
		h.error(w, r, err)
		return
	}
	for _, e := range events {
		page.Rows = append(page.Rows, newEventRow(page.Principal, e, names))
	}
	page.Hidden = page.Total - len(page.Rows)
	h.render(w, r, http.StatusOK, "notification_events", page)
}
