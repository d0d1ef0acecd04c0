package ui

import (
	"context"
	"focal/internal/preview"
	"net/http"
	"slices"
	"strconv"
	"time"

	"focal/internal/focal"
)

// maxRelated bounds the related incidents an incident's page lists.
const maxRelated = 20

// milestoneRow is one milestone of an incident's handling.
type milestoneRow struct {
	Name string
	At   time.Time // zero: not reached yet
}

// clockRow is one SLA clock of an incident.
type clockRow struct {
	Name    string
	Target  string // "" for no target
	Due     time.Time
	Elapsed string
	State   string // met, missed, overdue, running, done
	Class   string
}

// observableRow is an observable, defanged for display.
type observableRow struct {
	Kind     string
	Value    string // defanged: never a live link
	TLP      focal.TLP
	TLPClass string
	Source   string
}

// suggestedOrg is an organisation the constituency lookup finds behind
// the incident's observables.
type suggestedOrg struct {
	ID      int64
	Name    string
	Matched []string // defanged
	Current bool     // already the affected organisation
}

// journalRow is one journal entry.
type journalRow struct {
	ID       int64
	At       time.Time
	Author   string
	Kind     string // note, email_out, state…
	Label    string // the kind in words
	TLP      focal.TLP
	TLPClass string
	Body     string
}

// statusChoice is a status offered in the status form.
type statusChoice struct {
	Value focal.Status
	Label string
}

// journalKind is a kind of journal entry a handler may add.
type journalKind struct {
	Value, Label string
}

// journalKinds are the entries the journal form adds: a note, or a record
// of an e-mail sent (which stamps the first response) or received.
func journalKinds() []journalKind {
	return []journalKind{{"note", "Note"}, {"email_out", "E-mail sent"}, {"email_in", "E-mail received"}}
}

// personOption is an account in the assignee select.
type personOption struct {
	ID   int64
	Name string
}

// changeForm is the handling forms as typed: the status, triage and
// assignment fields.
type changeForm struct {
	Status         string
	WaitingOn      string
	Classification string
	Severity       string
	TLP            string
	PAP            string
	Assignee       string
	Org            string
}

// noteForm is the journal form as typed.
type noteForm struct {
	Kind string
	TLP  string
	Body string
}

// incidentDetailPage is the data of an incident's page.
type incidentDetailPage struct {
	base
	// Recipients: the organisations the incident concerns, why, and whom
	// to contact (staff only).
	Recipients []preview.IncidentRecipient
	formError
	Inc         *focal.Incident
	Status      string
	TLPClass    string
	Classes     []string
	OrgName     string
	Assignee    string // "" when nobody
	Restricted  bool
	Description string          // defanged; "" when restricted
	Reporter    *focal.Reporter // nil when hidden from the caller or empty
	Milestones  []milestoneRow
	Clocks      []clockRow
	SLA         slaView
	Target      string
	Observables []observableRow
	Suggested   []suggestedOrg // organisations owning the observables (handlers only)
	Related     []incidentRow
	Events      []eventRow // pipeline events linked to the incident
	Journal     []journalRow
	Attachments []attachmentRow // "" for a restricted incident: they are on the content page
	Tasks       []taskRow
	MayUpload   bool // attachments are configured and the caller may add them
	Upload      uploadForm
	Task        taskForm
	Merge       mergeForm

	MayUpdate   bool
	Next        []statusChoice
	WaitingOn   []string
	ClassGroups []classGroup
	Severities  []focal.Severity
	TLPs        []focal.TLP
	PAPs        []focal.PAP
	People      []personOption // whom a coordinator may assign; nil for others
	Orgs        []orgOption
	Self        int64
	Change      changeForm
	Note        noteForm
	NoteKinds   []journalKind
}

// incidentDetail serves GET /incidents/{id}: the incident with its
// milestones, SLA clocks, observables (defanged), related incidents and
// journal, and, for those who work it, the forms to change it. The
// description of a restricted category is not shown here but on its own
// page. Reporter contact details are personal data: only those who work
// the incident see them, and showing them is audited.
func (h *handlers) incidentDetail(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		h.error(w, r, err)
		return
	}
	h.showIncident(w, r, id, http.StatusOK, nil, nil, nil)
}

// showIncident renders incident id's page with status; after a rejected
// form, fe is the error and cf or nf the typed values.
func (h *handlers) showIncident(w http.ResponseWriter, r *http.Request, id int64, status int, fe *fieldError, cf *changeForm, nf *noteForm) {
	h.showIncidentWith(w, r, id, status, fe, func(page *incidentDetailPage) {
		if cf != nil {
			page.Change = *cf
		}
		if nf != nil {
			page.Note = *nf
		}
	})
}

// showIncidentWith renders incident id's page with status; after a
// rejected form, fe is the error and typed puts the typed values back.
func (h *handlers) showIncidentWith(w http.ResponseWriter, r *http.Request, id int64, status int, fe *fieldError, typed func(*incidentDetailPage)) {
	ctx := r.Context()
	i, err := h.store.Incident(ctx, id)
	if err != nil {
		h.error(w, r, err)
		return
	}
	page, err := h.incidentDetailPage(r, i)
	if err != nil {
		h.error(w, r, err)
		return
	}
	page.Err = fe
	typed(&page)
	if _, all := focal.OrgScope(focal.PrincipalFromContext(ctx)); all {
		if page.Recipients, err = preview.Incident(ctx, h.store, h.lookupTable(), i); err != nil {
			h.error(w, r, err)
			return
		}
	}
	if page.Reporter != nil {
		if err := h.store.Audit(ctx, "view", "incident", strconv.FormatInt(id, 10), map[string]any{"reporter": true, "via": "ui"}); err != nil {
			h.error(w, r, err)
			return
		}
	}
	h.render(w, r, status, "incident_detail", page)
}

// incidentDetailPage gathers what incident i's page shows.
func (h *handlers) incidentDetailPage(r *http.Request, i *focal.Incident) (incidentDetailPage, error) {
	ctx := r.Context()
	p := focal.PrincipalFromContext(ctx)
	res := focal.Resource{Kind: focal.KindIncident, OrgID: i.OrgID, TLP: i.TLP, Restricted: i.Restricted()}
	page := incidentDetailPage{
		base: h.base(r, i.Ref+" "+i.Title), Inc: i, Status: statusLabel(i.Status), TLPClass: tlpClass(i.TLP),
		Restricted: i.Restricted(), MayUpdate: may(r, focal.ActionUpdate, res), Self: p.UserID,
		Milestones: []milestoneRow{
			{"Reported", i.Milestones.Reported}, {"Acknowledged", i.Milestones.Acknowledged}, {"Triaged", i.Milestones.Triaged},
			{"First response", i.Milestones.FirstResponse}, {"Contained", i.Milestones.Contained},
			{"Resolved", i.Milestones.Resolved}, {"Closed", i.Milestones.Closed},
		},
	}
	for _, c := range i.Classifications {
		page.Classes = append(page.Classes, classLabel(c))
	}
	if !page.Restricted {
		page.Description = defangText(i.Description)
	}
	// Reporter details are for those who work the incident (handlers and
	// coordinators), not for analysts or constituents.
	if page.MayUpdate && i.Reporter != (focal.Reporter{}) {
		rep := i.Reporter
		page.Reporter = &rep
	}
	orgs, names, err := h.orgNames(ctx)
	if err != nil {
		return page, err
	}
	page.OrgName = orgName(names, i.OrgID)
	clock, err := h.slaClock(ctx)
	if err != nil {
		return page, err
	}
	clocks, target := clock.clocks(i)
	page.SLA = slaSummary(i, clocks, clock.now)
	page.Clocks = clockRows(i, clocks)
	page.Target = "Targets for " + string(target.Severity) + " severity, round the clock"
	if target.BusinessHours {
		page.Target = "Targets for " + string(target.Severity) + " severity, in working hours"
	}
	if !page.Restricted {
		if page.Observables, page.Related, err = h.observablesAndRelated(ctx, i.ID, names, clock); err != nil {
			return page, err
		}
	}
	if page.Events, err = h.incidentEvents(ctx, i.ID, names); err != nil {
		return page, err
	}
	entries, err := h.store.Journal(ctx, i.ID)
	if err != nil {
		return page, err
	}
	for _, e := range entries {
		page.Journal = append(page.Journal, journalRow{ID: e.ID, At: e.At, Author: e.Author, Kind: e.Kind, Label: journalKindLabel(e.Kind), TLP: e.TLP, TLPClass: tlpClass(e.TLP), Body: e.Body})
	}
	people, err := h.assignable(ctx)
	if err != nil {
		return page, err
	}
	if err := h.addWork(r, &page, people); err != nil {
		return page, err
	}
	page.Assignee = assigneeName(i.AssigneeID, p.UserID, people)
	if !page.MayUpdate {
		return page, nil
	}
	if page.Suggested, err = h.suggestOrgs(ctx, i); err != nil {
		return page, err
	}
	for _, s := range focal.NextStatuses(i.Status) {
		// Merging needs the incident to merge into, which this form
		// does not ask: the merge form does.
		if s != focal.StatusMerged {
			page.Next = append(page.Next, statusChoice{Value: s, Label: statusLabel(s)})
		}
	}
	page.WaitingOn, page.ClassGroups = focal.WaitingOn, rsitOptions(primaryClass(i.Classifications))
	page.Severities, page.TLPs, page.PAPs = focal.Severities, focal.TLPs, []focal.PAP{focal.PAPClear, focal.PAPGreen, focal.PAPAmber, focal.PAPRed}
	page.People, page.Orgs, page.NoteKinds = people, orgs, journalKinds()
	page.Change = changeForm{
		WaitingOn: i.WaitingOn, Classification: primaryClass(i.Classifications), Severity: string(i.Severity),
		TLP: string(i.TLP), PAP: string(i.PAP), Assignee: strconv.FormatInt(i.AssigneeID, 10), Org: strconv.FormatInt(i.OrgID, 10),
	}
	page.Note = noteForm{Kind: "note", TLP: string(i.TLP)}
	return page, nil
}

// observablesAndRelated returns incident id's observables, defanged, and
// the incidents sharing one with it.
func (h *handlers) observablesAndRelated(ctx context.Context, id int64, names map[int64]string, clock slaClock) ([]observableRow, []incidentRow, error) {
	obs, err := h.store.Observables(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	var rows []observableRow
	for _, o := range obs {
		rows = append(rows, observableRow{Kind: o.Kind, Value: defangObservable(o), TLP: o.TLP, TLPClass: tlpClass(o.TLP), Source: o.Source})
	}
	if len(obs) == 0 {
		return rows, nil, nil
	}
	rel, err := h.store.RelatedIncidents(ctx, id, maxRelated)
	if err != nil {
		return nil, nil, err
	}
	var related []incidentRow
	for _, i := range rel {
		related = append(related, newIncidentRow(i, names, clock))
	}
	return rows, related, nil
}

// clockRows renders incident i's SLA clocks.
func clockRows(i *focal.Incident, clocks []focal.SLAClock) []clockRow {
	var out []clockRow
	for _, c := range clocks {
		row := clockRow{Name: c.Name, Elapsed: humanDuration(c.Elapsed), Due: c.Due}
		if c.Target > 0 {
			row.Target = humanDuration(c.Target)
		}
		switch {
		case c.Target == 0 && c.Done:
			row.State, row.Class = "done", "sla-met"
		case c.Target == 0:
			row.State, row.Class = "no target", "sla-none"
		case c.Done && c.Met:
			row.State, row.Class = "met", "sla-met"
		case c.Done:
			row.State, row.Class = "missed", "sla-missed"
		case c.Overdue && i.Status.Open():
			row.State, row.Class = "overdue", "sla-overdue"
		case i.Status.Open():
			row.State, row.Class = "running", "sla-ok"
		default:
			row.State, row.Class = "stopped", "sla-none"
		}
		out = append(out, row)
	}
	return out
}

// journalKindLabel names a kind of journal entry.
func journalKindLabel(kind string) string {
	for _, k := range journalKinds() {
		if k.Value == kind {
			return k.Label
		}
	}
	switch kind {
	case "state":
		return "Change"
	case "view":
		return "View"
	case "system":
		return "System"
	}
	return kind
}

// assignable returns the accounts an incident may be assigned to, for
// callers who may list accounts (coordinators); nil for everyone else,
// who may assign only themselves.
func (h *handlers) assignable(ctx context.Context) ([]personOption, error) {
	if focal.Authorize(focal.PrincipalFromContext(ctx), focal.ActionRead, focal.Resource{Kind: focal.KindUser}) != nil {
		return nil, nil
	}
	users, err := h.store.Users(ctx)
	if err != nil {
		return nil, err
	}
	var out []personOption
	for _, u := range users {
		if !u.Disabled && (u.Role == focal.RoleHandler || u.Role == focal.RoleCoordinator) {
			out = append(out, personOption{ID: u.ID, Name: u.Name})
		}
	}
	return out, nil
}

// assigneeName names the assignee for the caller self: "you", a name
// from people, or the account number.
func assigneeName(id, self int64, people []personOption) string {
	switch {
	case id == 0:
		return ""
	case id == self:
		return "you"
	}
	if n := slices.IndexFunc(people, func(o personOption) bool { return o.ID == id }); n >= 0 {
		return people[n].Name
	}
	return "account " + strconv.FormatInt(id, 10)
}

// suggestOrgs looks the incident's observables up in the constituency, so
// the handler can set the affected organisation with one click.
func (h *handlers) suggestOrgs(ctx context.Context, i *focal.Incident) ([]suggestedOrg, error) {
	obs, err := h.store.Observables(ctx, i.ID)
	if err != nil || h.lookup == nil {
		return nil, err
	}
	var out []suggestedOrg
	for _, m := range h.lookup().MatchObservables(obs) {
		o, err := h.store.Organisation(ctx, m.OrgID)
		if focal.ErrorCode(err) == focal.ENOTFOUND {
			continue // deleted since the table was built
		}
		if err != nil {
			return nil, err
		}
		s := suggestedOrg{ID: o.ID, Name: o.Name, Current: o.ID == i.OrgID}
		for _, v := range m.Matched {
			s.Matched = append(s.Matched, defangText(v))
		}
		out = append(out, s)
		if len(out) == 10 {
			break
		}
	}
	return out, nil
}
