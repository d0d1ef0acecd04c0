package geoip

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"github.com/oschwald/maxminddb-golang/v2"
	"github.com/oschwald/maxminddb-golang/v2/mmdbdata"
)

// openFile opens one file given for the ASN slot (asnSlot) or the country
// slot: a MaxMind DB file, or in the ASN slot also an ASN CSV file.
func openFile(path string, asnSlot bool) (*source, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("geoip: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("geoip: %s: not a regular file", path)
	}
	if fi.Size() == 0 {
		return nil, fmt.Errorf("geoip: %s: empty file", path)
	}
	isCSV, err := looksLikeCSV(path)
	if err != nil {
		return nil, fmt.Errorf("geoip: %w", err)
	}
	if isCSV {
		if !asnSlot {
			return nil, fmt.Errorf("geoip: %s: CSV files are supported for ASN data only; give a MaxMind DB file for country data", path)
		}
		return openCSV(path, fi.ModTime())
	}
	return openMMDB(path)
}

// looksLikeCSV reports whether path is a CSV file: by its .csv extension,
// or, unless it has an .mmdb extension, by a first block of text with a
// comma in it (the search tree at the start of a MaxMind DB file is binary).
func looksLikeCSV(path string) (bool, error) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".csv":
		return true, nil
	case ".mmdb":
		return false, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	buf := make([]byte, 4096)
	n, err := io.ReadFull(f, buf)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		return false, err
	}
	if n == len(buf) { // more follows: do not judge a character cut at the end
		if i := bytes.LastIndexByte(buf, '\n'); i >= 0 {
			n = i
		}
	}
	buf = buf[:n]
	return bytes.IndexByte(buf, ',') >= 0 && bytes.IndexByte(buf, 0) < 0 && utf8.Valid(buf), nil
}

// probeRecords is how many records openMMDB decodes to learn which fields
// a file has.
const probeRecords = 256

func openMMDB(path string) (*source, error) {
	r, err := maxminddb.Open(path)
	if err != nil {
		return nil, fmt.Errorf("geoip: %s: not a MaxMind DB file: %w", path, err)
	}
	has, err := detect(r)
	if err != nil {
		r.Close()
		return nil, fmt.Errorf("geoip: %s: %w", path, err)
	}
	if has == 0 {
		r.Close()
		return nil, fmt.Errorf("geoip: %s: database type %q has neither ASN data (autonomous_system_number) nor country data (country.iso_code or country_code)",
			path, r.Metadata.DatabaseType)
	}
	return &source{path: path, mmdb: r, has: has}, nil
}

// detect returns the fields a file provides: those found in its first
// records that have data, or, if none has any, those its database type
// suggests.
func detect(r *maxminddb.Reader) (fields, error) {
	var has fields
	n := 0
	var firstErr error
	for res := range r.Networks(maxminddb.SkipEmptyValues()) {
		rec := record{want: fieldASN | fieldCountry}
		if err := res.Decode(&rec); err != nil {
			if firstErr == nil {
				firstErr = err
			}
		} else {
			has |= rec.seen
		}
		if n++; n == probeRecords || has == fieldASN|fieldCountry {
			break
		}
	}
	if has != 0 {
		return has, nil
	}
	if firstErr != nil {
		return 0, fmt.Errorf("cannot decode records: %w", firstErr)
	}
	t := strings.ToLower(r.Metadata.DatabaseType)
	if strings.Contains(t, "asn") || strings.Contains(t, "isp") {
		has |= fieldASN
	}
	if strings.Contains(t, "country") || strings.Contains(t, "city") || strings.Contains(t, "enterprise") {
		has |= fieldCountry
	}
	return has, nil
}

// recPool recycles records: decoding through an interface would otherwise
// allocate one per look-up.
var recPool = sync.Pool{New: func() any { return new(record) }}

// lookupMMDB is source.lookup for a MaxMind DB file.
func (s *source) lookupMMDB(ip netip.Addr, want fields, info *Info) (netip.Prefix, error) {
	r := s.mmdb
	if ip.Is6() && r.Metadata.IPVersion == 4 {
		return netip.PrefixFrom(netip.IPv6Unspecified(), 0), nil // no IPv6 data at all
	}
	res := r.Lookup(ip)
	pfx := res.Prefix()
	if err := res.Err(); err != nil {
		return netip.Prefix{}, err
	}
	if !res.Found() {
		return pfx, nil
	}
	off := res.Offset()
	if d := s.recs.get(off, want); d != nil {
		d.fill(want, info)
		return pfx, nil
	}
	rec := recPool.Get().(*record)
	*rec = record{want: want}
	err := res.Decode(rec)
	d := decoded{off: off, want: want, asn: rec.asn, asName: rec.asName, country: normCountry(rec.country)}
	*rec = record{}
	recPool.Put(rec)
	if err != nil {
		return netip.Prefix{}, err
	}
	d.fill(want, info)
	if s.recs != nil {
		p := new(decoded)
		*p = d
		s.recs.put(p)
	}
	return pfx, nil
}

// decoded is what one record says, by its offset in the file.
type decoded struct {
	off     uintptr
	want    fields // the fields decoded
	asn     uint32
	asName  string
	country string
}

func (d *decoded) fill(want fields, info *Info) {
	if want&fieldASN != 0 {
		info.ASN, info.ASName = d.asn, d.asName
	}
	if want&fieldCountry != 0 {
		info.Country = d.country
	}
}

// recordCache remembers decoded records by their offset, so networks that
// share a record (all of a country, all of an organisation) decode it
// once. Like cache, it is an array of atomic pointers to immutable
// entries, here direct-mapped; a nil *recordCache caches nothing.
type recordCache struct {
	slots []atomic.Pointer[decoded]
	shift uint
}

// recordCacheBits is log2 of the number of records a recordCache holds.
const recordCacheBits = 14

func newRecordCache() *recordCache {
	return &recordCache{slots: make([]atomic.Pointer[decoded], 1<<recordCacheBits), shift: 64 - recordCacheBits}
}

func (c *recordCache) slot(off uintptr) *atomic.Pointer[decoded] {
	return &c.slots[(uint64(off)*0x9e3779b97f4a7c15)>>c.shift]
}

func (c *recordCache) get(off uintptr, want fields) *decoded {
	if c == nil {
		return nil
	}
	if d := c.slot(off).Load(); d != nil && d.off == off && d.want&want == want {
		return d
	}
	return nil
}

func (c *recordCache) put(d *decoded) {
	if c != nil {
		c.slot(d.off).Store(d)
	}
}

// record decodes the fields this package uses from any of the supported
// schemas, skipping everything else without materialising it.
type record struct {
	want    fields // fields to decode
	seen    fields // fields present, decoded or not
	asn     uint32
	asName  string
	country string
	ccRank  int8 // which key country came from; higher wins
}

// Country keys, by preference.
const (
	rankNone       int8 = iota
	rankRegistered      // registered_country.iso_code
	rankCountryStr      // "country": "NL" (IPinfo)
	rankISOCode         // country.iso_code
	rankCode            // country_code
)

const (
	maxNameLen = 1024 // longest AS name decoded
	maxCodeLen = 16   // longest country code decoded
)

// UnmarshalMaxMindDBCursor implements mmdbdata.CursorUnmarshaler.
func (rec *record) UnmarshalMaxMindDBCursor(c mmdbdata.Cursor) (mmdbdata.Cursor, error) {
	m, err := c.Map()
	if err != nil {
		return mmdbdata.Cursor{}, mmdbdata.NormalizeUnmarshalError[record](err)
	}
	var next mmdbdata.Cursor
	for {
		key, v, ok := m.Next(next)
		if !ok {
			break
		}
		switch string(key) {
		case "autonomous_system_number", "asn":
			next, err = rec.readASN(v)
		case "autonomous_system_organization", "as_name":
			if rec.want&fieldASN == 0 {
				rec.seen |= fieldASN
				next, err = v.Skip()
				break
			}
			var s string
			s, next, err = v.ReadStringMaxSize(maxNameLen)
			if err == nil {
				rec.asName = s
				rec.seen |= fieldASN
			}
		case "country_code":
			next, err = rec.readCountry(v, rankCode)
		case "country":
			k, kerr := v.Kind()
			switch {
			case kerr != nil:
				err = kerr
			case k == mmdbdata.KindString:
				next, err = rec.readCountry(v, rankCountryStr)
			default:
				next, err = rec.readISOCode(v, rankISOCode)
			}
		case "registered_country":
			next, err = rec.readISOCode(v, rankRegistered)
		default:
			next, err = v.Skip()
		}
		if err != nil {
			return mmdbdata.Cursor{}, err
		}
	}
	return m.End()
}

// readASN reads an AS number: an unsigned integer, or a string "AS64496".
func (rec *record) readASN(v mmdbdata.Cursor) (mmdbdata.Cursor, error) {
	if rec.want&fieldASN == 0 {
		rec.seen |= fieldASN
		return v.Skip()
	}
	k, err := v.Kind()
	if err != nil {
		return mmdbdata.Cursor{}, err
	}
	if k == mmdbdata.KindString {
		s, next, err := v.ReadStringMaxSize(maxCodeLen)
		if err != nil {
			return next, err
		}
		s = strings.TrimPrefix(strings.TrimPrefix(s, "AS"), "as")
		if n, err := strconv.ParseUint(s, 10, 32); err == nil && n > 0 {
			rec.asn = uint32(n)
			rec.seen |= fieldASN
		}
		return next, nil
	}
	n, signed, next, err := v.ReadInteger()
	if err != nil {
		return next, err
	}
	if !signed && n > 0 && n <= 1<<32-1 || signed && int64(n) > 0 && int64(n) <= 1<<31-1 {
		rec.asn = uint32(n)
		rec.seen |= fieldASN
	}
	return next, nil
}

// readCountry reads a country code string found under a key of rank r.
func (rec *record) readCountry(v mmdbdata.Cursor, r int8) (mmdbdata.Cursor, error) {
	if rec.want&fieldCountry == 0 {
		rec.seen |= fieldCountry
		return v.Skip()
	}
	if r <= rec.ccRank {
		return v.Skip()
	}
	s, next, err := v.ReadStringMaxSize(maxCodeLen)
	if err != nil {
		return next, err
	}
	if r == rankCountryStr && len(s) != 2 {
		return next, nil // a country name ("Netherlands"), not a code
	}
	if s != "" {
		rec.country, rec.ccRank = s, r
		rec.seen |= fieldCountry
	}
	return next, nil
}

// readISOCode reads the iso_code of a country map found under a key of
// rank r.
func (rec *record) readISOCode(v mmdbdata.Cursor, r int8) (mmdbdata.Cursor, error) {
	m, err := v.Map()
	if err != nil {
		return mmdbdata.Cursor{}, err
	}
	var next mmdbdata.Cursor
	for {
		key, v, ok := m.Next(next)
		if !ok {
			break
		}
		if string(key) == "iso_code" {
			next, err = rec.readCountry(v, r)
		} else {
			next, err = v.Skip()
		}
		if err != nil {
			return mmdbdata.Cursor{}, err
		}
	}
	return m.End()
}
