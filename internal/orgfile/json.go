package orgfile

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"sort"
	"strings"

	"focal/internal/focal"
)

// jsonIn is a JSON record as read. ASNs are raw so that numbers and
// "AS64496" strings are both accepted, each checked on its own.
type jsonIn struct {
	Name          string             `json:"name"`
	Sector        string             `json:"sector"`
	Country       string             `json:"country"`
	CriticalInfra *bool              `json:"critical_infra"`
	Networks      []string           `json:"networks"`
	ASNs          []json.RawMessage  `json:"asns"`
	Domains       []string           `json:"domains"`
	Contacts      []focal.Contact    `json:"contacts"`
	Notify        *focal.NotifyPrefs `json:"notify"`
}

// jsonOut is a JSON record as written: every member present, lists never
// null.
type jsonOut struct {
	Name          string            `json:"name"`
	Sector        string            `json:"sector"`
	Country       string            `json:"country"`
	CriticalInfra bool              `json:"critical_infra"`
	Networks      []string          `json:"networks"`
	ASNs          []uint32          `json:"asns"`
	Domains       []string          `json:"domains"`
	Contacts      []focal.Contact   `json:"contacts"`
	Notify        focal.NotifyPrefs `json:"notify"`
}

// ReadJSON reads a JSON array of organisations, one record at a time.
func ReadJSON(r io.Reader) (Result, error) {
	br := bufio.NewReader(r)
	if bom, err := br.Peek(3); err == nil && string(bom) == "\ufeff" {
		// A byte order mark, as some Windows tools write: not JSON, but
		// harmless. Discarding peeked bytes cannot fail.
		_, _ = br.Discard(3) //nolint:errcheck // see above
	}
	m := newMeter(br, true)
	dec := json.NewDecoder(m)
	var res Result
	tok, err := dec.Token()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return res, errors.New("orgfile: empty input: want a JSON array of organisations")
		}
		return res, jsonFault(dec, m, 0, err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return res, fmt.Errorf("orgfile: line %d: want a JSON array of organisations, got %s", m.line(dec.InputOffset()-1), tokenKind(tok))
	}
	seen := names{}
	for n := 1; dec.More(); n++ {
		if n > MaxRecords {
			return res, fmt.Errorf("orgfile: more than %d records", MaxRecords)
		}
		m.mark = dec.InputOffset()
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return res, jsonFault(dec, m, n, err)
		}
		line := m.line(dec.InputOffset() - int64(len(raw)))
		if len(raw) > MaxRecordBytes {
			return res, fmt.Errorf("orgfile: record %d (line %d): larger than %d bytes", n, line, MaxRecordBytes)
		}
		o, probs := readJSONRecord(raw, n, line, seen)
		if o != nil {
			res.Orgs = append(res.Orgs, o)
		}
		res.Problems = append(res.Problems, probs...)
	}
	m.mark = dec.InputOffset()
	if _, err := dec.Token(); err != nil { // the closing ']'
		return res, jsonFault(dec, m, 0, err)
	}
	switch tok, err := dec.Token(); {
	case errors.Is(err, io.EOF):
		return res, nil
	case err != nil:
		return res, jsonFault(dec, m, 0, err)
	default:
		return res, fmt.Errorf("orgfile: line %d: %s after the end of the array", m.line(dec.InputOffset()-1), tokenKind(tok))
	}
}

// jsonFault turns an error of the stream decoder into one that says on
// which line (and in which record, when n > 0) the input broke.
func jsonFault(dec *json.Decoder, m *meter, n int, err error) error {
	where := fmt.Sprintf("line %d", m.line(faultOffset(dec)))
	if n > 0 {
		where = fmt.Sprintf("record %d (%s)", n, where)
	}
	var se *json.SyntaxError
	switch {
	case errors.Is(err, errTooLarge):
		return fmt.Errorf("orgfile: %s: larger than %d bytes", where, MaxRecordBytes)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("orgfile: %s: unexpected end of input", where)
	case errors.As(err, &se):
		return fmt.Errorf("orgfile: %s: not JSON: %s", where, se.Error())
	}
	return fmt.Errorf("orgfile: %s: read: %w", where, err)
}

// faultOffset finds where the stream decoder stopped: its offsets in
// syntax errors are not input offsets, so the rest of its buffer is
// decoded again on its own to find the offending byte.
func faultOffset(dec *json.Decoder) int64 {
	off := dec.InputOffset()
	// Reading the decoder's buffer cannot fail.
	rest, _ := io.ReadAll(dec.Buffered())
	k := 0
	for k < len(rest) && strings.IndexByte(" \t\r\n,", rest[k]) >= 0 {
		k++
	}
	var raw json.RawMessage
	var se *json.SyntaxError
	if err := json.NewDecoder(bytes.NewReader(rest[k:])).Decode(&raw); errors.As(err, &se) && se.Offset > 0 {
		return off + int64(k) + se.Offset - 1
	}
	return off + int64(k)
}

// readJSONRecord reads raw, the nth record of the file, which starts on
// line. It returns the organisation, or nil and the record's problems.
func readJSONRecord(raw []byte, n, line int, seen names) (*focal.Organisation, []Problem) {
	d := &draft{}
	var o *focal.Organisation
	if raw[0] != '{' {
		d.fail("", "want an object, got %s", jsonKind(raw[0]))
	} else if in, is := decodeRecord(raw); is != nil {
		d.issues = append(d.issues, *is)
	} else {
		in.fill(d)
		o = d.finish()
		if first, dup := seen.check(&d.org, place{n, line}); dup {
			d.fail("name", "%q is also the name of record %d (line %d); names are unique regardless of case", d.org.Name, first.record, first.line)
			o = nil
		}
	}
	if len(d.issues) == 0 {
		return o, nil
	}
	w := walk(raw)
	probs := make([]Problem, 0, len(d.issues))
	for _, is := range d.issues {
		p := Problem{Record: n, Field: is.field, Message: is.message}
		switch {
		case is.field == unknownMember && w.unknownKey != "":
			p.Line, p.Field, p.Message = line+w.unknownLine, w.unknownParent, fmt.Sprintf("unknown field %q", w.unknownKey)
		case is.field == unknownMember:
			p.Line, p.Field = line, ""
		case is.at > 0:
			p.Line = line + bytes.Count(raw[:min(is.at, int64(len(raw)))-1], []byte{'\n'})
		default:
			p.Line = line + w.lineOf(is.field)
		}
		probs = append(probs, p)
	}
	sort.SliceStable(probs, func(i, j int) bool { return probs[i].Line < probs[j].Line })
	return nil, probs
}

// unknownMember is the field of the issue for a member that records do not
// have; the walker tells which and where.
const unknownMember = "\x00unknown"

// decodeRecord decodes a JSON object into a record, or returns its issue.
func decodeRecord(raw []byte) (*jsonIn, *issue) {
	var in jsonIn
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	err := dec.Decode(&in)
	if err == nil {
		return &in, nil
	}
	var te *json.UnmarshalTypeError
	switch {
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return nil, &issue{field: unknownMember, message: strings.TrimPrefix(err.Error(), "json: ")}
	case errors.As(err, &te):
		return nil, &issue{field: te.Field, message: fmt.Sprintf("want %s, got %s", typeKind(te.Type), valueKind(te.Value)), at: te.Offset}
	}
	return nil, &issue{message: strings.TrimPrefix(err.Error(), "json: ")}
}

// fill copies the record into d, checking lists element by element.
func (in *jsonIn) fill(d *draft) {
	d.org.Name, d.org.Sector, d.org.Country = in.Name, in.Sector, in.Country
	d.critical = in.CriticalInfra
	for i, s := range in.Networks {
		d.addNetwork(i, s)
	}
	for i, raw := range in.ASNs {
		s := string(raw)
		if len(raw) > 0 && raw[0] == '"' {
			if err := json.Unmarshal(raw, &s); err != nil {
				d.fail(fmt.Sprintf("asns[%d]", i), "not an AS number: %s", raw)
				continue
			}
		}
		d.addASN(i, s)
	}
	for i, s := range in.Domains {
		d.addDomain(i, s)
	}
	for i, c := range in.Contacts {
		d.addContact(i, c)
	}
	if in.Notify != nil {
		d.org.Notify = *in.Notify
	}
}

// WriteJSON writes orgs as a JSON array that ReadJSON reads back, one
// member per line.
func WriteJSON(w io.Writer, orgs []*focal.Organisation) error {
	// A bufio.Writer keeps its first error and Flush returns it, so the
	// writes below are checked once, at the end.
	bw := bufio.NewWriter(w)
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("  ", "  ")
	bw.WriteString("[")
	for i, o := range orgs {
		rec := jsonOut{
			Name: o.Name, Sector: o.Sector, Country: o.Country, CriticalInfra: o.CriticalInfra,
			Networks: make([]string, 0, len(o.Networks)), ASNs: o.ASNs, Domains: o.Domains,
			Contacts: o.Contacts, Notify: o.Notify,
		}
		for _, p := range o.Networks {
			rec.Networks = append(rec.Networks, p.String())
		}
		if rec.ASNs == nil {
			rec.ASNs = []uint32{}
		}
		if rec.Domains == nil {
			rec.Domains = []string{}
		}
		if rec.Contacts == nil {
			rec.Contacts = []focal.Contact{}
		}
		buf.Reset()
		if err := enc.Encode(rec); err != nil {
			return fmt.Errorf("orgfile: write json: %s: %w", o.Name, err)
		}
		if i > 0 {
			bw.WriteString(",")
		}
		bw.WriteString("\n  ")
		bw.Write(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
	}
	if len(orgs) > 0 {
		bw.WriteString("\n")
	}
	bw.WriteString("]\n")
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("orgfile: write json: %w", err)
	}
	return nil
}

// walker finds where things are in one JSON record: the line of each
// member and list element that a problem may name, by path
// ("contacts[1].email"), and the first member that records do not have.
type walker struct {
	dec   *json.Decoder
	raw   []byte
	pos   int64          // newlines are counted in raw[:pos]
	line  int            // newlines in raw[:pos]
	lines map[string]int // path -> line, relative to the record's first

	unknownParent string // path of the object holding the unknown member
	unknownKey    string
	unknownLine   int
}

// kind is the shape the walker expects of a value.
type kind int

const (
	kindSkip     kind = iota // anything; nothing inside is recorded
	kindRecord               // the record object
	kindList                 // a list of scalars (networks, asns, domains)
	kindContacts             // the list of contacts
	kindContact              // one contact object
	kindNotify               // the notify object
)

// members returns the members an object of kind k may have, and their kinds.
func members(k kind) ([]string, []kind) {
	switch k {
	case kindRecord:
		return []string{"name", "sector", "country", "critical_infra", "networks", "asns", "domains", "contacts", "notify"},
			[]kind{kindSkip, kindSkip, kindSkip, kindSkip, kindList, kindList, kindList, kindContacts, kindNotify}
	case kindContact:
		return []string{"email", "role", "name", "pgp_key", "language"}, []kind{kindSkip, kindSkip, kindSkip, kindSkip, kindSkip}
	case kindNotify:
		return []string{"schedule", "language", "encrypt"}, []kind{kindSkip, kindSkip, kindSkip}
	}
	return nil, nil
}

// walk walks raw, a syntactically valid JSON value (the stream decoder
// checked it). Being only a help for messages, it stops at the first
// surprise.
func walk(raw []byte) *walker {
	w := &walker{dec: json.NewDecoder(bytes.NewReader(raw)), raw: raw, lines: map[string]int{}}
	// An error only ends the walk early; what was found so far is kept.
	_ = w.value("", kindRecord) //nolint:errcheck // see above
	return w
}

// at returns the line, relative to the record's first, of the token the
// decoder has just read (tokens never span lines).
func (w *walker) at() int {
	off := w.dec.InputOffset()
	w.line += bytes.Count(w.raw[w.pos:off], []byte{'\n'})
	w.pos = off
	return w.line
}

func (w *walker) value(path string, k kind) error {
	tok, err := w.dec.Token()
	if err != nil {
		return err
	}
	line := w.at()
	if _, ok := w.lines[path]; !ok {
		w.lines[path] = line
	}
	d, ok := tok.(json.Delim)
	if !ok {
		return nil
	}
	switch {
	case d == '{' && (k == kindRecord || k == kindContact || k == kindNotify):
		names, kinds := members(k)
		for w.dec.More() {
			kt, err := w.dec.Token()
			if err != nil {
				return err
			}
			key, _ := kt.(string) // object keys are strings
			kl := w.at()
			name, child := key, kindSkip
			known := false
			for i, n := range names {
				if strings.EqualFold(n, key) {
					name, child, known = n, kinds[i], true
					break
				}
			}
			if !known && w.unknownKey == "" {
				w.unknownParent, w.unknownKey, w.unknownLine = path, key, kl
			}
			p := name
			if path != "" {
				p = path + "." + name
			}
			if !known {
				if err := w.skip(); err != nil {
					return err
				}
				continue
			}
			if _, ok := w.lines[p]; !ok {
				w.lines[p] = kl
			}
			if err := w.value(p, child); err != nil {
				return err
			}
		}
	case d == '[' && (k == kindList || k == kindContacts):
		elem := kindSkip
		if k == kindContacts {
			elem = kindContact
		}
		for i := 0; w.dec.More(); i++ {
			if err := w.value(fmt.Sprintf("%s[%d]", path, i), elem); err != nil {
				return err
			}
		}
	default:
		return w.close(1)
	}
	_, err = w.dec.Token() // the closing delimiter
	return err
}

// skip reads one value, however nested, recording nothing.
func (w *walker) skip() error {
	tok, err := w.dec.Token()
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); ok && (d == '{' || d == '[') {
		return w.close(1)
	}
	return nil
}

// close reads tokens until depth open delimiters are closed.
func (w *walker) close(depth int) error {
	for depth > 0 {
		tok, err := w.dec.Token()
		if err != nil {
			return err
		}
		if d, ok := tok.(json.Delim); ok {
			if d == '{' || d == '[' {
				depth++
			} else {
				depth--
			}
		}
	}
	return nil
}

// lineOf returns the line, relative to the record's first, of the member at
// path, or of the closest enclosing member found, or 0.
func (w *walker) lineOf(path string) int {
	for path != "" {
		if l, ok := w.lines[path]; ok {
			return l
		}
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			break
		}
		path = path[:i]
	}
	return 0
}

// jsonKind names the kind of JSON value that starts with c.
func jsonKind(c byte) string {
	switch c {
	case '{':
		return "an object"
	case '[':
		return "a list"
	case '"':
		return "a string"
	case 't', 'f':
		return "true or false"
	case 'n':
		return "null"
	}
	return "a number"
}

// tokenKind names the kind of a token of json.Decoder.Token.
func tokenKind(tok json.Token) string {
	switch t := tok.(type) {
	case json.Delim:
		return jsonKind(byte(t))
	case string:
		return "a string"
	case bool:
		return "true or false"
	case nil:
		return "null"
	}
	return "a number"
}

// valueKind names the JSON value of an UnmarshalTypeError.
func valueKind(v string) string {
	switch {
	case v == "array":
		return "a list"
	case v == "object":
		return "an object"
	case v == "string":
		return "a string"
	case v == "bool":
		return "true or false"
	case v == "number":
		return "a number"
	}
	return v // "number 1e999" and the like
}

// typeKind names, for people, the JSON value a Go type wants.
func typeKind(t reflect.Type) string {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil {
		return "another value"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.Struct, reflect.Map:
		return "an object"
	}
	return "a number"
}
