// Package trace gives every request an id and a W3C Trace Context that the
// client, every log line and every downstream call can see.
//
// # Ids
//
// An incoming id in X-Trace-Id (or X-Request-Id, see Config.AlsoAccept) is
// used when it is 1 to 128 characters from A-Z a-z 0-9 '-' '_' '.' ':' and
// the header has one field line; anything else is ignored, never echoed or
// logged. Otherwise the middleware generates a UUIDv7 (Config.UUIDVersion,
// Config.NewID). Config.TrustIncoming lets an edge service refuse client ids
// and trace context altogether.
//
// The id is echoed in the response header before the next handler runs, so
// it is present on responses that inner middlewares answer by themselves
// (CORS preflight, 304, 429, problem+json errors, which also carry it as
// "trace_id"). Browsers read it only when CORS exposes it
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
// keeps its trace-id and gets a new span id for this hop; an invalid or
// missing one starts a new trace and drops tracestate. tracestate lines are
// combined; at most 32 members, key and value grammar checked (a malformed
// member or a 33rd drops the whole tracestate), repeated keys keep the
// left-most entry, and values longer than Config.TraceStateLimit (default
// 512) are truncated by whole members as the specification describes.
//
// The two views agree: a generated id is a UUID whose 16 bytes are the
// trace-id; an incoming UUID id (36 characters, or 32 hex digits) is the
// trace-id of a trace started here; a trace continued from traceparent
// without an id header gets the trace-id in hex as its id. When a client sends
// both an id and a valid traceparent that disagree, the id is kept for
// echoing and logging and the traceparent's trace-id for tracing.
//
// # Context, logs and outgoing calls
//
// ID(ctx) and FromContext(ctx) read the id and the span context. NewLogHandler
// wraps a slog.Handler to add trace_id and span_id to records logged with a
// request context; Config.AccessLog logs one record per request. Transport
// propagates the id, a child traceparent and tracestate to outgoing requests
// made with the request's context.
//
// # Order
//
// trace is the outermost middleware:
//
//	trace → security → cors → ratelimit → idempotency → compress → cache → negotiate → handler
//
// Stacked twice, the inner instance reuses the outer id.
package trace
