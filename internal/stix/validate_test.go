package stix

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"focal/internal/focal"
)

const (
	baseIndicator = `{"type":"indicator","spec_version":"2.1","id":"indicator--e46d52e8-37bf-492a-aaef-7ad30ebdc1c6",
		"created":"2026-01-05T09:10:11.123Z","modified":"2026-01-05T09:10:11.123Z",
		"pattern":"[ipv4-addr:value = '198.51.100.3']","pattern_type":"stix","valid_from":"2026-01-05T09:10:11Z"}`
	baseObserved = `{"type":"observed-data","spec_version":"2.1","id":"observed-data--94e216f7-e967-4e80-9894-af1d0a0cfe45",
		"created":"2026-01-05T09:15:00.000Z","modified":"2026-01-05T09:15:00.000Z",
		"first_observed":"2026-01-05T09:00:00Z","last_observed":"2026-01-05T09:14:00Z","number_observed":1,
		"object_refs":["ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4"]}`
	baseMalware = `{"type":"malware","spec_version":"2.1","id":"malware--e31c9a7d-7f9f-4ba7-aed8-19f1b066dd25",
		"created":"2026-01-05T09:00:00.000Z","modified":"2026-01-05T09:00:00.000Z","is_family":false}`
	baseSCO  = `{"type":"ipv4-addr","id":"ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4","value":"198.51.100.3"}`
	baseMark = `{"type":"marking-definition","spec_version":"2.1","id":"marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da",
		"created":"2017-01-20T00:00:00.000Z","definition_type":"tlp","name":"TLP:GREEN","definition":{"tlp":"green"}}`
	baseUnknown = `{"type":"x-thing","id":"x-thing--e31c9a7d-7f9f-4ba7-aed8-19f1b066dd25","whatever":[1,2]}`
)

// mutate sets (or, for a nil value, deletes) properties of a JSON object.
func mutate(tb testing.TB, base string, set map[string]any) []byte {
	tb.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(base), &m); err != nil {
		tb.Fatal(err)
	}
	for k, v := range set {
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
	}
	b, err := json.Marshal(m)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func TestValidate(t *testing.T) {
	type set = map[string]any
	tests := []struct {
		name string
		base string
		set  set
		want string // "" for valid
	}{
		{"indicator", baseIndicator, nil, ""},
		{"indicator-no-pattern", baseIndicator, set{"pattern": nil}, "indicator--e46d52e8-37bf-492a-aaef-7ad30ebdc1c6: pattern: required"},
		{"indicator-no-pattern-type", baseIndicator, set{"pattern_type": nil}, "pattern_type: required"},
		{"indicator-no-valid-from", baseIndicator, set{"valid_from": nil}, "valid_from: required"},
		{"indicator-bad-pattern", baseIndicator, set{"pattern": "[ipv4-addr:value = ]"}, "indicator--e46d52e8-37bf-492a-aaef-7ad30ebdc1c6: pattern: at byte 19: expected a literal"},
		{"indicator-other-pattern-type", baseIndicator, set{"pattern": "alert tcp any", "pattern_type": "snort"}, ""},
		{"indicator-until-before-from", baseIndicator, set{"valid_until": "2026-01-05T09:10:10Z"}, "valid_until: 2026-01-05T09:10:10.000Z is not after valid_from"},
		{"no-spec-version", baseIndicator, set{"spec_version": nil}, "spec_version: required"},
		{"spec-version-2.0", baseIndicator, set{"spec_version": "2.0"}, `spec_version: want "2.1"`},
		{"no-created", baseIndicator, set{"created": nil}, "created: required"},
		{"no-modified", baseIndicator, set{"modified": nil}, "modified: required"},
		{"modified-before-created", baseIndicator, set{"modified": "2026-01-05T09:10:11.122Z"}, "modified: 2026-01-05T09:10:11.122Z is before created"},
		{"id-prefix", baseIndicator, set{"id": "malware--e46d52e8-37bf-492a-aaef-7ad30ebdc1c6"}, `id: identifier "malware--e46d52e8-37bf-492a-aaef-7ad30ebdc1c6" does not start with its type "indicator"`},
		{"id-not-uuid", baseIndicator, set{"id": "indicator--1234"}, "not an RFC 9562 UUID"},
		{"bad-type", baseIndicator, set{"type": "Indicator"}, "type: type \"Indicator\""},
		{"custom-ok", baseIndicator, set{"x_focal_feed": "f", "score": 1}, ""},
		{"custom-upper", baseIndicator, set{"x_Focal": 1}, `"x_Focal": property names are 3 to 250`},
		{"custom-short", baseIndicator, set{"xy": 1}, `"xy": property names`},
		{"custom-hyphen", baseIndicator, set{"x-foo": 1}, `"x-foo": property names`},
		{"confidence-range", baseIndicator, set{"confidence": 101}, "confidence: want an integer from 0 to 100"},
		{"created-by-not-identity", baseIndicator, set{"created_by_ref": "malware--e31c9a7d-7f9f-4ba7-aed8-19f1b066dd25"}, "created_by_ref: want a reference to identity"},
		{"marking-ref-type", baseIndicator, set{"object_marking_refs": []string{"identity--8ceef171-5627-48e7-a279-4b340a9e7ede"}}, "object_marking_refs[0]: want a reference to marking-definition"},
		{"external-ref-no-source", baseIndicator, set{"external_references": []any{map[string]any{"url": "https://example.org/"}}}, "external_references[0].source_name: required"},
		{"granular-no-selectors", baseIndicator, set{"granular_markings": []any{map[string]any{"marking_ref": TLP2Red, "selectors": []string{}}}}, "granular_markings[0].selectors"},
		{"granular-ok", baseIndicator, set{"granular_markings": []any{map[string]any{"marking_ref": TLP2Red, "selectors": []string{"description"}}}}, ""},
		{"extension-name", baseIndicator, set{"extensions": map[string]any{"my-extension": map[string]any{}}}, "extensions: \"my-extension\" is neither"},
		{"extension-ok", baseIndicator, set{"extensions": map[string]any{"x-acme-ext": map[string]any{}, TLP2Extension: map[string]any{}}}, ""},
		{"observed", baseObserved, nil, ""},
		{"observed-no-refs", baseObserved, set{"object_refs": nil}, "object_refs: required"},
		{"observed-empty-refs", baseObserved, set{"object_refs": []string{}}, "object_refs: want at least one"},
		{"observed-2.0-objects", baseObserved, set{"object_refs": nil, "objects": map[string]any{"0": map[string]any{"type": "ipv4-addr", "value": "192.0.2.1"}}}, ""},
		{"observed-count-zero", baseObserved, set{"number_observed": 0}, "number_observed: want an integer from 1 to 999999999"},
		{"observed-count-float", baseObserved, set{"number_observed": 1.5}, "number_observed: want an integer"},
		{"observed-last-before-first", baseObserved, set{"last_observed": "2026-01-05T08:00:00Z"}, "last_observed: 2026-01-05T08:00:00.000Z is before first_observed"},
		{"malware", baseMalware, nil, ""},
		{"malware-no-is-family", baseMalware, set{"is_family": nil}, "is_family: required"},
		{"malware-family-needs-name", baseMalware, set{"is_family": true}, "name: required"},
		{"malware-is-family-string", baseMalware, set{"is_family": "yes"}, "is_family: want a boolean"},
		{"sco", baseSCO, nil, ""},
		{"sco-no-value", baseSCO, set{"value": nil}, "value: required"},
		{"sco-spec-version", baseSCO, set{"spec_version": "2.0"}, "spec_version"},
		{"marking", baseMark, nil, ""},
		{"marking-no-created", baseMark, set{"created": nil}, "created: required"},
		{"marking-no-definition", baseMark, set{"definition": nil}, "definition: required with definition_type"},
		{"unknown-type-kept", baseUnknown, nil, ""},
		{"unknown-type-id", baseUnknown, set{"id": "x-other--e31c9a7d-7f9f-4ba7-aed8-19f1b066dd25"}, "does not start with its type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := Decode(mutate(t, tt.base, tt.set))
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			err = Validate(o)
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("Validate = %v, want nil", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("Validate = %v, want an error containing %q", err, tt.want)
			case err != nil:
				var fe *focal.Error
				if !errors.As(err, &fe) || fe.Code != focal.EINVALID {
					t.Errorf("Validate error %v is not an EINVALID *focal.Error", err)
				}
			}
		})
	}
}

func TestValidateRequiredPerType(t *testing.T) {
	hdr := `"spec_version":"2.1","created":"2026-01-05T09:00:00.000Z","modified":"2026-01-05T09:00:00.000Z"`
	tests := []struct {
		typ, props, missing string
	}{
		{"sighting", ``, "sighting_of_ref"},
		{"report", `"published":"2026-01-05T09:00:00Z","object_refs":["note--2a8b45ab-6e14-4901-8605-09316e36f017"]`, "name"},
		{"report", `"name":"r","object_refs":["note--2a8b45ab-6e14-4901-8605-09316e36f017"]`, "published"},
		{"report", `"name":"r","published":"2026-01-05T09:00:00Z"`, "object_refs"},
		{"identity", ``, "name"},
		{"incident", ``, "name"},
		{"vulnerability", ``, "name"},
		{"relationship", `"source_ref":"note--2a8b45ab-6e14-4901-8605-09316e36f017","target_ref":"note--2a8b45ab-6e14-4901-8605-09316e36f017"`, "relationship_type"},
		{"relationship", `"relationship_type":"related-to","target_ref":"note--2a8b45ab-6e14-4901-8605-09316e36f017"`, "source_ref"},
		{"note", `"object_refs":["note--2a8b45ab-6e14-4901-8605-09316e36f017"]`, "content"},
	}
	for _, tt := range tests {
		t.Run(tt.typ+"-"+tt.missing, func(t *testing.T) {
			js := `{"type":"` + tt.typ + `","id":"` + tt.typ + `--2a8b45ab-6e14-4901-8605-09316e36f017",` + hdr
			if tt.props != "" {
				js += "," + tt.props
			}
			o, err := Decode([]byte(js + "}"))
			if err != nil {
				t.Fatal(err)
			}
			if err := Validate(o); err == nil || !strings.Contains(err.Error(), tt.missing+": required") {
				t.Errorf("Validate(%s without %s) = %v, want %q", tt.typ, tt.missing, err, tt.missing+": required")
			}
		})
	}
	file := MustObject(File{Common: Common{ID: "file--2a8b45ab-6e14-4901-8605-09316e36f017"}})
	if err := Validate(file); err == nil || !strings.Contains(err.Error(), "hashes or a name") {
		t.Errorf("Validate(file without hashes or name) = %v", err)
	}
	as := MustObject(AutonomousSystem{Common: Common{ID: "autonomous-system--2a8b45ab-6e14-4901-8605-09316e36f017"}, Number: 64496})
	if err := Validate(as); err != nil {
		t.Errorf("Validate(autonomous-system) = %v", err)
	}
}

func TestValidateBundleNamesObject(t *testing.T) {
	b := NewBundle(MustObject(NewURL("https://example.org/")), MustObject(IPv4Addr{Common: Common{ID: "ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4"}}))
	err := ValidateBundle(b)
	if err == nil || !strings.Contains(err.Error(), "objects[1]: ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4: value: required") {
		t.Errorf("ValidateBundle = %v, want objects[1]'s missing value", err)
	}
}
