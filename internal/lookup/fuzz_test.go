package lookup

import (
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// FuzzDomain checks Domain against the brute-force scan, and that URL finds
// the same organisations for a URL built around the name.
func FuzzDomain(f *testing.F) {
	for _, tt := range domainCases() {
		f.Add(tt.in)
	}
	entries := fixture()
	tbl := mustBuild(f, entries)
	f.Fuzz(func(t *testing.T, name string) {
		got := tbl.Domain(name)
		if want := bruteDomain(entries, name); !slices.Equal(got, want) {
			t.Fatalf("Domain(%q) = %v, want %v", name, got, want)
		}
		if !plainHost(name) {
			return
		}
		for _, u := range []string{"http://u:p@" + name + ":8080/p?q#f", name + "/path", "//" + name} {
			if got2 := tbl.URL(u); !slices.Equal(got2, got) {
				t.Fatalf("URL(%q) = %v, want %v as Domain(%q)", u, got2, got, name)
			}
		}
	})
}

// plainHost reports whether name would be taken as a domain, unchanged, in
// a URL: printable ASCII without URL delimiters, percent-escapes or
// brackets, not starting with a slash, and not ending in a number (which
// makes it an IPv4 address).
func plainHost(name string) bool {
	if name == "" || strings.ContainsAny(name, `/\?#@:[]%`) {
		return false
	}
	for i := 0; i < len(name); i++ {
		if name[i] <= ' ' || name[i] >= 0x7f {
			return false
		}
	}
	last := strings.TrimSuffix(name, ".")
	if i := strings.LastIndexByte(last, '.'); i >= 0 {
		last = last[i+1:]
	}
	return last == "" || last[0] < '0' || last[0] > '9'
}

// FuzzURL checks that URL never panics, returns a valid answer, and agrees
// with net/url wherever net/url accepts an http(s) URL whose host is
// unambiguous.
func FuzzURL(f *testing.F) {
	for _, tt := range urlCases() {
		f.Add(tt.in)
	}
	tbl := mustBuild(f, fixture())
	f.Fuzz(func(t *testing.T, raw string) {
		got := tbl.URL(raw)
		if !slices.IsSorted(got) || len(slices.Compact(slices.Clone(got))) != len(got) || (got != nil && len(got) == 0) {
			t.Fatalf("URL(%q) = %v, want nil or a sorted set", raw, got)
		}
		if strings.ContainsAny(raw, "\\%") {
			return // browsers and net/url disagree on these
		}
		for i := 0; i < len(raw); i++ {
			if raw[i] <= ' ' || raw[i] >= 0x7f {
				return
			}
		}
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Opaque != "" || u.Host == "" {
			return
		}
		host := u.Hostname()
		var want []int64
		switch {
		case strings.HasPrefix(u.Host, "["):
			a, err := netip.ParseAddr(host)
			if err != nil {
				return
			}
			want = tbl.IP(a)
		case plainHost(host):
			want = tbl.Domain(host)
		default:
			return
		}
		if !slices.Equal(got, want) {
			t.Fatalf("URL(%q) = %v, want %v for host %q", raw, got, want, host)
		}
	})
}
