package trace_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/jiec/httpmw/trace"
)

// discardWriter is a ResponseWriter whose header map is cleared between
// iterations, so the benchmarks measure the middleware, not a recorder.
type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *discardWriter) WriteHeader(int)             {}

var noop = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})

func benchRequest(headers ...string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	for i := 0; i+1 < len(headers); i += 2 {
		r.Header.Set(headers[i], headers[i+1])
	}
	return r
}

var benchRequests = []struct {
	name string
	r    *http.Request
}{
	{"generate", benchRequest()},
	{"accept-id", benchRequest("X-Trace-Id", "0190b4a5-9c7e-7d43-8a2b-3f5e6d7c8b9a")},
	{"accept-traceparent", benchRequest(
		"Traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
		"Tracestate", "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE")},
}

func BenchmarkMiddleware(b *testing.B) {
	v4, _ := trace.New(trace.Config{UUIDVersion: 4})
	logged, _ := trace.New(trace.Config{AccessLog: slog.New(trace.NewLogHandler(slog.DiscardHandler))})
	cfgs := []struct {
		name string
		h    http.Handler
	}{
		{"default", trace.Handler(noop)},
		{"uuidv4", v4.Handler(noop)},
		{"accesslog", logged.Handler(noop)},
	}
	for _, cfg := range cfgs {
		for _, rq := range benchRequests {
			b.Run("type=exec/cfg="+cfg.name+"/req="+rq.name, func(b *testing.B) {
				w := &discardWriter{h: make(http.Header)}
				b.ReportAllocs()
				for b.Loop() {
					clear(w.h)
					cfg.h.ServeHTTP(w, rq.r)
				}
			})
		}
	}
	// Parallel, because that mirrors how HTTP handlers run (id generation
	// must not serialize requests on a shared lock).
	for _, rq := range benchRequests {
		b.Run("type=exec-parallel/cfg=default/req="+rq.name, func(b *testing.B) {
			h := trace.Handler(noop)
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				w := &discardWriter{h: make(http.Header)}
				for pb.Next() {
					clear(w.h)
					h.ServeHTTP(w, rq.r)
				}
			})
		})
	}
}

func BenchmarkParseTraceparent(b *testing.B) {
	v := []string{"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := trace.ParseTraceparent(v); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseTraceState(b *testing.B) {
	for _, c := range []struct{ name, v string }{
		{"clean", "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"},
		{"normalized", "rojo=00f067aa0ba902b7 , congo=t61rcWkgMzE,"},
	} {
		b.Run("in="+c.name, func(b *testing.B) {
			v := []string{c.v}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := trace.ParseTraceState(v, 512); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkLogHandler(b *testing.B) {
	ctx := context.Background()
	trace.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx = r.Context()
	})).ServeHTTP(httptest.NewRecorder(), benchRequest())
	logger := slog.New(trace.NewLogHandler(slog.NewJSONHandler(io.Discard, nil)))
	b.ReportAllocs()
	for b.Loop() {
		logger.InfoContext(ctx, "message", "k", 1)
	}
}

func BenchmarkTransport(b *testing.B) {
	ctx := context.Background()
	trace.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx = r.Context()
	})).ServeHTTP(httptest.NewRecorder(), benchRequest("Traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"))
	rt := trace.Transport(roundTripFunc(func(r *http.Request) (*http.Response, error) { return nil, nil }))
	r, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://downstream.test/", nil)
	b.ReportAllocs()
	for b.Loop() {
		_, _ = rt.RoundTrip(r)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func BenchmarkInjectExtract(b *testing.B) {
	ctx := context.Background()
	trace.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx = r.Context()
	})).ServeHTTP(httptest.NewRecorder(), benchRequest("Traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"))
	b.Run("op=inject", func(b *testing.B) {
		c := trace.MapCarrier{}
		b.ReportAllocs()
		for b.Loop() {
			trace.Inject(ctx, c)
		}
	})
	b.Run("op=extract", func(b *testing.B) {
		c := trace.MapCarrier{}
		trace.Inject(ctx, c)
		b.ReportAllocs()
		for b.Loop() {
			_ = trace.Extract(context.Background(), c)
		}
	})
}
