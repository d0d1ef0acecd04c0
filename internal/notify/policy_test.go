package notify

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp/packet"

	"focal/internal/focal"
)

func TestPolicyValidate(t *testing.T) {
	now := time.Now()
	good := newKey(t, "abuse@telecom.example", keyConfig(now.Add(-time.Hour), 0))
	expired := newKey(t, "old@telecom.example", keyConfig(now.Add(-48*time.Hour), time.Hour))
	signOnly := newKey(t, "sign@telecom.example", keyConfig(now.Add(-time.Hour), 0))
	signOnly.Subkeys = nil
	revoked := newKey(t, "gone@telecom.example", keyConfig(now.Add(-time.Hour), 0))
	if err := revoked.RevokeKey(packet.KeyCompromised, "lost", keyConfig(now.Add(-time.Minute), 0)); err != nil {
		t.Fatal(err)
	}
	private := newKey(t, "priv@telecom.example", keyConfig(now.Add(-time.Hour), 0))

	tests := []struct {
		name      string
		edit      func(*Policy)
		wantField string // "" = valid
		wantMsg   string
	}{
		{"minimal", func(*Policy) {}, "", ""},
		{"display-name", func(p *Policy) { p.Recipients = []string{"Abuse Desk <abuse@telecom.example>"} }, "", ""},
		{"bad-address", func(p *Policy) { p.Recipients = []string{"abuse@telecom.example", "not an address"} }, "recipients[1]", "is not an e-mail address"},
		{"no-at", func(p *Policy) { p.Recipients = []string{"abuse.telecom.example"} }, "recipients[0]", "missing '@'"},
		{"single-label-domain", func(p *Policy) { p.Recipients = []string{"root@localhost"} }, "recipients[0]", "not a deliverable address"},
		{"duplicate", func(p *Policy) { p.Recipients = []string{"a@telecom.example", "A <A@telecom.example>"} }, "recipients[1]", "listed twice"},
		{"no-recipients", func(p *Policy) { p.Recipients = nil }, "recipients", "at least one recipient"},
		{"unknown-class", func(p *Policy) { p.Classes = []string{"malware"} }, "classes[0]", "unknown RSIT class"},
		{"class-type", func(p *Policy) { p.Classes = []string{"Malicious-Code/C2-Server"} }, "", ""},
		{"bad-type", func(p *Policy) { p.Classes = []string{"malicious-code/scanner"} }, "classes[0]", "is not a type"},
		{"confidence", func(p *Policy) { p.MinConfidence = 101 }, "min_confidence", "0 to 100"},
		{"tlp-red", func(p *Policy) { p.MaxTLP = "red" }, "max_tlp", "never sent"},
		{"tlp-white", func(p *Policy) { p.MaxTLP = "WHITE" }, "", ""},
		{"tlp-unknown", func(p *Policy) { p.MaxTLP = "PURPLE" }, "max_tlp", "unknown TLP label"},
		{"channel", func(p *Policy) { p.Channel = "sms" }, "channel", "unknown channel"},
		{"immediate-without-classes", func(p *Policy) { p.Channel = ChannelImmediate }, "immediate", "critical classes"},
		{"immediate", func(p *Policy) {
			p.Channel = ChannelImmediate
			p.Immediate = []string{"intrusions"}
		}, "", ""},
		{"schedule", func(p *Policy) { p.Schedule = "weekly" }, "schedule", "unknown schedule"},
		{"format", func(p *Policy) { p.Format = "pdf" }, "format", "unknown format"},
		{"language", func(p *Policy) { p.Language = "fr BE" }, "language", "language tag"},
		{"language-region", func(p *Policy) { p.Language = "fr-BE" }, "", ""},
		{"webhook-http", func(p *Policy) {
			p.Channel = ChannelWebhook
			p.WebhookURL = "http://hooks.telecom.example/focal"
			p.WebhookSecret = strings.Repeat("s", 32)
		}, "webhook_url", "https"},
		{"webhook-credentials", func(p *Policy) {
			p.Channel = ChannelWebhook
			p.WebhookURL = "https://user:pw@hooks.telecom.example/focal"
			p.WebhookSecret = strings.Repeat("s", 32)
		}, "webhook_url", "no credentials"},
		{"webhook-no-url", func(p *Policy) { p.Channel = ChannelWebhook }, "webhook_url", "needs a URL"},
		{"webhook-short-secret", func(p *Policy) {
			p.Channel = ChannelWebhook
			p.WebhookURL = "https://hooks.telecom.example/focal"
			p.WebhookSecret = "short"
		}, "webhook_secret", "at least 16"},
		{"webhook", func(p *Policy) {
			p.Channel = ChannelWebhook
			p.Recipients = nil
			p.WebhookURL = "https://hooks.telecom.example/focal?x=1"
			p.WebhookSecret = strings.Repeat("s", 32)
		}, "", ""},
		{"key-good", func(p *Policy) { p.RecipientKey = armorPublic(t, good) }, "", ""},
		{"key-two-blocks", func(p *Policy) { p.RecipientKey = armorPublic(t, good) + "\n" + armorPublic(t, good) }, "", ""},
		{"key-garbage", func(p *Policy) { p.RecipientKey = "ssh-ed25519 AAAA… me@host" }, "recipient_key", "not an ASCII-armoured"},
		{"key-broken", func(p *Policy) {
			p.RecipientKey = "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nbm90IGEga2V5\n-----END PGP PUBLIC KEY BLOCK-----\n"
		}, "recipient_key", "cannot read the key"},
		{"key-expired", func(p *Policy) { p.RecipientKey = armorPublic(t, expired) }, "recipient_key", "expired on"},
		{"key-sign-only", func(p *Policy) { p.RecipientKey = armorPublic(t, signOnly) }, "recipient_key", "no usable encryption key"},
		{"key-revoked", func(p *Policy) { p.RecipientKey = armorPublic(t, revoked) }, "recipient_key", "is revoked"},
		{"key-private", func(p *Policy) { p.RecipientKey = armorPrivate(t, private, "") }, "recipient_key", "private key"},
		{"key-second-block-bad", func(p *Policy) { p.RecipientKey = armorPublic(t, good) + armorPublic(t, expired) }, "recipient_key", "key block 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := testPolicy()
			tt.edit(&p)
			err := p.Validate()
			if tt.wantField == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			var fe *focal.Error
			if !errors.As(err, &fe) {
				t.Fatalf("Validate() = %v, want a *focal.Error on %s", err, tt.wantField)
			}
			if fe.Code != focal.EINVALID || fe.Field != tt.wantField {
				t.Errorf("Validate() = %s on %q, want %s on %q", fe.Code, fe.Field, focal.EINVALID, tt.wantField)
			}
			mustContain(t, "Validate()", fe.Message, tt.wantMsg)
		})
	}
}

func TestPolicyDefaults(t *testing.T) {
	p := testPolicy()
	p.Classes = []string{" Malicious-Code "}
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	if p.Channel != ChannelDigest || p.Schedule != ScheduleDaily || p.Language != "en" || p.Format != FormatText || p.MaxTLP != focal.TLPAmberStrict {
		t.Errorf("defaults = %q %q %q %q %q, want email-digest daily en text AMBER+STRICT", p.Channel, p.Schedule, p.Language, p.Format, p.MaxTLP)
	}
	if p.Classes[0] != "malicious-code" {
		t.Errorf("Classes[0] = %q, want malicious-code", p.Classes[0])
	}
}

func TestWants(t *testing.T) {
	ev := func(edit func(*focal.Event)) *focal.Event {
		e := testEvent(1, "malicious-code", "infected-system", focal.TLPAmber)
		if edit != nil {
			edit(e)
		}
		return e
	}
	tests := []struct {
		name   string
		policy func(*Policy)
		event  *focal.Event
		want   bool
		reason string
	}{
		{"all", nil, ev(nil), true, "sent (daily email-digest)"},
		{"red-never", nil, ev(func(e *focal.Event) { e.TLP = focal.TLPRed }), false, "TLP:RED is never sent"},
		{"red-never-even-if-policy-says", func(p *Policy) { p.MaxTLP = focal.TLPRed }, ev(func(e *focal.Event) { e.TLP = focal.TLPRed }), false, "TLP:RED is never sent"},
		{"amber-strict-own-org", nil, ev(func(e *focal.Event) { e.TLP = focal.TLPAmberStrict }), true, "TLP:AMBER+STRICT"},
		{"above-ceiling", func(p *Policy) { p.MaxTLP = focal.TLPGreen }, ev(nil), false, "TLP:AMBER is above the policy's ceiling TLP:GREEN"},
		{"unlabelled-is-amber", func(p *Policy) { p.MaxTLP = focal.TLPGreen }, ev(func(e *focal.Event) { e.TLP = "" }), false, "TLP:AMBER is above"},
		{"clear-under-green", func(p *Policy) { p.MaxTLP = focal.TLPGreen }, ev(func(e *focal.Event) { e.TLP = focal.TLPClear }), true, "sent"},
		{"unknown-label", nil, ev(func(e *focal.Event) { e.TLP = "PURPLE" }), false, "unknown TLP label"},
		{"class-in", func(p *Policy) { p.Classes = []string{"malicious-code"} }, ev(nil), true, "sent"},
		{"class-out", func(p *Policy) { p.Classes = []string{"vulnerable"} }, ev(nil), false, "not among the policy's classes"},
		{"class-type-in", func(p *Policy) { p.Classes = []string{"malicious-code/infected-system"} }, ev(nil), true, "sent"},
		{"class-type-out", func(p *Policy) { p.Classes = []string{"malicious-code/c2-server"} }, ev(nil), false, "not among"},
		{"restricted-needs-listing", nil, ev(func(e *focal.Event) { e.Class, e.Type = "abusive-content", "violence" }), false, "restricted category"},
		{"restricted-listed", func(p *Policy) { p.Classes = []string{"abusive-content/violence"} }, ev(func(e *focal.Event) { e.Class, e.Type = "abusive-content", "violence" }), true, "sent"},
		{"feed-in", func(p *Policy) { p.Feeds = []string{"shadowserver-sinkhole"} }, ev(nil), true, "sent"},
		{"feed-out", func(p *Policy) { p.Feeds = []string{"feodo"} }, ev(nil), false, "feed shadowserver-sinkhole is not among"},
		{"confidence-low", func(p *Policy) { p.MinConfidence = 90 }, ev(nil), false, "confidence 80 is below the policy's minimum 90"},
		{"confidence-equal", func(p *Policy) { p.MinConfidence = 80 }, ev(nil), true, "sent"},
		{"schedule-none", func(p *Policy) { p.Schedule = ScheduleNone }, ev(nil), false, "receives no notifications"},
		{"immediate-critical", func(p *Policy) {
			p.Channel = ChannelImmediate
			p.Immediate = []string{"malicious-code/infected-system"}
		}, ev(nil), true, "immediate e-mail"},
		{"immediate-other-in-digest", func(p *Policy) {
			p.Channel = ChannelImmediate
			p.Immediate = []string{"intrusions"}
		}, ev(nil), true, "daily e-mail digest"},
		{"nil", nil, nil, false, "no event"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := testPolicy()
			if tt.policy != nil {
				tt.policy(&p)
			}
			if tt.name != "red-never-even-if-policy-says" {
				if err := p.Validate(); err != nil {
					t.Fatal(err)
				}
			}
			got, reason := p.Wants(tt.event)
			if got != tt.want {
				t.Errorf("Wants() = %v (%s), want %v", got, reason, tt.want)
			}
			mustContain(t, "Wants() reason", reason, tt.reason)
		})
	}
}

func TestPolicyFor(t *testing.T) {
	key := armorPublic(t, newKey(t, "abuse@telecom.example", keyConfig(time.Now().Add(-time.Hour), 0)))
	o := &focal.Organisation{
		ID: 9, Name: "Example Telecom",
		Contacts: []focal.Contact{
			{Email: "noc@telecom.example", Role: "technical"},
			{Email: "abuse@telecom.example", Role: "abuse", Language: "fr", PGPKey: key},
		},
		Notify: focal.NotifyPrefs{Schedule: "hourly", Encrypt: true},
	}
	p := PolicyFor(o)
	if err := p.Validate(); err != nil {
		t.Fatalf("Validate(PolicyFor) = %v", err)
	}
	if len(p.Recipients) != 1 || p.Recipients[0] != "abuse@telecom.example" {
		t.Errorf("Recipients = %v, want the abuse contact only", p.Recipients)
	}
	if p.Language != "fr" || p.Schedule != ScheduleHourly || p.RecipientKey == "" {
		t.Errorf("PolicyFor = language %q schedule %q key set %v, want fr hourly true", p.Language, p.Schedule, p.RecipientKey != "")
	}
	if got := p.Interval(); got != time.Hour {
		t.Errorf("Interval() = %v, want 1h", got)
	}
}
