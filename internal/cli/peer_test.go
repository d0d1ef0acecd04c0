package cli

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"focal/internal/focal"
	"focal/internal/store"
)

// runPeerCmd runs `focal peer args… --data dir` (runPeer directly, so the
// test does not depend on its registration in commands()).
func runPeerCmd(t *testing.T, dir, stdin string, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	env := Env{Stdout: &out, Stderr: io.Discard, Stdin: strings.NewReader(stdin), Getenv: func(string) string { return "" }}
	fs := flag.NewFlagSet("focal peer", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	err := runPeer(context.Background(), env, fs, append(args, "--data", dir))
	return out.String(), err
}

func TestPeerCommands(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	mustPeer := func(stdin string, args ...string) string {
		t.Helper()
		out, err := runPeerCmd(t, dir, stdin, args...)
		if err != nil {
			t.Fatalf("focal peer %s: %v", strings.Join(args, " "), err)
		}
		return out
	}
	mustPeer("", "add", "--name", "node-b", "--url", "https://b.example/taxii2/focal/", "--collection", "91a7b528-80eb-42ed-a74d-c6fbd5a26116",
		"--token", "tok-secret", "--account", "node-b", "--interval", "5s")
	mustPeer("stdin-token\n", "add", "--name", "node-d", "--url", "https://d.example/taxii2/focal/", "--collection", "c", "--token-stdin")
	mustPeer("basic-pw\n", "add", "--name", "node-c", "--url", "https://c.example/taxii2/focal/", "--collection", "indicators",
		"--user", "me", "--password-stdin")
	for _, bad := range [][]string{
		{"add", "--name", "x", "--url", "https://x.example/", "--collection", "c", "--token", "t", "--user", "u"},
		{"add", "--name", "x", "--url", "ftp://x.example/", "--collection", "c"},
		{"add", "--name", "x", "--url", "https://x.example/", "--collection", "c", "--interval", "100ms"},
		{"add", "--name", "x", "--url", "https://x.example/", "--collection", "c", "--user", "u"},
	} {
		if _, err := runPeerCmd(t, dir, "", bad...); !isUsage(err) {
			t.Errorf("focal peer %s = %v, want a usage error", strings.Join(bad, " "), err)
		}
	}
	out := mustPeer("", "list")
	if !strings.Contains(out, "node-b") || !strings.Contains(out, "node-c") || !strings.Contains(out, "never") || strings.Contains(out, "tok-secret") {
		t.Errorf("peer list = %q, want both peers, health never, no secret", out)
	}
	if out := mustPeer("", "list", "--json"); strings.Contains(out, "basic-pw") || !strings.Contains(out, `"secret": "(set)"`) {
		t.Errorf("peer list --json = %q, want the secret shown as (set) only", out)
	}
	mustPeer("", "poll", "--name", "node-b")
	mustPeer("", "remove", "--name", "node-c")
	if _, err := runPeerCmd(t, dir, "", "poll", "--name", "node-c"); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Errorf("poll of a removed peer = %v, want not found", err)
	}

	st, err := store.Open(context.Background(), "", dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	p, err := st.PeerByName(focal.NewContextWithPrincipal(context.Background(), focal.System()), "node-b")
	if err != nil {
		t.Fatal(err)
	}
	if p.Auth != store.PeerAuthBearer || p.PollInterval != 5*time.Second || p.Account != "node-b" || !p.HasSecret || p.NextPollAt.After(time.Now()) {
		t.Errorf("stored peer = %+v, want bearer, 5s, account node-b, a secret, due now", p)
	}
}

func isUsage(err error) bool { return errors.As(err, new(usageError)) }
