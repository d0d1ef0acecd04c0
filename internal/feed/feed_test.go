package feed

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"focal/internal/focal"
)

func TestLines(t *testing.T) {
	long := strings.Repeat("x", MaxLine+10)
	tests := []struct {
		name, in string
		want     string // "n:text|…", "n:TOO-LONG" for long lines
	}{
		{"lf", "a\nb\n", "1:a|2:b"},
		{"crlf", "a\r\nb", "1:a|2:b"},
		{"empty", "", ""},
		{"blank-lines", "\n\na", "1:|2:|3:a"},
		{"too-long", "a\n" + long + "\nb\n", "1:a|2:TOO-LONG|3:b"},
		{"too-long-last", "a\n" + long, "1:a|2:TOO-LONG"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			err := Lines(strings.NewReader(tt.in), func(n int, l string) error {
				got = append(got, fmt.Sprintf("%d:%s", n, l))
				return nil
			}, func(n int) { got = append(got, fmt.Sprintf("%d:TOO-LONG", n)) })
			if err != nil {
				t.Fatal(err)
			}
			if s := strings.Join(got, "|"); s != tt.want {
				t.Errorf("Lines(%s) = %q, want %q", tt.name, s, tt.want)
			}
		})
	}
	stop := errors.New("stop")
	if err := Lines(strings.NewReader("a\nb\n"), func(int, string) error { return stop }, func(int) {}); !errors.Is(err, stop) {
		t.Errorf("Lines with a failing fn = %v, want stop", err)
	}
}

func FuzzLines(f *testing.F) {
	f.Add("a\nb\r\nc")
	f.Add(strings.Repeat("y", MaxLine+1) + "\nz")
	f.Fuzz(func(t *testing.T, in string) {
		count := 0
		err := Lines(strings.NewReader(in), func(n int, l string) error {
			count++
			if len(l) > MaxLine || strings.ContainsAny(l, "\n") {
				t.Errorf("line %d has %d bytes or a newline", n, len(l))
			}
			return nil
		}, func(int) { count++ })
		if err != nil {
			t.Fatal(err)
		}
		if want := strings.Count(in, "\n") + 1; in != "" && !strings.HasSuffix(in, "\n") && count != want {
			t.Errorf("saw %d lines, want %d", count, want)
		}
	})
}

func TestIndicator(t *testing.T) {
	tests := []struct {
		e    focal.Event
		want string
	}{
		{focal.Event{Source: focal.Endpoint{IP: netip.MustParseAddr("192.0.2.1"), Port: 445}}, "192.0.2.1:445"},
		{focal.Event{Source: focal.Endpoint{IP: netip.MustParseAddr("2001:db8::1"), Port: 443}}, "[2001:db8::1]:443"},
		{focal.Event{Source: focal.Endpoint{IP: netip.MustParseAddr("2001:db8::1")}}, "2001:db8::1"},
		{focal.Event{Destination: focal.Endpoint{URL: "http://a.example/x", FQDN: "a.example"}}, "http://a.example/x"},
		{focal.Event{Destination: focal.Endpoint{FQDN: "a.example"}}, "a.example"},
		{focal.Event{Source: focal.Endpoint{ASN: 64500}, Identifier: "asn:64500"}, "asn:64500"},
	}
	for _, tt := range tests {
		if got := Indicator(&tt.e); got != tt.want {
			t.Errorf("Indicator(%+v) = %q, want %q", tt.e, got, tt.want)
		}
	}
}
