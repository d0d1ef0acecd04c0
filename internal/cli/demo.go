package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"focal/internal/alert"
	"focal/internal/app"
	"focal/internal/config"
	"focal/internal/csaf"
	"focal/internal/demo"
	"focal/internal/notify"
	"focal/internal/store"
)

// demoMarker is the file that marks a data directory as a demo's, so demo
// never wipes a directory it did not create.
const demoMarker = ".focal-demo"

func runDemo(ctx context.Context, env Env, fs *flag.FlagSet, args []string) error {
	loader := config.Register(fs, "config", "addr", "data", "log-format", "log-level", "shutdown-timeout", "tls", "tls-cert", "tls-key")
	cfg, err := parse(env, fs, args, loader)
	if err != nil {
		return err
	}
	// Demo runs on embedded defaults only, whatever the environment says
	// about production databases.
	cfg.DB, cfg.NATS = "", ""
	temporary := !dataDirGiven(fs, env, cfg)
	if temporary {
		dir, err := os.MkdirTemp("", "focal-demo-")
		if err != nil {
			return fmt.Errorf("create a temporary data directory: %w (set --data or FOCAL_DATA)", err)
		}
		cfg.DataDir = dir
		defer os.RemoveAll(dir)
	} else if err := freshDemoDir(cfg.DataDir); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(cfg.DataDir, demoMarker), []byte("created by focal demo; removed and recreated at each start\n"), 0o600); err != nil {
		return fmt.Errorf("data directory %s: %w (set --data or FOCAL_DATA)", cfg.DataDir, err)
	}
	// Notifications go to a local mail sink that keeps each message as a
	// file in DATA/outbox, so digests can be read without a mail server.
	sink := &notify.Sink{Dir: filepath.Join(cfg.DataDir, "outbox")}
	if err := sink.Start(); err != nil {
		return err
	}
	defer sink.Close()
	if cfg.TeamEmail == "" {
		cfg.TeamName, cfg.TeamEmail = "CERT-DEMO", "cert@cert-demo.example"
	}
	cfg.SMTPRelay = config.Relay{Addr: sink.Addr, TLS: "none"}
	logger := NewLogger(env.Stderr, cfg.LogFormat, cfg.LogLevel)
	// The team key signs the demo's advisories; the app finds it in
	// DATA/keys (as after focal keys init).
	signer, err := demo.TeamKey(cfg.TeamKey, cfg.DataDir, cfg.TeamName, cfg.TeamEmail, cfg.TeamKeyPass)
	if err != nil {
		return err
	}
	a := app.New(cfg, logger)
	var res demo.Result
	a.Prepare = func(ctx context.Context, a *app.App) error {
		var err error
		if res, err = demo.Seed(ctx, a.Store); err != nil {
			return err
		}
		return demo.SeedAdvisories(ctx, a.Store, store.PublishOptions{Signer: signer, TrackingPrefix: "CERT-DEMO",
			Publisher: csaf.Publisher{Category: "coordinator", Name: cfg.TeamName, Namespace: "https://cert-demo.example", ContactDetails: "mailto:" + cfg.TeamEmail}})
	}
	if err := a.Run(ctx); err != nil {
		return err
	}
	printBanner(env, a.URL(), cfg.DataDir, temporary, res)
	fr, err := demo.Feeds(ctx, a.Store, a.Pipeline)
	if err != nil {
		if ctx.Err() != nil {
			// Stopped (SIGINT/SIGTERM) while the samples were loading.
			logger.Info("shutting down", "timeout", cfg.ShutdownTimeout.String())
			return a.Close()
		}
		return errors.Join(err, a.Close())
	}
	// Send the first digests at once rather than at the next tick.
	if a.Notifier != nil {
		if err := a.Notifier.Tick(ctx); err != nil {
			logger.Warn("notifications", "err", err)
		}
	}
	// Check the alert rules at once rather than at the next tick, so the
	// incident they open is there when the newcomer looks.
	if _, err := (&alert.Evaluator{Store: a.Store, Logger: logger}).Check(ctx); err != nil {
		logger.Warn("alert rules", "err", err)
	}
	fmt.Fprintf(env.Stdout, "  Sample feeds loaded: %d, one per format, %d events, %d matched to the organisations: %s/events\n",
		fr.Feeds, fr.Events, fr.Matched, a.URL())
	fmt.Fprintf(env.Stdout, "  Notification digests to the organisations are kept as .eml files in %s\n\n", sink.Dir)
	<-ctx.Done()
	logger.Info("shutting down", "timeout", cfg.ShutdownTimeout.String())
	return a.Close()
}

func dataDirGiven(fs *flag.FlagSet, env Env, cfg config.Config) bool {
	given := false
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "data" {
			given = true
		}
	})
	return given || env.Getenv("FOCAL_DATA") != "" || cfg.DataDir != config.Default().DataDir
}

// freshDemoDir empties dir for a new demo, but only if it is empty, does
// not exist, or was made by an earlier demo.
func freshDemoDir(dir string) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return app.PrepareDataDir(dir)
	}
	if err != nil {
		return fmt.Errorf("data directory %s: %w (set --data or FOCAL_DATA)", dir, err)
	}
	if len(entries) > 0 {
		if _, err := os.Stat(filepath.Join(dir, demoMarker)); err != nil {
			return usagef("data directory %s is not empty and was not made by focal demo; demo starts fresh and will not wipe it (choose another --data)", dir)
		}
		for _, e := range entries {
			if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
				return fmt.Errorf("reset demo data directory: %w", err)
			}
		}
	}
	return app.PrepareDataDir(dir)
}

func printBanner(env Env, url, dataDir string, temporary bool, res demo.Result) {
	w := env.Stdout
	fmt.Fprintln(w)
	fmt.Fprintln(w, "  focal demo is running")
	fmt.Fprintf(w, "    open:    %s/\n", url)
	fmt.Fprintf(w, "    health:  %s/healthz   ready: %s/readyz   metrics: %s/metrics\n", url, url, url)
	if temporary {
		fmt.Fprintf(w, "    data:    %s (temporary, removed on exit)\n", dataDir)
	} else {
		fmt.Fprintf(w, "    data:    %s (reset at each demo start)\n", dataDir)
	}
	fmt.Fprintf(w, "    sample:  %d organisations of a fictional constituency, %d incidents over the last month\n", res.Organisations, res.Incidents)
	if len(res.Logins) > 0 {
		fmt.Fprintln(w, "    logins (name / password):")
		for _, l := range res.Logins {
			org := ""
			if l.Org != "" {
				org = "  (" + l.Org + ")"
			}
			fmt.Fprintf(w, "      %-12s %-12s %s%s\n", l.Role, l.Name, l.Password, org)
		}
	}
	fmt.Fprintln(w, "  Press Ctrl-C to stop.")
	fmt.Fprintln(w)
}
