package taxii

import (
	"slices"
	"testing"

	"focal/internal/focal"
)

var queryTests = []struct {
	raw   string
	ok    bool
	check func(Query) bool
}{
	{"", true, func(q Query) bool { return q.Limit == 0 && !q.HasAddedAfter }},
	{"limit=5", true, func(q Query) bool { return q.Limit == 5 }},
	{"limit=0", false, nil},
	{"limit=-1", false, nil},
	{"limit=abc", false, nil},
	{"limit=99999999999999999999999", true, func(q Query) bool { return q.Limit > 1000 }},
	{"limit=+5", false, nil},
	{"limit=-99999999999999999999999", false, nil},
	{"limit=1&limit=1", false, nil},
	{"added_after=2024-01-02T03:04:05.123456Z", true, func(q Query) bool { return q.HasAddedAfter && q.AddedAfter == 1704164645123456 }},
	{"added_after=2024-01-02T03:04:05Z", true, func(q Query) bool { return q.AddedAfter == 1704164645000000 }},
	{"added_after=2024-01-02T04:04:05%2B01:00", true, func(q Query) bool { return q.AddedAfter == 1704164645000000 }},
	{"added_after=notatime", false, nil},
	{"added_after=", false, nil},
	{"match[type]=malware,indicator,malware", true, func(q Query) bool { return slices.Equal(q.Types, []string{"indicator", "malware"}) }},
	{"match[type]=Indicator", false, nil},
	{"match[type]=indicator,", false, nil},
	{"match[type]=a&match[type]=b", false, nil},
	{"match[id]=indicator--44af6c39-c09b-49c5-9de2-394224b04982", true, func(q Query) bool { return len(q.IDs) == 1 }},
	{"match[id]=indicator--nope", false, nil},
	{"match[version]=last,first", true, func(q Query) bool { return slices.Equal(q.Versions, []string{"first", "last"}) }},
	{"match[version]=all", true, func(q Query) bool { return slices.Equal(q.Versions, []string{"all"}) }},
	{"match[version]=all,last", false, nil},
	{"match[version]=first,first", false, nil},
	{"match[version]=2016-04-06T20:03:48.000Z", true, func(q Query) bool { return slices.Equal(q.Versions, []string{"1459973028000000"}) }},
	{"match[version]=2016-04-06T20:03:48.000Z,2016-04-06T20:03:48.000000Z", false, nil},
	{"match[version]=yesterday", false, nil},
	{"match[spec_version]=2.0,2.1", true, func(q Query) bool { return slices.Equal(q.SpecVersions, []string{"2.0", "2.1"}) }},
	{"match[spec_version]=2", false, nil},
	{"match[foo]=bar&match[foo]=baz&other=1", true, func(q Query) bool { return true }},
	{"next=abc", true, func(q Query) bool { return q.Next == "abc" }},
	{"next=", false, nil},
	{"a=%zz", false, nil},
	{"a;b", false, nil},
}

func TestParseQuery(t *testing.T) {
	for _, tt := range queryTests {
		q, err := ParseQuery(tt.raw)
		if (err == nil) != tt.ok {
			t.Errorf("ParseQuery(%q) error = %v, want ok=%v", tt.raw, err, tt.ok)
			continue
		}
		if err != nil {
			if focal.ErrorCode(err) != focal.EINVALID {
				t.Errorf("ParseQuery(%q) error code = %s, want %s", tt.raw, focal.ErrorCode(err), focal.EINVALID)
			}
			continue
		}
		if !tt.check(q) {
			t.Errorf("ParseQuery(%q) = %+v", tt.raw, q)
		}
	}
}

// FuzzQuery checks that any query string parses or fails with EINVALID
// (a 400), never panics, and that a parsed query hashes the same whatever
// the order of its values.
func FuzzQuery(f *testing.F) {
	for _, tt := range queryTests {
		f.Add(tt.raw)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := ParseQuery(raw)
		if err != nil {
			if focal.ErrorCode(err) != focal.EINVALID {
				t.Fatalf("ParseQuery(%q) error code = %s, want %s", raw, focal.ErrorCode(err), focal.EINVALID)
			}
			return
		}
		if q.Limit < 0 {
			t.Fatalf("ParseQuery(%q) limit %d", raw, q.Limit)
		}
		for _, vs := range [][]string{q.IDs, q.Types, q.SpecVersions, q.Versions} {
			if !slices.IsSorted(vs) {
				t.Fatalf("ParseQuery(%q) values not normalised: %v", raw, vs)
			}
		}
		if filterHash("objects", "/r/", "c", "", q) != filterHash("objects", "/r/", "c", "", q) {
			t.Fatal("filterHash is not deterministic")
		}
	})
}
