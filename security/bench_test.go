package security_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/jiec/httpmw/security"
)

// reuseWriter is a ResponseWriter whose header map is cleared between
// iterations, so the benchmark measures the middleware, not the recorder.
type reuseWriter struct{ h http.Header }

func (w *reuseWriter) Header() http.Header         { return w.h }
func (w *reuseWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *reuseWriter) WriteHeader(int)             {}

func BenchmarkMiddleware(b *testing.B) {
	nonced := security.DefaultPolicy().Set(security.ScriptSrc, security.RequestNonce, security.StrictDynamic).
		Set(security.StyleSrc, security.Self, security.RequestNonce)
	cases := []struct {
		name string
		cfg  security.Config
		tls  bool
	}{
		{"cfg=default/req=https", security.Config{}, true},
		{"cfg=default/req=http", security.Config{}, false},
		{"cfg=nonce/req=https", security.Config{CSP: nonced}, true},
		{"cfg=nonce+reportonly/req=https", security.Config{CSP: nonced, CSPReportOnly: nonced}, true},
		{"cfg=proxies/req=forwarded", security.Config{TrustedProxies: []string{"10.0.0.0/8"}}, false},
	}
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	for _, tc := range cases {
		m, err := security.New(tc.cfg)
		if err != nil {
			b.Fatal(err)
		}
		h := m.Handler(next)
		b.Run("type=exec/"+tc.name, func(b *testing.B) {
			r := httptest.NewRequest(http.MethodGet, "http://example.com/", nil)
			if !tc.tls {
				r.TLS = nil
			} else {
				r = httptest.NewRequest(http.MethodGet, "https://example.com/", nil)
			}
			if tc.cfg.TrustedProxies != nil { // two trusted hops, then the client
				r.RemoteAddr = "10.1.2.3:4711"
				r.Header.Set("Forwarded", `for=198.51.100.7;proto=https, for="10.0.0.2:80";proto=http`)
				r.Header.Set("X-Forwarded-Proto", "https")
			}
			w := &reuseWriter{h: make(http.Header, 16)}
			b.ReportAllocs()
			for b.Loop() {
				clear(w.h)
				h.ServeHTTP(w, r)
			}
		})
	}
	b.Run("type=init/cfg=default", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := security.New(security.Config{}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
