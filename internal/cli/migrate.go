package cli

import (
	"context"
	"flag"
	"fmt"

	"focal/internal/app"
	"focal/internal/config"
	"focal/internal/store"
)

func runMigrate(ctx context.Context, env Env, fs *flag.FlagSet, args []string) error {
	loader := config.Register(fs, "config", "data", "db")
	cfg, err := parse(env, fs, args, loader)
	if err != nil {
		return err
	}
	if cfg.DB == "" {
		if err := app.PrepareDataDir(cfg.DataDir); err != nil {
			return err
		}
	}
	st, err := store.Open(ctx, cfg.DB, cfg.DataDir)
	if err != nil {
		return fmt.Errorf("%w (set --db or FOCAL_DB)", err)
	}
	defer st.Close()
	applied, err := st.Migrate(ctx)
	for _, name := range applied {
		fmt.Fprintf(env.Stdout, "applied %s\n", name)
	}
	if err != nil {
		return err
	}
	v, err := st.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "%s is at schema version %d\n", st, v)
	return nil
}
