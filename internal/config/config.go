// Package config turns command-line flags, FOCAL_* environment variables and
// an optional config file into a Config. Precedence is flags, then
// environment, then the file, then built-in defaults. Every setting lives in
// one table (Settings), which also drives --help and is checked against
// docs/configuration.md by a test.
//
// Errors returned by Loader.Load name the setting by its flag and its
// environment variable, so an operator knows what to fix.
package config

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"net/mail"
	"net/netip"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"focal/internal/focal"
)

// Config is focal's runtime configuration. The zero value is not valid; get
// one from Default or a Loader.
type Config struct {
	Addr            string        // HTTP listen address
	DataDir         string        // embedded database, JetStream storage, keys
	DB              string        // "" = SQLite in DataDir; postgres://… = PostgreSQL
	NATS            string        // "" = embedded NATS; nats://… = external server or cluster
	LogFormat       string        // auto, text or json
	LogLevel        string        // debug, info, warn or error
	ConfigFile      string        // the file the settings were read from, if any
	ShutdownTimeout time.Duration // how long a graceful shutdown may take
	SMTPAddr        string        // SMTP listener for e-mailed reports; "" = off
	TeamName        string        // the team's domain name, e.g. cert.example
	TeamEmail       string        // the team's contact address
	BusinessHours   string        // working hours for business-hours SLA targets
	Holidays        string        // comma-separated dates off
	TrustedProxies  []netip.Prefix
	GeoIPASN        string // MMDB or ip-location-db CSV file of address → ASN
	GeoIPCountry    string // MMDB file of address → country
	RDNS            string // reverse DNS enrichment: "off", "on" or a server host:port
	SMTPRelay       Relay  // outgoing mail relay for notifications; zero = mail stays queued
	TeamKey         string // armoured OpenPGP private key file that signs notifications; "" = unsigned
	TeamKeyPass     string // its passphrase, if any (FOCAL_TEAM_KEY_PASSPHRASE)
	FeedDir         string // watched directory of feed files; "" = off
	Workers         int    // pipeline workers in this process
	IngestQueueMB   int64  // cap of the ingest stream in MiB
	TLS             string // "" = plain HTTP; "self-signed" = a CA and certificate made in DataDir; "files" = TLSCert and TLSKey
	TLSCert         string // PEM certificate chain file (with TLSKey)
	TLSKey          string // PEM private key file
}

// Relay is an outgoing SMTP relay. Password never appears in String.
type Relay struct {
	Addr     string // host:port; "" = none
	TLS      string // "starttls", "tls" (implicit) or "none"
	User     string
	Password string
}

// String renders the relay without its password.
func (r Relay) String() string {
	if r.Addr == "" {
		return ""
	}
	u := r.Addr
	if r.User != "" {
		u = r.User + "@" + u
	}
	return u + " (" + r.TLS + ")"
}

// parseRelay reads "host:port" (STARTTLS) or
// smtp://[user[:password]@]host:port[?tls=starttls|none] or
// smtps://[user[:password]@]host:port (TLS from the first byte).
func parseRelay(v string) (Relay, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return Relay{}, nil
	}
	if !strings.Contains(v, "://") {
		if _, _, err := net.SplitHostPort(v); err != nil {
			return Relay{}, fmt.Errorf("want host:port or smtp://user:password@host:port, got %q", v)
		}
		return Relay{Addr: v, TLS: "starttls"}, nil
	}
	u, err := url.Parse(v)
	if err != nil {
		return Relay{}, errors.New("not a relay URL (smtp://user:password@host:port)")
	}
	r := Relay{Addr: u.Host, TLS: "starttls"}
	switch u.Scheme {
	case "smtp":
		switch t := u.Query().Get("tls"); t {
		case "", "starttls":
		case "none":
			r.TLS = "none"
		default:
			return Relay{}, fmt.Errorf("tls=%q: want starttls or none (or use smtps:// for TLS from the start)", t)
		}
	case "smtps":
		r.TLS = "tls"
	default:
		return Relay{}, fmt.Errorf("scheme %q: want smtp or smtps", u.Scheme)
	}
	if _, _, err := net.SplitHostPort(r.Addr); err != nil {
		return Relay{}, fmt.Errorf("want a host:port in the relay URL, got %q", u.Host)
	}
	if u.User != nil {
		r.User = u.User.Username()
		r.Password, _ = u.User.Password()
	}
	return r, nil
}

// Setting describes one configuration key.
type Setting struct {
	Name    string // flag name and config-file key, e.g. "addr"
	Env     string // environment variable, e.g. "FOCAL_ADDR"
	Default string // default value as text
	Usage   string // one line for --help and the docs
	apply   func(c *Config, v string) error
}

// Settings lists every configuration key, in the order --help shows them.
// It is read-only.
var Settings = []Setting{
	{Name: "config", Env: "FOCAL_CONFIG", Usage: "read settings from this file (flat YAML: key: value)",
		apply: func(c *Config, v string) error { c.ConfigFile = v; return nil }},
	{Name: "addr", Env: "FOCAL_ADDR", Default: "127.0.0.1:8080", Usage: "HTTP listen address (host:port)",
		apply: func(c *Config, v string) error {
			if _, _, err := net.SplitHostPort(v); err != nil {
				return fmt.Errorf("want host:port, got %q", v)
			}
			c.Addr = v
			return nil
		}},
	{Name: "data", Env: "FOCAL_DATA", Default: "./focal-data", Usage: "data directory: embedded database, JetStream storage, generated keys",
		apply: func(c *Config, v string) error {
			if strings.TrimSpace(v) == "" {
				return errors.New("must not be empty")
			}
			c.DataDir = v
			return nil
		}},
	{Name: "db", Env: "FOCAL_DB", Usage: "database: empty for SQLite in the data directory, sqlite:PATH, or postgres://user@host:port/db",
		apply: func(c *Config, v string) error {
			if err := checkDB(v); err != nil {
				return err
			}
			c.DB = v
			return nil
		}},
	{Name: "nats", Env: "FOCAL_NATS", Usage: "message bus: empty for embedded NATS (no port opened), or nats://host:port[,nats://…] for a server or cluster",
		apply: func(c *Config, v string) error {
			if err := checkNATS(v); err != nil {
				return err
			}
			c.NATS = v
			return nil
		}},
	{Name: "smtp-addr", Env: "FOCAL_SMTP_ADDR", Usage: "SMTP listener for e-mailed reports and replies (host:port); empty = off",
		apply: func(c *Config, v string) error {
			if v == "" {
				c.SMTPAddr = ""
				return nil
			}
			if _, _, err := net.SplitHostPort(v); err != nil {
				return fmt.Errorf("want host:port, got %q", v)
			}
			c.SMTPAddr = v
			return nil
		}},
	{Name: "team-name", Env: "FOCAL_TEAM_NAME", Default: "focal.invalid", Usage: "the team's domain name, used to name it in exports (IODEF IncidentID@name), e.g. cert.example",
		apply: func(c *Config, v string) error {
			if strings.TrimSpace(v) == "" || strings.ContainsAny(v, " \t/@") {
				return fmt.Errorf("want a domain name such as cert.example, got %q", v)
			}
			c.TeamName = v
			return nil
		}},
	{Name: "team-email", Env: "FOCAL_TEAM_EMAIL", Usage: "the team's contact e-mail address, used in exports and notifications",
		apply: func(c *Config, v string) error {
			if v != "" {
				if _, err := mail.ParseAddress(v); err != nil || strings.ContainsAny(v, "<> ") {
					return fmt.Errorf("want a bare e-mail address, got %q", v)
				}
			}
			c.TeamEmail = v
			return nil
		}},
	{Name: "business-hours", Env: "FOCAL_BUSINESS_HOURS", Default: "Mon-Fri 09:00-17:00 UTC", Usage: "the team's working hours for business-hours SLA targets, e.g. \"Sun-Thu 08:00-16:00 Asia/Riyadh\"",
		apply: func(c *Config, v string) error {
			if _, err := focal.ParseBusinessHours(v, ""); err != nil {
				return err
			}
			c.BusinessHours = v
			return nil
		}},
	{Name: "holidays", Env: "FOCAL_HOLIDAYS", Usage: "dates the team does not work, comma-separated, e.g. 2026-12-25,2027-01-01",
		apply: func(c *Config, v string) error {
			if _, err := focal.ParseBusinessHours("Mon-Fri 09:00-17:00 UTC", v); err != nil {
				return err
			}
			c.Holidays = v
			return nil
		}},
	{Name: "trusted-proxies", Env: "FOCAL_TRUSTED_PROXIES", Usage: "reverse proxies whose X-Forwarded-For and X-Forwarded-Proto are believed, as comma-separated addresses or CIDRs",
		apply: func(c *Config, v string) error {
			c.TrustedProxies = nil
			for _, part := range strings.Split(v, ",") {
				part = strings.TrimSpace(part)
				if part == "" {
					continue
				}
				p, err := focal.ParsePrefix(part)
				if err != nil {
					return err
				}
				c.TrustedProxies = append(c.TrustedProxies, p.Masked())
			}
			return nil
		}},
	{Name: "geoip-asn", Env: "FOCAL_GEOIP_ASN", Usage: "address-to-ASN database for event enrichment: a MaxMind DB (.mmdb, e.g. GeoLite2-ASN or DB-IP ASN Lite) or an ip-location-db ASN CSV; empty = off",
		apply: func(c *Config, v string) error { c.GeoIPASN = v; return nil }},
	{Name: "geoip-country", Env: "FOCAL_GEOIP_COUNTRY", Usage: "address-to-country MaxMind DB (.mmdb, e.g. GeoLite2-Country, DB-IP Country Lite, ip-location-db) for event enrichment; empty = off",
		apply: func(c *Config, v string) error { c.GeoIPCountry = v; return nil }},
	{Name: "rdns", Env: "FOCAL_RDNS", Default: "off", Usage: "reverse DNS names for event addresses without one: off, on (the system's resolvers) or a DNS server host:port; answers are cached and never slow the pipeline",
		apply: func(c *Config, v string) error {
			v = strings.TrimSpace(v)
			if v == "" {
				v = "off"
			}
			if v != "off" && v != "on" {
				if _, _, err := net.SplitHostPort(v); err != nil {
					if _, perr := netip.ParseAddr(v); perr != nil {
						return fmt.Errorf("want off, on or a DNS server host:port, got %q", v)
					}
				}
			}
			c.RDNS = v
			return nil
		}},
	{Name: "smtp-relay", Env: "FOCAL_SMTP_RELAY", Usage: "outgoing mail relay for notifications: host:port (STARTTLS), smtp://user:password@host:port[?tls=none] or smtps://…; empty = notifications stay queued",
		apply: func(c *Config, v string) error {
			r, err := parseRelay(v)
			if err != nil {
				return err
			}
			c.SMTPRelay = r
			return nil
		}},
	{Name: "team-key", Env: "FOCAL_TEAM_KEY", Usage: "file holding the team's ASCII-armoured OpenPGP private key; notifications are then signed (PGP/MIME); empty = unsigned",
		apply: func(c *Config, v string) error { c.TeamKey = v; return nil }},
	{Name: "team-key-passphrase", Env: "FOCAL_TEAM_KEY_PASSPHRASE", Usage: "passphrase of --team-key, if it has one (prefer the environment variable: it never appears in logs or process lists)",
		apply: func(c *Config, v string) error { c.TeamKeyPass = v; return nil }},
	{Name: "tls", Env: "FOCAL_TLS", Usage: "serve HTTPS: self-signed (a CA and a certificate for localhost are created in the data directory, for demos and tests); empty = plain HTTP unless --tls-cert is set",
		apply: func(c *Config, v string) error {
			switch v {
			case "", "off":
				c.TLS = ""
			case "self-signed":
				c.TLS = v
			default:
				return fmt.Errorf("want self-signed or empty, got %q (give real certificates with --tls-cert and --tls-key)", v)
			}
			return nil
		}},
	{Name: "tls-cert", Env: "FOCAL_TLS_CERT", Usage: "PEM certificate chain file: serve HTTPS with it and --tls-key (TLS 1.2 and 1.3)",
		apply: func(c *Config, v string) error { c.TLSCert = v; return nil }},
	{Name: "tls-key", Env: "FOCAL_TLS_KEY", Usage: "PEM private key file of --tls-cert",
		apply: func(c *Config, v string) error { c.TLSKey = v; return nil }},
	{Name: "feed-dir", Env: "FOCAL_FEED_DIR", Usage: "watched directory: a file dropped into DIR/FEED-NAME/ is ingested into that feed, then moved to DIR/FEED-NAME/done/ (or failed/); empty = off",
		apply: func(c *Config, v string) error { c.FeedDir = v; return nil }},
	{Name: "workers", Env: "FOCAL_WORKERS", Default: "2", Usage: "pipeline workers in this process (0 = intake only: other processes do the work)",
		apply: func(c *Config, v string) error {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 || n > 64 {
				return fmt.Errorf("want a number from 0 to 64, got %q", v)
			}
			c.Workers = n
			return nil
		}},
	{Name: "ingest-queue-mb", Env: "FOCAL_INGEST_QUEUE_MB", Default: "128", Usage: "how many MiB of input may wait in the ingest stream; when full, intake waits and the API answers 503",
		apply: func(c *Config, v string) error {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 1 {
				return fmt.Errorf("want a positive number of MiB, got %q", v)
			}
			c.IngestQueueMB = n
			return nil
		}},
	{Name: "log-format", Env: "FOCAL_LOG_FORMAT", Default: "auto", Usage: "log format: auto (text on a terminal, else json), text or json",
		apply: func(c *Config, v string) error {
			switch v {
			case "auto", "text", "json":
				c.LogFormat = v
				return nil
			}
			return fmt.Errorf("want auto, text or json, got %q", v)
		}},
	{Name: "log-level", Env: "FOCAL_LOG_LEVEL", Default: "info", Usage: "log level: debug, info, warn or error",
		apply: func(c *Config, v string) error {
			switch v {
			case "debug", "info", "warn", "error":
				c.LogLevel = v
				return nil
			}
			return fmt.Errorf("want debug, info, warn or error, got %q", v)
		}},
	{Name: "shutdown-timeout", Env: "FOCAL_SHUTDOWN_TIMEOUT", Default: "10s", Usage: "how long a graceful shutdown may take before connections are cut",
		apply: func(c *Config, v string) error {
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 {
				return fmt.Errorf("want a positive duration such as 10s, got %q", v)
			}
			c.ShutdownTimeout = d
			return nil
		}},
}

func lookup(name string) (Setting, bool) {
	for _, s := range Settings {
		if s.Name == name {
			return s, true
		}
	}
	return Setting{}, false
}

// Default returns the configuration with every setting at its default.
func Default() Config {
	var c Config
	for _, s := range Settings {
		if s.Default == "" {
			continue
		}
		if err := s.apply(&c, s.Default); err != nil {
			panic("config: bad default for " + s.Name + ": " + err.Error()) // a programming error, caught by tests
		}
	}
	return c
}

// Loader collects the flags of one subcommand. It is not safe for
// concurrent use.
type Loader struct {
	names []string
	flags map[string]string // flags given on the command line, raw
}

// Register adds a flag for each named setting to fs (all settings when no
// name is given) and returns the Loader that Load reads them from after
// fs.Parse.
func Register(fs *flag.FlagSet, names ...string) *Loader {
	if len(names) == 0 {
		for _, s := range Settings {
			names = append(names, s.Name)
		}
	}
	l := &Loader{names: names, flags: map[string]string{}}
	for _, n := range names {
		s, ok := lookup(n)
		if !ok {
			panic("config: unknown setting " + n)
		}
		usage := s.Usage + " (env " + s.Env + ")"
		fs.Func(s.Name, usage, func(v string) error {
			var scratch Config
			if err := s.apply(&scratch, v); err != nil {
				return fmt.Errorf("%v (set --%s or %s)", err, s.Name, s.Env)
			}
			l.flags[s.Name] = v
			return nil
		})
		// flag.Func has no default to print; keep --help honest.
		if s.Default != "" {
			fs.Lookup(s.Name).DefValue = s.Default
		}
	}
	return l
}

// Load builds the Config: defaults, then the config file (from --config or
// FOCAL_CONFIG), then the environment, then the flags. getenv is usually
// os.Getenv; tests pass their own.
func (l *Loader) Load(getenv func(string) string) (Config, error) {
	c := Default()
	file := map[string]fileValue{}
	path := l.flags["config"]
	if path == "" {
		path = getenv("FOCAL_CONFIG")
	}
	if path != "" {
		var err error
		file, err = readFile(path)
		if err != nil {
			return Config{}, err
		}
		c.ConfigFile = path
	}
	for _, n := range l.names {
		s, _ := lookup(n)
		if s.Name == "config" {
			continue
		}
		var v, from string
		if fv, ok := l.flags[n]; ok {
			v, from = fv, "--"+n
		} else if ev := getenv(s.Env); ev != "" {
			v, from = ev, s.Env
		} else if fv, ok := file[n]; ok {
			v, from = fv.value, fmt.Sprintf("%s:%d (%s)", path, fv.line, n)
		} else {
			continue
		}
		if err := s.apply(&c, v); err != nil {
			return Config{}, fmt.Errorf("invalid %s: %v (set --%s or %s)", from, err, s.Name, s.Env)
		}
	}
	switch {
	case (c.TLSCert == "") != (c.TLSKey == ""):
		return Config{}, fmt.Errorf("invalid TLS settings: give both --tls-cert and --tls-key (FOCAL_TLS_CERT, FOCAL_TLS_KEY), or neither")
	case c.TLSCert != "" && c.TLS == "self-signed":
		return Config{}, fmt.Errorf("invalid TLS settings: --tls self-signed and --tls-cert exclude each other")
	case c.TLSCert != "":
		c.TLS = "files"
	}
	return c, nil
}

type fileValue struct {
	value string
	line  int
}

// readFile reads a flat YAML mapping: "key: value" lines, # comments, blank
// lines, values optionally in single or double quotes. Anything else — nested
// mappings, lists, unknown keys, repeated keys — is an error naming the line.
func readFile(path string) (map[string]fileValue, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config file: %w (set --config or FOCAL_CONFIG)", err)
	}
	if len(b) > 1<<20 {
		return nil, fmt.Errorf("config file %s: larger than 1 MiB", path)
	}
	return parseFile(path, string(b))
}

func parseFile(path, text string) (map[string]fileValue, error) {
	out := map[string]fileValue{}
	for i, line := range strings.Split(text, "\n") {
		n := i + 1
		line = strings.TrimRight(line, "\r")
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || strings.HasPrefix(trimmed, "#") || trimmed == "---" {
			continue
		}
		if line[0] == ' ' || line[0] == '\t' {
			return nil, fmt.Errorf("config file %s:%d: nested values are not supported; write key: value at the start of the line", path, n)
		}
		key, val, ok := cutKey(trimmed)
		if !ok {
			return nil, fmt.Errorf("config file %s:%d: want key: value, got %q", path, n, trimmed)
		}
		key = strings.ReplaceAll(strings.TrimSpace(key), "_", "-")
		if _, known := lookup(key); !known || key == "config" {
			return nil, fmt.Errorf("config file %s:%d: unknown key %q (known: %s)", path, n, key, strings.Join(fileKeys(), ", "))
		}
		if prev, dup := out[key]; dup {
			return nil, fmt.Errorf("config file %s:%d: key %q repeats line %d", path, n, key, prev.line)
		}
		v, err := fileScalar(strings.TrimSpace(val))
		if err != nil {
			return nil, fmt.Errorf("config file %s:%d: %s: %v", path, n, key, err)
		}
		out[key] = fileValue{value: v, line: n}
	}
	return out, nil
}

// cutKey splits "key: value" at the first colon followed by a space or the
// end of the line, as YAML does; "host:port" alone is not a key.
func cutKey(line string) (key, value string, ok bool) {
	for i := 0; i < len(line); i++ {
		if line[i] == ':' && (i+1 == len(line) || line[i+1] == ' ' || line[i+1] == '\t') {
			return line[:i], line[i+1:], true
		}
	}
	return "", "", false
}

func fileScalar(v string) (string, error) {
	if v == "" {
		return "", nil
	}
	switch v[0] {
	case '"':
		s, err := strconv.Unquote(v)
		if err != nil {
			return "", errors.New("unterminated or invalid double-quoted value")
		}
		return s, nil
	case '\'':
		if len(v) < 2 || v[len(v)-1] != '\'' {
			return "", errors.New("unterminated single-quoted value")
		}
		return strings.ReplaceAll(v[1:len(v)-1], "''", "'"), nil
	case '[', '{', '-', '|', '>', '&', '*', '!':
		if v != "-" {
			return "", fmt.Errorf("only plain scalar values are supported, got %q", v)
		}
	}
	if i := strings.Index(v, " #"); i >= 0 {
		v = strings.TrimSpace(v[:i])
	}
	return v, nil
}

func fileKeys() []string {
	var ks []string
	for _, s := range Settings {
		if s.Name != "config" {
			ks = append(ks, s.Name)
		}
	}
	sort.Strings(ks)
	return ks
}

func checkDB(v string) error {
	switch {
	case v == "":
		return nil
	case strings.HasPrefix(v, "postgres://"), strings.HasPrefix(v, "postgresql://"):
		if _, err := url.Parse(v); err != nil {
			return errors.New("not a valid postgres:// URL")
		}
		return nil
	case strings.HasPrefix(v, "sqlite:"):
		if strings.TrimPrefix(v, "sqlite:") == "" {
			return errors.New("sqlite: needs a file path, e.g. sqlite:/var/lib/focal/focal.db")
		}
		return nil
	}
	return fmt.Errorf("want empty, sqlite:PATH or postgres://…, got %q", Redact(v))
}

func checkNATS(v string) error {
	if v == "" {
		return nil
	}
	for _, u := range strings.Split(v, ",") {
		p, err := url.Parse(strings.TrimSpace(u))
		if err != nil || (p.Scheme != "nats" && p.Scheme != "tls") || p.Host == "" {
			return fmt.Errorf("want nats://host:port (comma-separated for a cluster), got %q", Redact(u))
		}
	}
	return nil
}

// Redact hides the password in a URL-shaped value, or in each URL of a
// comma-separated list (postgres://u:secret@h → postgres://u:xxxxx@h), so it
// can be logged or shown in an error.
func Redact(v string) string {
	parts := strings.Split(v, ",")
	for i, p := range parts {
		u, err := url.Parse(p)
		if err != nil || u.User == nil {
			continue
		}
		if _, has := u.User.Password(); has {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
			parts[i] = u.String()
		}
	}
	return strings.Join(parts, ",")
}
