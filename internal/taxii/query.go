package taxii

import (
	"crypto/sha256"
	"errors"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"focal/internal/focal"
	"focal/internal/store"
)

// Query is the parsed URL query of a TAXII request (§3.4): the filters
// added_after, limit, next and match[id|type|version|spec_version]. The
// zero value filters nothing.
type Query struct {
	AddedAfter    int64 // µs since the epoch; only with HasAddedAfter
	HasAddedAfter bool
	Limit         int    // 0: the server's page size
	Next          string // the opaque cursor of the previous page
	IDs           []string
	Types         []string
	Versions      []string // "first", "last", "all" or µs timestamps, as given (normalised)
	SpecVersions  []string
}

// maxQueryValues bounds the comma-separated values of one match field.
const maxQueryValues = 100

// ParseQuery parses a raw URL query. It returns an EINVALID error, which
// the server answers with 400, for a malformed query: bad escapes, a
// parameter given twice, a limit that is not a positive integer, an
// added_after that is not a timestamp, empty or malformed match values,
// or match[version]=all combined with anything. Parameters it does not
// know, match[foo] included, are ignored (§3.4.1 allows it).
func ParseQuery(raw string) (Query, error) {
	var q Query
	vals, err := url.ParseQuery(raw)
	if err != nil {
		return q, focal.Errorf(focal.EINVALID, "malformed query string")
	}
	for key, vs := range vals {
		known := key == "added_after" || key == "limit" || key == "next" ||
			key == "match[id]" || key == "match[type]" || key == "match[version]" || key == "match[spec_version]"
		if !known {
			continue
		}
		if len(vs) != 1 {
			return q, focal.Errorf(focal.EINVALID, "%s may be given only once", key)
		}
		v := vs[0]
		switch key {
		case "added_after":
			t, err := ParseTimestamp(v)
			if err != nil {
				return q, focal.Errorf(focal.EINVALID, "added_after: %s", focal.ErrorMessage(err))
			}
			q.AddedAfter, q.HasAddedAfter = t.UnixMicro(), true
		case "limit":
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil && errors.Is(err, strconv.ErrRange) && v[0] != '-' {
				n, err = math.MaxInt32, nil // a huge limit is the server's page size anyway
			}
			if err != nil || n <= 0 || v[0] == '+' {
				return q, focal.Errorf(focal.EINVALID, "limit must be a positive integer, got %q", truncate(v, 30))
			}
			q.Limit = int(min(n, math.MaxInt32))
		case "next":
			if v == "" || len(v) > 200 {
				return q, focal.Errorf(focal.EINVALID, "next is not valid")
			}
			q.Next = v
		case "match[id]":
			if q.IDs, err = splitMatch(key, v, validID); err != nil {
				return q, err
			}
		case "match[type]":
			if q.Types, err = splitMatch(key, v, validType); err != nil {
				return q, err
			}
		case "match[spec_version]":
			if q.SpecVersions, err = splitMatch(key, v, validSpecVersion); err != nil {
				return q, err
			}
		case "match[version]":
			if q.Versions, err = parseVersions(v); err != nil {
				return q, err
			}
		}
	}
	return q, nil
}

// splitMatch splits a comma-separated match value, checks each part and
// returns them sorted without duplicates (order does not matter: they OR).
func splitMatch(key, v string, valid func(string) bool) ([]string, error) {
	parts := strings.Split(v, ",")
	if len(parts) > maxQueryValues {
		return nil, focal.Errorf(focal.EINVALID, "%s: at most %d values", key, maxQueryValues)
	}
	for _, p := range parts {
		if !valid(p) {
			return nil, focal.Errorf(focal.EINVALID, "%s: %q is not valid", key, p)
		}
	}
	slices.Sort(parts)
	return slices.Compact(parts), nil
}

func parseVersions(v string) ([]string, error) {
	parts := strings.Split(v, ",")
	if len(parts) > maxQueryValues {
		return nil, focal.Errorf(focal.EINVALID, "match[version]: at most %d values", maxQueryValues)
	}
	out := make([]string, 0, len(parts))
	for _, p := range parts {
		switch p {
		case "first", "last", "all":
		default:
			t, err := ParseTimestamp(p)
			if err != nil {
				return nil, focal.Errorf(focal.EINVALID, "match[version]: %q is not first, last, all or a timestamp", p)
			}
			p = strconv.FormatInt(t.UnixMicro(), 10)
		}
		if slices.Contains(out, p) {
			return nil, focal.Errorf(focal.EINVALID, "match[version]: %q given twice", p)
		}
		out = append(out, p)
	}
	if len(out) > 1 && slices.Contains(out, "all") {
		return nil, focal.Errorf(focal.EINVALID, "match[version]: all cannot be combined with other values")
	}
	slices.Sort(out)
	return out, nil
}

// versionMatch turns normalised match[version] values into the store's
// selection; def is used when none were given.
func versionMatch(vs []string, def store.TaxiiVersionMatch) store.TaxiiVersionMatch {
	if len(vs) == 0 {
		return def
	}
	var m store.TaxiiVersionMatch
	for _, v := range vs {
		switch v {
		case "first":
			m.First = true
		case "last":
			m.Last = true
		case "all":
			m.All = true
		default:
			us, _ := strconv.ParseInt(v, 10, 64) // normalised by parseVersions
			m.Exact = append(m.Exact, us)
		}
	}
	return m
}

// validType accepts a STIX type name: 1–250 of a-z, 0-9 and '-'.
func validType(s string) bool {
	if s == "" || len(s) > 250 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return false
		}
	}
	return true
}

// validID accepts a STIX identifier: type--UUID.
func validID(s string) bool {
	typ, u, ok := strings.Cut(s, "--")
	return ok && validType(typ) && validUUID(u)
}

// validUUID accepts a UUID in 8-4-4-4-12 hexadecimal form.
func validUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, r := range s {
		switch i {
		case 8, 13, 18, 23:
			if r != '-' {
				return false
			}
		default:
			if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f' || r >= 'A' && r <= 'F') {
				return false
			}
		}
	}
	return true
}

// validSpecVersion accepts n.m.
func validSpecVersion(s string) bool {
	maj, min, ok := strings.Cut(s, ".")
	digits := func(x string) bool {
		if x == "" || len(x) > 3 {
			return false
		}
		for _, r := range x {
			if r < '0' || r > '9' {
				return false
			}
		}
		return true
	}
	return ok && digits(maj) && digits(min)
}

// filterHash is a digest of everything that selects a result set — the
// endpoint, API root, collection, object and filters, but not the limit
// or next — which a next cursor carries so it cannot be replayed with
// other filters.
func filterHash(endpoint, root, collection, object string, q Query) [12]byte {
	var b strings.Builder
	field := func(name string, vs ...string) {
		b.WriteString(name)
		for _, v := range vs {
			b.WriteString(strconv.Itoa(len(v)))
			b.WriteByte(':')
			b.WriteString(v)
		}
		b.WriteByte(';')
	}
	field("e", endpoint, root, collection, object)
	if q.HasAddedAfter {
		field("a", strconv.FormatInt(q.AddedAfter, 10))
	}
	field("i", q.IDs...)
	field("t", q.Types...)
	field("v", q.Versions...)
	field("s", q.SpecVersions...)
	sum := sha256.Sum256([]byte(b.String()))
	var h [12]byte
	copy(h[:], sum[:])
	return h
}
