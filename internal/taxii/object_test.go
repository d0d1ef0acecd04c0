package taxii

import (
	"strings"
	"testing"

	"focal/internal/focal"
)

func TestDecodeHeader(t *testing.T) {
	const id = "indicator--44af6c39-c09b-49c5-9de2-394224b04982"
	sdo := func(extra string) string {
		return `{"type":"indicator","id":"` + id + `","created":"2020-01-01T00:00:00Z","modified":"2021-02-03T04:05:06.789Z"` + extra + `}`
	}
	tests := []struct {
		name, raw string
		tlp       focal.TLP
		org       int64
		version   int64
		spec      string
		err       string
	}{
		{"unlabelled", sdo(""), "", 0, 1612325106789000, "2.1", ""},
		{"green", sdo(`,"object_marking_refs":["marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"]`), focal.TLPGreen, 0, 1612325106789000, "2.1", ""},
		{"most-restrictive", sdo(`,"object_marking_refs":["marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487","marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1","marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"]`), focal.TLPRed, 0, 1612325106789000, "2.1", ""},
		{"tlp1-white", sdo(`,"object_marking_refs":["marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9"]`), focal.TLPClear, 0, 1612325106789000, "2.1", ""},
		{"tlp1-amber", sdo(`,"object_marking_refs":["marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"]`), focal.TLPAmber, 0, 1612325106789000, "2.1", ""},
		{"amber-strict-org", sdo(`,"object_marking_refs":["marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"],"x_focal_organisation":"12"`), focal.TLPAmberStrict, 12, 1612325106789000, "2.1", ""},
		{"other-marking", sdo(`,"object_marking_refs":["marking-definition--34a1e1d8-0b1d-4c3e-8d2c-2a6f0c0f4e11"]`), "", 0, 1612325106789000, "2.1", ""},
		{"spec-2.0", sdo(`,"spec_version":"2.0"`), "", 0, 1612325106789000, "2.0", ""},
		{"sco", `{"type":"ipv4-addr","id":"ipv4-addr--44af6c39-c09b-49c5-9de2-394224b04982","value":"198.51.100.1"}`, "", 0, 0, "2.1", ""},
		{"tlp-marking-definition", `{"type":"marking-definition","spec_version":"2.1","id":"marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb","created":"2022-10-01T00:00:00.000Z","name":"TLP:GREEN"}`, focal.TLPClear, 0, 1664582400000000, "2.1", ""},
		{"spec-3", sdo(`,"spec_version":"3.0"`), "", 0, 0, "", "unsupported spec_version"},
		{"no-type", `{"id":"` + id + `"}`, "", 0, 0, "", "type"},
		{"no-id", `{"type":"indicator"}`, "", 0, 0, "", "missing id"},
		{"prefix", `{"type":"malware","id":"` + id + `","created":"2020-01-01T00:00:00Z","modified":"2020-01-01T00:00:00Z"}`, "", 0, 0, "", "is not malware--"},
		{"no-modified", `{"type":"indicator","id":"` + id + `","created":"2020-01-01T00:00:00Z"}`, "", 0, 0, "", "needs created and modified"},
		{"bad-modified", sdo("")[:len(sdo(""))-1] + `,"modified":"yesterday"}`, "", 0, 0, "", "not a timestamp"},
		{"not-object", `[1]`, "", 0, 0, "", "not a JSON object"},
		{"wrong-type", `{"type":7}`, "", 0, 0, "", "wrong type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := DecodeHeader([]byte(tt.raw))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) || focal.ErrorCode(err) != focal.EINVALID {
					t.Fatalf("DecodeHeader = %+v, %v; want an EINVALID error containing %q", h, err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if h.TLP != tt.tlp || h.OrgID != tt.org || h.Version != tt.version || h.SpecVersion != tt.spec {
				t.Errorf("DecodeHeader = %+v, want TLP %q org %d version %d spec %s", h, tt.tlp, tt.org, tt.version, tt.spec)
			}
		})
	}
}

func TestTimestamp(t *testing.T) {
	ts, err := ParseTimestamp("2016-04-06T20:03:48.1234567Z")
	if err != nil {
		t.Fatal(err)
	}
	if got := FormatTimestamp(ts); got != "2016-04-06T20:03:48.123456Z" {
		t.Errorf("FormatTimestamp = %q", got)
	}
	for _, bad := range []string{"", "2016-04-06", "2016-04-06 20:03:48Z", "yesterday"} {
		if _, err := ParseTimestamp(bad); err == nil {
			t.Errorf("ParseTimestamp(%q) succeeded", bad)
		}
	}
}
