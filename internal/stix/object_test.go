package stix

import (
	"bytes"
	"encoding/json"
	"errors"
	"maps"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"focal/internal/focal"
)

func readFile(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func TestDecodeBundleGolden(t *testing.T) {
	data := readFile(t, "testdata/bundle.json")
	b, err := DecodeBundle(data)
	if err != nil {
		t.Fatalf("DecodeBundle: %v", err)
	}
	if err := ValidateBundle(b); err != nil {
		t.Fatalf("ValidateBundle: %v", err)
	}
	if b.ID != "bundle--24d354ed-130b-4b0a-9dea-2659624cf31a" || len(b.Objects) != 15 {
		t.Fatalf("bundle %s has %d objects, want bundle--24d354ed… with 15", b.ID, len(b.Objects))
	}
	for _, o := range b.Objects {
		if !bytes.Contains(data, o.Raw()) {
			t.Errorf("%s: raw JSON is not the input's bytes:\n%s", o.ID, o.Raw())
		}
	}
	// Encode the bundle and decode it again: every object unchanged, byte
	// for byte with MarshalJSON, as the same JSON value with json.Marshal
	// (which compacts).
	enc, err := b.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	b2, err := DecodeBundle(enc)
	if err != nil {
		t.Fatalf("DecodeBundle(encoded): %v", err)
	}
	compact, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	b3, err := DecodeBundle(compact)
	if err != nil {
		t.Fatalf("DecodeBundle(json.Marshal): %v", err)
	}
	if len(b2.Objects) != len(b.Objects) || len(b3.Objects) != len(b.Objects) {
		t.Fatalf("round trips have %d and %d objects, want %d", len(b2.Objects), len(b3.Objects), len(b.Objects))
	}
	for i := range b.Objects {
		if !bytes.Equal(b.Objects[i].Raw(), b2.Objects[i].Raw()) {
			t.Errorf("objects[%d] changed through MarshalJSON", i)
		}
		var want, got any
		if json.Unmarshal(b.Objects[i].Raw(), &want) != nil || json.Unmarshal(b3.Objects[i].Raw(), &got) != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("objects[%d] changed through json.Marshal", i)
		}
	}
	unknown := b.Objects[14]
	if unknown.Type != "x-example-sensor-alert" || string(unknown.Custom["x_vendor_raw"]) != `{"rule":2019401,"tags":["a","b"]}` {
		t.Errorf("unknown object: type %q, custom %q", unknown.Type, unknown.Custom)
	}
	ind := b.Objects[2]
	if ind.Modified.String() != "2026-01-06T10:00:00.123456Z" || *ind.Confidence != 80 || ind.CreatedByRef != "identity--8ceef171-5627-48e7-a279-4b340a9e7ede" {
		t.Errorf("indicator header = %+v", ind.Common)
	}
	if tlp, ok := TLPOf(ind.Common); !ok || tlp != focal.TLPAmber {
		t.Errorf("TLPOf(indicator) = %q, %v; want AMBER", tlp, ok)
	}
}

// TestTypedRoundTrip decodes every object of a known type of the golden
// bundle into its typed struct and encodes it again: no property is lost,
// and decoding the result gives the same struct.
func TestTypedRoundTrip(t *testing.T) {
	b, err := DecodeBundle(readFile(t, "testdata/bundle.json"))
	if err != nil {
		t.Fatal(err)
	}
	newTyped := map[string]func() any{
		"identity": func() any { return new(Identity) }, "marking-definition": func() any { return new(MarkingDefinition) },
		"indicator": func() any { return new(Indicator) }, "ipv4-addr": func() any { return new(IPv4Addr) },
		"domain-name": func() any { return new(DomainName) }, "url": func() any { return new(URL) },
		"observed-data": func() any { return new(ObservedData) }, "sighting": func() any { return new(Sighting) },
		"malware": func() any { return new(Malware) }, "relationship": func() any { return new(Relationship) },
		"vulnerability": func() any { return new(Vulnerability) }, "report": func() any { return new(Report) },
		"note": func() any { return new(Note) }, "incident": func() any { return new(Incident) },
	}
	for _, o := range b.Objects {
		mk, ok := newTyped[o.Type]
		if !ok {
			continue
		}
		t.Run(o.Type, func(t *testing.T) {
			v1 := mk()
			if err := o.As(v1); err != nil {
				t.Fatalf("As: %v", err)
			}
			o2, err := NewObject(reflect.ValueOf(v1).Elem().Interface())
			if err != nil {
				t.Fatalf("NewObject: %v", err)
			}
			if got, want := keys(t, o2.Raw()), keys(t, o.Raw()); !slices.Equal(got, want) {
				t.Errorf("properties after a round trip = %v, want %v", got, want)
			}
			v2 := mk()
			if err := o2.As(v2); err != nil {
				t.Fatalf("As(round trip): %v", err)
			}
			if !reflect.DeepEqual(v1, v2) {
				t.Errorf("round trip changed the object:\n%+v\n%+v", v1, v2)
			}
			if err := Validate(o2); err != nil {
				t.Errorf("Validate(round trip): %v", err)
			}
		})
	}
}

func keys(tb testing.TB, raw []byte) []string {
	tb.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		tb.Fatal(err)
	}
	return slices.Sorted(maps.Keys(m))
}

func TestAsChecksType(t *testing.T) {
	o := MustObject(NewDomainName("example.net"))
	var ind Indicator
	if err := o.As(&ind); err == nil || !strings.Contains(err.Error(), "type: want indicator") {
		t.Errorf("As(domain-name → Indicator) = %v, want a type error", err)
	}
}

func TestTypedMarshal(t *testing.T) {
	conf := 0
	ind := Indicator{
		Common: Common{
			ID:         "indicator--ec5aa5b1-0e1c-405c-af87-14ce84fc5d52",
			Created:    NewTimestamp(time.Date(2026, 2, 3, 4, 5, 6, 789_000_000, time.UTC)),
			Modified:   NewTimestamp(time.Date(2026, 2, 3, 4, 5, 6, 789_654_321, time.UTC)),
			Confidence: &conf,
		},
		Pattern:     "[url:value = 'https://example.net/x']",
		PatternType: "stix",
		ValidFrom:   Timestamp{time.Date(2026, 2, 3, 4, 5, 6, 789_654_321, time.FixedZone("CET", 3600))},
	}
	if err := ind.SetCustom("x_focal_feed", "phish"); err != nil {
		t.Fatal(err)
	}
	got, err := json.Marshal(ind)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"type":"indicator","spec_version":"2.1","id":"indicator--ec5aa5b1-0e1c-405c-af87-14ce84fc5d52",` +
		`"created":"2026-02-03T04:05:06.789Z","modified":"2026-02-03T04:05:06.789Z","confidence":0,` +
		`"pattern":"[url:value = 'https://example.net/x']","pattern_type":"stix",` +
		`"valid_from":"2026-02-03T03:05:06.789654321Z","x_focal_feed":"phish"}`
	if string(got) != want {
		t.Errorf("json.Marshal(indicator) =\n%s\nwant\n%s", got, want)
	}
	if err := ind.SetCustom("focal_feed", "x"); err == nil {
		t.Error("SetCustom without x_ succeeded")
	}
	ind.Custom["bad"] = json.RawMessage(`1`)
	if _, err := json.Marshal(ind); err == nil {
		t.Error("json.Marshal with a custom property not starting x_ succeeded")
	}
}

func TestTimestamp(t *testing.T) {
	valid := []struct{ in, out string }{
		{"2026-01-02T03:04:05Z", "2026-01-02T03:04:05.000Z"},
		{"2026-01-02T03:04:05.1Z", "2026-01-02T03:04:05.100Z"},
		{"2026-01-02T03:04:05.123Z", "2026-01-02T03:04:05.123Z"},
		{"2026-01-02T03:04:05.123456Z", "2026-01-02T03:04:05.123456Z"},
		{"2026-01-02T03:04:05.123456789Z", "2026-01-02T03:04:05.123456789Z"},
		{"2024-02-29T23:59:59.999Z", "2024-02-29T23:59:59.999Z"},
	}
	for _, tt := range valid {
		var ts Timestamp
		if err := json.Unmarshal([]byte(`"`+tt.in+`"`), &ts); err != nil {
			t.Errorf("Unmarshal(%q): %v", tt.in, err)
			continue
		}
		out, err := json.Marshal(ts)
		if err != nil || string(out) != `"`+tt.out+`"` {
			t.Errorf("Marshal(Unmarshal(%q)) = %s, %v; want %q", tt.in, out, err, tt.out)
		}
	}
	for _, in := range []string{
		"2026-01-02T03:04:05+00:00", "2026-01-02t03:04:05z", "2026-01-02 03:04:05Z", "2026-01-02T03:04:05.Z",
		"2026-02-30T00:00:00Z", "2026-01-02T03:04Z", "26-01-02T03:04:05Z", "", "2026-01-02T03:04:05.12aZ",
	} {
		if ts, err := ParseTimestamp(in); err == nil {
			t.Errorf("ParseTimestamp(%q) = %v, want an error", in, ts)
		}
	}
	var ts Timestamp
	if err := json.Unmarshal([]byte(`12`), &ts); err == nil {
		t.Error("Unmarshal(12) succeeded")
	}
	if _, err := json.Marshal(Timestamp{}); err == nil {
		t.Error("Marshal(zero Timestamp) succeeded")
	}
	if got := NewTimestamp(time.Date(2026, 1, 1, 1, 0, 0, 123_456_789, time.FixedZone("X", 3600))).String(); got != "2026-01-01T00:00:00.123Z" {
		t.Errorf("NewTimestamp(…).String() = %s, want 2026-01-01T00:00:00.123Z", got)
	}
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"not-object", `[1]`, "object: want a JSON object"},
		{"malformed", `{"type": "indicator"`, "malformed JSON"},
		{"no-type", `{"id": "indicator--ec5aa5b1-0e1c-405c-af87-14ce84fc5d52"}`, "type: required"},
		{"no-id", `{"type": "indicator"}`, "indicator: id: required"},
		{"bad-created", `{"type": "indicator", "id": "indicator--ec5aa5b1-0e1c-405c-af87-14ce84fc5d52", "created": "yesterday"}`, `created: want a UTC timestamp`},
		{"labels-type", `{"type": "indicator", "id": "indicator--ec5aa5b1-0e1c-405c-af87-14ce84fc5d52", "labels": "x"}`, "labels: want a JSON array"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode([]byte(tt.in))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Decode(%s) = %v, want an error containing %q", tt.in, err, tt.want)
			}
			var fe *focal.Error
			if !errors.As(err, &fe) || fe.Code != focal.EINVALID {
				t.Errorf("Decode error %v is not an EINVALID *focal.Error", err)
			}
		})
	}
	for _, in := range []string{
		`{"id": "bundle--24d354ed-130b-4b0a-9dea-2659624cf31a", "objects": []}`,
		`{"type": "report", "id": "bundle--24d354ed-130b-4b0a-9dea-2659624cf31a"}`,
		`{"type": "bundle", "id": "bundle--nope"}`,
		`{"type": "bundle", "id": "bundle--24d354ed-130b-4b0a-9dea-2659624cf31a", "objects": [{"type": "x"}]}`,
		`{"type": "bundle", "id": "bundle--24d354ed-130b-4b0a-9dea-2659624cf31a", "objects": {}}`,
	} {
		if _, err := DecodeBundle([]byte(in)); err == nil {
			t.Errorf("DecodeBundle(%s) succeeded, want an error", in)
		}
	}
}

func TestIndexKeepsLatest(t *testing.T) {
	mk := func(mod string) Object {
		ts, err := ParseTimestamp(mod)
		if err != nil {
			t.Fatal(err)
		}
		return MustObject(Vulnerability{Common: Common{ID: "vulnerability--8c88e45c-d0e3-4f7f-aaeb-437fc34b877d",
			Created: Timestamp{ts.Add(-time.Hour)}, Modified: ts}, Name: mod})
	}
	idx := Index([]Object{mk("2026-01-02T00:00:00Z"), mk("2026-01-03T00:00:00Z"), mk("2026-01-01T00:00:00Z")})
	if got := idx["vulnerability--8c88e45c-d0e3-4f7f-aaeb-437fc34b877d"].Modified.String(); got != "2026-01-03T00:00:00.000Z" {
		t.Errorf("Index kept the version modified %s, want 2026-01-03T00:00:00.000Z", got)
	}
}
