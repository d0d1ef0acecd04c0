// Package geoiptest writes small MaxMind DB files for tests of code that
// uses package geoip. It is for tests only: it links the MaxMind DB writer,
// which the focal binary must not.
package geoiptest

import (
	"cmp"
	"net"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"testing"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"

	"focal/internal/geoip"
)

// Schema is the record layout of a file WriteDB writes.
type Schema int

const (
	// Combined has GeoLite2's ASN and country fields in one record.
	Combined Schema = iota
	// GeoLite2ASN has autonomous_system_number and
	// autonomous_system_organization (also DB-IP ASN Lite).
	GeoLite2ASN
	// GeoLite2Country has country.iso_code and .names, registered_country
	// and continent (also DB-IP Country Lite).
	GeoLite2Country
	// GeoLite2City is GeoLite2Country plus city and location data.
	GeoLite2City
	// IPLocationDBCountry has country_code, as the ip-location-db
	// country files.
	IPLocationDBCountry
	// IPinfo has asn ("AS64496"), as_name, country_code and country (a
	// name), as IPinfo Lite.
	IPinfo
)

// databaseType returns the metadata database type files of s carry.
func (s Schema) databaseType() string {
	switch s {
	case GeoLite2ASN:
		return "GeoLite2-ASN"
	case GeoLite2Country:
		return "GeoLite2-Country"
	case GeoLite2City:
		return "GeoLite2-City"
	case IPLocationDBCountry:
		return "country ipvAll"
	case IPinfo:
		return "ipinfo lite.mmdb"
	}
	return "focal-test-asn-country"
}

// record returns info as a record of schema s, leaving out zero fields.
func (s Schema) record(info geoip.Info) mmdbtype.Map {
	m := mmdbtype.Map{}
	hasASN := s == Combined || s == GeoLite2ASN || s == IPinfo
	hasCountry := s != GeoLite2ASN
	if hasASN && info.ASN != 0 {
		if s == IPinfo {
			m["asn"] = mmdbtype.String("AS" + strconv.FormatUint(uint64(info.ASN), 10))
		} else {
			m["autonomous_system_number"] = mmdbtype.Uint32(info.ASN)
		}
	}
	if hasASN && info.ASName != "" {
		if s == IPinfo {
			m["as_name"] = mmdbtype.String(info.ASName)
		} else {
			m["autonomous_system_organization"] = mmdbtype.String(info.ASName)
		}
	}
	if !hasCountry || info.Country == "" {
		return m
	}
	switch s {
	case IPLocationDBCountry:
		m["country_code"] = mmdbtype.String(info.Country)
	case IPinfo:
		m["country_code"] = mmdbtype.String(info.Country)
		m["country"] = mmdbtype.String("Name of " + info.Country)
		m["continent"] = mmdbtype.String("Somewhere")
	default:
		country := mmdbtype.Map{
			"geoname_id": mmdbtype.Uint32(2750405),
			"iso_code":   mmdbtype.String(info.Country),
			"names":      mmdbtype.Map{"en": mmdbtype.String("Name of " + info.Country), "de": mmdbtype.String("Name")},
		}
		m["country"] = country
		m["registered_country"] = country
		m["continent"] = mmdbtype.Map{"code": mmdbtype.String("EU"), "geoname_id": mmdbtype.Uint32(6255148)}
		if s == GeoLite2City {
			m["city"] = mmdbtype.Map{"names": mmdbtype.Map{"en": mmdbtype.String("Some City")}}
			m["location"] = mmdbtype.Map{
				"latitude":        mmdbtype.Float64(52.5),
				"longitude":       mmdbtype.Float64(5.75),
				"accuracy_radius": mmdbtype.Uint16(100),
			}
			m["subdivisions"] = mmdbtype.Slice{mmdbtype.Map{"iso_code": mmdbtype.String("NH")}}
		}
	}
	return m
}

// WriteTestDB writes an IPv6 MaxMind DB file at path that maps each network
// in nets (CIDR notation, IPv4 or IPv6) to its Info, with ASN and country
// fields in one record, as the Combined schema. Where networks nest, the
// narrower one wins. It fails t on any error.
func WriteTestDB(t testing.TB, path string, nets map[string]geoip.Info) {
	t.Helper()
	WriteDB(t, path, Combined, nets)
}

// WriteDB is WriteTestDB with records in the layout of schema s.
func WriteDB(t testing.TB, path string, s Schema, nets map[string]geoip.Info) {
	t.Helper()
	recs := make(map[string]mmdbtype.DataType, len(nets))
	for n, info := range nets {
		recs[n] = s.record(info)
	}
	WriteRecords(t, path, mmdbwriter.Options{DatabaseType: s.databaseType()}, recs)
}

// WriteRecords writes a MaxMind DB file at path with arbitrary records.
// opts.DisableIPv4Aliasing and opts.IncludeReservedNetworks are always set
// (the documentation ranges are reserved); opts.DatabaseType defaults to
// "focal-test". Where networks nest, the narrower one wins.
func WriteRecords(t testing.TB, path string, opts mmdbwriter.Options, recs map[string]mmdbtype.DataType) {
	t.Helper()
	opts.DisableIPv4Aliasing = true
	opts.IncludeReservedNetworks = true
	if opts.DatabaseType == "" {
		opts.DatabaseType = "focal-test"
	}
	tree, err := mmdbwriter.New(opts)
	if err != nil {
		t.Fatalf("geoiptest: %v", err)
	}
	pfxs := make([]netip.Prefix, 0, len(recs))
	keys := map[netip.Prefix]string{}
	for n := range recs {
		p, err := netip.ParsePrefix(n)
		if err != nil {
			t.Fatalf("geoiptest: %v", err)
		}
		pfxs = append(pfxs, p)
		keys[p] = n
	}
	slices.SortFunc(pfxs, func(a, b netip.Prefix) int {
		return cmp.Or(cmp.Compare(a.Bits(), b.Bits()), a.Addr().Compare(b.Addr()))
	})
	for _, p := range pfxs {
		ipn := &net.IPNet{IP: net.IP(p.Masked().Addr().AsSlice()), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}
		if err := tree.Insert(ipn, recs[keys[p]]); err != nil {
			t.Fatalf("geoiptest: insert %s: %v", p, err)
		}
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatalf("geoiptest: %v", err)
	}
	if _, err := tree.WriteTo(f); err != nil {
		f.Close()
		t.Fatalf("geoiptest: write %s: %v", path, err)
	}
	if err := f.Close(); err != nil {
		t.Fatalf("geoiptest: %v", err)
	}
}
