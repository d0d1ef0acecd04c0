// Package observable extracts indicators ("observables") from the free text
// of incident reports (web forms, e-mail bodies, the text of attachments)
// and validates single indicators typed by users.
//
// Extract finds IPv4 and IPv6 addresses, CIDR prefixes, domains, URLs,
// e-mail addresses, MD5, SHA-1 and SHA-256 hashes, autonomous system numbers
// and risky file names, including the "defanged" forms people write to keep
// links unclickable: hxxp://evil[.]example[.]com, hxxps[:]//x[.]example,
// 192.0.2[.]1, user[at]example[dot]org, example(.)com, evil{.}example. Each
// Observable carries its canonical, refanged Value and the Raw text and byte
// Offset where it appeared, so that Raw == text[Offset:Offset+len(Raw)], and
// Parse(o.Kind, o.Value) returns o.Value again.
//
// The choices Extract makes:
//   - The host of a URL is also reported on its own, as a domain, ipv4 or
//     ipv6 observable, because handlers pivot on it; so is the domain of an
//     e-mail address. The host's Raw is the host inside the URL.
//   - A CIDR prefix ("198.51.100.7/24") is reported as cidr only, with the
//     masked prefix as Value ("198.51.100.0/24"), not also as an address.
//   - A domain needs at least two labels and a known TLD: a country code, one
//     of about eighty common generic TLDs, or the reserved "example". Names
//     under "test", "invalid", "localhost" and private-use TLDs are not
//     reported. Only ASCII (and punycode) names are recognised.
//   - A dotted name whose last label is one of about seventy risky file
//     extensions (executables, scripts, installers, shortcuts, archives, disk
//     images and documents that carry macros or exploits: exe, dll, ps1, js,
//     sh, py, msi, lnk, iso, zip, rar, docm, xlsm, pdf, one, hta, html, ...)
//     is reported as a filename, never as a domain, even when the extension
//     is also a TLD (.zip, .sh): "invoice.pdf.exe" and "payload.js" are
//     files. As the host of a URL or the domain of an e-mail address such a
//     name is a domain. Other file names ("notes.txt", "image.png",
//     "README.md") are not reported at all, and names in URL paths only as
//     part of the URL.
//   - IPv4 addresses are strict dotted quads: no leading zeros ("010.1.1.1"),
//     no octet above 255, not part of a longer dotted sequence
//     ("1.2.3.4.5") or of a word. IPv6 addresses need a decimal digit and,
//     unless they use "::", a group longer than two digits, so that MAC
//     addresses and times ("12:30:45") are not taken for them; zones are
//     dropped.
//   - Hashes are whole words of exactly 32, 40 or 64 hex digits with at least
//     one digit and one letter; GUIDs written with dashes are not hashes,
//     nor are words right after "id=" or "id:" ("trace_id=...", as in logs).
//   - ASNs are written AS64496 or ASN64496 in any case, or with a space as
//     "AS 64496" or "ASN 64496" ("as 10" and "As 10" are English, not ASNs);
//     AS0, AS23456 (AS_TRANS) and numbers above 4294967295 are not ASNs.
//   - E-mail addresses have a local part of letters, digits and ._+- and are
//     lower-cased whole.
//   - Defanged brackets ("[.]", "(dot)", "[at]", ...) and schemes ("hxxp",
//     "fxp") are refanged before matching; the bare word " dot " is not
//     (Refang does it, Extract would find too many false domains).
//   - URLs are http, https and ftp with an IP address or a domain as above
//     for host ("http://localhost/" is not reported). They end at white
//     space, non-ASCII text or one of <>"`{}|\^, and lose trailing
//     punctuation and unbalanced closing parentheses or brackets, so that
//     URLs in <...>, (...) and markdown [text](url) come out whole.
//   - Indicators touching a non-ASCII letter or digit are inside a word and
//     not reported.
//
// Extract never panics, runs in time linear in the length of its input and
// looks at no more than MaxInput bytes of it.
package observable

import (
	"cmp"
	"slices"
	"unicode/utf8"
)

// Kind is the type of an observable.
type Kind string

// The kinds of observables.
const (
	KindIPv4     Kind = "ipv4"
	KindIPv6     Kind = "ipv6"
	KindCIDR     Kind = "cidr"
	KindDomain   Kind = "domain"
	KindURL      Kind = "url"
	KindEmail    Kind = "email"
	KindMD5      Kind = "md5"
	KindSHA1     Kind = "sha1"
	KindSHA256   Kind = "sha256"
	KindASN      Kind = "asn"
	KindFilename Kind = "filename"
)

// Kinds returns every kind, in a fixed order.
func Kinds() []Kind {
	return []Kind{KindIPv4, KindIPv6, KindCIDR, KindDomain, KindURL, KindEmail,
		KindMD5, KindSHA1, KindSHA256, KindASN, KindFilename}
}

// MaxInput is the number of bytes of its input Extract looks at; the rest is
// ignored and Result.Truncated set. Extract cuts at the last ASCII space or
// line break in the 64 KiB before the limit, so that no indicator is cut in
// two, or else at a UTF-8 character boundary.
const MaxInput = 4 << 20

// Observable is one indicator found in text or given by a user.
type Observable struct {
	// Kind is the type of the indicator.
	Kind Kind
	// Value is the canonical form: refanged, lower-case where case carries
	// no meaning (scheme and host of URLs, domains, e-mail addresses, hex
	// hashes), "AS64496" for ASNs, the text of net/netip for addresses and
	// the masked prefix for CIDRs. File names keep their case.
	Value string
	// Raw is the indicator as it appeared, possibly defanged.
	Raw string
	// Offset is the byte offset of Raw in the text (in the value given to
	// Parse, after leading white space).
	Offset int
}

// Result is what Extract found.
type Result struct {
	// Observables are deduplicated by (Kind, Value), each at its first
	// appearance, in order of Offset.
	Observables []Observable
	// Truncated is set when the text was longer than MaxInput and only its
	// beginning was searched.
	Truncated bool
}

// Extract returns the observables in text, deduplicated by (Kind, Value), in
// order of first appearance. The package documentation lists what it
// recognises. It never panics, takes time linear in len(text) and searches
// only the first MaxInput bytes, setting Truncated if there were more.
func Extract(text string) Result {
	var res Result
	if len(text) > MaxInput {
		text = text[:cutPoint(text)]
		res.Truncated = true
	}
	nm := normalize(text, false)
	sc := scanner{n: nm.s, out: make([]found, 0, 16+len(text)/128)}
	sc.runs(sc.urls())
	if !slices.IsSortedFunc(sc.out, byStart) {
		slices.SortStableFunc(sc.out, byStart) // not expected; cheap insurance
	}
	type key struct {
		kind  Kind
		value string
	}
	seen := make(map[key]struct{}, len(sc.out))
	res.Observables = make([]Observable, 0, len(sc.out))
	for _, f := range sc.out {
		k := key{f.kind, f.value}
		if _, dup := seen[k]; dup {
			continue
		}
		seen[k] = struct{}{}
		off, end := nm.start(f.start), nm.end(f.end)
		res.Observables = append(res.Observables, Observable{
			Kind: f.kind, Value: f.value, Raw: text[off:end], Offset: off,
		})
	}
	return res
}

// byStart orders found observables by start.
func byStart(a, b found) int {
	return cmp.Compare(a.start, b.start)
}

// cutPoint returns where to cut a text longer than MaxInput.
func cutPoint(text string) int {
	for i := MaxInput; i > MaxInput-64<<10; i-- {
		switch text[i-1] {
		case ' ', '\t', '\n', '\r':
			return i
		}
	}
	cut := MaxInput
	for cut > 0 && !utf8.RuneStart(text[cut]) {
		cut--
	}
	return cut
}
