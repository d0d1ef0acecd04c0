package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"focal/internal/auth"
	"focal/internal/cli"
	"focal/internal/focal"
	"focal/internal/orgfile"
	"focal/internal/store"
	"focal/internal/store/storetest"
)

// target is a focal data directory, and database, that commands run on.
type target struct {
	dir   string   // the data directory
	flags []string // --data, and --db for PostgreSQL
	dsn   string   // "" for SQLite in dir
}

// newTarget returns a fresh target of dialect d. PostgreSQL targets skip
// the test, naming the variable, unless FOCAL_TEST_POSTGRES_URL is set.
func newTarget(tb testing.TB, d store.Dialect) target {
	tb.Helper()
	dir := filepath.Join(tb.TempDir(), "data")
	t := target{dir: dir, flags: []string{"--data", dir}}
	if d == store.Postgres {
		t.dsn = storetest.DSN(tb, store.Postgres)
		t.flags = append(t.flags, "--db", t.dsn)
	}
	return t
}

// result is what a command did.
type result struct {
	code           int
	stdout, stderr string
}

// run runs focal with args followed by the target's flags, stdin as its
// standard input and an empty environment, so no FOCAL_* setting of the
// machine leaks in.
func (tg target) run(tb testing.TB, stdin string, args ...string) result {
	tb.Helper()
	var stdout, stderr bytes.Buffer
	env := cli.Env{Stdout: &stdout, Stderr: &stderr, Stdin: strings.NewReader(stdin), Getenv: func(string) string { return "" }}
	code := cli.Main(context.Background(), append(args, tg.flags...), env)
	return result{code, stdout.String(), stderr.String()}
}

// mustRun runs a command that must succeed.
func (tg target) mustRun(tb testing.TB, stdin string, args ...string) result {
	tb.Helper()
	r := tg.run(tb, stdin, args...)
	if r.code != 0 {
		tb.Fatalf("focal %s = exit %d, stderr %q; want 0", strings.Join(args, " "), r.code, r.stderr)
	}
	return r
}

// open opens the target's store directly, as the tests' back door.
func (tg target) open(tb testing.TB) *store.Store {
	tb.Helper()
	st, err := store.Open(context.Background(), tg.dsn, tg.dir)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := st.Close(); err != nil {
			tb.Errorf("close store: %v", err)
		}
	})
	return st
}

// checkPassword fails tb unless name's stored hash matches password.
func (tg target) checkPassword(tb testing.TB, name, password string) {
	tb.Helper()
	_, hash, err := tg.open(tb).Credentials(context.Background(), name)
	if err != nil {
		tb.Fatal(err)
	}
	if ok, _, err := auth.VerifyPassword(password, hash); !ok || err != nil {
		tb.Errorf("VerifyPassword(%q, hash of %s) = %v, %v; want true", password, name, ok, err)
	}
}

// writeFile writes content to name in a temporary directory and returns
// its path.
func writeFile(tb testing.TB, name, content string) string {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		tb.Fatal(err)
	}
	return path
}

const strongPassword = "correct horse battery"

func TestUserAddAndList(t *testing.T) {
	for _, d := range storetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			tg := newTarget(t, d)
			r := tg.mustRun(t, strongPassword+"\n", "user", "add", "--name", "alice", "--role", "coordinator", "--password-stdin")
			if want := "created user alice (role coordinator)\n"; r.stdout != want {
				t.Errorf("user add stdout = %q, want %q", r.stdout, want)
			}
			tg.checkPassword(t, "alice", strongPassword)
			tg.mustRun(t, "", "org", "import", writeFile(t, "orgs.csv", "name,sector,country,networks,asns,domains,contacts\nExample Networks,isp,FR,198.51.100.0/24,,example.net,abuse@example.net\n"))
			tg.mustRun(t, strongPassword+"\r\n", "user", "add", "--name", "carol", "--role", "constituent", "--org", "example networks", "--password-stdin")
			tg.checkPassword(t, "carol", strongPassword)

			r = tg.mustRun(t, "", "user", "list")
			lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
			if len(lines) != 3 || !strings.HasPrefix(lines[0], "NAME") ||
				strings.Join(strings.Fields(lines[1]), " ") != "alice coordinator - no never" ||
				strings.Join(strings.Fields(lines[2]), " ") != "carol constituent Example Networks no never" {
				t.Errorf("user list = %q, want a header, alice and carol", r.stdout)
			}
			r = tg.mustRun(t, "", "user", "list", "--json")
			var users []struct {
				Name, Role, Organisation string
				Disabled                 bool
			}
			if err := json.Unmarshal([]byte(r.stdout), &users); err != nil || len(users) != 2 || users[1].Organisation != "Example Networks" {
				t.Errorf("user list --json = %q (%v), want alice and carol of Example Networks", r.stdout, err)
			}
		})
	}
}

func TestUserAddRejects(t *testing.T) {
	tg := newTarget(t, store.SQLite)
	tg.mustRun(t, strongPassword, "user", "add", "--name", "dup", "--role", "handler", "--password-stdin")
	tests := []struct {
		name  string
		stdin string
		args  []string
		code  int
		want  string // in stderr
	}{
		{"weak-password", "short\n", []string{"--name", "bob", "--role", "handler", "--password-stdin"}, 2, "weak password: password must be at least 12 characters long"},
		{"common-password", "password1234\n", []string{"--name", "bob", "--role", "handler", "--password-stdin"}, 2, "too common"},
		{"empty-stdin", "", []string{"--name", "bob", "--role", "handler", "--password-stdin"}, 2, "no password on standard input"},
		{"constituent-without-org", "", []string{"--name", "bob", "--role", "constituent"}, 2, "--org is required for role constituent"},
		{"unknown-org", "", []string{"--name", "bob", "--role", "constituent", "--org", "Nowhere Ltd"}, 1, `no organisation named "Nowhere Ltd"`},
		{"org-for-staff", "", []string{"--name", "bob", "--role", "handler", "--org", "Nowhere Ltd"}, 2, "--org applies only to role constituent"},
		{"unknown-role", "", []string{"--name", "bob", "--role", "admin"}, 2, `unknown role "admin"`},
		{"bad-name", "", []string{"--name", "Bob Smith", "--role", "handler"}, 2, "--name: name: may contain only"},
		{"no-name", "", []string{"--role", "handler"}, 2, "--name and --role are required"},
		{"no-password-for-staff", "", []string{"--name", "bob", "--role", "handler", "--no-password"}, 2, "--no-password applies only to role peer"},
		{"duplicate", "", []string{"--name", "dup", "--role", "analyst"}, 1, `an account named "dup" already exists`},
		{"stray-argument", "", []string{"--name", "bob", "--role", "handler", "extra"}, 2, `unexpected argument "extra"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tg.run(t, tt.stdin, append([]string{"user", "add"}, tt.args...)...)
			if r.code != tt.code || !strings.Contains(r.stderr, tt.want) || strings.Count(r.stderr, "\n") != 1 {
				t.Errorf("user add %v = exit %d, stderr %q; want exit %d and one line with %q", tt.args, r.code, r.stderr, tt.code, tt.want)
			}
		})
	}
	r := tg.mustRun(t, "", "user", "list")
	if strings.Contains(r.stdout, "bob") {
		t.Errorf("user list after rejected adds = %q, want no bob", r.stdout)
	}
}

func TestUserGeneratedPasswordAndPeer(t *testing.T) {
	tg := newTarget(t, store.SQLite)
	r := tg.mustRun(t, "", "user", "add", "--name", "bob", "--role", "handler")
	password, ok := strings.CutPrefix(strings.Split(r.stdout, "\n")[1], "password: ")
	if !ok || auth.CheckPasswordPolicy(password) != nil || !strings.Contains(r.stderr, "shown only this once") {
		t.Fatalf("user add without a password = %q, %q; want a generated strong password shown once", r.stdout, r.stderr)
	}
	tg.checkPassword(t, "bob", password)

	tg.mustRun(t, "", "user", "add", "--name", "peer.example", "--role", "peer", "--no-password")
	if _, hash, err := tg.open(t).Credentials(context.Background(), "peer.example"); err != nil || hash != "" {
		t.Errorf("peer's password hash = %q, %v; want none", hash, err)
	}
}

func TestUserPasswdDisableEnable(t *testing.T) {
	tg := newTarget(t, store.SQLite)
	tg.mustRun(t, strongPassword, "user", "add", "--name", "bob", "--role", "analyst", "--password-stdin")
	tg.mustRun(t, "another long passphrase\n", "user", "passwd", "--name", "bob", "--password-stdin")
	tg.checkPassword(t, "bob", "another long passphrase")
	if r := tg.run(t, "tiny\n", "user", "passwd", "--name", "bob", "--password-stdin"); r.code != 2 || !strings.Contains(r.stderr, "weak password") {
		t.Errorf("user passwd with a weak password = exit %d, %q; want 2 and the reason", r.code, r.stderr)
	}
	if r := tg.run(t, strongPassword, "user", "passwd", "--name", "nobody", "--password-stdin"); r.code != 1 || !strings.Contains(r.stderr, `no user named "nobody"`) {
		t.Errorf("user passwd of an unknown user = exit %d, %q; want 1", r.code, r.stderr)
	}

	tests := []struct {
		cmd, stdout, disabled string
	}{
		{"disable", "disabled user bob\n", "yes"},
		{"disable", "user bob is already disabled\n", "yes"},
		{"enable", "enabled user bob\n", "no"},
	}
	for i, tt := range tests {
		t.Run(tt.cmd+"-"+string(rune('0'+i)), func(t *testing.T) {
			r := tg.mustRun(t, "", "user", tt.cmd, "--name", "bob")
			if r.stdout != tt.stdout {
				t.Errorf("user %s = %q, want %q", tt.cmd, r.stdout, tt.stdout)
			}
			list := tg.mustRun(t, "", "user", "list").stdout
			if f := strings.Fields(strings.Split(list, "\n")[1]); len(f) < 4 || f[3] != tt.disabled {
				t.Errorf("user list after %s = %q, want disabled %s", tt.cmd, list, tt.disabled)
			}
		})
	}
}

func TestTokenCreate(t *testing.T) {
	tg := newTarget(t, store.SQLite)
	tg.mustRun(t, "", "user", "add", "--name", "robot", "--role", "peer", "--no-password")
	r := tg.mustRun(t, "", "token", "create", "--user", "robot", "--scope", "write", "--expires", "1h", "--name", "sync")
	token := strings.TrimSuffix(r.stdout, "\n")
	if strings.Contains(token, "\n") || !strings.HasPrefix(token, auth.APITokenPrefix) || !strings.Contains(r.stderr, "shown only this once") {
		t.Fatalf("token create = %q, %q; want the token alone on stdout and a note on stderr", r.stdout, r.stderr)
	}
	u, tok, err := tg.open(t).TokenUser(context.Background(), auth.HashToken(token))
	if err != nil || u.Name != "robot" || tok.Scope != "write" || tok.Name != "sync" {
		t.Errorf("TokenUser(created token) = %v, %v, %v; want robot's write token named sync", u, tok, err)
	}

	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"unknown-user", []string{"--user", "nobody"}, 1, `no user named "nobody"`},
		{"no-user", nil, 2, "--user is required"},
		{"bad-scope", []string{"--user", "robot", "--scope", "admin"}, 2, `--scope: want read or write, got "admin"`},
		{"bad-expiry", []string{"--user", "robot", "--expires", "-1h"}, 2, "--expires"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tg.run(t, "", append([]string{"token", "create"}, tt.args...)...)
			if r.code != tt.code || !strings.Contains(r.stderr, tt.want) || r.stdout != "" {
				t.Errorf("token create %v = exit %d, %q, %q; want exit %d, %q and no token", tt.args, r.code, r.stdout, r.stderr, tt.code, tt.want)
			}
		})
	}
}

const orgsJSON = `[
  {"name": "Example Networks", "sector": "isp", "country": "FR",
   "networks": ["198.51.100.0/24", "2001:db8::/32"], "asns": [64496, "AS64497"],
   "domains": ["example.net"],
   "contacts": [{"email": "abuse@example.net", "role": "abuse", "name": "NOC", "language": "fr"}],
   "notify": {"schedule": "immediate", "language": "fr"}},
  {"name": "Example Hospital", "sector": "health", "country": "BE", "critical_infra": false,
   "networks": ["203.0.113.0/25"], "domains": ["hospital.example.com"],
   "contacts": [{"email": "cert@hospital.example.com", "role": "security"}]},
  {"name": "Example Bakery", "sector": "food", "country": "LU", "domains": ["bakery.example.org"]}
]
`

// byName reads a file and returns its organisations sorted by name, as
// the store lists them.
func byName(tb testing.TB, format, content string) []*focal.Organisation {
	tb.Helper()
	res, err := orgfile.Read(strings.NewReader(content), format)
	if err != nil || len(res.Problems) > 0 {
		tb.Fatalf("Read(%s) = %v, %v; want no problems\n%s", format, res.Problems, err, content)
	}
	orgs := res.Orgs
	for i := 1; i < len(orgs); i++ {
		for j := i; j > 0 && strings.ToLower(orgs[j].Name) < strings.ToLower(orgs[j-1].Name); j-- {
			orgs[j], orgs[j-1] = orgs[j-1], orgs[j]
		}
	}
	return orgs
}

func TestOrgImportExportRoundTrip(t *testing.T) {
	for _, d := range storetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			tg := newTarget(t, d)
			in := writeFile(t, "orgs.json", orgsJSON)
			r := tg.mustRun(t, "", "org", "import", in)
			if r.stdout != "imported: 3 created, 0 updated, 0 skipped\n" {
				t.Errorf("org import = %q, want 3 created", r.stdout)
			}
			want := byName(t, orgfile.JSON, orgsJSON)
			r = tg.mustRun(t, "", "org", "export")
			if got := byName(t, orgfile.JSON, r.stdout); !reflect.DeepEqual(got, want) {
				t.Errorf("org export = %s, want the imported %s", r.stdout, orgsJSON)
			}

			out := filepath.Join(t.TempDir(), "orgs.csv")
			tg.mustRun(t, "", "org", "export", "--out", out)
			b, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			got := byName(t, orgfile.CSV, string(b))
			for _, o := range want { // what CSV does not carry
				for i := range o.Contacts {
					o.Contacts[i].Name, o.Contacts[i].Language = "", ""
				}
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("org export --out orgs.csv = %s, want the imported organisations", b)
			}

			// Importing the export again changes nothing.
			r = tg.mustRun(t, "", "org", "import", out)
			if r.stdout != "imported: 0 created, 0 updated, 3 skipped\n" || strings.Count(r.stderr, "skipped") != 3 {
				t.Errorf("org import of the export = %q, %q; want 3 skipped with a note each", r.stdout, r.stderr)
			}
			r = tg.mustRun(t, "", "org", "list")
			if lines := strings.Split(strings.TrimSpace(r.stdout), "\n"); len(lines) != 4 ||
				strings.Join(strings.Fields(lines[3]), " ") != "Example Networks isp FR 2 1" {
				t.Errorf("org list = %q, want 3 organisations, Example Networks last with 2 networks and 1 domain", r.stdout)
			}
		})
	}
}

const badCSV = `name,sector,country,networks,asns,domains,contacts
Example Networks,isp,FR,198.51.100.0/24,AS64496,example.net,abuse:abuse@example.net
Example Bank,banking,FR,198.51.100.0/33,,example.com,security:soc@example.com
Example Hospital,health,BE,203.0.113.0/25,,hospital.example.com,cert@hospital.example.com
`

func TestOrgImportProblems(t *testing.T) {
	tg := newTarget(t, store.SQLite)
	in := writeFile(t, "bad.csv", badCSV)
	r := tg.run(t, "", "org", "import", in)
	wantProblem := in + `:3: networks: not a network in CIDR form: "198.51.100.0/33"`
	if r.code != 1 || !strings.Contains(r.stderr, wantProblem+"\n") ||
		!strings.HasSuffix(r.stderr, "1 problem; nothing imported (use --partial to import the valid records)\n") {
		t.Errorf("org import bad.csv = exit %d, %q; want 1, the problem on line 3 and nothing imported", r.code, r.stderr)
	}
	if r := tg.mustRun(t, "", "org", "export"); r.stdout != "[]\n" {
		t.Errorf("org export after a refused import = %q, want []", r.stdout)
	}

	r = tg.mustRun(t, "", "org", "import", "--partial", in)
	if r.stdout != "imported: 2 created, 0 updated, 0 skipped\n" || !strings.Contains(r.stderr, wantProblem) {
		t.Errorf("org import --partial bad.csv = %q, %q; want 2 created and the problem", r.stdout, r.stderr)
	}
	names := tg.mustRun(t, "", "org", "list").stdout
	if !strings.Contains(names, "Example Networks") || !strings.Contains(names, "Example Hospital") || strings.Contains(names, "Example Bank") {
		t.Errorf("org list after --partial = %q, want the two good ones", names)
	}

	// Nothing left to import: the good ones exist, the bad one is bad.
	r = tg.run(t, "", "org", "import", "--partial", in)
	if r.code != 1 || !strings.Contains(r.stderr, "nothing imported") {
		t.Errorf("org import --partial again = exit %d, %q; want 1, nothing imported", r.code, r.stderr)
	}
}

func TestOrgImportReplace(t *testing.T) {
	tg := newTarget(t, store.SQLite)
	tg.mustRun(t, "", "org", "import", writeFile(t, "orgs.json", orgsJSON))
	st := tg.open(t)
	ctx := focal.NewContextWithPrincipal(context.Background(), focal.System())
	before, err := st.OrganisationByName(ctx, "Example Bakery")
	if err != nil {
		t.Fatal(err)
	}
	changed := `[{"name": "example bakery", "sector": "food", "country": "LU", "domains": ["bread.example.org"]}]`
	r := tg.mustRun(t, changed, "org", "import", "--format", "json", "--replace", "-")
	if r.stdout != "imported: 0 created, 1 updated, 0 skipped\n" {
		t.Errorf("org import --replace = %q, want 1 updated", r.stdout)
	}
	after, err := st.OrganisationByName(ctx, "Example Bakery")
	if err != nil || after.ID != before.ID || after.Domains[0] != "bread.example.org" {
		t.Errorf("after --replace = %+v, %v; want id %d with domain bread.example.org", after, err, before.ID)
	}
}

func TestOrgImportUsage(t *testing.T) {
	tg := newTarget(t, store.SQLite)
	tests := []struct {
		name  string
		stdin string
		args  []string
		code  int
		want  string
	}{
		{"no-file", "", nil, 2, "want one FILE"},
		{"two-files", "", []string{"a.json", "b.json"}, 2, "want one FILE"},
		{"unknown-extension", "", []string{"orgs.txt"}, 2, `cannot tell the format of "orgs.txt"`},
		{"bad-format", "", []string{"--format", "xml", "orgs.json"}, 2, `--format: want json or csv, got "xml"`},
		{"stdin-without-format", "[]", []string{"-"}, 2, "--format is required"},
		{"missing-file", "", []string{filepath.Join(t.TempDir(), "none.json")}, 1, "no such file"},
		{"not-an-array", `{"name": "x"}`, []string{"--format", "json", "-"}, 1, "<stdin>: line 1: want a JSON array"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tg.run(t, tt.stdin, append([]string{"org", "import"}, tt.args...)...)
			if r.code != tt.code || !strings.Contains(r.stderr, tt.want) {
				t.Errorf("org import %v = exit %d, %q; want exit %d with %q", tt.args, r.code, r.stderr, tt.code, tt.want)
			}
		})
	}
}

func TestAuditVerify(t *testing.T) {
	tg := newTarget(t, store.SQLite)
	tg.mustRun(t, strongPassword, "user", "add", "--name", "alice", "--role", "coordinator", "--password-stdin")
	tg.mustRun(t, "", "org", "import", writeFile(t, "orgs.json", orgsJSON))
	r := tg.mustRun(t, "", "audit", "verify")
	if !strings.HasPrefix(r.stdout, "audit log: 4 records, head ") || strings.Count(r.stdout, "\n") != 1 {
		t.Errorf("audit verify on an intact log = %q, want 4 records and no problem", r.stdout)
	}

	err := tg.open(t).WithTx(context.Background(), func(tx *store.Tx) error {
		_, err := tx.ExecContext(context.Background(), "UPDATE audit_log SET actor = 'mallory' WHERE id = 2")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	r = tg.run(t, "", "audit", "verify")
	if r.code == 0 || !strings.Contains(r.stderr, "record 2") || strings.Count(r.stderr, "\n") != 1 ||
		!strings.Contains(r.stdout, "record 2: contents do not match") {
		t.Errorf("audit verify after an edit = exit %d, %q, %q; want non-zero naming record 2", r.code, r.stdout, r.stderr)
	}
}

func TestHelp(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"user", "--help"}, "passwd"},
		{[]string{"user", "add", "--help"}, "-password-stdin"},
		{[]string{"token", "create", "-h"}, "-scope"},
		{[]string{"org", "--help"}, "import"},
		{[]string{"org", "import", "--help"}, "-partial"},
		{[]string{"org", "export", "--help"}, "-out"},
		{[]string{"audit", "help"}, "verify"},
		{[]string{"audit", "verify", "--help"}, "-data"},
		{[]string{"help"}, "token"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, "_"), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := cli.Main(context.Background(), tt.args, cli.Env{Stdout: &stdout, Stderr: &stderr, Getenv: func(string) string { return "" }})
			if code != 0 || !strings.Contains(stdout.String(), tt.want) {
				t.Errorf("focal %v = exit %d, %q, %q; want 0 and %q", tt.args, code, stdout.String(), stderr.String(), tt.want)
			}
		})
	}
	for _, args := range [][]string{{"user"}, {"user", "frob"}, {"org", "--frob"}} {
		t.Run(strings.Join(args, "_"), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := cli.Main(context.Background(), args, cli.Env{Stdout: &stdout, Stderr: &stderr, Getenv: func(string) string { return "" }})
			if code != 2 || !strings.Contains(stderr.String(), "subcommand") {
				t.Errorf("focal %v = exit %d, %q; want 2 asking for a subcommand", args, code, stderr.String())
			}
		})
	}
}
