package stix

import (
	"encoding/json"
	"reflect"
	"testing"

	"focal/internal/focal"
)

func TestMarkingFor(t *testing.T) {
	tests := []struct {
		tlp       focal.TLP
		id, name  string
		extension string
	}{
		{focal.TLPClear, "94868c89-83c2-464b-929b-a1a8aa3c8487", "TLP:CLEAR", "clear"},
		{focal.TLPGreen, "bab4a63c-aed9-4cf5-a766-dfca5abac2bb", "TLP:GREEN", "green"},
		{focal.TLPAmber, "55d920b0-5e8b-4f79-9ee9-91f868d9b421", "TLP:AMBER", "amber"},
		{focal.TLPAmberStrict, "939a9414-2ddd-4d32-a0cd-375ea402b003", "TLP:AMBER+STRICT", "amber+strict"},
		{focal.TLPRed, "e828b379-4e03-4974-9ac4-e53a884c97c1", "TLP:RED", "red"},
		{"", "55d920b0-5e8b-4f79-9ee9-91f868d9b421", "TLP:AMBER", "amber"},
	}
	for _, tt := range tests {
		t.Run(string(tt.tlp), func(t *testing.T) {
			m, ok := MarkingFor(tt.tlp)
			if !ok {
				t.Fatalf("MarkingFor(%q) failed", tt.tlp)
			}
			got, err := json.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			// The object as cti-stix-common-objects publishes it.
			want := `{"type":"marking-definition","spec_version":"2.1","id":"marking-definition--` + tt.id + `",` +
				`"created":"2022-10-01T00:00:00.000Z","name":"` + tt.name + `","extensions":{` +
				`"extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d":{"extension_type":"property-extension","tlp_2_0":"` + tt.extension + `"}}}`
			if !jsonEqual(t, got, []byte(want)) {
				t.Errorf("MarkingFor(%q) =\n%s\nwant\n%s", tt.tlp, got, want)
			}
			if err := Validate(MustObject(m)); err != nil {
				t.Errorf("Validate(MarkingFor(%q)) = %v", tt.tlp, err)
			}
			ref, ok := MarkingRef(tt.tlp)
			if !ok || ref != m.ID {
				t.Errorf("MarkingRef(%q) = %s, want %s", tt.tlp, ref, m.ID)
			}
		})
	}
	if _, ok := MarkingFor("PURPLE"); ok {
		t.Error("MarkingFor(PURPLE) succeeded")
	}
}

func jsonEqual(tb testing.TB, a, b []byte) bool {
	tb.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		tb.Fatal(err)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		tb.Fatal(err)
	}
	return reflect.DeepEqual(x, y)
}

func TestTLPOf(t *testing.T) {
	tests := []struct {
		name string
		refs []string
		want focal.TLP
		ok   bool
	}{
		{"none", nil, "", false},
		{"unknown", []string{"marking-definition--ec5aa5b1-0e1c-405c-af87-14ce84fc5d52"}, "", false},
		{"tlp2-green", []string{TLP2Green}, focal.TLPGreen, true},
		{"tlp1-white-is-clear", []string{TLP1White}, focal.TLPClear, true},
		{"tlp1-green", []string{TLP1Green}, focal.TLPGreen, true},
		{"tlp1-amber", []string{TLP1Amber}, focal.TLPAmber, true},
		{"tlp1-red", []string{TLP1Red}, focal.TLPRed, true},
		{"strictest-wins", []string{TLP2Clear, TLP2AmberStrict, TLP1Amber, "marking-definition--ec5aa5b1-0e1c-405c-af87-14ce84fc5d52"}, focal.TLPAmberStrict, true},
		{"red-over-all", []string{TLP1Red, TLP2AmberStrict}, focal.TLPRed, true},
		{"clear-only", []string{TLP2Clear}, focal.TLPClear, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := TLPOf(Common{ObjectMarkingRefs: tt.refs})
			if got != tt.want || ok != tt.ok {
				t.Errorf("TLPOf(%v) = %q, %v; want %q, %v", tt.refs, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestWithMarkings(t *testing.T) {
	a := MustObject(DomainName{Common: Common{ID: NewDomainName("example.com").ID, ObjectMarkingRefs: []string{TLP2Red}}, Value: "example.com"})
	b := MustObject(URL{Common: Common{ID: NewURL("https://example.com/").ID, ObjectMarkingRefs: []string{TLP2Green, TLP2Red}}, Value: "https://example.com/"})
	out := WithMarkings([]Object{a, b})
	var ids []string
	for _, o := range out {
		ids = append(ids, o.ID)
	}
	want := []string{a.ID, b.ID, TLP2Green, TLP2Red}
	if !reflect.DeepEqual(ids, want) {
		t.Errorf("WithMarkings ids = %v, want %v", ids, want)
	}
	if again := WithMarkings(out); len(again) != len(out) {
		t.Errorf("WithMarkings added %d objects to a list holding its markings", len(again)-len(out))
	}
}
