// Package traceotel makes github.com/jiec/httpmw/trace work with
// OpenTelemetry: the id, logs, problem+json and outgoing calls name the
// trace and span that OpenTelemetry records, not a second trace beside it.
//
// It lives in its own module (github.com/jiec/httpmw/otel), so the core
// module stays free of OpenTelemetry; it depends on the OpenTelemetry trace
// API (go.opentelemetry.io/otel/trace, and go.opentelemetry.io/otel for the
// propagation interface), never on the SDK.
//
// # Set-up
//
//	tr, _ := trace.New(trace.Config{SpanContextFrom: traceotel.SpanContextFrom})
//	handler := otelhttp.NewHandler(tr.Handler(mux), "server") // otelhttp outside
//	logger := slog.New(trace.NewLogHandler(slog.NewJSONHandler(os.Stdout, nil)))
//	client := &http.Client{Transport: trace.Transport(otelhttp.NewTransport(nil))}
//
// SpanContextFrom reads the OpenTelemetry span context of a context. With it
// in trace.Config:
//   - the server span otelhttp started is the request's trace: X-Trace-Id is
//     its trace-id (unless the client sent an id), logs carry its trace_id,
//     problem+json documents its trace_id;
//   - log records logged with a context holding a child span carry that
//     span's span_id (trace.NewLogHandler);
//   - trace.Transport and trace.Inject send the current span as parent-id, a
//     span the backend has, so the trace does not break at this hop.
//
// # Where otelhttp goes
//
// Outside trace (recommended): otelhttp extracts traceparent with its
// propagator, starts the server span, and trace uses it. With trace outside
// otelhttp, register Propagator in otelhttp's propagators after
// propagation.TraceContext: its Extract hands the trace that trace started
// (or continued) to OpenTelemetry as the remote parent, so there is one
// trace-id; the server span's parent is then the caller's span when there
// was one, otherwise this hop's span id, which no backend records. Either
// way trace.Transport may wrap otelhttp.NewTransport or the reverse: a
// traceparent the caller (otelhttp) set is kept.
//
// # Propagator
//
// Propagator is a propagation.TextMapPropagator for the id headers
// (X-Trace-Id, X-Request-Id), to register next to the W3C one:
//
//	otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(
//		propagation.TraceContext{}, propagation.Baggage{}, traceotel.Propagator(tr)))
//
// Its Inject writes the request's id (trace.ID, else the current trace-id);
// its Extract reads the id for any OpenTelemetry instrumentation (HTTP,
// gRPC, message queues), as trace.Middleware.Extract does.
package traceotel
