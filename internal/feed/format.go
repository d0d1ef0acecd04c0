package feed

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"time"

	"focal/internal/focal"
)

// Options are a feed's format settings (iplist's class and type, the
// generic parsers' column mapping, a Shadowserver report name), as text
// keyed by option name. Each Format documents the options it reads.
type Options map[string]string

// Get returns the option or def when it is unset or blank.
func (o Options) Get(name, def string) string {
	if v := strings.TrimSpace(o[name]); v != "" {
		return v
	}
	return def
}

// String renders the options as "k=v,k=v" in name order.
func (o Options) String() string {
	keys := make([]string, 0, len(o))
	for k := range o {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(k + "=" + o[k])
	}
	return b.String()
}

// Run is what a parser needs to know besides its input: the feed, when
// the run started (the events' observation time), the input's name (a file
// name or URL, which some formats read a report type from) and the
// options.
type Run struct {
	Feed    Feed
	Now     time.Time
	Name    string
	Options Options
}

// Framing says how the pipeline cuts an input into self-contained pieces
// that workers parse independently.
type Framing int

const (
	// FrameLines is line-oriented input (CSV, lists). The pipeline cuts it
	// into chunks of whole lines and repeats the input's preamble (its
	// leading comment lines, then HeaderLines lines) at the top of every
	// chunk, so Parse sees each chunk as a small file of the same format.
	FrameLines Framing = iota
	// FrameRecords is a structured document (JSON, a STIX bundle, a MISP
	// event). Split streams it into self-contained records; the pipeline
	// carries them one per line and Record turns each into events.
	FrameRecords
)

// Option documents one option of a format.
type Option struct {
	Name     string
	Required bool
	Doc      string
}

// Format is one input format: its name (what --format and ?format= take),
// how it is framed, and how it is parsed. A Format is immutable.
type Format struct {
	Name  string // short, lower case: "iplist", "shadowserver"
	Title string // one line for people: "abuse.ch Feodo Tracker (CSV)"
	Doc   string // a paragraph for docs/feeds.md
	// Example is a small sample input written for this project with
	// documentation addresses and example domains; the demo ingests it
	// and docs/feeds.md shows it. The registry fills it from
	// internal/feed/formats/samples/NAME.*.
	Example string
	// ExampleOptions are the options the example needs, if any.
	ExampleOptions Options

	Framing Framing

	// FrameLines: line prefixes that mark comment lines, and the number
	// of header lines that follow the leading comments.
	Comments    []string
	HeaderLines int
	// Parse (FrameLines) reads a whole input, or one chunk of it with the
	// preamble on top, under the package contract: never panic, report a
	// malformed line and go on, fail only on unreadable input or a changed
	// format.
	Parse func(r io.Reader, run Run, emit Emit, report Report) (Stats, error)

	// Split (FrameRecords) streams a document into records, each a
	// single-line value (compact JSON) with the 1-based input line it
	// starts on. Unusable parts are reported and skipped; a document that
	// is not of the format fails the run. Memory must stay bounded: a
	// record is at most MaxRecord bytes.
	Split func(r io.Reader, run Run, emit func(line int, record []byte) error, report Report) error
	// Record (FrameRecords) maps one record to zero or more events. The
	// caller completes them (see Complete) and validates them. An error
	// makes the record a Problem.
	Record func(record []byte, run Run) ([]*focal.Event, error)

	// Snapshot marks blocklist-style formats whose every run is the whole
	// list: an entry missing from a complete run has been delisted.
	Snapshot bool
	// Options lists the options the format reads.
	Options []Option
	// Check, if set, validates options before a run starts.
	Check func(Options) error
}

// MaxRecord bounds one record of a FrameRecords format.
const MaxRecord = 256 << 10

// CheckOptions reports unknown options, missing required ones, and
// whatever Check finds.
func (f *Format) CheckOptions(o Options) error {
	known := map[string]bool{}
	for _, opt := range f.Options {
		known[opt.Name] = true
		if opt.Required && strings.TrimSpace(o[opt.Name]) == "" {
			return fmt.Errorf("format %s: option %q is required", f.Name, opt.Name)
		}
	}
	for k := range o {
		if !known[k] {
			return fmt.Errorf("format %s: unknown option %q", f.Name, k)
		}
	}
	if f.Check != nil {
		if err := f.Check(o); err != nil {
			return fmt.Errorf("format %s: %w", f.Name, err)
		}
	}
	return nil
}

// IsPreamble reports whether line belongs to the preamble as a comment
// (or blank) line.
func (f *Format) IsComment(line string) bool {
	t := strings.TrimSpace(line)
	if t == "" {
		return true
	}
	for _, c := range f.Comments {
		if strings.HasPrefix(t, c) {
			return true
		}
	}
	return false
}

// Complete fills in what every event gets from its run when the parser
// left it unset: feed, provider, TLP and confidence from the feed, the
// observation time, a count of 1, first/last seen from the source time,
// the raw input cut to focal.MaxRawLine, and a dedup key of feed,
// indicator and classification. Parsers may call it; the pipeline calls
// it for every event.
func Complete(e *focal.Event, run Run, raw string) {
	f := run.Feed
	if e.Feed == "" {
		e.Feed = f.Name
	}
	if e.Provider == "" {
		e.Provider = f.Provider
	}
	if e.TLP == "" {
		e.TLP = f.TLP
	}
	if e.Confidence == 0 {
		e.Confidence = f.Confidence
	}
	if e.ObservedTime.IsZero() {
		e.ObservedTime = run.Now
	}
	if e.SourceTime.IsZero() {
		e.SourceTime = e.ObservedTime
	}
	if e.Count <= 0 {
		e.Count = 1
	}
	if e.FirstSeen.IsZero() {
		e.FirstSeen = e.SourceTime
	}
	if e.LastSeen.IsZero() || e.LastSeen.Before(e.FirstSeen) {
		e.LastSeen = e.FirstSeen
	}
	if e.Raw == "" {
		e.Raw = Cut(raw, focal.MaxRawLine)
	}
	if e.DedupKey == "" {
		e.DedupKey = e.Feed + "|" + Indicator(e) + "|" + e.Class + "/" + e.Type
	}
}

// Indicator is the event's main observable as text: the source address
// (with its port, IPv6 in brackets), else the destination's URL, FQDN or
// address.
func Indicator(e *focal.Event) string {
	addr := func(ep focal.Endpoint) string {
		if ep.Port != 0 {
			return netip.AddrPortFrom(ep.IP, ep.Port).String()
		}
		return ep.IP.String()
	}
	if e.Source.IP.IsValid() {
		return addr(e.Source)
	}
	for _, ep := range []focal.Endpoint{e.Source, e.Destination} {
		switch {
		case ep.URL != "":
			return ep.URL
		case ep.FQDN != "":
			return ep.FQDN
		case ep.IP.IsValid():
			return addr(ep)
		}
	}
	return e.Identifier
}

// ParseAll parses a whole input of format f, whatever its framing: Parse
// for line formats, Split then Record for documents. Tests, the in-memory
// benchmark and small one-shot inputs use it; the pipeline cuts inputs
// into chunks instead.
func ParseAll(f *Format, r io.Reader, run Run, emit Emit, report Report) (Stats, error) {
	if f.Framing == FrameLines {
		return f.Parse(r, run, emit, report)
	}
	var st Stats
	err := f.Split(r, run, func(line int, rec []byte) error {
		st.Lines++
		n, err := RecordEvents(f, line, rec, run, emit, report)
		st.Events += n
		if errors.Is(err, errProblem) {
			st.Problems++
			return nil
		}
		return err
	}, func(p Problem) {
		st.Problems++
		if report != nil {
			report(p)
		}
	})
	return st, err
}

var errProblem = errors.New("record is a problem")

// RecordEvents maps one record through f.Record, completes and validates
// the events, and emits them. A record that fails is reported as a Problem
// at line and RecordEvents returns errProblem (wrapped); an error from
// emit is returned as is.
func RecordEvents(f *Format, line int, rec []byte, run Run, emit Emit, report Report) (int, error) {
	problem := func(reason string) (int, error) {
		if report != nil {
			report(Problem{Line: line, Reason: reason, Raw: Cut(string(rec), focal.MaxRawLine)})
		}
		return 0, errProblem
	}
	evs, err := safeRecord(f, rec, run)
	if err != nil {
		return problem(err.Error())
	}
	for _, e := range evs {
		Complete(e, run, string(rec))
		if err := e.Validate(); err != nil {
			return problem("invalid event: " + err.Error())
		}
	}
	for _, e := range evs {
		if err := emit(e); err != nil {
			return 0, err
		}
	}
	return len(evs), nil
}

// safeRecord calls f.Record, turning a panic into an error so one bad
// record cannot take a worker down.
func safeRecord(f *Format, rec []byte, run Run) (evs []*focal.Event, err error) {
	defer func() {
		if p := recover(); p != nil {
			evs, err = nil, fmt.Errorf("parser failed on this record: %v", p)
		}
	}()
	return f.Record(rec, run)
}

// ParseRecordLines reads records as the pipeline carries them, one per
// line as "LINE RECORD" (the record's input line, a space, the record),
// and maps each with RecordEvents.
func ParseRecordLines(f *Format, r io.Reader, run Run, emit Emit, report Report) (Stats, error) {
	var st Stats
	br := bufio.NewReaderSize(r, 64<<10)
	for {
		rec, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			// Records longer than the buffer: gather them (bounded by
			// MaxRecord at Split time, so this cannot grow without end).
			buf := append([]byte(nil), rec...)
			for errors.Is(err, bufio.ErrBufferFull) {
				rec, err = br.ReadSlice('\n')
				buf = append(buf, rec...)
			}
			rec = buf
		}
		if len(rec) > 0 {
			st.Lines++
			rec = bytes.TrimSuffix(rec, []byte("\n"))
			sp := bytes.IndexByte(rec, ' ')
			line, perr := strconv.Atoi(string(rec[:max(sp, 0)]))
			if sp < 0 || perr != nil {
				return st, fmt.Errorf("record line %d: not a framed record", st.Lines)
			}
			n, rerr := RecordEvents(f, line, rec[sp+1:], run, emit, report)
			st.Events += n
			if errors.Is(rerr, errProblem) {
				st.Problems++
			} else if rerr != nil {
				return st, rerr
			}
		}
		if err == io.EOF {
			return st, nil
		}
		if err != nil {
			return st, err
		}
	}
}
