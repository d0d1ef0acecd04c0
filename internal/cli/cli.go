// Package cli is focal's command line: it parses the subcommand and its
// flags, loads the configuration and runs the command. Main returns the
// process exit code: 0 on success, 2 for usage and configuration errors, 1
// for runtime errors. Errors are printed as one line on stderr, never as a
// stack trace.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"strings"

	"focal/internal/config"
)

// Env is what a command may touch of the outside world; tests substitute it.
type Env struct {
	Stdout io.Writer
	Stderr io.Writer
	Stdin  io.Reader
	Getenv func(string) string
}

// command is one subcommand.
type command struct {
	name    string
	summary string
	// run parses args with fs (already named) and runs. Errors wrapped in
	// usageError exit with 2.
	run func(ctx context.Context, env Env, fs *flag.FlagSet, args []string) error
}

func commands() []command {
	return []command{
		{"serve", "run focal: web UI, APIs and pipeline workers", runServe},
		{"demo", "run focal with a fresh demo data set on embedded defaults", runDemo},
		{"migrate", "apply pending database migrations and exit", runMigrate},
		{"ingest", "feed files into the pipeline: parse, enrich, match and store their events", runIngest},
		{"bench", "measure focal on this machine (store, bus, start)", runBench},
		{"user", "manage accounts: add, list, passwd, disable, enable", runUser},
		{"token", "create API tokens for accounts", runToken},
		{"org", "import, export and list the constituency's organisations", runOrg},
		{"peer", "manage the peers this node polls: add, list, remove, poll", runPeer},
		{"keys", "create, import or show the team's OpenPGP key (signs advisories, security.txt, notifications)", runKeys},
		{"audit", "verify the audit log's hash chain", runAudit},
		{"version", "print the version and exit", runVersion},
	}
}

// usageError marks errors that are the caller's to fix: bad flags, bad
// configuration. They exit with status 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// Main runs focal with args (without the program name) and returns the exit
// code. ctx is cancelled on SIGINT/SIGTERM by the caller.
func Main(ctx context.Context, args []string, env Env) int {
	if env.Getenv == nil {
		env.Getenv = os.Getenv
	}
	if env.Stdin == nil {
		env.Stdin = os.Stdin
	}
	if len(args) == 0 {
		printUsage(env.Stderr)
		return 2
	}
	name := args[0]
	switch name {
	case "help", "-h", "-help", "--help":
		if len(args) > 1 {
			return Main(ctx, []string{args[1], "--help"}, env)
		}
		printUsage(env.Stdout)
		return 0
	}
	for _, c := range commands() {
		if c.name != name {
			continue
		}
		fs := flag.NewFlagSet("focal "+c.name, flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		err := c.run(ctx, env, fs, args[1:])
		return exitCode(env, fs, c, err)
	}
	fmt.Fprintf(env.Stderr, "focal: unknown command %q (run 'focal help' for the list)\n", name)
	return 2
}

func exitCode(env Env, fs *flag.FlagSet, c command, err error) int {
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		fmt.Fprintf(env.Stdout, "Usage: focal %s [flags]\n\n%s.\n\nFlags:\n", c.name, capitalise(c.summary))
		fs.SetOutput(env.Stdout)
		fs.PrintDefaults()
		return 0
	case errors.As(err, new(usageError)):
		fmt.Fprintf(env.Stderr, "focal %s: %s\n", c.name, oneLine(err))
		return 2
	}
	fmt.Fprintf(env.Stderr, "focal %s: %s\n", c.name, oneLine(err))
	return 1
}

// parse parses args with fs and loads the configuration of the settings
// registered on it. Flag and configuration errors become usage errors.
func parse(env Env, fs *flag.FlagSet, args []string, loader *config.Loader) (config.Config, error) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return config.Config{}, err
		}
		return config.Config{}, usageError{err}
	}
	if fs.NArg() > 0 {
		return config.Config{}, usagef("unexpected argument %q", fs.Arg(0))
	}
	if loader == nil {
		return config.Config{}, nil
	}
	cfg, err := loader.Load(env.Getenv)
	if err != nil {
		return config.Config{}, usageError{err}
	}
	return cfg, nil
}

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "focal — the platform for a national or sector CIRT's focal point")
	fmt.Fprintln(w, "\nUsage: focal <command> [flags]\n\nCommands:")
	cs := commands()
	sort.Slice(cs, func(i, j int) bool { return cs[i].name < cs[j].name })
	for _, c := range cs {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'focal <command> --help' for a command's flags. Settings may also come from")
	fmt.Fprintln(w, "FOCAL_* environment variables and a config file; see docs/configuration.md.")
}

// NewLogger returns the process logger: text on a terminal (or when asked),
// JSON otherwise.
func NewLogger(w io.Writer, format, level string) *slog.Logger {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(level)); err != nil {
		lvl = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: lvl}
	if format == "text" || (format == "auto" && isTerminal(w)) {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}

func capitalise(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
