// Package preview answers "who will receive this?" for an event, a feed
// or an incident: which organisations it concerns and why (which network,
// AS number or domain matched, which rule), and what each one's
// notification policy makes of it (sent or not, why, channel, schedule,
// addresses). The REST API and the UI show the same answer from here.
//
// Every function is for the team's staff: the answer names organisations
// and their contacts.
package preview

import (
	"context"
	"net/url"
	"strings"
	"time"

	"focal/internal/focal"
	"focal/internal/lookup"
	"focal/internal/notify"
	"focal/internal/pipeline"
	"focal/internal/store"
)

// Recipient is one organisation an event concerns, and what its
// notification policy decides.
type Recipient struct {
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

// FeedRecipient is an organisation with events of a feed in the window,
// and what its policy makes of the newest one.
type FeedRecipient struct {
	Recipient
	Events int64 `json:"events"`
}

// IncidentRecipient is an organisation an incident concerns: why,
// whether it sees the incident in its portal, and whom to contact.
type IncidentRecipient struct {
	OrgID    int64    `json:"org_id"`
	Org      string   `json:"org"`
	Why      []string `json:"why"`
	Portal   bool     `json:"portal"`   // its constituents see the incident
	Contacts []string `json:"contacts"` // abuse contacts, else all
	Channel  string   `json:"channel,omitempty"`
	Policy   string   `json:"policy"` // "set" or "default"
}

// staffOnly refuses callers who are not the team's staff.
func staffOnly(ctx context.Context, what string) error {
	if _, all := focal.OrgScope(focal.PrincipalFromContext(ctx)); !all {
		return focal.Errorf(focal.EFORBIDDEN, "who receives %s is for the team's staff", what)
	}
	return nil
}

// Event returns the organisations event e concerns now (by the current
// lookup table t), each with its policy's decision.
func Event(ctx context.Context, st *store.Store, t *lookup.Table, e *focal.Event) ([]Recipient, error) {
	if err := staffOnly(ctx, "an event"); err != nil {
		return nil, err
	}
	out := []Recipient{}
	index := map[int64]int{}
	for _, rs := range pipeline.Explain(t, e) {
		if i, ok := index[rs.OrgID]; ok {
			out[i].Matched = append(out[i].Matched, rs.How)
			continue
		}
		o, err := st.Organisation(ctx, rs.OrgID)
		if err != nil {
			return nil, err
		}
		rb := Recipient{OrgID: rs.OrgID, Org: o.Name, Matched: []string{rs.How}}
		if err := decide(ctx, st, o, e, &rb); err != nil {
			return nil, err
		}
		index[rs.OrgID] = len(out)
		out = append(out, rb)
	}
	return out, nil
}

// Feed returns the organisations with events of feed feedID last seen
// since the given time (at most 1,000, most events first), each with
// what its policy makes of its newest event of the feed.
func Feed(ctx context.Context, st *store.Store, t *lookup.Table, feedID int64, since time.Time) ([]FeedRecipient, error) {
	if err := staffOnly(ctx, "a feed's events"); err != nil {
		return nil, err
	}
	orgs, err := st.FeedOrganisations(ctx, feedID, since, 1000)
	if err != nil {
		return nil, err
	}
	out := []FeedRecipient{}
	for _, fo := range orgs {
		e, err := st.Event(ctx, fo.Newest)
		if err != nil {
			return nil, err
		}
		o, err := st.Organisation(ctx, fo.OrgID)
		if err != nil {
			return nil, err
		}
		rb := Recipient{OrgID: o.ID, Org: o.Name}
		for _, rs := range pipeline.Explain(t, e) {
			if rs.OrgID == o.ID {
				rb.Matched = append(rb.Matched, rs.How)
			}
		}
		if err := decide(ctx, st, o, e, &rb); err != nil {
			return nil, err
		}
		out = append(out, FeedRecipient{Recipient: rb, Events: fo.Events})
	}
	return out, nil
}

// Incident returns the organisations incident inc concerns: its affected
// organisation and those owning its observables (by t).
func Incident(ctx context.Context, st *store.Store, t *lookup.Table, inc *focal.Incident) ([]IncidentRecipient, error) {
	if err := staffOnly(ctx, "an incident"); err != nil {
		return nil, err
	}
	obs, err := st.Observables(ctx, inc.ID)
	if err != nil {
		return nil, err
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
	if t != nil {
		for _, m := range t.MatchObservables(obs) {
			note(m.OrgID, "it owns "+strings.Join(m.Matched, ", "))
		}
	}
	out := []IncidentRecipient{}
	for _, orgID := range order {
		o, err := st.Organisation(ctx, orgID)
		if err != nil {
			return nil, err
		}
		rb := IncidentRecipient{OrgID: o.ID, Org: o.Name, Why: why[orgID], Portal: orgID == inc.OrgID && inc.TLP != focal.TLPRed}
		pol, source, err := policyOf(ctx, st, o)
		if err != nil {
			return nil, err
		}
		rb.Policy, rb.Channel, rb.Contacts = source, pol.Channel, pol.Recipients
		if rb.Contacts == nil {
			rb.Contacts = []string{}
		}
		out = append(out, rb)
	}
	return out, nil
}

// policyOf returns o's notification policy: the one set ("set"), or the
// default derived from its contacts ("default").
func policyOf(ctx context.Context, st *store.Store, o *focal.Organisation) (*notify.Policy, string, error) {
	pol, err := st.NotifyPolicy(ctx, o.ID)
	switch {
	case err == nil:
		return pol, "set", nil
	case focal.ErrorCode(err) == focal.ENOTFOUND:
		def := notify.PolicyFor(o)
		return &def, "default", nil
	}
	return nil, "", err
}

// decide fills in what o's notification policy makes of event e.
func decide(ctx context.Context, st *store.Store, o *focal.Organisation, e *focal.Event, rb *Recipient) error {
	pol, source, err := policyOf(ctx, st, o)
	if err != nil {
		return err
	}
	rb.Policy = source
	if source == "default" {
		if verr := pol.Validate(); verr != nil {
			rb.Reason = "no usable policy: " + verr.Error()
			return nil
		}
	}
	rb.Notify, rb.Reason = pol.Wants(e)
	if rb.Notify {
		// The one TLP rule for data leaving the node, as the notifier
		// applies it.
		if ok, why := focal.ReleaseDecision(focal.Release{TLP: e.TLP, OrgID: o.ID},
			focal.Recipient{Kind: focal.RecipientOrganisation, ID: o.ID, Name: o.Name}); !ok {
			rb.Notify, rb.Reason = false, why
		}
	}
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
