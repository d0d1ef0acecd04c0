package lookup

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
)

// maxName is the longest query name lower-cased on the stack; longer names
// (not valid DNS names, but still matched) are lower-cased on the heap.
const maxName = 256

// NormalizeDomain returns the canonical form of a domain claim: ASCII
// lower case, one trailing dot removed. It returns an error saying what is
// wrong if the result is not a DNS name in A-label form: empty, longer than
// 253 characters, an empty label or one longer than 63 characters, a
// character other than a-z, 0-9, '-' and '_', a label starting or ending with
// '-', a non-ASCII character (internationalised names must be given in their
// xn-- form), or an all-numeric last label (which rules out IPv4 literals).
// A single label ("ee") is accepted: a national CIRT may claim a whole TLD.
// The error reads `lookup: invalid domain "a..b": empty label`.
func NormalizeDomain(s string) (string, error) {
	n, reason := normalizeDomain(s)
	if reason != "" {
		return "", fmt.Errorf("lookup: invalid domain %q: %s", s, reason)
	}
	return n, nil
}

// normalizeDomain is NormalizeDomain with the error as a bare reason, ""
// if there is none.
func normalizeDomain(s string) (name, reason string) {
	b := []byte(s)
	for i, c := range b {
		if c >= 0x80 {
			return "", "non-ASCII character: write internationalised names in their xn-- form"
		}
		if 'A' <= c && c <= 'Z' {
			b[i] = c + ('a' - 'A')
		}
	}
	n := strings.TrimSuffix(string(b), ".")
	switch {
	case n == "":
		return "", "empty name"
	case len(n) > 253:
		return "", "longer than 253 characters"
	}
	numeric := false
	for rest := n; rest != ""; {
		label := rest
		if i := strings.IndexByte(rest, '.'); i >= 0 {
			label, rest = rest[:i], rest[i+1:]
			if rest == "" {
				return "", "empty label"
			}
		} else {
			rest = ""
		}
		switch {
		case label == "":
			return "", "empty label"
		case len(label) > 63:
			return "", "label longer than 63 characters"
		case label[0] == '-' || label[len(label)-1] == '-':
			return "", "label starts or ends with '-'"
		}
		numeric = true
		for i := 0; i < len(label); i++ {
			c := label[i]
			switch {
			case '0' <= c && c <= '9':
			case 'a' <= c && c <= 'z', c == '-', c == '_':
				numeric = false
			default:
				return "", "invalid character " + strconv.QuoteRune(rune(c))
			}
		}
	}
	if numeric {
		return "", "last label is numeric, an IP address is not a domain"
	}
	return n, ""
}

// Domain returns the organisations claiming name or one of its parent
// domains, sorted ascending without duplicates, or nil. Matching is on label
// boundaries: a claim on example.org matches example.org and a.b.example.org
// but not badexample.org, and claims at several levels all match (example.org
// by one organisation and sub.example.org by another both match
// x.sub.example.org). ASCII case and one trailing dot are ignored; non-ASCII
// names are not converted to A-labels, so pass them in xn-- form. The result
// is shared with the table and must not be modified. Domain does not allocate
// for names of up to 256 characters.
func (t *Table) Domain(name string) []int64 {
	if t == nil || len(t.dom) == 0 {
		return nil
	}
	return t.set(t.domain(name))
}

// domain returns the set for name.
func (t *Table) domain(name string) uint32 {
	name = strings.TrimSuffix(name, ".")
	upper := false
	for i := 0; i < len(name); i++ {
		if c := name[i]; 'A' <= c && c <= 'Z' {
			upper = true
			break
		}
	}
	if !upper {
		return t.domainLower(name)
	}
	if len(name) > maxName {
		return t.domainLower(lowerASCII(name))
	}
	var buf [maxName]byte
	b := buf[:copy(buf[:], name)]
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + ('a' - 'A')
		}
	}
	for {
		// The compiler does not allocate for string(b) in a map index.
		if set, ok := t.dom[string(b)]; ok {
			return set
		}
		i := bytes.IndexByte(b, '.')
		if i < 0 {
			return 0
		}
		b = b[i+1:]
	}
}

// domainLower returns the set of the longest claimed suffix of the
// lower-case name.
func (t *Table) domainLower(name string) uint32 {
	for {
		if set, ok := t.dom[name]; ok {
			return set
		}
		i := strings.IndexByte(name, '.')
		if i < 0 {
			return 0
		}
		name = name[i+1:]
	}
}

// lowerASCII lower-cases ASCII letters only: Unicode case folding could turn
// a non-ASCII letter (the Kelvin sign) into an ASCII one and match a claim
// the name does not belong to.
func lowerASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + ('a' - 'A')
		}
	}
	return string(b)
}
