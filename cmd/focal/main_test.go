package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"focal/internal/app"
	"focal/internal/cli"
	"focal/internal/config"
	"focal/internal/store"
	"focal/internal/store/storetest"
)

// TestMain lets tests run this package's main() in a child process: with
// FOCAL_TEST_RUN_MAIN=1 the test binary behaves as the focal binary.
func TestMain(m *testing.M) {
	if os.Getenv("FOCAL_TEST_RUN_MAIN") == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// MustRunApp starts an App on 127.0.0.1:0 with cfg's data directory in a
// temp dir, and closes it when the test ends.
func MustRunApp(tb testing.TB, mutate func(*config.Config)) *app.App {
	tb.Helper()
	cfg := config.Default()
	cfg.Addr = "127.0.0.1:0"
	cfg.DataDir = filepath.Join(tb.TempDir(), "data")
	if mutate != nil {
		mutate(&cfg)
	}
	a := app.New(cfg, cli.NewLogger(io.Discard, "json", "error"))
	if err := a.Run(context.Background()); err != nil {
		tb.Fatalf("Run: %v", err)
	}
	tb.Cleanup(func() {
		if err := a.Close(); err != nil {
			tb.Errorf("Close: %v", err)
		}
	})
	return a
}

func get(tb testing.TB, url string) (int, string) {
	tb.Helper()
	resp, err := http.Get(url)
	if err != nil {
		tb.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatalf("GET %s: read: %v", url, err)
	}
	return resp.StatusCode, string(b)
}

func checkServing(t *testing.T, base string) {
	t.Helper()
	tests := []struct {
		path string
		want []string
	}{
		{"/healthz", []string{`"status":"ok"`}},
		{"/readyz", []string{`"database":"ok"`, `"bus":"ok"`, `"status":"ok"`}},
		{"/metrics", []string{"focal_build_info", "go_goroutines", "process_resident_memory_bytes", `focal_http_requests_total{code="200",method="GET",route="GET /healthz"}`}},
	}
	for _, tt := range tests {
		t.Run(strings.TrimPrefix(tt.path, "/"), func(t *testing.T) {
			code, body := get(t, base+tt.path)
			if code != http.StatusOK {
				t.Fatalf("GET %s = %d %s, want 200", tt.path, code, body)
			}
			for _, w := range tt.want {
				if !strings.Contains(body, w) {
					t.Errorf("GET %s body lacks %q", tt.path, w)
				}
			}
		})
	}
}

func TestServeEmbedded(t *testing.T) {
	a := MustRunApp(t, nil)
	checkServing(t, a.URL())
	code, _ := get(t, a.URL()+"/no-such-page")
	if code != http.StatusNotFound {
		t.Errorf("GET /no-such-page = %d, want 404", code)
	}
	if _, err := os.Stat(filepath.Join(a.Config.DataDir, "focal.db")); err != nil {
		t.Errorf("embedded database not in the data dir: %v", err)
	}
	if _, err := os.Stat(filepath.Join(a.Config.DataDir, "nats")); err != nil {
		t.Errorf("embedded JetStream storage not in the data dir: %v", err)
	}
}

// The same App against the real PostgreSQL and NATS servers.
func TestServeExternal(t *testing.T) {
	natsURL := os.Getenv("FOCAL_TEST_NATS_URL")
	if natsURL == "" {
		storetest.Missing(t, "FOCAL_TEST_NATS_URL not set: skipping serve against an external NATS server")
	}
	dsn := storetest.DSN(t, store.Postgres)
	a := MustRunApp(t, func(c *config.Config) { c.DB, c.NATS = dsn, natsURL })
	if a.Bus.Embedded() || a.Store.Dialect() != store.Postgres {
		t.Fatalf("bus embedded = %v, store = %s; want external NATS and PostgreSQL", a.Bus.Embedded(), a.Store.Dialect())
	}
	checkServing(t, a.URL())
}

func TestReadyzReportsFailedDependency(t *testing.T) {
	a := MustRunApp(t, nil)
	if err := a.Bus.Close(); err != nil {
		t.Fatal(err)
	}
	code, body := get(t, a.URL()+"/readyz")
	if code != http.StatusServiceUnavailable {
		t.Fatalf("GET /readyz with the bus closed = %d, want 503", code)
	}
	var got struct {
		Status string            `json:"status"`
		Checks map[string]string `json:"checks"`
	}
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatalf("readyz body %q: %v", body, err)
	}
	if got.Status != "unavailable" || got.Checks["database"] != "ok" || !strings.HasPrefix(got.Checks["bus"], "unavailable") {
		t.Errorf("readyz body = %+v, want bus unavailable and database ok", got)
	}
	if code, _ := get(t, a.URL()+"/healthz"); code != http.StatusOK {
		t.Errorf("GET /healthz = %d, want 200 while the process is up", code)
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// The real binary (this test binary running main) starts, serves, and
// stops cleanly and promptly on SIGTERM and SIGINT.
func TestSignalShutdown(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			addr := freeAddr(t)
			cmd := exec.Command(os.Args[0], "serve", "--addr", addr, "--data", filepath.Join(t.TempDir(), "d"), "--log-format", "json")
			cmd.Env = append(os.Environ(), "FOCAL_TEST_RUN_MAIN=1", "FOCAL_DB=", "FOCAL_NATS=")
			stderr, err := cmd.StderrPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			logs := make(chan []string, 1)
			go func() {
				var lines []string
				sc := bufio.NewScanner(stderr)
				for sc.Scan() {
					lines = append(lines, sc.Text())
				}
				logs <- lines
			}()
			waitReady(t, "http://"+addr)
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("focal serve exited with %v after %s, want 0", err, sig)
				}
			case <-time.After(10 * time.Second):
				_ = cmd.Process.Kill() // the test has failed; do not leak the child
				t.Fatalf("focal serve did not stop within 10 s of %s", sig)
			}
			lines := <-logs
			for _, l := range lines {
				var rec map[string]any
				if err := json.Unmarshal([]byte(l), &rec); err != nil {
					t.Errorf("log line is not JSON with --log-format json: %q", l)
				}
			}
			if !strings.Contains(strings.Join(lines, "\n"), "shutting down") {
				t.Errorf("logs lack the shutdown message: %q", lines)
			}
		})
	}
}

func waitReady(t *testing.T, base string) {
	t.Helper()
	// Generous: the demo seeds its data set (incidents, advisories signed
	// and validated, assessments) before it is ready, and CI runs it under
	// the race detector on a busy machine.
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s/readyz not 200 within 90 s", base)
}

// run executes the focal binary (this test binary) with args and returns
// its exit code and stderr.
func run(t *testing.T, env []string, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(append(os.Environ(), "FOCAL_TEST_RUN_MAIN=1"), env...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode(), stderr.String()
	}
	if err != nil {
		t.Fatal(err)
	}
	return 0, stderr.String()
}

func TestExitCodesAndOneLineErrors(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	data := "--data=" + filepath.Join(t.TempDir(), "d")
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	tests := []struct {
		name string
		env  []string
		args []string
		code int
		want []string
	}{
		{"unknown-flag", nil, []string{"serve", "--bogus"}, 2, []string{"bogus"}},
		{"unknown-command", nil, []string{"frobnicate"}, 2, []string{"frobnicate"}},
		{"bad-addr", nil, []string{"serve", "--addr", "x"}, 2, []string{"--addr", "FOCAL_ADDR"}},
		{"unreachable-db", nil, []string{"serve", data, "--addr", "127.0.0.1:0", "--db", "postgres://focal:pw@127.0.0.1:1/x?connect_timeout=2"}, 1, []string{"--db", "FOCAL_DB", "127.0.0.1:1"}},
		{"unreachable-nats", nil, []string{"serve", data, "--addr", "127.0.0.1:0", "--nats", "nats://127.0.0.1:1"}, 1, []string{"--nats", "FOCAL_NATS", "127.0.0.1:1"}},
		{"data-not-writable", nil, []string{"serve", "--addr", "127.0.0.1:0", "--data", filepath.Join(file, "sub")}, 1, []string{"--data", "FOCAL_DATA"}},
		{"env-bad-log-level", []string{"FOCAL_LOG_LEVEL=loud"}, []string{"migrate", data}, 0, nil}, // migrate does not read log-level
		{"env-bad-db", []string{"FOCAL_DB=mysql://x"}, []string{"migrate", data}, 2, []string{"FOCAL_DB"}},
		{"addr-in-use", nil, []string{"serve", data, "--addr", busy.Addr().String()}, 1, []string{"--addr", "address already in use"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stderr := run(t, append([]string{"FOCAL_DB=", "FOCAL_NATS="}, tt.env...), tt.args...)
			if code != tt.code {
				t.Fatalf("focal %v exited %d, want %d; stderr:\n%s", tt.args, code, tt.code, stderr)
			}
			if tt.code == 0 {
				return
			}
			// Logs may precede it; the error itself is exactly one line.
			var errLines []string
			for _, l := range strings.Split(strings.TrimSpace(stderr), "\n") {
				if strings.HasPrefix(l, "focal") {
					errLines = append(errLines, l)
				} else if !strings.HasPrefix(l, "{") {
					t.Errorf("stderr line is neither a JSON log record nor the error: %q", l)
				}
			}
			if len(errLines) != 1 {
				t.Errorf("stderr has %d error lines, want one:\n%s", len(errLines), stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr %q lacks %q", stderr, w)
				}
			}
			if strings.Contains(stderr, "goroutine ") || strings.Contains(stderr, "pw@") {
				t.Errorf("stderr shows a stack trace or a password: %q", stderr)
			}
		})
	}
}

func TestEveryCommandHasHelp(t *testing.T) {
	for _, c := range []string{"serve", "demo", "migrate", "version", "bench", "bench store", "bench bus", "bench start", "user", "user add", "user list", "token create", "org import", "org export", "audit verify"} {
		t.Run(strings.ReplaceAll(c, " ", "-"), func(t *testing.T) {
			args := append(strings.Fields(c), "--help")
			cmd := exec.Command(os.Args[0], args...)
			cmd.Env = append(os.Environ(), "FOCAL_TEST_RUN_MAIN=1")
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("focal %s --help: %v", c, err)
			}
			if !strings.Contains(string(out), "Usage: focal") {
				t.Errorf("focal %s --help printed %q, want a usage text", c, out)
			}
		})
	}
}

func TestMigrateCommand(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "d")
	for i, want := range []string{"applied 0001_init.sql", "schema version"} {
		cmd := exec.Command(os.Args[0], "migrate", "--data", dir)
		cmd.Env = append(os.Environ(), "FOCAL_TEST_RUN_MAIN=1", "FOCAL_DB=")
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("migrate run %d: %v", i+1, err)
		}
		if !strings.Contains(string(out), want) {
			t.Errorf("migrate run %d printed %q, want %q", i+1, out, want)
		}
		if i == 1 && strings.Contains(string(out), "applied") {
			t.Errorf("second migrate applied something: %q", out)
		}
	}
}

// demo refuses to wipe a directory it did not make, and starts fresh in
// one it did.
func TestDemoDataDir(t *testing.T) {
	foreign := t.TempDir()
	if err := os.WriteFile(filepath.Join(foreign, "precious.txt"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, stderr := run(t, nil, "demo", "--addr", "127.0.0.1:0", "--data", foreign)
	if code != 2 || !strings.Contains(stderr, "not made by focal demo") {
		t.Fatalf("demo in a foreign dir: exit %d, stderr %q; want 2 and a refusal", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(foreign, "precious.txt")); err != nil {
		t.Fatalf("demo touched a foreign directory: %v", err)
	}

	dir := filepath.Join(t.TempDir(), "demo")
	for round := 1; round <= 2; round++ {
		addr := freeAddr(t)
		cmd := exec.Command(os.Args[0], "demo", "--addr", addr, "--data", dir)
		cmd.Env = append(os.Environ(), "FOCAL_TEST_RUN_MAIN=1")
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		banner := make(chan string, 1)
		go func() {
			b, _ := io.ReadAll(stdout) // read until the child exits; an error just ends the text
			banner <- string(b)
		}()
		waitReady(t, "http://"+addr)
		if round == 1 {
			if err := os.WriteFile(filepath.Join(dir, "leftover"), nil, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		if err := cmd.Wait(); err != nil {
			t.Fatalf("demo round %d exited with %v", round, err)
		}
		if text := <-banner; !strings.Contains(text, "http://"+addr+"/") {
			t.Errorf("demo banner %q lacks the URL", text)
		}
		if round == 2 {
			if _, err := os.Stat(filepath.Join(dir, "leftover")); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("demo did not start fresh: leftover file still there (%v)", err)
			}
		}
	}
}
