package focal

import "fmt"

// RecipientKind is what outbound data would be released to.
type RecipientKind string

// The kinds of recipient.
const (
	RecipientPeer         RecipientKind = "peer"         // another focal point
	RecipientOrganisation RecipientKind = "organisation" // a constituent organisation
	RecipientPublic       RecipientKind = "public"       // anyone: a public collection, page or feed
)

// Recipient is one party data may be released to. Ceiling is the most
// restricted label the sharing arrangement grants it: TLP:GREEN for a
// community group, TLP:AMBER for a group with need-to-know; "" grants
// nothing beyond TLP:CLEAR. OrgID is the organisation of an organisation
// recipient.
type Recipient struct {
	Kind    RecipientKind
	ID      int64 // peer account or organisation id; 0 for the public
	Name    string
	Ceiling TLP
	Via     string // the sharing group or policy that makes it a recipient, for explanations
}

// Release is data about to leave this node: its label and the
// organisation it concerns, if any (the one TLP:AMBER+STRICT may go to).
type Release struct {
	TLP   TLP
	OrgID int64
}

// ReleaseDecision decides whether r may go to to, and says why in words
// an operator can check. It is the one place where focal enforces TLP
// 2.0 on data leaving the node: the TAXII server and client, the
// notifications and every export call it. The rules:
//   - unlabelled data is treated as TLP:AMBER;
//   - TLP:RED never leaves the node;
//   - TLP:AMBER+STRICT goes only to the organisation it concerns;
//   - TLP:AMBER goes to the organisation it concerns and to recipients
//     whose sharing arrangement grants need-to-know (ceiling AMBER);
//   - TLP:GREEN goes to the organisation it concerns and to community
//     recipients (ceiling GREEN or AMBER), never to the public;
//   - TLP:CLEAR goes anywhere.
func ReleaseDecision(r Release, to Recipient) (ok bool, why string) {
	label := r.TLP
	if label == "" {
		label = TLPAmber
	}
	concerned := to.Kind == RecipientOrganisation && r.OrgID != 0 && to.ID == r.OrgID
	granted := to.Kind != RecipientPublic && to.Ceiling.Rank() >= 0
	switch label {
	case TLPClear:
		return true, "TLP:CLEAR may be shared with anyone"
	case TLPGreen:
		if concerned {
			return true, "TLP:GREEN: the data concerns this organisation"
		}
		if granted && to.Ceiling.Rank() >= TLPGreen.Rank() && to.Ceiling.Rank() <= TLPAmber.Rank() {
			return true, fmt.Sprintf("TLP:GREEN: a member of the community (%s)", via(to))
		}
		if to.Kind == RecipientPublic {
			return false, "TLP:GREEN is not for the public"
		}
		return false, "TLP:GREEN goes only to community members; this recipient is in no community group"
	case TLPAmber:
		if concerned {
			return true, "TLP:AMBER: the data concerns this organisation"
		}
		if granted && to.Ceiling == TLPAmber {
			return true, fmt.Sprintf("TLP:AMBER: need-to-know granted (%s)", via(to))
		}
		return false, "TLP:AMBER goes only to the organisation concerned and to recipients granted need-to-know"
	case TLPAmberStrict:
		if concerned {
			return true, "TLP:AMBER+STRICT: the data concerns this organisation"
		}
		return false, "TLP:AMBER+STRICT goes only to the organisation it concerns"
	case TLPRed:
		return false, "TLP:RED never leaves this node"
	}
	return false, fmt.Sprintf("unknown TLP label %q: not released", r.TLP)
}

// MayRelease is ReleaseDecision as an error: nil, or EFORBIDDEN with the
// reason.
func MayRelease(r Release, to Recipient) error {
	if ok, why := ReleaseDecision(r, to); !ok {
		return Errorf(EFORBIDDEN, "%s", why)
	}
	return nil
}

func via(to Recipient) string {
	if to.Via != "" {
		return to.Via
	}
	return "sharing arrangement"
}
