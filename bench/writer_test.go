package bench

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/felixge/httpsnoop"
	"github.com/go-chi/chi/v5/middleware"

	"github.com/jiec/httpmw/internal/writer"
)

// writerRW is a reusable ResponseWriter (with Flush) that allocates nothing,
// so that the benchmarks measure the wrappers only.
type writerRW struct{ h http.Header }

func (w *writerRW) Header() http.Header         { return w.h }
func (w *writerRW) Write(p []byte) (int, error) { return len(p), nil }
func (w *writerRW) WriteHeader(int)             {}
func (w *writerRW) Flush()                      {}

var writerBody = []byte(strings.Repeat("x", 512))

// writerHandler writes a status, some body, flushes, and writes more: the
// calls a status-observing wrapper intercepts.
var writerHandler = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(writerBody)
	w.(http.Flusher).Flush()
	_, _ = w.Write(writerBody)
})

// statusRecorder is how an httpmw package observes the status: a pooled
// struct embedding writer.Writer, with an Interceptor hook.
type statusRecorder struct {
	writer.Writer
	code int
}

func (s *statusRecorder) Header(code int) bool { s.code = code; return true }

var statusPool = sync.Pool{New: func() any { return new(statusRecorder) }}

var writerImpls = []struct {
	name string
	wrap func(http.Handler) http.Handler
}{
	{"impl=none", func(h http.Handler) http.Handler { return h }},
	{"impl=httpmw", func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			s := statusPool.Get().(*statusRecorder)
			s.Reset(rw, s)
			next.ServeHTTP(&s.Writer, r)
			s.Reset(nil, nil)
			statusPool.Put(s)
		})
	}},
	{"impl=chi", func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			next.ServeHTTP(middleware.NewWrapResponseWriter(rw, r.ProtoMajor), r)
		})
	}},
	{"impl=httpsnoop", func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			code := 0
			next.ServeHTTP(httpsnoop.Wrap(rw, httpsnoop.Hooks{
				WriteHeader: func(f httpsnoop.WriteHeaderFunc) httpsnoop.WriteHeaderFunc {
					return func(c int) { code = c; f(c) }
				},
			}), r)
			_ = code
		})
	}},
}

// BenchmarkWriter compares the cost of wrapping the ResponseWriter to observe
// the status: httpmw's pooled writer.Writer, chi's WrapResponseWriter and
// httpsnoop (used by gorilla/handlers and otelhttp).
func BenchmarkWriter(b *testing.B) {
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	for _, impl := range writerImpls {
		b.Run(impl.name, func(b *testing.B) {
			h := impl.wrap(writerHandler)
			rw := &writerRW{h: make(http.Header)}
			b.ReportAllocs()
			for b.Loop() {
				h.ServeHTTP(rw, req)
			}
		})
	}
}
