package restapi

import (
	"net/http"
	"net/url"

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
		pol, err := a.Store.NotifyPolicy(r.Context(), o.ID)
		switch {
		case err == nil:
			rb.Policy = "set"
		case focal.ErrorCode(err) == focal.ENOTFOUND:
			def := notify.PolicyFor(o)
			pol, rb.Policy = &def, "default"
			if verr := pol.Validate(); verr != nil {
				rb.Reason = "no usable policy: " + verr.Error()
				index[rs.OrgID] = len(out)
				out = append(out, rb)
				continue
			}
		default:
			a.Error(w, r, err)
			return
		}
		rb.Notify, rb.Reason = pol.Wants(e)
		rb.Channel, rb.Schedule = pol.Channel, pol.Schedule
		if pol.Channel == notify.ChannelWebhook {
			rb.Recipients = []string{hostOf(pol.WebhookURL)}
		} else {
			rb.Recipients = pol.Recipients
		}
		index[rs.OrgID] = len(out)
		out = append(out, rb)
	}
	a.writeJSON(w, http.StatusOK, struct {
		EventID    int64           `json:"event_id"`
		Recipients []recipientBody `json:"recipients"`
	}{e.ID, out})
}

// hostOf returns a URL's host, so a webhook's secret path or query is
// not shown.
func hostOf(raw string) string {
	if u, err := url.Parse(raw); err == nil {
		return u.Host
	}
	return ""
}
