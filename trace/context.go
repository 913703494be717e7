package trace

import (
	"context"
	"fmt"
	"net/http"
	"unsafe"

	"github.com/jiec/httpmw/internal/traceid"
)

// value is the per-request state of the middleware. It is itself the
// request's context: it embeds the parent context and answers the
// internal/traceid key, which saves the context.WithValue allocation on
// every request. It is allocated once per request and never changed after
// the handler chain starts, so the strings that point into its buffers stay
// valid for as long as anything refers to them.
//
// It does not refer to the *http.Request (a context kept by a goroutine or
// a log record after the handler returned must not keep the request, its
// body and connection state alive); it keeps the incoming header map, which
// net/http bounds (Server.MaxHeaderBytes), to recognize lines a proxy copies
// to an outgoing request.
//
// Pointer-free fields come last, so the garbage collector scans less.
type value struct {
	context.Context         // the parent
	c               *config // the middleware's config (header names, hooks)

	id   string      // the request's id (X-Trace-Id)
	from string      // the AlsoAccept header the id came from, or ""
	in   http.Header // the incoming request's header, nil when extracted

	hdrs [2]string // backing arrays of the response id header values
	sc   SpanContext

	extracted bool // made by Extract, not by a middleware handling a request
	ownSpan   bool // sc.SpanID is this hop's (not a forwarded parent-id)

	idBuf    [36]byte // backing store of id when generated as a UUID
	traceHex [32]byte // backing store of the trace_id log attribute (and of id when it is the trace-id)
	spanHex  [16]byte // backing store of the span_id log attribute
}

// Value answers the traceid key with v and delegates every other key.
func (v *value) Value(k any) any {
	if k == (traceid.Key{}) {
		return v
	}
	return v.Context.Value(k)
}

// String names the context for debugging, like the context package does.
func (v *value) String() string {
	if s, ok := v.Context.(fmt.Stringer); ok {
		return s.String() + ".WithValue(trace)"
	}
	return "context.WithValue(trace)"
}

// TraceID implements traceid.Carrier, so problem+json responses report it:
// the W3C trace-id in 32 hex digits, the value logs carry as trace_id.
func (v *value) TraceID() string { return v.traceID() }

// traceID returns the trace-id as 32 hex digits without allocating.
func (v *value) traceID() string { return unsafe.String(&v.traceHex[0], len(v.traceHex)) }

// spanID returns the span id as 16 hex digits without allocating.
func (v *value) spanID() string { return unsafe.String(&v.spanHex[0], len(v.spanHex)) }

// setSpanContext stores sc and its hex forms.
func (v *value) setSpanContext(sc SpanContext) {
	v.sc = sc
	encodeHex(v.traceHex[:], sc.TraceID[:])
	encodeHex(v.spanHex[:], sc.SpanID[:])
}

func fromContext(ctx context.Context) *value {
	v, _ := traceid.From(ctx).(*value)
	return v
}

// ID returns the request's id (the value echoed in the X-Trace-Id response
// header), or "" when ctx does not come from a request the middleware saw.
// By default it is the trace-id in 32 hex digits; a client's accepted id, a
// UUID (Config.UUIDVersion) or Config.NewID's id is a request id beside the
// trace-id.
func ID(ctx context.Context) string {
	if v := fromContext(ctx); v != nil {
		return v.id
	}
	return ""
}

// FromContext returns the W3C span context of the request, and false when
// ctx does not come from a request the middleware saw (or Extract).
func FromContext(ctx context.Context) (SpanContext, bool) {
	if v := fromContext(ctx); v != nil {
		return v.sc, true
	}
	return SpanContext{}, false
}

// hookSpan returns the span Config.SpanContextFrom reports as current in
// ctx (a span started by otelhttp or by the handler), if any.
func (v *value) hookSpan(ctx context.Context) (SpanContext, bool) {
	s, ok := v.c.hookSpan(ctx)
	return s, ok && !s.SpanID.IsZero()
}

// outgoing returns the span context an outgoing call made with ctx carries
// in its traceparent: a span reported by Config.SpanContextFrom (a real
// span, so its id is the parent downstream); with PassThrough, the request's
// unchanged; otherwise a new child of this hop's span.
func (v *value) outgoing(ctx context.Context) SpanContext {
	if s, ok := v.hookSpan(ctx); ok {
		if s.TraceState == "" && s.TraceID == v.sc.TraceID {
			s.TraceState = v.sc.TraceState
		}
		return s
	}
	sc := v.sc
	if !v.c.passThrough {
		sc.SpanID = randomSpanID()
	}
	return sc
}
