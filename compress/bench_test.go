package compress_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/jiec/httpmw/compress"
)

// discardWriter is a reusable ResponseWriter that only counts bytes.
type discardWriter struct {
	h http.Header
	n int
}

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) WriteHeader(int)             {}
func (d *discardWriter) Write(p []byte) (int, error) { d.n += len(p); return len(p), nil }

var ctJSON = []string{"application/json"}

func BenchmarkMiddleware(b *testing.B) {
	m := newMW(b, compress.Config{})
	cases := []struct {
		enc  string // Accept-Encoding; "" = none
		size int
	}{
		{"", 1 << 10}, {"gzip", 512},
		{"zstd", 1 << 10}, {"zstd", 16 << 10}, {"zstd", 1 << 20},
		{"br", 1 << 10}, {"br", 16 << 10}, {"br", 1 << 20},
		{"gzip", 1 << 10}, {"gzip", 16 << 10}, {"gzip", 1 << 20},
		{"deflate", 1 << 10}, {"deflate", 16 << 10}, {"deflate", 1 << 20},
	}
	for _, tc := range cases {
		body := jsonBody(tc.size)
		h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header()["Content-Type"] = ctJSON // no allocation in the handler
			_, _ = w.Write(body)
		}))
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		enc := tc.enc
		if enc == "" {
			enc = "none"
		} else {
			req.Header.Set("Accept-Encoding", tc.enc)
		}
		b.Run(fmt.Sprintf("type=exec/enc=%s/size=%d", enc, tc.size), func(b *testing.B) {
			w := &discardWriter{h: make(http.Header)}
			b.SetBytes(int64(tc.size))
			b.ReportAllocs()
			for b.Loop() {
				clear(w.h)
				w.n = 0
				h.ServeHTTP(w, req)
			}
			b.ReportMetric(float64(w.n), "out-B")
		})
	}
}

func BenchmarkNegotiate(b *testing.B) {
	m := newMW(b, compress.Config{})
	for _, ae := range []string{"gzip, deflate, br, zstd", "gzip;q=0.5, br;q=0.8, *;q=0.1", ""} {
		lines := []string{ae}
		b.Run(fmt.Sprintf("ae=%q", ae), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = compress.Negotiate(m, lines)
			}
		})
	}
}

// BenchmarkConditionalRewrite measures the inbound rewrite of suffixed
// entity tags (a revalidation of a compressed response), and its absence.
func BenchmarkConditionalRewrite(b *testing.B) {
	m := newMW(b, compress.Config{})
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusNotModified)
	}))
	// A browser's revalidation carries a dozen fields besides If-None-Match.
	browser := [][2]string{
		{"Accept", "application/json"}, {"Accept-Encoding", "gzip, deflate, br, zstd"},
		{"Accept-Language", "en-US,en;q=0.9"}, {"User-Agent", "Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0"},
		{"Cookie", "session=0123456789abcdef"}, {"Referer", "https://app.example.com/"},
		{"Sec-Fetch-Dest", "empty"}, {"Sec-Fetch-Mode", "cors"}, {"Sec-Fetch-Site", "same-origin"},
		{"Sec-Ch-Ua-Platform", `"Linux"`}, {"Priority", "u=1, i"},
	}
	for _, fields := range []int{1, 12} {
		for _, inm := range []string{"", `"v1"`, `"v1-gzip"`} {
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			if inm != "" {
				req.Header.Set("If-None-Match", inm)
			}
			if fields > 1 {
				for _, kv := range browser {
					req.Header.Set(kv[0], kv[1])
				}
			}
			name := fmt.Sprintf("inm=%s", inm)
			if fields > 1 {
				name += fmt.Sprintf("/fields=%d", fields)
			}
			b.Run(name, func(b *testing.B) {
				w := &discardWriter{h: make(http.Header)}
				b.ReportAllocs()
				for b.Loop() {
					clear(w.h)
					h.ServeHTTP(w, req)
				}
			})
		}
	}
}
