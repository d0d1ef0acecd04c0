package geoip_test

import (
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"

	"focal/internal/geoip"
	"focal/internal/geoip/geoiptest"
)

// fixture maps documentation networks to what the test files say about
// them. Some networks nest, some are narrower than the cache's /24 and /48
// windows, and one country code is in lower case.
func fixture() map[string]geoip.Info {
	return map[string]geoip.Info{
		"192.0.2.0/24":       {ASN: 64496, ASName: "Example Net A", Country: "NL"},
		"192.0.2.128/25":     {ASN: 64497, ASName: "Example Net B", Country: "DE"},
		"198.51.100.0/24":    {ASN: 64498, ASName: "Doc Two, Inc.", Country: "ee"},
		"203.0.113.0/26":     {ASN: 64499, ASName: "Small Net", Country: "FI"},
		"203.0.113.200/30":   {ASN: 64500, ASName: "Tiny Net", Country: "SE"},
		"2001:db8::/32":      {ASN: 64501, ASName: "IPv6 Doc", Country: "FR"},
		"2001:db8:1::/48":    {ASN: 64502, ASName: "IPv6 Site", Country: "BE"},
		"2001:db8:2:3::/64":  {ASN: 64503, ASName: "IPv6 LAN", Country: "LU"},
		"2001:db8:ffff::/48": {ASN: 64511, ASName: "No Country"},
	}
}

// lookupCases are addresses and what the fixture says about them.
var lookupCases = []struct {
	ip   string
	want geoip.Info
	ok   bool
}{
	{"192.0.2.1", geoip.Info{ASN: 64496, ASName: "Example Net A", Country: "NL"}, true},
	{"192.0.2.200", geoip.Info{ASN: 64497, ASName: "Example Net B", Country: "DE"}, true},
	{"::ffff:192.0.2.1", geoip.Info{ASN: 64496, ASName: "Example Net A", Country: "NL"}, true},
	{"198.51.100.77", geoip.Info{ASN: 64498, ASName: "Doc Two, Inc.", Country: "EE"}, true},
	{"203.0.113.5", geoip.Info{ASN: 64499, ASName: "Small Net", Country: "FI"}, true},
	{"203.0.113.100", geoip.Info{}, false},
	{"203.0.113.201", geoip.Info{ASN: 64500, ASName: "Tiny Net", Country: "SE"}, true},
	{"2001:db8:5::1", geoip.Info{ASN: 64501, ASName: "IPv6 Doc", Country: "FR"}, true},
	{"2001:db8:1:2::1", geoip.Info{ASN: 64502, ASName: "IPv6 Site", Country: "BE"}, true},
	{"2001:db8:2:3::9%eth0", geoip.Info{ASN: 64503, ASName: "IPv6 LAN", Country: "LU"}, true},
	{"2001:db8:2:4::9", geoip.Info{ASN: 64501, ASName: "IPv6 Doc", Country: "FR"}, true},
	{"2001:db8:ffff::1", geoip.Info{ASN: 64511, ASName: "No Country"}, true},
	{"10.1.2.3", geoip.Info{}, false},
	{"2001:db9::1", geoip.Info{}, false},
	{"::1", geoip.Info{}, false},
}

// split returns the fixture's ASN data and country data.
func split(nets map[string]geoip.Info) (asn, country map[string]geoip.Info) {
	asn, country = map[string]geoip.Info{}, map[string]geoip.Info{}
	for n, info := range nets {
		asn[n] = geoip.Info{ASN: info.ASN, ASName: info.ASName}
		country[n] = geoip.Info{Country: info.Country} // an empty record punches a hole

	}
	return asn, country
}

func checkLookups(t *testing.T, db *geoip.DB) {
	t.Helper()
	for _, tt := range lookupCases {
		for range 2 { // the second time from the cache
			got, ok := db.Lookup(netip.MustParseAddr(tt.ip))
			if got != tt.want || ok != tt.ok {
				t.Errorf("Lookup(%s) = %+v, %v; want %+v, %v", tt.ip, got, ok, tt.want, tt.ok)
			}
		}
	}
	if db.Errors() != 0 {
		t.Errorf("Errors() = %d, want 0", db.Errors())
	}
}

func TestOpenSchemas(t *testing.T) {
	dir := t.TempDir()
	asn, country := split(fixture())
	file := func(name string, s geoiptest.Schema, nets map[string]geoip.Info) string {
		p := filepath.Join(dir, name)
		geoiptest.WriteDB(t, p, s, nets)
		return p
	}
	asnDB := file("GeoLite2-ASN.mmdb", geoiptest.GeoLite2ASN, asn)
	countryDB := file("GeoLite2-Country.mmdb", geoiptest.GeoLite2Country, country)
	cityDB := file("GeoLite2-City.mmdb", geoiptest.GeoLite2City, country)
	iplocDB := file("geo-whois-asn-country.mmdb", geoiptest.IPLocationDBCountry, country)
	combined := file("combined.mmdb", geoiptest.Combined, fixture())
	ipinfo := file("ipinfo_lite.mmdb", geoiptest.IPinfo, fixture())
	// Country data that disagrees, to check which slot wins.
	wrong := map[string]geoip.Info{}
	for n := range fixture() {
		wrong[n] = geoip.Info{ASN: 1, ASName: "wrong", Country: "XX"}
	}
	wrongDB := file("wrong.mmdb", geoiptest.Combined, wrong)

	for _, tt := range []struct{ name, asn, country string }{
		{"GeoLite2-ASN+Country", asnDB, countryDB},
		{"GeoLite2-ASN+City", asnDB, cityDB},
		{"GeoLite2-ASN+ip-location-db", asnDB, iplocDB},
		{"combined in ASN slot", combined, ""},
		{"combined in country slot", "", combined},
		{"combined twice", combined, combined},
		{"IPinfo", ipinfo, ""},
		{"ASN slot wins for ASN", asnDB, wrongDB},
		{"country slot wins for country", wrongDB, countryDB},
	} {
		t.Run(tt.name, func(t *testing.T) {
			db, err := geoip.Open(tt.asn, tt.country)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if tt.name == "ASN slot wins for ASN" {
				// The wrong file supplies only the countries.
				got, _ := db.Lookup(netip.MustParseAddr("192.0.2.1"))
				if want := (geoip.Info{ASN: 64496, ASName: "Example Net A", Country: "XX"}); got != want {
					t.Errorf("Lookup = %+v, want %+v", got, want)
				}
				return
			}
			if tt.name == "country slot wins for country" {
				got, _ := db.Lookup(netip.MustParseAddr("192.0.2.1"))
				if want := (geoip.Info{ASN: 1, ASName: "wrong", Country: "NL"}); got != want {
					t.Errorf("Lookup = %+v, want %+v", got, want)
				}
				return
			}
			checkLookups(t, db)
			d := db.Describe()
			for _, p := range []string{tt.asn, tt.country} {
				if p != "" && !strings.Contains(d, p) {
					t.Errorf("Describe() = %q, want it to name %s", d, p)
				}
			}
			t.Log(d)
		})
	}

	t.Run("ASN only", func(t *testing.T) {
		db, err := geoip.Open(asnDB, "")
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		got, ok := db.Lookup(netip.MustParseAddr("192.0.2.1"))
		if want := (geoip.Info{ASN: 64496, ASName: "Example Net A"}); got != want || !ok {
			t.Errorf("Lookup = %+v, %v; want %+v, true", got, ok, want)
		}
		if !strings.Contains(db.Describe(), `"GeoLite2-ASN"`) {
			t.Errorf("Describe() = %q, want the database type", db.Describe())
		}
	})
	t.Run("country only", func(t *testing.T) {
		db, err := geoip.Open("", countryDB)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		got, ok := db.Lookup(netip.MustParseAddr("198.51.100.1"))
		if want := (geoip.Info{Country: "EE"}); got != want || !ok {
			t.Errorf("Lookup = %+v, %v; want %+v, true", got, ok, want)
		}
	})
	t.Run("no files", func(t *testing.T) {
		db, err := geoip.Open("", "")
		if err != nil {
			t.Fatal(err)
		}
		if got, ok := db.Lookup(netip.MustParseAddr("192.0.2.1")); ok {
			t.Errorf("Lookup = %+v, true; want nothing", got)
		}
		var zero geoip.DB
		if _, ok := zero.Lookup(netip.MustParseAddr("192.0.2.1")); ok {
			t.Error("zero DB found something")
		}
		if _, ok := db.Lookup(netip.Addr{}); ok {
			t.Error("Lookup(invalid) found something")
		}
	})
}

func TestRegisteredCountryFallback(t *testing.T) {
	p := filepath.Join(t.TempDir(), "reg.mmdb")
	geoiptest.WriteRecords(t, p, mmdbwriter.Options{DatabaseType: "GeoLite2-Country"}, map[string]mmdbtype.DataType{
		"192.0.2.0/24": mmdbtype.Map{
			"registered_country": mmdbtype.Map{"iso_code": mmdbtype.String("nl")},
		},
		"198.51.100.0/24": mmdbtype.Map{
			"registered_country": mmdbtype.Map{"iso_code": mmdbtype.String("NL")},
			"country":            mmdbtype.Map{"iso_code": mmdbtype.String("DE")},
		},
		"203.0.113.0/24": mmdbtype.Map{
			"country": mmdbtype.Map{"iso_code": mmdbtype.String("ZZ")},
		},
	})
	db, err := geoip.Open("", p)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for ip, want := range map[string]string{"192.0.2.1": "NL", "198.51.100.1": "DE", "203.0.113.1": ""} {
		if got, _ := db.Lookup(netip.MustParseAddr(ip)); got.Country != want {
			t.Errorf("Lookup(%s).Country = %q, want %q", ip, got.Country, want)
		}
	}
}

func TestIPv4OnlyDB(t *testing.T) {
	p := filepath.Join(t.TempDir(), "v4.mmdb")
	geoiptest.WriteRecords(t, p, mmdbwriter.Options{DatabaseType: "GeoLite2-ASN", IPVersion: 4, RecordSize: 24},
		map[string]mmdbtype.DataType{
			"192.0.2.0/24":   mmdbtype.Map{"autonomous_system_number": mmdbtype.Uint32(64496)},
			"192.0.2.128/26": mmdbtype.Map{"autonomous_system_number": mmdbtype.Uint32(64497)},
		})
	db, err := geoip.Open(p, "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for range 2 {
		for ip, want := range map[string]uint32{"192.0.2.1": 64496, "192.0.2.130": 64497, "192.0.2.200": 64496, "198.51.100.1": 0, "2001:db8::1": 0, "::ffff:192.0.2.129": 64497} {
			got, ok := db.Lookup(netip.MustParseAddr(ip))
			if got.ASN != want || ok != (want != 0) {
				t.Errorf("Lookup(%s) = %+v, %v; want ASN %d", ip, got, ok, want)
			}
		}
	}
	if db.Errors() != 0 {
		t.Errorf("Errors() = %d", db.Errors())
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := filepath.Join(dir, "good.mmdb")
	geoiptest.WriteTestDB(t, good, fixture())
	noFields := filepath.Join(dir, "nofields.mmdb")
	geoiptest.WriteRecords(t, noFields, mmdbwriter.Options{DatabaseType: "GeoIP2-Domain"}, map[string]mmdbtype.DataType{
		"192.0.2.0/24": mmdbtype.Map{"domain": mmdbtype.String("example.net")},
	})
	wrongType := filepath.Join(dir, "wrongtype.mmdb")
	geoiptest.WriteRecords(t, wrongType, mmdbwriter.Options{}, map[string]mmdbtype.DataType{
		"192.0.2.0/24": mmdbtype.String("not a map"),
	})
	emptyTyped := filepath.Join(dir, "empty-country.mmdb")
	geoiptest.WriteRecords(t, emptyTyped, mmdbwriter.Options{DatabaseType: "GeoLite2-Country"}, nil)
	emptyUntyped := filepath.Join(dir, "empty-untyped.mmdb")
	geoiptest.WriteRecords(t, emptyUntyped, mmdbwriter.Options{DatabaseType: "something"}, nil)

	goodBytes, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	truncated := write("truncated.mmdb", goodBytes[:len(goodBytes)/2])
	r := rand.New(rand.NewPCG(1, 2))
	junk := make([]byte, 5000)
	for i := range junk {
		junk[i] = byte(r.Uint32())
	}
	garbage := write("garbage.bin", junk)
	empty := write("empty.mmdb", nil)
	csvFile := write("asn.csv", []byte("192.0.2.0,192.0.2.255,64496,Example\n"))
	badCSV := write("bad.csv", []byte("192.0.2.0,192.0.2.255,64496,Example\nnot,a,line\n"))
	textNoComma := write("notes.txt", []byte("hello world\n"))

	for _, tt := range []struct {
		name, asn, country string
		want               []string // in the error message
	}{
		{"missing", filepath.Join(dir, "nope.mmdb"), "", []string{"nope.mmdb"}},
		{"empty", empty, "", []string{empty, "empty"}},
		{"empty in country slot", good, empty, []string{empty}},
		{"truncated", truncated, "", []string{truncated}},
		{"garbage", "", garbage, []string{garbage}},
		{"text", textNoComma, "", []string{textNoComma}},
		{"neither field", noFields, "", []string{noFields, "GeoIP2-Domain", "neither"}},
		{"records not maps", wrongType, "", []string{wrongType}},
		{"empty file of unknown type", emptyUntyped, "", []string{emptyUntyped, "neither"}},
		{"CSV in country slot", "", csvFile, []string{csvFile, "ASN data only"}},
		{"bad CSV", badCSV, "", []string{badCSV, "line 2"}},
		{"directory", dir, "", []string{dir}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			db, err := geoip.Open(tt.asn, tt.country)
			if err == nil {
				db.Close()
				t.Fatalf("Open(%q, %q) succeeded", tt.asn, tt.country)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}

	// An empty file whose type says what it holds opens and finds nothing.
	db, err := geoip.Open("", emptyTyped)
	if err != nil {
		t.Fatalf("Open(empty GeoLite2-Country): %v", err)
	}
	if _, ok := db.Lookup(netip.MustParseAddr("192.0.2.1")); ok {
		t.Error("empty DB found something")
	}
	db.Close()
}

// randomAddr returns an address in or near the fixture's networks, or
// anywhere.
func randomAddr(r *rand.Rand) netip.Addr {
	switch r.IntN(4) {
	case 0:
		bases := []string{"192.0.2.0", "192.0.3.0", "198.51.100.0", "203.0.113.0", "10.0.0.0"}
		a := netip.MustParseAddr(bases[r.IntN(len(bases))]).As4()
		a[3] = byte(r.Uint32())
		if r.IntN(8) == 0 {
			a[2] = byte(r.Uint32())
		}
		ip := netip.AddrFrom4(a)
		if r.IntN(4) == 0 {
			return netip.AddrFrom16(ip.As16()) // IPv4-mapped
		}
		return ip
	case 1:
		bases := []string{"2001:db8::", "2001:db8:1::", "2001:db8:2:3::", "2001:db8:2:4::", "2001:db8:ffff::", "2001:db9::"}
		a := netip.MustParseAddr(bases[r.IntN(len(bases))]).As16()
		for i := 8 + r.IntN(2)*4; i < 16; i++ {
			a[i] = byte(r.Uint32())
		}
		if r.IntN(8) == 0 {
			a[5] = byte(r.Uint32())
		}
		return netip.AddrFrom16(a)
	case 2:
		var a [4]byte
		for i := range a {
			a[i] = byte(r.Uint32())
		}
		return netip.AddrFrom4(a)
	}
	var a [16]byte
	for i := range a {
		a[i] = byte(r.Uint32())
	}
	return netip.AddrFrom16(a)
}

// TestCacheMatchesUncached checks that cached look-ups answer as uncached
// ones, with a normal cache and with a tiny one whose slots keep being
// replaced, from concurrent goroutines.
func TestCacheMatchesUncached(t *testing.T) {
	dir := t.TempDir()
	asn, country := split(fixture())
	asnPath, countryPath := filepath.Join(dir, "asn.mmdb"), filepath.Join(dir, "country.mmdb")
	geoiptest.WriteDB(t, asnPath, geoiptest.GeoLite2ASN, asn)
	geoiptest.WriteDB(t, countryPath, geoiptest.GeoLite2Country, country)
	// The same ASN data from a CSV file (in-memory table).
	csvPath := filepath.Join(dir, "asn.csv")
	var csv strings.Builder
	for _, line := range []string{
		"192.0.2.0,192.0.2.127,64496,Example Net A",
		"192.0.2.128,192.0.2.255,64497,Example Net B",
		"198.51.100.0,198.51.100.255,64498,\"Doc Two, Inc.\"",
		"203.0.113.0,203.0.113.63,64499,Small Net",
		"203.0.113.200,203.0.113.203,64500,Tiny Net",
		"2001:db8::,2001:db8:0:ffff:ffff:ffff:ffff:ffff,64501,IPv6 Doc",
		"2001:db8:1::,2001:db8:1:ffff:ffff:ffff:ffff:ffff,64502,IPv6 Site",
		"2001:db8:2::,2001:db8:2:2:ffff:ffff:ffff:ffff,64501,IPv6 Doc",
		"2001:db8:2:3::,2001:db8:2:3:ffff:ffff:ffff:ffff,64503,IPv6 LAN",
		"2001:db8:2:4::,2001:db8:fffe:ffff:ffff:ffff:ffff:ffff,64501,IPv6 Doc",
		"2001:db8:ffff::,2001:db8:ffff:ffff:ffff:ffff:ffff:ffff,64511,No Country",
	} {
		csv.WriteString(line + "\n")
	}
	if err := os.WriteFile(csvPath, []byte(csv.String()), 0o644); err != nil {
		t.Fatal(err)
	}

	for _, pair := range [][2]string{{asnPath, countryPath}, {csvPath, countryPath}, {csvPath, ""}} {
		ref, err := geoip.Open(pair[0], pair[1], geoip.WithCacheSize(0))
		if err != nil {
			t.Fatal(err)
		}
		defer ref.Close()
		if pair[1] != "" {
			checkLookups(t, ref)
		}
		for _, size := range []int{geoip.DefaultCacheSize, 4} {
			db, err := geoip.Open(pair[0], pair[1], geoip.WithCacheSize(size))
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			var wg sync.WaitGroup
			for g := range 4 {
				wg.Go(func() {
					r := rand.New(rand.NewPCG(uint64(g), uint64(size)))
					for range 50_000 {
						ip := randomAddr(r)
						want, wantOK := ref.Lookup(ip)
						got, ok := db.Lookup(ip)
						if got != want || ok != wantOK {
							t.Errorf("%v, cache %d: Lookup(%s) = %+v, %v; uncached %+v, %v", pair, size, ip, got, ok, want, wantOK)
							return
						}
					}
				})
			}
			wg.Wait()
		}
	}
}

func TestClose(t *testing.T) {
	p := filepath.Join(t.TempDir(), "db.mmdb")
	geoiptest.WriteTestDB(t, p, fixture())
	db, err := geoip.Open(p, "", geoip.WithCacheSize(0))
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, ok := db.Lookup(netip.MustParseAddr("192.0.2.1")); ok {
		t.Error("closed DB found something")
	}
}

// TestCorruptFiles checks that files with random bytes changed either fail
// Open or answer look-ups without panicking.
func TestCorruptFiles(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.mmdb")
	geoiptest.WriteDB(t, good, geoiptest.GeoLite2City, fixture())
	data, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(5, 6))
	opened := 0
	for i := range 200 {
		bad := append([]byte(nil), data...)
		for range 1 + r.IntN(8) {
			bad[r.IntN(len(bad))] = byte(r.Uint32())
		}
		p := filepath.Join(dir, "bad.mmdb")
		if err := os.WriteFile(p, bad, 0o644); err != nil {
			t.Fatal(err)
		}
		db, err := geoip.Open(p, "", geoip.WithCacheSize(16))
		if err != nil {
			if !strings.Contains(err.Error(), p) {
				t.Errorf("variant %d: error %q does not name the file", i, err)
			}
			continue
		}
		opened++
		for range 200 {
			db.Lookup(randomAddr(r))
		}
		db.Close()
	}
	t.Logf("%d of 200 corrupted files opened", opened)
}
