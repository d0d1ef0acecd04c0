package ui

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"focal/internal/focal"
	"focal/internal/store"
)

const (
	// incidentPageSize is how many incidents a list page shows.
	incidentPageSize = 50
	// queueSize is how many incidents the triage queue shows, oldest first.
	queueSize = 100
	// maxIncidentScan bounds the incidents one page reads to filter by
	// SLA state (overdue) or to find the oldest for the queue.
	maxIncidentScan = 5000
)

// incidentQuery is the list's filters as given in the URL.
type incidentQuery struct {
	Queue    bool // view=queue: the triage queue, oldest first
	Statuses []focal.Status
	Class    string
	TLP      focal.TLP
	OrgID    int64
	Mine     bool // assignee=me
	Overdue  bool
	Q        string
	Before   int64
}

// parseIncidentQuery reads the list's filters; a malformed one is an
// EINVALID error naming it.
func parseIncidentQuery(q url.Values) (incidentQuery, error) {
	iq := incidentQuery{
		Queue: q.Get("view") == "queue", Class: q.Get("class"),
		Mine: q.Get("assignee") == "me", Overdue: q.Get("overdue") != "",
		Q: strings.TrimSpace(q.Get("q")),
	}
	for _, s := range q["status"] {
		for _, part := range strings.Split(s, ",") {
			if part == "" {
				continue
			}
			st, err := focal.ParseStatus(part)
			if err != nil {
				return iq, err
			}
			if !slices.Contains(iq.Statuses, st) {
				iq.Statuses = append(iq.Statuses, st)
			}
		}
	}
	if iq.Class != "" {
		if _, _, ok := focal.LookupRSIT(iq.Class, ""); !ok {
			return iq, focal.FieldErrorf("class", "unknown classification %q", iq.Class)
		}
	}
	if v := q.Get("tlp"); v != "" {
		t, err := focal.ParseTLP(v)
		if err != nil {
			return iq, err
		}
		iq.TLP = t
	}
	for name, dst := range map[string]*int64{"org": &iq.OrgID, "before": &iq.Before} {
		if v := q.Get(name); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 0 {
				return iq, focal.FieldErrorf(name, "want a number, got %q", v)
			}
			*dst = n
		}
	}
	return iq, nil
}

// url returns the list URL with these filters, starting before id (0:
// from the newest).
func (iq incidentQuery) url(before int64) string {
	v := url.Values{}
	if iq.Queue {
		v.Set("view", "queue")
	}
	for _, s := range iq.Statuses {
		v.Add("status", string(s))
	}
	for k, s := range map[string]string{"class": iq.Class, "tlp": string(iq.TLP), "q": iq.Q} {
		if s != "" {
			v.Set(k, s)
		}
	}
	if iq.OrgID != 0 {
		v.Set("org", strconv.FormatInt(iq.OrgID, 10))
	}
	if iq.Mine {
		v.Set("assignee", "me")
	}
	if iq.Overdue {
		v.Set("overdue", "1")
	}
	if before > 0 {
		v.Set("before", strconv.FormatInt(before, 10))
	}
	if len(v) == 0 {
		return "/incidents"
	}
	return "/incidents?" + v.Encode()
}

// statusOption is one status checkbox of the filter.
type statusOption struct {
	Value   focal.Status
	Label   string
	Checked bool
}

// classFilterOption is one RSIT class of the filter.
type classFilterOption struct {
	Value, Name string
}

// incidentRow is an incident as a list shows it.
type incidentRow struct {
	ID         int64
	Ref        string
	Title      string
	Class      string
	Severity   focal.Severity
	TLP        focal.TLP
	TLPClass   string
	Status     string
	StatusKey  focal.Status
	OrgID      int64
	OrgName    string
	Age        string
	Reported   time.Time
	SLA        slaView
	Restricted bool
}

// incidentListPage is the data of the incident list and the triage queue.
type incidentListPage struct {
	base
	incidentQuery
	StatusOptions []statusOption
	Classes       []classFilterOption
	TLPs          []focal.TLP
	Orgs          []orgOption // empty for a constituent: the list is its own
	Rows          []incidentRow
	QueueTotal    int  // incidents waiting in the queue (up to the scan bound)
	QueueMore     bool // the queue was longer than could be counted
	OlderURL      string
	NewestURL     string
	MayCreate     bool
}

// Selected reports whether status s is filtered on (for the checkboxes).
func (iq incidentQuery) Selected(s focal.Status) bool { return slices.Contains(iq.Statuses, s) }

// incidentList serves GET /incidents: the incidents in the caller's scope,
// newest first, filtered by status, class, TLP, organisation, assignee,
// SLA state and text, an older page at a time (?before=id). With
// view=queue it is the triage queue: new and triaged incidents (unless
// other statuses are chosen), the oldest first. For htmx it renders only
// the results, which the filter form swaps in.
func (h *handlers) incidentList(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	p := focal.PrincipalFromContext(ctx)
	iq, err := parseIncidentQuery(r.URL.Query())
	if err != nil {
		h.error(w, r, err)
		return
	}
	if iq.Queue && len(iq.Statuses) == 0 {
		iq.Statuses = []focal.Status{focal.StatusNew, focal.StatusTriaged}
	}
	title := "Incidents"
	if iq.Queue {
		title = "Triage queue"
	}
	page := incidentListPage{
		base: h.base(r, title), incidentQuery: iq, TLPs: focal.TLPs,
		MayCreate: may(r, focal.ActionCreate, focal.Resource{Kind: focal.KindIncident}),
	}
	for _, s := range focal.Statuses {
		page.StatusOptions = append(page.StatusOptions, statusOption{Value: s, Label: statusLabel(s), Checked: iq.Selected(s)})
	}
	for _, c := range focal.RSIT {
		page.Classes = append(page.Classes, classFilterOption{Value: c.Value, Name: c.Name})
	}
	orgs, names, err := h.orgNames(ctx)
	if err != nil {
		h.error(w, r, err)
		return
	}
	if _, all := focal.OrgScope(p); all {
		page.Orgs = orgs
	}
	clock, err := h.slaClock(ctx)
	if err != nil {
		h.error(w, r, err)
		return
	}
	f := store.IncidentFilter{Status: iq.Statuses, Class: iq.Class, TLP: iq.TLP, OrgID: iq.OrgID, Query: iq.Q, BeforeID: iq.Before, Limit: incidentPageSize}
	if iq.Mine {
		f.AssigneeID = p.UserID
	}
	keep := func(*focal.Incident) bool { return true }
	if iq.Overdue {
		keep = func(i *focal.Incident) bool { return clock.summary(i).Overdue }
		f.Limit = 200
	}
	var list []*focal.Incident
	if iq.Queue {
		list, page.QueueTotal, page.QueueMore, err = h.queue(ctx, f, keep, iq.Overdue)
	} else {
		list, page.OlderURL, err = h.incidentPage(ctx, iq, f, keep)
	}
	if err != nil {
		h.error(w, r, err)
		return
	}
	if iq.Before > 0 && !iq.Queue {
		page.NewestURL = iq.url(0)
	}
	for _, i := range list {
		page.Rows = append(page.Rows, newIncidentRow(i, names, clock))
	}
	w.Header().Add("Vary", "HX-Request")
	if r.Header.Get("HX-Request") == "true" && r.Header.Get("HX-History-Restore-Request") != "true" {
		h.renderPartial(w, r, http.StatusOK, "incident_list", "results", page)
		return
	}
	h.render(w, r, http.StatusOK, "incident_list", page)
}

// incidentPage returns a page of incidents matching f and keep, newest
// first, and the URL of the next older page ("" when there is none).
func (h *handlers) incidentPage(ctx context.Context, iq incidentQuery, f store.IncidentFilter, keep func(*focal.Incident) bool) ([]*focal.Incident, string, error) {
	var list []*focal.Incident
	last, more, err := h.scanIncidents(ctx, f, maxIncidentScan, func(i *focal.Incident) bool {
		if keep(i) {
			list = append(list, i)
		}
		return len(list) < incidentPageSize
	})
	if err != nil || !more {
		return list, "", err
	}
	return list, iq.url(last), nil
}

// queueCountCap bounds the count of incidents waiting in the queue.
const queueCountCap = 1_000

// queue returns the oldest queueSize incidents matching f and keep, oldest
// first, with how many match and whether there are more than counted.
// Without a text query or the overdue filter the store reads them oldest
// first and counts them (capped); otherwise it scans newest first within
// the scan bound.
func (h *handlers) queue(ctx context.Context, f store.IncidentFilter, keep func(*focal.Incident) bool, overdue bool) ([]*focal.Incident, int, bool, error) {
	if f.Query == "" && !overdue {
		qf := f
		qf.Oldest, qf.BeforeID, qf.Limit = true, 0, queueSize
		list, err := h.store.Incidents(ctx, qf)
		if err != nil {
			return nil, 0, false, err
		}
		total, more, err := h.store.CountIncidents(ctx, f, queueCountCap)
		return list, total, more, err
	}
	f.Limit, f.BeforeID = 500, 0
	var window []*focal.Incident // the oldest seen so far, newest first
	total := 0
	_, more, err := h.scanIncidents(ctx, f, maxIncidentScan, func(i *focal.Incident) bool {
		if keep(i) {
			total++
			window = append(window, i)
			if len(window) > queueSize {
				window = window[1:]
			}
		}
		return true
	})
	slices.Reverse(window)
	return window, total, more, err
}

// newIncidentRow prepares incident i for a list.
func newIncidentRow(i *focal.Incident, names map[int64]string, clock slaClock) incidentRow {
	return incidentRow{
		ID: i.ID, Ref: i.Ref, Title: i.Title, Class: classLabels(i.Classifications), Severity: i.Severity,
		TLP: i.TLP, TLPClass: tlpClass(i.TLP), Status: statusLabel(i.Status), StatusKey: i.Status,
		OrgID: i.OrgID, OrgName: orgName(names, i.OrgID), Age: humanDuration(clock.now.Sub(i.Milestones.Reported)),
		Reported: i.Milestones.Reported, SLA: clock.summary(i), Restricted: i.Restricted(),
	}
}
