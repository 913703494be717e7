package bench

import (
	"net/http"
	"strings"
	"testing"

	rscors "github.com/rs/cors"

	"github.com/jiec/httpmw/cors"
)

// corsWriter is a reusable ResponseWriter whose header map is cleared before
// each request, so that the benchmarks measure the middlewares only.
type corsWriter struct {
	h    http.Header
	code int
}

func (w *corsWriter) Header() http.Header         { return w.h }
func (w *corsWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *corsWriter) WriteHeader(code int)        { w.code = code }

func corsRequest(method string, hdr ...string) *http.Request {
	r, _ := http.NewRequest(method, "https://api.example.com/resource", nil)
	for i := 0; i < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	return r
}

// corsCases are the requests of the jub0bs/cors benchmark harness (see
// ../shared/notes/cors-security.md §4b): one allowed origin, PUT, two
// request headers.
var corsCases = []struct {
	name string
	req  *http.Request
}{
	{"req=actual/origin=allowed", corsRequest(http.MethodGet, "Origin", "https://example.com")},
	{"req=actual/origin=disallowed", corsRequest(http.MethodGet, "Origin", "https://evil.com")},
	{"req=actual/origin=none", corsRequest(http.MethodGet)},
	{"req=preflight/origin=allowed", corsRequest(http.MethodOptions,
		"Origin", "https://example.com", "Access-Control-Request-Method", "PUT")},
	{"req=preflight/origin=allowed/acrh=2", corsRequest(http.MethodOptions,
		"Origin", "https://example.com", "Access-Control-Request-Method", "PUT",
		"Access-Control-Request-Headers", "authorization,content-type")},
	{"req=preflight/origin=disallowed", corsRequest(http.MethodOptions,
		"Origin", "https://evil.com", "Access-Control-Request-Method", "PUT")},
	{"req=preflight/origin=allowed/acrh=evil1024", corsRequest(http.MethodOptions,
		"Origin", "https://example.com", "Access-Control-Request-Method", "PUT",
		"Access-Control-Request-Headers", strings.Repeat(",", 1024))},
	{"req=preflight/origin=allowed/acrh=evil1024names", corsRequest(http.MethodOptions,
		"Origin", "https://example.com", "Access-Control-Request-Method", "PUT",
		"Access-Control-Request-Headers", strings.Repeat("content-type,", 1024))},
}

func BenchmarkCORS(b *testing.B) {
	noop := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	ours, err := cors.New(cors.Config{
		Origins:        []string{"https://example.com"},
		Methods:        []string{http.MethodPut},
		RequestHeaders: []string{"Authorization", "Content-Type"},
	})
	if err != nil {
		b.Fatal(err)
	}
	// rs/cors checks the method of actual requests too (the bug our
	// package does not have), so GET must be listed for the same answers.
	rs := rscors.New(rscors.Options{
		AllowedOrigins: []string{"https://example.com"},
		AllowedMethods: []string{http.MethodGet, http.MethodPut},
		AllowedHeaders: []string{"Authorization", "Content-Type"},
	})
	libs := []struct {
		name string
		h    http.Handler
	}{
		{"lib=httpmw", ours.Handler(noop)},
		{"lib=rs-cors", rs.Handler(noop)},
	}
	for _, tc := range corsCases {
		for _, lib := range libs {
			b.Run(tc.name+"/"+lib.name, func(b *testing.B) {
				w := &corsWriter{h: http.Header{}}
				b.ReportAllocs()
				for b.Loop() {
					clear(w.h)
					lib.h.ServeHTTP(w, tc.req)
				}
			})
		}
	}
}
