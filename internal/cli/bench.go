package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"focal/internal/app"
	"focal/internal/auth"
	"focal/internal/bus"
	"focal/internal/config"
	"focal/internal/focal"
	"focal/internal/store"
)

// runBench dispatches `focal bench store|bus|start`. Each prints its
// headline figure as the last line of output, for docs/performance.md.
func runBench(ctx context.Context, env Env, fs *flag.FlagSet, args []string) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "-help") {
			fmt.Fprintln(env.Stdout, "Usage: focal bench store|bus|start [flags]\n\n  store   bulk insert rows through the store API (rows/s)\n  bus     JetStream publish + consume with acks (msgs/s)\n  start   cold start of 'focal serve' to /readyz = 200, idle RSS and shutdown time\n  incidents  incident list and search latency over a large incident table (p99 ms)\n  intake  incident submissions per second through the REST API\n  pipeline  feed events per second: in memory (--memory) or end to end into the database\n  stream  live stream delivery latency from commit to 1,000 SSE clients\n  digest  digest generation for 10,000 organisations over 10 M events\n  federation  propagation between three focal nodes (A → B, A → B → C), or a new peer's catch-up\n\nRun 'focal bench <name> --help' for its flags.")
			return nil
		}
		return usagef("want a benchmark name: store, bus, start or incidents")
	}
	name, args := args[0], args[1:]
	fs.Init("focal bench "+name, flag.ContinueOnError)
	switch name {
	case "store":
		return benchStore(ctx, env, fs, args)
	case "bus":
		return benchBus(ctx, env, fs, args)
	case "start":
		return benchStart(ctx, env, fs, args)
	case "incidents":
		return benchIncidents(ctx, env, fs, args)
	case "intake":
		return benchIntake(ctx, env, fs, args)
	case "pipeline":
		return benchPipeline(ctx, env, fs, args)
	case "stream":
		return benchStream(ctx, env, fs, args)
	case "digest":
		return benchDigest(ctx, env, fs, args)
	case "federation":
		return benchFederation(ctx, env, fs, args)
	}
	return usagef("unknown benchmark %q: want store, bus, start or incidents", name)
}

func benchStore(ctx context.Context, env Env, fs *flag.FlagSet, args []string) error {
	rows := fs.Int("rows", 1_000_000, "rows to insert")
	batch := fs.Int("batch", 10_000, "rows per CopyRows call (one transaction each)")
	db := fs.String("db", "", "database: empty for a temporary SQLite file, or postgres://… (a scratch table is created and dropped)")
	if _, err := parse(env, fs, args, nil); err != nil {
		return err
	}
	if *rows <= 0 || *batch <= 0 {
		return usagef("--rows and --batch must be positive")
	}
	dir, err := os.MkdirTemp("", "focal-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	st, err := store.Open(ctx, *db, dir)
	if err != nil {
		return fmt.Errorf("%w (set --db)", err)
	}
	defer st.Close()
	fmt.Fprintf(env.Stdout, "store bench: %d rows in batches of %d into %s\n", *rows, *batch, st)
	res, err := store.BenchCopy(ctx, st, *rows, *batch)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "inserted %d rows in %s\n", res.Rows, res.Elapsed.Round(time.Millisecond))
	fmt.Fprintf(env.Stdout, "%s bulk insert: %.0f rows/s\n", st.Dialect(), res.Rate())
	return nil
}

func benchBus(ctx context.Context, env Env, fs *flag.FlagSet, args []string) error {
	n := fs.Int("messages", 1_000_000, "messages to publish and consume")
	size := fs.Int("size", 300, "message size in bytes")
	url := fs.String("nats", "", "bus: empty for embedded NATS in a temporary directory, or nats://host:port")
	if _, err := parse(env, fs, args, nil); err != nil {
		return err
	}
	if *n <= 0 || *size <= 0 {
		return usagef("--messages and --size must be positive")
	}
	dir, err := os.MkdirTemp("", "focal-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	b, err := bus.Open(ctx, bus.Config{URL: *url, DataDir: dir})
	if err != nil {
		return fmt.Errorf("%w (set --nats)", err)
	}
	defer b.Close()
	kind := "embedded"
	if !b.Embedded() {
		kind = "external"
	}
	fmt.Fprintf(env.Stdout, "bus bench: %d messages of %d bytes, %s JetStream (file storage), explicit acks\n", *n, *size, kind)
	res, err := bus.Bench(ctx, b, *n, *size)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "publish: %.0f msgs/s (%s)\n", res.PublishRate(), res.Publish.Round(time.Millisecond))
	fmt.Fprintf(env.Stdout, "consume+ack: %.0f msgs/s (%s)\n", res.ConsumeRate(), res.Consume.Round(time.Millisecond))
	fmt.Fprintf(env.Stdout, "%s bus publish+consume: %.0f msgs/s\n", kind, res.Rate())
	return nil
}

// benchStart runs this binary's `serve` on a fresh data directory, times
// the cold start to /readyz = 200, reads the idle RSS after a pause, and
// times a graceful shutdown on SIGTERM.
func benchStart(ctx context.Context, env Env, fs *flag.FlagSet, args []string) error {
	runs := fs.Int("runs", 5, "cold starts to measure")
	idle := fs.Duration("idle", 5*time.Second, "how long to let the server idle before reading its RSS")
	if _, err := parse(env, fs, args, nil); err != nil {
		return err
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	var starts, rss, stops []float64
	for i := 0; i < *runs; i++ {
		s, r, d, err := startOnce(ctx, exe, *idle)
		if err != nil {
			return fmt.Errorf("run %d: %w", i+1, err)
		}
		fmt.Fprintf(env.Stdout, "run %d: ready in %.0f ms, idle RSS %.1f MB, shutdown in %.0f ms\n", i+1, s, r, d)
		starts, rss, stops = append(starts, s), append(rss, r), append(stops, d)
	}
	fmt.Fprintf(env.Stdout, "cold start to ready: median %.0f ms, max %.0f ms; idle RSS max %.1f MB; shutdown max %.0f ms\n",
		median(starts), maxOf(starts), maxOf(rss), maxOf(stops))
	return nil
}

func startOnce(ctx context.Context, exe string, idle time.Duration) (startMS, rssMB, stopMS float64, err error) {
	dir, err := os.MkdirTemp("", "focal-bench-start-")
	if err != nil {
		return 0, 0, 0, err
	}
	defer os.RemoveAll(dir)
	port, err := freePort()
	if err != nil {
		return 0, 0, 0, err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	cmd := exec.CommandContext(ctx, exe, "serve", "--addr", addr, "--data", filepath.Join(dir, "data"), "--log-format", "json", "--log-level", "warn")
	cmd.Env = cleanEnv()
	begin := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, 0, 0, err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(30 * time.Second)
	for {
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill() // the run failed; the error below says why
			return 0, 0, 0, errors.New("not ready after 30 s")
		}
		select {
		case err := <-exited:
			return 0, 0, 0, fmt.Errorf("serve exited before ready: %v", err)
		default:
		}
		resp, err := client.Get("http://" + addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		time.Sleep(2 * time.Millisecond)
	}
	startMS = float64(time.Since(begin).Microseconds()) / 1000
	time.Sleep(idle)
	rssMB, err = readRSS(cmd.Process.Pid)
	if err != nil {
		_ = cmd.Process.Kill() // the run failed; the error says why
		return 0, 0, 0, err
	}
	stopBegin := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return 0, 0, 0, err
	}
	select {
	case err := <-exited:
		if err != nil {
			return 0, 0, 0, fmt.Errorf("serve exited with %v after SIGTERM", err)
		}
	case <-time.After(15 * time.Second):
		_ = cmd.Process.Kill() // the run failed; the error says why
		return 0, 0, 0, errors.New("serve did not stop within 15 s of SIGTERM")
	}
	return startMS, rssMB, float64(time.Since(stopBegin).Microseconds()) / 1000, nil
}

// cleanEnv drops FOCAL_* settings so the measured server runs on embedded
// defaults.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "FOCAL_") {
			env = append(env, kv)
		}
	}
	return env
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func readRSS(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("read RSS: %w", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(rest)
			kb, err := strconv.ParseFloat(f[0], 64)
			if err != nil {
				return 0, fmt.Errorf("read RSS: %w", err)
			}
			return kb / 1024, nil
		}
	}
	return 0, errors.New("read RSS: no VmRSS line")
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

func maxOf(xs []float64) float64 {
	return slices.Max(xs)
}

// benchIncidents seeds a database with many incidents and measures the
// list and search queries of the triage desk.
func benchIncidents(ctx context.Context, env Env, fs *flag.FlagSet, args []string) error {
	n := fs.Int("incidents", 1_000_000, "incidents to seed")
	runs := fs.Int("runs", 200, "runs of each query")
	db := fs.String("db", "", "database: empty for a temporary SQLite file, or postgres://… (tables are created in a scratch schema)")
	if _, err := parse(env, fs, args, nil); err != nil {
		return err
	}
	if *n <= 0 || *runs <= 0 {
		return usagef("--incidents and --runs must be positive")
	}
	dir, err := os.MkdirTemp("", "focal-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	dsn := *db
	if dsn != "" {
		var drop func() error
		if dsn, drop, err = store.ScratchSchema(ctx, dsn); err != nil {
			return err
		}
		defer func() {
			if err := drop(); err != nil {
				fmt.Fprintf(env.Stderr, "drop scratch schema: %v\n", err)
			}
		}()
	}
	st, err := store.Open(ctx, dsn, dir)
	if err != nil {
		return fmt.Errorf("%w (set --db)", err)
	}
	defer st.Close()
	if _, err := st.Migrate(ctx); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "incident bench: seeding %d incidents into %s\n", *n, st.Dialect())
	start := time.Now()
	if err := store.SeedIncidents(ctx, st, *n, nil); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "seeded in %s\n", time.Since(start).Round(time.Millisecond))
	res, err := store.BenchIncidentQueries(ctx, st, *runs)
	if err != nil {
		return err
	}
	var worstList, worstSearch time.Duration
	for _, r := range res {
		fmt.Fprintf(env.Stdout, "%-34s p50 %7.2f ms  p99 %7.2f ms  max %7.2f ms\n", r.Name, ms(r.P50), ms(r.P99), ms(r.Max))
		if strings.HasPrefix(r.Name, "text search") {
			worstSearch = max(worstSearch, r.P99)
		} else {
			worstList = max(worstList, r.P99)
		}
	}
	fmt.Fprintf(env.Stdout, "%s, %d incidents: list p99 %.1f ms, text search p99 %.1f ms\n", st.Dialect(), *n, ms(worstList), ms(worstSearch))
	return nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// benchIntake starts focal on embedded defaults and measures incident
// submissions per second through POST /api/v1/incidents over loopback,
// then checks every submission is stored exactly once.
func benchIntake(ctx context.Context, env Env, fs *flag.FlagSet, args []string) error {
	n := fs.Int("reports", 20_000, "reports to submit")
	workers := fs.Int("clients", 32, "concurrent HTTP clients")
	if _, err := parse(env, fs, args, nil); err != nil {
		return err
	}
	if *n <= 0 || *workers <= 0 {
		return usagef("--reports and --clients must be positive")
	}
	dir, err := os.MkdirTemp("", "focal-bench-intake-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	cfg := config.Default()
	cfg.Addr, cfg.DataDir = "127.0.0.1:0", filepath.Join(dir, "data")
	a := app.New(cfg, NewLogger(io.Discard, "json", "error"))
	if err := a.Run(ctx); err != nil {
		return err
	}
	defer a.Close()
	tok, err := benchToken(ctx, a)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "intake bench: %d reports from %d clients to %s (SQLite, embedded NATS)\n", *n, *workers, a.URL())
	jobs := make(chan int)
	errs := make(chan error, *workers)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: *workers}, Timeout: 30 * time.Second}
	start := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < *workers; w++ {
		wg.Go(func() {
			for j := range jobs {
				body := fmt.Sprintf(`{"title":"Bench report %d","description":"phishing page at hxxp://bank-%d[.]example[.]net seen from 198.51.100.%d","classification":[{"class":"fraud","type":"phishing"}],"tlp":"AMBER","observables":[{"kind":"ipv4","value":"198.51.100.%d"}]}`, j, j, j%256, j%256)
				req, err := http.NewRequestWithContext(ctx, "POST", a.URL()+"/api/v1/incidents", strings.NewReader(body))
				if err != nil {
					errs <- err
					return
				}
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+tok)
				resp, err := client.Do(req)
				if err != nil {
					errs <- err
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body) // drain for keep-alive; the status is what counts
				resp.Body.Close()
				if resp.StatusCode != http.StatusCreated {
					errs <- fmt.Errorf("report %d: status %d", j, resp.StatusCode)
					return
				}
			}
		})
	}
	var firstErr error
feed:
	for j := 0; j < *n; j++ {
		select {
		case jobs <- j:
		case firstErr = <-errs:
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	elapsed := time.Since(start)
	if firstErr == nil {
		select {
		case firstErr = <-errs:
		default:
		}
	}
	if firstErr != nil {
		return firstErr
	}
	var stored int
	if err := a.Store.Reader().QueryRowContext(ctx, "SELECT COUNT(*) FROM incidents").Scan(&stored); err != nil {
		return err
	}
	if stored != *n {
		return fmt.Errorf("%d reports stored, want %d", stored, *n)
	}
	fmt.Fprintf(env.Stdout, "stored %d of %d reports in %s, none lost\n", stored, *n, elapsed.Round(time.Millisecond))
	fmt.Fprintf(env.Stdout, "API intake: %.0f reports/s\n", float64(*n)/elapsed.Seconds())
	return nil
}

// benchToken creates a handler account with an API token in a's store.
func benchToken(ctx context.Context, a *app.App) (string, error) {
	sys := focal.NewContextWithPrincipal(ctx, focal.System())
	u := &focal.User{Name: "bench", Role: focal.RoleHandler}
	if err := a.Store.CreateUser(sys, u, ""); err != nil {
		return "", err
	}
	tok, hash, err := auth.NewToken(auth.APITokenPrefix)
	if err != nil {
		return "", err
	}
	return tok, a.Store.CreateToken(sys, &focal.Token{UserID: u.ID, Scope: "write", ExpiresAt: time.Now().Add(time.Hour)}, hash)
}
