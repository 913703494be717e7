package trace

import (
	"context"
	"log/slog"
)

// Attribute keys added to log records.
const (
	KeyTraceID = "trace_id"
	KeySpanID  = "span_id"
)

// LogHandler is a slog.Handler that adds the request's trace_id (the id
// echoed in X-Trace-Id, see ID) and span_id to every record logged with a
// request context, then passes the record to the handler it wraps. Because
// it reads the ids from the record's context, it works wherever the logger
// sits relative to the middleware; records logged without context (or
// outside a request) pass through unchanged.
//
// Under Logger.WithGroup the two attributes land in the group, like any
// other record attribute.
type LogHandler struct {
	next slog.Handler
}

// NewLogHandler returns a LogHandler wrapping next.
func NewLogHandler(next slog.Handler) *LogHandler {
	if lh, ok := next.(*LogHandler); ok {
		return lh // wrapping twice would add the attributes twice
	}
	return &LogHandler{next: next}
}

// Enabled reports whether the wrapped handler handles level.
func (h *LogHandler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.next.Enabled(ctx, level)
}

// Handle adds trace_id and span_id when ctx carries them.
func (h *LogHandler) Handle(ctx context.Context, r slog.Record) error {
	if ctx != nil {
		if v := fromContext(ctx); v != nil {
			r = r.Clone() // never append to a record another handler may share
			r.AddAttrs(slog.String(KeyTraceID, v.id), slog.String(KeySpanID, v.spanID()))
		}
	}
	return h.next.Handle(ctx, r)
}

// WithAttrs returns a LogHandler around next.WithAttrs(attrs).
func (h *LogHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &LogHandler{next: h.next.WithAttrs(attrs)}
}

// WithGroup returns a LogHandler around next.WithGroup(name).
func (h *LogHandler) WithGroup(name string) slog.Handler {
	return &LogHandler{next: h.next.WithGroup(name)}
}
