package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"time"

	"focal/internal/auth"
	"focal/internal/focal"
)

func runToken(ctx context.Context, env Env, fs *flag.FlagSet, args []string) error {
	return runGroup(ctx, env, fs, args, "token", []subcommand{
		{"create", "--user NAME [--expires 720h] [--name NAME] [--scope read|write]", "create an API token for an account and print it once", tokenCreate},
	})
}

// maxTokenLifetime bounds --expires: a token should be rotated, not kept
// for ever.
const maxTokenLifetime = 2 * 365 * 24 * time.Hour

func tokenCreate(ctx context.Context, env Env, fs *flag.FlagSet, args []string) (err error) {
	user := fs.String("user", "", "login name of the account the token acts as (required)")
	expires := fs.Duration("expires", 720*time.Hour, "how long the token is valid, at most 17520h (two years)")
	name := fs.String("name", "api", "a name for the token, to tell it from the account's others")
	scope := fs.String("scope", "read", "what the token may do: read or write")
	cfg, err := parse(env, fs, args, storeFlags(fs))
	if err != nil {
		return err
	}
	switch {
	case *user == "":
		return usagef("--user is required")
	case *expires <= 0 || *expires > maxTokenLifetime:
		return usagef("--expires: want a duration between 1s and %s, got %s", maxTokenLifetime, *expires)
	case *scope != "read" && *scope != "write":
		return usagef("--scope: want read or write, got %q", *scope)
	case *name == "" || len(*name) > 100:
		return usagef("--name: want 1 to 100 characters")
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, st.Close()) }()
	ctx = operator(ctx)
	u, err := userByName(ctx, st, *user)
	if err != nil {
		return err
	}
	if u.Disabled {
		return fmt.Errorf("user %s is disabled: its tokens would not work (run 'focal user enable' first)", u.Name)
	}
	token, hash, err := auth.NewToken(auth.APITokenPrefix)
	if err != nil {
		return err
	}
	t := &focal.Token{UserID: u.ID, Name: *name, Scope: *scope, ExpiresAt: time.Now().Add(*expires).UTC().Truncate(time.Second)}
	if err := st.CreateToken(ctx, t, hash); err != nil {
		return storeError(err)
	}
	fmt.Fprintf(env.Stderr, "created token %q (scope %s) for user %s, valid until %s; it is shown only this once, store it now:\n",
		t.Name, t.Scope, u.Name, t.ExpiresAt.Format(time.RFC3339))
	fmt.Fprintln(env.Stdout, token)
	return nil
}
