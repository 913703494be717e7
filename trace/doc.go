// Package trace gives every request an id and a W3C Trace Context that the
// client, every log line, every downstream call and the tracing backend
// agree on.
//
// # Ids
//
// An incoming id in X-Trace-Id (or X-Request-Id, see Config.AlsoAccept) is
// used when it is 1 to 128 characters from A-Z a-z 0-9 '-' '_' '.' ':' and
// the header has one field line; anything else is ignored, never echoed or
// logged. Config.TrustIncoming lets an edge service refuse client ids and
// trace context altogether.
//
// Otherwise the id is the W3C trace-id in 32 lowercase hex digits, the form
// a tracing backend (Tempo, Jaeger, Datadog) searches for. Generated
// trace-ids are 6 bytes of Unix milliseconds (ids sort by time; read as the
// monotonic time since a wall-clock reading at most a second old, one clock
// read per id) followed by
// 10 uniformly random bytes, with the random-trace-id flag: the right-most 7
// bytes the flag promises and bytes 8-15, which OpenTelemetry's
// TraceIDRatioBased sampler reads, are uniform. (UUIDs are not: their
// version and variant bits made ratio samplers downstream sample all or
// nothing.) Config.UUIDVersion 4 or 7 generates an RFC 9562 UUID request id
// instead, beside a separate trace-id; Config.NewID plugs in a generator.
// A client id of 32 hex digits becomes the trace-id of a trace started here;
// other client ids are request ids beside a new trace-id.
//
// The id is echoed in the response header before the next handler runs, so
// it is present on responses that inner middlewares answer by themselves
// (CORS preflight, 304, 429, problem+json errors, which carry the trace-id
// as "trace_id"). Browsers read it only when CORS exposes it
// (Access-Control-Expose-Headers: X-Trace-Id), and send traceparent,
// tracestate and X-Trace-Id only when Access-Control-Allow-Headers lists
// them.
//
// # W3C Trace Context (Level 2)
//
// traceparent and tracestate are parsed exactly per the specification:
// version 00 and future versions (parsed with the 00 layout, never "ff"),
// lowercase hex, all-zero trace-id and parent-id invalid, exactly one
// traceparent field line, OWS ignored; trace-flags keep the sampled (0x01)
// and random (0x02) bits and clear the reserved ones. A valid traceparent
// keeps its trace-id and flags and gets a new span id for this hop (or,
// with Config.PassThrough, is forwarded unchanged); an invalid or missing
// one starts a new trace and drops tracestate. tracestate lines are
// combined; at most 32 members, key and value grammar checked (a malformed
// member or a 33rd drops the whole tracestate), repeated keys keep the
// left-most entry, and values longer than Config.TraceStateLimit (default
// 512) are truncated by whole members as the specification describes.
//
// Sampling: traces started here are sampled by default. The middleware
// logs every request with its trace_id (a definitive recording decision,
// which the spec says the sampled flag SHOULD reflect), and an unsampled
// flag would make the parent-based samplers most downstream services use
// (OpenTelemetry's default) drop the trace silently. Config.Sampling offers
// SampleNone and SampleRatio (decided like OpenTelemetry's
// TraceIDRatioBased, so services agree). Continued traces keep the
// caller's flag.
//
// Config.ServerTiming returns this hop's trace context to the client in the
// form the Level 2 editor's draft defines (it replaced the traceresponse
// header): "Server-Timing: trace;desc=00-<trace-id>-<span-id>-<flags>".
//
// # Context, logs and outgoing calls
//
// ID(ctx) and FromContext(ctx) read the id and the span context; the
// context does not keep the *http.Request alive after the handler returns.
// NewLogHandler wraps a slog.Handler to add trace_id (32 hex), span_id (16
// hex) and request_id to records logged with a request context: otelslog's
// names, configurable with LogHandler.WithKeys and Config.LogKeys;
// Config.AccessLog logs one record per request. Transport propagates the
// id, a traceparent and tracestate to outgoing requests made with the
// request's context, removes every accepted id header a proxy copied from
// the client, and sends nothing to destinations Config.PropagateTo refuses
// (HostAllowlist), redirects included. Inject and Extract do the same for
// any carrier (message queues, gRPC metadata).
//
// # OpenTelemetry
//
// Config.SpanContextFrom is the hook for a tracer: when it reports a span
// (otelhttp's server span), that span is the request's trace, and child
// spans current when logging or calling out are used. The package itself
// does not depend on OpenTelemetry; github.com/jiec/httpmw/otel/traceotel,
// a separate module, fills the hook in and provides a TextMapPropagator for
// the id headers. Put otelhttp outside this middleware.
//
// # Order
//
// trace is the outermost middleware (otelhttp, if any, goes around it):
//
//	trace → security → cors → ratelimit → idempotency → compress → cache → negotiate → handler
//
// Stacked twice, the inner instance reuses the outer id.
package trace
