package restapi

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"focal/internal/focal"
	"focal/internal/notify"
	"focal/internal/pipeline"
)

// recipientBody is one organisation an event would be sent to, or would
// be sent to if its policy wanted it: why it concerns the organisation,
// and what its notification policy makes of it.
type recipientBody struct {
	OrgID      int64    `json:"org_id"`
	Org        string   `json:"org"`
	Matched    []string `json:"matched"`              // why the event concerns it
	Notify     bool     `json:"notify"`               // whether its policy sends it
	Reason     string   `json:"reason"`               // the policy's decision, in words
	Channel    string   `json:"channel,omitempty"`    // email-digest, email-immediate, webhook
	Schedule   string   `json:"schedule,omitempty"`   // immediate, hourly, daily
	Recipients []string `json:"recipients,omitempty"` // addresses (e-mail) or the webhook's host
	Policy     string   `json:"policy"`               // "set" or "default" (derived from contacts)
}

// eventRecipients serves GET /api/v1/events/{id}/recipients: who will
// receive this event and why — the organisations whose networks, AS
// numbers or domains it matches now, each with its notification policy's
// decision. Staff only: it names organisations and their contacts.
func (a *API) eventRecipients(w http.ResponseWriter, r *http.Request) {
	p := focal.PrincipalFromContext(r.Context())
	if _, all := focal.OrgScope(p); !all {
		a.Error(w, r, focal.Errorf(focal.EFORBIDDEN, "who receives an event is for the team's staff"))
		return
	}
	id, err := pathID(r)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	e, err := a.Store.Event(r.Context(), id)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	var reasons []pipeline.Reason
	if a.Lookup != nil {
		reasons = pipeline.Explain(a.Lookup(), e)
	}
	out := []recipientBody{}
	index := map[int64]int{}
	for _, rs := range reasons {
		if i, ok := index[rs.OrgID]; ok {
			out[i].Matched = append(out[i].Matched, rs.How)
			continue
		}
		rb := recipientBody{OrgID: rs.OrgID, Matched: []string{rs.How}}
		o, err := a.Store.Organisation(r.Context(), rs.OrgID)
		if err != nil {
			a.Error(w, r, err)
			return
		}
		rb.Org = o.Name
		if err := a.decide(r, o, e, &rb); err != nil {
			a.Error(w, r, err)
			return
		}
		index[rs.OrgID] = len(out)
		out = append(out, rb)
	}
	a.writeJSON(w, http.StatusOK, struct {
		EventID    int64           `json:"event_id"`
		Recipients []recipientBody `json:"recipients"`
	}{e.ID, out})
}

// decide fills in what o's notification policy (set, or derived from its
// contacts) makes of event e.
func (a *API) decide(r *http.Request, o *focal.Organisation, e *focal.Event, rb *recipientBody) error {
	pol, err := a.Store.NotifyPolicy(r.Context(), o.ID)
	switch {
	case err == nil:
		rb.Policy = "set"
	case focal.ErrorCode(err) == focal.ENOTFOUND:
		def := notify.PolicyFor(o)
		pol, rb.Policy = &def, "default"
		if verr := pol.Validate(); verr != nil {
			rb.Reason = "no usable policy: " + verr.Error()
			return nil
		}
	default:
		return err
	}
	rb.Notify, rb.Reason = pol.Wants(e)
	rb.Channel, rb.Schedule = pol.Channel, pol.Schedule
	if pol.Channel == notify.ChannelWebhook {
		rb.Recipients = []string{hostOf(pol.WebhookURL)}
	} else {
		rb.Recipients = pol.Recipients
	}
	return nil
}

// hostOf returns a URL's host, so a webhook's secret path or query is
// not shown.
func hostOf(raw string) string {
	if u, err := url.Parse(raw); err == nil {
		return u.Host
	}
	return ""
}

// feedRecipientBody is an organisation that has events of a feed, and
// what its policy makes of the newest one.
type feedRecipientBody struct {
	recipientBody
	Events int64 `json:"events"` // in the window
}

// feedRecipients serves GET /api/v1/feeds/{id}/recipients: who receives
// this feed's events — the organisations with events of it in the last
// `days` days (default 30), how many, and what each one's notification
// policy decides for the newest (notify or not, why, channel, schedule,
// recipients).
func (a *API) feedRecipients(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	fd, err := a.Store.Feed(r.Context(), id)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	days := 30
	if v := r.URL.Query().Get("days"); v != "" {
		if n, err := strconv.Atoi(v); err != nil || n < 1 || n > 365 {
			a.Error(w, r, focal.FieldErrorf("days", "want 1 to 365, got %q", v))
			return
		} else {
			days = n
		}
	}
	orgs, err := a.Store.FeedOrganisations(r.Context(), fd.ID, time.Now().AddDate(0, 0, -days), 1000)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	out := []feedRecipientBody{}
	for _, fo := range orgs {
		e, err := a.Store.Event(r.Context(), fo.Newest)
		if err != nil {
			a.Error(w, r, err)
			return
		}
		o, err := a.Store.Organisation(r.Context(), fo.OrgID)
		if err != nil {
			a.Error(w, r, err)
			return
		}
		rb := recipientBody{OrgID: o.ID, Org: o.Name}
		if a.Lookup != nil {
			for _, rs := range pipeline.Explain(a.Lookup(), e) {
				if rs.OrgID == o.ID {
					rb.Matched = append(rb.Matched, rs.How)
				}
			}
		}
		if err := a.decide(r, o, e, &rb); err != nil {
			a.Error(w, r, err)
			return
		}
		out = append(out, feedRecipientBody{recipientBody: rb, Events: fo.Events})
	}
	a.writeJSON(w, http.StatusOK, struct {
		Feed       string              `json:"feed"`
		Days       int                 `json:"days"`
		Recipients []feedRecipientBody `json:"recipients"`
	}{fd.Name, days, out})
}

// incidentRecipientBody is an organisation an incident concerns: why,
// whether it sees the incident in its portal, and whom to contact.
type incidentRecipientBody struct {
	OrgID    int64    `json:"org_id"`
	Org      string   `json:"org"`
	Why      []string `json:"why"`
	Portal   bool     `json:"portal"`   // its constituents see the incident
	Contacts []string `json:"contacts"` // abuse contacts, else all
	Channel  string   `json:"channel,omitempty"`
	Policy   string   `json:"policy"` // "set" or "default"
}

// incidentRecipients serves GET /api/v1/incidents/{id}/recipients: the
// organisations the incident concerns — its affected organisation, and
// those owning its observables — with why, whether the incident shows in
// their portal (the affected organisation, unless TLP:RED), and their
// contacts. Staff only.
func (a *API) incidentRecipients(w http.ResponseWriter, r *http.Request) {
	if _, all := focal.OrgScope(focal.PrincipalFromContext(r.Context())); !all {
		a.Error(w, r, focal.Errorf(focal.EFORBIDDEN, "who an incident concerns is for the team's staff"))
		return
	}
	id, err := pathID(r)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	inc, err := a.Store.Incident(r.Context(), id)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	obs, err := a.Store.Observables(r.Context(), id)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	why := map[int64][]string{}
	var order []int64
	note := func(org int64, reason string) {
		if _, ok := why[org]; !ok {
			order = append(order, org)
		}
		why[org] = append(why[org], reason)
	}
	if inc.OrgID != 0 {
		note(inc.OrgID, "it is the incident's affected organisation")
	}
	if a.Lookup != nil {
		for _, m := range a.Lookup().MatchObservables(obs) {
			note(m.OrgID, "it owns "+strings.Join(m.Matched, ", "))
		}
	}
	out := []incidentRecipientBody{}
	for _, orgID := range order {
		o, err := a.Store.Organisation(r.Context(), orgID)
		if err != nil {
			a.Error(w, r, err)
			return
		}
		rb := incidentRecipientBody{OrgID: o.ID, Org: o.Name, Why: why[orgID], Portal: orgID == inc.OrgID && inc.TLP != focal.TLPRed}
		pol, err := a.Store.NotifyPolicy(r.Context(), o.ID)
		switch {
		case err == nil:
			rb.Policy = "set"
		case focal.ErrorCode(err) == focal.ENOTFOUND:
			def := notify.PolicyFor(o)
			pol, rb.Policy = &def, "default"
		default:
			a.Error(w, r, err)
			return
		}
		rb.Channel, rb.Contacts = pol.Channel, pol.Recipients
		if rb.Contacts == nil {
			rb.Contacts = []string{}
		}
		out = append(out, rb)
	}
	a.writeJSON(w, http.StatusOK, struct {
		IncidentID int64                   `json:"incident_id"`
		Ref        string                  `json:"ref"`
		Recipients []incidentRecipientBody `json:"recipients"`
	}{inc.ID, inc.Ref, out})
}
