package geoip

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/gaissmai/bart"
)

// ASNTable is ASN data loaded into memory from a CSV file by [LoadASNCSV].
// It is immutable and safe for concurrent use.
type ASNTable struct {
	t      bart.Table[uint32] // network -> index into recs
	recs   []asRec
	rows   int
	nested bool // some ranges overlap: a network's answer may have holes
}

type asRec struct {
	asn  uint32
	name string
}

// maxLine bounds the length of a CSV line, and so the memory a line takes.
const maxLine = 16 << 10

// LineError is an error in one line of a CSV file.
type LineError struct {
	Line int // 1-based
	Err  error
}

func (e *LineError) Error() string { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }
func (e *LineError) Unwrap() error { return e.Err }

// LoadASNCSV reads ASN data in the format of the ip-location-db ASN files
// (npm @ip-location-db/asn: asn-ipv4.csv, asn-ipv6.csv), one range per line:
//
//	start,end,asn,org
//
// start and end are IPv4 or IPv6 addresses of the same family, or decimal
// numbers (the *-num.csv files: up to 2^32-1 taken as IPv4, else IPv6); org
// may be quoted as in RFC 4180, and an unquoted org may contain commas.
// Blank lines and lines starting with '#' are skipped, and so is a first
// line that does not start with an address (a header). Both files can be
// concatenated into one reader. Lines may be at most 16 KiB long.
//
// The first malformed line stops the load with a [*LineError] naming it.
// Where ranges overlap, the narrower one wins, and of two equal ones the
// first.
func LoadASNCSV(r io.Reader) (*ASNTable, error) {
	t := &ASNTable{}
	ids := map[asRec]uint32{}
	names := map[string]string{}
	br := bufio.NewReaderSize(r, maxLine)
	var fieldBuf [4]string
	for line := 1; ; line++ {
		b, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			return nil, &LineError{line, fmt.Errorf("longer than %d bytes", maxLine)}
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		eof := err != nil
		b = bytes.TrimRight(b, "\r\n")
		if line == 1 {
			b = bytes.TrimPrefix(b, []byte("\ufeff")) // a byte order mark
		}
		if len(bytes.TrimSpace(b)) == 0 || b[0] == '#' {
			if eof {
				break
			}
			continue
		}
		rec, pfxs, perr := parseASNLine(b, fieldBuf[:0])
		if perr != nil {
			if line == 1 && t.rows == 0 && !startsWithAddr(b) {
				continue // a header
			}
			return nil, &LineError{line, perr}
		}
		if n, ok := names[rec.name]; ok {
			rec.name = n
		} else {
			rec.name = strings.Clone(rec.name)
			names[rec.name] = rec.name
		}
		id, ok := ids[rec]
		if !ok {
			id = uint32(len(t.recs))
			t.recs = append(t.recs, rec)
			ids[rec] = id
		}
		for _, p := range pfxs {
			if t.t.OverlapsPrefix(p) {
				t.nested = true
				if _, dup := t.t.Get(p); dup {
					continue // the first claim of a network wins
				}
			}
			t.t.Insert(p, id)
		}
		t.rows++
		if eof {
			break
		}
	}
	if t.rows == 0 {
		return nil, errors.New("no data lines")
	}
	return t, nil
}

// startsWithAddr reports whether a line starts like an address or number.
func startsWithAddr(b []byte) bool {
	c := b[0]
	return '0' <= c && c <= '9' || c == ':' || 'a' <= c && c <= 'f' && bytes.IndexByte(b[:min(len(b), 40)], ':') > 0
}

// parseASNLine parses one line into its record and networks.
func parseASNLine(b []byte, f []string) (asRec, []netip.Prefix, error) {
	f, err := splitCSV(string(b), f)
	if err != nil {
		return asRec{}, nil, err
	}
	if len(f) < 3 {
		return asRec{}, nil, fmt.Errorf("want start,end,asn,org; got %d fields", len(f))
	}
	start, err := parseRangeAddr(f[0])
	if err != nil {
		return asRec{}, nil, fmt.Errorf("start: %w", err)
	}
	end, err := parseRangeAddr(f[1])
	if err != nil {
		return asRec{}, nil, fmt.Errorf("end: %w", err)
	}
	if start.Is4() != end.Is4() {
		if !isNumber(f[0]) || !isNumber(f[1]) {
			return asRec{}, nil, fmt.Errorf("start %s and end %s are of different address families", f[0], f[1])
		}
		// A numeric IPv6 range starting in the first 2^32 addresses.
		start = netip.AddrFrom16(start.As16())
	}
	if end.Less(start) {
		return asRec{}, nil, fmt.Errorf("end %s before start %s", f[1], f[0])
	}
	asnField := strings.TrimSpace(f[2])
	asnField = strings.TrimPrefix(strings.TrimPrefix(asnField, "AS"), "as")
	asn, err := strconv.ParseUint(asnField, 10, 32)
	if err != nil {
		return asRec{}, nil, fmt.Errorf("invalid AS number %q", f[2])
	}
	name := ""
	if len(f) > 3 {
		name = strings.TrimSpace(strings.Join(f[3:], ","))
	}
	return asRec{asn: uint32(asn), name: name}, rangePrefixes(start, end), nil
}

// splitCSV splits a line into fields, RFC 4180 style: a field may be
// quoted, with "" for a quote inside. The fields point into line.
func splitCSV(line string, f []string) ([]string, error) {
	for {
		if strings.HasPrefix(line, `"`) {
			var b strings.Builder
			i := 1
			for {
				j := strings.IndexByte(line[i:], '"')
				if j < 0 {
					return nil, errors.New("unterminated quoted field")
				}
				b.WriteString(line[i : i+j])
				i += j + 1
				if i < len(line) && line[i] == '"' {
					b.WriteByte('"')
					i++
					continue
				}
				break
			}
			f = append(f, b.String())
			line = line[i:]
			if line == "" {
				return f, nil
			}
			if line[0] != ',' {
				return nil, errors.New("text after a quoted field")
			}
			line = line[1:]
			continue
		}
		i := strings.IndexByte(line, ',')
		if i < 0 {
			return append(f, line), nil
		}
		f = append(f, line[:i])
		line = line[i+1:]
	}
}

func isNumber(s string) bool {
	s = strings.TrimSpace(s)
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// parseRangeAddr parses an address, or a decimal number: up to 2^32-1 an
// IPv4 address, else an IPv6 address.
func parseRangeAddr(s string) (netip.Addr, error) {
	s = strings.TrimSpace(s)
	if !isNumber(s) {
		a, err := netip.ParseAddr(s)
		if err != nil || a.Zone() != "" {
			return netip.Addr{}, fmt.Errorf("invalid address %q", s)
		}
		return a.Unmap(), nil
	}
	var u u128
	for i := 0; i < len(s); i++ {
		var ok bool
		if u, ok = u.mul10Add(uint64(s[i] - '0')); !ok {
			return netip.Addr{}, fmt.Errorf("number %q too large for an address", s)
		}
	}
	return u.addr(u.hi == 0 && u.lo <= 1<<32-1), nil
}

// rangePrefixes splits the range start..end (same family, start <= end)
// into the fewest networks that cover it exactly.
func rangePrefixes(start, end netip.Addr) []netip.Prefix {
	is4 := start.Is4()
	width := 128
	if is4 {
		width = 32
	}
	s, e := u128Of(start), u128Of(end)
	var out []netip.Prefix
	for {
		// The widest network starting at s: s is aligned to it, and it
		// ends at or before e.
		host := min(s.trailingZeros(), width)
		if count, ok := e.sub(s).add(u128{0, 1}); ok { // else the whole space
			host = min(host, count.bitLen()-1)
		}
		out = append(out, netip.PrefixFrom(s.addr(is4), width-host))
		last, _ := s.add(ones(host))
		if last == e {
			return out
		}
		s, _ = last.add(u128{0, 1})
	}
}

// u128 is an address as a 128-bit number; IPv4 addresses are 0..2^32-1.
type u128 struct{ hi, lo uint64 }

func u128Of(a netip.Addr) u128 {
	if a.Is4() {
		b := a.As4()
		return u128{0, uint64(binary.BigEndian.Uint32(b[:]))}
	}
	b := a.As16()
	return u128{binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])}
}

// addr returns u as an IPv4 address (is4, u < 2^32) or an IPv6 address.
func (u u128) addr(is4 bool) netip.Addr {
	if is4 {
		var b [4]byte
		binary.BigEndian.PutUint32(b[:], uint32(u.lo))
		return netip.AddrFrom4(b)
	}
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], u.hi)
	binary.BigEndian.PutUint64(b[8:], u.lo)
	return netip.AddrFrom16(b)
}

// ones returns 2^n - 1.
func ones(n int) u128 {
	if n >= 64 {
		return u128{1<<(n-64) - 1, ^uint64(0)}
	}
	return u128{0, 1<<n - 1}
}

// add returns u+v and false on overflow.
func (u u128) add(v u128) (u128, bool) {
	lo, c := bits.Add64(u.lo, v.lo, 0)
	hi, c := bits.Add64(u.hi, v.hi, c)
	return u128{hi, lo}, c == 0
}

// sub returns u-v for u >= v.
func (u u128) sub(v u128) u128 {
	lo, b := bits.Sub64(u.lo, v.lo, 0)
	hi, _ := bits.Sub64(u.hi, v.hi, b)
	return u128{hi, lo}
}

// mul10Add returns u*10+d and false on overflow.
func (u u128) mul10Add(d uint64) (u128, bool) {
	ov, hi := bits.Mul64(u.hi, 10)
	carry, lo := bits.Mul64(u.lo, 10)
	hi, c := bits.Add64(hi, carry, 0)
	if ov != 0 || c != 0 {
		return u128{}, false
	}
	return u128{hi, lo}.add(u128{0, d})
}

func (u u128) trailingZeros() int {
	if u.lo != 0 {
		return bits.TrailingZeros64(u.lo)
	}
	return 64 + bits.TrailingZeros64(u.hi) // 128 for zero
}

func (u u128) bitLen() int {
	if u.hi != 0 {
		return 64 + bits.Len64(u.hi)
	}
	return bits.Len64(u.lo)
}

// Len returns the number of ranges loaded.
func (t *ASNTable) Len() int { return t.rows }

// Lookup returns the AS number and organisation of ip.
func (t *ASNTable) Lookup(ip netip.Addr) (asn uint32, org string, ok bool) {
	if !ip.IsValid() {
		return 0, "", false
	}
	var info Info
	t.lookup(ip.Unmap().WithZone(""), &info)
	return info.ASN, info.ASName, info != Info{}
}

// window is the network an address's cache slot covers: /24 or /48.
func window(ip netip.Addr) netip.Prefix {
	bits := 48
	if ip.Is4() {
		bits = 24
	}
	p, _ := ip.Prefix(bits)
	return p
}

// lookup fills info and returns the network the answer holds for.
func (t *ASNTable) lookup(ip netip.Addr, info *Info) netip.Prefix {
	host := netip.PrefixFrom(ip, ip.BitLen())
	pfx, id, ok := t.t.LookupPrefixLPM(host)
	if !ok {
		// Nothing here; cache the miss for the whole window if nothing
		// in it is known, else for this address.
		if w := window(ip); !t.t.OverlapsPrefix(w) {
			return w
		}
		return host
	}
	r := t.recs[id]
	info.ASN, info.ASName = r.asn, r.name
	if t.nested {
		return host // a narrower range may punch a hole in pfx
	}
	return pfx
}

func openCSV(path string, mtime time.Time) (*source, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("geoip: %w", err)
	}
	defer f.Close()
	t, err := LoadASNCSV(f)
	if err != nil {
		return nil, fmt.Errorf("geoip: %s: not an ASN CSV file (start,end,asn,org): %w", path, err)
	}
	return &source{path: path, has: fieldASN, csv: t, mtime: mtime}, nil
}
