package ratelimit_test

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"

	"github.com/jiec/httpmw/ratelimit"
)

// FuzzParseProxyHeaders: whatever X-Forwarded-For, Forwarded and API-key
// headers a client sends, no panic, a 200/429/400 answer, RateLimit fields
// that are valid structured-field Lists, and a forged left part never
// changes the key the trusted proxy's entry gives.
func FuzzParseProxyHeaders(f *testing.F) {
	for _, s := range []string{"", "198.51.100.7", "1.1.1.1, 10.0.0.2", `for="[2001:db8::1]:80"`, `for="`, "unknown",
		"for=_x;proto=https", ",,,,", "\x00\xff", `for=1.2.3.4;for=5.6.7.8`} {
		f.Add(s, s, "key")
	}
	proxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	pol := []ratelimit.Policy{{Name: "p", Limit: 1, Period: time.Hour}}
	xff, _ := ratelimit.New(ratelimit.Config{Policies: pol, TrustedProxies: proxies})
	fwd, _ := ratelimit.New(ratelimit.Config{Policies: pol, TrustedProxies: proxies, ProxyHeader: "Forwarded"})
	key, _ := ratelimit.New(ratelimit.Config{Policies: pol, KeyFunc: func(r *http.Request) (string, error) { return r.Header.Get("X-Api-Key"), nil }})
	defer xff.Close()
	defer fwd.Close()
	defer key.Close()
	hx, hf, hk := xff.Handler(okHandler), fwd.Handler(okHandler), key.Handler(okHandler)
	f.Fuzz(func(t *testing.T, a, b, k string) {
		for _, h := range []http.Handler{hx, hf, hk} {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = "10.0.0.1:1"
			r.Header["X-Forwarded-For"] = []string{a, b}
			r.Header["Forwarded"] = []string{a, b}
			r.Header["X-Api-Key"] = []string{k}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			switch rec.Code {
			case 204, 429, 400:
			default:
				t.Fatalf("status %d", rec.Code)
			}
			if rec.Code != 400 {
				for _, name := range []string{"RateLimit", "RateLimit-Policy"} {
					if v := rec.Header().Get(name); strictSF(v) != "" {
						t.Fatalf("%s %q is not a canonical sf-list: %s", name, v, strictSF(v))
					}
				}
			}
		}
		// A forged left part: the proxy's entry decides, so the second
		// request of 198.51.100.250 is limited whatever a is.
		for i := 0; i < 2; i++ {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = "10.0.0.1:1"
			r.Header["X-Forwarded-For"] = []string{a, "198.51.100.250"}
			rec := httptest.NewRecorder()
			hx.ServeHTTP(rec, r)
			if i == 1 && rec.Code != 429 {
				t.Fatalf("forged %q gave a fresh key", a)
			}
		}
	})
}
