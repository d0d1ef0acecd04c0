package stix

import (
	"errors"
	"fmt"
	"strconv"
	"time"
)

// Timestamp is a STIX timestamp: an RFC 3339 time in UTC written with a
// "Z", e.g. "2026-03-01T12:00:00.000Z". The zero value is "no time"; struct
// fields of this type are tagged omitzero and left out when zero.
//
// MarshalJSON writes at least three fractional digits (millisecond
// precision, as focal emits) and more only when the time has them, so that
// a decoded timestamp is written back unchanged. UnmarshalJSON accepts any
// number of fractional digits but only the "Z" zone, as the STIX JSON
// schemas require.
type Timestamp struct {
	time.Time
}

// NewTimestamp returns t in UTC truncated to the millisecond, the precision
// focal writes.
func NewTimestamp(t time.Time) Timestamp {
	if t.IsZero() {
		return Timestamp{}
	}
	return Timestamp{t.UTC().Truncate(time.Millisecond)}
}

// ParseTimestamp reads a STIX timestamp: YYYY-MM-DDTHH:MM:SS, optionally a
// fraction of any length, and "Z".
func ParseTimestamp(s string) (Timestamp, error) {
	t, err := parseTime(s)
	if err != nil {
		return Timestamp{}, err
	}
	return Timestamp{t}, nil
}

// parseTime checks the STIX shape of s before handing it to package time,
// which would also accept offsets, a lower-case "t" and "z", and other
// variants the STIX schemas reject.
func parseTime(s string) (time.Time, error) {
	const shape = "dddd-dd-ddTdd:dd:dd"
	bad := fmt.Errorf("want a UTC timestamp like 2006-01-02T15:04:05.000Z, got %s", quoteShort(s))
	if len(s) < len(shape)+1 || s[len(s)-1] != 'Z' {
		return time.Time{}, bad
	}
	for i := 0; i < len(shape); i++ {
		if shape[i] == 'd' && !isDigit(s[i]) || shape[i] != 'd' && s[i] != shape[i] {
			return time.Time{}, bad
		}
	}
	if frac := s[len(shape) : len(s)-1]; frac != "" {
		if len(frac) < 2 || frac[0] != '.' {
			return time.Time{}, bad
		}
		for i := 1; i < len(frac); i++ {
			if !isDigit(frac[i]) {
				return time.Time{}, bad
			}
		}
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, bad
	}
	return t.UTC(), nil
}

// String formats the timestamp as MarshalJSON does, without quotes, or
// returns "" for the zero value.
func (t Timestamp) String() string {
	if t.IsZero() {
		return ""
	}
	return formatTime(t.Time)
}

// formatTime writes t in UTC with at least millisecond precision.
func formatTime(t time.Time) string {
	t = t.UTC()
	if t.Nanosecond()%int(time.Millisecond) == 0 {
		return t.Format("2006-01-02T15:04:05.000Z")
	}
	s := t.Format("2006-01-02T15:04:05.000000000")
	for s[len(s)-1] == '0' {
		s = s[:len(s)-1]
	}
	return s + "Z"
}

// MarshalJSON writes the timestamp as a JSON string. It refuses the zero
// value and years outside 0000–9999, which RFC 3339 cannot express.
func (t Timestamp) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return nil, errors.New("stix: zero timestamp")
	}
	if y := t.UTC().Year(); y < 0 || y > 9999 {
		return nil, fmt.Errorf("stix: timestamp year %d outside 0000-9999", y)
	}
	return strconv.AppendQuote(nil, formatTime(t.Time)), nil
}

// UnmarshalJSON reads a JSON string holding a STIX timestamp.
func (t *Timestamp) UnmarshalJSON(b []byte) error {
	if len(b) < 2 || b[0] != '"' || b[len(b)-1] != '"' {
		return fmt.Errorf("want a timestamp string, got %s", quoteShort(string(b)))
	}
	s, err := strconv.Unquote(string(b))
	if err != nil {
		return fmt.Errorf("want a timestamp string, got %s", quoteShort(string(b)))
	}
	v, err := parseTime(s)
	if err != nil {
		return err
	}
	t.Time = v
	return nil
}

// quoteShort quotes s for an error message, cut to 64 bytes.
func quoteShort(s string) string {
	if len(s) > 64 {
		return strconv.Quote(s[:64]) + "…"
	}
	return strconv.Quote(s)
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
