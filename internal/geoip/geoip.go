// Package geoip enriches IP addresses with the autonomous system (number
// and name) and the country they belong to, from offline datasets, on the
// hot path of the feed pipeline.
//
// [Open] takes two paths, one for ASN data and one for country data; either
// may be empty. Supported files, recognised without configuration from the
// file's metadata and its records:
//
//   - MaxMind DB (.mmdb) files with ASN fields: GeoLite2-ASN, GeoIP2-ISP,
//     DB-IP ASN Lite and compatible files (autonomous_system_number,
//     autonomous_system_organization), and IPinfo's files ("asn": "AS64496",
//     "as_name").
//   - MaxMind DB files with country fields: GeoLite2/GeoIP2 Country and City,
//     DB-IP Country/City Lite (country.iso_code, falling back to
//     registered_country.iso_code), the ip-location-db country files
//     (country_code) and IPinfo's files (country_code, or a two-letter
//     country).
//   - A file that has both kinds of fields serves both from either slot;
//     when both slots are set, ASN data comes from the ASN file and country
//     data from the country file.
//   - In the ASN slot, the ip-location-db ASN CSV (start,end,asn,org rows,
//     IPv4 and IPv6, from the npm package @ip-location-db/asn, CC-BY-4.0),
//     loaded into memory; see [LoadASNCSV].
//
// MaxMind DB files are memory-mapped. Replace them by renaming a new file
// over the old one (as geoipupdate does), never by rewriting them in place,
// and call [Holder.Reload] or let [Holder.Watch] notice the change.
//
// [DB.Lookup] unmaps IPv4-mapped IPv6 addresses, decodes only the fields it
// needs and upper-cases the country code. It caches answers per network
// (the network the database returned, seen through a /24 or /48 window), so
// repeated addresses of one network skip the tree walk and decoding, and
// decoded records by their place in the file, so networks that share a
// record (one country, one organisation) decode it once. Both caches are
// bounded and lock-free. A DB is safe for concurrent use; [Holder] swaps in
// a new one when the files change.
//
// [Resolver] adds optional, cached reverse DNS (PTR) look-ups with a
// concurrency limit and a hard timeout.
//
// The subpackage geoiptest writes small MaxMind DB files for tests.
package geoip

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/oschwald/maxminddb-golang/v2"
)

// Info is what the databases know about an address. Zero fields are
// unknown.
type Info struct {
	ASN     uint32 // autonomous system number
	ASName  string // autonomous system organisation
	Country string // ISO 3166-1 alpha-2 code, upper case
}

// fields is a set of the kinds of data a source provides.
type fields uint8

const (
	fieldASN     fields = 1 << iota // ASN and AS name
	fieldCountry                    // country code
)

func (f fields) String() string {
	switch f {
	case fieldASN:
		return "asn"
	case fieldCountry:
		return "country"
	case fieldASN | fieldCountry:
		return "asn+country"
	}
	return "none"
}

// source is one opened file: a MaxMind DB file or an ASN CSV file.
type source struct {
	path  string
	has   fields            // the kinds of data in the file
	mmdb  *maxminddb.Reader // a MaxMind DB file,
	recs  *recordCache      // its decoded records, or nil; or
	csv   *ASNTable         // an ASN CSV file,
	mtime time.Time         // modified then
}

// lookup fills the fields in want that the source knows for ip (an
// unmapped, zone-less address) and returns the network the answer holds
// for. The network may be invalid or not contain ip when the source cannot
// tell; the caller then caches the address alone.
func (s *source) lookup(ip netip.Addr, want fields, info *Info) (netip.Prefix, error) {
	if s.csv != nil {
		return s.csv.lookup(ip, info), nil
	}
	return s.lookupMMDB(ip, want, info)
}

func (s *source) close() error {
	if s.mmdb != nil {
		return s.mmdb.Close()
	}
	return nil
}

func (s *source) describe() string {
	if s.csv != nil {
		return fmt.Sprintf("%s (ASN CSV, %d ranges, modified %s, has %s)",
			s.path, s.csv.rows, s.mtime.UTC().Format(time.DateOnly), s.has)
	}
	m := s.mmdb.Metadata
	return fmt.Sprintf("%s (MaxMind DB %q, IPv%d, built %s, has %s)",
		s.path, m.DatabaseType, m.IPVersion, m.BuildTime().UTC().Format(time.DateOnly), s.has)
}

// DB answers look-ups from up to two files. It is safe for concurrent use.
// The zero DB (and a DB opened with two empty paths) knows nothing.
type DB struct {
	asn     *source // provides ASN and AS name, or nil
	country *source // provides country, or nil
	sources []*source
	cache   *cache
	errs    atomic.Uint64

	// closed is set by Close under mu. Look-ups that reach the files hold
	// mu for reading, so Close waits for them and never unmaps a file under
	// a running look-up; cache hits do not touch the files.
	closed atomic.Bool
	mu     sync.RWMutex
}

// Option configures Open.
type Option func(*options)

type options struct {
	cacheSize int
}

// DefaultCacheSize is the number of cache slots Open uses by default; each
// holds one network's answer.
const DefaultCacheSize = 1 << 16

// WithCacheSize sets the number of cache slots (rounded up to a power of
// two, at most 1<<24). Zero or less disables caching: of answers by
// network and of decoded records.
func WithCacheSize(n int) Option {
	return func(o *options) { o.cacheSize = n }
}

// Open opens the ASN and the country file; either path may be empty. Each
// file is a MaxMind DB file; the ASN file may also be an ip-location-db ASN
// CSV file (chosen by a .csv extension or by content). Open fails, naming the
// file, when a file cannot be read or has neither ASN nor country data.
func Open(asnPath, countryPath string, opts ...Option) (*DB, error) {
	o := options{cacheSize: DefaultCacheSize}
	for _, opt := range opts {
		opt(&o)
	}
	db := &DB{}
	var asnSrc, ccSrc *source
	if asnPath != "" {
		s, err := openFile(asnPath, true)
		if err != nil {
			return nil, err
		}
		asnSrc = s
		db.sources = append(db.sources, s)
	}
	if countryPath != "" && countryPath == asnPath && asnSrc.has&fieldCountry != 0 {
		ccSrc = asnSrc // one file for both
	} else if countryPath != "" {
		s, err := openFile(countryPath, false)
		if err != nil {
			db.Close()
			return nil, err
		}
		ccSrc = s
		db.sources = append(db.sources, s)
	}
	// Each kind of data comes from its own slot if that file has it, else
	// from the other file.
	for _, s := range []*source{asnSrc, ccSrc} {
		if s != nil && s.has&fieldASN != 0 && db.asn == nil {
			db.asn = s
		}
	}
	for _, s := range []*source{ccSrc, asnSrc} {
		if s != nil && s.has&fieldCountry != 0 && db.country == nil {
			db.country = s
		}
	}
	if len(db.sources) > 0 && o.cacheSize > 0 {
		db.cache = newCache(o.cacheSize)
		for _, s := range db.sources {
			if s.mmdb != nil {
				s.recs = newRecordCache()
			}
		}
	}
	return db, nil
}

// Close releases the files, after waiting for running look-ups. Look-ups
// after Close find nothing.
func (db *DB) Close() error {
	if db == nil {
		return nil
	}
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.closed.Swap(true) {
		return nil
	}
	var errs []error
	for _, s := range db.sources {
		errs = append(errs, s.close())
	}
	return errors.Join(errs...)
}

// Describe says which files are loaded, for logs and readiness endpoints:
// for each file its path, database type, build date and the data used from
// it.
func (db *DB) Describe() string {
	if db == nil || len(db.sources) == 0 {
		return "geoip: no databases"
	}
	var b strings.Builder
	for i, s := range db.sources {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(s.describe())
		var used fields
		if db.asn == s {
			used |= fieldASN
		}
		if db.country == s {
			used |= fieldCountry
		}
		fmt.Fprintf(&b, ", used for %s", used)
	}
	return b.String()
}

// Errors returns the number of look-ups that failed because a record could
// not be decoded (a corrupt or unexpected file). Such look-ups return what
// the other file knew.
func (db *DB) Errors() uint64 {
	if db == nil {
		return 0
	}
	return db.errs.Load()
}

// Lookup returns what the databases know about ip, and whether they know
// anything. IPv4-mapped IPv6 addresses are looked up as IPv4 addresses.
func (db *DB) Lookup(ip netip.Addr) (Info, bool) {
	if db == nil || !ip.IsValid() || (db.asn == nil && db.country == nil) {
		return Info{}, false
	}
	ip = ip.Unmap()
	if ip.Zone() != "" {
		ip = ip.WithZone("")
	}
	if db.closed.Load() {
		return Info{}, false
	}
	c := db.cache
	if c != nil {
		if e := c.get(ip); e != nil {
			return e.info, e.ok
		}
	}
	db.mu.RLock()
	if db.closed.Load() {
		db.mu.RUnlock()
		return Info{}, false
	}
	info, pfx := db.lookup(ip)
	db.mu.RUnlock()
	ok := info != Info{}
	if c != nil {
		c.put(ip, pfx, info, ok)
	}
	return info, ok
}

// lookup asks the sources and returns the answer and the network it holds
// for: the narrower of the sources' networks.
func (db *DB) lookup(ip netip.Addr) (Info, netip.Prefix) {
	var info Info
	if db.asn == db.country {
		return info, db.ask(db.asn, ip, fieldASN|fieldCountry, &info)
	}
	var pfx netip.Prefix
	if db.asn != nil {
		pfx = db.ask(db.asn, ip, fieldASN, &info)
	}
	if db.country != nil {
		if p := db.ask(db.country, ip, fieldCountry, &info); !pfx.IsValid() || p.Bits() > pfx.Bits() {
			pfx = p
		}
	}
	return info, pfx
}

// ask looks ip up in s and returns the network the answer holds for, in
// ip's form.
func (db *DB) ask(s *source, ip netip.Addr, want fields, info *Info) netip.Prefix {
	p, err := s.lookup(ip, want, info)
	if err != nil {
		db.errs.Add(1)
	}
	return fitPrefix(ip, p)
}

// fitPrefix returns p in the form of ip (IPv4 or IPv6) if it contains ip,
// else ip's host prefix.
func fitPrefix(ip netip.Addr, p netip.Prefix) netip.Prefix {
	if ip.Is4() && p.IsValid() && p.Addr().Is4In6() && p.Bits() >= 96 {
		p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
	}
	if p.IsValid() && p.Contains(ip) {
		return p.Masked()
	}
	return netip.PrefixFrom(ip, ip.BitLen())
}

// normCountry upper-cases a country code and drops the codes that mean
// "unknown" ("ZZ", "--"). It does not allocate for codes already in upper
// case.
func normCountry(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; 'a' <= c && c <= 'z' {
			s = strings.ToUpper(s)
			break
		}
	}
	switch s {
	case "ZZ", "--":
		return ""
	}
	return s
}
