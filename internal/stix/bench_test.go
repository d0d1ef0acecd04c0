package stix

import (
	"testing"
)

func BenchmarkDecodeIndicator(b *testing.B) {
	data := []byte(baseIndicator)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		o, err := Decode(data)
		if err != nil {
			b.Fatal(err)
		}
		var ind Indicator
		if err := o.As(&ind); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkValidateIndicator(b *testing.B) {
	o, err := Decode([]byte(baseIndicator))
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if err := Validate(o); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParsePattern(b *testing.B) {
	const p = "[file:hashes.'SHA-256' = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f' OR " +
		"ipv4-addr:value IN ('198.51.100.1', '203.0.113.7')] FOLLOWEDBY [domain-name:value = 'example.com'] WITHIN 600 SECONDS"
	b.SetBytes(int64(len(p)))
	for b.Loop() {
		if _, err := ParsePattern(p); err != nil {
			b.Fatal(err)
		}
	}
}
