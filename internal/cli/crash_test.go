package cli

import (
	"bufio"
	"context"
	"crypto/rand"
	"math/big"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"focal/internal/feed/shadowserver"
	"focal/internal/focal"
	"focal/internal/store"
	"focal/internal/store/storetest"
)

// childEnv makes the test binary run focal's command line instead of the
// tests: the crash and multi-process tests start real focal processes
// this way, without building a binary.
const childEnv = "FOCAL_TEST_CHILD_ARGS"

func TestMain(m *testing.M) {
	if args := os.Getenv(childEnv); args != "" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		code := Main(ctx, strings.Split(args, "\x1f"), Env{Stdout: os.Stdout, Stderr: os.Stderr})
		stop()
		os.Exit(code)
	}
	code := m.Run()
	if builtExe != "" {
		os.RemoveAll(filepath.Dir(builtExe))
	}
	os.Exit(code)
}

var (
	buildOnce sync.Once
	builtExe  string // a focal binary built for the child processes, or ""
)

// child returns a command running `focal args…` in a new process: a focal
// binary built once for the test run (so that a -race test run does not
// make the children ten times slower), or, when the go tool is not at
// hand, this test binary re-executed as focal.
func child(t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	buildOnce.Do(func() {
		goTool, err := exec.LookPath("go")
		if err != nil {
			return
		}
		dir, err := os.MkdirTemp("", "focal-child-")
		if err != nil {
			return
		}
		exe := filepath.Join(dir, "focal")
		cmd := exec.Command(goTool, "build", "-o", exe, "focal/cmd/focal")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Logf("building focal for child processes failed, re-executing the test binary instead: %v\n%s", err, out)
			return
		}
		builtExe = exe
	})
	if builtExe != "" {
		return exec.Command(builtExe, args...)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+strings.Join(args, "\x1f"))
	return cmd
}

// crashInput writes a 1,000,000-row scan_smb report and returns its path
// and the number of distinct (address, port, UTC day) keys — the rows
// aggregation must leave.
func crashInput(t *testing.T, rows int) (string, int) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "2024-09-01-scan_smb-crash.csv")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	if err := shadowserver.WriteScanSMB(w, rows, false); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Seek(0, 0); err != nil {
		t.Fatal(err)
	}
	keys := map[string]bool{}
	sc := bufio.NewScanner(f)
	sc.Scan() // header
	for sc.Scan() {
		cols := strings.SplitN(sc.Text(), ",", 5)
		keys[cols[1]+"|"+cols[3]+"|"+cols[0][:10]] = true
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	return path, len(keys)
}

// TestCrashIngest kills `focal ingest` with SIGKILL at a random point of a
// 1,000,000-event input, runs it again, and checks the store holds
// exactly the input: every sighting counted once, none lost, none twice.
func TestCrashIngest(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test skipped in -short mode")
	}
	const rows = 1_000_000
	path, keys := crashInput(t, rows)
	for _, su := range []struct {
		name     string
		dialect  store.Dialect
		external bool
	}{{"sqlite+embedded-nats", store.SQLite, false}, {"postgres+external-nats", store.Postgres, true}} {
		t.Run(su.name, func(t *testing.T) {
			dsn := storetest.DSN(t, su.dialect)
			args := []string{"ingest", "--data", t.TempDir(), "--db", dsn, "--format", "shadowserver", "--feed", "crash",
				"--option", "report=scan_smb", "--progress", "off"}
			if su.external {
				u := os.Getenv("FOCAL_TEST_NATS_URL")
				if u == "" {
					storetest.Missing(t, "FOCAL_TEST_NATS_URL not set: skipping the crash test against an external NATS server")
				}
				args = append(args, "--nats", u)
			}
			args = append(args, path)

			// First run: killed at a random point.
			n, _ := rand.Int(rand.Reader, big.NewInt(2500))
			killAfter := 300*time.Millisecond + time.Duration(n.Int64())*time.Millisecond
			cmd := child(t, args...)
			var out strings.Builder
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case err := <-done:
				t.Logf("first run finished before the kill at %v (%v): %s", killAfter, err, out.String())
			case <-time.After(killAfter):
				if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
					t.Fatal(err)
				}
				<-done
				t.Logf("killed the first run after %v", killAfter)
			}

			// Second run: the same command resumes the same run.
			cmd = child(t, args...)
			res, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("second run: %v\n%s", err, res)
			}
			t.Logf("second run: %s", strings.TrimSpace(string(res)))

			s, err := store.Open(context.Background(), dsn, t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			events, sightings, err := s.CountEvents(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if sightings != rows || events != int64(keys) {
				t.Errorf("store holds %d events with %d sightings; the input has %d rows folding into %d events", events, sightings, rows, keys)
			}
			ctx := focal.NewContextWithPrincipal(context.Background(), focal.System())
			runs, err := s.Runs(ctx, 0, 10)
			if err != nil {
				t.Fatal(err)
			}
			if len(runs) != 1 || runs[0].State != focal.RunDone || runs[0].Events != rows || runs[0].Lines != rows || runs[0].Problems != 0 {
				for _, r := range runs {
					t.Logf("run %+v", *r)
				}
				t.Errorf("want one completed run of %d lines and events, no problems", rows)
			}
			if t.Failed() {
				t.Logf("first run output: %s", out.String())
			}
		})
	}
}

// TestTwoProcessesShareWork starts two `focal serve` processes on one
// PostgreSQL database and one NATS server, feeds a report with an
// intake-only `focal ingest --workers 0`, and checks that both processes
// committed chunks and that the store holds exactly the input.
func TestTwoProcessesShareWork(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-process test skipped in -short mode")
	}
	natsURL := os.Getenv("FOCAL_TEST_NATS_URL")
	if natsURL == "" {
		storetest.Missing(t, "FOCAL_TEST_NATS_URL not set: skipping the multi-process test")
	}
	const rows = 300_000
	path, keys := crashInput(t, rows)
	dsn := storetest.DSN(t, store.Postgres)
	// Migrate first, so the servers do not race for it (they would wait
	// on the advisory lock; this keeps the test's timing simple).
	if out, err := child(t, "migrate", "--db", dsn, "--data", t.TempDir()).CombinedOutput(); err != nil {
		t.Fatalf("migrate: %v\n%s", err, out)
	}
	for i := range 2 {
		cmd := child(t, "serve", "--db", dsn, "--nats", natsURL, "--data", t.TempDir(), "--addr", "127.0.0.1:0", "--workers", "2", "--log-format", "text")
		var out strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			cmd.Process.Signal(syscall.SIGKILL) //nolint:errcheck // the test is over
			cmd.Wait()                          //nolint:errcheck // killed
			if t.Failed() {
				t.Logf("serve %d output:\n%s", i, out.String())
			}
		})
	}
	res, err := child(t, "ingest", "--db", dsn, "--nats", natsURL, "--data", t.TempDir(), "--workers", "0", "--format", "shadowserver",
		"--feed", "shared", "--option", "report=scan_smb", "--progress", "off", path).CombinedOutput()
	if err != nil {
		t.Fatalf("ingest: %v\n%s", err, res)
	}
	t.Logf("ingest: %s", strings.TrimSpace(string(res)))
	s, err := store.Open(context.Background(), dsn, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	events, sightings, err := s.CountEvents(context.Background())
	if err != nil || sightings != rows || events != int64(keys) {
		t.Errorf("store holds %d events with %d sightings (%v); want %d events, %d sightings", events, sightings, err, keys, rows)
	}
	nodes, err := s.ChunkNodes(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("chunks committed per process: %v", nodes)
	if len(nodes) != 2 {
		t.Errorf("chunks were committed by %d processes, want both servers (and not the intake-only ingest)", len(nodes))
	}
}
