package cli

import (
	"bytes"
	"context"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"focal/internal/csaf"
)

func runKeysCmd(t *testing.T, dir string, getenv map[string]string, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	env := Env{Stdout: &out, Stderr: &errOut, Stdin: strings.NewReader(""), Getenv: func(k string) string { return getenv[k] }}
	fs := flag.NewFlagSet("keys", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	err := runKeys(context.Background(), env, fs, append(args, "--data", dir))
	return out.String(), err
}

// TestKeysInit creates the team key (0600, passphrase from the
// environment), refuses to overwrite it, shows it, and imports a key.
func TestKeysInit(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"FOCAL_TEAM_KEY_PASSPHRASE": "pw"}
	fpr, err := runKeysCmd(t, dir, env, "init", "--name", "CERT-EX", "--email", "cert@example.org")
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "keys", "team.asc")
	st, err := os.Stat(p)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file %v, mode %v", err, st.Mode())
	}
	s, err := csaf.LoadTeamKey("", dir, "pw")
	if err != nil || s == nil || s.Fingerprint() != strings.TrimSpace(fpr) {
		t.Fatalf("LoadTeamKey = %v, %v", s, err)
	}
	if _, err := csaf.LoadTeamKey("", dir, ""); err == nil {
		t.Error("LoadTeamKey without the passphrase succeeded")
	}
	if _, err := runKeysCmd(t, dir, env, "init", "--name", "CERT-EX", "--email", "cert@example.org"); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Errorf("second init = %v, want refusal", err)
	}
	out, err := runKeysCmd(t, dir, env, "show")
	if err != nil || !strings.Contains(out, "BEGIN PGP PUBLIC KEY BLOCK") {
		t.Errorf("show = %q, %v", out, err)
	}
	if _, err := runKeysCmd(t, dir, env, "init"); !isUsage(err) {
		t.Errorf("init without a name = %v, want usage", err)
	}
	// Import another key over it.
	priv, _, fpr2, err := csaf.GenerateKey("Other", "o@example.org", "", 0)
	if err != nil {
		t.Fatal(err)
	}
	kf := filepath.Join(t.TempDir(), "k.asc")
	if err := os.WriteFile(kf, priv, 0o600); err != nil {
		t.Fatal(err)
	}
	if got, err := runKeysCmd(t, dir, nil, "import", "--file", kf, "--force"); err != nil || strings.TrimSpace(got) != fpr2 {
		t.Errorf("import = %q, %v", got, err)
	}
	if s, err := csaf.LoadTeamKey("", dir, ""); err != nil || s.Fingerprint() != fpr2 {
		t.Errorf("after import: %v", err)
	}
}
