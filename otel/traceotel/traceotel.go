package traceotel

import (
	"context"
	"strings"

	"go.opentelemetry.io/otel/propagation"
	oteltrace "go.opentelemetry.io/otel/trace"

	"github.com/jiec/httpmw/trace"
)

// SpanContextFrom returns the OpenTelemetry span context of ctx as a
// trace.SpanContext, for trace.Config.SpanContextFrom. A span of this
// process gives its trace-id, span id, flags and tracestate; a remote span
// context (extracted, no span started yet) is reported as the parent
// (ParentID set, SpanID zero). It reports false when ctx holds no valid span
// context.
func SpanContextFrom(ctx context.Context) (trace.SpanContext, bool) {
	osc := oteltrace.SpanContextFromContext(ctx)
	if !osc.IsValid() {
		return trace.SpanContext{}, false
	}
	sc := trace.SpanContext{
		TraceID:    trace.TraceID(osc.TraceID()),
		Flags:      trace.Flags(osc.TraceFlags()),
		TraceState: osc.TraceState().String(),
	}
	if osc.IsRemote() {
		sc.ParentID = trace.SpanID(osc.SpanID())
	} else {
		sc.SpanID = trace.SpanID(osc.SpanID())
	}
	return sc, true
}

// Propagator returns the propagation.TextMapPropagator of m's id headers
// (nil m: the zero Config's, X-Trace-Id and X-Request-Id).
func Propagator(m *trace.Middleware) propagation.TextMapPropagator {
	if m == nil {
		m, _ = trace.New(trace.Config{})
	}
	names := m.IDHeaders()
	fields := make([]string, len(names))
	for i, n := range names {
		fields[i] = strings.ToLower(n)
	}
	return &propagator{m: m, fields: fields}
}

type propagator struct {
	m      *trace.Middleware
	fields []string // lowercase; fields[0] is the header the id is sent in
}

// Inject writes the id of ctx: trace.ID when the middleware (or Extract)
// saw ctx, otherwise the trace-id of the current span.
func (p *propagator) Inject(ctx context.Context, c propagation.TextMapCarrier) {
	id := trace.ID(ctx)
	if id == "" {
		if osc := oteltrace.SpanContextFromContext(ctx); osc.IsValid() {
			id = osc.TraceID().String()
		}
	}
	if id != "" {
		c.Set(p.fields[0], id)
	}
}

// Extract returns ctx with the id read from c (trace.Middleware.Extract).
// When ctx already carries the trace of a trace middleware that ran before
// (trace outside otelhttp), it is kept and, unless OpenTelemetry already has
// a span context, handed to OpenTelemetry as the remote parent: the
// caller's span when the trace was continued, else this hop's.
func (p *propagator) Extract(ctx context.Context, c propagation.TextMapCarrier) context.Context {
	sc, ok := trace.FromContext(ctx)
	if !ok {
		return p.m.Extract(ctx, c)
	}
	if oteltrace.SpanContextFromContext(ctx).IsValid() {
		return ctx
	}
	parent := sc.SpanID
	if sc.IsRemote() {
		parent = sc.ParentID
	}
	ts, _ := oteltrace.ParseTraceState(sc.TraceState) // OpenTelemetry's older key grammar may refuse some
	return oteltrace.ContextWithRemoteSpanContext(ctx, oteltrace.NewSpanContext(oteltrace.SpanContextConfig{
		TraceID:    oteltrace.TraceID(sc.TraceID),
		SpanID:     oteltrace.SpanID(parent),
		TraceFlags: oteltrace.TraceFlags(sc.Flags),
		TraceState: ts,
		Remote:     true,
	}))
}

// Fields returns the id header names, lowercase.
func (p *propagator) Fields() []string { return append([]string(nil), p.fields...) }
