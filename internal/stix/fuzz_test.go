package stix

import (
	"reflect"
	"testing"
)

// FuzzParsePattern checks that ParsePattern never panics and that a
// pattern that parses prints canonically: the canonical form parses to an
// equal tree and prints as itself.
func FuzzParsePattern(f *testing.F) {
	for _, tt := range validPatterns {
		f.Add(tt.in)
	}
	for _, tt := range invalidPatterns {
		f.Add(tt.in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePattern(s)
		if err != nil {
			if _, ok := err.(*PatternError); !ok {
				t.Fatalf("ParsePattern(%q) error %T, want *PatternError", s, err)
			}
			return
		}
		canon := p.String()
		again, err := ParsePattern(canon)
		if err != nil {
			t.Fatalf("ParsePattern(%q) = %q, which does not parse: %v", s, canon, err)
		}
		if !reflect.DeepEqual(again, p) {
			t.Fatalf("ParsePattern(%q) and ParsePattern(%q) differ", s, canon)
		}
		if again.String() != canon {
			t.Fatalf("canonical form of %q is not stable: %q then %q", s, canon, again.String())
		}
		PatternObservables(p)
	})
}

// FuzzDecode checks that decoding, validating and converting arbitrary
// JSON never panics, and that a decoded object encodes to its input.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{baseIndicator, baseObserved, baseMalware, baseSCO, baseMark, baseUnknown} {
		f.Add([]byte(s))
	}
	f.Add(readFile(f, "testdata/bundle.json"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if b, err := DecodeBundle(data); err == nil {
			_ = ValidateBundle(b)
			idx := Index(b.Objects)
			for _, o := range b.Objects {
				_, _ = ToEvents(o, idx, "")
			}
			if _, err := b.MarshalJSON(); err != nil {
				t.Fatalf("MarshalJSON of a decoded bundle: %v", err)
			}
		}
		o, err := Decode(data)
		if err != nil {
			return
		}
		raw, err := o.MarshalJSON()
		if err != nil || string(raw) != string(o.Raw()) {
			t.Fatalf("MarshalJSON = %q, %v; want the raw object", raw, err)
		}
		_ = Validate(o)
		_, _ = ToEvents(o, Index([]Object{o}), "")
		_, _ = TLPOf(o.Common)
		for _, v := range []any{new(Indicator), new(ObservedData), new(File), new(MarkingDefinition)} {
			if o.As(v) == nil {
				_, _ = NewObject(reflect.ValueOf(v).Elem().Interface())
			}
		}
	})
}
