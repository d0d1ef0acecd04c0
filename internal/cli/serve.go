package cli

import (
	"context"
	"flag"

	"focal/internal/app"
	"focal/internal/config"
)

func runServe(ctx context.Context, env Env, fs *flag.FlagSet, args []string) error {
	loader := config.Register(fs)
	cfg, err := parse(env, fs, args, loader)
	if err != nil {
		return err
	}
	a := app.New(cfg, NewLogger(env.Stderr, cfg.LogFormat, cfg.LogLevel))
	if err := a.Run(ctx); err != nil {
		return err
	}
	<-ctx.Done()
	a.Logger.Info("shutting down", "timeout", cfg.ShutdownTimeout.String())
	return a.Close()
}
