package geoip_test

import (
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"focal/internal/geoip"
	"focal/internal/geoip/geoiptest"
)

const goodCSV = `start,end,asn,org
# a comment

192.0.2.0,192.0.2.255,64496,Example Net A
192.0.2.128,192.0.2.191,64497,"Example ""B"", Inc."
198.51.100.1,198.51.100.6,64498,Unquoted, with comma
203.0.113.0,203.0.113.255,AS64499,
2001:db8::,2001:db8:ffff:ffff:ffff:ffff:ffff:ffff,64500,IPv6 Doc` + "\r\n" +
	`3405803776,3405804031,64501,Numeric v4
42540766411282592856903984951653826560,42540766411282592856903984951653892095,64502,Numeric v6
2001:db8:1::,2001:db8:1::ff,64503,Example Net A` // no final newline

func TestLoadASNCSV(t *testing.T) {
	tbl, err := geoip.LoadASNCSV(strings.NewReader(goodCSV))
	if err != nil {
		t.Fatal(err)
	}
	if tbl.Len() != 8 {
		t.Errorf("Len() = %d, want 8", tbl.Len())
	}
	for _, tt := range []struct {
		ip   string
		asn  uint32
		name string
	}{
		{"192.0.2.1", 64496, "Example Net A"},
		{"192.0.2.130", 64497, `Example "B", Inc.`},
		{"192.0.2.200", 64496, "Example Net A"},
		{"198.51.100.0", 0, ""},
		{"198.51.100.1", 64498, "Unquoted, with comma"},
		{"198.51.100.6", 64498, "Unquoted, with comma"},
		{"198.51.100.7", 0, ""},
		{"203.0.113.9", 64499, ""},
		{"::ffff:203.0.113.9", 64499, ""},
		{"2001:db8:abcd::1", 64500, "IPv6 Doc"},
		{"203.0.113.0", 64499, ""},
		{"203.0.112.255", 0, ""},
		{"203.0.113.0", 64499, ""},
		{"2001:db8:1::1", 64503, "Example Net A"},
		{"2001:db8:1::100", 64500, "IPv6 Doc"},
		{"2001:db8::", 64502, "Numeric v6"},
		{"2001:db8::ffff", 64502, "Numeric v6"},
		{"2001:db8::1:0", 64500, "IPv6 Doc"},
		{"203.0.1.0", 0, ""},
	} {
		asn, name, ok := tbl.Lookup(netip.MustParseAddr(tt.ip))
		if asn != tt.asn || name != tt.name || ok != (tt.asn != 0) {
			t.Errorf("Lookup(%s) = %d, %q, %v; want %d, %q", tt.ip, asn, name, ok, tt.asn, tt.name)
		}
	}
	// 3405803776 is 203.0.113.0, loaded after the AS64499 line: the
	// equal network's first claim wins.
}

func TestLoadASNCSVByteOrderMark(t *testing.T) {
	tbl, err := geoip.LoadASNCSV(strings.NewReader("\ufeff192.0.2.0,192.0.2.255,64496,A\n"))
	if err != nil {
		t.Fatal(err)
	}
	if asn, _, _ := tbl.Lookup(netip.MustParseAddr("192.0.2.1")); asn != 64496 || tbl.Len() != 1 {
		t.Errorf("Lookup = %d, Len = %d; want 64496, 1", asn, tbl.Len())
	}
}

func TestLoadASNCSVErrors(t *testing.T) {
	for _, tt := range []struct {
		name, in string
		line     int
		want     string
	}{
		{"empty", "", 0, "no data lines"},
		{"only header", "start,end,asn,org\n", 0, "no data lines"},
		{"bad start", "192.0.2.0,192.0.2.255,1,a\n192.0.2.x,192.0.2.255,1,a\n", 2, "invalid address"},
		{"bad first line", "192.0.2.x,192.0.2.255,1,a\n", 1, "invalid address"},
		{"bad end", "\n\n192.0.2.0,192.0.2.255,1,a\n192.0.2.0,,1,a\n", 4, "end"},
		{"mixed families", "192.0.2.0,2001:db8::,1,a\n", 1, "different address families"},
		{"reversed", "192.0.2.9,192.0.2.1,1,a\n", 1, "before start"},
		{"bad asn", "192.0.2.0,192.0.2.9,ASx,a\n", 1, "invalid AS number"},
		{"asn too large", "192.0.2.0,192.0.2.9,4294967296,a\n", 1, "invalid AS number"},
		{"too few fields", "192.0.2.0,192.0.2.9\n", 1, "got 2 fields"},
		{"unterminated quote", "192.0.2.0,192.0.2.9,1,\"abc\n", 1, "unterminated"},
		{"text after quote", "192.0.2.0,192.0.2.9,1,\"abc\"x\n", 1, "after a quoted"},
		{"zone", "fe80::1%eth0,fe80::2,1,a\n", 1, "invalid address"},
		{"long line", "192.0.2.0,192.0.2.9,1," + strings.Repeat("x", 20000) + "\n", 1, "longer than"},
		{"long line later", "192.0.2.0,192.0.2.9,1,a\n192.0.2.0,192.0.2.9,1," + strings.Repeat("x", 20000), 2, "longer than"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tbl, err := geoip.LoadASNCSV(strings.NewReader(tt.in))
			if err == nil {
				t.Fatalf("LoadASNCSV succeeded with %d rows", tbl.Len())
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
			var le *geoip.LineError
			if tt.line == 0 {
				if errors.As(err, &le) {
					t.Errorf("error %q has a line number", err)
				}
				return
			}
			if !errors.As(err, &le) || le.Line != tt.line {
				t.Errorf("error %q: want a *LineError for line %d", err, tt.line)
			}
		})
	}
}

// TestOpenCSV checks that Open takes an ASN CSV file by extension or by
// content, and combines it with a country file.
func TestOpenCSV(t *testing.T) {
	dir := t.TempDir()
	_, country := split(fixture())
	countryPath := filepath.Join(dir, "country.mmdb")
	geoiptest.WriteDB(t, countryPath, geoiptest.GeoLite2Country, country)
	for _, name := range []string{"asn.csv", "asn-ipv4.CSV", "asn-data"} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(goodCSV), 0o644); err != nil {
			t.Fatal(err)
		}
		db, err := geoip.Open(p, countryPath)
		if err != nil {
			t.Fatalf("Open(%s): %v", name, err)
		}
		got, ok := db.Lookup(netip.MustParseAddr("198.51.100.2"))
		want := geoip.Info{ASN: 64498, ASName: "Unquoted, with comma", Country: "EE"}
		if got != want || !ok {
			t.Errorf("%s: Lookup = %+v, %v; want %+v", name, got, ok, want)
		}
		if d := db.Describe(); !strings.Contains(d, p) || !strings.Contains(d, "ASN CSV, 8 ranges") {
			t.Errorf("Describe() = %q", d)
		}
		db.Close()
	}
}
