// Package stix reads, writes and validates STIX 2.1 JSON (OASIS Structured
// Threat Information Expression, version 2.1) for focal, and maps between
// STIX objects and focal's events, observables and incidents. It is written
// by hand against the specification; no STIX library is used.
//
// # Objects
//
// Object is the generic form of any STIX object: the raw JSON as received,
// which it writes back byte for byte, plus the decoded common properties
// (type, id, spec_version, created, modified, object_marking_refs …). Unknown
// object types and custom properties therefore pass through focal
// unchanged. Decode and DecodeBundle read objects and bundles; Validate
// checks the properties the specification requires per type.
//
// The typed structs (Indicator, ObservedData, Sighting, Report, Incident,
// Identity, Malware, Vulnerability, Relationship, MarkingDefinition, Note,
// and the cyber-observables IPv4Addr, IPv6Addr, DomainName, URL, EmailAddr,
// File and AutonomousSystem) are for the objects focal produces. They use
// the exact STIX property names, leave out empty optional properties, fill
// in type and spec_version when they are empty, and keep custom properties
// (x_…) in Common.Custom. NewObject turns one into an Object; Object.As
// decodes an Object into one.
//
// # Identifiers and timestamps
//
// Identifiers are "<type>--<uuid>". NewID makes a random (version 4) one;
// the cyber-observable constructors (NewIPv4Addr, NewDomainName, …) and
// SCOID compute the deterministic version 5 identifiers of STIX 2.1 §2.9:
// UUIDv5 in namespace 00abedb4-aa42-466c-9c01-fed23315a9b7 over the RFC 8785
// (JCS) canonical JSON of the ID-contributing properties. Timestamps are
// RFC 3339 in UTC with a "Z"; focal writes them with millisecond precision
// (more digits only when the time has them) and accepts any precision.
// An object's modified timestamp is its version.
//
// # Markings
//
// MarkingFor returns the TLP 2.0 marking-definition objects published by
// OASIS (extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d) for a
// focal.TLP; TLPOf reads the most restrictive TLP label among an object's
// object_marking_refs, recognising the TLP 2.0 and the TLP 1.0 marking
// definitions (TLP:WHITE is read as CLEAR).
//
// # Patterns
//
// ParsePattern is a recursive-descent parser for the STIX 2.1 patterning
// language (part 9 of the specification and its ANTLR grammar). It returns
// an abstract syntax tree whose String method writes a canonical pattern,
// so that ParsePattern(p.String()) yields p again, and reports errors as a
// *PatternError with the byte offset. It never panics, reads at most
// MaxPatternLen bytes and nests at most MaxPatternDepth levels. PatternFor
// builds the pattern of a focal observable and PatternObservables extracts
// the observables a pattern compares for equality.
//
// # Mapping to focal
//
// IndicatorFromObservable, FromEvent, ReportFromIncident and IdentityFor
// build STIX objects from focal's types; ToEvents turns an indicator or an
// observed-data object back into focal events. mapping.go documents each
// decision.
//
// Errors from Decode, DecodeBundle, Validate and the mapping functions are
// *focal.Error values with code focal.EINVALID whose message names the
// object and the property, e.g. "indicator--…: pattern: at byte 5: …".
// Nothing in the package keeps state; every function is safe for
// concurrent use.
package stix
