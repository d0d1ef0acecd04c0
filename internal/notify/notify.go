// Package notify builds and delivers the notifications focal sends to the
// organisations of its constituency about events seen in their networks.
//
// The pieces, each usable on its own:
//
//   - Policy says what an organisation wants: RSIT classes, feeds, a
//     minimum confidence, a TLP ceiling, the channel (e-mail digest,
//     immediate e-mail for critical classes, webhook), the schedule, the
//     language, the format (human text with a CSV attachment, or one XARF
//     v4 JSON report per event), the recipients and their OpenPGP key.
//     Policy.Wants is the filter, with a reason for "who will receive this"
//     previews.
//   - Build turns one organisation's events of one period into e-mail
//     messages: TLP label in the subject and at the top of the body,
//     a summary per class and type, the attachments, split into numbered
//     parts under a size cap, optionally signed (PGP/MIME, RFC 3156) with
//     the team key and encrypted to the recipients' key.
//   - Sender delivers a Message through an SMTP relay, with a per-domain
//     rate limit and retries of temporary failures.
//   - BuildPayload and PostWebhook do the same for webhooks: a JSON body
//     signed with HMAC-SHA256.
//
// The package does no storage and no scheduling: its caller picks the
// events and policies, marks what was sent (Message.EventIDs) and alerts
// the coordinator when Send or PostWebhook gives up.
//
// TLP. TLP:RED events are never sent by this package, whatever the policy.
// TLP:AMBER+STRICT events go only to the organisation's own recipients,
// which are the only recipients a Policy has. Unlabelled events are
// treated as TLP:AMBER.
package notify

import (
	"crypto/rand"
	"fmt"
	"strings"
	"time"

	"focal/internal/focal"
)

// DefaultMaxMessageSize caps the size of one built message when
// Team.MaxMessageSize is 0. Many relays refuse messages over 10 MB; the
// cap leaves room for what relays add.
const DefaultMaxMessageSize = 5 << 20

// Org is the organisation a notification is for.
type Org struct {
	ID   int64
	Name string
}

// OrgOf returns the Org of a registry organisation.
func OrgOf(o *focal.Organisation) Org { return Org{ID: o.ID, Name: o.Name} }

// Team is the sending team (the CIRT) and the settings of the messages it
// builds. Name and Email are required.
type Team struct {
	Name    string // e.g. "CERT-XX"; shown in From, the body and XARF reporter.org
	Email   string // bare address: From, envelope sender, XARF reporter.contact
	ReplyTo string // optional bare address for replies
	Website string // optional, shown in the body
	// Signer, when set, signs every message (PGP/MIME).
	Signer *Signer
	// Templates, when set, replace the embedded templates (see LoadTemplates).
	Templates *Templates
	// MaxMessageSize caps one message in bytes, encoded and after
	// encryption; 0 means DefaultMaxMessageSize. A digest over the cap is
	// split into parts.
	MaxMessageSize int
}

func (t *Team) validate() error {
	if strings.TrimSpace(t.Name) == "" {
		return focal.FieldErrorf("team.name", "required")
	}
	if err := focal.ValidateEmail(t.Email); err != nil {
		return focal.FieldErrorf("team.email", "%v", err)
	}
	if t.ReplyTo != "" {
		if err := focal.ValidateEmail(t.ReplyTo); err != nil {
			return focal.FieldErrorf("team.reply_to", "%v", err)
		}
	}
	return nil
}

// domain returns the domain of the team's address.
func (t *Team) domain() string {
	_, d, _ := strings.Cut(t.Email, "@")
	return strings.ToLower(d)
}

// Message is one built e-mail, ready for Sender.Send.
type Message struct {
	// Reference is unique per message, e.g. "FOCAL-N-20260102-K3M9QX2A";
	// the parts of a split digest add "-1", "-2", … to the digest's.
	Reference string
	Digest    string // the reference shared by the parts of one digest
	OrgID     int64
	From      string   // envelope sender, a bare address
	To        []string // envelope recipients, bare addresses
	Subject   string
	TLP       focal.TLP // the highest label of the message's events
	Part      int       // 1-based
	Parts     int
	EventIDs  []int64 // the events in this message, in order
	Signed    bool
	Encrypted bool
	Raw       []byte // the RFC 5322 message, CRLF line endings
}

// newReference returns a fresh digest reference for the day of now.
func newReference(now time.Time) string {
	return fmt.Sprintf("FOCAL-N-%s-%s", now.UTC().Format("20060102"), rand.Text()[:8])
}

// effectiveTLP returns the label an event is handled under: unlabelled
// events are AMBER.
func effectiveTLP(t focal.TLP) focal.TLP {
	if t == "" {
		return focal.TLPAmber
	}
	return t
}
