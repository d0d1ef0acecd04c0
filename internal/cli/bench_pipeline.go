package cli

import (
	"context"
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"time"

	"focal/internal/bus"
	"focal/internal/focal"
	"focal/internal/lookup"
	"focal/internal/pipeline"
	"focal/internal/store"
)

// benchPipeline measures the watch-and-warning pipeline on a synthetic
// Shadowserver scan_smb report: the in-memory stages alone (--memory) or
// end to end through JetStream into the database.
func benchPipeline(ctx context.Context, env Env, fs *flag.FlagSet, args []string) error {
	rows := fs.Int("rows", 1_000_000, "rows of the generated scan_smb report")
	gib := fs.Float64("gib", 0, "generate this many GiB of input instead of --rows (for the memory bound)")
	distinct := fs.Bool("distinct", false, "every row a different address (nothing aggregates); default: 762 addresses repeat")
	prefixes := fs.Int("prefixes", 100_000, "constituency prefixes to match against")
	memory := fs.Bool("memory", false, "in-memory stages only (parse, enrich, match, dedup), no JetStream or database")
	db := fs.String("db", "", "database: empty for a temporary SQLite file, or postgres://… (a bench feed is added; its events stay)")
	nats := fs.String("nats", "", "message bus: empty for embedded NATS in a temporary directory, or nats://…")
	workers := fs.Int("workers", 2, "pipeline workers")
	batch := fs.Int("batch", pipeline.DefaultBatchChunks, "chunks a worker commits in one transaction")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of the run to this file (go tool pprof)")
	queueMB := fs.Int64("ingest-queue-mb", 64, "cap of the ingest stream in MiB (as --ingest-queue-mb of focal serve)")
	if _, err := parse(env, fs, args, nil); err != nil {
		return err
	}
	if *rows <= 0 || *prefixes <= 0 || *gib < 0 {
		return usagef("--rows, --prefixes and --gib must be positive")
	}
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	in := pipeline.BenchInput{Rows: *rows, Distinct: *distinct, Bytes: int64(*gib * (1 << 30))}
	shape := fmt.Sprintf("%d rows", *rows)
	if in.Bytes > 0 {
		shape = fmt.Sprintf("%.1f GiB", *gib)
	}
	kind := "repeating addresses"
	if *distinct {
		kind = "distinct addresses"
	}
	t0 := time.Now()
	table, err := pipeline.BenchConstituency(*prefixes)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "constituency: %d prefixes built in %v\n", *prefixes, time.Since(t0).Round(time.Millisecond))
	if *memory {
		fmt.Fprintf(env.Stdout, "pipeline bench (in memory, %d cores): scan_smb report of %s, %s\n", runtime.GOMAXPROCS(0), shape, kind)
		res, err := pipeline.BenchMemory(ctx, in, table, nil)
		if err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "lines %d, events %d (%d matched an organisation), %d rows after aggregation, %v, peak RSS %.0f MiB\n",
			res.Lines, res.Events, res.Matched, res.Rows, res.Elapsed.Round(time.Millisecond), pipeline.PeakRSS())
		fmt.Fprintf(env.Stdout, "events/s: %.0f\n", res.Rate())
		return nil
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
	if _, err := st.Migrate(ctx); err != nil {
		return err
	}
	b, err := bus.Open(ctx, bus.Config{URL: *nats, DataDir: dir})
	if err != nil {
		return fmt.Errorf("%w (set --nats)", err)
	}
	defer b.Close()
	holder := &lookup.Holder{}
	holder.Store(table)
	stream := fmt.Sprintf("BENCH_%d", time.Now().UnixNano())
	wctx, cancel := context.WithCancel(ctx)
	p := pipeline.New(pipeline.Config{Store: st, Bus: b, Lookup: holder, Workers: *workers, BatchChunks: *batch, Stream: stream, StreamMaxBytes: *queueMB << 20})
	if err := p.Start(wctx); err != nil {
		cancel()
		return err
	}
	defer func() {
		cancel()
		p.Wait()
		dctx, dcancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer dcancel()
		b.DeleteStream(dctx, stream) //nolint:errcheck // a scratch stream
	}()
	sys := focal.NewContextWithPrincipal(ctx, focal.System())
	fd := &focal.FeedDef{Name: fmt.Sprintf("bench-%d", time.Now().UnixNano()), Format: "shadowserver", TLP: focal.TLPAmber,
		Confidence: 80, Options: map[string]string{"report": "scan_smb"}, Enabled: true}
	if err := st.CreateFeed(sys, fd); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "pipeline bench (end to end, %d workers): scan_smb report of %s, %s, into %s via %s\n",
		*workers, shape, kind, st, map[bool]string{true: "embedded NATS", false: "NATS " + *nats}[*nats == ""])
	r := in.Reader()
	defer r.Close()
	start := time.Now()
	run, err := p.Ingest(ctx, pipeline.Request{Feed: fd, Source: "bench", Input: "scan_smb-bench.csv", Body: r})
	if err != nil {
		return err
	}
	intake := time.Since(start)
	run, err = p.WaitRun(ctx, run.ID, nil)
	if err != nil {
		return err
	}
	elapsed := time.Since(start)
	fmt.Fprintf(env.Stdout, "lines %d, events %d, stored rows %d new, problems %d; intake %v (%.0f MiB), total %v, peak RSS %.0f MiB\n",
		run.Lines, run.Events, run.Stored, run.Problems, intake.Round(time.Millisecond), float64(run.Bytes)/(1<<20),
		elapsed.Round(time.Millisecond), pipeline.PeakRSS())
	if run.Problems > 0 {
		ps, _ := st.RunProblems(sys, run.ID, 3)
		for _, pr := range ps {
			fmt.Fprintf(env.Stdout, "problem: line %d: %s: %q\n", pr.Line, pr.Reason, pr.Raw)
		}
	}
	fmt.Fprintf(env.Stdout, "events/s: %.0f\n", float64(run.Events)/elapsed.Seconds())
	return nil
}
