package taxii

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"focal/internal/focal"
)

// Header is what the server needs of a STIX object: enough to index,
// version, filter and release it. It is not a STIX parser; the body is
// kept and served as it came.
type Header struct {
	Type        string
	ID          string
	SpecVersion string    // "2.1" when absent
	Version     int64     // modified, else created, in µs; 0 for objects with neither (SCOs)
	TLP         focal.TLP // the most restrictive TLP marking; "" for none
	OrgID       int64     // x_focal_organisation, if a positive integer
}

// tlpMarkings maps the STIX marking-definition ids of TLP 2.0 and 1.0 to
// labels (TLP 1.0 WHITE is CLEAR).
var tlpMarkings = map[string]focal.TLP{
	"marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487": focal.TLPClear,
	"marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb": focal.TLPGreen,
	"marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421": focal.TLPAmber,
	"marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003": focal.TLPAmberStrict,
	"marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1": focal.TLPRed,
	"marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9": focal.TLPClear,
	"marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da": focal.TLPGreen,
	"marking-definition--f88d31f6-486f-44da-b317-01333bde0b82": focal.TLPAmber,
	"marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed": focal.TLPRed,
}

// markingIDs are the TLP 2.0 marking-definition ids by label.
var markingIDs = map[focal.TLP]string{
	focal.TLPClear:       "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
	focal.TLPGreen:       "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
	focal.TLPAmber:       "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
	focal.TLPAmberStrict: "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
	focal.TLPRed:         "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}

// MarkingID returns the STIX marking-definition id of a TLP 2.0 label, or
// "" for none.
func MarkingID(t focal.TLP) string { return markingIDs[t] }

// scoTypes are the STIX 2.1 cyber-observable types: they have no created
// or modified, hence a single version.
var scoTypes = map[string]bool{
	"artifact": true, "autonomous-system": true, "directory": true, "domain-name": true, "email-addr": true,
	"email-message": true, "file": true, "ipv4-addr": true, "ipv6-addr": true, "mac-addr": true, "mutex": true,
	"network-traffic": true, "process": true, "software": true, "url": true, "user-account": true,
	"windows-registry-key": true, "x509-certificate": true,
}

// supportedSpecVersions are the STIX versions the server stores.
var supportedSpecVersions = map[string]bool{"2.0": true, "2.1": true}

// DecodeHeader decodes the header of one STIX object and checks its
// structure: a type, an id whose prefix is the type, a supported
// spec_version, and created and modified for everything but
// cyber-observables and marking definitions (which need created). The
// error is an EINVALID focal error whose message is fit for a status
// failure.
func DecodeHeader(raw []byte) (Header, error) {
	var o struct {
		Type        *string         `json:"type"`
		ID          *string         `json:"id"`
		SpecVersion *string         `json:"spec_version"`
		Created     *string         `json:"created"`
		Modified    *string         `json:"modified"`
		Markings    []string        `json:"object_marking_refs"`
		Org         json.RawMessage `json:"x_focal_organisation"`
	}
	var h Header
	if err := json.Unmarshal(raw, &o); err != nil {
		return h, focal.Errorf(focal.EINVALID, "not a STIX object: %s", jsonProblem(err))
	}
	if o.Type == nil || !validType(*o.Type) || len(*o.Type) < 3 {
		return h, focal.Errorf(focal.EINVALID, "missing or invalid type")
	}
	h.Type = *o.Type
	if o.ID == nil {
		return h, focal.Errorf(focal.EINVALID, "missing id")
	}
	h.ID = *o.ID
	prefix, uuid, ok := strings.Cut(h.ID, "--")
	if !ok || prefix != h.Type || !validUUID(uuid) {
		return h, focal.Errorf(focal.EINVALID, "id %q is not %s--<UUID>", truncate(h.ID, 100), h.Type)
	}
	h.SpecVersion = "2.1"
	if o.SpecVersion != nil {
		h.SpecVersion = *o.SpecVersion
	}
	if !supportedSpecVersions[h.SpecVersion] {
		return h, focal.Errorf(focal.EINVALID, "unsupported spec_version %q: want 2.0 or 2.1", truncate(h.SpecVersion, 20))
	}
	stamp := func(name string, s *string) (int64, error) {
		t, err := ParseTimestamp(*s)
		if err != nil {
			return 0, focal.Errorf(focal.EINVALID, "%s is not a timestamp", name)
		}
		return t.UnixMicro(), nil
	}
	switch {
	case o.Modified != nil:
		v, err := stamp("modified", o.Modified)
		if err != nil {
			return h, err
		}
		h.Version = v
		if o.Created == nil {
			return h, focal.Errorf(focal.EINVALID, "modified without created")
		}
		if _, err := stamp("created", o.Created); err != nil {
			return h, err
		}
	case o.Created != nil && h.Type == "marking-definition":
		v, err := stamp("created", o.Created)
		if err != nil {
			return h, err
		}
		h.Version = v
	case scoTypes[h.Type]:
		if o.Created != nil {
			return h, focal.Errorf(focal.EINVALID, "created without modified")
		}
	default:
		return h, focal.Errorf(focal.EINVALID, "a %s needs created and modified", h.Type)
	}
	for _, m := range o.Markings {
		if l, ok := tlpMarkings[m]; ok && l.Rank() > h.TLP.Rank() {
			h.TLP = l
		}
	}
	if _, ok := tlpMarkings[h.ID]; ok {
		h.TLP = focal.TLPClear // the TLP marking definitions themselves are public
	}
	if len(o.Org) > 0 {
		s := strings.Trim(string(o.Org), `"`)
		if n, err := strconv.ParseInt(s, 10, 64); err == nil && n > 0 {
			h.OrgID = n
		}
	}
	return h, nil
}

// compactObject returns raw as compact JSON, or an error if it is not a
// JSON object.
func compactObject(raw []byte) ([]byte, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return nil, focal.Errorf(focal.EINVALID, "not a JSON object")
	}
	var b bytes.Buffer
	b.Grow(len(raw))
	if err := json.Compact(&b, raw); err != nil {
		return nil, focal.Errorf(focal.EINVALID, "not a STIX object: %s", jsonProblem(err))
	}
	return b.Bytes(), nil
}

func jsonProblem(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("malformed JSON at byte %d", se.Offset)
	case errors.As(err, &te) && te.Field == "":
		return "not a JSON object"
	case errors.As(err, &te):
		return fmt.Sprintf("%s has the wrong type", te.Field)
	}
	return "malformed JSON"
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
