package stix

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"focal/internal/focal"
)

// SpecVersion is the STIX version this package reads and writes.
const SpecVersion = "2.1"

// Common holds the properties shared by STIX objects (STIX 2.1 §3.2 for
// domain and relationship objects, §6.1 for cyber-observables, which use
// only Type, SpecVersion, ID, ObjectMarkingRefs, GranularMarkings,
// Defanged and Extensions). Optional properties left at their zero value
// are not written. Custom holds custom properties (names starting "x_"),
// which the typed structs write after the others, in name order.
type Common struct {
	Type               string                     `json:"type"`
	SpecVersion        string                     `json:"spec_version,omitempty"`
	ID                 string                     `json:"id"`
	CreatedByRef       string                     `json:"created_by_ref,omitempty"`
	Created            Timestamp                  `json:"created,omitzero"`
	Modified           Timestamp                  `json:"modified,omitzero"`
	Revoked            bool                       `json:"revoked,omitempty"`
	Labels             []string                   `json:"labels,omitempty"`
	Confidence         *int                       `json:"confidence,omitempty"`
	Lang               string                     `json:"lang,omitempty"`
	ExternalReferences []ExternalReference        `json:"external_references,omitempty"`
	ObjectMarkingRefs  []string                   `json:"object_marking_refs,omitempty"`
	GranularMarkings   []GranularMarking          `json:"granular_markings,omitempty"`
	Defanged           bool                       `json:"defanged,omitempty"`
	Extensions         map[string]json.RawMessage `json:"extensions,omitempty"`

	// Custom maps custom property names ("x_…") to their JSON values.
	Custom map[string]json.RawMessage `json:"-"`
}

// ExternalReference points to information outside STIX (§2.5), e.g. a
// CVE: {"source_name": "cve", "external_id": "CVE-2024-3094"}.
type ExternalReference struct {
	SourceName  string            `json:"source_name"`
	Description string            `json:"description,omitempty"`
	URL         string            `json:"url,omitempty"`
	Hashes      map[string]string `json:"hashes,omitempty"`
	ExternalID  string            `json:"external_id,omitempty"`
}

// GranularMarking applies a marking to some properties of an object (§7.2.3).
type GranularMarking struct {
	Lang       string   `json:"lang,omitempty"`
	MarkingRef string   `json:"marking_ref,omitempty"`
	Selectors  []string `json:"selectors"`
}

// KillChainPhase is a phase of a kill chain (§2.8).
type KillChainPhase struct {
	KillChainName string `json:"kill_chain_name"`
	PhaseName     string `json:"phase_name"`
}

// Object is any STIX object: its JSON exactly as decoded or built, and its
// common properties decoded from that JSON. The zero value is not a valid
// object. An Object is immutable: Common is a decoded copy, and changing it
// does not change what MarshalJSON writes, which is always Raw. Objects of
// types this package does not know, and custom properties, therefore pass
// through unchanged.
type Object struct {
	Common
	raw json.RawMessage
}

// Raw returns the object's JSON. The caller must not modify it.
func (o Object) Raw() json.RawMessage { return o.raw }

// MarshalJSON returns the object's JSON unchanged. Note that json.Marshal
// and json.Encoder compact what MarshalJSON returns (and json.Marshal
// escapes <, > and & in strings); call MarshalJSON directly, as
// Bundle.MarshalJSON does, to keep the bytes exactly.
func (o Object) MarshalJSON() ([]byte, error) {
	if len(o.raw) == 0 {
		return nil, errors.New("stix: marshal of an empty Object")
	}
	return o.raw, nil
}

// UnmarshalJSON decodes an object as Decode does.
func (o *Object) UnmarshalJSON(b []byte) error {
	v, err := Decode(b)
	if err != nil {
		return err
	}
	*o = v
	return nil
}

// Decode reads one STIX object. It checks that data is a JSON object with a
// string "type" and "id" and that the common properties have the right JSON
// types, and keeps a copy of data as the object's raw JSON. It does not
// check the rules Validate checks. The caller bounds the size of data.
// Errors are *focal.Error (EINVALID) naming the object and the property.
func Decode(data []byte) (Object, error) {
	data = bytes.TrimSpace(data)
	if len(data) == 0 || data[0] != '{' {
		return Object{}, invalidf("object", "want a JSON object")
	}
	var c Common
	if err := decodeCommon(data, &c); err != nil {
		return Object{}, invalidf(where(c), "%s", jsonProblem(err))
	}
	if c.Type == "" {
		return Object{}, invalidf(where(c), "type: required")
	}
	if c.ID == "" {
		return Object{}, invalidf(where(c), "id: required")
	}
	return Object{Common: c, raw: bytes.Clone(data)}, nil
}

// decodeCommon reads the common properties and the custom ones of data.
func decodeCommon(data []byte, c *Common) error {
	type plain Common
	return unmarshalCustom(data, (*plain)(c), c)
}

// NewObject encodes v, one of this package's typed structs or any value
// that encodes to a STIX object, and decodes the result as an Object.
func NewObject(v any) (Object, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return Object{}, fmt.Errorf("stix: encode %T: %w", v, err)
	}
	return Decode(b)
}

// MustObject is NewObject for values known to encode; it panics on error.
// It is meant for tests and package-level tables.
func MustObject(v any) Object {
	o, err := NewObject(v)
	if err != nil {
		panic(err)
	}
	return o
}

// typed is implemented by the typed structs.
type typed interface {
	objectType() string
}

// As decodes the object into v, a pointer to one of the typed structs or
// any other value encoding/json can decode into. For a typed struct it
// first checks that the object has the struct's type.
func (o Object) As(v any) error {
	if t, ok := v.(typed); ok && t.objectType() != o.Type {
		return invalidf(where(o.Common), "type: want %s, got %s", t.objectType(), quoteShort(o.Type))
	}
	if err := json.Unmarshal(o.raw, v); err != nil {
		return invalidf(where(o.Common), "%s", jsonProblem(err))
	}
	return nil
}

// Bundle is a STIX bundle (§8): a container of objects with no meaning of
// its own. A 2.1 bundle has no spec_version.
type Bundle struct {
	ID      string
	Objects []Object
}

// NewBundle returns a bundle with a new random id holding objs.
func NewBundle(objs ...Object) Bundle {
	return Bundle{ID: NewID("bundle"), Objects: objs}
}

// MarshalJSON writes {"type":"bundle","id":…,"objects":[…]}, leaving out
// objects when there are none. Each object is written exactly as its Raw;
// json.Marshal of a Bundle compacts the result (see Object.MarshalJSON).
func (b Bundle) MarshalJSON() ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString(`{"type":"bundle","id":`)
	buf.WriteString(strconv.Quote(b.ID))
	if len(b.Objects) > 0 {
		buf.WriteString(`,"objects":[`)
		for i, o := range b.Objects {
			if i > 0 {
				buf.WriteByte(',')
			}
			raw, err := o.MarshalJSON()
			if err != nil {
				return nil, fmt.Errorf("objects[%d]: %w", i, err)
			}
			buf.Write(raw)
		}
		buf.WriteByte(']')
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

// UnmarshalJSON decodes a bundle as DecodeBundle does.
func (b *Bundle) UnmarshalJSON(data []byte) error {
	v, err := DecodeBundle(data)
	if err != nil {
		return err
	}
	*b = v
	return nil
}

// DecodeBundle reads a bundle: type "bundle", an id "bundle--<uuid>" and
// objects, each read by Decode. Other bundle properties (the spec_version
// of STIX 2.0 bundles) are ignored. The caller bounds the size of data.
func DecodeBundle(data []byte) (Bundle, error) {
	var raw struct {
		Type    *string           `json:"type"`
		ID      string            `json:"id"`
		Objects []json.RawMessage `json:"objects"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return Bundle{}, invalidf("bundle", "%s", jsonProblem(err))
	}
	switch {
	case raw.Type == nil:
		return Bundle{}, invalidf("bundle", "type: required")
	case *raw.Type != "bundle":
		return Bundle{}, invalidf("bundle", "type: want bundle, got %s", quoteShort(*raw.Type))
	}
	if err := CheckID(raw.ID, "bundle"); err != nil {
		return Bundle{}, invalidf("bundle", "id: %v", err)
	}
	b := Bundle{ID: raw.ID, Objects: make([]Object, 0, len(raw.Objects))}
	for i, r := range raw.Objects {
		o, err := Decode(r)
		if err != nil {
			var fe *focal.Error
			if errors.As(err, &fe) {
				return Bundle{}, invalidf(raw.ID, "objects[%d]: %s", i, fe.Error())
			}
			return Bundle{}, err
		}
		b.Objects = append(b.Objects, o)
	}
	return b, nil
}

// Index maps the identifiers of objs to the objects; of several versions of
// one object it keeps the latest (greatest modified), and of equal ones the
// last. ToEvents resolves references through it.
func Index(objs []Object) map[string]Object {
	m := make(map[string]Object, len(objs))
	for _, o := range objs {
		if old, ok := m[o.ID]; ok && old.Modified.After(o.Modified.Time) {
			continue
		}
		m[o.ID] = o
	}
	return m
}

// invalidf returns an EINVALID *focal.Error about object where.
func invalidf(where, format string, args ...any) *focal.Error {
	return &focal.Error{Code: focal.EINVALID, Field: where, Message: fmt.Sprintf(format, args...)}
}

// where names an object in an error: its id, else its type.
func where(c Common) string {
	switch {
	case c.ID != "":
		return shortRef(c.ID)
	case c.Type != "":
		return shortRef(c.Type)
	}
	return "object"
}

// shortRef cuts an identifier from untrusted input for an error message.
func shortRef(s string) string {
	if len(s) > 300 {
		return s[:300] + "…"
	}
	return s
}

// jsonProblem rewrites an encoding/json error to name the property.
func jsonProblem(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		return fmt.Sprintf("%s: want a JSON %s, got %s", te.Field, jsonKind(te.Type.Kind().String()), te.Value)
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("malformed JSON at byte %d: %v", se.Offset, se.Error())
	}
	msg := err.Error()
	// Errors from our own UnmarshalJSON methods arrive without the field;
	// encoding/json wraps them as is.
	return strings.TrimPrefix(msg, "json: ")
}

// jsonKind names the JSON type a Go kind decodes from.
func jsonKind(k string) string {
	switch k {
	case "slice", "array":
		return "array"
	case "map", "struct":
		return "object"
	case "string":
		return "string"
	case "bool":
		return "boolean"
	case "ptr", "interface":
		return "value"
	}
	return "number"
}

// customName reports whether name is a valid custom property name in STIX
// 2.1 (§11.1): 3–250 characters of a–z, 0–9 and "_". focal writes custom
// properties with the "x_" prefix recommended for them.
func customName(name string) bool {
	if len(name) < 3 || len(name) > 250 {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || isDigit(c) || c == '_') {
			return false
		}
	}
	return true
}

// marshalCustom encodes v (a typed struct converted to a type without
// methods) and appends the custom properties in name order.
func marshalCustom(v any, custom map[string]json.RawMessage) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	if len(custom) == 0 {
		return b, nil
	}
	b = b[:len(b)-1] // drop '}'
	for _, k := range slices.Sorted(maps.Keys(custom)) {
		if !strings.HasPrefix(k, "x_") || !customName(k) {
			return nil, fmt.Errorf("stix: custom property name %s: want x_ and 1-248 characters of a-z, 0-9 and _", quoteShort(k))
		}
		val := custom[k]
		if !json.Valid(val) {
			return nil, fmt.Errorf("stix: custom property %s: invalid JSON", k)
		}
		var c bytes.Buffer
		if err := json.Compact(&c, val); err != nil {
			return nil, fmt.Errorf("stix: custom property %s: %v", k, err)
		}
		b = append(b, ',')
		b = strconv.AppendQuote(b, k)
		b = append(b, ':')
		b = append(b, c.Bytes()...)
	}
	return append(b, '}'), nil
}

// unmarshalCustom decodes data into v (a typed struct converted to a type
// without methods) and collects the custom properties ("x_…") into c. The
// JSON is compacted first, so that json.RawMessage fields do not depend on
// the input's white space.
func unmarshalCustom(data []byte, v any, c *Common) error {
	var buf bytes.Buffer
	if err := json.Compact(&buf, data); err != nil {
		return err
	}
	data = buf.Bytes()
	if err := json.Unmarshal(data, v); err != nil {
		return locate(data, v, err)
	}
	c.Custom = nil
	// Most objects have no custom property: skip the second parse unless
	// a key could start with x_ (a string value holding "x_ only costs
	// the parse).
	if !bytes.Contains(data, []byte(`"x_`)) {
		return nil
	}
	var all map[string]json.RawMessage
	if err := json.Unmarshal(data, &all); err != nil {
		return err
	}
	for k, val := range all {
		if strings.HasPrefix(k, "x_") {
			if c.Custom == nil {
				c.Custom = make(map[string]json.RawMessage)
			}
			c.Custom[k] = val
		}
	}
	return nil
}

// SetCustom sets custom property name (which must start with "x_") to the
// JSON encoding of v.
func (c *Common) SetCustom(name string, v any) error {
	if !strings.HasPrefix(name, "x_") || !customName(name) {
		return fmt.Errorf("stix: custom property name %s: want x_ and 1-248 characters of a-z, 0-9 and _", quoteShort(name))
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("stix: custom property %s: %w", name, err)
	}
	if c.Custom == nil {
		c.Custom = make(map[string]json.RawMessage)
	}
	c.Custom[name] = b
	return nil
}

// CustomString returns custom property name as a string, if it is one.
func (c Common) CustomString(name string) (string, bool) {
	raw, ok := c.Custom[name]
	if !ok {
		return "", false
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", false
	}
	return s, true
}

// defaults fills in the type and spec_version of a typed struct.
func (c *Common) defaults(typ string) {
	if c.Type == "" {
		c.Type = typ
	}
	if c.SpecVersion == "" {
		c.SpecVersion = SpecVersion
	}
}

// locate names the property an error from a json.Unmarshaler (such as
// Timestamp's) is about, which encoding/json does not: it decodes the
// properties of data one at a time into a new value of v's type until one
// fails.
func locate(data []byte, v any, err error) error {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	if errors.As(err, &te) || errors.As(err, &se) {
		return err
	}
	var all map[string]json.RawMessage
	if json.Unmarshal(data, &all) != nil {
		return err
	}
	t := reflect.TypeOf(v)
	if t.Kind() != reflect.Pointer {
		return err
	}
	for _, k := range slices.Sorted(maps.Keys(all)) {
		one, mErr := json.Marshal(map[string]json.RawMessage{k: all[k]})
		if mErr != nil {
			continue
		}
		if e := json.Unmarshal(one, reflect.New(t.Elem()).Interface()); e != nil {
			return fmt.Errorf("%s: %s", k, strings.TrimPrefix(e.Error(), "json: "))
		}
	}
	return err
}
