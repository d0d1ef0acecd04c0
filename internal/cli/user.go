package cli

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"focal/internal/app"
	"focal/internal/auth"
	"focal/internal/config"
	"focal/internal/focal"
	"focal/internal/store"
)

// This file holds `focal user` and what the operator commands (user,
// token, org, audit) share: subcommand dispatch, positional arguments, and
// opening the store as the system principal.

// subcommand is one subcommand of a command group such as `focal user`.
type subcommand struct {
	name    string
	usage   string // arguments and flags, for the usage line
	summary string
	run     func(ctx context.Context, env Env, fs *flag.FlagSet, args []string) error
}

// runGroup dispatches `focal GROUP SUB [flags]` as runBench does: the first
// argument names the subcommand, which parses the rest with fs. It prints
// the subcommand's own usage on --help.
func runGroup(ctx context.Context, env Env, fs *flag.FlagSet, args []string, group string, subs []subcommand) error {
	names := make([]string, len(subs))
	for i, sc := range subs {
		names[i] = sc.name
	}
	want := strings.Join(names, ", ")
	if len(args) == 0 || strings.HasPrefix(args[0], "-") || args[0] == "help" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help" || args[0] == "help") {
			fmt.Fprintf(env.Stdout, "Usage: focal %s <subcommand> [flags]\n\nSubcommands:\n", group)
			for _, sc := range subs {
				fmt.Fprintf(env.Stdout, "  %-8s %s\n", sc.name, sc.summary)
			}
			fmt.Fprintf(env.Stdout, "\nRun 'focal %s <subcommand> --help' for its flags.\n", group)
			return nil
		}
		return usagef("want a subcommand: %s (run 'focal %s --help')", want, group)
	}
	name, args := args[0], args[1:]
	for _, sc := range subs {
		if sc.name != name {
			continue
		}
		fs.Init("focal "+group+" "+name, flag.ContinueOnError)
		err := sc.run(ctx, env, fs, args)
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintf(env.Stdout, "Usage: focal %s %s %s\n\n%s.\n\nFlags:\n", group, name, sc.usage, capitalise(sc.summary))
			fs.SetOutput(env.Stdout)
			fs.PrintDefaults()
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		return nil
	}
	return usagef("unknown subcommand %q: want %s", name, want)
}

// parseArgs is parse for commands with positional arguments, which may
// come before, between or after the flags ("--" ends the flags).
func parseArgs(env Env, fs *flag.FlagSet, args []string, loader *config.Loader) (config.Config, []string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return config.Config{}, nil, err
			}
			return config.Config{}, nil, usageError{err}
		}
		rest := fs.Args()
		if len(rest) == 0 {
			break
		}
		if used := len(args) - len(rest); used > 0 && args[used-1] == "--" {
			positional = append(positional, rest...)
			break
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
	cfg, err := parse(env, fs, nil, loader)
	return cfg, positional, err
}

// openStore opens and migrates the database of cfg, as serve does. Close
// the store when done.
func openStore(ctx context.Context, cfg config.Config) (*store.Store, error) {
	if cfg.DB == "" {
		if err := app.PrepareDataDir(cfg.DataDir); err != nil {
			return nil, err
		}
	}
	st, err := store.Open(ctx, cfg.DB, cfg.DataDir)
	if err != nil {
		return nil, fmt.Errorf("%w (set --db or FOCAL_DB)", err)
	}
	// Which migrations were applied is not this command's business; `focal
	// migrate` lists them.
	if _, err := st.Migrate(ctx); err != nil {
		return nil, errors.Join(err, st.Close())
	}
	return st, nil
}

// operator returns ctx acting as the system principal from the command
// line, which is how the store authorises and audits operator commands.
func operator(ctx context.Context) context.Context {
	return focal.NewContextWithRemote(focal.NewContextWithPrincipal(ctx, focal.System()), "cli")
}

// storeFlags registers the settings every operator command takes.
func storeFlags(fs *flag.FlagSet) *config.Loader {
	return config.Register(fs, "config", "data", "db")
}

func runUser(ctx context.Context, env Env, fs *flag.FlagSet, args []string) error {
	return runGroup(ctx, env, fs, args, "user", []subcommand{
		{"add", "--name NAME --role ROLE [--org ORG] [--password-stdin | --no-password]", "create an account", userAdd},
		{"list", "[--json]", "list the accounts", userList},
		{"passwd", "--name NAME [--password-stdin]", "set an account's password and end its sessions", userPasswd},
		{"disable", "--name NAME", "disable an account, ending its sessions and tokens", func(ctx context.Context, env Env, fs *flag.FlagSet, args []string) error {
			return userSetDisabled(ctx, env, fs, args, true)
		}},
		{"enable", "--name NAME", "enable a disabled account", func(ctx context.Context, env Env, fs *flag.FlagSet, args []string) error {
			return userSetDisabled(ctx, env, fs, args, false)
		}},
	})
}

func userAdd(ctx context.Context, env Env, fs *flag.FlagSet, args []string) (err error) {
	name := fs.String("name", "", "login name: 2 to 64 characters of a-z, 0-9, '.', '_', '-', '@' (required)")
	roleName := fs.String("role", "", "role: coordinator, handler, analyst, assessor, constituent or peer (required)")
	orgName := fs.String("org", "", "name of the organisation of a constituent account (required for role constituent)")
	fromStdin := fs.Bool("password-stdin", false, "read the password from the first line of standard input (default: generate one and print it once)")
	noPassword := fs.Bool("no-password", false, "create a peer account without a password, for API tokens only")
	cfg, err := parse(env, fs, args, storeFlags(fs))
	if err != nil {
		return err
	}
	if *name == "" || *roleName == "" {
		return usagef("--name and --role are required")
	}
	if err := focal.ValidateUserName(*name); err != nil {
		return usagef("--name: %s", focal.ErrorMessage(err))
	}
	role, err := focal.ParseRole(*roleName)
	if err != nil {
		return usagef("--role: %s", focal.ErrorMessage(err))
	}
	switch {
	case role == focal.RoleConstituent && *orgName == "":
		return usagef("--org is required for role constituent")
	case role != focal.RoleConstituent && *orgName != "":
		return usagef("--org applies only to role constituent")
	case *noPassword && role != focal.RolePeer:
		return usagef("--no-password applies only to role peer")
	case *noPassword && *fromStdin:
		return usagef("--no-password and --password-stdin exclude each other")
	}
	password, generated := "", false
	switch {
	case *fromStdin:
		if password, err = readPassword(env.Stdin); err != nil {
			return err
		}
	case !*noPassword:
		password, generated = rand.Text(), true
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, st.Close()) }()
	ctx = operator(ctx)
	u := &focal.User{Name: *name, Role: role}
	if role == focal.RoleConstituent {
		o, err := st.OrganisationByName(ctx, *orgName)
		if err != nil {
			return fmt.Errorf("--org: %w", storeError(err))
		}
		u.OrgID = o.ID
	}
	hash := ""
	if password != "" {
		if hash, err = auth.HashPassword(password, auth.DefaultParams); err != nil {
			return err
		}
	}
	if err := st.CreateUser(ctx, u, hash); err != nil {
		return storeError(err)
	}
	fmt.Fprintf(env.Stdout, "created user %s (role %s)\n", u.Name, u.Role)
	if generated {
		fmt.Fprintf(env.Stderr, "the password is shown only this once; store it now\n")
		fmt.Fprintf(env.Stdout, "password: %s\n", password)
	}
	return nil
}

// readPassword reads a password from the first line of r, without its line
// ending, and checks it against the policy.
func readPassword(r io.Reader) (string, error) {
	line, err := bufio.NewReader(io.LimitReader(r, auth.MaxPasswordBytes+3)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read the password from standard input: %w", err)
	}
	line = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
	if line == "" {
		return "", usagef("--password-stdin: no password on standard input")
	}
	if err := auth.CheckPasswordPolicy(line); err != nil {
		var pe *auth.PolicyError
		if errors.As(err, &pe) {
			return "", usagef("weak password: %s", pe.Reason)
		}
		return "", err
	}
	return line, nil
}

// storeError makes a store error one line for the operator: the public
// message of focal errors, the whole error otherwise.
func storeError(err error) error {
	if code := focal.ErrorCode(err); code != focal.EINTERNAL {
		return errors.New(focal.ErrorMessage(err))
	}
	return err
}

// userByName finds an account by its login name.
func userByName(ctx context.Context, st *store.Store, name string) (*focal.User, error) {
	users, err := st.Users(ctx)
	if err != nil {
		return nil, err
	}
	for _, u := range users {
		if u.Name == name {
			return u, nil
		}
	}
	return nil, fmt.Errorf("no user named %q", name)
}

// userJSON is an account in `focal user list --json`.
type userJSON struct {
	Name         string     `json:"name"`
	Role         focal.Role `json:"role"`
	Organisation string     `json:"organisation,omitempty"`
	Disabled     bool       `json:"disabled"`
	CreatedAt    time.Time  `json:"created_at"`
	LastLoginAt  *time.Time `json:"last_login_at,omitempty"`
}

func userList(ctx context.Context, env Env, fs *flag.FlagSet, args []string) (err error) {
	asJSON := fs.Bool("json", false, "print JSON instead of a table")
	cfg, err := parse(env, fs, args, storeFlags(fs))
	if err != nil {
		return err
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, st.Close()) }()
	users, err := st.Users(operator(ctx))
	if err != nil {
		return err
	}
	if *asJSON {
		out := make([]userJSON, 0, len(users))
		for _, u := range users {
			j := userJSON{Name: u.Name, Role: u.Role, Organisation: u.OrgName, Disabled: u.Disabled, CreatedAt: u.CreatedAt}
			if !u.LastLoginAt.IsZero() {
				j.LastLoginAt = &u.LastLoginAt
			}
			out = append(out, j)
		}
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tROLE\tORGANISATION\tDISABLED\tLAST LOGIN")
	for _, u := range users {
		org, last := u.OrgName, "never"
		if org == "" {
			org = "-"
		}
		if !u.LastLoginAt.IsZero() {
			last = u.LastLoginAt.Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", u.Name, u.Role, org, yesNo(u.Disabled), last)
	}
	return tw.Flush()
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func userPasswd(ctx context.Context, env Env, fs *flag.FlagSet, args []string) (err error) {
	name := fs.String("name", "", "login name (required)")
	fromStdin := fs.Bool("password-stdin", false, "read the new password from the first line of standard input (default: generate one and print it once)")
	cfg, err := parse(env, fs, args, storeFlags(fs))
	if err != nil {
		return err
	}
	if *name == "" {
		return usagef("--name is required")
	}
	password, generated := rand.Text(), true
	if *fromStdin {
		if password, err = readPassword(env.Stdin); err != nil {
			return err
		}
		generated = false
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, st.Close()) }()
	ctx = operator(ctx)
	u, err := userByName(ctx, st, *name)
	if err != nil {
		return err
	}
	hash, err := auth.HashPassword(password, auth.DefaultParams)
	if err != nil {
		return err
	}
	if err := st.SetPassword(ctx, u.ID, hash, ""); err != nil {
		return storeError(err)
	}
	fmt.Fprintf(env.Stdout, "set the password of user %s; its sessions are ended\n", u.Name)
	if generated {
		fmt.Fprintf(env.Stderr, "the password is shown only this once; store it now\n")
		fmt.Fprintf(env.Stdout, "password: %s\n", password)
	}
	return nil
}

func userSetDisabled(ctx context.Context, env Env, fs *flag.FlagSet, args []string, disabled bool) (err error) {
	name := fs.String("name", "", "login name (required)")
	cfg, err := parse(env, fs, args, storeFlags(fs))
	if err != nil {
		return err
	}
	if *name == "" {
		return usagef("--name is required")
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, st.Close()) }()
	ctx = operator(ctx)
	u, err := userByName(ctx, st, *name)
	if err != nil {
		return err
	}
	state := "enabled"
	if disabled {
		state = "disabled"
	}
	if u.Disabled == disabled {
		fmt.Fprintf(env.Stdout, "user %s is already %s\n", u.Name, state)
		return nil
	}
	u.Disabled = disabled
	if err := st.UpdateUser(ctx, u); err != nil {
		return storeError(err)
	}
	fmt.Fprintf(env.Stdout, "%s user %s\n", state, u.Name)
	return nil
}
