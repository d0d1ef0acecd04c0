package config

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func load(t *testing.T, args []string, env map[string]string) (Config, error) {
	t.Helper()
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(new(strings.Builder))
	l := Register(fs)
	if err := fs.Parse(args); err != nil {
		return Config{}, err
	}
	return l.Load(func(k string) string { return env[k] })
}

func writeFile(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "focal.yaml")
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDefaults(t *testing.T) {
	c, err := load(t, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := Config{Addr: "127.0.0.1:8080", DataDir: "./focal-data", LogFormat: "auto", LogLevel: "info", ShutdownTimeout: 10 * time.Second, TeamName: "focal.invalid", BusinessHours: "Mon-Fri 09:00-17:00 UTC", Workers: 2, IngestQueueMB: 128, RDNS: "off"}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("Load() = %+v, want %+v", c, want)
	}
}

func TestTrustedProxies(t *testing.T) {
	c, err := load(t, []string{"--trusted-proxies", "127.0.0.1, 10.0.0.7/24,2001:db8::/32"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(c.TrustedProxies) != "[127.0.0.1/32 10.0.0.0/24 2001:db8::/32]" {
		t.Errorf("TrustedProxies = %v", c.TrustedProxies)
	}
	if _, err := load(t, []string{"--trusted-proxies", "proxy.example"}, nil); err == nil || !strings.Contains(err.Error(), "trusted-proxies") {
		t.Errorf("a host name as proxy = %v, want an error naming --trusted-proxies", err)
	}
}

func TestPrecedence(t *testing.T) {
	file := writeFile(t, "# focal\naddr: 127.0.0.1:7000\ndata: /from/file\nlog_level: warn\nnats: 'nats://file:4222'\n")
	env := map[string]string{"FOCAL_CONFIG": file, "FOCAL_DATA": "/from/env", "FOCAL_ADDR": "127.0.0.1:7001"}
	c, err := load(t, []string{"--addr", "127.0.0.1:7002"}, env)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ name, got, want string }{
		{"flag-beats-env-and-file", c.Addr, "127.0.0.1:7002"},
		{"env-beats-file", c.DataDir, "/from/env"},
		{"file-beats-default", c.LogLevel, "warn"},
		{"quoted-file-value", c.NATS, "nats://file:4222"},
		{"default", c.LogFormat, "auto"},
		{"config-file-recorded", c.ConfigFile, file},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %q, want %q", tt.got, tt.want)
			}
		})
	}
}

func TestBadValuesNameTheSetting(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want []string
	}{
		{"bad-addr-flag", []string{"--addr", "nonsense"}, nil, []string{"addr", "host:port"}},
		{"bad-addr-env", nil, map[string]string{"FOCAL_ADDR": "nonsense"}, []string{"FOCAL_ADDR", "--addr"}},
		{"bad-db-env", nil, map[string]string{"FOCAL_DB": "mysql://u:pw@h/db"}, []string{"FOCAL_DB", "--db"}},
		{"bad-nats", []string{"--nats", "http://x"}, nil, []string{"nats", "nats://"}},
		{"bad-log-format", []string{"--log-format", "xml"}, nil, []string{"log-format", "json"}},
		{"bad-duration", []string{"--shutdown-timeout", "soon"}, nil, []string{"shutdown-timeout", "duration"}},
		{"bad-business-hours", nil, map[string]string{"FOCAL_BUSINESS_HOURS": "9 to 5"}, []string{"FOCAL_BUSINESS_HOURS", "time zone"}},
		{"bad-holiday", []string{"--holidays", "2026-12-25,Easter"}, nil, []string{"holidays", "Easter"}},
		{"missing-file", []string{"--config", "/no/such/focal.yaml"}, nil, []string{"/no/such/focal.yaml", "--config"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := load(t, tt.args, tt.env)
			if err == nil {
				t.Fatal("Load succeeded, want an error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "pw@") {
				t.Errorf("error %q leaks a password", err)
			}
		})
	}
}

var fileTests = []struct {
	name string
	text string
	want string // error substring; "" for success
}{
	{"ok", "addr: 127.0.0.1:1\n\n# c\nlog-format: json # trailing comment\n", ""},
	{"crlf", "addr: 127.0.0.1:1\r\n", ""},
	{"document-marker", "---\naddr: 127.0.0.1:1\n", ""},
	{"unknown-key", "addr: 127.0.0.1:1\nport: 8080\n", ":2: unknown key \"port\""},
	{"nested", "db:\n  host: x\n", ":2: nested values"},
	{"no-colon", "addr 127.0.0.1:1\n", ":1: want key: value"},
	{"repeat", "addr: a:1\naddr: b:2\n", ":2: key \"addr\" repeats line 1"},
	{"list", "nats: [a, b]\n", ":1: nats: only plain scalar"},
	{"bad-quote", "data: \"x\n", ":1: data: unterminated"},
	{"config-in-file", "config: other.yaml\n", ":1: unknown key \"config\""},
}

func TestParseFile(t *testing.T) {
	for _, tt := range fileTests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseFile("f.yaml", tt.text)
			if tt.want == "" {
				if err != nil {
					t.Errorf("parseFile(%q) = %v, want nil", tt.text, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("parseFile(%q) = %v, want error containing %q", tt.text, err, tt.want)
			}
		})
	}
}

func FuzzParseFile(f *testing.F) {
	for _, tt := range fileTests {
		f.Add(tt.text)
	}
	f.Fuzz(func(t *testing.T, text string) {
		m, err := parseFile("f.yaml", text)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "config file f.yaml:") {
				t.Errorf("error %q does not name the file and line", err)
			}
			return
		}
		for k := range m {
			if _, ok := lookup(k); !ok {
				t.Errorf("parseFile accepted unknown key %q", k)
			}
		}
	})
}

func TestRedact(t *testing.T) {
	tests := []struct{ in, want string }{
		{"postgres://u:secret@h:5432/db", "postgres://u:xxxxx@h:5432/db"},
		{"postgres://u@h/db", "postgres://u@h/db"},
		{"nats://a:b@h1:4222,nats://c:d@h2:4222", "nats://a:xxxxx@h1:4222,nats://c:xxxxx@h2:4222"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := Redact(tt.in); got != tt.want {
			t.Errorf("Redact(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// Every setting must be documented, with its flag and environment variable,
// in docs/configuration.md.
func TestSettingsDocumented(t *testing.T) {
	b, err := os.ReadFile("../../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	for _, s := range Settings {
		for _, want := range []string{"`--" + s.Name + "`", "`" + s.Env + "`"} {
			if !strings.Contains(doc, want) {
				t.Errorf("docs/configuration.md does not mention %s", want)
			}
		}
	}
}

func TestParseRelay(t *testing.T) {
	tests := []struct {
		in   string
		want Relay
		bad  bool
	}{
		{"", Relay{}, false},
		{"relay.example:587", Relay{Addr: "relay.example:587", TLS: "starttls"}, false},
		{"smtp://cert:s3cret@relay.example:587", Relay{Addr: "relay.example:587", TLS: "starttls", User: "cert", Password: "s3cret"}, false},
		{"smtp://127.0.0.1:25?tls=none", Relay{Addr: "127.0.0.1:25", TLS: "none"}, false},
		{"smtps://cert:pw@relay.example:465", Relay{Addr: "relay.example:465", TLS: "tls", User: "cert", Password: "pw"}, false},
		{"relay.example", Relay{}, true},
		{"http://relay.example:25", Relay{}, true},
		{"smtp://relay.example:25?tls=maybe", Relay{}, true},
	}
	for _, tt := range tests {
		got, err := parseRelay(tt.in)
		if (err != nil) != tt.bad || got != tt.want {
			t.Errorf("parseRelay(%q) = %+v, %v; want %+v, error %v", tt.in, got, err, tt.want, tt.bad)
		}
		if strings.Contains(got.String(), "s3cret") {
			t.Errorf("Relay.String() shows the password: %s", got)
		}
	}
}
