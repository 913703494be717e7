package bench

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/jiec/httpmw/security"
	"github.com/unrolled/secure"
)

// securityWriter is a ResponseWriter whose header map is cleared between
// iterations, so that the benchmarks measure the middleware, not a recorder.
type securityWriter struct{ h http.Header }

func (w *securityWriter) Header() http.Header         { return w.h }
func (w *securityWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *securityWriter) WriteHeader(int)             {}

// The same headers from both libraries: httpmw's defaults (HSTS, CSP,
// X-Content-Type-Options, Referrer-Policy, Permissions-Policy, COOP, CORP;
// security/doc.go says why X-Frame-Options, Origin-Agent-Cluster,
// X-DNS-Prefetch-Control and X-Permitted-Cross-Domain-Policies are opt-in).
const (
	benchCSP      = "default-src 'self'; base-uri 'self'; object-src 'none'; frame-ancestors 'self'; form-action 'self'"
	benchNonceCSP = benchCSP + "; script-src $NONCE 'strict-dynamic'; style-src 'self' $NONCE" // unrolled replaces $NONCE with 'nonce-…'

)

func unrolledOptions(csp string) secure.Options {
	return secure.Options{
		STSSeconds:                31536000,
		STSIncludeSubdomains:      true,
		ContentTypeNosniff:        true,
		ReferrerPolicy:            "same-origin",
		PermissionsPolicy:         security.DefaultPermissions().String(),
		ContentSecurityPolicy:     csp,
		CrossOriginOpenerPolicy:   "same-origin",
		CrossOriginResourcePolicy: "same-origin",
	}
}

func BenchmarkSecurity(b *testing.B) {
	nonced := security.DefaultPolicy().
		Set(security.ScriptSrc, security.RequestNonce, security.StrictDynamic).
		Set(security.StyleSrc, security.Self, security.RequestNonce)
	mustNew := func(cfg security.Config) http.Handler {
		m, err := security.New(cfg)
		if err != nil {
			b.Fatal(err)
		}
		return m.Handler(http.HandlerFunc(securityNoContent))
	}
	cases := []struct {
		name string
		h    http.Handler
	}{
		{"lib=httpmw/csp=static", mustNew(security.Config{})},
		{"lib=unrolled/csp=static", secure.New(unrolledOptions(benchCSP)).Handler(http.HandlerFunc(securityNoContent))},
		{"lib=httpmw/csp=nonce", mustNew(security.Config{CSP: nonced})},
		{"lib=unrolled/csp=nonce", secure.New(unrolledOptions(benchNonceCSP)).Handler(http.HandlerFunc(securityNoContent))},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			r := httptest.NewRequest(http.MethodGet, "https://example.com/", nil)
			r.TLS = &tls.ConnectionState{}
			w := &securityWriter{h: make(http.Header, 16)}
			tc.h.ServeHTTP(w, r)
			if len(w.h) != 7 || !strings.Contains(w.h.Get("Content-Security-Policy"), "default-src") || strings.Contains(w.h.Get("Content-Security-Policy"), "''") {
				b.Fatalf("%d headers (want the 7 defaults over HTTPS): %v", len(w.h), w.h)
			}
			b.ReportAllocs()
			for b.Loop() {
				clear(w.h)
				tc.h.ServeHTTP(w, r)
			}
		})
	}
}

func securityNoContent(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }
