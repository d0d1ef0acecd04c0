package stix

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"focal/internal/focal"
	"focal/internal/observable"
)

// hashKey maps a focal hash kind to its STIX hash-algorithm-ov name.
func hashKey(kind string) string {
	switch kind {
	case "md5":
		return "MD5"
	case "sha1":
		return "SHA-1"
	}
	return "SHA-256"
}

// PatternFor returns the STIX pattern matching a focal observable of the
// given kind (the kinds of focal.Observable) and value, after checking and
// canonicalising the value with package observable:
//
//	ipv4, ipv6     [ipv4-addr:value = '198.51.100.7'], [ipv6-addr:value = …]
//	cidr           [ipv4-addr:value = '198.51.100.0/24'] (ipv6-addr for IPv6)
//	domain         [domain-name:value = 'example.com']
//	url            [url:value = 'https://example.com/']
//	email          [email-addr:value = 'abuse@example.com']
//	md5            [file:hashes.MD5 = '…']
//	sha1, sha256   [file:hashes.'SHA-1' = '…'], [file:hashes.'SHA-256' = '…']
//	asn            [autonomous-system:number = 64496]
//	filename       [file:name = 'invoice.pdf.exe']
//
// The error is a *focal.Error (EINVALID) for an invalid value or an
// unknown kind.
func PatternFor(kind, value string) (string, error) {
	o, err := observable.Parse(observable.Kind(kind), value)
	if err != nil {
		return "", focal.FieldErrorf("observable", "%v", err)
	}
	c := &Comparison{Op: "=", Value: StringLiteral(o.Value)}
	key := func(typ string, keys ...string) ObjectPath {
		p := ObjectPath{Type: typ}
		for _, k := range keys {
			p.Steps = append(p.Steps, PathStep{Kind: StepKey, Key: k})
		}
		return p
	}
	switch kind {
	case "ipv4":
		c.Path = key("ipv4-addr", "value")
	case "ipv6":
		c.Path = key("ipv6-addr", "value")
	case "cidr":
		c.Path = key("ipv4-addr", "value")
		if strings.Contains(o.Value, ":") {
			c.Path = key("ipv6-addr", "value")
		}
	case "domain":
		c.Path = key("domain-name", "value")
	case "url":
		c.Path = key("url", "value")
	case "email":
		c.Path = key("email-addr", "value")
	case "md5", "sha1", "sha256":
		c.Path = key("file", "hashes", hashKey(kind))
	case "asn":
		n, err := strconv.ParseInt(strings.TrimPrefix(o.Value, "AS"), 10, 64)
		if err != nil {
			return "", focal.FieldErrorf("observable", "AS number %q: %v", o.Value, err)
		}
		c.Path, c.Value = key("autonomous-system", "number"), IntLiteral(n)
	case "filename":
		c.Path = key("file", "name")
	default:
		return "", focal.FieldErrorf("observable", "no STIX pattern for observable kind %q", kind)
	}
	return (&Pattern{Root: &Observation{Expr: c}}).String(), nil
}

// PatternObservables returns the focal observables a pattern compares for
// equality: each comparison "path = value" and each value of
// "path IN (…)", not negated, whose path is one of ipv4-addr:value,
// ipv6-addr:value (an address, or a CIDR prefix: a /32 or /128 prefix is
// the address), domain-name:value, url:value, email-addr:value,
// file:hashes.MD5, 'SHA-1' or 'SHA-256' (any case, with or without the
// hyphen), file:name and autonomous-system:number, or a network-traffic
// src_ref.value or dst_ref.value (an address, whose kind the value tells);
// and "ipv4-addr:value ISSUBSET 'prefix'" (or ipv6-addr), read as the
// prefix.
// Values are canonicalised by package observable. Observables are
// deduplicated, in pattern order, and carry no TLP, Source or CreatedAt.
//
// Everything else is described in ignored, one line per comparison or
// construct, e.g. "file:size > 1000: not an equality on an observable
// focal uses". Note that focal matches observables one by one, so
// PatternObservables over-approximates patterns that join comparisons with
// AND or FOLLOWEDBY; such joins are reported in ignored as well.
func PatternObservables(p *Pattern) (obs []focal.Observable, ignored []string) {
	seen := map[[2]string]bool{}
	add := func(o focal.Observable) {
		k := [2]string{o.Kind, o.Value}
		if !seen[k] {
			seen[k] = true
			obs = append(obs, o)
		}
	}
	var walkComp func(ComparisonExpr)
	walkComp = func(e ComparisonExpr) {
		switch x := e.(type) {
		case *ComparisonOp:
			if x.Op == "AND" {
				ignored = append(ignored, fmt.Sprintf("%s: AND is read as if it were OR", cut(x.String())))
			}
			walkComp(x.Left)
			walkComp(x.Right)
		case *Comparison:
			var vals []Literal
			switch {
			case x.Negated:
			case x.Op == "=":
				vals = []Literal{x.Value}
			case x.Op == "IN":
				vals = x.Set
			case x.Op == "ISSUBSET" && (x.Path.String() == "ipv4-addr:value" || x.Path.String() == "ipv6-addr:value"):
				vals = []Literal{x.Value} // an address in a prefix: the prefix
			}
			if vals == nil {
				ignored = append(ignored, fmt.Sprintf("%s: not an equality", cut(x.String())))
				return
			}
			for _, v := range vals {
				o, reason := comparisonObservable(x.Path, v)
				if reason != "" {
					ignored = append(ignored, fmt.Sprintf("%s: %s", cut(x.Path.String()+" = "+v.String()), reason))
					continue
				}
				add(o)
			}
		}
	}
	var walk func(ObservationExpr)
	walk = func(e ObservationExpr) {
		switch x := e.(type) {
		case *ObservationOp:
			if x.Op != "OR" {
				ignored = append(ignored, fmt.Sprintf("%s: %s is read as if it were OR", cut(x.String()), x.Op))
			}
			walk(x.Left)
			walk(x.Right)
		case *Qualified:
			ignored = append(ignored, fmt.Sprintf("%s: qualifier ignored", x.Qualifier.String()))
			walk(x.Expr)
		case *Observation:
			walkComp(x.Expr)
		}
	}
	walk(p.Root)
	return obs, ignored
}

// cut shortens a pattern fragment for a message.
func cut(s string) string {
	if len(s) > 120 {
		return s[:120] + "…"
	}
	return s
}

// comparisonObservable maps one "path = value" to a focal observable, or
// returns why it cannot.
func comparisonObservable(path ObjectPath, v Literal) (focal.Observable, string) {
	keys := make([]string, 0, len(path.Steps))
	for _, s := range path.Steps {
		if s.Kind != StepKey {
			return focal.Observable{}, "not an observable focal uses"
		}
		keys = append(keys, s.Key)
	}
	p := path.Type + ":" + strings.Join(keys, ".")
	var kind observable.Kind
	switch {
	case p == "ipv4-addr:value" || p == "ipv6-addr:value" ||
		p == "network-traffic:src_ref.value" || p == "network-traffic:dst_ref.value":
		if v.Kind != LitString {
			return focal.Observable{}, "not a string"
		}
		return addressObservable(v.Str, path.Type)
	case p == "domain-name:value":
		kind = observable.KindDomain
	case p == "url:value":
		kind = observable.KindURL
	case p == "email-addr:value":
		kind = observable.KindEmail
	case p == "file:name":
		kind = observable.KindFilename
	case path.Type == "file" && len(keys) == 2 && keys[0] == "hashes":
		switch strings.ToUpper(strings.ReplaceAll(keys[1], "-", "")) {
		case "MD5":
			kind = observable.KindMD5
		case "SHA1":
			kind = observable.KindSHA1
		case "SHA256":
			kind = observable.KindSHA256
		default:
			return focal.Observable{}, "a hash algorithm focal does not use"
		}
	case p == "autonomous-system:number":
		if v.Kind != LitInt {
			return focal.Observable{}, "not an integer"
		}
		o, err := observable.Parse(observable.KindASN, strconv.FormatInt(v.Int, 10))
		if err != nil {
			return focal.Observable{}, err.Error()
		}
		return focal.Observable{Kind: string(o.Kind), Value: o.Value}, ""
	default:
		return focal.Observable{}, "not an observable focal uses"
	}
	if v.Kind != LitString {
		return focal.Observable{}, "not a string"
	}
	o, err := observable.Parse(kind, v.Str)
	if err != nil {
		return focal.Observable{}, err.Error()
	}
	return focal.Observable{Kind: string(o.Kind), Value: o.Value}, ""
}

// addressObservable reads an address or CIDR prefix; ipv4-addr and
// ipv6-addr paths must hold their family.
func addressObservable(s, typ string) (focal.Observable, string) {
	var a netip.Addr
	var pfx netip.Prefix
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return focal.Observable{}, fmt.Sprintf("not an address or CIDR prefix: %s", quoteShort(s))
		}
		pfx, a = p.Masked(), p.Addr()
		if p.IsSingleIP() {
			pfx = netip.Prefix{}
		}
	} else {
		var err error
		if a, err = netip.ParseAddr(s); err != nil || a.Zone() != "" {
			return focal.Observable{}, fmt.Sprintf("not an address: %s", quoteShort(s))
		}
	}
	if typ == "ipv4-addr" && !a.Is4() || typ == "ipv6-addr" && (!a.Is6() || a.Is4In6()) {
		return focal.Observable{}, fmt.Sprintf("%s is not an %s", quoteShort(s), typ)
	}
	kind := observable.KindIPv4
	if a.Is6() && !a.Is4In6() {
		kind = observable.KindIPv6
	}
	val := a.Unmap().String()
	if pfx.IsValid() {
		kind, val = observable.KindCIDR, pfx.String()
	}
	o, err := observable.Parse(kind, val)
	if err != nil {
		return focal.Observable{}, err.Error()
	}
	return focal.Observable{Kind: string(o.Kind), Value: o.Value}, ""
}
