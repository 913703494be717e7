package bench

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/jiec/httpmw/cache"
)

// The cache benchmarks answer the same requests for a 64 KiB resource,
// either with a fresh httptest.ResponseRecorder per request (w=recorder; the
// baseline row is that cost alone, and the recorder's WriteHeader clones the
// header map, which dominates a 304) or with one reused ResponseWriter whose
// header map is cleared (w=reused: the middleware's own cost).
//
//   - req=304: If-None-Match carries the current tag. http.ServeContent (the
//     reference: the handler sets ETag and calls it) evaluates it after the
//     handler started; httpmw-validator answers from Config.Validator
//     without running the handler; httpmw-generated runs the handler, hashes
//     the body and then answers 304.
//   - req=412: If-Match names a stale tag; ServeContent answers an empty 412,
//     httpmw-validator a problem+json document (RFC 9457) without running the
//     handler.
//   - req=200: an unconditional GET; ServeContent copies from a
//     bytes.Reader, httpmw-generated buffers and hashes a plain Write,
//     and "write" is the plain Write with no middleware.
func BenchmarkCache(b *testing.B) {
	content := bytes.Repeat([]byte("0123456789abcdef"), 64<<10/16)
	const tag = `"v42"`
	modtime := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)

	serveContent := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Etag", tag)
		http.ServeContent(w, r, "data.bin", modtime, bytes.NewReader(content))
	})
	write := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/octet-stream")
		_, _ = w.Write(content)
	})
	validated, err := cache.New(cache.Config{Validator: func(*http.Request) (cache.Validators, bool) {
		return cache.Validators{ETag: tag, LastModified: modtime}, true
	}})
	if err != nil {
		b.Fatal(err)
	}
	generated := cache.Handler(write)
	rec := httptest.NewRecorder()
	generated.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	genTag := rec.Header().Get("Etag")

	get := func(inm string) *http.Request {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		if inm != "" {
			r.Header.Set("If-None-Match", inm)
		}
		return r
	}
	stale := httptest.NewRequest(http.MethodGet, "/", nil)
	stale.Header.Set("If-Match", `"v41"`)
	for _, c := range []struct {
		name string
		h    http.Handler
		r    *http.Request
		want int
	}{
		{"req=304/impl=baseline", http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}), get(tag), 200},
		{"req=304/impl=servecontent", serveContent, get(tag), 304},
		{"req=304/impl=httpmw-validator", validated.Handler(write), get(tag), 304},
		{"req=304/impl=httpmw-generated", generated, get(genTag), 304},
		{"req=412/impl=servecontent", serveContent, stale, 412},
		{"req=412/impl=httpmw-validator", validated.Handler(write), stale, 412},
		{"req=200/impl=write", write, get(""), 200},
		{"req=200/impl=servecontent", serveContent, get(""), 200},
		{"req=200/impl=httpmw-validator", validated.Handler(write), get(""), 200},
		{"req=200/impl=httpmw-generated", generated, get(""), 200},
	} {
		b.Run(c.name+"/w=recorder", func(b *testing.B) {
			b.ReportAllocs()
			var rec *httptest.ResponseRecorder
			for b.Loop() {
				rec = httptest.NewRecorder()
				c.h.ServeHTTP(rec, c.r)
			}
			if rec.Code != c.want {
				b.Fatalf("status %d, want %d", rec.Code, c.want)
			}
		})
		b.Run(c.name+"/w=reused", func(b *testing.B) {
			b.ReportAllocs()
			w := &reusedWriter{h: http.Header{}}
			for b.Loop() {
				clear(w.h)
				w.code = 0
				c.h.ServeHTTP(w, c.r)
			}
			if w.code == 0 {
				w.code = 200
			}
			if w.code != c.want {
				b.Fatalf("status %d, want %d", w.code, c.want)
			}
		})
	}
}

// reusedWriter discards the body and keeps its header map between requests.
type reusedWriter struct {
	h    http.Header
	code int
}

func (w *reusedWriter) Header() http.Header { return w.h }
func (w *reusedWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
}
func (w *reusedWriter) Write(p []byte) (int, error) {
	w.WriteHeader(200)
	return len(p), nil
}
