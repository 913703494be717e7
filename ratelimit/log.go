package ratelimit

import "log/slog"

const slogWarn = slog.LevelWarn

func slogErr(err error) slog.Attr { return slog.String("error", err.Error()) }
