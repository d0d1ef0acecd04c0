package notify

import (
	"fmt"
	"net/mail"
	"net/url"
	"slices"
	"strings"
	"time"

	"focal/internal/focal"
)

// Channels.
const (
	ChannelDigest    = "email-digest"    // e-mail on the policy's schedule
	ChannelImmediate = "email-immediate" // e-mail at once for Policy.Immediate classes, the rest on the schedule
	ChannelWebhook   = "webhook"         // JSON POSTed to Policy.WebhookURL
)

// Schedules.
const (
	ScheduleImmediate = "immediate"
	ScheduleHourly    = "hourly"
	ScheduleDaily     = "daily"
	ScheduleNone      = "none" // the organisation receives nothing
)

// Formats.
const (
	FormatText = "text" // human text with a CSV attachment
	FormatXARF = "xarf" // human text with one XARF v4 JSON attachment per event
)

// Limits of a policy.
const (
	MaxRecipients      = 50
	MinWebhookSecret   = 16 // bytes
	defaultLanguage    = "en"
	maxLanguageTagSize = 35
)

var (
	channels  = []string{ChannelDigest, ChannelImmediate, ChannelWebhook}
	schedules = []string{ScheduleImmediate, ScheduleHourly, ScheduleDaily, ScheduleNone}
	formats   = []string{FormatText, FormatXARF}
)

// Policy is an organisation's notification policy. Validate normalises it
// and fills defaults; Wants filters events with it. The zero value, once
// validated, is a daily e-mail digest in English of every event up to
// TLP:AMBER+STRICT — and fails validation for want of recipients.
type Policy struct {
	// Classes are RSIT classes ("malicious-code") or class/type pairs
	// ("malicious-code/c2-server") the organisation wants; empty means all
	// except the restricted ones (abusive-content/violence and
	// abusive-content/harmful-speech), which must be listed to be sent.
	Classes []string `json:"classes,omitempty"`
	// Feeds are the feed names wanted; empty means all.
	Feeds []string `json:"feeds,omitempty"`
	// MinConfidence drops events below it (0–100).
	MinConfidence int `json:"min_confidence,omitempty"`
	// MaxTLP is the TLP ceiling: events labelled above it are not sent.
	// TLP:RED is never sent; "" means TLP:AMBER+STRICT.
	MaxTLP focal.TLP `json:"max_tlp,omitempty"`
	// Channel is one of the Channel* constants; "" means email-digest.
	Channel string `json:"channel,omitempty"`
	// Immediate lists the classes or class/type pairs an email-immediate
	// policy sends at once.
	Immediate []string `json:"immediate,omitempty"`
	// Schedule is one of the Schedule* constants; "" means daily.
	Schedule string `json:"schedule,omitempty"`
	// Language is a BCP 47 tag; its primary subtag picks the templates
	// ("fr-BE" uses fr), English when there are none. "" means en.
	Language string `json:"language,omitempty"`
	// Format is FormatText or FormatXARF; "" means text.
	Format string `json:"format,omitempty"`
	// Recipients are e-mail addresses, optionally with a display name.
	Recipients []string `json:"recipients,omitempty"`
	// RecipientKey is one or more ASCII-armoured OpenPGP public keys;
	// when set, messages are encrypted to them.
	RecipientKey string `json:"recipient_key,omitempty"`
	// WebhookURL is an https URL, required by the webhook channel.
	WebhookURL string `json:"webhook_url,omitempty"`
	// WebhookSecret keys the HMAC-SHA256 signature of webhook bodies. It
	// is a secret: never show it back to users or log it.
	WebhookSecret string `json:"webhook_secret,omitempty"`
}

// PolicyFor returns the default policy of a registry organisation: a
// digest on its schedule to its abuse contacts (all its contacts when it
// has no abuse contact), in its language, encrypted when it asks for
// encryption and every recipient has a key. Validate it before use.
func PolicyFor(o *focal.Organisation) Policy {
	p := Policy{
		Channel:  ChannelDigest,
		Schedule: o.Notify.Schedule,
		Language: o.Notify.Language,
		Format:   FormatText,
	}
	var cs []focal.Contact
	for _, c := range o.Contacts {
		if c.Role == "abuse" {
			cs = append(cs, c)
		}
	}
	if len(cs) == 0 {
		cs = o.Contacts
	}
	keys := make([]string, 0, len(cs))
	for _, c := range cs {
		p.Recipients = append(p.Recipients, c.Email)
		if p.Language == "" {
			p.Language = c.Language
		}
		if c.PGPKey != "" {
			keys = append(keys, strings.TrimSpace(c.PGPKey))
		}
	}
	if o.Notify.Encrypt && len(cs) > 0 && len(keys) == len(cs) {
		p.RecipientKey = strings.Join(keys, "\n")
	}
	return p
}

// Validate normalises p (trims, lower-cases machine values, fills the
// defaults) and checks it. It returns an EINVALID *focal.Error naming the
// first wrong field, e.g. "recipients[1]" or "recipient_key", with the
// reason.
func (p *Policy) Validate() error {
	_, err := p.validate(time.Now())
	return err
}

// validate is Validate at a given time; it returns the parsed recipient
// keys.
func (p *Policy) validate(now time.Time) (recipientKeys, error) {
	p.normalize()
	for i, c := range p.Classes {
		if err := validateClass(c); err != nil {
			return nil, focal.FieldErrorf(fmt.Sprintf("classes[%d]", i), "%v", err)
		}
	}
	for i, f := range p.Feeds {
		if f == "" || len(f) > 64 {
			return nil, focal.FieldErrorf(fmt.Sprintf("feeds[%d]", i), "want a feed name of 1 to 64 characters")
		}
	}
	if p.MinConfidence < 0 || p.MinConfidence > 100 {
		return nil, focal.FieldErrorf("min_confidence", "want 0 to 100, got %d", p.MinConfidence)
	}
	t, err := focal.ParseTLP(string(p.MaxTLP))
	if err != nil {
		return nil, focal.FieldErrorf("max_tlp", "unknown TLP label %q: want CLEAR, GREEN, AMBER or AMBER+STRICT", p.MaxTLP)
	}
	if t == focal.TLPRed {
		return nil, focal.FieldErrorf("max_tlp", "TLP:RED is never sent in notifications (it is for named individuals only); the highest ceiling is TLP:AMBER+STRICT")
	}
	p.MaxTLP = t
	if !slices.Contains(channels, p.Channel) {
		return nil, focal.FieldErrorf("channel", "unknown channel %q: want %s", p.Channel, strings.Join(channels, ", "))
	}
	if p.Channel == ChannelImmediate && len(p.Immediate) == 0 {
		return nil, focal.FieldErrorf("immediate", "the email-immediate channel needs the critical classes to send at once")
	}
	for i, c := range p.Immediate {
		if err := validateClass(c); err != nil {
			return nil, focal.FieldErrorf(fmt.Sprintf("immediate[%d]", i), "%v", err)
		}
	}
	if !slices.Contains(schedules, p.Schedule) {
		return nil, focal.FieldErrorf("schedule", "unknown schedule %q: want %s", p.Schedule, strings.Join(schedules, ", "))
	}
	if !validLanguage(p.Language) {
		return nil, focal.FieldErrorf("language", "want a language tag such as en or fr-BE, got %q", p.Language)
	}
	if !slices.Contains(formats, p.Format) {
		return nil, focal.FieldErrorf("format", "unknown format %q: want %s", p.Format, strings.Join(formats, ", "))
	}
	if err := p.validateRecipients(); err != nil {
		return nil, err
	}
	var keys recipientKeys
	if p.RecipientKey != "" {
		keys, err = parseRecipientKeys(p.RecipientKey, now)
		if err != nil {
			return nil, focal.FieldErrorf("recipient_key", "%v", err)
		}
	}
	if p.Channel == ChannelWebhook || p.WebhookURL != "" {
		if err := validateWebhookURL(p.WebhookURL); err != nil {
			return nil, focal.FieldErrorf("webhook_url", "%v", err)
		}
		if len(p.WebhookSecret) < MinWebhookSecret {
			return nil, focal.FieldErrorf("webhook_secret", "want a secret of at least %d characters", MinWebhookSecret)
		}
	}
	return keys, nil
}

func (p *Policy) normalize() {
	trimAll := func(ss []string) {
		for i, s := range ss {
			ss[i] = strings.ToLower(strings.TrimSpace(s))
		}
	}
	trimAll(p.Classes)
	trimAll(p.Feeds)
	trimAll(p.Immediate)
	p.Channel = strings.ToLower(strings.TrimSpace(p.Channel))
	if p.Channel == "" {
		p.Channel = ChannelDigest
	}
	p.Schedule = strings.ToLower(strings.TrimSpace(p.Schedule))
	if p.Schedule == "" {
		p.Schedule = ScheduleDaily
	}
	p.Language = strings.TrimSpace(p.Language)
	if p.Language == "" {
		p.Language = defaultLanguage
	}
	p.Format = strings.ToLower(strings.TrimSpace(p.Format))
	if p.Format == "" {
		p.Format = FormatText
	}
	if strings.TrimSpace(string(p.MaxTLP)) == "" {
		p.MaxTLP = focal.TLPAmberStrict
	}
	for i, r := range p.Recipients {
		p.Recipients[i] = strings.TrimSpace(r)
	}
	p.RecipientKey = strings.TrimSpace(p.RecipientKey)
	p.WebhookURL = strings.TrimSpace(p.WebhookURL)
}

func (p *Policy) validateRecipients() error {
	email := p.Channel == ChannelDigest || p.Channel == ChannelImmediate
	if email && len(p.Recipients) == 0 {
		return focal.FieldErrorf("recipients", "an e-mail channel needs at least one recipient")
	}
	if len(p.Recipients) > MaxRecipients {
		return focal.FieldErrorf("recipients", "at most %d recipients, got %d", MaxRecipients, len(p.Recipients))
	}
	seen := make(map[string]bool, len(p.Recipients))
	for i, r := range p.Recipients {
		f := fmt.Sprintf("recipients[%d]", i)
		a, err := mail.ParseAddress(r)
		if err != nil {
			return focal.FieldErrorf(f, "%q is not an e-mail address: %s", r, strings.TrimPrefix(err.Error(), "mail: "))
		}
		_, domain, _ := strings.Cut(a.Address, "@")
		if err := focal.ValidateDomain(strings.ToLower(domain)); err != nil {
			return focal.FieldErrorf(f, "%q is not a deliverable address: %v", r, err)
		}
		key := strings.ToLower(a.Address)
		if seen[key] {
			return focal.FieldErrorf(f, "%s is listed twice", a.Address)
		}
		seen[key] = true
	}
	return nil
}

func validateClass(c string) error {
	class, typ, _ := strings.Cut(c, "/")
	if _, _, ok := focal.LookupRSIT(class, ""); !ok {
		return fmt.Errorf("unknown RSIT class %q", class)
	}
	if _, _, ok := focal.LookupRSIT(class, typ); !ok {
		return fmt.Errorf("%q is not a type of RSIT class %q", typ, class)
	}
	return nil
}

func validLanguage(l string) bool {
	if l == "" || len(l) > maxLanguageTagSize {
		return false
	}
	for _, sub := range strings.Split(l, "-") {
		if sub == "" || len(sub) > 8 {
			return false
		}
		for _, r := range sub {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
				return false
			}
		}
	}
	return true
}

func validateWebhookURL(s string) error {
	if s == "" {
		return fmt.Errorf("the webhook channel needs a URL")
	}
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("not a URL")
	}
	switch {
	case u.Scheme != "https":
		return fmt.Errorf("want an https URL, got scheme %q", u.Scheme)
	case u.Host == "" || u.Hostname() == "":
		return fmt.Errorf("the URL has no host")
	case u.User != nil:
		return fmt.Errorf("put no credentials in the URL; the body is signed with the webhook secret")
	case u.Fragment != "":
		return fmt.Errorf("the URL has a fragment")
	}
	return nil
}

// baseLanguage returns the primary subtag of a language tag, lower case.
func baseLanguage(tag string) string {
	b, _, _ := strings.Cut(tag, "-")
	return strings.ToLower(b)
}

// matchesClass reports whether an event's class and type match one of
// list's class or class/type entries.
func matchesClass(list []string, class, typ string) bool {
	for _, c := range list {
		lc, lt, hasType := strings.Cut(c, "/")
		if lc == class && (!hasType || lt == typ) {
			return true
		}
	}
	return false
}

// Wants reports whether the policy sends e, with the reason: why it is
// sent or which rule keeps it back. Call it on a validated policy.
func (p *Policy) Wants(e *focal.Event) (bool, string) { return p.decide(e, true) }

// decide is Wants; the reason is only written when explain is set.
func (p *Policy) decide(e *focal.Event, explain bool) (bool, string) {
	no := func(format string, args ...any) (bool, string) {
		if !explain {
			return false, ""
		}
		return false, fmt.Sprintf(format, args...)
	}
	if e == nil {
		return no("no event")
	}
	if p.Schedule == ScheduleNone {
		return no("the organisation receives no notifications (schedule none)")
	}
	t := effectiveTLP(e.TLP)
	switch {
	case t.Rank() < 0:
		return no("unknown TLP label %q: not sent", string(e.TLP))
	case t == focal.TLPRed:
		return no("TLP:RED is never sent in notifications")
	case t.Rank() > effectiveCeiling(p.MaxTLP).Rank():
		return no("%s is above the policy's ceiling %s", t, effectiveCeiling(p.MaxTLP))
	}
	restricted := focal.Classification{Class: e.Class, Type: e.Type}.Restricted()
	switch {
	case len(p.Classes) > 0 && !matchesClass(p.Classes, e.Class, e.Type):
		return no("class %s/%s is not among the policy's classes", e.Class, e.Type)
	case len(p.Classes) == 0 && restricted:
		return no("%s/%s is a restricted category, sent only when the policy lists it", e.Class, e.Type)
	}
	if len(p.Feeds) > 0 && !slices.Contains(p.Feeds, e.Feed) {
		return no("feed %s is not among the policy's feeds", e.Feed)
	}
	if e.Confidence < p.MinConfidence {
		return no("confidence %d is below the policy's minimum %d", e.Confidence, p.MinConfidence)
	}
	if !explain {
		return true, ""
	}
	how := p.Schedule + " " + p.Channel
	if p.Channel == ChannelImmediate {
		if p.IsImmediate(e) {
			how = "immediate e-mail"
		} else {
			how = p.Schedule + " e-mail digest"
		}
	}
	return true, fmt.Sprintf("sent (%s): %s/%s from %s, %s, confidence %d", how, e.Class, e.Type, e.Feed, t, e.Confidence)
}

// IsImmediate reports whether an email-immediate policy sends e at once
// rather than in the scheduled digest. It does not apply Wants.
func (p *Policy) IsImmediate(e *focal.Event) bool {
	if p.Channel != ChannelImmediate {
		return p.Schedule == ScheduleImmediate
	}
	return p.Schedule == ScheduleImmediate || matchesClass(p.Immediate, e.Class, e.Type)
}

// Interval returns the period of the policy's digest: 0 for immediate,
// an hour, or a day; and -1 for none.
func (p *Policy) Interval() time.Duration {
	switch p.Schedule {
	case ScheduleImmediate:
		return 0
	case ScheduleHourly:
		return time.Hour
	case ScheduleNone:
		return -1
	}
	return 24 * time.Hour
}

func effectiveCeiling(t focal.TLP) focal.TLP {
	if t == "" {
		return focal.TLPAmberStrict
	}
	return t
}
