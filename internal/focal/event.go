package focal

import (
	"fmt"
	"net/netip"
	"strings"
	"time"
)

// MaxRawLine bounds the raw input kept with an event.
const MaxRawLine = 2048

// Endpoint is one side of an event: the source (e.g. the infected host or
// the scanner) or the destination (e.g. the C2 server or the target).
type Endpoint struct {
	IP      netip.Addr `json:"ip,omitzero"`
	Port    uint16     `json:"port,omitempty"`
	ASN     uint32     `json:"asn,omitempty"`
	Country string     `json:"country,omitempty"` // ISO 3166-1 alpha-2
	FQDN    string     `json:"fqdn,omitempty"`
	URL     string     `json:"url,omitempty"`
}

// IsZero reports whether nothing is known of the endpoint.
func (e Endpoint) IsZero() bool { return e == Endpoint{} }

// Event is one normalised observation from a feed: who was seen doing or
// hosting what, when, according to whom. Field names are documented in
// docs/events.md.
type Event struct {
	ID           int64
	SourceTime   time.Time // when the feed says it happened
	ObservedTime time.Time // when focal received it
	Class        string    // RSIT class, e.g. "malicious-code"
	Type         string    // RSIT type, e.g. "infected-system"
	Source       Endpoint
	Destination  Endpoint
	Protocol     string // transport or application protocol, e.g. "tcp", "smb"
	Malware      string // malware family, lower case
	Identifier   string // the feed's own name for what was seen (e.g. a vulnerability or a tag)
	Feed         string // feed name, e.g. "shadowserver-scan-smb"
	Provider     string // who publishes the feed, e.g. "Shadowserver"
	TLP          TLP
	Confidence   int     // 0–100
	Orgs         []int64 // matched organisations (set by enrichment)
	DedupKey     string  // events with the same key are one, counted
	Count        int     // sightings folded into this event
	FirstSeen    time.Time
	LastSeen     time.Time
	Raw          string // the input line, at most MaxRawLine bytes
}

// Validate checks a parsed event before it enters the pipeline: a known
// RSIT classification, something observed, a confidence in range, a
// bounded raw line.
func (e *Event) Validate() error {
	c := Classification{Class: e.Class, Type: e.Type}
	if err := c.Validate(); err != nil {
		return err
	}
	e.Class, e.Type = c.Class, c.Type
	if e.Source.IsZero() && e.Destination.IsZero() {
		return FieldErrorf("source", "an event needs a source or a destination")
	}
	for _, ep := range []struct {
		name string
		e    Endpoint
	}{{"source", e.Source}, {"destination", e.Destination}} {
		if ep.e.Country != "" && !validCountry(ep.e.Country) {
			return FieldErrorf(ep.name+".country", "want an ISO 3166-1 alpha-2 code, got %q", ep.e.Country)
		}
		if ep.e.FQDN != "" {
			if err := ValidateDomain(strings.TrimSuffix(strings.ToLower(ep.e.FQDN), ".")); err != nil {
				return FieldErrorf(ep.name+".fqdn", "%v", err)
			}
		}
	}
	if e.Confidence < 0 || e.Confidence > 100 {
		return FieldErrorf("confidence", "want 0 to 100, got %d", e.Confidence)
	}
	if len(e.Raw) > MaxRawLine {
		return FieldErrorf("raw", "longer than %d bytes", MaxRawLine)
	}
	if e.Feed == "" {
		return FieldErrorf("feed", "required")
	}
	return nil
}

// String renders a short description for logs.
func (e *Event) String() string {
	return fmt.Sprintf("%s/%s %s from %s", e.Class, e.Type, e.Source.IP, e.Feed)
}
