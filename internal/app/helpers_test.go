package app_test

import (
	"io"
	"log/slog"
)

func nullLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
