package stix

import (
	"strings"
	"testing"
)

func TestSCOIDKnownValues(t *testing.T) {
	// Values cross-checked with @security-alliance/stix and Python's uuid5
	// (docs/notes standards.md §3).
	tests := []struct {
		name string
		got  string
		want string
	}{
		{"domain-name", NewDomainName("example.com").ID, "domain-name--bedb4899-d24b-5401-bc86-8f6b4cc18ec7"},
		{"ipv4-addr", NewIPv4Addr("198.51.100.3").ID, "ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4"},
		{"url", NewURL("https://example.com/").ID, "url--be22e93a-5e33-5678-b19f-8b4ea06df0bd"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("id = %s, want %s", tt.got, tt.want)
			}
		})
	}
}

func TestSCOIDDeterministic(t *testing.T) {
	if a, b := NewIPv6Addr("2001:db8::1").ID, NewIPv6Addr("2001:db8::1").ID; a != b {
		t.Errorf("NewIPv6Addr ids differ: %s, %s", a, b)
	}
	if a, b := NewIPv6Addr("2001:db8::1").ID, NewIPv6Addr("2001:db8::2").ID; a == b {
		t.Errorf("different addresses have the same id %s", a)
	}
	if a, b := NewEmailAddr("a@example.org").ID, NewAutonomousSystem(64496).ID; !strings.HasPrefix(a, "email-addr--") || !strings.HasPrefix(b, "autonomous-system--") {
		t.Errorf("ids %s, %s lack their type", a, b)
	}
	as := NewAutonomousSystem(64496)
	want, err := SCOID("autonomous-system", map[string]any{"number": 64496})
	if err != nil {
		t.Fatal(err)
	}
	if as.ID != want {
		t.Errorf("autonomous-system id = %s, want %s", as.ID, want)
	}
	for _, id := range []string{NewIPv6Addr("2001:db8::1").ID, as.ID} {
		if _, uuid, err := SplitID(id); err != nil || uuid[14] != '5' {
			t.Errorf("%s is not a valid version 5 id: %v", id, err)
		}
	}
}

func TestFileIDPrefersMD5(t *testing.T) {
	md5 := "d41d8cd98f00b204e9800998ecf8427e"
	sha256 := "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	both := NewFile("", map[string]string{"SHA-256": sha256, "MD5": md5})
	onlyMD5 := NewFile("", map[string]string{"MD5": md5})
	onlySHA := NewFile("", map[string]string{"SHA-256": sha256})
	if both.ID != onlyMD5.ID {
		t.Errorf("file with MD5 and SHA-256 id = %s, want the MD5-only id %s", both.ID, onlyMD5.ID)
	}
	if both.ID == onlySHA.ID {
		t.Errorf("file with MD5 and SHA-256 has the SHA-256-only id %s", both.ID)
	}
	want, err := SCOID("file", map[string]any{"hashes": map[string]any{"MD5": md5}, "name": "a.exe"})
	if err != nil {
		t.Fatal(err)
	}
	if got := NewFile("a.exe", map[string]string{"MD5": md5, "SHA-1": "x"}).ID; got != want {
		t.Errorf("file id = %s, want %s", got, want)
	}
	a, b := NewFile("", nil), NewFile("", nil)
	if a.ID == b.ID || CheckID(a.ID, "file") != nil {
		t.Errorf("files without contributing properties: ids %s, %s; want distinct random ids", a.ID, b.ID)
	}
}

func TestNewID(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		id := NewID("indicator")
		if err := CheckID(id, "indicator"); err != nil {
			t.Fatalf("NewID = %s: %v", id, err)
		}
		if id[len("indicator--")+14] != '4' {
			t.Fatalf("NewID = %s, want a version 4 UUID", id)
		}
		if seen[id] {
			t.Fatalf("NewID repeated %s", id)
		}
		seen[id] = true
	}
}

func TestCheckID(t *testing.T) {
	tests := []struct {
		id, typ string
		ok      bool
	}{
		{"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", "indicator", true},
		{"indicator--8E2E2D2B-17D4-4CBF-938F-98EE46B3CD3F", "indicator", true},
		{"malware--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", "indicator", false},
		{"indicator-8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", "indicator", false},
		{"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3", "indicator", false},
		{"indicator--8e2e2d2b-17d4-0cbf-938f-98ee46b3cd3f", "indicator", false}, // version 0
		{"indicator--8e2e2d2b-17d4-4cbf-c38f-98ee46b3cd3f", "indicator", false}, // variant 110
		{"indicator--8e2e2d2bx17d4-4cbf-938f-98ee46b3cd3f", "indicator", false},
		{"Indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", "Indicator", false},
		{"ab--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", "ab", false},
		{"x-my-type--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", "x-my-type", true},
		{"", "indicator", false},
	}
	for _, tt := range tests {
		err := CheckID(tt.id, tt.typ)
		if (err == nil) != tt.ok {
			t.Errorf("CheckID(%q, %q) = %v, want ok %v", tt.id, tt.typ, err, tt.ok)
		}
	}
}

func TestUUID5(t *testing.T) {
	if got := formatUUID(namespace()); got != Namespace {
		t.Errorf("namespace() = %s, want %s", got, Namespace)
	}
	// RFC 9562 appendix A.4: "www.example.com" in the DNS namespace.
	dns := [16]byte{0x6b, 0xa7, 0xb8, 0x10, 0x9d, 0xad, 0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8}
	if got, want := formatUUID(uuid5(dns, []byte("www.example.com"))), "2ed6657d-e927-568b-95e1-2665a8aea6a2"; got != want {
		t.Errorf("uuid5(DNS, www.example.com) = %s, want %s", got, want)
	}
}

func TestCanonical(t *testing.T) {
	tests := []struct {
		name string
		in   any
		want string
	}{
		{"sorted-keys", map[string]any{"b": 1, "a": "x"}, `{"a":"x","b":1}`},
		// RFC 8785 §3.2.3's example: U+1F600 sorts before U+FB33 in UTF-16.
		{"utf16-order", map[string]any{"\u20ac": 1, "\U0001F600": 2, "\r": 3, "1": 4, "\ufb33": 5, "\u0080": 6, "\u00f6": 7}, "{\"\\r\":3,\"1\":4,\"\u0080\":6,\"\u00f6\":7,\"\u20ac\":1,\"\U0001F600\":2,\"\ufb33\":5}"},
		{"escapes", "a\"b\\c\n\x01/é<", `"a\"b\\c\n\u0001/é<"`},
		{"numbers", []any{1e21, 1e20, 0.000001, 1e-7, -0.0, 123.456, 4.5e-10, 333333333.33333329}, `[1e+21,100000000000000000000,0.000001,1e-7,0,123.456,4.5e-10,333333333.3333333]`},
		{"nested", map[string]any{"hashes": map[string]any{"SHA-256": "ab"}, "name": "f"}, `{"hashes":{"SHA-256":"ab"},"name":"f"}`},
		{"literals", []any{true, false, nil}, `[true,false,null]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Canonical(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("Canonical(%v) = %s, want %s", tt.in, got, tt.want)
			}
		})
	}
	if _, err := Canonical("\xff"); err == nil {
		t.Error("Canonical(invalid UTF-8) succeeded, want an error")
	}
}
