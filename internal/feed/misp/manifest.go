package misp

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"focal/internal/feed"
)

// MaxManifestEntries bounds the events a manifest may list.
const MaxManifestEntries = 100_000

// maxManifestEntries is the bound in force; tests lower it.
var maxManifestEntries = MaxManifestEntries

// ManifestEntry is one event of a MISP feed's manifest.json.
type ManifestEntry struct {
	UUID        string    // the event's uuid, lower case; its file is UUID + ".json"
	Info        string    // the event's title
	Date        time.Time // the event's date (UTC midnight), zero when absent
	Timestamp   time.Time // when the event last changed
	ThreatLevel int       // threat_level_id: 1 high, 2 medium, 3 low, 4 undefined; 0 absent
	Analysis    int       // analysis: 0 initial, 1 ongoing, 2 completed; -1 absent
	Orgc        string    // the creator organisation's name
	Tags        []string  // the event's tag names
}

// ParseManifest reads a MISP feed manifest: a JSON object keyed by event
// uuid whose values hold info, date, timestamp, threat_level_id,
// analysis, Orgc and Tag. It streams the object, one entry at a time, and
// returns the entries oldest first (by Timestamp, then UUID), so a
// collector can fetch the events changed since its last run in order.
//
// A key that is not a UUID (it becomes a file name the collector
// fetches), a missing or unreadable timestamp, a duplicate uuid, more
// than MaxManifestEntries entries, or input that is not a JSON object
// is an error that names the entry and the line.
func ParseManifest(r io.Reader) ([]ManifestEntry, error) {
	const name = "misp manifest"
	s := feed.NewJSONStream(r)
	tok, err := s.Token()
	if errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s: empty input, want a JSON object keyed by event uuid", name)
	}
	if err != nil {
		return nil, s.Fail(name, err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, fmt.Errorf("%s: line %d: top-level value is %s, want a JSON object keyed by event uuid", name, s.Line(), feed.DescribeToken(tok))
	}
	var out []ManifestEntry
	seen := map[string]bool{}
	for s.More() {
		key, err := s.Key()
		if err != nil {
			return nil, s.Fail(name, err)
		}
		line := s.Line()
		if len(out) == maxManifestEntries {
			return nil, fmt.Errorf("%s: line %d: more than %d events; focal reads at most %d from one manifest", name, line, maxManifestEntries, maxManifestEntries)
		}
		id := strings.ToLower(key)
		if !isUUID(id) {
			return nil, fmt.Errorf("%s: line %d: key %q is not an event uuid", name, line, feed.Cut(key, 64))
		}
		if seen[id] {
			return nil, fmt.Errorf("%s: line %d: event %s is listed twice", name, line, id)
		}
		seen[id] = true
		raw, err := s.Value()
		if err != nil {
			return nil, s.Fail(name, err)
		}
		e, err := manifestEntry(id, raw)
		if err != nil {
			return nil, fmt.Errorf("%s: line %d: event %s: %v", name, line, id, err)
		}
		out = append(out, e)
	}
	if _, err := s.Token(); err != nil {
		return nil, s.Fail(name, err)
	}
	if err := s.End(name); err != nil {
		return nil, err
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Timestamp.Equal(out[j].Timestamp) {
			return out[i].Timestamp.Before(out[j].Timestamp)
		}
		return out[i].UUID < out[j].UUID
	})
	return out, nil
}

func manifestEntry(id string, raw []byte) (ManifestEntry, error) {
	var m struct {
		Info        any `json:"info"`
		Date        any `json:"date"`
		Timestamp   any `json:"timestamp"`
		ThreatLevel any `json:"threat_level_id"`
		Analysis    any `json:"analysis"`
		Orgc        struct {
			Name any `json:"name"`
		} `json:"Orgc"`
		Tag []struct {
			Name any `json:"name"`
		} `json:"Tag"`
	}
	d := json.NewDecoder(strings.NewReader(string(raw)))
	d.UseNumber()
	if err := d.Decode(&m); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			if te.Field == "" {
				return ManifestEntry{}, fmt.Errorf("want an object, got a JSON %s", te.Value)
			}
			return ManifestEntry{}, fmt.Errorf("%s: want %s, got a JSON %s", te.Field, te.Type, te.Value)
		}
		return ManifestEntry{}, err
	}
	e := ManifestEntry{UUID: id, Analysis: -1}
	e.Info, _ = m.Info.(string)
	e.Orgc, _ = m.Orgc.Name.(string)
	ts := text(m.Timestamp)
	if ts == "" {
		return ManifestEntry{}, errors.New("timestamp: missing")
	}
	t, err := unixTime(ts)
	if err != nil {
		return ManifestEntry{}, fmt.Errorf("timestamp: %v", err)
	}
	e.Timestamp = t
	if ds := text(m.Date); ds != "" {
		dt, err := time.Parse(time.DateOnly, ds)
		if err != nil {
			return ManifestEntry{}, fmt.Errorf("date: want YYYY-MM-DD, got %q", feed.Cut(ds, 64))
		}
		e.Date = dt
	}
	if n, err := strconv.Atoi(text(m.ThreatLevel)); err == nil && n >= 1 && n <= 4 {
		e.ThreatLevel = n
	}
	if n, err := strconv.Atoi(text(m.Analysis)); err == nil && n >= 0 && n <= 2 {
		e.Analysis = n
	}
	for _, t := range m.Tag {
		if n, ok := t.Name.(string); ok && n != "" {
			e.Tags = append(e.Tags, n)
		}
	}
	return e, nil
}

// text renders a JSON string or number as text.
func text(v any) string {
	switch v := v.(type) {
	case string:
		return strings.TrimSpace(v)
	case json.Number:
		return v.String()
	}
	return ""
}

// isUUID checks the 8-4-4-4-12 lower-case hex form.
func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
				return false
			}
		}
	}
	return true
}
