package cli

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"focal/internal/app"
	"focal/internal/config"
	"focal/internal/feed"
	"focal/internal/feed/formats"
	"focal/internal/focal"
	"focal/internal/pipeline"
)

// optionFlags collects repeated --option k=v flags.
type optionFlags map[string]string

func (o optionFlags) String() string { return "" }
func (o optionFlags) Set(v string) error {
	k, val, ok := strings.Cut(v, "=")
	if !ok || strings.TrimSpace(k) == "" {
		return fmt.Errorf("want NAME=VALUE, got %q", v)
	}
	o[strings.TrimSpace(k)] = val
	return nil
}

func runIngest(ctx context.Context, env Env, fs *flag.FlagSet, args []string) error {
	format := fs.String("format", "", "input format, e.g. iplist, shadowserver, feodo-csv (see docs/feeds.md; required unless the feed exists)")
	feedName := fs.String("feed", "", "feed to ingest into (created if missing; default: the format's name)")
	tlp := fs.String("tlp", "AMBER", "TLP label of a feed this command creates")
	confidence := fs.Int("confidence", 50, "confidence (0-100) of a feed this command creates")
	provider := fs.String("provider", "", "provider of a feed this command creates")
	opts := optionFlags{}
	fs.Var(opts, "option", "format option NAME=VALUE of a feed this command creates (repeatable), e.g. --option class=intrusion-attempts")
	newRun := fs.Bool("new-run", false, "count the input again even if it was ingested before (default: the same unchanged file resumes or is skipped)")
	noWait := fs.Bool("no-wait", false, "return once the input is in the queue, without waiting for the workers")
	progress := fs.String("progress", "auto", "progress bar on standard error: auto (on a terminal), on or off")
	loader := config.Register(fs, "config", "data", "db", "nats", "geoip-asn", "geoip-country", "rdns", "workers", "ingest-queue-mb")
	cfg, files, err := parseArgs(env, fs, args, loader)
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return usagef("want one or more FILEs to ingest (- for standard input)")
	}
	if *feedName == "" {
		*feedName = *format
	}
	if *feedName == "" {
		return usagef("--format or --feed is required")
	}
	label, err := focal.ParseTLP(*tlp)
	if err != nil {
		return usagef("--tlp: %v", err)
	}
	showBar := *progress == "on" || (*progress == "auto" && isTerminal(env.Stderr))

	logger := NewLogger(env.Stderr, "text", "warn")
	a := app.New(cfg, logger)
	a.Headless = true
	if err := a.Run(ctx); err != nil {
		return err
	}
	defer a.Close()
	sys := focal.NewContextWithPrincipal(ctx, focal.System())

	fd, err := a.Store.FeedByName(sys, *feedName)
	switch {
	case focal.ErrorCode(err) == focal.ENOTFOUND:
		if *format == "" {
			return usagef("no feed named %q: give --format to create it", *feedName)
		}
		f, err := formats.Lookup(*format)
		if err != nil {
			return usagef("--format: %v", err)
		}
		fd = &focal.FeedDef{Name: *feedName, Format: f.Name, Provider: *provider, TLP: label, Confidence: *confidence, Options: opts, Enabled: true}
		if err := f.CheckOptions(feed.Options(opts)); err != nil {
			return usagef("%v", err)
		}
		if err := a.Store.CreateFeed(sys, fd); err != nil {
			return err
		}
		fmt.Fprintf(env.Stderr, "created feed %q (format %s, %s)\n", fd.Name, fd.Format, fd.TLP)
	case err != nil:
		return err
	case *format != "" && *format != fd.Format:
		return usagef("feed %q reads format %s, not %s", fd.Name, fd.Format, *format)
	}

	var failed []string
	for _, file := range files {
		run, err := ingestFile(ctx, env, a, fd, file, *newRun, *noWait, showBar)
		if err != nil {
			failed = append(failed, file)
			fmt.Fprintf(env.Stderr, "%s: %v\n", file, oneLine(err))
			continue
		}
		fmt.Fprintf(env.Stdout, "%s: run %d %s: %d lines, %d events (%d new), %d problems\n",
			file, run.ID, run.State, run.Lines, run.Events, run.Stored, run.Problems)
	}
	if len(failed) > 0 {
		return fmt.Errorf("%d of %d inputs failed: %s", len(failed), len(files), strings.Join(failed, ", "))
	}
	return nil
}

// ingestFile feeds one file (or standard input) through the pipeline and
// waits for its run, drawing a progress bar when asked.
func ingestFile(ctx context.Context, env Env, a *app.App, fd *focal.FeedDef, file string, newRun, noWait, showBar bool) (*focal.FeedRun, error) {
	var r io.Reader = env.Stdin
	var size int64 = -1
	key := ""
	name := "<stdin>"
	if file != "-" {
		fh, err := os.Open(file)
		if err != nil {
			return nil, err
		}
		defer fh.Close() // read only
		st, err := fh.Stat()
		if err != nil {
			return nil, err
		}
		abs, _ := filepath.Abs(file)
		size, r, name = st.Size(), fh, filepath.Base(file)
		if !newRun {
			// The same unchanged file into the same feed is the same run:
			// feeding it again resumes an interrupted run, or does nothing.
			sum := sha256.Sum256(fmt.Appendf(nil, "%s|%d|%d|%d", abs, st.Size(), st.ModTime().UnixNano(), fd.ID))
			key = "file:" + hex.EncodeToString(sum[:12])
		}
	}
	bar := &progressBar{w: env.Stderr, on: showBar, total: size, name: name, start: time.Now()}
	run, err := a.Pipeline.Ingest(ctx, pipeline.Request{Feed: fd, Source: "cli", Input: name, Key: key, Body: r, Progress: bar.read})
	if err != nil {
		bar.done()
		return run, err
	}
	if noWait {
		bar.done()
		return run, nil
	}
	run, err = a.Pipeline.WaitRun(ctx, run.ID, bar.run)
	bar.done()
	if err != nil && run != nil && run.State == focal.RunFailed {
		return run, errors.New(run.Error)
	}
	return run, err
}

// progressBar draws one status line on a terminal: bytes read (of the
// file's size), then events stored, with rates.
type progressBar struct {
	w     io.Writer
	on    bool
	total int64
	name  string
	start time.Time

	mu    sync.Mutex
	got   int64
	last  time.Time
	lines int64
	evts  int64
}

func (b *progressBar) read(n int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.got = n
	b.draw(false)
}

func (b *progressBar) run(r *focal.FeedRun) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.lines, b.evts = r.Lines, r.Events
	b.draw(false)
}

func (b *progressBar) done() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.draw(true)
	if b.on {
		fmt.Fprintln(b.w)
	}
}

func (b *progressBar) draw(force bool) {
	if !b.on {
		return
	}
	now := time.Now()
	if !force && now.Sub(b.last) < 200*time.Millisecond {
		return
	}
	b.last = now
	secs := max(now.Sub(b.start).Seconds(), 0.001)
	const width = 30
	frac := 0.0
	if b.total > 0 {
		frac = min(float64(b.got)/float64(b.total), 1)
	}
	fill := int(frac * width)
	bar := strings.Repeat("=", fill) + strings.Repeat(" ", width-fill)
	if fill > 0 && fill < width {
		bar = bar[:fill-1] + ">" + bar[fill:]
	}
	size := humanBytes(b.got)
	if b.total > 0 {
		size += "/" + humanBytes(b.total)
	}
	fmt.Fprintf(b.w, "\r%s [%s] %3.0f%% %s  %d events stored (%.0f/s)  %s   ",
		b.name, bar, frac*100, size, b.evts, float64(b.evts)/secs, now.Sub(b.start).Round(time.Second))
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
