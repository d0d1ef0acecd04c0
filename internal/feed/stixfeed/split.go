package stixfeed

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"focal/internal/feed"
	"focal/internal/focal"
)

// Bounds on what Split holds while it waits for objects that observed-data
// records reference from elsewhere in the bundle.
const (
	// MaxSCOs bounds the cyber-observable objects (ipv4-addr, ipv6-addr,
	// domain-name, url) kept for resolving object_refs.
	MaxSCOs = 100_000
	// MaxBuffered bounds the bytes kept for those objects and for the
	// observed-data records waiting for them.
	MaxBuffered = 64 << 20
	// maxObject bounds the properties Split keeps of one object.
	maxObject = feed.MaxJSONValue
)

// The bounds in force; tests lower them.
var (
	maxSCOs     = MaxSCOs
	maxBuffered = MaxBuffered
)

// keep lists the properties Split keeps; every other property is skipped
// without being held in memory.
var keep = map[string]bool{
	"type": true, "id": true, "spec_version": true, "revoked": true,
	"pattern": true, "pattern_type": true, "valid_from": true,
	"labels": true, "indicator_types": true, "confidence": true,
	"object_marking_refs": true, "first_observed": true,
	"last_observed": true, "number_observed": true, "objects": true,
	"object_refs": true, "value": true,
}

// scoTypes are the cyber-observable types that become events.
var scoTypes = map[string]bool{"ipv4-addr": true, "ipv6-addr": true, "domain-name": true, "url": true}

// wanted reports whether Split needs objects of type t.
func wanted(t string) bool { return t == "indicator" || t == "observed-data" || scoTypes[t] }

type prop struct {
	name string
	raw  []byte // compact JSON
}

type sco struct{ typ, value string }

// pendingOD is an observed-data record waiting for the end of the bundle
// to resolve its object_refs.
type pendingOD struct {
	line  int
	id    string
	props []prop // without object_refs
	refs  []string
}

type splitter struct {
	s       *feed.JSONStream
	emit    func(int, []byte) error
	report  feed.Report
	scos    map[string]sco
	pending []*pendingOD
	used    int  // bytes held in scos and pending
	full    bool // an object was not kept because the buffer was full
}

// Split streams a STIX 2.x bundle and emits its indicator and
// observed-data objects as records, each one line of compact JSON with
// the properties Record reads. Observed-data that references its objects
// through object_refs gets the referenced ipv4-addr, ipv6-addr,
// domain-name and url objects inlined as an "objects" dictionary; when a
// reference points forward, the record waits for the end of the bundle.
// Other objects are skipped. Elements that are not objects, objects
// without a type and references that cannot be resolved are reported.
// The run fails when the input is not a JSON object with "type":
// "bundle" (or a TAXII envelope with "objects"), or when the JSON breaks.
func Split(r io.Reader, _ feed.Run, emit func(line int, rec []byte) error, report feed.Report) error {
	sp := &splitter{s: feed.NewJSONStream(r), emit: emit, report: report, scos: map[string]sco{}}
	return sp.run()
}

func (sp *splitter) problem(line int, reason string, raw []byte) {
	if sp.report != nil {
		sp.report(feed.Problem{Line: line, Reason: reason, Raw: feed.Cut(string(raw), focal.MaxRawLine)})
	}
}

func (sp *splitter) run() error {
	s := sp.s
	tok, err := s.Token()
	if errors.Is(err, io.EOF) {
		return fmt.Errorf("%s: empty input, want a STIX bundle", Format)
	}
	if err != nil {
		return s.Fail(Format, err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return fmt.Errorf("%s: line %d: top-level value is %s, want a STIX bundle object ({\"type\": \"bundle\", \"objects\": [...]})",
			Format, s.Line(), feed.DescribeToken(tok))
	}
	sawType, sawObjects := false, false
	for s.More() {
		k, err := s.Key()
		if err != nil {
			return s.Fail(Format, err)
		}
		switch k {
		case "type":
			t, err := s.Token()
			if err != nil {
				return s.Fail(Format, err)
			}
			if v, ok := t.(string); !ok || v != "bundle" {
				what := feed.DescribeToken(t)
				if ok {
					what = fmt.Sprintf("%q", feed.Cut(v, 64))
				}
				if err := s.SkipRest(t); err != nil {
					return s.Fail(Format, err)
				}
				return fmt.Errorf("%s: line %d: the top-level object's type is %s, want \"bundle\": not a STIX bundle", Format, s.Line(), what)
			}
			sawType = true
		case "objects":
			if err := sp.objects(); err != nil {
				return err
			}
			sawObjects = true
		default:
			if err := s.Skip(); err != nil {
				return s.Fail(Format, err)
			}
		}
	}
	if _, err := s.Token(); err != nil {
		return s.Fail(Format, err)
	}
	if err := s.End(Format); err != nil {
		return err
	}
	if !sawType && !sawObjects {
		return fmt.Errorf("%s: the top-level object has neither \"type\": \"bundle\" nor \"objects\": not a STIX bundle", Format)
	}
	return sp.finish()
}

func (sp *splitter) objects() error {
	s := sp.s
	t, err := s.Token()
	if err != nil {
		return s.Fail(Format, err)
	}
	if t == nil {
		return nil // "objects": null
	}
	if d, ok := t.(json.Delim); !ok || d != '[' {
		return fmt.Errorf("%s: line %d: \"objects\" is %s, want an array of STIX objects", Format, s.Line(), feed.DescribeToken(t))
	}
	for i := 0; s.More(); i++ {
		if err := sp.object(i); err != nil {
			return err
		}
	}
	if _, err := s.Token(); err != nil {
		return s.Fail(Format, err)
	}
	return nil
}

// object reads objects[i].
func (sp *splitter) object(i int) error {
	s := sp.s
	t, err := s.Token()
	if err != nil {
		return s.Fail(Format, err)
	}
	line := s.LineBefore()
	if d, ok := t.(json.Delim); !ok || d != '{' {
		sp.problem(line, fmt.Sprintf("objects[%d] is %s, want a STIX object", i, feed.DescribeToken(t)), nil)
		if err := s.SkipRest(t); err != nil {
			return s.Fail(Format, err)
		}
		return nil
	}
	var (
		props    []prop
		typ      string
		typeSeen bool
		size     int
		reason   string // why the object is not used
	)
	for s.More() {
		k, err := s.Key()
		if err != nil {
			return s.Fail(Format, err)
		}
		if reason != "" || !keep[k] || typeSeen && !wanted(typ) {
			if err := s.Skip(); err != nil {
				return s.Fail(Format, err)
			}
			continue
		}
		raw, err := s.Value()
		if err != nil {
			return s.Fail(Format, err)
		}
		var c bytes.Buffer
		if err := json.Compact(&c, raw); err != nil {
			return s.Fail(Format, err)
		}
		size += len(k) + c.Len() + 4
		if size > maxObject {
			reason = fmt.Sprintf("objects[%d]: the properties focal reads take over %d bytes", i, maxObject)
			continue
		}
		if k == "type" {
			if json.Unmarshal(raw, &typ) != nil {
				reason = fmt.Sprintf("objects[%d]: type: want a string, got %s", i, feed.Cut(c.String(), 64))
				continue
			}
			typeSeen = true
		}
		props = append(props, prop{k, c.Bytes()})
	}
	if _, err := s.Token(); err != nil {
		return s.Fail(Format, err)
	}
	switch {
	case reason != "":
		sp.problem(line, reason, record(props))
		return nil
	case !typeSeen:
		sp.problem(line, fmt.Sprintf("objects[%d] has no \"type\"", i), record(props))
		return nil
	}
	switch {
	case typ == "indicator":
		if isTrue(get(props, "revoked")) {
			return nil
		}
		return sp.send(line, props)
	case typ == "observed-data":
		if isTrue(get(props, "revoked")) {
			return nil
		}
		return sp.observed(line, props)
	case scoTypes[typ]:
		sp.keepSCO(typ, props)
	}
	return nil
}

// send emits a record, or reports it when it is over feed.MaxRecord.
func (sp *splitter) send(line int, props []prop) error {
	rec := record(props)
	if len(rec) > feed.MaxRecord {
		sp.problem(line, fmt.Sprintf("%s: record over %d bytes", idOf(props), feed.MaxRecord), rec)
		return nil
	}
	return sp.emit(line, rec)
}

// observed handles an observed-data object: embedded objects are reduced
// to the observables Record reads; object_refs are resolved now when they
// can be, or when the buffer is full, and at the end of the bundle
// otherwise.
func (sp *splitter) observed(line int, props []prop) error {
	if raw := get(props, "objects"); raw != nil {
		return sp.send(line, with(without(props, "object_refs"), "objects", reduceEmbedded(raw)))
	}
	raw := get(props, "object_refs")
	var refs []string
	if raw == nil || json.Unmarshal(raw, &refs) != nil {
		return sp.send(line, props) // Record says what is wrong
	}
	od := &pendingOD{line: line, id: idOf(props), props: without(props, "object_refs")}
	seen := map[string]bool{}
	for _, r := range refs {
		if t, _, ok := strings.Cut(r, "--"); ok && scoTypes[t] && !seen[r] {
			seen[r] = true
			od.refs = append(od.refs, r)
		}
	}
	if len(od.refs) == 0 {
		return sp.send(line, od.props) // Record says there is nothing to read
	}
	resolved := true
	for _, r := range od.refs {
		if _, ok := sp.scos[r]; !ok {
			resolved = false
			break
		}
	}
	cost := len(record(od.props))
	for _, r := range od.refs {
		cost += len(r) + 16
	}
	if !resolved && sp.used+cost <= maxBuffered {
		sp.used += cost
		sp.pending = append(sp.pending, od)
		return nil
	}
	if !resolved {
		sp.full = true
	}
	return sp.resolve(od, !resolved)
}

// keepSCO remembers an observable for resolving references.
func (sp *splitter) keepSCO(typ string, props []prop) {
	id := idOf(props)
	var value string
	if raw := get(props, "value"); raw != nil {
		if json.Unmarshal(raw, &value) != nil {
			value = ""
		}
	}
	if id == "" {
		return
	}
	if _, dup := sp.scos[id]; dup {
		return
	}
	cost := len(id) + len(value) + 64
	if len(sp.scos) >= maxSCOs || sp.used+cost > maxBuffered {
		sp.full = true
		return
	}
	sp.used += cost
	sp.scos[id] = sco{typ, value}
}

// finish resolves the observed-data records that waited for the end.
func (sp *splitter) finish() error {
	for _, od := range sp.pending {
		if err := sp.resolve(od, false); err != nil {
			return err
		}
	}
	sp.pending = nil
	return nil
}

// resolve inlines the observables od references and emits the record,
// reporting references that were not found. early says the bundle was
// not read to its end because the buffer was full.
func (sp *splitter) resolve(od *pendingOD, early bool) error {
	var objs bytes.Buffer
	objs.WriteByte('{')
	var missing []string
	n := 0
	for _, r := range od.refs {
		o, ok := sp.scos[r]
		if !ok {
			missing = append(missing, r)
			continue
		}
		if n > 0 {
			objs.WriteByte(',')
		}
		n++
		k, _ := json.Marshal(r)
		v, _ := json.Marshal(struct {
			Type  string `json:"type"`
			Value string `json:"value"`
		}{o.typ, o.value})
		objs.Write(k)
		objs.WriteByte(':')
		objs.Write(v)
	}
	objs.WriteByte('}')
	props := with(od.props, "objects", objs.Bytes())
	if len(missing) > 0 {
		list := strings.Join(missing[:min(len(missing), 3)], ", ")
		if len(missing) > 3 {
			list += fmt.Sprintf(" and %d more", len(missing)-3)
		}
		reason := fmt.Sprintf("%s: object_refs not found in the bundle: %s", od.id, list)
		if early || sp.full {
			reason += fmt.Sprintf(" (focal holds at most %d observables and %d bytes of a bundle while resolving references; this bundle has more)", maxSCOs, maxBuffered)
		}
		sp.problem(od.line, reason, record(props))
	}
	if n == 0 {
		return nil
	}
	return sp.send(od.line, props)
}

// reduceEmbedded keeps, of an observed-data's embedded objects dictionary,
// the ipv4-addr, ipv6-addr, domain-name and url objects with their type
// and value. Anything that is not a dictionary is passed on for Record to
// report.
func reduceEmbedded(raw []byte) []byte {
	var objs map[string]json.RawMessage
	if json.Unmarshal(raw, &objs) != nil {
		return raw
	}
	out := map[string]sco{}
	for k, v := range objs {
		var o struct {
			Type  string `json:"type"`
			Value any    `json:"value"`
		}
		if json.Unmarshal(v, &o) != nil || !scoTypes[o.Type] {
			continue
		}
		s, _ := o.Value.(string)
		out[k] = sco{o.Type, s}
	}
	type pair struct {
		Type  string `json:"type"`
		Value string `json:"value"`
	}
	m := make(map[string]pair, len(out))
	for k, v := range out {
		m[k] = pair{v.typ, v.value}
	}
	b, _ := json.Marshal(m)
	return b
}

// record renders props as one compact JSON object.
func record(props []prop) []byte {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, p := range props {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(p.name)
		b.Write(k)
		b.WriteByte(':')
		b.Write(p.raw)
	}
	b.WriteByte('}')
	return b.Bytes()
}

func get(props []prop, name string) []byte {
	var v []byte
	for _, p := range props {
		if p.name == name {
			v = p.raw // the last one wins, as in encoding/json
		}
	}
	return v
}

func without(props []prop, name string) []prop {
	out := make([]prop, 0, len(props))
	for _, p := range props {
		if p.name != name {
			out = append(out, p)
		}
	}
	return out
}

func with(props []prop, name string, raw []byte) []prop {
	return append(without(props, name), prop{name, raw})
}

func idOf(props []prop) string {
	var id string
	if raw := get(props, "id"); raw != nil {
		json.Unmarshal(raw, &id) //nolint:errcheck // not a string: no id
	}
	return id
}

func isTrue(raw []byte) bool { return string(raw) == "true" }
