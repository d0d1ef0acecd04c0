package restapi

import (
	"net/http"

	"focal/internal/focal"
	"focal/internal/notify"
)

// policyBody is an organisation's notification policy as the API shows
// it: where it comes from ("set" by a coordinator, or the "default"
// derived from the organisation's contacts) and the policy, its webhook
// secret never shown.
type policyBody struct {
	OrgID  int64         `json:"org_id"`
	Source string        `json:"source"`
	Policy notify.Policy `json:"policy"`
}

func redacted(p notify.Policy) notify.Policy {
	if p.WebhookSecret != "" {
		p.WebhookSecret = "(set)"
	}
	return p
}

// getNotifyPolicy serves GET /api/v1/organisations/{id}/notify-policy.
func (a *API) getNotifyPolicy(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	o, err := a.Store.Organisation(r.Context(), id)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	p, err := a.Store.NotifyPolicy(r.Context(), id)
	switch {
	case err == nil:
		a.writeJSON(w, http.StatusOK, policyBody{OrgID: id, Source: "set", Policy: redacted(*p)})
	case focal.ErrorCode(err) == focal.ENOTFOUND:
		def := notify.PolicyFor(o)
		_ = def.Validate() // fills defaults; an unusable default still shows what it is
		a.writeJSON(w, http.StatusOK, policyBody{OrgID: id, Source: "default", Policy: redacted(def)})
	default:
		a.Error(w, r, err)
	}
}

// putNotifyPolicy serves PUT /api/v1/organisations/{id}/notify-policy:
// coordinators set an organisation's policy, validated (addresses, PGP
// key, webhook URL) with the field named in any error.
func (a *API) putNotifyPolicy(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	var p notify.Policy
	if err := decode(r, &p); err != nil {
		a.Error(w, r, err)
		return
	}
	if err := a.Store.SetNotifyPolicy(r.Context(), id, &p); err != nil {
		a.Error(w, r, err)
		return
	}
	a.writeJSON(w, http.StatusOK, policyBody{OrgID: id, Source: "set", Policy: redacted(p)})
}
