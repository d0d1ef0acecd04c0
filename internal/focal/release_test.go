package focal

import (
	"math/rand/v2"
	"testing"
)

// TestReleaseDecisionTable pins the TLP 2.0 rules one by one.
func TestReleaseDecisionTable(t *testing.T) {
	org := func(id int64, ceiling TLP) Recipient {
		return Recipient{Kind: RecipientOrganisation, ID: id, Ceiling: ceiling}
	}
	peer := func(ceiling TLP) Recipient { return Recipient{Kind: RecipientPeer, ID: 9, Ceiling: ceiling} }
	public := Recipient{Kind: RecipientPublic}
	tests := []struct {
		name string
		r    Release
		to   Recipient
		want bool
	}{
		{"clear-public", Release{TLP: TLPClear}, public, true},
		{"clear-peer-no-group", Release{TLP: TLPClear}, peer(""), true},
		{"green-public", Release{TLP: TLPGreen}, public, false},
		{"green-public-with-ceiling", Release{TLP: TLPGreen}, Recipient{Kind: RecipientPublic, Ceiling: TLPAmber}, false},
		{"green-community-peer", Release{TLP: TLPGreen}, peer(TLPGreen), true},
		{"green-need-to-know-peer", Release{TLP: TLPGreen}, peer(TLPAmber), true},
		{"green-peer-no-group", Release{TLP: TLPGreen}, peer(""), false},
		{"green-concerned-org", Release{TLP: TLPGreen, OrgID: 4}, org(4, ""), true},
		{"amber-community-peer", Release{TLP: TLPAmber}, peer(TLPGreen), false},
		{"amber-need-to-know-peer", Release{TLP: TLPAmber}, peer(TLPAmber), true},
		{"amber-concerned-org", Release{TLP: TLPAmber, OrgID: 4}, org(4, ""), true},
		{"amber-other-org", Release{TLP: TLPAmber, OrgID: 4}, org(5, TLPGreen), false},
		{"unlabelled-is-amber", Release{}, peer(TLPGreen), false},
		{"unlabelled-need-to-know", Release{}, peer(TLPAmber), true},
		{"strict-concerned-org", Release{TLP: TLPAmberStrict, OrgID: 4}, org(4, ""), true},
		{"strict-other-org", Release{TLP: TLPAmberStrict, OrgID: 4}, org(5, TLPAmber), false},
		{"strict-peer", Release{TLP: TLPAmberStrict, OrgID: 4}, Recipient{Kind: RecipientPeer, ID: 4, Ceiling: TLPAmber}, false},
		{"strict-no-org", Release{TLP: TLPAmberStrict}, org(0, TLPAmber), false},
		{"red-concerned-org", Release{TLP: TLPRed, OrgID: 4}, org(4, TLPRed), false},
		{"red-peer", Release{TLP: TLPRed}, peer(TLPRed), false},
		{"unknown-label", Release{TLP: "PURPLE"}, peer(TLPAmber), false},
		{"ceiling-red-is-not-amber", Release{TLP: TLPAmber}, peer(TLPRed), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, why := ReleaseDecision(tt.r, tt.to)
			if ok != tt.want || why == "" {
				t.Fatalf("ReleaseDecision(%+v, %+v) = %v %q, want %v with a reason", tt.r, tt.to, ok, why, tt.want)
			}
			if err := MayRelease(tt.r, tt.to); (err == nil) != tt.want {
				t.Fatalf("MayRelease = %v, want allowed=%v", err, tt.want)
			}
		})
	}
}

// TestReleaseDecisionProperties checks the invariants over random
// releases and recipients: RED never leaves, the public gets only
// CLEAR, AMBER+STRICT reaches only its organisation, and the decision is
// monotonic in both the label and the recipient's ceiling.
func TestReleaseDecisionProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	labels := append([]TLP{""}, TLPs...)
	ceilings := append([]TLP{"", "BOGUS"}, TLPs...)
	kinds := []RecipientKind{RecipientPeer, RecipientOrganisation, RecipientPublic}
	rank := func(l TLP) int {
		if l == "" {
			return TLPAmber.Rank()
		}
		return l.Rank()
	}
	for i := 0; i < 200000; i++ {
		r := Release{TLP: labels[rng.IntN(len(labels))], OrgID: int64(rng.IntN(4))}
		to := Recipient{Kind: kinds[rng.IntN(len(kinds))], ID: int64(rng.IntN(4)), Ceiling: ceilings[rng.IntN(len(ceilings))]}
		ok, why := ReleaseDecision(r, to)
		if why == "" {
			t.Fatalf("no reason for %+v → %+v", r, to)
		}
		concerned := to.Kind == RecipientOrganisation && r.OrgID != 0 && to.ID == r.OrgID
		switch {
		case ok && r.TLP == TLPRed:
			t.Fatalf("TLP:RED released to %+v", to)
		case ok && to.Kind == RecipientPublic && r.TLP != TLPClear:
			t.Fatalf("%s released to the public", r.TLP)
		case ok && r.TLP == TLPAmberStrict && !concerned:
			t.Fatalf("AMBER+STRICT of org %d released to %+v", r.OrgID, to)
		case !ok && r.TLP == TLPClear:
			t.Fatalf("TLP:CLEAR refused to %+v", to)
		case ok && !concerned && rank(r.TLP) > rank(to.Ceiling) && r.TLP != TLPClear:
			t.Fatalf("%q released beyond the recipient's ceiling %q: %+v", r.TLP, to.Ceiling, to)
		}
		// Monotonic in the label: what may go at a label may go at any
		// less restricted one.
		if ok && r.TLP != "" {
			for _, lower := range TLPs[:r.TLP.Rank()] {
				if ok2, _ := ReleaseDecision(Release{TLP: lower, OrgID: r.OrgID}, to); !ok2 {
					t.Fatalf("%s released to %+v but %s refused", r.TLP, to, lower)
				}
			}
		}
		// Monotonic in the ceiling, up to AMBER (RED grants nothing more).
		if ok && to.Ceiling == TLPGreen {
			up := to
			up.Ceiling = TLPAmber
			if ok2, _ := ReleaseDecision(r, up); !ok2 {
				t.Fatalf("%+v released at ceiling GREEN but not at AMBER", r)
			}
		}
	}
}
