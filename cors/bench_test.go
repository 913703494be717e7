package cors_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/jiec/httpmw/cors"
)

// benchWriter is a reusable ResponseWriter: the benchmarks measure the
// middleware, not httptest.NewRecorder.
type benchWriter struct {
	h    http.Header
	code int
}

func (w *benchWriter) Header() http.Header         { return w.h }
func (w *benchWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *benchWriter) WriteHeader(code int)        { w.code = code }

var benchConfig = cors.Config{
	Origins:        []string{"https://example.com"},
	Methods:        []string{http.MethodPut},
	RequestHeaders: []string{"Authorization", "Content-Type"},
}

func benchRequest(method string, hdr map[string]string) *http.Request {
	r, _ := http.NewRequest(method, "https://api.example.com/", nil)
	for k, v := range hdr {
		r.Header.Set(k, v)
	}
	return r
}

func BenchmarkMiddleware(b *testing.B) {
	b.Run("type=init/cfg=spa", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := cors.New(spa); err != nil {
				b.Fatal(err)
			}
		}
	})
	m, err := cors.New(benchConfig)
	if err != nil {
		b.Fatal(err)
	}
	h := m.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	cases := []struct {
		name string
		req  *http.Request
	}{
		{"req=actual/origin=allowed", benchRequest(http.MethodGet, map[string]string{"Origin": "https://example.com"})},
		{"req=actual/origin=disallowed", benchRequest(http.MethodGet, map[string]string{"Origin": "https://evil.com"})},
		{"req=actual/origin=none", benchRequest(http.MethodGet, nil)},
		{"req=preflight/origin=allowed", benchRequest(http.MethodOptions, map[string]string{
			"Origin": "https://example.com", "Access-Control-Request-Method": "PUT"})},
		{"req=preflight/origin=allowed/acrh=2", benchRequest(http.MethodOptions, map[string]string{
			"Origin": "https://example.com", "Access-Control-Request-Method": "PUT",
			"Access-Control-Request-Headers": "authorization,content-type"})},
		{"req=preflight/origin=disallowed", benchRequest(http.MethodOptions, map[string]string{
			"Origin": "https://evil.com", "Access-Control-Request-Method": "PUT"})},
		{"req=preflight/origin=allowed/acrh=evil", benchRequest(http.MethodOptions, map[string]string{
			"Origin": "https://example.com", "Access-Control-Request-Method": "PUT",
			"Access-Control-Request-Headers": strings.Repeat(",", 1024)})},
	}
	for _, tc := range cases {
		b.Run("type=exec/"+tc.name, func(b *testing.B) {
			w := &benchWriter{h: http.Header{}}
			b.ReportAllocs()
			for b.Loop() {
				clear(w.h)
				h.ServeHTTP(w, tc.req)
			}
		})
	}
}
