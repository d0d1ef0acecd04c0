package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"focal/internal/config"
	"focal/internal/csaf"
)

func runKeys(ctx context.Context, env Env, fs *flag.FlagSet, args []string) error {
	return runGroup(ctx, env, fs, args, "keys", []subcommand{
		{"init", "[--name NAME] [--email ADDR] [--lifetime 17520h] [--force]", "create the team's OpenPGP key pair in DATA_DIR/keys (passphrase from FOCAL_TEAM_KEY_PASSPHRASE)", keysInit},
		{"import", "--file KEY.asc [--force]", "import an existing ASCII-armoured team private key into DATA_DIR/keys", keysImport},
		{"show", "", "print the team key's fingerprint and public key", keysShow},
	})
}

func keyFlags(fs *flag.FlagSet) *config.Loader {
	return config.Register(fs, "config", "data", "team-name", "team-email", "team-key", "team-key-passphrase")
}

func keysInit(_ context.Context, env Env, fs *flag.FlagSet, args []string) error {
	name := fs.String("name", "", "the key's user name (default: the team name)")
	email := fs.String("email", "", "the key's e-mail address (default: the team e-mail)")
	lifetime := fs.Duration("lifetime", 2*365*24*time.Hour, "how long the key is valid; 0 for no expiry")
	force := fs.Bool("force", false, "replace an existing key")
	cfg, err := parse(env, fs, args, keyFlags(fs))
	if err != nil {
		return err
	}
	if *name == "" {
		*name = cfg.TeamName
	}
	if *email == "" {
		*email = cfg.TeamEmail
	}
	if *name == "" || *email == "" {
		return usagef("give --name and --email (or set --team-name and --team-email)")
	}
	if *lifetime < 0 {
		return usagef("--lifetime: want 0 or more, got %s", *lifetime)
	}
	priv, pub, fpr, err := csaf.GenerateKey(*name, *email, cfg.TeamKeyPass, *lifetime)
	if err != nil {
		return err
	}
	p, err := csaf.WriteTeamKey(cfg.DataDir, priv, pub, *force)
	if err != nil {
		return err
	}
	protected := "not passphrase-protected (set FOCAL_TEAM_KEY_PASSPHRASE to protect it)"
	if cfg.TeamKeyPass != "" {
		protected = "protected by FOCAL_TEAM_KEY_PASSPHRASE"
	}
	fmt.Fprintf(env.Stderr, "created team key %s in %s (%s); focal uses it when --team-key is not set\n", fpr, p, protected)
	fmt.Fprintln(env.Stdout, fpr)
	return nil
}

func keysImport(_ context.Context, env Env, fs *flag.FlagSet, args []string) error {
	file := fs.String("file", "", "the ASCII-armoured private key to import (- for standard input)")
	force := fs.Bool("force", false, "replace an existing key")
	cfg, err := parse(env, fs, args, keyFlags(fs))
	if err != nil {
		return err
	}
	if *file == "" {
		return usagef("--file is required")
	}
	var b []byte
	if *file == "-" {
		b, err = io.ReadAll(io.LimitReader(env.Stdin, 1<<20))
	} else {
		b, err = os.ReadFile(*file)
	}
	if err != nil {
		return fmt.Errorf("read key: %w", err)
	}
	s, err := csaf.NewSigner(string(b), cfg.TeamKeyPass)
	if err != nil {
		return err
	}
	pub, err := s.PublicKey()
	if err != nil {
		return err
	}
	p, err := csaf.WriteTeamKey(cfg.DataDir, b, pub, *force)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stderr, "imported team key %s into %s\n", s.Fingerprint(), p)
	fmt.Fprintln(env.Stdout, s.Fingerprint())
	return nil
}

func keysShow(_ context.Context, env Env, fs *flag.FlagSet, args []string) error {
	cfg, err := parse(env, fs, args, keyFlags(fs))
	if err != nil {
		return err
	}
	s, err := csaf.LoadTeamKey(cfg.TeamKey, cfg.DataDir, cfg.TeamKeyPass)
	if err != nil {
		return err
	}
	if s == nil {
		return fmt.Errorf("no team key: run 'focal keys init' or 'focal keys import', or set --team-key")
	}
	pub, err := s.PublicKey()
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "fingerprint: %s\n%s", s.Fingerprint(), pub)
	return nil
}
