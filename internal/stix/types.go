package stix

import (
	"encoding/json"
)

// The typed structs below model the STIX 2.1 objects focal produces and
// reads, with the properties focal uses. Each embeds Common; MarshalJSON
// fills in Type and SpecVersion when empty and appends Common.Custom;
// UnmarshalJSON collects "x_" properties into Common.Custom. Properties
// they do not model are dropped when decoding into them; keep the Object
// to pass an object on unchanged.

// Indicator is an indicator SDO (§4.7): a pattern describing suspicious or
// malicious activity.
type Indicator struct {
	Common
	Name            string           `json:"name,omitempty"`
	Description     string           `json:"description,omitempty"`
	IndicatorTypes  []string         `json:"indicator_types,omitempty"`
	Pattern         string           `json:"pattern"`
	PatternType     string           `json:"pattern_type"`
	PatternVersion  string           `json:"pattern_version,omitempty"`
	ValidFrom       Timestamp        `json:"valid_from,omitzero"`
	ValidUntil      Timestamp        `json:"valid_until,omitzero"`
	KillChainPhases []KillChainPhase `json:"kill_chain_phases,omitempty"`
}

// ObservedData is an observed-data SDO (§4.14): cyber-observables seen
// NumberObserved times between FirstObserved and LastObserved.
type ObservedData struct {
	Common
	FirstObserved  Timestamp `json:"first_observed,omitzero"`
	LastObserved   Timestamp `json:"last_observed,omitzero"`
	NumberObserved int       `json:"number_observed"`
	ObjectRefs     []string  `json:"object_refs,omitempty"`
}

// Sighting is a sighting SRO (§5.2): the belief that something
// (SightingOfRef, e.g. an indicator) was seen.
type Sighting struct {
	Common
	Description      string    `json:"description,omitempty"`
	FirstSeen        Timestamp `json:"first_seen,omitzero"`
	LastSeen         Timestamp `json:"last_seen,omitzero"`
	Count            *int      `json:"count,omitempty"`
	SightingOfRef    string    `json:"sighting_of_ref"`
	ObservedDataRefs []string  `json:"observed_data_refs,omitempty"`
	WhereSightedRefs []string  `json:"where_sighted_refs,omitempty"`
	Summary          bool      `json:"summary,omitempty"`
}

// Report is a report SDO (§4.16): a collection of threat intelligence
// about a topic, published at Published.
type Report struct {
	Common
	Name        string    `json:"name"`
	Description string    `json:"description,omitempty"`
	ReportTypes []string  `json:"report_types,omitempty"`
	Published   Timestamp `json:"published,omitzero"`
	ObjectRefs  []string  `json:"object_refs,omitempty"`
}

// Incident is an incident SDO (§4.6), a stub in STIX 2.1 awaiting the
// incident extension; focal adds its details as custom properties.
type Incident struct {
	Common
	Name            string           `json:"name"`
	Description     string           `json:"description,omitempty"`
	KillChainPhases []KillChainPhase `json:"kill_chain_phases,omitempty"`
}

// Identity is an identity SDO (§4.5): an individual, organisation or
// group, e.g. the focal point that creates objects.
type Identity struct {
	Common
	Name               string   `json:"name"`
	Description        string   `json:"description,omitempty"`
	Roles              []string `json:"roles,omitempty"`
	IdentityClass      string   `json:"identity_class,omitempty"`
	Sectors            []string `json:"sectors,omitempty"`
	ContactInformation string   `json:"contact_information,omitempty"`
}

// Malware is a malware SDO (§4.11). IsFamily is required and always
// written; Name is required when IsFamily is true.
type Malware struct {
	Common
	Name         string    `json:"name,omitempty"`
	Description  string    `json:"description,omitempty"`
	MalwareTypes []string  `json:"malware_types,omitempty"`
	IsFamily     bool      `json:"is_family"`
	Aliases      []string  `json:"aliases,omitempty"`
	FirstSeen    Timestamp `json:"first_seen,omitzero"`
	LastSeen     Timestamp `json:"last_seen,omitzero"`
}

// Vulnerability is a vulnerability SDO (§4.20); a CVE goes in
// ExternalReferences with source_name "cve".
type Vulnerability struct {
	Common
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
}

// Relationship is a relationship SRO (§5.1) linking SourceRef to
// TargetRef, e.g. indicator "indicates" malware.
type Relationship struct {
	Common
	RelationshipType string    `json:"relationship_type"`
	Description      string    `json:"description,omitempty"`
	SourceRef        string    `json:"source_ref"`
	TargetRef        string    `json:"target_ref"`
	StartTime        Timestamp `json:"start_time,omitzero"`
	StopTime         Timestamp `json:"stop_time,omitzero"`
}

// MarkingDefinition is a marking-definition (§7.2.1). It has no modified
// property: marking definitions are never versioned. TLP 2.0 markings
// carry Name and an extension; TLP 1.0 and statement markings carry
// DefinitionType and Definition.
type MarkingDefinition struct {
	Common
	Name           string          `json:"name,omitempty"`
	DefinitionType string          `json:"definition_type,omitempty"`
	Definition     json.RawMessage `json:"definition,omitempty"`
}

// Note is a note SDO (§4.13): text added to objects by ObjectRefs.
type Note struct {
	Common
	Abstract   string   `json:"abstract,omitempty"`
	Content    string   `json:"content"`
	Authors    []string `json:"authors,omitempty"`
	ObjectRefs []string `json:"object_refs"`
}

// IPv4Addr is an ipv4-addr SCO (§6.13): an address or a CIDR prefix.
type IPv4Addr struct {
	Common
	Value string `json:"value"`
}

// IPv6Addr is an ipv6-addr SCO (§6.14): an address or a CIDR prefix.
type IPv6Addr struct {
	Common
	Value string `json:"value"`
}

// DomainName is a domain-name SCO (§6.4).
type DomainName struct {
	Common
	Value string `json:"value"`
}

// URL is a url SCO (§6.19).
type URL struct {
	Common
	Value string `json:"value"`
}

// EmailAddr is an email-addr SCO (§6.5).
type EmailAddr struct {
	Common
	Value       string `json:"value"`
	DisplayName string `json:"display_name,omitempty"`
}

// File is a file SCO (§6.7) with the properties focal uses. Hashes maps a
// hash algorithm name from the hash-algorithm-ov vocabulary ("MD5",
// "SHA-1", "SHA-256", "SHA-512" …) to the hex digest.
type File struct {
	Common
	Hashes map[string]string `json:"hashes,omitempty"`
	Size   *int64            `json:"size,omitempty"`
	Name   string            `json:"name,omitempty"`
}

// AutonomousSystem is an autonomous-system SCO (§6.2).
type AutonomousSystem struct {
	Common
	Number uint32 `json:"number"`
	Name   string `json:"name,omitempty"`
	RIR    string `json:"rir,omitempty"`
}

func (Indicator) objectType() string         { return "indicator" }
func (ObservedData) objectType() string      { return "observed-data" }
func (Sighting) objectType() string          { return "sighting" }
func (Report) objectType() string            { return "report" }
func (Incident) objectType() string          { return "incident" }
func (Identity) objectType() string          { return "identity" }
func (Malware) objectType() string           { return "malware" }
func (Vulnerability) objectType() string     { return "vulnerability" }
func (Relationship) objectType() string      { return "relationship" }
func (MarkingDefinition) objectType() string { return "marking-definition" }
func (Note) objectType() string              { return "note" }
func (IPv4Addr) objectType() string          { return "ipv4-addr" }
func (IPv6Addr) objectType() string          { return "ipv6-addr" }
func (DomainName) objectType() string        { return "domain-name" }
func (URL) objectType() string               { return "url" }
func (EmailAddr) objectType() string         { return "email-addr" }
func (File) objectType() string              { return "file" }
func (AutonomousSystem) objectType() string  { return "autonomous-system" }

// Code below is the same for every typed struct; see the comment at the
// top of types.go.

// MarshalJSON writes the Indicator with its type, spec_version and custom
// properties.
func (o Indicator) MarshalJSON() ([]byte, error) {
	type plain Indicator
	o.defaults(o.objectType())
	return marshalCustom(plain(o), o.Custom)
}

// UnmarshalJSON reads a Indicator, keeping its custom properties.
func (o *Indicator) UnmarshalJSON(b []byte) error {
	type plain Indicator
	return unmarshalCustom(b, (*plain)(o), &o.Common)
}

// MarshalJSON writes the ObservedData with its type, spec_version and custom
// properties.
func (o ObservedData) MarshalJSON() ([]byte, error) {
	type plain ObservedData
	o.defaults(o.objectType())
	return marshalCustom(plain(o), o.Custom)
}

// UnmarshalJSON reads a ObservedData, keeping its custom properties.
func (o *ObservedData) UnmarshalJSON(b []byte) error {
	type plain ObservedData
	return unmarshalCustom(b, (*plain)(o), &o.Common)
}

// MarshalJSON writes the Sighting with its type, spec_version and custom
// properties.
func (o Sighting) MarshalJSON() ([]byte, error) {
	type plain Sighting
	o.defaults(o.objectType())
	return marshalCustom(plain(o), o.Custom)
}

// UnmarshalJSON reads a Sighting, keeping its custom properties.
func (o *Sighting) UnmarshalJSON(b []byte) error {
	type plain Sighting
	return unmarshalCustom(b, (*plain)(o), &o.Common)
}

// MarshalJSON writes the Report with its type, spec_version and custom
// properties.
func (o Report) MarshalJSON() ([]byte, error) {
	type plain Report
	o.defaults(o.objectType())
	return marshalCustom(plain(o), o.Custom)
}

// UnmarshalJSON reads a Report, keeping its custom properties.
func (o *Report) UnmarshalJSON(b []byte) error {
	type plain Report
	return unmarshalCustom(b, (*plain)(o), &o.Common)
}

// MarshalJSON writes the Incident with its type, spec_version and custom
// properties.
func (o Incident) MarshalJSON() ([]byte, error) {
	type plain Incident
	o.defaults(o.objectType())
	return marshalCustom(plain(o), o.Custom)
}

// UnmarshalJSON reads a Incident, keeping its custom properties.
func (o *Incident) UnmarshalJSON(b []byte) error {
	type plain Incident
	return unmarshalCustom(b, (*plain)(o), &o.Common)
}

// MarshalJSON writes the Identity with its type, spec_version and custom
// properties.
func (o Identity) MarshalJSON() ([]byte, error) {
	type plain Identity
	o.defaults(o.objectType())
	return marshalCustom(plain(o), o.Custom)
}

// UnmarshalJSON reads a Identity, keeping its custom properties.
func (o *Identity) UnmarshalJSON(b []byte) error {
	type plain Identity
	return unmarshalCustom(b, (*plain)(o), &o.Common)
}

// MarshalJSON writes the Malware with its type, spec_version and custom
// properties.
func (o Malware) MarshalJSON() ([]byte, error) {
	type plain Malware
	o.defaults(o.objectType())
	return marshalCustom(plain(o), o.Custom)
}

// UnmarshalJSON reads a Malware, keeping its custom properties.
func (o *Malware) UnmarshalJSON(b []byte) error {
	type plain Malware
	return unmarshalCustom(b, (*plain)(o), &o.Common)
}

// MarshalJSON writes the Vulnerability with its type, spec_version and custom
// properties.
func (o Vulnerability) MarshalJSON() ([]byte, error) {
	type plain Vulnerability
	o.defaults(o.objectType())
	return marshalCustom(plain(o), o.Custom)
}

// UnmarshalJSON reads a Vulnerability, keeping its custom properties.
func (o *Vulnerability) UnmarshalJSON(b []byte) error {
	type plain Vulnerability
	return unmarshalCustom(b, (*plain)(o), &o.Common)
}

// MarshalJSON writes the Relationship with its type, spec_version and custom
// properties.
func (o Relationship) MarshalJSON() ([]byte, error) {
	type plain Relationship
	o.defaults(o.objectType())
	return marshalCustom(plain(o), o.Custom)
}

// UnmarshalJSON reads a Relationship, keeping its custom properties.
func (o *Relationship) UnmarshalJSON(b []byte) error {
	type plain Relationship
	return unmarshalCustom(b, (*plain)(o), &o.Common)
}

// MarshalJSON writes the MarkingDefinition with its type, spec_version and custom
// properties.
func (o MarkingDefinition) MarshalJSON() ([]byte, error) {
	type plain MarkingDefinition
	o.defaults(o.objectType())
	return marshalCustom(plain(o), o.Custom)
}

// UnmarshalJSON reads a MarkingDefinition, keeping its custom properties.
func (o *MarkingDefinition) UnmarshalJSON(b []byte) error {
	type plain MarkingDefinition
	return unmarshalCustom(b, (*plain)(o), &o.Common)
}

// MarshalJSON writes the Note with its type, spec_version and custom
// properties.
func (o Note) MarshalJSON() ([]byte, error) {
	type plain Note
	o.defaults(o.objectType())
	return marshalCustom(plain(o), o.Custom)
}

// UnmarshalJSON reads a Note, keeping its custom properties.
func (o *Note) UnmarshalJSON(b []byte) error {
	type plain Note
	return unmarshalCustom(b, (*plain)(o), &o.Common)
}

// MarshalJSON writes the IPv4Addr with its type, spec_version and custom
// properties.
func (o IPv4Addr) MarshalJSON() ([]byte, error) {
	type plain IPv4Addr
	o.defaults(o.objectType())
	return marshalCustom(plain(o), o.Custom)
}

// UnmarshalJSON reads a IPv4Addr, keeping its custom properties.
func (o *IPv4Addr) UnmarshalJSON(b []byte) error {
	type plain IPv4Addr
	return unmarshalCustom(b, (*plain)(o), &o.Common)
}

// MarshalJSON writes the IPv6Addr with its type, spec_version and custom
// properties.
func (o IPv6Addr) MarshalJSON() ([]byte, error) {
	type plain IPv6Addr
	o.defaults(o.objectType())
	return marshalCustom(plain(o), o.Custom)
}

// UnmarshalJSON reads a IPv6Addr, keeping its custom properties.
func (o *IPv6Addr) UnmarshalJSON(b []byte) error {
	type plain IPv6Addr
	return unmarshalCustom(b, (*plain)(o), &o.Common)
}

// MarshalJSON writes the DomainName with its type, spec_version and custom
// properties.
func (o DomainName) MarshalJSON() ([]byte, error) {
	type plain DomainName
	o.defaults(o.objectType())
	return marshalCustom(plain(o), o.Custom)
}

// UnmarshalJSON reads a DomainName, keeping its custom properties.
func (o *DomainName) UnmarshalJSON(b []byte) error {
	type plain DomainName
	return unmarshalCustom(b, (*plain)(o), &o.Common)
}

// MarshalJSON writes the URL with its type, spec_version and custom
// properties.
func (o URL) MarshalJSON() ([]byte, error) {
	type plain URL
	o.defaults(o.objectType())
	return marshalCustom(plain(o), o.Custom)
}

// UnmarshalJSON reads a URL, keeping its custom properties.
func (o *URL) UnmarshalJSON(b []byte) error {
	type plain URL
	return unmarshalCustom(b, (*plain)(o), &o.Common)
}

// MarshalJSON writes the EmailAddr with its type, spec_version and custom
// properties.
func (o EmailAddr) MarshalJSON() ([]byte, error) {
	type plain EmailAddr
	o.defaults(o.objectType())
	return marshalCustom(plain(o), o.Custom)
}

// UnmarshalJSON reads a EmailAddr, keeping its custom properties.
func (o *EmailAddr) UnmarshalJSON(b []byte) error {
	type plain EmailAddr
	return unmarshalCustom(b, (*plain)(o), &o.Common)
}

// MarshalJSON writes the File with its type, spec_version and custom
// properties.
func (o File) MarshalJSON() ([]byte, error) {
	type plain File
	o.defaults(o.objectType())
	return marshalCustom(plain(o), o.Custom)
}

// UnmarshalJSON reads a File, keeping its custom properties.
func (o *File) UnmarshalJSON(b []byte) error {
	type plain File
	return unmarshalCustom(b, (*plain)(o), &o.Common)
}

// MarshalJSON writes the AutonomousSystem with its type, spec_version and custom
// properties.
func (o AutonomousSystem) MarshalJSON() ([]byte, error) {
	type plain AutonomousSystem
	o.defaults(o.objectType())
	return marshalCustom(plain(o), o.Custom)
}

// UnmarshalJSON reads a AutonomousSystem, keeping its custom properties.
func (o *AutonomousSystem) UnmarshalJSON(b []byte) error {
	type plain AutonomousSystem
	return unmarshalCustom(b, (*plain)(o), &o.Common)
}
