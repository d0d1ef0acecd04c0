package notify

import (
	"bytes"
	"encoding/csv"
	"strconv"
	"strings"
	"time"

	"focal/internal/focal"
)

// CSVHeader lists the columns of the CSV attachment.
var CSVHeader = []string{
	"time", "class", "type",
	"source_ip", "source_port", "source_asn", "source_country", "source_fqdn", "source_url",
	"destination_ip", "destination_port", "destination_fqdn", "destination_url", "protocol",
	"malware", "identifier", "feed", "count", "first_seen", "last_seen", "tlp",
}

// csvRecord returns the CSV fields of e. Times are RFC 3339 in UTC; zero
// values are empty. Free-text fields that a spreadsheet would run as a
// formula (starting with = + - @, a tab or a carriage return) get a
// leading apostrophe.
func csvRecord(e *focal.Event) []string {
	return []string{
		csvTime(e.SourceTime), e.Class, e.Type,
		csvAddr(e.Source), csvUint(uint64(e.Source.Port)), csvUint(uint64(e.Source.ASN)), e.Source.Country,
		safeCell(e.Source.FQDN), safeCell(e.Source.URL),
		csvAddr(e.Destination), csvUint(uint64(e.Destination.Port)),
		safeCell(e.Destination.FQDN), safeCell(e.Destination.URL), safeCell(e.Protocol),
		safeCell(e.Malware), safeCell(e.Identifier), safeCell(e.Feed), strconv.Itoa(e.Count),
		csvTime(e.FirstSeen), csvTime(e.LastSeen), effectiveTLP(e.TLP).String(),
	}
}

// csvHeaderLine is CSVHeader as the CSV's first line.
var csvHeaderLine = strings.Join(CSVHeader, ",") + "\r\n"

// csvLines renders every event as an RFC 4180 line (CRLF-terminated)
// into lines, which has one slot per event.
func csvLines(events []*focal.Event, lines [][]byte) error {
	var b bytes.Buffer
	b.Grow(len(events) * 256) // a typical line is 150 to 250 bytes
	w := csv.NewWriter(&b)
	w.UseCRLF = true
	ends := make([]int, len(events))
	for i, e := range events {
		if err := w.Write(csvRecord(e)); err != nil {
			return err
		}
		w.Flush()
		ends[i] = b.Len()
	}
	if err := w.Error(); err != nil {
		return err
	}
	all, start := b.Bytes(), 0
	for i, end := range ends {
		lines[i] = all[start:end:end]
		start = end
	}
	return nil
}

func csvTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func csvAddr(e focal.Endpoint) string {
	if !e.IP.IsValid() {
		return ""
	}
	return e.IP.String()
}

func csvUint(n uint64) string {
	if n == 0 {
		return ""
	}
	return strconv.FormatUint(n, 10)
}

// safeCell defuses spreadsheet formula injection (a feed's values are
// attacker-controlled).
func safeCell(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + s
	}
	return s
}
