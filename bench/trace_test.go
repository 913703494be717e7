package bench

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/go-chi/chi/v5/middleware"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/jiec/httpmw/trace"
)

// The trace benchmarks send the same request through each middleware around
// a no-op handler. w=recorder uses a fresh httptest.ResponseRecorder per
// request, as in the field notes' reference figures (the baseline row is that
// cost alone; echoing the id allocates the recorder's header map group, which
// chi, not echoing, never does); w=reused clears one header map between
// requests, isolating the middleware. "generate" carries no incoming id;
// "incoming" carries both X-Request-Id and a valid traceparent + tracestate,
// so every middleware finds what it accepts.
//
// otelhttp uses an SDK TracerProvider (default ParentBased(AlwaysSample)
// sampler, no exporter) and the W3C TraceContext propagator: the set-up that
// produces a trace-id a log line can carry.
func BenchmarkTrace(b *testing.B) {
	noop := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})
	tp := sdktrace.NewTracerProvider()
	b.Cleanup(func() { _ = tp.Shutdown(b.Context()) })

	impls := []struct {
		name string
		h    http.Handler
	}{
		{"baseline", noop},
		{"httpmw", trace.Handler(noop)},
		{"chi", middleware.RequestID(noop)},
		{"otelhttp", otelhttp.NewHandler(noop, "bench",
			otelhttp.WithTracerProvider(tp),
			otelhttp.WithPropagators(propagation.TraceContext{}))},
	}
	reqs := []struct {
		name string
		r    *http.Request
	}{
		{"generate", httptest.NewRequest(http.MethodGet, "/", nil)},
		{"incoming", func() *http.Request {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.Header.Set("X-Request-Id", "0190b4a5-9c7e-7d43-8a2b-3f5e6d7c8b9a")
			r.Header.Set("Traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
			r.Header.Set("Tracestate", "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE")
			return r
		}()},
	}
	for _, rq := range reqs {
		for _, impl := range impls {
			b.Run("w=recorder/req="+rq.name+"/impl="+impl.name, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					impl.h.ServeHTTP(httptest.NewRecorder(), rq.r)
				}
			})
			b.Run("w=reused/req="+rq.name+"/impl="+impl.name, func(b *testing.B) {
				w := &traceWriter{h: make(http.Header)}
				b.ReportAllocs()
				for b.Loop() {
					clear(w.h)
					impl.h.ServeHTTP(w, rq.r)
				}
			})
		}
	}
}

// traceWriter is a ResponseWriter whose header map is reused.
type traceWriter struct{ h http.Header }

func (w *traceWriter) Header() http.Header         { return w.h }
func (w *traceWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *traceWriter) WriteHeader(int)             {}
