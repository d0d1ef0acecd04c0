package stix

import (
	"encoding/json"
	"time"

	"focal/internal/focal"
)

// TLP2Extension is the identifier of the OASIS extension definition that
// TLP 2.0 marking definitions use (cti-stix-common-objects, tlp-2.0).
const TLP2Extension = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"

// The identifiers of the TLP 2.0 marking definitions published by OASIS.
const (
	TLP2Clear       = "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"
	TLP2Green       = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"
	TLP2Amber       = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"
	TLP2AmberStrict = "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"
	TLP2Red         = "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"
)

// The identifiers of the TLP 1.0 marking definitions predefined by STIX
// 2.1 (§7.2.1.4). focal reads them and writes the TLP 2.0 ones.
const (
	TLP1White = "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9"
	TLP1Green = "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"
	TLP1Amber = "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"
	TLP1Red   = "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed"
)

// tlp2Marking is a TLP 2.0 marking definition: label, id, and the value
// of the extension's tlp_2_0 property.
type tlp2Marking struct {
	tlp   focal.TLP
	id    string
	value string
}

// tlp2 lists the TLP 2.0 marking definitions.
func tlp2() []tlp2Marking {
	return []tlp2Marking{
		{focal.TLPClear, TLP2Clear, "clear"},
		{focal.TLPGreen, TLP2Green, "green"},
		{focal.TLPAmber, TLP2Amber, "amber"},
		{focal.TLPAmberStrict, TLP2AmberStrict, "amber+strict"},
		{focal.TLPRed, TLP2Red, "red"},
	}
}

// markingTLP maps every known TLP marking-definition id to its label.
func markingTLP(id string) (focal.TLP, bool) {
	switch id {
	case TLP1White:
		return focal.TLPClear, true
	case TLP1Green:
		return focal.TLPGreen, true
	case TLP1Amber:
		return focal.TLPAmber, true
	case TLP1Red:
		return focal.TLPRed, true
	}
	for _, m := range tlp2() {
		if m.id == id {
			return m.tlp, true
		}
	}
	return "", false
}

// MarkingRef returns the identifier of the TLP 2.0 marking definition for
// t; an empty label gives AMBER's, focal's default for unlabelled data. It
// reports false for an unknown label.
func MarkingRef(t focal.TLP) (string, bool) {
	if t == "" {
		t = focal.TLPAmber
	}
	for _, m := range tlp2() {
		if m.tlp == t {
			return m.id, true
		}
	}
	return "", false
}

// MarkingFor returns the TLP 2.0 marking-definition object for t, exactly
// as OASIS publishes it (created 2022-10-01T00:00:00.000Z, name "TLP:…",
// the TLP 2.0 property extension). An empty label gives AMBER's; an
// unknown label gives false.
func MarkingFor(t focal.TLP) (MarkingDefinition, bool) {
	id, ok := MarkingRef(t)
	if !ok {
		return MarkingDefinition{}, false
	}
	if t == "" {
		t = focal.TLPAmber
	}
	var value string
	for _, m := range tlp2() {
		if m.id == id {
			value = m.value
		}
	}
	ext, err := json.Marshal(map[string]string{"extension_type": "property-extension", "tlp_2_0": value})
	if err != nil {
		return MarkingDefinition{}, false // unreachable: a map of strings always encodes
	}
	return MarkingDefinition{
		Common: Common{
			Type:        "marking-definition",
			SpecVersion: SpecVersion,
			ID:          id,
			Created:     Timestamp{time.Date(2022, 10, 1, 0, 0, 0, 0, time.UTC)},
			Extensions:  map[string]json.RawMessage{TLP2Extension: ext},
		},
		Name: t.String(),
	}, true
}

// TLPOf returns the most restrictive TLP label among the object's
// object_marking_refs, reading the TLP 2.0 marking definitions and the TLP
// 1.0 ones of STIX 2.1 (WHITE as CLEAR). It returns "", false when none is
// a TLP marking; callers then use their default (AMBER in focal).
// Granular markings are not considered.
func TLPOf(c Common) (focal.TLP, bool) {
	return TLPOfRefs(c.ObjectMarkingRefs)
}

// TLPOfRefs is TLPOf for a list of marking-definition identifiers.
func TLPOfRefs(refs []string) (focal.TLP, bool) {
	var best focal.TLP
	found := false
	for _, r := range refs {
		t, ok := markingTLP(r)
		if ok && (!found || t.Rank() > best.Rank()) {
			best, found = t, true
		}
	}
	return best, found
}
