// Package misp reads MISP feed files into focal events (format "misp"),
// and MISP feed manifests (ParseManifest).
//
// A MISP feed is a directory of JSON files: manifest.json, an object keyed
// by event uuid that says what each event is and when it last changed,
// and one <uuid>.json per event, {"Event": {"uuid", "info", "date",
// "timestamp", "threat_level_id", "analysis", "Orgc": {...}, "Tag":
// [{"name": "tlp:amber"}, ...], "Attribute": [...], "Object": [{"name",
// "Attribute": [...]}, ...]}}. The HTTP collector fetches the manifest,
// then the events changed since its last run, and parses each with this
// format.
//
// Split streams an event file with encoding/json's token decoder and
// emits one record per attribute (of the event, or of one of its
// objects), each carrying the event context it needs: the event's uuid,
// info, date, timestamp, threat level, analysis, creator organisation
// and its tlp:, rsit:, ecsirt: and misp-galaxy: tags. MISP writes the
// event's Tag list after its attributes, so attribute records wait for
// the end of the event (at most MaxAttributes records and MaxBuffered
// bytes; an attribute beyond that is reported, not imported); when the
// context comes first they are emitted at once. Attributes are read one
// at a time, skipping what Record does not need (e.g. the base64 "data"
// of malware samples).
//
// Which attributes: those with to_ids true (every attribute with the
// option all=true), not deleted, of the types ip-src, ip-dst (an address
// or a CIDR prefix), ip-src|port, ip-dst|port, domain, hostname,
// domain|ip, url, email-src, md5, sha1 and sha256. Other types are not
// indicators of a host and are skipped without a problem.
//
// Mapping. ip-src goes to the event's source, ip-dst to its destination;
// domain, hostname, domain|ip and url to the destination (a URL without
// a scheme keeps its text; its host is read as if it had http://);
// email-src to the source as URL "mailto:address" with the domain as
// FQDN. A hash names no host, and a focal event needs a source or a
// destination, so an md5, sha1 or sha256 attribute is reported as a
// problem saying so instead of being turned into an event that
// enrichment could never match to an organisation. The classification
// comes from the attribute's tags, then the event's: rsit:class="type"
// and ecsirt:class="type" machine tags map directly (eCSIRT's older
// type names, such as c&c or botnet-drone, are translated); else from
// the attribute's category and type (see CategoryClass). The malware
// family comes from a misp-galaxy tag of a malware galaxy (malpedia,
// mitre-malware, ransomware, rat, botnet, banker, stealer, backdoor,
// android, exploit-kit). The TLP is the strictest of the feed's label and
// the tlp: tags of the attribute and the event (tlp:white is CLEAR;
// tlp:clear, tlp:green, tlp:amber, tlp:amber+strict, tlp:red), so a tag
// never makes an event less restricted than its feed. SourceTime is the
// attribute's timestamp (unix seconds), else the event's date, else the
// event's timestamp; the attribute's first_seen and last_seen, when
// present, become FirstSeen and LastSeen. Identifier is the MISP event
// uuid (or "cidr:prefix" for a prefix). DedupKey is feed + "|" +
// indicator + "|" + class/type.
//
// Contract (package feed's): never panic; an unusable attribute is a
// feed.Problem with the line where it starts, a reason naming the
// attribute and field, and the record cut to focal.MaxRawLine; parsing
// goes on. The run fails only when the input cannot be read, is not a
// MISP event file (the error says what was found, and where), has broken
// JSON or a single JSON value over feed.MaxJSONValue bytes. Every event passes
// focal.Event.Validate before it is emitted (feed.RecordEvents checks
// it); an error from Emit stops the run and is returned as is.
package misp

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"focal/internal/feed"
	"focal/internal/focal"
)

// Format is the format name.
const Format = "misp"

// Bounds on the attribute records Split holds while it waits for the
// end of an event.
const (
	MaxAttributes = 200_000
	MaxBuffered   = 64 << 20
	// maxTags bounds the tags a record carries per list.
	maxTags = 64
	// maxText bounds the event info and the attribute comment in a record.
	maxText = 512
)

// The bounds in force; tests lower them.
var (
	maxAttributes = MaxAttributes
	maxBuffered   = MaxBuffered
)

// Types lists the attribute types the format reads.
var Types = map[string]bool{
	"ip-src": true, "ip-dst": true, "ip-src|port": true, "ip-dst|port": true,
	"domain": true, "hostname": true, "domain|ip": true, "url": true,
	"email-src": true, "md5": true, "sha1": true, "sha256": true,
}

// EventContext is what every record carries of its event.
type EventContext struct {
	UUID        string   `json:"uuid,omitempty"`
	Info        string   `json:"info,omitempty"`
	Date        string   `json:"date,omitempty"`
	Timestamp   string   `json:"timestamp,omitempty"`
	ThreatLevel string   `json:"threat_level_id,omitempty"`
	Analysis    string   `json:"analysis,omitempty"`
	Orgc        string   `json:"orgc,omitempty"`
	Tags        []string `json:"tags,omitempty"`
}

// Attribute is what a record carries of its attribute.
type Attribute struct {
	Type      string   `json:"type"`
	Value     string   `json:"value"`
	Category  string   `json:"category,omitempty"`
	ToIDs     bool     `json:"to_ids"`
	UUID      string   `json:"uuid,omitempty"`
	Timestamp string   `json:"timestamp,omitempty"`
	FirstSeen string   `json:"first_seen,omitempty"`
	LastSeen  string   `json:"last_seen,omitempty"`
	Comment   string   `json:"comment,omitempty"`
	Tags      []string `json:"tags,omitempty"`
}

// AttributeRecord is one record of the format: an attribute, the name of
// the object holding it (if any) and its event's context. The attribute
// comes first so that an event's Raw shows it.
type AttributeRecord struct {
	Attribute Attribute    `json:"attribute"`
	Object    string       `json:"object,omitempty"`
	Event     EventContext `json:"event"`
}

type pendingAttr struct {
	line   int
	attr   Attribute
	object *string
}

type splitter struct {
	s       *feed.JSONStream
	all     bool
	emit    func(int, []byte) error
	report  feed.Report
	ctx     EventContext
	seen    map[string]bool
	pending []*pendingAttr
	used    int
	inObj   bool
	badTags bool // the event's Tag list could not be read
}

// Split streams a MISP event file and emits one record per attribute
// that Record reads (see the package comment).
func Split(r io.Reader, run feed.Run, emit func(line int, rec []byte) error, report feed.Report) error {
	all, _ := strconv.ParseBool(run.Options.Get("all", "false"))
	sp := &splitter{s: feed.NewJSONStream(r), all: all, emit: emit, report: report}
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
		return fmt.Errorf("%s: empty input, want a MISP event file ({\"Event\": {...}})", Format)
	}
	if err != nil {
		return s.Fail(Format, err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return fmt.Errorf("%s: line %d: top-level value is %s, want a MISP event file ({\"Event\": {...}})", Format, s.Line(), feed.DescribeToken(tok))
	}
	events := 0
	for s.More() {
		k, err := s.Key()
		if err != nil {
			return s.Fail(Format, err)
		}
		if k != "Event" {
			if err := s.Skip(); err != nil {
				return s.Fail(Format, err)
			}
			continue
		}
		events++
		if err := sp.event(); err != nil {
			return err
		}
	}
	if _, err := s.Token(); err != nil {
		return s.Fail(Format, err)
	}
	if err := s.End(Format); err != nil {
		return err
	}
	if events == 0 {
		return fmt.Errorf("%s: the top-level object has no \"Event\": not a MISP event file (a manifest.json lists events; fetch <uuid>.json)", Format)
	}
	return nil
}

// contextKeys are the event keys a record's context needs; once all were
// read, attributes are emitted without waiting for the end of the event.
var contextKeys = []string{"uuid", "info", "date", "timestamp", "Tag"}

func (sp *splitter) ready() bool {
	for _, k := range contextKeys {
		if !sp.seen[k] {
			return false
		}
	}
	return true
}

// event reads the value of "Event".
func (sp *splitter) event() error {
	s := sp.s
	t, err := s.Token()
	if err != nil {
		return s.Fail(Format, err)
	}
	if d, ok := t.(json.Delim); !ok || d != '{' {
		return fmt.Errorf("%s: line %d: \"Event\" is %s, want an object", Format, s.Line(), feed.DescribeToken(t))
	}
	sp.ctx, sp.seen, sp.pending, sp.used, sp.badTags = EventContext{}, map[string]bool{}, nil, 0, false
	for s.More() {
		k, err := s.Key()
		if err != nil {
			return s.Fail(Format, err)
		}
		switch k {
		case "uuid", "info", "date", "timestamp", "threat_level_id", "analysis":
			raw, err := s.Value()
			if err != nil {
				return s.Fail(Format, err)
			}
			v, _ := flexString(raw)
			switch k {
			case "uuid":
				sp.ctx.UUID = feed.Cut(v, 64)
			case "info":
				sp.ctx.Info = feed.Cut(v, maxText)
			case "date":
				sp.ctx.Date = feed.Cut(v, 64)
			case "timestamp":
				sp.ctx.Timestamp = feed.Cut(v, 64)
			case "threat_level_id":
				sp.ctx.ThreatLevel = feed.Cut(v, 16)
			case "analysis":
				sp.ctx.Analysis = feed.Cut(v, 16)
			}
		case "Orgc":
			raw, err := s.Value()
			if err != nil {
				return s.Fail(Format, err)
			}
			var o struct {
				Name any `json:"name"`
			}
			if json.Unmarshal(raw, &o) == nil {
				n, _ := o.Name.(string)
				sp.ctx.Orgc = feed.Cut(n, 256)
			}
		case "Tag":
			raw, err := s.Value()
			if err != nil {
				return s.Fail(Format, err)
			}
			var ok bool
			if sp.ctx.Tags, ok = tagNames(raw); !ok {
				sp.badTags = true
				sp.problem(s.Line(), fmt.Sprintf("event %s: Tag is not a list of tags; the event's attributes are not imported, since their TLP cannot be known", sp.ctx.UUID), raw)
			}
		case "Attribute":
			if err := sp.attributes(nil, "Attribute"); err != nil {
				return err
			}
		case "Object":
			if err := sp.objects(); err != nil {
				return err
			}
		default:
			if err := s.Skip(); err != nil {
				return s.Fail(Format, err)
			}
			continue
		}
		sp.seen[k] = true
		if sp.ready() {
			if err := sp.flush(); err != nil {
				return err
			}
		}
	}
	if _, err := s.Token(); err != nil {
		return s.Fail(Format, err)
	}
	return sp.flush()
}

// attributes reads an Attribute list; object is the name of the object
// holding it, or nil for the event's own.
func (sp *splitter) attributes(object *string, where string) error {
	s := sp.s
	t, err := s.Token()
	if err != nil {
		return s.Fail(Format, err)
	}
	if t == nil {
		return nil
	}
	if d, ok := t.(json.Delim); !ok || d != '[' {
		sp.problem(s.Line(), fmt.Sprintf("%s is %s, want a list of attributes", where, feed.DescribeToken(t)), nil)
		if err := s.SkipRest(t); err != nil {
			return s.Fail(Format, err)
		}
		return nil
	}
	for i := 0; s.More(); i++ {
		a, err := sp.attribute(fmt.Sprintf("%s[%d]", where, i))
		if err != nil {
			return err
		}
		if a == nil {
			continue
		}
		a.object = object
		if err := sp.add(a); err != nil {
			return err
		}
	}
	if _, err := s.Token(); err != nil {
		return s.Fail(Format, err)
	}
	return nil
}

// attribute reads one attribute; it returns nil for an attribute that is
// skipped or reported.
func (sp *splitter) attribute(where string) (*pendingAttr, error) {
	s := sp.s
	t, err := s.Token()
	if err != nil {
		return nil, s.Fail(Format, err)
	}
	line := s.LineBefore()
	if d, ok := t.(json.Delim); !ok || d != '{' {
		sp.problem(line, fmt.Sprintf("%s is %s, want an attribute object", where, feed.DescribeToken(t)), nil)
		if err := s.SkipRest(t); err != nil {
			return nil, s.Fail(Format, err)
		}
		return nil, nil
	}
	var (
		a       Attribute
		deleted bool
		reason  string
	)
	for s.More() {
		k, err := s.Key()
		if err != nil {
			return nil, s.Fail(Format, err)
		}
		switch k {
		case "type", "value", "category", "uuid", "timestamp", "first_seen", "last_seen", "comment":
			raw, err := s.Value()
			if err != nil {
				return nil, s.Fail(Format, err)
			}
			v, ok := flexString(raw)
			if !ok && string(raw) != "null" && reason == "" {
				reason = fmt.Sprintf("%s: want a string, got %s", k, feed.Cut(string(raw), 64))
			}
			switch k {
			case "type":
				a.Type = strings.ToLower(strings.TrimSpace(v))
			case "value":
				a.Value = v
			case "category":
				a.Category = feed.Cut(v, 64)
			case "uuid":
				a.UUID = feed.Cut(v, 64)
			case "timestamp":
				a.Timestamp = feed.Cut(v, 64)
			case "first_seen":
				a.FirstSeen = feed.Cut(v, 64)
			case "last_seen":
				a.LastSeen = feed.Cut(v, 64)
			case "comment":
				a.Comment = feed.Cut(v, maxText)
			}
		case "to_ids", "deleted":
			raw, err := s.Value()
			if err != nil {
				return nil, s.Fail(Format, err)
			}
			b, ok := flexBool(raw)
			if !ok && reason == "" {
				reason = fmt.Sprintf("%s: want true or false, got %s", k, feed.Cut(string(raw), 64))
			}
			if k == "to_ids" {
				a.ToIDs = b
			} else {
				deleted = b
			}
		case "Tag":
			raw, err := s.Value()
			if err != nil {
				return nil, s.Fail(Format, err)
			}
			var ok bool
			if a.Tags, ok = tagNames(raw); !ok && reason == "" {
				reason = "Tag: want a list of tags, so that the attribute's TLP can be known"
			}
		default:
			if err := s.Skip(); err != nil {
				return nil, s.Fail(Format, err)
			}
		}
	}
	if _, err := s.Token(); err != nil {
		return nil, s.Fail(Format, err)
	}
	if !Types[a.Type] || deleted {
		return nil, nil
	}
	if reason != "" {
		raw, _ := json.Marshal(a)
		sp.problem(line, fmt.Sprintf("%s (%s %s): %s", where, a.Type, a.UUID, reason), raw)
		return nil, nil
	}
	if !a.ToIDs && !sp.all {
		return nil, nil
	}
	return &pendingAttr{line: line, attr: a}, nil
}

// objects reads the event's Object list.
func (sp *splitter) objects() error {
	s := sp.s
	t, err := s.Token()
	if err != nil {
		return s.Fail(Format, err)
	}
	if t == nil {
		return nil
	}
	if d, ok := t.(json.Delim); !ok || d != '[' {
		sp.problem(s.Line(), fmt.Sprintf("Object is %s, want a list of objects", feed.DescribeToken(t)), nil)
		if err := s.SkipRest(t); err != nil {
			return s.Fail(Format, err)
		}
		return nil
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

// object reads Object[i]; its attributes wait for the end of the object,
// whose name may come after them.
func (sp *splitter) object(i int) error {
	s := sp.s
	t, err := s.Token()
	if err != nil {
		return s.Fail(Format, err)
	}
	if d, ok := t.(json.Delim); !ok || d != '{' {
		sp.problem(s.LineBefore(), fmt.Sprintf("Object[%d] is %s, want an object", i, feed.DescribeToken(t)), nil)
		if err := s.SkipRest(t); err != nil {
			return s.Fail(Format, err)
		}
		return nil
	}
	name := new(string)
	sp.inObj = true
	defer func() { sp.inObj = false }()
	mark := len(sp.pending)
	deleted := false
	for s.More() {
		k, err := s.Key()
		if err != nil {
			return s.Fail(Format, err)
		}
		switch k {
		case "name":
			raw, err := s.Value()
			if err != nil {
				return s.Fail(Format, err)
			}
			v, _ := flexString(raw)
			*name = feed.Cut(v, 128)
		case "deleted":
			raw, err := s.Value()
			if err != nil {
				return s.Fail(Format, err)
			}
			deleted, _ = flexBool(raw)
		case "Attribute":
			if err := sp.attributes(name, fmt.Sprintf("Object[%d].Attribute", i)); err != nil {
				return err
			}
		default:
			if err := s.Skip(); err != nil {
				return s.Fail(Format, err)
			}
		}
	}
	if _, err := s.Token(); err != nil {
		return s.Fail(Format, err)
	}
	sp.inObj = false
	if deleted {
		for _, a := range sp.pending[mark:] {
			sp.used -= cost(a)
		}
		sp.pending = sp.pending[:mark]
		return nil
	}
	if sp.ready() {
		return sp.flush()
	}
	return nil
}

func cost(a *pendingAttr) int {
	c := 96 + len(a.attr.Type) + len(a.attr.Value) + len(a.attr.Category) + len(a.attr.UUID) +
		len(a.attr.Timestamp) + len(a.attr.FirstSeen) + len(a.attr.LastSeen) + len(a.attr.Comment)
	for _, t := range a.attr.Tags {
		c += len(t) + 16
	}
	return c
}

// add emits a, or keeps it until the event's context is known.
func (sp *splitter) add(a *pendingAttr) error {
	if sp.ready() && !sp.inObj {
		return sp.send(a)
	}
	c := cost(a)
	if len(sp.pending) >= maxAttributes || sp.used+c > maxBuffered {
		raw, _ := json.Marshal(a.attr)
		sp.problem(a.line, fmt.Sprintf("attribute %s (%s): not imported: focal holds at most %d attributes (%d bytes) of an event until it has read the event's tags, and this event has more before them",
			a.attr.UUID, a.attr.Type, maxAttributes, maxBuffered), raw)
		return nil
	}
	sp.used += c
	sp.pending = append(sp.pending, a)
	return nil
}

// flush emits the attributes that waited for the event's context.
func (sp *splitter) flush() error {
	for _, a := range sp.pending {
		if err := sp.send(a); err != nil {
			return err
		}
	}
	sp.pending, sp.used = sp.pending[:0], 0
	return nil
}

func (sp *splitter) send(a *pendingAttr) error {
	if sp.badTags {
		return nil // reported once for the event
	}
	rec := AttributeRecord{Attribute: a.attr, Event: sp.ctx}
	if a.object != nil {
		rec.Object = *a.object
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(rec); err != nil {
		return fmt.Errorf("%s: line %d: encode record: %w", Format, a.line, err)
	}
	out := bytes.TrimSuffix(b.Bytes(), []byte("\n"))
	if len(out) > feed.MaxRecord {
		sp.problem(a.line, fmt.Sprintf("attribute %s (%s): record over %d bytes", a.attr.UUID, a.attr.Type, feed.MaxRecord), out)
		return nil
	}
	return sp.emit(a.line, out)
}

// flexString reads a JSON string, or a number as its text.
func flexString(raw []byte) (string, bool) {
	var v any
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	if d.Decode(&v) != nil {
		return "", false
	}
	switch v := v.(type) {
	case string:
		return v, true
	case json.Number:
		return v.String(), true
	case nil:
		return "", false
	}
	return "", false
}

// flexBool reads true/false, "1"/"0", "true"/"false" or 1/0.
func flexBool(raw []byte) (bool, bool) {
	s := strings.Trim(strings.TrimSpace(string(raw)), `"`)
	switch strings.ToLower(s) {
	case "true", "1":
		return true, true
	case "false", "0", "", "null":
		return false, true
	}
	return false, false
}

// tagNames returns the names of a Tag list that Record reads: tlp:,
// rsit:, ecsirt: and misp-galaxy: tags, at most maxTags of them.
func tagNames(raw []byte) ([]string, bool) {
	var tags []struct {
		Name any `json:"name"`
	}
	if json.Unmarshal(raw, &tags) != nil {
		return nil, false
	}
	var out []string
	for _, t := range tags {
		n, _ := t.Name.(string)
		n = strings.TrimSpace(n)
		if n == "" || len(n) > 256 || !relevantTag(n) {
			continue
		}
		out = append(out, n)
		if len(out) == maxTags {
			break
		}
	}
	return out, true
}

func relevantTag(n string) bool {
	l := strings.ToLower(n)
	for _, p := range []string{"tlp:", "rsit:", "ecsirt:", "misp-galaxy:"} {
		if strings.HasPrefix(l, p) {
			return true
		}
	}
	return false
}
