package taxii

import (
	"time"

	"focal/internal/focal"
)

// TimestampLayout is a TAXII 2.1 timestamp: RFC 3339 in UTC with exactly
// microsecond precision (TAXII §2, unlike STIX, requires microseconds).
const TimestampLayout = "2006-01-02T15:04:05.000000Z"

// FormatTimestamp formats t as a TAXII timestamp.
func FormatTimestamp(t time.Time) string { return t.UTC().Format(TimestampLayout) }

// formatMicros formats µs since the epoch as a TAXII timestamp.
func formatMicros(us int64) string { return FormatTimestamp(time.UnixMicro(us)) }

// ParseTimestamp parses an RFC 3339 timestamp with any fractional
// precision, as TAXII and STIX write them, and returns it in UTC truncated
// to the microsecond (the precision focal stores). It returns an EINVALID
// error for anything else.
func ParseTimestamp(s string) (time.Time, error) {
	if len(s) < 20 || len(s) > 40 {
		return time.Time{}, focal.Errorf(focal.EINVALID, "%q is not an RFC 3339 timestamp", s)
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, focal.Errorf(focal.EINVALID, "%q is not an RFC 3339 timestamp", s)
	}
	return t.UTC().Truncate(time.Microsecond), nil
}
