package stix

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// SCOID returns the deterministic identifier of a STIX cyber-observable of
// type typ (STIX 2.1 §2.9): "<typ>--" and the version 5 UUID, in Namespace,
// of the RFC 8785 (JCS) canonical JSON of props, which must hold exactly
// the object's ID-contributing properties that are present (e.g.
// {"value": "example.com"} for a domain-name). props holds JSON values as
// encoding/json decodes them into an any (map[string]any, []any, string,
// float64 or json.Number, bool, nil), or Go integers and strings. The
// cyber-observable constructors (NewDomainName …) call it for you.
func SCOID(typ string, props map[string]any) (string, error) {
	b, err := Canonical(props)
	if err != nil {
		return "", err
	}
	return NameID(typ, b), nil
}

// Canonical returns the RFC 8785 JSON Canonicalization Scheme (JCS) form of
// v: object members sorted by the UTF-16 code units of their names, no
// white space, strings escaped as ECMAScript's JSON.stringify does, numbers
// written as ECMAScript's Number.prototype.toString. v is a JSON value as
// SCOID describes; any other Go value is first encoded with encoding/json
// and decoded again. It fails for NaN, infinities and invalid UTF-8.
func Canonical(v any) ([]byte, error) {
	var b []byte
	return appendCanonical(b, v, 0)
}

// maxCanonicalDepth bounds the nesting Canonical follows.
const maxCanonicalDepth = 64

func appendCanonical(b []byte, v any, depth int) ([]byte, error) {
	if depth > maxCanonicalDepth {
		return nil, errors.New("canonical json: nested deeper than 64")
	}
	switch x := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case bool:
		return strconv.AppendBool(b, x), nil
	case string:
		return appendJCSString(b, x)
	case float64:
		return appendJCSNumber(b, x)
	case json.Number:
		f, err := strconv.ParseFloat(string(x), 64)
		if err != nil {
			return nil, fmt.Errorf("canonical json: number %s: %v", x, err)
		}
		return appendJCSNumber(b, f)
	case int:
		return appendJCSNumber(b, float64(x))
	case int64:
		return appendJCSNumber(b, float64(x))
	case uint32:
		return appendJCSNumber(b, float64(x))
	case []any:
		b = append(b, '[')
		for i, e := range x {
			if i > 0 {
				b = append(b, ',')
			}
			var err error
			if b, err = appendCanonical(b, e, depth+1); err != nil {
				return nil, err
			}
		}
		return append(b, ']'), nil
	case []string:
		a := make([]any, len(x))
		for i, s := range x {
			a[i] = s
		}
		return appendCanonical(b, a, depth)
	case map[string]string:
		m := make(map[string]any, len(x))
		for k, s := range x {
			m[k] = s
		}
		return appendCanonical(b, m, depth)
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			if !utf8.ValidString(k) {
				return nil, errors.New("canonical json: invalid UTF-8 in a member name")
			}
			keys = append(keys, k)
		}
		slices.SortFunc(keys, compareUTF16)
		b = append(b, '{')
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b, _ = appendJCSString(b, k)
			b = append(b, ':')
			var err error
			if b, err = appendCanonical(b, x[k], depth+1); err != nil {
				return nil, err
			}
		}
		return append(b, '}'), nil
	default:
		raw, err := json.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("canonical json: %v", err)
		}
		var generic any
		d := json.NewDecoder(strings.NewReader(string(raw)))
		d.UseNumber()
		if err := d.Decode(&generic); err != nil {
			return nil, fmt.Errorf("canonical json: %v", err)
		}
		return appendCanonical(b, generic, depth)
	}
}

// compareUTF16 orders strings by their UTF-16 code units, as RFC 8785
// §3.2.3 sorts member names.
func compareUTF16(a, b string) int {
	return slices.Compare(utf16.Encode([]rune(a)), utf16.Encode([]rune(b)))
}

// appendJCSString writes s as JSON.stringify does: only '"', '\\' and
// control characters are escaped, with the short forms where JSON has
// them and \u00xx (lower-case hex) otherwise.
func appendJCSString(b []byte, s string) ([]byte, error) {
	if !utf8.ValidString(s) {
		return nil, errors.New("canonical json: invalid UTF-8 in a string")
	}
	const hexdigits = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c == '\b':
			b = append(b, '\\', 'b')
		case c == '\t':
			b = append(b, '\\', 't')
		case c == '\n':
			b = append(b, '\\', 'n')
		case c == '\f':
			b = append(b, '\\', 'f')
		case c == '\r':
			b = append(b, '\\', 'r')
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hexdigits[c>>4], hexdigits[c&0xf])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"'), nil
}

// appendJCSNumber writes f as ECMAScript's Number.prototype.toString
// (ECMA-262 §7.1.12.1), which RFC 8785 §3.2.2.3 prescribes.
func appendJCSNumber(b []byte, f float64) ([]byte, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil, errors.New("canonical json: NaN or infinity")
	}
	if f == 0 {
		return append(b, '0'), nil
	}
	if f < 0 {
		b = append(b, '-')
		f = -f
	}
	// Shortest round-tripping digits and exponent: d.ddde±x.
	e := strconv.FormatFloat(f, 'e', -1, 64)
	mant, exp, _ := strings.Cut(e, "e")
	digits := strings.Replace(mant, ".", "", 1)
	x, _ := strconv.Atoi(exp)
	k, n := len(digits), x+1
	switch {
	case k <= n && n <= 21:
		b = append(b, digits...)
		for range n - k {
			b = append(b, '0')
		}
	case 0 < n && n <= 21:
		b = append(b, digits[:n]...)
		b = append(b, '.')
		b = append(b, digits[n:]...)
	case -6 < n && n <= 0:
		b = append(b, "0."...)
		for range -n {
			b = append(b, '0')
		}
		b = append(b, digits...)
	default:
		b = append(b, digits[0])
		if k > 1 {
			b = append(b, '.')
			b = append(b, digits[1:]...)
		}
		b = append(b, 'e')
		if n-1 >= 0 {
			b = append(b, '+')
		}
		b = strconv.AppendInt(b, int64(n-1), 10)
	}
	return b, nil
}
