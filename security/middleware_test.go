package security_test

import (
	"bufio"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"net/textproto"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jiec/httpmw/security"
)

const defaultCSP = "default-src 'self'; base-uri 'self'; object-src 'none'; frame-ancestors 'self'; form-action 'self'"

// defaultHeaders is what the zero Config sends on an HTTPS response.
var defaultHeaders = map[string]string{
	"Strict-Transport-Security":    "max-age=31536000; includeSubDomains",
	"Content-Security-Policy":      defaultCSP,
	"X-Content-Type-Options":       "nosniff",
	"Referrer-Policy":              "same-origin",
	"Permissions-Policy":           "accelerometer=(), browsing-topics=(), camera=(), display-capture=(), geolocation=(), gyroscope=(), hid=(), magnetometer=(), microphone=(), midi=(), payment=(), serial=(), usb=()",
	"Cross-Origin-Opener-Policy":   "same-origin",
	"Cross-Origin-Resource-Policy": "same-origin",
}

func ok(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) }

// serve runs h on r and returns the recorded response.
func serve(h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	return rec
}

// headerOf returns header name of an HTTPS response from cfg's middleware.
func headerOf(t *testing.T, cfg security.Config, name string) string {
	t.Helper()
	h := mustNew(t, cfg).Handler(http.HandlerFunc(ok))
	return serve(h, httpsReq("GET", "https://example.com/")).Header().Get(name)
}

func mustNew(t testing.TB, cfg security.Config) *security.Middleware {
	t.Helper()
	m, err := security.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return m
}

func httpsReq(method, target string) *http.Request {
	r := httptest.NewRequest(method, target, nil)
	r.TLS = &tls.ConnectionState{}
	return r
}

// flat returns the response headers with one value each (and fails on more).
func flat(t *testing.T, h http.Header) map[string]string {
	t.Helper()
	out := map[string]string{}
	for k, v := range h {
		if len(v) != 1 {
			t.Errorf("header %s has %d values %q, want 1", k, len(v), v)
		}
		out[k] = strings.Join(v, ",")
	}
	return out
}

func TestDefaultConfigSendsDefaultHeaders(t *testing.T) {
	h := security.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	got := flat(t, serve(h, httpsReq("GET", "https://example.com/")).Header())
	if !maps.Equal(got, defaultHeaders) {
		t.Errorf("HTTPS headers:\n got %q\nwant %q", got, defaultHeaders)
	}
	want := maps.Clone(defaultHeaders)
	delete(want, "Strict-Transport-Security")
	got = flat(t, serve(h, httptest.NewRequest("GET", "http://example.com/", nil)).Header())
	if !maps.Equal(got, want) {
		t.Errorf("HTTP headers:\n got %q\nwant %q", got, want)
	}
}

func TestHSTSOnlyOnHTTPS(t *testing.T) {
	cfg := security.Config{TrustedProxies: []string{"10.0.0.0/8", "2001:db8::1"}}
	tests := []struct {
		desc   string
		tls    bool
		remote string
		header map[string][]string
		want   bool
	}{
		{desc: "direct TLS", tls: true, remote: "192.0.2.1:1234", want: true},
		{desc: "plain HTTP", remote: "192.0.2.1:1234"},
		{desc: "untrusted peer claims https", remote: "192.0.2.1:1234", header: map[string][]string{"X-Forwarded-Proto": {"https"}}},
		{desc: "untrusted peer claims Forwarded https", remote: "192.0.2.1:1234", header: map[string][]string{"Forwarded": {"proto=https"}}},
		{desc: "trusted proxy X-Forwarded-Proto https", remote: "10.1.2.3:1234", header: map[string][]string{"X-Forwarded-Proto": {"https"}}, want: true},
		{desc: "trusted proxy X-Forwarded-Proto HTTPS any case", remote: "10.1.2.3:1234", header: map[string][]string{"X-Forwarded-Proto": {"HTTPS"}}, want: true},
		{desc: "trusted proxy X-Forwarded-Proto http", remote: "10.1.2.3:1234", header: map[string][]string{"X-Forwarded-Proto": {"http"}}},
		{desc: "trusted proxy without header", remote: "10.1.2.3:1234"},
		{desc: "X-Forwarded-Proto: the last element (nearest proxy) counts", remote: "10.1.2.3:1234", header: map[string][]string{"X-Forwarded-Proto": {"https, http"}}},
		{desc: "X-Forwarded-Proto over two lines", remote: "10.1.2.3:1234", header: map[string][]string{"X-Forwarded-Proto": {"http", "https"}}, want: true},
		{desc: "trusted proxy Forwarded proto=https", remote: "10.1.2.3:1234", header: map[string][]string{"Forwarded": {`for=192.0.2.60;proto=https;by=203.0.113.43`}}, want: true},
		{desc: "Forwarded quoted proto", remote: "10.1.2.3:1234", header: map[string][]string{"Forwarded": {`for="[2001:db8::2]:80";proto="https"`}}, want: true},
		{desc: "Forwarded: the element the trusted peer appended counts", remote: "10.1.2.3:1234", header: map[string][]string{"Forwarded": {`proto=https, for=192.0.2.9;proto=http`}}},
		// RFC 7239 §5.2: each proxy appends an element whose for= names its
		// client. When that client is itself a trusted proxy, the element to
		// its left was written by that proxy, so the walk continues; it stops
		// at the first element whose for= is not trusted (the real client).
		{desc: "Forwarded: two trusted hops, the edge proxy's https counts", remote: "10.1.2.3:1234",
			header: map[string][]string{"Forwarded": {`for=198.51.100.7;proto=https, for=10.0.0.2;proto=http`}}, want: true},
		{desc: "Forwarded: two trusted hops over two lines", remote: "10.1.2.3:1234",
			header: map[string][]string{"Forwarded": {`for=198.51.100.7;proto=https`, `for="10.0.0.2:4711";proto=http`}}, want: true},
		{desc: "Forwarded: client-written elements left of an untrusted for= are ignored", remote: "10.1.2.3:1234",
			header: map[string][]string{"Forwarded": {`for=10.0.0.9;proto=https, for=198.51.100.7;proto=http, for=10.0.0.2;proto=http`}}},
		{desc: "Forwarded: obfuscated for= stops the walk", remote: "10.1.2.3:1234",
			header: map[string][]string{"Forwarded": {`proto=https, for=_hidden;proto=http`}}},
		{desc: "Forwarded: trusted IPv6 hop with port", remote: "10.1.2.3:1234",
			header: map[string][]string{"Forwarded": {`for=198.51.100.7;proto=https, for="[2001:db8::1]:80";proto=http`}}, want: true},
		{desc: "Forwarded wins over X-Forwarded-Proto", remote: "10.1.2.3:1234", header: map[string][]string{"Forwarded": {"proto=http"}, "X-Forwarded-Proto": {"https"}}},
		// A proxy that manages only X-Forwarded-Proto (nginx, AWS ALB, Traefik
		// by default) passes a client's Forwarded through untouched: a client
		// claim of https in it must not override the proxy's http.
		{desc: "client-sent Forwarded https does not override the proxy's X-Forwarded-Proto http", remote: "10.1.2.3:1234",
			header: map[string][]string{"Forwarded": {"for=10.0.0.5;proto=https"}, "X-Forwarded-Proto": {"http"}}},
		{desc: "Forwarded and X-Forwarded-Proto agree on https", remote: "10.1.2.3:1234",
			header: map[string][]string{"Forwarded": {"for=192.0.2.1;proto=https"}, "X-Forwarded-Proto": {"https"}}, want: true},
		{desc: "malformed Forwarded", remote: "10.1.2.3:1234", header: map[string][]string{"Forwarded": {`proto=https;for`}}},
		{desc: "repeated proto parameter", remote: "10.1.2.3:1234", header: map[string][]string{"Forwarded": {`proto=https;proto=https`}}},
		{desc: "oversized X-Forwarded-Proto ignored", remote: "10.1.2.3:1234", header: map[string][]string{"X-Forwarded-Proto": {strings.Repeat(",", 9000) + "https"}}},
		{desc: "trusted IPv6 proxy", remote: "[2001:db8::1]:443", header: map[string][]string{"X-Forwarded-Proto": {"https"}}, want: true},
		{desc: "IPv6 neighbour not trusted", remote: "[2001:db8::2]:443", header: map[string][]string{"X-Forwarded-Proto": {"https"}}},
		{desc: "IPv4-mapped IPv6 peer in an IPv4 prefix", remote: "[::ffff:10.0.0.1]:443", header: map[string][]string{"X-Forwarded-Proto": {"https"}}, want: true},
		{desc: "unparsable RemoteAddr", remote: "@", header: map[string][]string{"X-Forwarded-Proto": {"https"}}},
	}
	h := mustNew(t, cfg).Handler(http.HandlerFunc(ok))
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			r := httptest.NewRequest("GET", "http://example.com/", nil)
			if tc.tls {
				r.TLS = &tls.ConnectionState{}
			}
			r.RemoteAddr = tc.remote
			maps.Copy(r.Header, tc.header)
			got := serve(h, r).Header().Get("Strict-Transport-Security") != ""
			if got != tc.want {
				t.Errorf("HSTS sent = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestHSTSValue(t *testing.T) {
	tests := []struct {
		desc string
		hsts security.HSTS
		want string
	}{
		{"default", security.HSTS{}, "max-age=31536000; includeSubDomains"},
		{"custom max-age", security.HSTS{MaxAge: 180 * 24 * time.Hour}, "max-age=15552000; includeSubDomains"},
		{"ForgetHSTS clears the policy", security.HSTS{MaxAge: security.ForgetHSTS}, "max-age=0; includeSubDomains"},
		{"without subdomains", security.HSTS{ExcludeSubDomains: true}, "max-age=31536000"},
		{"preload", security.HSTS{Preload: true}, "max-age=31536000; includeSubDomains; preload"},
		{"preload two years", security.HSTS{Preload: true, MaxAge: 2 * 365 * 24 * time.Hour}, "max-age=63072000; includeSubDomains; preload"},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			if got := headerOf(t, security.Config{HSTS: tc.hsts}, "Strict-Transport-Security"); got != tc.want {
				t.Errorf("Strict-Transport-Security = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestRedirectToHTTPS(t *testing.T) {
	tests := []struct {
		desc         string
		cfg          security.Config
		method, host string
		target       string
		remote       string
		header       map[string][]string
		tls          bool
		wantCode     int
		wantLocation string
	}{
		{desc: "GET gets 301", method: "GET", host: "example.com", target: "/a/b?q=1&r=%20",
			wantCode: 301, wantLocation: "https://example.com/a/b?q=1&r=%20"},
		{desc: "HEAD gets 301", method: "HEAD", host: "example.com", target: "/",
			wantCode: 301, wantLocation: "https://example.com/"},
		{desc: "POST gets 308 so the method and body survive", method: "POST", host: "example.com", target: "/form",
			wantCode: 308, wantLocation: "https://example.com/form"},
		{desc: "DELETE gets 308", method: "DELETE", host: "example.com", target: "/x",
			wantCode: 308, wantLocation: "https://example.com/x"},
		{desc: "host compared case-insensitively, trailing dot ignored", method: "GET", host: "EXAMPLE.com.", target: "/",
			wantCode: 301, wantLocation: "https://example.com/"},
		{desc: "plain-HTTP port dropped by default", method: "GET", host: "example.com:8080", target: "/",
			wantCode: 301, wantLocation: "https://example.com/"},
		// Some clients write the default port; https on port 80 would fail.
		{desc: "explicit default port 80 becomes the https default", method: "GET", host: "example.com:80", target: "/",
			wantCode: 301, wantLocation: "https://example.com/"},
		{desc: "userinfo in Host is not a host", method: "GET", host: "example.com@evil.example", target: "/",
			wantCode: 421},
		{desc: "userinfo disguised as a port", method: "GET", host: "example.com:80@evil.example", target: "/",
			wantCode: 421},
		{desc: "backslash path stays on the host", method: "GET", host: "example.com", target: `/\evil.example/`,
			wantCode: 301, wantLocation: "https://example.com/%5Cevil.example/"},
		{desc: "IPv6 host without port", cfg: security.Config{RedirectHosts: []string{"2001:db8::1"}}, method: "GET", host: "[2001:db8::1]", target: "/",
			wantCode: 301, wantLocation: "https://[2001:db8::1]/"},
		{desc: "IPv6 neighbour not allowed", cfg: security.Config{RedirectHosts: []string{"2001:db8::1"}}, method: "GET", host: "[2001:db8::2]", target: "/",
			wantCode: 421},
		{desc: "two trailing dots", method: "GET", host: "example.com..", target: "/", wantCode: 421},
		{desc: "very long host", method: "GET", host: strings.Repeat("a.", 4000) + "example.com", target: "/", wantCode: 421},
		{desc: "untrusted peer cannot skip the redirect with X-Forwarded-Proto", method: "GET", host: "example.com", target: "/",
			remote: "192.0.2.1:1234", header: map[string][]string{"X-Forwarded-Proto": {"https"}, "Forwarded": {"proto=https"}},
			wantCode: 301, wantLocation: "https://example.com/"},
		{desc: "RedirectPort 443 drops the port", cfg: security.Config{RedirectPort: 443}, method: "GET", host: "example.com:8080", target: "/",
			wantCode: 301, wantLocation: "https://example.com/"},
		{desc: "RedirectPort replaces the port", cfg: security.Config{RedirectPort: 8443}, method: "GET", host: "example.com:8080", target: "/p",
			wantCode: 301, wantLocation: "https://example.com:8443/p"},
		{desc: "IPv6 host", cfg: security.Config{RedirectHosts: []string{"2001:db8::1"}, RedirectPort: 8443}, method: "GET", host: "[2001:db8::1]:8080", target: "/",
			wantCode: 301, wantLocation: "https://[2001:db8::1]:8443/"},
		{desc: "path starting with // stays on the host", method: "GET", host: "example.com", target: "//evil.example/x",
			wantCode: 301, wantLocation: "https://example.com//evil.example/x"},
		{desc: "forged host is not redirected", method: "GET", host: "evil.example", target: "/",
			wantCode: 421},
		{desc: "subdomain of an allowed host is not allowed", method: "GET", host: "a.example.com", target: "/",
			wantCode: 421},
		{desc: "HTTPS request passes", method: "GET", host: "example.com", target: "/", tls: true,
			wantCode: 200},
		{desc: "HTTPS through a trusted proxy passes", cfg: security.Config{TrustedProxies: []string{"10.0.0.1"}},
			method: "GET", host: "example.com", target: "/", remote: "10.0.0.1:5555", header: map[string][]string{"X-Forwarded-Proto": {"https"}},
			wantCode: 200},
		{desc: "HTTP through a trusted proxy is redirected", cfg: security.Config{TrustedProxies: []string{"10.0.0.1"}},
			method: "GET", host: "example.com", target: "/", remote: "10.0.0.1:5555", header: map[string][]string{"X-Forwarded-Proto": {"http"}},
			wantCode: 301, wantLocation: "https://example.com/"},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			cfg := tc.cfg
			if cfg.RedirectHosts == nil {
				cfg.RedirectHosts = []string{"example.com"}
			}
			h := mustNew(t, cfg).Handler(http.HandlerFunc(ok))
			r := httptest.NewRequest(tc.method, "http://placeholder"+tc.target, nil)
			r.Host = tc.host
			if tc.tls {
				r.TLS = &tls.ConnectionState{}
			}
			if tc.remote != "" {
				r.RemoteAddr = tc.remote
			}
			maps.Copy(r.Header, tc.header)
			rec := serve(h, r)
			if rec.Code != tc.wantCode {
				t.Fatalf("status %d, want %d", rec.Code, tc.wantCode)
			}
			if got := rec.Header().Get("Location"); got != tc.wantLocation {
				t.Errorf("Location = %q, want %q", got, tc.wantLocation)
			}
			if tc.wantCode == 421 && rec.Header().Get("Content-Type") != "application/problem+json" {
				t.Errorf("421 Content-Type = %q, want application/problem+json", rec.Header().Get("Content-Type"))
			}
			if tc.wantCode == 301 || tc.wantCode == 308 || tc.wantCode == 421 {
				if rec.Header().Get("Strict-Transport-Security") != "" {
					t.Error("answer over plain HTTP carries HSTS")
				}
				// The middleware's own answers carry the headers too
				// (nosniff on a problem+json body).
				if rec.Header().Get("Content-Security-Policy") != defaultCSP || rec.Header().Get("X-Content-Type-Options") != "nosniff" {
					t.Errorf("%d answer lacks the security headers: %q", tc.wantCode, rec.Header())
				}
			}
		})
	}
}

func TestRedirectRejectionUsesErrorHandler(t *testing.T) {
	var got error
	m := mustNew(t, security.Config{
		RedirectHosts: []string{"example.com"},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			got = err
			w.WriteHeader(http.StatusTeapot)
		},
	})
	r := httptest.NewRequest("GET", "http://evil.example/", nil)
	rec := serve(m.Handler(http.HandlerFunc(ok)), r)
	var se *security.StatusError
	if !errors.As(got, &se) || se.Status != http.StatusMisdirectedRequest {
		t.Fatalf("ErrorHandler got %v, want *StatusError with 421", got)
	}
	if rec.Code != http.StatusTeapot {
		t.Errorf("status %d, want the ErrorHandler's 418", rec.Code)
	}
}

var noncePolicy = security.DefaultPolicy().
	Set(security.ScriptSrc, security.RequestNonce, security.StrictDynamic).
	Set(security.StyleSrc, security.Self, security.RequestNonce)

func TestNonceIsFreshAndSubstituted(t *testing.T) {
	var nonces []string
	m := mustNew(t, security.Config{CSP: noncePolicy, CSPReportOnly: security.Policy{}.Set(security.ScriptSrc, security.RequestNonce)})
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		nonces = append(nonces, security.Nonce(r.Context()))
	}))
	seen := map[string]bool{}
	for range 50 {
		rec := serve(h, httpsReq("GET", "https://example.com/"))
		n := nonces[len(nonces)-1]
		raw, err := base64.RawURLEncoding.DecodeString(n)
		if err != nil || len(raw) < 16 {
			t.Fatalf("nonce %q: %d bytes (%v), want base64 of at least 16 bytes", n, len(raw), err)
		}
		if seen[n] {
			t.Fatalf("nonce %q repeated", n)
		}
		seen[n] = true
		wantCSP := "default-src 'self'; base-uri 'self'; object-src 'none'; frame-ancestors 'self'; form-action 'self'; " +
			"script-src 'nonce-" + n + "' 'strict-dynamic'; style-src 'self' 'nonce-" + n + "'"
		if got := rec.Header().Get("Content-Security-Policy"); got != wantCSP {
			t.Fatalf("CSP\n got %q\nwant %q", got, wantCSP)
		}
		if got, want := rec.Header().Get("Content-Security-Policy-Report-Only"), "script-src 'nonce-"+n+"'"; got != want {
			t.Fatalf("CSP-Report-Only %q, want %q", got, want)
		}
	}
}

func TestNonceEmptyWithoutNoncePolicy(t *testing.T) {
	var got = "unset"
	h := security.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = security.Nonce(r.Context()) }))
	serve(h, httpsReq("GET", "https://example.com/"))
	if got != "" {
		t.Errorf("Nonce = %q without RequestNonce in the policy, want empty", got)
	}
	if n := security.Nonce(httptest.NewRequest("GET", "/", nil).Context()); n != "" {
		t.Errorf("Nonce = %q without the middleware, want empty", n)
	}
}

func TestRemovesXPoweredBy(t *testing.T) {
	tests := []struct {
		desc    string
		handler http.HandlerFunc
	}{
		{"set then Write", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Powered-By", "PHP/5.4")
			_, _ = w.Write([]byte("x"))
		}},
		{"set then WriteHeader", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Powered-By", "Express")
			w.WriteHeader(http.StatusCreated)
		}},
		{"set then Flush", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Powered-By", "Express")
			_ = http.NewResponseController(w).Flush()
		}},
		{"set and never write", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Powered-By", "Express")
		}},
		{"set then ReadFrom", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Powered-By", "Express")
			_, _ = w.(io.ReaderFrom).ReadFrom(strings.NewReader("x"))
		}},
		{"set again after 103 Early Hints", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Powered-By", "Express")
			w.Header().Set("Link", "</style.css>; rel=preload; as=style")
			w.WriteHeader(http.StatusEarlyHints)
			w.Header().Set("X-Powered-By", "Express")
			w.WriteHeader(http.StatusOK)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			resp, hints := getWithHints(t, security.Handler(tc.handler))
			// net/http sends the whole header map with a 1xx (RFC 8297), so
			// X-Powered-By must be gone before an Early Hints response too.
			for _, h := range hints {
				if v := h.Get("X-Powered-By"); v != "" {
					t.Errorf("1xx response carries X-Powered-By %q", v)
				}
			}
			if v := resp.Header.Get("X-Powered-By"); v != "" {
				t.Errorf("X-Powered-By = %q, want removed", v)
			}
			if resp.Header.Get("X-Content-Type-Options") != "nosniff" {
				t.Error("security headers missing")
			}
		})
	}
}

func TestHandlerOverridesHeaderForOneRoute(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/embed", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'self'; frame-ancestors https://partner.example")
		w.Header().Del("Cross-Origin-Opener-Policy")
		w.Header().Set("Cross-Origin-Resource-Policy", "cross-origin")
	})
	mux.HandleFunc("/", ok)
	h := security.Handler(mux)

	rec := serve(h, httpsReq("GET", "https://example.com/embed"))
	if got := rec.Header().Get("Content-Security-Policy"); got != "default-src 'self'; frame-ancestors https://partner.example" {
		t.Errorf("overridden CSP = %q", got)
	}
	if _, has := rec.Header()["Cross-Origin-Opener-Policy"]; has {
		t.Error("deleted Cross-Origin-Opener-Policy came back")
	}
	if got := rec.Header().Get("Cross-Origin-Resource-Policy"); got != "cross-origin" {
		t.Errorf("CORP = %q, want the handler's cross-origin", got)
	}
	rec = serve(h, httpsReq("GET", "https://example.com/other"))
	if got := rec.Header().Get("Content-Security-Policy"); got != defaultCSP {
		t.Errorf("other route CSP = %q, want the default", got)
	}
}

func TestHeaderValuesAreNotSharedBetweenRequests(t *testing.T) {
	// rs/cors#198: handing every request the same precomputed slices lets one
	// handler's edit leak into other responses.
	h := security.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/edit" {
			return
		}
		hdr := w.Header()
		hdr["X-Content-Type-Options"][0] = "CLOBBERED"
		hdr["Referrer-Policy"] = append(hdr["Referrer-Policy"], "unsafe-url")
		hdr["Permissions-Policy"] = append(hdr["Permissions-Policy"][:1], "camera=*")
		hdr.Add("Content-Security-Policy", "script-src *")
	}))
	edited := serve(h, httpsReq("GET", "https://example.com/edit")).Header()
	if edited.Get("X-Content-Type-Options") != "CLOBBERED" || len(edited.Values("Permissions-Policy")) != 2 {
		t.Fatal("the handler's edits did not apply to its own response")
	}
	got := flat(t, serve(h, httpsReq("GET", "https://example.com/")).Header())
	if !maps.Equal(got, defaultHeaders) {
		t.Errorf("next response after a handler edited its headers:\n got %q\nwant %q", got, defaultHeaders)
	}
}

func TestHeadersSurviveInnerMiddlewareAnswering(t *testing.T) {
	// An inner middleware (e.g. a CORS preflight) that answers by itself.
	inner := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusNoContent)
		})
	}
	rec := serve(security.Handler(inner(http.HandlerFunc(ok))), httpsReq("OPTIONS", "https://example.com/"))
	if rec.Code != 204 || rec.Header().Get("Content-Security-Policy") != defaultCSP {
		t.Errorf("status %d, CSP %q: inner answers lack the headers", rec.Code, rec.Header().Get("Content-Security-Policy"))
	}
}

func TestWriterKeepsResponseController(t *testing.T) {
	srv := httptest.NewServer(security.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		if err := rc.SetWriteDeadline(time.Now().Add(time.Minute)); err != nil {
			t.Errorf("SetWriteDeadline: %v", err)
		}
		_, _ = w.Write([]byte("a"))
		if err := rc.Flush(); err != nil {
			t.Errorf("Flush: %v", err)
		}
		if _, ok := w.(http.Flusher); !ok {
			t.Error("writer lost http.Flusher")
		}
	})))
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
}

func TestOmitDropsHeader(t *testing.T) {
	for k := range defaultHeaders {
		t.Run(k, func(t *testing.T) {
			h := mustNew(t, security.Config{Omit: []string{strings.ToLower(k)}}).Handler(http.HandlerFunc(ok))
			hdr := serve(h, httpsReq("GET", "https://example.com/")).Header()
			if v, has := hdr[k]; has {
				t.Errorf("%s = %q despite Omit", k, v)
			}
			want := len(defaultHeaders) - 1
			if k == "Content-Security-Policy" {
				want++ // without frame-ancestors, X-Frame-Options: SAMEORIGIN stands in
				if got := hdr.Get("X-Frame-Options"); got != "SAMEORIGIN" {
					t.Errorf("CSP omitted: X-Frame-Options = %q, want SAMEORIGIN", got)
				}
			}
			if len(hdr) != want {
				t.Errorf("%d headers, want %d", len(hdr), want)
			}
		})
	}
}

func TestFrameOptionsFollowsFrameAncestors(t *testing.T) {
	tests := []struct {
		desc string
		cfg  security.Config
		want string // "" = absent
	}{
		// Browsers ignore X-Frame-Options next to an enforced frame-ancestors
		// (HTML, "check a navigation response's adherence to
		// X-Frame-Options"): it is not sent then, unless configured.
		{"default 'self': frame-ancestors suffices", security.Config{}, ""},
		{"'none': frame-ancestors suffices", security.Config{CSP: security.DefaultPolicy().Set(security.FrameAncestors, security.None)}, ""},
		{"frame-ancestors only report-only gives SAMEORIGIN", security.Config{CSP: security.DefaultPolicy().Del(security.FrameAncestors), CSPReportOnly: security.DefaultPolicy()}, "SAMEORIGIN"},
		{"CSP omitted gives SAMEORIGIN", security.Config{Omit: []string{"Content-Security-Policy"}}, "SAMEORIGIN"},
		{"explicit SAMEORIGIN with the default CSP", security.Config{FrameOptions: "SAMEORIGIN"}, "SAMEORIGIN"},
		{"explicit DENY with the default CSP", security.Config{FrameOptions: "DENY"}, "DENY"},
		{"an origin list cannot be expressed, so no X-Frame-Options",
			security.Config{CSP: security.DefaultPolicy().Set(security.FrameAncestors, security.Self, "https://partner.example")}, ""},
		{"no frame-ancestors gives SAMEORIGIN", security.Config{CSP: security.DefaultPolicy().Del(security.FrameAncestors)}, "SAMEORIGIN"},
		{"explicit DENY without frame-ancestors", security.Config{CSP: security.DefaultPolicy().Del(security.FrameAncestors), FrameOptions: "DENY"}, "DENY"},
		{"explicit value consistent with frame-ancestors", security.Config{FrameOptions: "sameorigin"}, "SAMEORIGIN"},
		{"CSP omitted: explicit DENY", security.Config{Omit: []string{"Content-Security-Policy"}, FrameOptions: "DENY"}, "DENY"},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			if got := headerOf(t, tc.cfg, "X-Frame-Options"); got != tc.want {
				t.Errorf("X-Frame-Options = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestConfiguredHeaderValues(t *testing.T) {
	tests := []struct {
		desc   string
		cfg    security.Config
		header string
		want   string
	}{
		{"Referrer-Policy list", security.Config{ReferrerPolicy: "no-referrer, strict-origin-when-cross-origin"}, "Referrer-Policy", "no-referrer, strict-origin-when-cross-origin"},
		{"COOP", security.Config{CrossOriginOpenerPolicy: "same-origin-allow-popups"}, "Cross-Origin-Opener-Policy", "same-origin-allow-popups"},
		{"CORP", security.Config{CrossOriginResourcePolicy: "cross-origin"}, "Cross-Origin-Resource-Policy", "cross-origin"},
		{"COEP is opt-in", security.Config{}, "Cross-Origin-Embedder-Policy", ""},
		{"COEP require-corp", security.Config{CrossOriginEmbedderPolicy: "require-corp"}, "Cross-Origin-Embedder-Policy", "require-corp"},
		{"COEP credentialless", security.Config{CrossOriginEmbedderPolicy: "credentialless"}, "Cross-Origin-Embedder-Policy", "credentialless"},
		{"Origin-Agent-Cluster ?0", security.Config{OriginAgentCluster: "?0"}, "Origin-Agent-Cluster", "?0"},
		{"X-DNS-Prefetch-Control on", security.Config{DNSPrefetchControl: "on"}, "X-DNS-Prefetch-Control", "on"},
		{"X-Permitted-Cross-Domain-Policies", security.Config{PermittedCrossDomainPolicies: "master-only"}, "X-Permitted-Cross-Domain-Policies", "master-only"},
		{"Permissions-Policy builder", security.Config{Permissions: security.Permissions{}.
			Set("geolocation", security.AllowSelf, "https://maps.example").
			Set("fullscreen", security.AllowAll).
			Set("camera")}, "Permissions-Policy", `geolocation=(self "https://maps.example"), fullscreen=*, camera=()`},
		{"Permissions-Policy derived from the default", security.Config{Permissions: security.DefaultPermissions().Set("camera", security.AllowSelf).Del("usb").Del("serial").Del("midi").Del("hid").Del("payment").
			Del("microphone").Del("magnetometer").Del("gyroscope").Del("geolocation").Del("display-capture").Del("browsing-topics").Del("accelerometer")},
			"Permissions-Policy", "camera=(self)"},
		{"Reporting-Endpoints and report-to", security.Config{
			ReportingEndpoints: []security.Endpoint{{Name: "csp", URL: "https://r.example/csp"}, {Name: "local", URL: "/reports"}},
			CSP:                security.DefaultPolicy().Set(security.ReportTo, "csp").Set(security.ReportURI, "https://r.example/legacy")},
			"Reporting-Endpoints", `csp="https://r.example/csp", local="/reports"`},
		{"report-to in the policy", security.Config{
			ReportingEndpoints: []security.Endpoint{{Name: "csp", URL: "https://r.example/csp"}},
			CSP:                security.DefaultPolicy().Set(security.ReportTo, "csp")},
			"Content-Security-Policy", defaultCSP + "; report-to csp"},
		{"Report-Only without nonce is precomputed", security.Config{CSPReportOnly: security.Policy{}.Set(security.ScriptSrc, security.Self).Set(security.UpgradeInsecureRequests)},
			"Content-Security-Policy-Report-Only", "script-src 'self'; upgrade-insecure-requests"},
		{"sandbox and trusted types", security.Config{CSP: security.DefaultPolicy().Set(security.Sandbox, "allow-scripts", "allow-forms").
			Set(security.RequireTrustedTypesFor, "'script'").Set(security.TrustedTypes, "default", "'allow-duplicates'")},
			"Content-Security-Policy", defaultCSP + "; sandbox allow-scripts allow-forms; require-trusted-types-for 'script'; trusted-types default 'allow-duplicates'"},
		{"hashes and static nonce", security.Config{CSP: security.DefaultPolicy().Set(security.ScriptSrc,
			"'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='", "'nonce-MDEyMzQ1Njc4OWFiY2RlZg=='", "https://cdn.example", "https:")},
			"Content-Security-Policy", defaultCSP + "; script-src 'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=' 'nonce-MDEyMzQ1Njc4OWFiY2RlZg==' https://cdn.example https:"},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			if got := headerOf(t, tc.cfg, tc.header); got != tc.want {
				t.Errorf("%s = %q, want %q", tc.header, got, tc.want)
			}
		})
	}
}

func TestNewRejects(t *testing.T) {
	dp := security.DefaultPolicy()
	tests := []struct {
		desc string
		cfg  security.Config
		want string // substring of the error
	}{
		{"sub-second HSTS max-age", security.Config{HSTS: security.HSTS{MaxAge: time.Millisecond}}, `HSTS.MaxAge: must be a whole number of seconds, at least one (value "1ms")`},
		{"preload with short max-age", security.Config{HSTS: security.HSTS{Preload: true, MaxAge: 24 * time.Hour}}, "HSTS.Preload: needs MaxAge of at least one year"},
		{"preload without includeSubDomains", security.Config{HSTS: security.HSTS{Preload: true, ExcludeSubDomains: true}}, "HSTS.Preload: needs includeSubDomains"},
		{"preload with HSTS omitted", security.Config{HSTS: security.HSTS{Preload: true}, Omit: []string{"strict-transport-security"}}, "HSTS.Preload: Strict-Transport-Security is in Omit"},
		{"bad proxy", security.Config{TrustedProxies: []string{"10.0.0"}}, `TrustedProxies: not an IP address or prefix (value "10.0.0")`},
		{"proxy prefix with host bits", security.Config{TrustedProxies: []string{"10.1.2.3/8"}}, `TrustedProxies: host bits set; did you mean 10.0.0.0/8 (value "10.1.2.3/8")`},
		{"proxy with zone", security.Config{TrustedProxies: []string{"fe80::1%eth0"}}, "TrustedProxies: not an IP address"},
		{"redirect host with scheme", security.Config{RedirectHosts: []string{"https://example.com"}}, `RedirectHosts: want a host name`},
		{"redirect host with port", security.Config{RedirectHosts: []string{"example.com:443"}}, `RedirectHosts: want a host name`},
		{"redirect host wildcard", security.Config{RedirectHosts: []string{"*.example.com"}}, `RedirectHosts: want a host name`},
		{"redirect port out of range", security.Config{RedirectHosts: []string{"example.com"}, RedirectPort: 70000}, `RedirectPort: must be 0 or a port number`},
		{"redirect port without hosts", security.Config{RedirectPort: 443}, `RedirectPort: set without RedirectHosts`},
		{"unknown directive", security.Config{CSP: dp.Set("script-source", security.Self)}, `CSP: unknown directive (value "script-source")`},
		{"obsolete directive", security.Config{CSP: dp.Set("block-all-mixed-content")}, `directive block-all-mixed-content is obsolete`},
		{"missing default-src", security.Config{CSP: dp.Del(security.DefaultSrc)}, "CSP: missing default-src"},
		{"unquoted self", security.Config{CSP: dp.Set(security.ScriptSrc, "self")}, `CSP: script-src: keyword must be quoted: write 'self' (value "self")`},
		{"unquoted none", security.Config{CSP: dp.Set(security.ObjectSrc, "none")}, `keyword must be quoted: write 'none'`},
		{"unquoted strict-dynamic", security.Config{CSP: dp.Set(security.ScriptSrc, "strict-dynamic")}, `keyword must be quoted: write 'strict-dynamic'`},
		{"unquoted nonce", security.Config{CSP: dp.Set(security.ScriptSrc, "nonce-MDEyMzQ1Njc4OWFiY2RlZg==")}, `keyword must be quoted`},
		{"unquoted hash", security.Config{CSP: dp.Set(security.ScriptSrc, "sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=")}, `keyword must be quoted`},
		{"unknown quoted keyword", security.Config{CSP: dp.Set(security.ScriptSrc, "'unsafe-everything'")}, `unknown keyword (value "'unsafe-everything'")`},
		{"short static nonce", security.Config{CSP: dp.Set(security.ScriptSrc, "'nonce-abc'")}, `malformed nonce`},
		{"nonce with bad characters", security.Config{CSP: dp.Set(security.ScriptSrc, "'nonce-MDEyMzQ1Njc4OWFiY2RlZg!!'")}, `malformed nonce`},
		{"nonce in img-src", security.Config{CSP: dp.Set(security.ImgSrc, security.RequestNonce)}, `the request nonce only applies to`},
		{"static nonce in frame-ancestors", security.Config{CSP: dp.Set(security.FrameAncestors, "'nonce-MDEyMzQ1Njc4OWFiY2RlZg=='")}, `nonces only apply to`},
		{"hash of the wrong length", security.Config{CSP: dp.Set(security.ScriptSrc, "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hS'")}, `malformed hash`},
		{"sha384 with sha256 digest", security.Config{CSP: dp.Set(security.ScriptSrc, "'sha384-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='")}, `malformed hash`},
		{"semicolon in a value", security.Config{CSP: dp.Set(security.ScriptSrc, "'self';script-src")}, `script-src: value contains a control character, white space, ';', ','`},
		{"comma in a value", security.Config{CSP: dp.Set(security.ImgSrc, "https://a.example,https://b.example")}, `value contains`},
		{"newline in a value", security.Config{CSP: dp.Set(security.ImgSrc, "https://a.example\r\nSet-Cookie:x")}, `value contains`},
		{"space in a value", security.Config{CSP: dp.Set(security.ImgSrc, "'self' https:")}, `value contains`},
		{"tab in a value", security.Config{CSP: dp.Set(security.ImgSrc, "https:\t'self'")}, `img-src: value contains`},
		{"DEL in a value", security.Config{CSP: dp.Set(security.ImgSrc, "https://a.example\x7f")}, `img-src: value contains`},
		{"non-ASCII in a value", security.Config{CSP: dp.Set(security.ImgSrc, "https://bücher.example")}, `img-src: value contains`},
		{"semicolon in a directive name", security.Config{CSP: dp.Set("img-src;script-src", "*")}, `CSP: unknown directive (value "img-src;script-src")`},
		{"control character in a report-only value", security.Config{CSPReportOnly: security.Policy{}.Set(security.ScriptSrc, "'self'\n")}, `CSPReportOnly: script-src: value contains`},
		{"unquoted unsafe-inline", security.Config{CSP: dp.Set(security.StyleSrc, "unsafe-inline")}, `keyword must be quoted: write 'unsafe-inline'`},
		{"static nonce in base-uri", security.Config{CSP: dp.Set(security.BaseURI, "'nonce-MDEyMzQ1Njc4OWFiY2RlZg=='")}, `nonces only apply to`},
		{"hash with bad padding", security.Config{CSP: dp.Set(security.ScriptSrc, "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU==='")}, `malformed hash`},
		{"'none' with other sources", security.Config{CSP: dp.Set(security.ObjectSrc, security.None, security.Self)}, `'none' must be the only source`},
		{"empty source list", security.Config{CSP: dp.Set(security.ImgSrc)}, `img-src: needs at least one source`},
		{"strict-dynamic without nonce or hash", security.Config{CSP: dp.Set(security.ScriptSrc, security.Self, security.StrictDynamic)}, `'strict-dynamic' needs a nonce or hash`},
		{"strict-dynamic in style-src", security.Config{CSP: dp.Set(security.StyleSrc, security.StrictDynamic, security.RequestNonce)}, `'strict-dynamic' only applies to`},
		{"keyword in frame-ancestors", security.Config{CSP: dp.Set(security.FrameAncestors, security.UnsafeInline)}, `frame-ancestors accepts only`},
		{"invalid host source", security.Config{CSP: dp.Set(security.ImgSrc, "https://exa_mple.com")}, `invalid source expression`},
		{"invalid port", security.Config{CSP: dp.Set(security.ImgSrc, "https://example.com:8x")}, `invalid source expression`},
		{"sandbox flag", security.Config{CSP: dp.Set(security.Sandbox, "allow-everything")}, `sandbox: unknown flag`},
		{"report-to without endpoint", security.Config{CSP: dp.Set(security.ReportTo, "csp")}, `report-to names no endpoint of ReportingEndpoints (value "csp")`},
		{"report-to two names", security.Config{CSP: dp.Set(security.ReportTo, "a", "b")}, `report-to takes exactly one endpoint name`},
		{"upgrade-insecure-requests with value", security.Config{CSP: dp.Set(security.UpgradeInsecureRequests, "yes")}, `takes no value`},
		{"require-trusted-types-for", security.Config{CSP: dp.Set(security.RequireTrustedTypesFor, "script")}, `takes exactly 'script'`},
		{"webrtc", security.Config{CSP: dp.Set(security.WebRTC, "allow")}, `webrtc takes 'allow' or 'block'`},
		{"report-only checked too", security.Config{CSPReportOnly: security.Policy{}.Set(security.ScriptSrc, "self")}, `CSPReportOnly: script-src: keyword must be quoted`},
		{"endpoint name", security.Config{ReportingEndpoints: []security.Endpoint{{Name: "CSP", URL: "https://r.example"}}}, `ReportingEndpoints: name must be a lowercase`},
		{"endpoint duplicate", security.Config{ReportingEndpoints: []security.Endpoint{{Name: "a", URL: "https://r.example"}, {Name: "a", URL: "https://r.example"}}}, `ReportingEndpoints: duplicate name`},
		{"endpoint insecure URL", security.Config{ReportingEndpoints: []security.Endpoint{{Name: "a", URL: "http://r.example/"}}}, `URL must be https://`},
		{"endpoint URL with quote", security.Config{ReportingEndpoints: []security.Endpoint{{Name: "a", URL: `https://r.example/"x`}}}, `URL must be https://`},
		{"X-Frame-Options ALLOW-FROM", security.Config{FrameOptions: "ALLOW-FROM https://a.example"}, `FrameOptions: want DENY or SAMEORIGIN`},
		{"X-Frame-Options contradicts frame-ancestors", security.Config{CSP: dp, FrameOptions: "DENY"}, `FrameOptions: contradicts the CSP's frame-ancestors 'self'`},
		{"X-Frame-Options with an origin list", security.Config{FrameOptions: "SAMEORIGIN", CSP: dp.Set(security.FrameAncestors, security.Self, "https://p.example")}, `FrameOptions: contradicts`},
		{"unknown referrer policy", security.Config{ReferrerPolicy: "no-referer"}, `ReferrerPolicy: unknown policy "no-referer"`},
		{"duplicate referrer policy", security.Config{ReferrerPolicy: "origin, origin"}, `ReferrerPolicy: duplicate policy`},
		{"empty referrer list", security.Config{ReferrerPolicy: " , "}, `ReferrerPolicy: want policy tokens`},
		{"COOP", security.Config{CrossOriginOpenerPolicy: "same-site"}, `CrossOriginOpenerPolicy: want one of`},
		{"CORP", security.Config{CrossOriginResourcePolicy: "same-origin-allow-popups"}, `CrossOriginResourcePolicy: want one of`},
		{"COEP", security.Config{CrossOriginEmbedderPolicy: "require-corp; report-to=x"}, `CrossOriginEmbedderPolicy: want one of`},
		{"COEP omitted while set", security.Config{CrossOriginEmbedderPolicy: "require-corp", Omit: []string{"Cross-Origin-Embedder-Policy"}}, `CrossOriginEmbedderPolicy: set, but`},
		{"Origin-Agent-Cluster", security.Config{OriginAgentCluster: "1"}, `OriginAgentCluster: want one of ?1, ?0`},
		{"DNS prefetch", security.Config{DNSPrefetchControl: "Off"}, `DNSPrefetchControl: want one of`},
		{"cross-domain policies", security.Config{PermittedCrossDomainPolicies: "any"}, `PermittedCrossDomainPolicies: want one of`},
		{"omit unknown header", security.Config{Omit: []string{"X-Powered-By"}}, `Omit: not a header this package sets (value "X-Powered-By")`},
		{"permissions feature name", security.Config{Permissions: security.Permissions{}.Set("Geolocation")}, `Permissions: feature name must be`},
		{"permissions CSP syntax", security.Config{Permissions: security.Permissions{}.Set("camera", "'self'")}, `Permissions-Policy is not CSP`},
		{"permissions * with others", security.Config{Permissions: security.Permissions{}.Set("camera", security.AllowAll, security.AllowSelf)}, `* must be the only member`},
		{"permissions origin with path", security.Config{Permissions: security.Permissions{}.Set("camera", "https://a.example/x")}, `allowlist member must be`},
		{"permissions origin with quote", security.Config{Permissions: security.Permissions{}.Set("camera", `https://a.example"`)}, `allowlist member must be`},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			m, err := security.New(tc.cfg)
			if err == nil {
				t.Fatalf("New accepted the config (m=%v), want error containing %q", m != nil, tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "security: ") {
				t.Errorf("error %q, want it to contain %q", err, tc.want)
			}
			// CONVENTIONS: every message names the Config field and the value.
			for line := range strings.SplitSeq(err.Error(), "\n") {
				if !errorShape.MatchString(line) {
					t.Errorf("error line %q does not name the field and value (%s)", line, errorShape)
				}
			}
		})
	}
}

var errorShape = regexp.MustCompile(`^security: (HSTS\.)?[A-Z][A-Za-z]*: .*\(value ".*"\)$`)

func TestNewReportsEveryProblem(t *testing.T) {
	_, err := security.New(security.Config{
		HSTS:           security.HSTS{Preload: true, ExcludeSubDomains: true},
		TrustedProxies: []string{"x"},
		CSP:            security.DefaultPolicy().Set(security.ScriptSrc, "self"),
		FrameOptions:   "ALLOWALL",
	})
	if err == nil {
		t.Fatal("New accepted the config")
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != 4 {
		t.Errorf("got %d errors, want 4:\n%v", len(lines), err)
	}
}

func TestNewAcceptsValidConfigs(t *testing.T) {
	tests := []struct {
		desc string
		cfg  security.Config
	}{
		{"zero", security.Config{}},
		{"host sources", security.Config{CSP: security.DefaultPolicy().Set(security.ImgSrc, security.Self, "data:", "blob:", "*.example.com",
			"https://*.example.com:*", "https://example.com:8443/path/", "example.com", "*", "wss://ws.example")}},
		{"google strict CSP", security.Config{CSP: security.DefaultPolicy().Set(security.ScriptSrc, security.RequestNonce, security.StrictDynamic,
			"https:", security.UnsafeInline).Set(security.BaseURI, security.None)}},
		{"url-safe sha512 hash", security.Config{CSP: security.DefaultPolicy().Set(security.ScriptSrc,
			"'sha512-z4PhNX7vuL3xVChQ1m2AB9Yg5AULVxXcg_SpIdNs6c5H0NE8XYXysP-DGNKHfuwvY7kxvUdBeoGlODJ6-SfaPg=='")}},
		{"report-only without default-src", security.Config{CSPReportOnly: security.Policy{}.Set(security.ScriptSrc, security.Self)}},
		{"loopback http endpoint", security.Config{ReportingEndpoints: []security.Endpoint{{Name: "dev", URL: "http://127.0.0.1:9000/r"}}}},
		{"proxies", security.Config{TrustedProxies: []string{"10.0.0.0/8", "192.0.2.7", "fd00::/8", "::ffff:10.0.0.0/104"}}},
		{"redirect", security.Config{RedirectHosts: []string{"example.com", "www.example.com", "192.0.2.1", "2001:db8::1"}, RedirectPort: 443}},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			if _, err := security.New(tc.cfg); err != nil {
				t.Errorf("New: %v", err)
			}
		})
	}
}

func TestNewCopiesConfig(t *testing.T) {
	hosts := []string{"example.com"}
	endpoints := []security.Endpoint{{Name: "csp", URL: "https://r.example/"}}
	cfg := security.Config{RedirectHosts: hosts, ReportingEndpoints: endpoints}
	h := mustNew(t, cfg).Handler(http.HandlerFunc(ok))
	hosts[0] = "evil.example"
	endpoints[0].URL = "https://evil.example/"
	r := httptest.NewRequest("GET", "http://evil.example/", nil)
	if rec := serve(h, r); rec.Code != 421 {
		t.Errorf("status %d after changing the caller's RedirectHosts, want 421", rec.Code)
	}
	rec := serve(h, httpsReq("GET", "https://example.com/"))
	if got := rec.Header().Get("Reporting-Endpoints"); got != `csp="https://r.example/"` {
		t.Errorf("Reporting-Endpoints = %q after changing the caller's slice", got)
	}
}

func TestPolicyBuilderNeverChangesReceiver(t *testing.T) {
	base := security.DefaultPolicy()
	before := base.String()
	_ = base.Set(security.DefaultSrc, security.None).Add(security.ImgSrc, "data:").Del(security.BaseURI)
	_ = base.Add(security.DefaultSrc, "https://cdn.example")
	if base.String() != before {
		t.Errorf("receiver changed: %q, was %q", base.String(), before)
	}
	p := base.Add(security.DefaultSrc, "https://cdn.example").Set("IMG-SRC", security.Self)
	if got, _ := p.Get(security.DefaultSrc); !slices.Equal(got, []string{security.Self, "https://cdn.example"}) {
		t.Errorf("Add: default-src = %q", got)
	}
	if _, ok := p.Get(security.ImgSrc); !ok {
		t.Error("Set lower-cases directive names")
	}
	if n := len(p.Directives()); n != 6 {
		t.Errorf("%d directives, want 6", n)
	}
	if !(security.Policy{}).IsZero() || base.IsZero() {
		t.Error("IsZero")
	}
	vals, _ := p.Get(security.DefaultSrc)
	vals[0] = "mutated"
	if got, _ := p.Get(security.DefaultSrc); got[0] != security.Self {
		t.Error("Get returned the internal slice")
	}
}

func TestRedirectAbsoluteFormUsesTheTargetHost(t *testing.T) {
	// RFC 9112 §3.2.2: with an absolute-form target the server uses the
	// target's authority, not Host; net/http puts it in r.Host. The redirect
	// must check and use that same host.
	m := mustNew(t, security.Config{RedirectHosts: []string{"example.com"}})
	srv := httptest.NewServer(m.Handler(http.HandlerFunc(ok)))
	defer srv.Close()
	tests := []struct {
		desc, request string
		wantStatus    string
		wantLocation  string
	}{
		{"forged target host", "GET http://evil.example/x HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n", "421", ""},
		{"allowed target host, forged Host", "GET http://example.com/x?y HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n", "301", "https://example.com/x?y"},
		{"double-slash path", "GET //evil.example/ HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n", "301", "https://example.com//evil.example/"},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			conn, err := net.Dial("tcp", srv.Listener.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			if _, err := io.WriteString(conn, tc.request); err != nil {
				t.Fatal(err)
			}
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatal(err)
			}
			_ = resp.Body.Close()
			if got := strconv.Itoa(resp.StatusCode); got != tc.wantStatus {
				t.Fatalf("status %s, want %s", got, tc.wantStatus)
			}
			if got := resp.Header.Get("Location"); got != tc.wantLocation {
				t.Errorf("Location %q, want %q", got, tc.wantLocation)
			}
		})
	}
}

func TestRequestNonceOnlySubstitutedAsASource(t *testing.T) {
	// The text 'nonce' inside another value (a report-uri may contain
	// quotes, RFC 3986 sub-delims) is not the RequestNonce source.
	var nonce string
	m := mustNew(t, security.Config{CSP: security.DefaultPolicy().Set(security.ReportURI, "https://r.example/'nonce'")})
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { nonce = security.Nonce(r.Context()) }))
	rec := serve(h, httpsReq("GET", "https://example.com/"))
	if got, want := rec.Header().Get("Content-Security-Policy"), defaultCSP+"; report-uri https://r.example/'nonce'"; got != want {
		t.Errorf("CSP %q, want %q", got, want)
	}
	if nonce != "" {
		t.Errorf("Nonce = %q for a policy without RequestNonce", nonce)
	}
}

func TestConcurrentRequestsShareNoHeaderValuesOrNonces(t *testing.T) {
	// Run with -race: handlers that append to and overwrite the headers the
	// middleware set must not touch other requests' headers (rs/cors#198,
	// jub0bs/cors#14), and every response has its own nonce, the one its
	// handler saw (CSP3 §"Nonce Reuse").
	m := mustNew(t, security.Config{CSP: noncePolicy, TrustedProxies: []string{"10.0.0.0/8"}})
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hdr := w.Header()
		for k, v := range hdr {
			v[0] += "-edited"
			hdr[k] = append(v, "appended")
		}
		fmt.Fprint(w, security.Nonce(r.Context()))
	}))
	const workers, perWorker = 8, 50
	var mu sync.Mutex
	seen := map[string]bool{}
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for range perWorker {
				rec := serve(h, httpsReq("GET", "https://example.com/"))
				nonce := rec.Body.String()
				mu.Lock()
				dup := seen[nonce]
				seen[nonce] = true
				mu.Unlock()
				if dup || len(nonce) != 22 {
					t.Errorf("nonce %q repeated or not 128 bits in base64url", nonce)
					return
				}
				for k, v := range rec.Header() {
					if len(v) != 2 || v[1] != "appended" || strings.Count(v[0], "-edited") != 1 {
						t.Errorf("%s = %q: another request's edit leaked in", k, v)
						return
					}
				}
				if csp := rec.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "'nonce-"+nonce+"'") {
					t.Errorf("CSP %q does not carry the handler's nonce %q", csp, nonce)
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestEarlyHintsCarryTheSecurityHeaders(t *testing.T) {
	// A 103 is sent with the header map as it is (RFC 8297); the headers are
	// set before next runs, so the hints already carry them, and the final
	// response still does.
	resp, hints := getWithHints(t, security.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Link", "</app.js>; rel=preload; as=script")
		w.WriteHeader(http.StatusEarlyHints)
		_, _ = w.Write([]byte("ok"))
	})))
	if len(hints) != 1 || hints[0].Get("Link") == "" || hints[0].Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("103 headers %q", hints)
	}
	if resp.StatusCode != 200 || resp.Header.Get("Content-Security-Policy") != defaultCSP {
		t.Errorf("final response %d, CSP %q", resp.StatusCode, resp.Header.Get("Content-Security-Policy"))
	}
}

func TestHeadersReplaceValuesSetEarlier(t *testing.T) {
	// helmet#132: a header set twice (by a proxy layer or an outer handler,
	// then by the middleware) becomes "DENY, SAMEORIGIN", which browsers
	// reject (X-Frame-Options then; every field the middleware sets). The middleware replaces, never appends.
	h := security.Handler(http.HandlerFunc(ok))
	rec := httptest.NewRecorder()
	rec.Header().Set("X-Content-Type-Options", "sniff")
	rec.Header().Set("Content-Security-Policy", "default-src *")
	rec.Header().Set("Strict-Transport-Security", "max-age=1")
	h.ServeHTTP(rec, httpsReq("GET", "https://example.com/"))
	got := flat(t, rec.Header())
	delete(got, "Content-Type")
	if !maps.Equal(got, defaultHeaders) {
		t.Errorf("headers:\n got %q\nwant %q", got, defaultHeaders)
	}
}

// getWithHints serves h on a real server (so that headers are snapshotted
// when sent) and returns the response to a GET and the headers of the 1xx
// responses before it.
func getWithHints(t *testing.T, h http.Handler) (*http.Response, []textproto.MIMEHeader) {
	t.Helper()
	srv := httptest.NewServer(h)
	defer srv.Close()
	var hints []textproto.MIMEHeader
	trace := &httptrace.ClientTrace{Got1xxResponse: func(code int, h textproto.MIMEHeader) error {
		hints = append(hints, h)
		return nil
	}}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(t.Context(), trace), "GET", srv.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	return resp, hints
}
