package iodef

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"

	"focal/internal/focal"
)

// The bounds Decode enforces.
const (
	// MaxSize is the largest document Decode reads, in bytes.
	MaxSize = 10 << 20
	// MaxDepth is the deepest nesting of elements Decode accepts.
	MaxDepth = 64
)

// The reasons Decode refuses a document that is well-formed XML; a
// *DecodeError wraps them.
var (
	ErrTooLarge = errors.New("document larger than 10 MiB")
	ErrTooDeep  = errors.New("elements nested deeper than 64")
	ErrDTD      = errors.New("DTDs and other <!…> declarations are not allowed")
	ErrNotIODEF = errors.New("not an IODEF v2 document")
)

// DecodeError is a document Decode refused: where and why.
type DecodeError struct {
	// Offset is the byte offset in the input at which the problem was
	// found, or -1 when it concerns the document as a whole (a missing
	// required element, say).
	Offset int64
	// Element is the path of the element concerned, e.g.
	// "IODEF-Document/Incident[1]/IncidentID", or "" if unknown.
	Element string
	// Err is the problem.
	Err error
}

// Error renders "iodef: at byte 120 in IODEF-Document/Incident: …".
func (e *DecodeError) Error() string {
	var b strings.Builder
	b.WriteString("iodef: ")
	if e.Offset >= 0 {
		fmt.Fprintf(&b, "at byte %d", e.Offset)
		if e.Element != "" {
			b.WriteString(" ")
		}
	}
	if e.Element != "" {
		fmt.Fprintf(&b, "in %s", e.Element)
	}
	if e.Offset >= 0 || e.Element != "" {
		b.WriteString(": ")
	}
	if e.Err != nil {
		b.WriteString(e.Err.Error())
	} else {
		b.WriteString("malformed document")
	}
	return b.String()
}

// Unwrap returns the problem.
func (e *DecodeError) Unwrap() error { return e.Err }

// Decode parses an IODEF v2 document into the package's types. It refuses
// input larger than MaxSize, elements nested deeper than MaxDepth, DTDs,
// content after the root element, a root other than IODEF-Document in the
// IODEF v2 namespace, a version other than "2.00", and Incidents missing
// IncidentID (with its name), purpose, GenerationTime or Contact. Every
// error is a *DecodeError.
func Decode(r io.Reader) (*Document, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxSize+1))
	if err != nil {
		return nil, &DecodeError{Offset: int64(len(data)), Err: fmt.Errorf("read: %w", err)}
	}
	if len(data) > MaxSize {
		return nil, &DecodeError{Offset: MaxSize, Err: ErrTooLarge}
	}
	if err := scan(data); err != nil {
		return nil, err
	}
	var doc Document
	d := xml.NewDecoder(bytes.NewReader(data))
	if err := d.Decode(&doc); err != nil {
		return nil, &DecodeError{Offset: d.InputOffset(), Err: err}
	}
	if err := validate(&doc); err != nil {
		return nil, err
	}
	return &doc, nil
}

// scan checks that data is one well-formed XML element within the bounds,
// with no DTD, whose root is IODEF-Document in the IODEF v2 namespace.
func scan(data []byte) error {
	d := xml.NewDecoder(bytes.NewReader(data))
	var stack []string
	path := func() string { return strings.Join(stack, "/") }
	roots := 0
	for {
		off := d.InputOffset()
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return &DecodeError{Offset: d.InputOffset(), Element: path(), Err: err}
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if len(stack) == 0 {
				roots++
				if roots > 1 {
					return &DecodeError{Offset: off, Err: fmt.Errorf("%w: content after the root element", ErrNotIODEF)}
				}
				if t.Name.Local != "IODEF-Document" || t.Name.Space != Namespace {
					return &DecodeError{Offset: off, Element: t.Name.Local, Err: fmt.Errorf("%w: root element is {%s}%s, want {%s}IODEF-Document", ErrNotIODEF, t.Name.Space, t.Name.Local, Namespace)}
				}
			}
			stack = append(stack, t.Name.Local)
			if len(stack) > MaxDepth {
				return &DecodeError{Offset: off, Element: path(), Err: ErrTooDeep}
			}
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.Directive:
			return &DecodeError{Offset: off, Element: path(), Err: ErrDTD}
		case xml.CharData:
			if len(stack) == 0 && len(bytes.TrimSpace(t)) > 0 {
				return &DecodeError{Offset: off, Err: fmt.Errorf("%w: text outside the root element", ErrNotIODEF)}
			}
		}
	}
	if roots == 0 {
		return &DecodeError{Offset: d.InputOffset(), Err: fmt.Errorf("%w: no root element", ErrNotIODEF)}
	}
	return nil
}

// validate checks what the schema requires of the parts Decode models.
func validate(doc *Document) error {
	fail := func(el, format string, args ...any) error {
		return &DecodeError{Offset: -1, Element: el, Err: fmt.Errorf(format, args...)}
	}
	if doc.Version != Version {
		return fail("IODEF-Document", "version %q, want %q", doc.Version, Version)
	}
	if len(doc.Incidents) == 0 {
		return fail("IODEF-Document", "no Incident")
	}
	for n, inc := range doc.Incidents {
		el := fmt.Sprintf("IODEF-Document/Incident[%d]", n+1)
		switch {
		case inc.Purpose == "":
			return fail(el, "no purpose attribute")
		case strings.TrimSpace(inc.IncidentID.Value) == "":
			return fail(el+"/IncidentID", "missing or empty")
		case strings.TrimSpace(inc.IncidentID.Name) == "":
			return fail(el+"/IncidentID", "no name attribute")
		case inc.GenerationTime.IsZero():
			return fail(el+"/GenerationTime", "missing")
		case len(inc.Contact) == 0:
			return fail(el, "no Contact")
		}
	}
	return nil
}

// Observables returns the observables of the incident's indicators as focal
// observables, the reverse of Encode's mapping: addresses (in an Observable
// or its System/Node) by category, domain names, e-mail addresses of
// EmailData, file names, MD5/SHA-1/SHA-256 hashes (as lower-case hex) and
// AdditionalData (its meaning as the kind). An indicator's restriction
// gives the observables' TLP (see TLPOf). Values of other forms are
// skipped.
func (x *Incident) Observables() []focal.Observable {
	if x.IndicatorData == nil {
		return nil
	}
	var out []focal.Observable
	for _, ind := range x.IndicatorData.Indicator {
		if ind.Observable == nil {
			continue
		}
		tlp := TLPOf(ind.Restriction, ind.ExtRestriction)
		add := func(kind, value string) {
			if value = strings.TrimSpace(value); kind != "" && value != "" {
				out = append(out, focal.Observable{Kind: kind, Value: value, TLP: tlp})
			}
		}
		o := ind.Observable
		node := func(n Node) {
			for _, d := range n.DomainData {
				add("domain", d.Name)
			}
			for _, a := range n.Address {
				add(addressKind(a))
			}
		}
		if o.System != nil {
			node(o.System.Node)
		}
		if o.Address != nil {
			add(addressKind(*o.Address))
		}
		if o.DomainData != nil {
			add("domain", o.DomainData.Name)
		}
		if o.EmailData != nil {
			add("email", o.EmailData.EmailFrom)
			for _, e := range o.EmailData.EmailTo {
				add("email", e)
			}
		}
		if o.FileData != nil {
			for _, f := range o.FileData.File {
				add("filename", f.FileName)
				if f.HashData == nil {
					continue
				}
				for _, h := range f.HashData.Hash {
					add(hashKind(h))
				}
			}
		}
		for _, a := range o.AdditionalData {
			add(a.Meaning, a.Value)
		}
	}
	return out
}

// addressKind returns the focal kind and value of an Address, or "" for a
// category focal has no kind for.
func addressKind(a Address) (kind, value string) {
	v := strings.TrimSpace(a.Value)
	switch a.Category {
	case "ipv4-addr":
		return "ipv4", v
	case "ipv6-addr", "":
		return "ipv6", v
	case "ipv4-net", "ipv6-net":
		return "cidr", v
	case "asn":
		return "asn", "AS" + v
	case "site-uri":
		return "url", v
	case "e-mail":
		return "email", v
	}
	return "", ""
}

// hashKind returns the focal kind and hex value of a Hash, or "" if its
// algorithm is not MD5, SHA-1 or SHA-256 or its value is not base64 of a
// digest of the right size.
func hashKind(h Hash) (kind, value string) {
	var size int
	switch strings.TrimSpace(h.DigestMethod.Algorithm) {
	case AlgMD5:
		kind, size = "md5", 16
	case AlgSHA1:
		kind, size = "sha1", 20
	case AlgSHA256, "http://www.w3.org/2001/04/xmldsig-more#sha256":
		kind, size = "sha256", 32
	default:
		return "", ""
	}
	b, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(h.DigestValue), ""))
	if err != nil || len(b) != size {
		return "", ""
	}
	return kind, hex.EncodeToString(b)
}

// Classifications returns the RSIT classifications of the incident: the
// machine tags of AdditionalData meaning="rsit" or, if there are none, of
// Assessment/IncidentCategory. Text that is not an RSIT machine tag is
// skipped.
func (x *Incident) Classifications() []focal.Classification {
	var out []focal.Classification
	for _, a := range x.AdditionalData {
		if a.Meaning == "rsit" {
			if c, ok := ParseMachineTag(a.Value); ok {
				out = append(out, c)
			}
		}
	}
	if len(out) > 0 {
		return out
	}
	for _, a := range x.Assessment {
		for _, s := range a.IncidentCategory {
			if c, ok := ParseMachineTag(s.Value); ok {
				out = append(out, c)
			}
		}
	}
	return out
}
