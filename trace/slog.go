package trace

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
)

// Default attribute keys added to log records: otelslog's and the
// OpenTelemetry log data model's names for the trace-id and span id, which
// Grafana, Tempo and Datadog use to link logs to traces.
const (
	KeyTraceID   = "trace_id"   // the W3C trace-id, 32 lowercase hex digits
	KeySpanID    = "span_id"    // the span id, 16 lowercase hex digits
	KeyRequestID = "request_id" // the request's id (ID, echoed in X-Trace-Id)
)

// LogKeys names the attributes LogHandler and the access log add. An empty
// field gets its default (KeyTraceID, KeySpanID, KeyRequestID).
type LogKeys struct {
	TraceID, SpanID, RequestID string
}

func (k LogKeys) withDefaults() LogKeys {
	if k.TraceID == "" {
		k.TraceID = KeyTraceID
	}
	if k.SpanID == "" {
		k.SpanID = KeySpanID
	}
	if k.RequestID == "" {
		k.RequestID = KeyRequestID
	}
	return k
}

// check reports keys that are used twice.
func (k LogKeys) check() error {
	if k.TraceID == k.SpanID || k.TraceID == k.RequestID || k.SpanID == k.RequestID {
		return fmt.Errorf("trace: LogKeys: keys must differ (value %q)", fmt.Sprint([]string{k.TraceID, k.SpanID, k.RequestID}))
	}
	return nil
}

// attrs returns the three attributes for v, using span (the current span).
func (k *LogKeys) attrs(v *value, traceID, spanID string) [3]slog.Attr {
	return [3]slog.Attr{
		slog.String(k.TraceID, traceID),
		slog.String(k.SpanID, spanID),
		slog.String(k.RequestID, v.id),
	}
}

// LogHandler is a slog.Handler that adds the request's trace_id (the W3C
// trace-id, 32 hex digits), span_id (16 hex digits) and request_id (the id
// echoed in X-Trace-Id, see ID) to every record logged with a request
// context, then passes the record to the handler it wraps. Because it reads
// the ids from the record's context, it works wherever the logger sits
// relative to the middleware; records logged without context (or outside a
// request) pass through unchanged. With Config.SpanContextFrom (the
// OpenTelemetry bridge), a span current in the record's context (a child
// span the handler started) gives trace_id and span_id.
//
// Under Logger.WithGroup the attributes land in the group, like any other
// record attribute.
type LogHandler struct {
	next slog.Handler
	keys LogKeys
}

// NewLogHandler returns a LogHandler wrapping next, with the default keys.
func NewLogHandler(next slog.Handler) *LogHandler {
	if lh, ok := next.(*LogHandler); ok {
		return lh // wrapping twice would add the attributes twice
	}
	return &LogHandler{next: next, keys: LogKeys{}.withDefaults()}
}

// errLogKeys is returned by WithKeys for keys used twice.
var errLogKeys = errors.New("trace: LogKeys: keys must differ")

// WithKeys returns a LogHandler that names the attributes keys (empty
// fields keep their defaults), or an error when two keys are equal.
func (h *LogHandler) WithKeys(keys LogKeys) (*LogHandler, error) {
	keys = keys.withDefaults()
	if keys.check() != nil {
		return nil, fmt.Errorf("%w (value %q)", errLogKeys, fmt.Sprint([]string{keys.TraceID, keys.SpanID, keys.RequestID}))
	}
	return &LogHandler{next: h.next, keys: keys}, nil
}

// Enabled reports whether the wrapped handler handles level.
func (h *LogHandler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.next.Enabled(ctx, level)
}

// Handle adds trace_id, span_id and request_id when ctx carries them.
func (h *LogHandler) Handle(ctx context.Context, r slog.Record) error {
	if ctx != nil {
		if v := fromContext(ctx); v != nil {
			traceID, spanID := v.traceID(), v.spanID()
			if s, ok := v.hookSpan(ctx); ok && s.SpanID != v.sc.SpanID {
				traceID, spanID = s.TraceID.String(), s.SpanID.String()
			}
			a := h.keys.attrs(v, traceID, spanID)
			r = r.Clone() // never append to a record another handler may share
			r.AddAttrs(a[:]...)
		}
	}
	return h.next.Handle(ctx, r)
}

// WithAttrs returns a LogHandler around next.WithAttrs(attrs).
func (h *LogHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &LogHandler{next: h.next.WithAttrs(attrs), keys: h.keys}
}

// WithGroup returns a LogHandler around next.WithGroup(name).
func (h *LogHandler) WithGroup(name string) slog.Handler {
	return &LogHandler{next: h.next.WithGroup(name), keys: h.keys}
}
