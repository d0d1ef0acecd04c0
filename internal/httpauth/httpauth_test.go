package httpauth

import (
	"crypto/tls"
	"net/http/httptest"
	"net/netip"
	"testing"
)

func TestSecureAndClientAddr(t *testing.T) {
	a := &Authenticator{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/24")}}
	tests := []struct {
		name, remote, xff, proto string
		tls                      bool
		secure                   bool
		client                   string
	}{
		{"direct-http", "203.0.113.5:4000", "", "", false, false, "203.0.113.5"},
		{"direct-tls", "203.0.113.5:4000", "", "", true, true, "203.0.113.5"},
		{"trusted-proxy-https", "10.0.0.2:5000", "198.51.100.7", "https", false, true, "198.51.100.7"},
		{"trusted-proxy-http", "10.0.0.2:5000", "198.51.100.7", "http", false, false, "198.51.100.7"},
		{"untrusted-claims", "203.0.113.9:5000", "198.51.100.7", "https", false, false, "203.0.113.9"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tt.remote
			if tt.xff != "" {
				r.Header.Set("X-Forwarded-For", tt.xff)
			}
			if tt.proto != "" {
				r.Header.Set("X-Forwarded-Proto", tt.proto)
			}
			if tt.tls {
				r.TLS = &tls.ConnectionState{}
			}
			if got := a.secure(r); got != tt.secure {
				t.Errorf("secure(%s) = %v, want %v", tt.name, got, tt.secure)
			}
			if got := a.ClientAddr(r); got != tt.client {
				t.Errorf("ClientAddr(%s) = %q, want %q", tt.name, got, tt.client)
			}
		})
	}
}
