package app

import (
	"context"
	"fmt"

	"focal/internal/pipeline"
)

// startPipeline creates the pipeline, ensures its stream and starts this
// process's workers (none with --workers 0).
func (a *App) startPipeline(ctx context.Context, wctx context.Context) error {
	workers := a.Config.Workers
	if workers == 0 {
		workers = -1
	}
	a.Pipeline = pipeline.New(pipeline.Config{
		Store:          a.Store,
		Bus:            a.Bus,
		Lookup:         a.Lookup,
		Geo:            a.geo,
		Logger:         a.Logger,
		Workers:        workers,
		StreamMaxBytes: max(a.Config.IngestQueueMB, 1) << 20,
		Registerer:     a.Registry,
	})
	if err := a.Pipeline.EnsureStream(ctx); err != nil {
		return fmt.Errorf("pipeline: %w", err)
	}
	if workers > 0 {
		if err := a.Pipeline.Start(wctx); err != nil {
			return err
		}
	}
	return nil
}
