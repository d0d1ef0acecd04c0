package stix

import (
	"bytes"
	"encoding/json"
	"strings"
)

// The constructors below build cyber-observables with their deterministic
// identifiers (§2.9): the same value always gives the same id, so that
// producers converge on one object per address, domain, URL or file.

// NewIPv4Addr returns an ipv4-addr for value, an address or CIDR prefix.
func NewIPv4Addr(value string) IPv4Addr {
	return IPv4Addr{Common: scoCommon("ipv4-addr", map[string]any{"value": value}), Value: value}
}

// NewIPv6Addr returns an ipv6-addr for value, an address or CIDR prefix.
func NewIPv6Addr(value string) IPv6Addr {
	return IPv6Addr{Common: scoCommon("ipv6-addr", map[string]any{"value": value}), Value: value}
}

// NewDomainName returns a domain-name for value.
func NewDomainName(value string) DomainName {
	return DomainName{Common: scoCommon("domain-name", map[string]any{"value": value}), Value: value}
}

// NewURL returns a url for value.
func NewURL(value string) URL {
	return URL{Common: scoCommon("url", map[string]any{"value": value}), Value: value}
}

// NewEmailAddr returns an email-addr for value.
func NewEmailAddr(value string) EmailAddr {
	return EmailAddr{Common: scoCommon("email-addr", map[string]any{"value": value}), Value: value}
}

// NewAutonomousSystem returns an autonomous-system for number.
func NewAutonomousSystem(number uint32) AutonomousSystem {
	return AutonomousSystem{Common: scoCommon("autonomous-system", map[string]any{"number": number}), Number: number}
}

// NewFile returns a file with a name and hashes (either may be empty) and
// its identifier from FileID.
func NewFile(name string, hashes map[string]string) File {
	f := File{Name: name, Hashes: hashes}
	f.Type, f.SpecVersion = "file", SpecVersion
	f.ID = FileID(f)
	return f
}

// FileID returns the deterministic identifier of a file. Its
// ID-contributing properties are hashes, name, extensions and
// parent_directory_ref (the last is not modelled by File); of the hashes
// only one is used, the first present of MD5, SHA-1, SHA-256 and SHA-512,
// else the first in name order. A file with none of them gets a random id,
// as §2.9 prescribes.
func FileID(f File) string {
	props := map[string]any{}
	if h, ok := chooseHash(f.Hashes); ok {
		props["hashes"] = h
	}
	if f.Name != "" {
		props["name"] = f.Name
	}
	if len(f.Extensions) > 0 {
		raw, err := json.Marshal(f.Extensions)
		if err == nil {
			var ext any
			d := json.NewDecoder(bytes.NewReader(raw))
			d.UseNumber()
			if d.Decode(&ext) == nil {
				props["extensions"] = ext
			}
		}
	}
	if len(props) == 0 {
		return NewID("file")
	}
	id, err := SCOID("file", props)
	if err != nil {
		return NewID("file")
	}
	return id
}

// chooseHash picks the one hash that contributes to a file's identifier.
func chooseHash(h map[string]string) (map[string]any, bool) {
	for _, alg := range []string{"MD5", "SHA-1", "SHA-256", "SHA-512"} {
		if v, ok := h[alg]; ok {
			return map[string]any{alg: v}, true
		}
	}
	first := ""
	for k := range h {
		if first == "" || strings.Compare(k, first) < 0 {
			first = k
		}
	}
	if first == "" {
		return nil, false
	}
	return map[string]any{first: h[first]}, true
}

// scoCommon returns the common properties of a cyber-observable whose
// ID-contributing properties are props.
func scoCommon(typ string, props map[string]any) Common {
	id, err := SCOID(typ, props)
	if err != nil {
		// Only invalid UTF-8 in a value gets here; such an object cannot
		// have a deterministic id, and §2.9 then wants a random one.
		id = NewID(typ)
	}
	return Common{Type: typ, SpecVersion: SpecVersion, ID: id}
}
