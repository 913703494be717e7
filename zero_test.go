package httpmw_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/jiec/httpmw/cache"
	"github.com/jiec/httpmw/compress"
	"github.com/jiec/httpmw/cors"
	"github.com/jiec/httpmw/idempotency"
	"github.com/jiec/httpmw/negotiate"
	"github.com/jiec/httpmw/ratelimit"
	"github.com/jiec/httpmw/security"
	"github.com/jiec/httpmw/trace"
)

// TestZeroMiddlewarePassesThrough: in every package a nil or zero
// Middleware (New not called) hands requests to the next handler untouched:
// no header, no wrapping, no panic.
func TestZeroMiddlewarePassesThrough(t *testing.T) {
	mws := map[string][2]func(http.Handler) http.Handler{
		"trace":       {(*trace.Middleware)(nil).Handler, new(trace.Middleware).Handler},
		"security":    {(*security.Middleware)(nil).Handler, new(security.Middleware).Handler},
		"cors":        {(*cors.Middleware)(nil).Handler, new(cors.Middleware).Handler},
		"compress":    {(*compress.Middleware)(nil).Handler, new(compress.Middleware).Handler},
		"cache":       {(*cache.Middleware)(nil).Handler, new(cache.Middleware).Handler},
		"negotiate":   {(*negotiate.Middleware)(nil).Handler, new(negotiate.Middleware).Handler},
		"ratelimit":   {(*ratelimit.Middleware)(nil).Handler, new(ratelimit.Middleware).Handler},
		"idempotency": {(*idempotency.Middleware)(nil).Handler, new(idempotency.Middleware).Handler},
	}
	for name, pair := range mws {
		for i, mw := range pair {
			t.Run(name+[]string{"/nil", "/zero"}[i], func(t *testing.T) {
				var got http.ResponseWriter
				h := mw(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
					got = w
					_, _ = w.Write([]byte("ok"))
				}))
				rec := httptest.NewRecorder()
				r := httptest.NewRequest(http.MethodPost, "/", nil)
				r.Header.Set("Accept-Encoding", "gzip")
				r.Header.Set("Origin", "https://example.com")
				r.Header.Set("Idempotency-Key", `"k"`)
				h.ServeHTTP(rec, r)
				if got != rec {
					t.Errorf("handler got %T, want the server's writer", got)
				}
				if len(rec.Header()) != 1 || rec.Body.String() != "ok" { // Content-Type sniffed
					t.Errorf("response %v %q, want untouched", rec.Header(), rec.Body)
				}
			})
		}
	}
}
