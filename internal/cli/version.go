package cli

import (
	"context"
	"flag"
	"fmt"

	"focal/internal/version"
)

func runVersion(ctx context.Context, env Env, fs *flag.FlagSet, args []string) error {
	if _, err := parse(env, fs, args, nil); err != nil {
		return err
	}
	fmt.Fprintln(env.Stdout, version.String())
	return nil
}
