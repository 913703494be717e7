package traceotel_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/jiec/httpmw/otel/traceotel"
	"github.com/jiec/httpmw/trace"
)

// otelhttp outside trace, slog records through trace.NewLogHandler: the
// response's X-Trace-Id, the log record's trace_id and span_id and the span
// OpenTelemetry records are one trace.
func Example() {
	spans := tracetest.NewSpanRecorder()
	provider := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	defer provider.Shutdown(context.Background())

	var logs bytes.Buffer
	logger := slog.New(trace.NewLogHandler(slog.NewJSONHandler(&logs, nil)))

	tr, err := trace.New(trace.Config{SpanContextFrom: traceotel.SpanContextFrom})
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /orders/{id}", func(w http.ResponseWriter, r *http.Request) {
		logger.InfoContext(r.Context(), "loading order", "id", r.PathValue("id"))
	})
	handler := otelhttp.NewHandler(tr.Handler(mux), "orders",
		otelhttp.WithTracerProvider(provider), // usually the global one
		otelhttp.WithPropagators(propagation.TraceContext{}))

	rec := httptest.NewRecorder()
	handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/orders/7", nil))

	var line struct {
		TraceID string `json:"trace_id"`
		SpanID  string `json:"span_id"`
	}
	_ = json.Unmarshal(logs.Bytes(), &line)
	span := spans.Ended()[0].SpanContext()
	fmt.Println("X-Trace-Id is the recorded trace:", rec.Header().Get("X-Trace-Id") == span.TraceID().String())
	fmt.Println("log trace_id is the recorded trace:", line.TraceID == span.TraceID().String())
	fmt.Println("log span_id is the server span:", line.SpanID == span.SpanID().String())
	// Output:
	// X-Trace-Id is the recorded trace: true
	// log trace_id is the recorded trace: true
	// log span_id is the server span: true
}

// Propagator registered after the W3C propagator, for trace outside
// otelhttp or for any OpenTelemetry instrumentation: ids travel with
// traceparent.
func ExamplePropagator() {
	tr, _ := trace.New(trace.Config{})
	prop := propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, traceotel.Propagator(tr))
	// otel.SetTextMapPropagator(prop) in a program.
	fields := prop.Fields() // a set: the composite's order varies
	slices.Sort(fields)
	fmt.Println(fields)

	msg := propagation.MapCarrier{"x-request-id": "job-42"}
	ctx := prop.Extract(context.Background(), msg)
	fmt.Println("id:", trace.ID(ctx))
	// Output:
	// [traceparent tracestate x-request-id x-trace-id]
	// id: job-42
}
