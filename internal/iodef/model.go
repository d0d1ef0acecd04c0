package iodef

import (
	"encoding/xml"
	"fmt"
	"strings"
	"time"
)

// The XML namespaces an IODEF v2 document uses.
const (
	// Namespace is the IODEF v2 namespace (RFC 7970).
	Namespace = "urn:ietf:params:xml:ns:iodef-2.0"
	// EnumNamespace is the namespace of enum:ReferenceName (RFC 7495).
	EnumNamespace = "urn:ietf:params:xml:ns:iodef-enum-1.0"
	// DSigNamespace is the XML Signature namespace of ds:DigestMethod and
	// ds:DigestValue in Hash.
	DSigNamespace = "http://www.w3.org/2000/09/xmldsig#"
	// Version is the value of IODEF-Document@version for IODEF v2.
	Version = "2.00"
)

// The digest algorithm URIs (RFC 6931) written in Hash/ds:DigestMethod.
const (
	AlgMD5    = "http://www.w3.org/2001/04/xmldsig-more#md5"
	AlgSHA1   = "http://www.w3.org/2000/09/xmldsig#sha1"
	AlgSHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"
)

// The struct types below model the IODEF v2 classes focal writes, plus the
// common ones a peer's report is likely to carry. Fields are declared in the
// order of the RFC 7970 schema (xs:sequence), because encoding/xml writes
// them in declaration order and IODEF validators check the order. Elements
// that are not modelled are skipped when decoding.

// Document is the IODEF-Document element, the root of every document.
type Document struct {
	XMLName         xml.Name `xml:"urn:ietf:params:xml:ns:iodef-2.0 IODEF-Document"`
	Version         string   `xml:"version,attr"`
	Lang            string   `xml:"http://www.w3.org/XML/1998/namespace lang,attr,omitempty"`
	FormatID        string   `xml:"format-id,attr,omitempty"`
	PrivateEnumName string   `xml:"private-enum-name,attr,omitempty"`
	PrivateEnumID   string   `xml:"private-enum-id,attr,omitempty"`

	Incidents      []Incident      `xml:"Incident"`
	AdditionalData []ExtensionType `xml:"AdditionalData,omitempty"`
}

// Incident is one incident (RFC 7970 section 3.2).
type Incident struct {
	Purpose        string `xml:"purpose,attr"`
	ExtPurpose     string `xml:"ext-purpose,attr,omitempty"`
	Status         string `xml:"status,attr,omitempty"`
	ExtStatus      string `xml:"ext-status,attr,omitempty"`
	Lang           string `xml:"http://www.w3.org/XML/1998/namespace lang,attr,omitempty"`
	Restriction    string `xml:"restriction,attr,omitempty"`
	ExtRestriction string `xml:"ext-restriction,attr,omitempty"`
	ObservableID   string `xml:"observable-id,attr,omitempty"`

	IncidentID      IncidentID        `xml:"IncidentID"`
	AlternativeID   *AlternativeID    `xml:"AlternativeID,omitempty"`
	RelatedActivity []RelatedActivity `xml:"RelatedActivity,omitempty"`
	DetectTime      *DateTime         `xml:"DetectTime,omitempty"`
	StartTime       *DateTime         `xml:"StartTime,omitempty"`
	EndTime         *DateTime         `xml:"EndTime,omitempty"`
	RecoveryTime    *DateTime         `xml:"RecoveryTime,omitempty"`
	ReportTime      *DateTime         `xml:"ReportTime,omitempty"`
	GenerationTime  DateTime          `xml:"GenerationTime"`
	Description     []MLString        `xml:"Description,omitempty"`
	Discovery       []Discovery       `xml:"Discovery,omitempty"`
	Assessment      []Assessment      `xml:"Assessment,omitempty"`
	Method          []Method          `xml:"Method,omitempty"`
	Contact         []Contact         `xml:"Contact"`
	EventData       []EventData       `xml:"EventData,omitempty"`
	IndicatorData   *IndicatorData    `xml:"IndicatorData,omitempty"`
	History         *History          `xml:"History,omitempty"`
	AdditionalData  []ExtensionType   `xml:"AdditionalData,omitempty"`
}

// IncidentID is a CSIRT's tracking number for an incident. Name is the
// CSIRT, by RFC 7970 the fully qualified domain name associated with it.
type IncidentID struct {
	Value          string `xml:",chardata"`
	Name           string `xml:"name,attr"`
	Instance       string `xml:"instance,attr,omitempty"`
	Restriction    string `xml:"restriction,attr,omitempty"`
	ExtRestriction string `xml:"ext-restriction,attr,omitempty"`
}

// AlternativeID lists other CSIRTs' tracking numbers for the same incident.
type AlternativeID struct {
	Restriction    string       `xml:"restriction,attr,omitempty"`
	ExtRestriction string       `xml:"ext-restriction,attr,omitempty"`
	IncidentID     []IncidentID `xml:"IncidentID"`
}

// RelatedActivity relates the incident to other incidents or activity.
type RelatedActivity struct {
	Restriction    string       `xml:"restriction,attr,omitempty"`
	ExtRestriction string       `xml:"ext-restriction,attr,omitempty"`
	IncidentID     []IncidentID `xml:"IncidentID,omitempty"`
	URL            []string     `xml:"URL,omitempty"`
	Description    []MLString   `xml:"Description,omitempty"`
}

// MLString is a multilingual string (iodef:MLStringType).
type MLString struct {
	Value         string `xml:",chardata"`
	Lang          string `xml:"http://www.w3.org/XML/1998/namespace lang,attr,omitempty"`
	TranslationID string `xml:"translation-id,attr,omitempty"`
}

// Discovery describes how an incident was detected.
type Discovery struct {
	Source         string     `xml:"source,attr,omitempty"`
	ExtSource      string     `xml:"ext-source,attr,omitempty"`
	Restriction    string     `xml:"restriction,attr,omitempty"`
	ExtRestriction string     `xml:"ext-restriction,attr,omitempty"`
	Description    []MLString `xml:"Description,omitempty"`
	Contact        []Contact  `xml:"Contact,omitempty"`
}

// Assessment characterises the impact of an incident. RFC 7970 requires at
// least one impact (SystemImpact, BusinessImpact, …) in it.
type Assessment struct {
	Occurrence       string           `xml:"occurrence,attr,omitempty"`
	Restriction      string           `xml:"restriction,attr,omitempty"`
	ExtRestriction   string           `xml:"ext-restriction,attr,omitempty"`
	ObservableID     string           `xml:"observable-id,attr,omitempty"`
	IncidentCategory []MLString       `xml:"IncidentCategory,omitempty"`
	SystemImpact     []SystemImpact   `xml:"SystemImpact,omitempty"`
	BusinessImpact   []BusinessImpact `xml:"BusinessImpact,omitempty"`
	MitigatingFactor []MLString       `xml:"MitigatingFactor,omitempty"`
	Cause            []MLString       `xml:"Cause,omitempty"`
	Confidence       *Confidence      `xml:"Confidence,omitempty"`
	AdditionalData   []ExtensionType  `xml:"AdditionalData,omitempty"`
}

// SystemImpact is the technical impact of an incident. Severity is low,
// medium or high; Type is one of RFC 7970's impact types, e.g. "unknown".
type SystemImpact struct {
	Severity    string     `xml:"severity,attr,omitempty"`
	Completion  string     `xml:"completion,attr,omitempty"`
	Type        string     `xml:"type,attr"`
	ExtType     string     `xml:"ext-type,attr,omitempty"`
	Description []MLString `xml:"Description,omitempty"`
}

// BusinessImpact is the impact of an incident on an organisation's business.
type BusinessImpact struct {
	Severity    string     `xml:"severity,attr,omitempty"`
	ExtSeverity string     `xml:"ext-severity,attr,omitempty"`
	Type        string     `xml:"type,attr"`
	ExtType     string     `xml:"ext-type,attr,omitempty"`
	Description []MLString `xml:"Description,omitempty"`
}

// Confidence is an estimate of the validity of data.
type Confidence struct {
	Value     string `xml:",chardata"`
	Rating    string `xml:"rating,attr"`
	ExtRating string `xml:"ext-rating,attr,omitempty"`
}

// Method is the techniques used in an incident: references and text.
type Method struct {
	Restriction    string          `xml:"restriction,attr,omitempty"`
	ExtRestriction string          `xml:"ext-restriction,attr,omitempty"`
	Reference      []Reference     `xml:"Reference,omitempty"`
	Description    []MLString      `xml:"Description,omitempty"`
	AdditionalData []ExtensionType `xml:"AdditionalData,omitempty"`
}

// Reference is a reference to external information, e.g. a CVE (through
// ReferenceName) or a taxonomy entry (through URL and Description).
type Reference struct {
	ObservableID  string         `xml:"observable-id,attr,omitempty"`
	ReferenceName *ReferenceName `xml:"urn:ietf:params:xml:ns:iodef-enum-1.0 ReferenceName,omitempty"`
	URL           []string       `xml:"URL,omitempty"`
	Description   []MLString     `xml:"Description,omitempty"`
}

// ReferenceName names an entry of an IANA-registered enumeration, e.g. a
// CVE identifier (RFC 7495). SpecIndex identifies the enumeration.
type ReferenceName struct {
	SpecIndex int    `xml:"specIndex,attr"`
	ID        string `xml:"urn:ietf:params:xml:ns:iodef-enum-1.0 ID"`
}

// Contact is a party involved in an incident. Role (e.g. irt, reporter,
// creator) and Type (person or organization) are required.
type Contact struct {
	Role           string           `xml:"role,attr"`
	ExtRole        string           `xml:"ext-role,attr,omitempty"`
	Type           string           `xml:"type,attr"`
	ExtType        string           `xml:"ext-type,attr,omitempty"`
	Restriction    string           `xml:"restriction,attr,omitempty"`
	ExtRestriction string           `xml:"ext-restriction,attr,omitempty"`
	ContactName    []MLString       `xml:"ContactName,omitempty"`
	ContactTitle   []MLString       `xml:"ContactTitle,omitempty"`
	Description    []MLString       `xml:"Description,omitempty"`
	RegistryHandle []RegistryHandle `xml:"RegistryHandle,omitempty"`
	Email          []Email          `xml:"Email,omitempty"`
	Telephone      []Telephone      `xml:"Telephone,omitempty"`
	Timezone       string           `xml:"Timezone,omitempty"`
	Contact        []Contact        `xml:"Contact,omitempty"`
	AdditionalData []ExtensionType  `xml:"AdditionalData,omitempty"`
}

// RegistryHandle is a handle into an Internet registry, e.g. a RIPE handle.
type RegistryHandle struct {
	Value       string `xml:",chardata"`
	Registry    string `xml:"registry,attr"`
	ExtRegistry string `xml:"ext-registry,attr,omitempty"`
}

// Email is an e-mail address of a contact; Type is direct or hotline.
type Email struct {
	Type        string     `xml:"type,attr,omitempty"`
	ExtType     string     `xml:"ext-type,attr,omitempty"`
	EmailTo     string     `xml:"EmailTo"`
	Description []MLString `xml:"Description,omitempty"`
}

// Telephone is a telephone number of a contact.
type Telephone struct {
	Type            string     `xml:"type,attr,omitempty"`
	ExtType         string     `xml:"ext-type,attr,omitempty"`
	TelephoneNumber string     `xml:"TelephoneNumber"`
	Description     []MLString `xml:"Description,omitempty"`
}

// EventData describes the events of an incident.
type EventData struct {
	Restriction    string          `xml:"restriction,attr,omitempty"`
	ExtRestriction string          `xml:"ext-restriction,attr,omitempty"`
	ObservableID   string          `xml:"observable-id,attr,omitempty"`
	Description    []MLString      `xml:"Description,omitempty"`
	DetectTime     *DateTime       `xml:"DetectTime,omitempty"`
	StartTime      *DateTime       `xml:"StartTime,omitempty"`
	EndTime        *DateTime       `xml:"EndTime,omitempty"`
	RecoveryTime   *DateTime       `xml:"RecoveryTime,omitempty"`
	ReportTime     *DateTime       `xml:"ReportTime,omitempty"`
	Contact        []Contact       `xml:"Contact,omitempty"`
	Discovery      []Discovery     `xml:"Discovery,omitempty"`
	Assessment     []Assessment    `xml:"Assessment,omitempty"`
	Method         []Method        `xml:"Method,omitempty"`
	Flow           []Flow          `xml:"Flow,omitempty"`
	EventData      []EventData     `xml:"EventData,omitempty"`
	AdditionalData []ExtensionType `xml:"AdditionalData,omitempty"`
}

// Flow groups the systems involved in an event.
type Flow struct {
	System []System `xml:"System"`
}

// System is a host or network involved in an event. Category is source,
// target, intermediate, sensor, infrastructure or ext-value.
type System struct {
	Category       string          `xml:"category,attr,omitempty"`
	ExtCategory    string          `xml:"ext-category,attr,omitempty"`
	Interface      string          `xml:"interface,attr,omitempty"`
	Spoofed        string          `xml:"spoofed,attr,omitempty"`
	Virtual        string          `xml:"virtual,attr,omitempty"`
	Ownership      string          `xml:"ownership,attr,omitempty"`
	ExtOwnership   string          `xml:"ext-ownership,attr,omitempty"`
	Restriction    string          `xml:"restriction,attr,omitempty"`
	ExtRestriction string          `xml:"ext-restriction,attr,omitempty"`
	ObservableID   string          `xml:"observable-id,attr,omitempty"`
	Node           Node            `xml:"Node"`
	NodeRole       []NodeRole      `xml:"NodeRole,omitempty"`
	Service        []Service       `xml:"Service,omitempty"`
	Description    []MLString      `xml:"Description,omitempty"`
	AdditionalData []ExtensionType `xml:"AdditionalData,omitempty"`
}

// Node identifies a host or network by domain names and addresses (at
// least one of them).
type Node struct {
	DomainData []DomainData `xml:"DomainData,omitempty"`
	Address    []Address    `xml:"Address,omitempty"`
	Location   []MLString   `xml:"Location,omitempty"`
}

// Address is a network or application address. Category is e.g.
// ipv4-addr, ipv6-addr, ipv4-net, ipv6-net, asn, e-mail, site-uri, mac;
// RFC 7970's default is ipv6-addr.
type Address struct {
	Value        string `xml:",chardata"`
	Category     string `xml:"category,attr,omitempty"`
	ExtCategory  string `xml:"ext-category,attr,omitempty"`
	VLANName     string `xml:"vlan-name,attr,omitempty"`
	VLANNum      string `xml:"vlan-num,attr,omitempty"`
	ObservableID string `xml:"observable-id,attr,omitempty"`
}

// NodeRole is the function of a system, e.g. www, mail, c2-server,
// phishing-site.
type NodeRole struct {
	Category    string     `xml:"category,attr"`
	ExtCategory string     `xml:"ext-category,attr,omitempty"`
	Description []MLString `xml:"Description,omitempty"`
}

// Service is a network service of a system.
type Service struct {
	IPProtocol   string `xml:"ip-protocol,attr,omitempty"`
	ObservableID string `xml:"observable-id,attr,omitempty"`
	Port         string `xml:"Port,omitempty"`
	Portlist     string `xml:"Portlist,omitempty"`
}

// DomainData is a domain name and what is known of it. SystemStatus and
// DomainStatus are required; "unknown" is a valid value of both.
type DomainData struct {
	SystemStatus         string    `xml:"system-status,attr"`
	ExtSystemStatus      string    `xml:"ext-system-status,attr,omitempty"`
	DomainStatus         string    `xml:"domain-status,attr"`
	ExtDomainStatus      string    `xml:"ext-domain-status,attr,omitempty"`
	ObservableID         string    `xml:"observable-id,attr,omitempty"`
	Name                 string    `xml:"Name"`
	DateDomainWasChecked *DateTime `xml:"DateDomainWasChecked,omitempty"`
	RegistrationDate     *DateTime `xml:"RegistrationDate,omitempty"`
	ExpirationDate       *DateTime `xml:"ExpirationDate,omitempty"`
}

// IndicatorData holds the indicators of an incident.
type IndicatorData struct {
	Indicator []Indicator `xml:"Indicator"`
}

// Indicator is one indicator: an identifier and, here, one Observable.
type Indicator struct {
	Restriction    string          `xml:"restriction,attr,omitempty"`
	ExtRestriction string          `xml:"ext-restriction,attr,omitempty"`
	IndicatorID    IndicatorID     `xml:"IndicatorID"`
	Description    []MLString      `xml:"Description,omitempty"`
	StartTime      *DateTime       `xml:"StartTime,omitempty"`
	EndTime        *DateTime       `xml:"EndTime,omitempty"`
	Confidence     *Confidence     `xml:"Confidence,omitempty"`
	Contact        []Contact       `xml:"Contact,omitempty"`
	Observable     *Observable     `xml:"Observable,omitempty"`
	Reference      []Reference     `xml:"Reference,omitempty"`
	AdditionalData []ExtensionType `xml:"AdditionalData,omitempty"`
}

// IndicatorID identifies an indicator. Value is an xs:ID (an XML name:
// starts with a letter, no spaces or colons); Name is the issuing CSIRT and
// Version the indicator's version.
type IndicatorID struct {
	Value   string `xml:",chardata"`
	Name    string `xml:"name,attr"`
	Version string `xml:"version,attr"`
}

// Observable is one observable of an indicator. The schema makes it a
// choice: exactly one of the fields is set.
type Observable struct {
	Restriction    string          `xml:"restriction,attr,omitempty"`
	ExtRestriction string          `xml:"ext-restriction,attr,omitempty"`
	System         *System         `xml:"System,omitempty"`
	Address        *Address        `xml:"Address,omitempty"`
	DomainData     *DomainData     `xml:"DomainData,omitempty"`
	EmailData      *EmailData      `xml:"EmailData,omitempty"`
	FileData       *FileData       `xml:"FileData,omitempty"`
	AdditionalData []ExtensionType `xml:"AdditionalData,omitempty"`
}

// EmailData is header data of an e-mail message.
type EmailData struct {
	ObservableID string   `xml:"observable-id,attr,omitempty"`
	EmailTo      []string `xml:"EmailTo,omitempty"`
	EmailFrom    string   `xml:"EmailFrom,omitempty"`
	EmailSubject string   `xml:"EmailSubject,omitempty"`
}

// FileData describes one or more files.
type FileData struct {
	Restriction    string `xml:"restriction,attr,omitempty"`
	ExtRestriction string `xml:"ext-restriction,attr,omitempty"`
	ObservableID   string `xml:"observable-id,attr,omitempty"`
	File           []File `xml:"File"`
}

// File is a file: its name, size, type, URLs and hashes.
type File struct {
	ObservableID string    `xml:"observable-id,attr,omitempty"`
	FileName     string    `xml:"FileName,omitempty"`
	FileSize     string    `xml:"FileSize,omitempty"`
	FileType     string    `xml:"FileType,omitempty"`
	URL          []string  `xml:"URL,omitempty"`
	HashData     *HashData `xml:"HashData,omitempty"`
}

// HashData holds the hashes of an object. Scope (required) says what was
// hashed, e.g. file-contents.
type HashData struct {
	Scope        string `xml:"scope,attr"`
	ExtScope     string `xml:"ext-scope,attr,omitempty"`
	HashTargetID string `xml:"HashTargetID,omitempty"`
	Hash         []Hash `xml:"Hash,omitempty"`
}

// Hash is one cryptographic hash, in XML Signature form: the algorithm URI
// and the base64 of the digest bytes.
type Hash struct {
	DigestMethod DigestMethod `xml:"http://www.w3.org/2000/09/xmldsig# DigestMethod"`
	DigestValue  string       `xml:"http://www.w3.org/2000/09/xmldsig# DigestValue"`
}

// DigestMethod is ds:DigestMethod; Algorithm is a URI such as AlgSHA256.
type DigestMethod struct {
	Algorithm string `xml:"Algorithm,attr"`
}

// History is the log of an incident's handling.
type History struct {
	Restriction    string        `xml:"restriction,attr,omitempty"`
	ExtRestriction string        `xml:"ext-restriction,attr,omitempty"`
	HistoryItem    []HistoryItem `xml:"HistoryItem"`
}

// HistoryItem is one entry of the History. Action (required) is one of
// RFC 7970's actions, e.g. investigate or other.
type HistoryItem struct {
	Action         string          `xml:"action,attr"`
	ExtAction      string          `xml:"ext-action,attr,omitempty"`
	Restriction    string          `xml:"restriction,attr,omitempty"`
	ExtRestriction string          `xml:"ext-restriction,attr,omitempty"`
	ObservableID   string          `xml:"observable-id,attr,omitempty"`
	DateTime       DateTime        `xml:"DateTime"`
	IncidentID     *IncidentID     `xml:"IncidentID,omitempty"`
	Contact        *Contact        `xml:"Contact,omitempty"`
	Description    []MLString      `xml:"Description,omitempty"`
	DefinedCOA     []string        `xml:"DefinedCOA,omitempty"`
	AdditionalData []ExtensionType `xml:"AdditionalData,omitempty"`
}

// ExtensionType is an AdditionalData (and similar) element: a typed value
// with an optional meaning. Only the text content is kept when decoding;
// child elements of dtype="xml" values are skipped.
type ExtensionType struct {
	Value          string `xml:",chardata"`
	Name           string `xml:"name,attr,omitempty"`
	DType          string `xml:"dtype,attr"`
	ExtDType       string `xml:"ext-dtype,attr,omitempty"`
	Meaning        string `xml:"meaning,attr,omitempty"`
	FormatID       string `xml:"formatid,attr,omitempty"`
	Restriction    string `xml:"restriction,attr,omitempty"`
	ExtRestriction string `xml:"ext-restriction,attr,omitempty"`
	ObservableID   string `xml:"observable-id,attr,omitempty"`
}

// DateTime is an xs:dateTime. It is written in RFC 3339 form and read
// leniently: surrounding white space is ignored, fractional seconds are
// optional and a value without a time zone is taken as UTC.
type DateTime struct {
	time.Time
}

// at returns t in UTC as a DateTime pointer, or nil if t is the zero time.
func at(t time.Time) *DateTime {
	if t.IsZero() {
		return nil
	}
	return &DateTime{t.UTC()}
}

// MarshalText writes the time in RFC 3339 form.
func (t DateTime) MarshalText() ([]byte, error) {
	return []byte(t.Format(time.RFC3339Nano)), nil
}

// UnmarshalText parses an xs:dateTime.
func (t *DateTime) UnmarshalText(b []byte) error {
	s := strings.TrimSpace(string(b))
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999"} {
		if v, err := time.Parse(layout, s); err == nil {
			t.Time = v
			return nil
		}
	}
	if len(s) > 40 {
		s = s[:40] + "…"
	}
	return fmt.Errorf("invalid date-time %q: want RFC 3339, e.g. 2026-03-10T09:15:00Z", s)
}
