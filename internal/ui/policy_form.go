package ui

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"focal/internal/focal"
	"focal/internal/notify"
)

// policyForm is an organisation's notification policy as typed: lists
// one item per line, so a refused form comes back as it was.
type policyForm struct {
	Channel       string
	Schedule      string
	Language      string
	Format        string
	MaxTLP        string
	MinConfidence string
	Classes       string
	Feeds         string
	Immediate     string
	Recipients    string
	RecipientKey  string
	WebhookURL    string
	SecretSet     bool // a webhook secret is stored; an empty field keeps it
}

// policyFormPage is the data of the notification policy form.
type policyFormPage struct {
	base
	OrgID     int64
	OrgName   string
	Source    string // "set" or "default"
	Form      policyForm
	Err       *fieldError
	Channels  []string
	Schedules []string
	Formats   []string
	TLPs      []focal.TLP
}

// ErrorFor returns the error message about field, or "".
func (p policyFormPage) ErrorFor(field string) string {
	if p.Err != nil && p.Err.Field == field {
		return p.Err.Message
	}
	return ""
}

func policyToForm(p *notify.Policy) policyForm {
	return policyForm{
		Channel: p.Channel, Schedule: p.Schedule, Language: p.Language, Format: p.Format, MaxTLP: string(p.MaxTLP),
		MinConfidence: strconv.Itoa(p.MinConfidence),
		Classes:       strings.Join(p.Classes, "\n"), Feeds: strings.Join(p.Feeds, "\n"), Immediate: strings.Join(p.Immediate, "\n"),
		Recipients: strings.Join(p.Recipients, "\n"), RecipientKey: p.RecipientKey, WebhookURL: p.WebhookURL,
		SecretSet: p.WebhookSecret != "",
	}
}

func (h *handlers) policyPage(r *http.Request, o *focal.Organisation, source string, f policyForm) policyFormPage {
	return policyFormPage{
		base: h.base(r, "Notification policy of "+o.Name), OrgID: o.ID, OrgName: o.Name, Source: source, Form: f,
		Channels:  []string{notify.ChannelDigest, notify.ChannelImmediate, notify.ChannelWebhook},
		Schedules: []string{notify.ScheduleImmediate, notify.ScheduleHourly, notify.ScheduleDaily, notify.ScheduleNone},
		Formats:   []string{notify.FormatText, notify.FormatXARF},
		TLPs:      []focal.TLP{focal.TLPClear, focal.TLPGreen, focal.TLPAmber, focal.TLPAmberStrict},
	}
}

// currentPolicy returns organisation o's policy: the one set, or the
// default derived from its contacts.
func (h *handlers) currentPolicy(r *http.Request, o *focal.Organisation) (*notify.Policy, string, error) {
	p, err := h.store.NotifyPolicy(r.Context(), o.ID)
	switch {
	case err == nil:
		return p, "set", nil
	case focal.ErrorCode(err) == focal.ENOTFOUND:
		def := notify.PolicyFor(o)
		_ = def.Validate() // fills defaults; an unusable default still shows what it is
		return &def, "default", nil
	}
	return nil, "", err
}

// policyEdit serves GET /organisations/{id}/notify-policy: the policy
// form, filled with the stored policy or the default.
func (h *handlers) policyEdit(w http.ResponseWriter, r *http.Request) {
	id, err := h.ownContactsID(r)
	if err != nil {
		h.error(w, r, err)
		return
	}
	o, err := h.store.Organisation(r.Context(), id)
	if err != nil {
		h.error(w, r, err)
		return
	}
	p, source, err := h.currentPolicy(r, o)
	if err != nil {
		h.error(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, "policy_form", h.policyPage(r, o, source, policyToForm(p)))
}

// policyUpdate serves POST /organisations/{id}/notify-policy: it stores
// the policy, validated (addresses, PGP keys, webhook), or shows the form
// again with the error next to its field. An empty webhook secret keeps
// the stored one; secrets are never shown back.
func (h *handlers) policyUpdate(w http.ResponseWriter, r *http.Request) {
	id, err := h.ownContactsID(r)
	if err != nil {
		h.error(w, r, err)
		return
	}
	o, err := h.store.Organisation(r.Context(), id)
	if err != nil {
		h.error(w, r, err)
		return
	}
	if err := parseForm(r); err != nil {
		h.error(w, r, err)
		return
	}
	v := r.PostForm
	f := policyForm{
		Channel: v.Get("channel"), Schedule: v.Get("schedule"), Language: v.Get("language"), Format: v.Get("format"),
		MaxTLP: v.Get("max_tlp"), MinConfidence: v.Get("min_confidence"), Classes: v.Get("classes"), Feeds: v.Get("feeds"),
		Immediate: v.Get("immediate"), Recipients: v.Get("recipients"), RecipientKey: v.Get("recipient_key"), WebhookURL: v.Get("webhook_url"),
	}
	page := h.policyPage(r, o, "set", f)
	p := notify.Policy{
		Channel: f.Channel, Schedule: f.Schedule, Language: f.Language, Format: f.Format, MaxTLP: focal.TLP(f.MaxTLP),
		Classes: textList(f.Classes), Feeds: textList(f.Feeds), Immediate: textList(f.Immediate), Recipients: textList(f.Recipients),
		RecipientKey: strings.ReplaceAll(f.RecipientKey, "\r\n", "\n"), WebhookURL: f.WebhookURL, WebhookSecret: v.Get("webhook_secret"),
	}
	if s := strings.TrimSpace(f.MinConfidence); s != "" {
		if p.MinConfidence, err = strconv.Atoi(s); err != nil {
			err = focal.FieldErrorf("min_confidence", "want a number from 0 to 100, got %q", s)
		}
	}
	if err == nil && p.WebhookSecret == "" {
		if cur, cerr := h.store.NotifyPolicy(r.Context(), id); cerr == nil {
			p.WebhookSecret = cur.WebhookSecret
			page.Form.SecretSet = cur.WebhookSecret != ""
		}
	}
	if err == nil {
		err = h.store.SetNotifyPolicy(r.Context(), id, &p)
	}
	if err != nil {
		var fe *focal.Error
		if !errors.As(err, &fe) || fe.Code != focal.EINVALID {
			h.error(w, r, err)
			return
		}
		field, _, _ := splitField(fe.Field)
		page.Err = &fieldError{Field: field, Label: policyLabel(field), Message: fe.Message}
		h.render(w, r, http.StatusBadRequest, "policy_form", page)
		return
	}
	redirect(w, r, withNotice("/organisations/"+strconv.FormatInt(id, 10), "saved"))
}

// textList splits a textarea into its non-empty trimmed lines.
func textList(s string) []string {
	var out []string
	for _, l := range lines(s) {
		out = append(out, l.text)
	}
	return out
}

// policyLabel names a policy field for people.
func policyLabel(field string) string {
	labels := map[string]string{
		"channel": "Channel", "schedule": "Schedule", "language": "Language", "format": "Format", "max_tlp": "TLP ceiling",
		"min_confidence": "Minimum confidence", "classes": "Classes", "feeds": "Feeds", "immediate": "Sent at once",
		"recipients": "Recipients", "recipient_key": "Recipients' OpenPGP keys", "webhook_url": "Webhook URL", "webhook_secret": "Webhook secret",
	}
	if l, ok := labels[field]; ok {
		return l
	}
	return field
}
