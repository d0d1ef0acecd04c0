package taxii

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"os"
	"path/filepath"
	"testing"
)

func TestSelfSigned(t *testing.T) {
	dir := t.TempDir()
	cfg, ca, err := SelfSigned(dir)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.MinVersion != tls.VersionTLS12 || len(cfg.Certificates) != 1 {
		t.Fatalf("config: min version %x, %d certificates", cfg.MinVersion, len(cfg.Certificates))
	}
	for _, s := range cfg.CipherSuites {
		for _, insecure := range tls.InsecureCipherSuites() {
			if s == insecure.ID {
				t.Errorf("insecure cipher suite %s allowed", insecure.Name)
			}
		}
	}
	for _, name := range []string{caKeyFile, serverKeyFile} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", name, fi.Mode().Perm())
		}
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(ca) {
		t.Fatal("CA PEM does not parse")
	}
	leaf := cfg.Certificates[0].Leaf
	for _, host := range []string{"localhost", "127.0.0.1", "::1"} {
		if _, err := leaf.Verify(x509.VerifyOptions{Roots: pool, DNSName: host}); err != nil {
			t.Errorf("certificate for %s: %v", host, err)
		}
	}
	// A second call reuses the files.
	cfg2, ca2, err := SelfSigned(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(ca, ca2) || !bytes.Equal(cfg.Certificates[0].Certificate[0], cfg2.Certificates[0].Certificate[0]) {
		t.Error("SelfSigned created new certificates instead of reusing them")
	}
	// ServerTLSConfig loads the same files.
	cfg3, err := ServerTLSConfig(filepath.Join(dir, serverCertFile), filepath.Join(dir, serverKeyFile))
	if err != nil || !bytes.Equal(cfg3.Certificates[0].Certificate[0], cfg.Certificates[0].Certificate[0]) {
		t.Errorf("ServerTLSConfig = %v", err)
	}
	if _, err := ServerTLSConfig(filepath.Join(dir, "nope.pem"), filepath.Join(dir, serverKeyFile)); err == nil {
		t.Error("ServerTLSConfig of a missing file succeeded")
	}
}
