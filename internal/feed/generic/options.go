package generic

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"focal/internal/feed"
	"focal/internal/focal"
)

// The format names.
const (
	FormatCSV  = "csv"
	FormatJSON = "json"
)

// Fields lists the event fields a mapping may name: docs/events.md's
// names, with the endpoint fields as source.X and destination.X.
var Fields = []string{
	"source.ip", "source.port", "source.asn", "source.country", "source.fqdn", "source.url",
	"destination.ip", "destination.port", "destination.asn", "destination.country", "destination.fqdn", "destination.url",
	"source_time", "first_seen", "last_seen", "class", "type",
	"protocol", "malware", "identifier", "confidence", "count", "tlp",
}

// endpointFields are the fields that name a host; a mapping needs one.
var endpointFields = []string{"source.ip", "source.fqdn", "source.url", "destination.ip", "destination.fqdn", "destination.url"}

// maxColumn bounds a column number when the CSV has no header.
const maxColumn = 1000

// CSVOptions and JSONOptions document the options of the two formats.
var (
	commonOptions = []feed.Option{
		{Name: "map", Required: true, Doc: "comma-separated field=column pairs, e.g. `source.ip=ip,source.port=dport,source_time=ts,malware=family,destination.url=link`; " +
			"fields: " + strings.Join(Fields, ", ") + ". For csv a column is a header name (or a 1-based number with header=false); for json a dotted path into each object, e.g. `src.addr` (a number indexes a list)"},
		{Name: "class", Doc: "RSIT class of every row, e.g. malicious-code; required unless the map has class="},
		{Name: "type", Doc: "RSIT type of every row, e.g. c2-server; required unless the map has type= (or the class column holds class/type)"},
		{Name: "time_format", Doc: "how times are written: a Go layout (e.g. `2006-01-02 15:04:05`), unix, unix_ms or rfc3339; default: recognise RFC 3339, `YYYY-MM-DD HH:MM:SS`, a date, and unix seconds or milliseconds. Times without a zone are UTC"},
	}
	// CSVOptions are the csv format's options.
	CSVOptions = append(slices.Clone(commonOptions),
		feed.Option{Name: "delimiter", Doc: "field separator: one character, or tab; default ','"},
		feed.Option{Name: "header", Doc: "true (default): the first line names the columns and the map uses those names; false: the map uses 1-based column numbers"},
		feed.Option{Name: "comment", Doc: "lines starting with this text are comments; default '#', none for no comments"},
	)
	// JSONOptions are the json format's options.
	JSONOptions = append(slices.Clone(commonOptions),
		feed.Option{Name: "path", Doc: "dotted path of the array inside the top-level object, e.g. `data` or `result.items`; default: the input is an array, or one object per line (NDJSON)"},
	)
)

// Field is one mapped event field.
type Field struct {
	Name   string   // event field, e.g. "source.ip"
	Column string   // as written in the map: a header name, a column number or a path
	Index  int      // csv without a header: the 0-based column
	Path   []string // json: the path's steps
}

// Config is the parsed options of a csv or json feed.
type Config struct {
	Kind       string // FormatCSV or FormatJSON
	Fields     []Field
	Class      string // fixed classification, the default of every row
	Type       string
	TimeFormat string // "", "unix", "unix_ms", "rfc3339" or a Go layout
	// csv
	Delimiter rune
	Header    bool
	Comment   string // "" = no comments
	// json
	Path []string
}

// field returns the mapping of name, if any.
func (c *Config) field(name string) (Field, bool) {
	for _, f := range c.Fields {
		if f.Name == name {
			return f, true
		}
	}
	return Field{}, false
}

// ParseOptions reads and checks the options of format kind (FormatCSV or
// FormatJSON), with messages that say what is wrong and how to write it.
func ParseOptions(kind string, o feed.Options) (*Config, error) {
	c := &Config{Kind: kind, Delimiter: ',', Header: true, Comment: "#"}
	m := strings.TrimSpace(o["map"])
	if m == "" {
		return nil, errors.New("option map is required, e.g. map=source.ip=ip,source_time=ts")
	}
	noHeader := false
	if kind == FormatCSV {
		h, err := strconv.ParseBool(o.Get("header", "true"))
		if err != nil {
			return nil, fmt.Errorf("option header: want true or false, got %q", feed.Cut(o["header"], 16))
		}
		c.Header, noHeader = h, !h
	}
	seen := map[string]bool{}
	for _, pair := range strings.Split(m, ",") {
		pair = strings.TrimSpace(pair)
		if pair == "" {
			continue
		}
		name, col, ok := strings.Cut(pair, "=")
		name, col = strings.ToLower(strings.TrimSpace(name)), strings.TrimSpace(col)
		if !ok || name == "" || col == "" {
			return nil, fmt.Errorf("map: %q: want field=column", feed.Cut(pair, 64))
		}
		if !slices.Contains(Fields, name) {
			return nil, fmt.Errorf("map: unknown field %q; fields are %s", feed.Cut(name, 64), strings.Join(Fields, ", "))
		}
		if seen[name] {
			return nil, fmt.Errorf("map: field %s is mapped twice", name)
		}
		seen[name] = true
		f := Field{Name: name, Column: col}
		switch {
		case kind == FormatJSON:
			f.Path = strings.Split(col, ".")
			if slices.Contains(f.Path, "") {
				return nil, fmt.Errorf("map: %s=%s: a path has an empty step", name, col)
			}
		case noHeader:
			n, err := strconv.Atoi(col)
			if err != nil || n < 1 || n > maxColumn {
				return nil, fmt.Errorf("map: %s=%s: with header=false a column is a number from 1 to %d", name, col, maxColumn)
			}
			f.Index = n - 1
		}
		c.Fields = append(c.Fields, f)
	}
	if len(c.Fields) == 0 {
		return nil, errors.New("map: no field=column pairs")
	}
	if !slices.ContainsFunc(endpointFields, func(n string) bool { return seen[n] }) {
		return nil, fmt.Errorf("map: an event needs a host: map at least one of %s", strings.Join(endpointFields, ", "))
	}
	c.Class, c.Type = strings.ToLower(o.Get("class", "")), strings.ToLower(o.Get("type", ""))
	switch {
	case c.Class != "":
		cl := focal.Classification{Class: c.Class, Type: c.Type}
		if err := cl.Validate(); err != nil {
			return nil, fmt.Errorf("option class/type: %v", err)
		}
		if c.Type == "" && !seen["type"] {
			return nil, fmt.Errorf("option type is required with class %s (or map type=column), e.g. type=%s", c.Class, exampleType(c.Class))
		}
	case !seen["class"]:
		return nil, errors.New("set the RSIT classification: options class and type (e.g. class=malicious-code,type=c2-server), or map class=column")
	case c.Type != "" && !validType(c.Type):
		return nil, fmt.Errorf("option type: %q is not an RSIT type", c.Type)
	}
	c.TimeFormat = o.Get("time_format", "")
	if err := checkTimeFormat(c.TimeFormat); err != nil {
		return nil, err
	}
	switch kind {
	case FormatCSV:
		d := o.Get("delimiter", ",")
		switch strings.ToLower(d) {
		case "tab", `\t`:
			c.Delimiter = '\t'
		case "comma":
			c.Delimiter = ','
		case "semicolon":
			c.Delimiter = ';'
		case "pipe":
			c.Delimiter = '|'
		default:
			r, n := utf8.DecodeRuneInString(d)
			if n != len(d) || r == utf8.RuneError || r == '"' || r == '\r' || r == '\n' {
				return nil, fmt.Errorf("option delimiter: want one character (or tab), got %q", feed.Cut(d, 16))
			}
			c.Delimiter = r
		}
		switch cm := o.Get("comment", "#"); {
		case strings.EqualFold(cm, "none"):
			c.Comment = ""
		case len(cm) > 8:
			return nil, fmt.Errorf("option comment: want a short prefix such as # or //, got %q", feed.Cut(cm, 16))
		default:
			c.Comment = cm
			if strings.ContainsRune(cm, c.Delimiter) || strings.Contains(cm, `"`) {
				return nil, fmt.Errorf("option comment %q contains the delimiter or a quote", cm)
			}
		}
	case FormatJSON:
		if p := o.Get("path", ""); p != "" {
			c.Path = strings.Split(p, ".")
			if slices.Contains(c.Path, "") {
				return nil, fmt.Errorf("option path %q has an empty step", p)
			}
		}
	default:
		return nil, fmt.Errorf("unknown generic format %q", kind)
	}
	return c, nil
}

func validType(t string) bool {
	for _, c := range focal.RSIT {
		for _, ty := range c.Types {
			if ty.Value == t {
				return true
			}
		}
	}
	return false
}

func exampleType(class string) string {
	if c, _, ok := focal.LookupRSIT(class, ""); ok && len(c.Types) > 0 {
		return c.Types[0].Value
	}
	return "other"
}

// checkTimeFormat accepts "", unix, unix_ms, rfc3339, or a Go layout that
// formats a time and parses it back.
func checkTimeFormat(f string) error {
	switch strings.ToLower(f) {
	case "", "unix", "unix_ms", "rfc3339":
		return nil
	}
	ref := time.Date(2026, 11, 22, 13, 14, 15, 0, time.UTC)
	s := ref.Format(f)
	if s == f {
		return fmt.Errorf("option time_format %q: not unix, unix_ms, rfc3339 or a Go layout such as 2006-01-02 15:04:05", feed.Cut(f, 64))
	}
	if _, err := time.Parse(f, s); err != nil {
		return fmt.Errorf("option time_format %q: a layout that cannot read its own output: %v", feed.Cut(f, 64), err)
	}
	return nil
}

// configs caches parsed options: Record is called once per record.
var configs struct {
	sync.Mutex
	m map[string]*Config
}

// config returns the parsed options of a run, parsing them once per
// distinct set of options (the cache is bounded).
func config(kind string, o feed.Options) (*Config, error) {
	key := kind + "\x00" + o.String()
	configs.Lock()
	c, ok := configs.m[key]
	configs.Unlock()
	if ok {
		return c, nil
	}
	c, err := ParseOptions(kind, o)
	if err != nil {
		return nil, fmt.Errorf("%s: options: %w", kind, err)
	}
	configs.Lock()
	if configs.m == nil || len(configs.m) >= 64 {
		configs.m = map[string]*Config{}
	}
	configs.m[key] = c
	configs.Unlock()
	return c, nil
}
