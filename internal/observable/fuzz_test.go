package observable_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"focal/internal/observable"
)

// allExtractCases returns every Extract table case.
func allExtractCases() []extractCase {
	var all []extractCase
	for _, cases := range [][]extractCase{
		defangedCases(), urlCases(), ipv4Cases(), ipv6Cases(), cidrCases(),
		domainCases(), filenameCases(), emailCases(), hashCases(), asnCases(),
	} {
		all = append(all, cases...)
	}
	return all
}

// FuzzExtract checks that Extract never panics and keeps its contract
// (see checkResult) on any input.
func FuzzExtract(f *testing.F) {
	for _, c := range allExtractCases() {
		f.Add(c.in)
	}
	for _, name := range inputs(f) {
		f.Add(readTestdata(f, name))
	}
	f.Fuzz(func(t *testing.T, text string) {
		res := observable.Extract(text)
		checkResult(t, text, res)
		if res.Truncated != (len(text) > observable.MaxInput) {
			t.Errorf("Extract(%d bytes).Truncated = %v, want %v", len(text), res.Truncated, !res.Truncated)
		}
	})
}

// FuzzRefang checks that Refang never panics, never grows its input, keeps
// UTF-8 valid, leaves text without defanging marks alone, and that what
// Parse accepts it accepts again unchanged.
func FuzzRefang(f *testing.F) {
	for _, c := range refangCases() {
		f.Add(c.in)
	}
	for _, c := range allExtractCases() {
		f.Add(c.in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r := observable.Refang(s)
		if len(r) > len(s) {
			t.Errorf("Refang(%q) = %q, longer than its input", s, r)
		}
		if utf8.ValidString(s) && !utf8.ValidString(r) {
			t.Errorf("Refang(%q) = %q, invalid UTF-8", s, r)
		}
		if !strings.ContainsAny(s, "[({ xX") && r != s {
			t.Errorf("Refang(%q) = %q, want it unchanged", s, r)
		}
		for _, k := range observable.Kinds() {
			o, err := observable.Parse(k, s)
			if err != nil {
				continue
			}
			again, err := observable.Parse(k, o.Value)
			if err != nil || again.Value != o.Value {
				t.Errorf("Parse(%s, %q) = %q, %v, want %q, nil (from Parse(%s, %q))", k, o.Value, again.Value, err, o.Value, k, s)
			}
			if s[o.Offset:o.Offset+len(o.Raw)] != o.Raw {
				t.Errorf("Parse(%s, %q) = Raw %q at %d, not in the input", k, s, o.Raw, o.Offset)
			}
		}
	})
}
