package stix

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"focal/internal/focal"
)

// Kinds of STIX object, which decide the common properties they require.
const (
	kindUnknown = iota
	kindSDO     // domain and relationship objects
	kindSCO     // cyber-observables
	kindMarking // marking-definition
)

// objectKind classifies the object types of STIX 2.1.
func objectKind(typ string) int {
	switch typ {
	case "attack-pattern", "campaign", "course-of-action", "grouping", "identity",
		"incident", "indicator", "infrastructure", "intrusion-set", "location",
		"malware", "malware-analysis", "note", "observed-data", "opinion", "report",
		"threat-actor", "tool", "vulnerability", "relationship", "sighting",
		"language-content", "extension-definition":
		return kindSDO
	case "artifact", "autonomous-system", "directory", "domain-name", "email-addr",
		"email-message", "file", "ipv4-addr", "ipv6-addr", "mac-addr", "mutex",
		"network-traffic", "process", "software", "url", "user-account",
		"windows-registry-key", "x509-certificate":
		return kindSCO
	case "marking-definition":
		return kindMarking
	}
	return kindUnknown
}

// Validate checks an object against the rules of STIX 2.1 that JSON alone
// does not enforce, and returns the first problem as a *focal.Error
// (EINVALID) whose message names the object and the property, e.g.
// "indicator--…: pattern: at byte 5: …". It checks:
//
//   - for every object: a valid type name, an identifier "<type>--<uuid>"
//     starting with the type, property names of 3–250 characters of a–z,
//     0–9 and "_" (other than "id"), extension names that are an
//     extension-definition identifier or end in "-ext", and the shape of
//     the common properties that are present (created_by_ref an identity,
//     object_marking_refs marking definitions, confidence 0–100,
//     external references with a source_name, granular markings with
//     selectors);
//   - for domain and relationship objects: spec_version "2.1", created and
//     modified, modified not before created; for marking definitions:
//     spec_version "2.1" and created; for cyber-observables: spec_version
//     "2.1" if present;
//   - per type, the required properties: indicator pattern, pattern_type
//     and valid_from (valid_until after valid_from; the pattern parses when
//     pattern_type is "stix"); observed-data first_observed,
//     last_observed (not before first_observed), number_observed
//     (1–999,999,999) and object_refs; sighting sighting_of_ref; report
//     name, published and object_refs; identity, incident and
//     vulnerability name; malware is_family (and name for a family);
//     relationship relationship_type, source_ref and target_ref; note
//     content and object_refs; value for ipv4-addr, ipv6-addr,
//     domain-name, url, email-addr and mac-addr; number for
//     autonomous-system; hashes or name for file.
//
// Objects of unknown types get only the checks for every object.
func Validate(o Object) error {
	if len(o.raw) == 0 {
		return invalidf("object", "empty object")
	}
	v := &validator{where: where(o.Common)}
	if err := json.Unmarshal(o.raw, &v.props); err != nil {
		return invalidf(v.where, "%s", jsonProblem(err))
	}
	if err := v.check(); err != nil {
		return invalidf(v.where, "%s", err.Error())
	}
	return nil
}

// ValidateBundle validates every object of a bundle, returning the first
// problem.
func ValidateBundle(b Bundle) error {
	if err := CheckID(b.ID, "bundle"); err != nil {
		return invalidf("bundle", "id: %v", err)
	}
	for i, o := range b.Objects {
		if err := Validate(o); err != nil {
			var fe *focal.Error
			if errors.As(err, &fe) {
				return invalidf(b.ID, "objects[%d]: %s", i, fe.Error())
			}
			return err
		}
	}
	return nil
}

type validator struct {
	where string
	props map[string]json.RawMessage
}

// propError is a problem with one property.
type propError struct {
	prop string
	msg  string
}

// Error returns "property: message".
func (e *propError) Error() string {
	if e.prop == "" {
		return e.msg
	}
	return e.prop + ": " + e.msg
}

func perr(prop, format string, args ...any) error {
	return &propError{prop: prop, msg: fmt.Sprintf(format, args...)}
}

func (v *validator) has(prop string) bool {
	raw, ok := v.props[prop]
	return ok && !bytes.Equal(bytes.TrimSpace(raw), []byte("null"))
}

func (v *validator) require(props ...string) error {
	for _, p := range props {
		if !v.has(p) {
			return perr(p, "required")
		}
	}
	return nil
}

func (v *validator) str(prop string, required bool) (string, error) {
	if !v.has(prop) {
		if required {
			return "", perr(prop, "required")
		}
		return "", nil
	}
	var s string
	if err := json.Unmarshal(v.props[prop], &s); err != nil {
		return "", perr(prop, "want a string")
	}
	if required && strings.TrimSpace(s) == "" {
		return "", perr(prop, "required, got an empty string")
	}
	return s, nil
}

func (v *validator) time(prop string, required bool) (Timestamp, error) {
	if !v.has(prop) {
		if required {
			return Timestamp{}, perr(prop, "required")
		}
		return Timestamp{}, nil
	}
	var t Timestamp
	if err := json.Unmarshal(v.props[prop], &t); err != nil {
		return Timestamp{}, perr(prop, "%v", err)
	}
	return t, nil
}

func (v *validator) integer(prop string, required bool, lo, hi int64) error {
	if !v.has(prop) {
		if required {
			return perr(prop, "required")
		}
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(v.props[prop], &n); err != nil {
		return perr(prop, "want an integer")
	}
	i, err := n.Int64()
	if err != nil || i < lo || i > hi {
		return perr(prop, "want an integer from %d to %d, got %s", lo, hi, quoteShort(n.String()))
	}
	return nil
}

// ref checks a reference property: an identifier, of one of types if any
// are given.
func (v *validator) ref(prop string, required bool, types ...string) error {
	s, err := v.str(prop, required)
	if err != nil || s == "" {
		return err
	}
	return checkRef(prop, s, types)
}

func checkRef(prop, s string, types []string) error {
	t, _, err := SplitID(s)
	if err != nil {
		return perr(prop, "%v", err)
	}
	if len(types) > 0 && !containsString(types, t) {
		return perr(prop, "want a reference to %s, got %s", strings.Join(types, " or "), quoteShort(s))
	}
	return nil
}

// refs checks a list of references.
func (v *validator) refs(prop string, required bool, types ...string) error {
	if !v.has(prop) {
		if required {
			return perr(prop, "required")
		}
		return nil
	}
	var list []string
	if err := json.Unmarshal(v.props[prop], &list); err != nil {
		return perr(prop, "want a list of identifiers")
	}
	if len(list) == 0 {
		return perr(prop, "want at least one identifier")
	}
	for i, s := range list {
		if err := checkRef(fmt.Sprintf("%s[%d]", prop, i), s, types); err != nil {
			return err
		}
	}
	return nil
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (v *validator) check() error {
	typ, err := v.str("type", true)
	if err != nil {
		return err
	}
	if err := checkTypeName(typ); err != nil {
		return perr("type", "%v", err)
	}
	id, err := v.str("id", true)
	if err != nil {
		return err
	}
	if err := CheckID(id, typ); err != nil {
		return perr("id", "%v", err)
	}
	for name := range v.props {
		if name != "id" && !customName(name) {
			return perr(quoteShort(name), "property names are 3 to 250 characters of a-z, 0-9 and _")
		}
	}
	if err := v.common(typ); err != nil {
		return err
	}
	switch objectKind(typ) {
	case kindSDO:
		if err := v.versioned(); err != nil {
			return err
		}
	case kindMarking:
		if err := v.specVersion(true); err != nil {
			return err
		}
		if _, err := v.time("created", true); err != nil {
			return err
		}
		if v.has("definition_type") && !v.has("definition") {
			return perr("definition", "required with definition_type")
		}
	case kindSCO:
		if err := v.specVersion(false); err != nil {
			return err
		}
	}
	return v.typeRules(typ)
}

func (v *validator) specVersion(required bool) error {
	s, err := v.str("spec_version", required)
	if err != nil {
		return err
	}
	if s != "" && s != SpecVersion {
		return perr("spec_version", "want %q, got %s", SpecVersion, quoteShort(s))
	}
	return nil
}

// versioned checks the properties of domain and relationship objects.
func (v *validator) versioned() error {
	if err := v.specVersion(true); err != nil {
		return err
	}
	created, err := v.time("created", true)
	if err != nil {
		return err
	}
	modified, err := v.time("modified", true)
	if err != nil {
		return err
	}
	if modified.Before(created.Time) {
		return perr("modified", "%s is before created %s", modified, created)
	}
	return nil
}

// common checks the shape of the common properties that are present.
func (v *validator) common(typ string) error {
	if err := v.ref("created_by_ref", false, "identity"); err != nil {
		return err
	}
	if err := v.refs("object_marking_refs", false, "marking-definition"); err != nil {
		return err
	}
	if err := v.integer("confidence", false, 0, 100); err != nil {
		return err
	}
	if v.has("revoked") {
		var b bool
		if err := json.Unmarshal(v.props["revoked"], &b); err != nil {
			return perr("revoked", "want a boolean")
		}
	}
	if v.has("labels") {
		var l []string
		if err := json.Unmarshal(v.props["labels"], &l); err != nil {
			return perr("labels", "want a list of strings")
		}
	}
	if v.has("external_references") {
		var refs []ExternalReference
		if err := json.Unmarshal(v.props["external_references"], &refs); err != nil {
			return perr("external_references", "%s", jsonProblem(err))
		}
		for i, r := range refs {
			if r.SourceName == "" {
				return perr(fmt.Sprintf("external_references[%d].source_name", i), "required")
			}
		}
	}
	if v.has("granular_markings") {
		var gm []GranularMarking
		if err := json.Unmarshal(v.props["granular_markings"], &gm); err != nil {
			return perr("granular_markings", "%s", jsonProblem(err))
		}
		for i, g := range gm {
			p := fmt.Sprintf("granular_markings[%d]", i)
			if len(g.Selectors) == 0 {
				return perr(p+".selectors", "want at least one selector")
			}
			if (g.MarkingRef == "") == (g.Lang == "") {
				return perr(p, "want either marking_ref or lang")
			}
			if g.MarkingRef != "" {
				if err := checkRef(p+".marking_ref", g.MarkingRef, []string{"marking-definition"}); err != nil {
					return err
				}
			}
		}
	}
	if v.has("extensions") {
		var ext map[string]json.RawMessage
		if err := json.Unmarshal(v.props["extensions"], &ext); err != nil {
			return perr("extensions", "want an object")
		}
		for name := range ext {
			if strings.HasSuffix(name, "-ext") {
				continue
			}
			if err := CheckID(name, "extension-definition"); err != nil {
				return perr("extensions", "%s is neither an extension-definition identifier nor a name ending in -ext", quoteShort(name))
			}
		}
	}
	return nil
}

// typeRules checks the properties each known type requires.
func (v *validator) typeRules(typ string) error {
	switch typ {
	case "indicator":
		pattern, err := v.str("pattern", true)
		if err != nil {
			return err
		}
		pt, err := v.str("pattern_type", true)
		if err != nil {
			return err
		}
		from, err := v.time("valid_from", true)
		if err != nil {
			return err
		}
		until, err := v.time("valid_until", false)
		if err != nil {
			return err
		}
		if !until.IsZero() && !until.After(from.Time) {
			return perr("valid_until", "%s is not after valid_from %s", until, from)
		}
		if pt == "stix" {
			if _, err := ParsePattern(pattern); err != nil {
				return err // "pattern: at byte N: …"
			}
		}
	case "observed-data":
		first, err := v.time("first_observed", true)
		if err != nil {
			return err
		}
		last, err := v.time("last_observed", true)
		if err != nil {
			return err
		}
		if last.Before(first.Time) {
			return perr("last_observed", "%s is before first_observed %s", last, first)
		}
		if err := v.integer("number_observed", true, 1, 999_999_999); err != nil {
			return err
		}
		if v.has("objects") && !v.has("object_refs") {
			return nil // the deprecated STIX 2.0 form
		}
		return v.refs("object_refs", true)
	case "sighting":
		if err := v.ref("sighting_of_ref", true); err != nil {
			return err
		}
		first, err := v.time("first_seen", false)
		if err != nil {
			return err
		}
		last, err := v.time("last_seen", false)
		if err != nil {
			return err
		}
		if !first.IsZero() && !last.IsZero() && last.Before(first.Time) {
			return perr("last_seen", "%s is before first_seen %s", last, first)
		}
		if err := v.integer("count", false, 0, 999_999_999); err != nil {
			return err
		}
		if err := v.refs("observed_data_refs", false, "observed-data"); err != nil {
			return err
		}
		return v.refs("where_sighted_refs", false, "identity", "location")
	case "report":
		if _, err := v.str("name", true); err != nil {
			return err
		}
		if _, err := v.time("published", true); err != nil {
			return err
		}
		return v.refs("object_refs", true)
	case "identity", "incident", "vulnerability":
		_, err := v.str("name", true)
		return err
	case "malware":
		if !v.has("is_family") {
			return perr("is_family", "required")
		}
		var fam bool
		if err := json.Unmarshal(v.props["is_family"], &fam); err != nil {
			return perr("is_family", "want a boolean")
		}
		_, err := v.str("name", fam)
		return err
	case "relationship":
		if _, err := v.str("relationship_type", true); err != nil {
			return err
		}
		if err := v.ref("source_ref", true); err != nil {
			return err
		}
		return v.ref("target_ref", true)
	case "note":
		if _, err := v.str("content", true); err != nil {
			return err
		}
		return v.refs("object_refs", true)
	case "ipv4-addr", "ipv6-addr", "domain-name", "url", "email-addr", "mac-addr":
		_, err := v.str("value", true)
		return err
	case "autonomous-system":
		return v.integer("number", true, 0, 4294967295)
	case "file":
		if !v.has("hashes") && !v.has("name") {
			return perr("hashes", "a file needs hashes or a name")
		}
		if v.has("hashes") {
			var h map[string]string
			if err := json.Unmarshal(v.props["hashes"], &h); err != nil || len(h) == 0 {
				return perr("hashes", "want an object of hash names and hex strings")
			}
		}
		if _, err := v.str("name", false); err != nil {
			return err
		}
		return v.integer("size", false, 0, 1<<62)
	}
	return nil
}
