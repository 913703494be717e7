package security_test

import (
	"crypto/tls"
	"fmt"
	"html/template"
	"log"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"time"

	"github.com/jiec/httpmw/security"
)

// The zero Config: the strict default headers, HSTS on HTTPS responses only.
func Example() {
	m, err := security.New(security.Config{})
	if err != nil {
		log.Fatal(err)
	}
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Powered-By", "PHP/5.4") // removed by the middleware
		fmt.Fprintln(w, "hello")
	}))

	r := httptest.NewRequest("GET", "https://example.com/", nil)
	r.TLS = &tls.ConnectionState{} // as net/http sets it for HTTPS
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	for _, k := range slices.Sorted(func(yield func(string) bool) {
		for k := range rec.Header() {
			if !yield(k) {
				return
			}
		}
	}) {
		fmt.Printf("%s: %s\n", k, rec.Header().Get(k))
	}
	// Output:
	// Content-Security-Policy: default-src 'self'; base-uri 'self'; object-src 'none'; frame-ancestors 'self'; form-action 'self'
	// Cross-Origin-Opener-Policy: same-origin
	// Cross-Origin-Resource-Policy: same-origin
	// Permissions-Policy: accelerometer=(), browsing-topics=(), camera=(), display-capture=(), geolocation=(), gyroscope=(), hid=(), magnetometer=(), microphone=(), midi=(), payment=(), serial=(), usb=()
	// Referrer-Policy: same-origin
	// Strict-Transport-Security: max-age=31536000; includeSubDomains
	// X-Content-Type-Options: nosniff
}

var page = template.Must(template.New("page").Parse(`<!doctype html>
<title>Nonce</title>
<style nonce="{{.Nonce}}">body { font-family: sans-serif }</style>
<script nonce="{{.Nonce}}">console.log("runs: the nonce matches the policy")</script>
<script>console.log("blocked: no nonce")</script>
`))

// An HTML template that uses the per-request nonce: RequestNonce in the
// policy becomes 'nonce-<value>' in the header, and Nonce(ctx) gives the same
// value to the template.
func ExampleNonce() {
	csp := security.DefaultPolicy().
		Set(security.ScriptSrc, security.RequestNonce, security.StrictDynamic).
		Set(security.StyleSrc, security.Self, security.RequestNonce)
	m, err := security.New(security.Config{CSP: csp})
	if err != nil {
		log.Fatal(err)
	}
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store") // a nonce must not be served twice
		data := struct{ Nonce string }{security.Nonce(r.Context())}
		if err := page.Execute(w, data); err != nil {
			log.Print(err)
		}
	}))

	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "https://example.com/", nil))

	// The nonce is random; show where it went.
	policy := rec.Header().Get("Content-Security-Policy")
	nonce := policy[strings.Index(policy, "'nonce-")+len("'nonce-"):]
	nonce = nonce[:strings.IndexByte(nonce, '\'')]
	fmt.Println("nonce length:", len(nonce))
	fmt.Println(strings.ReplaceAll(policy, nonce, "NONCE"))
	fmt.Print(strings.ReplaceAll(rec.Body.String(), nonce, "NONCE"))
	// Output:
	// nonce length: 22
	// default-src 'self'; base-uri 'self'; object-src 'none'; frame-ancestors 'self'; form-action 'self'; script-src 'nonce-NONCE' 'strict-dynamic'; style-src 'self' 'nonce-NONCE'
	// <!doctype html>
	// <title>Nonce</title>
	// <style nonce="NONCE">body { font-family: sans-serif }</style>
	// <script nonce="NONCE">console.log("runs: the nonce matches the policy")</script>
	// <script>console.log("blocked: no nonce")</script>
}

// New checks the whole configuration and reports every problem at once.
func ExampleNew_invalid() {
	_, err := security.New(security.Config{
		HSTS: security.HSTS{Preload: true, ExcludeSubDomains: true},
		CSP:  security.DefaultPolicy().Set(security.ScriptSrc, "self", "'sha256-abc'"),
	})
	fmt.Println(err)
	// Output:
	// security: HSTS.Preload: needs includeSubDomains; unset ExcludeSubDomains (value "ExcludeSubDomains")
	// security: CSP: script-src: keyword must be quoted: write 'self' (value "self")
	// security: CSP: script-src: malformed hash: want 'shaNNN-<base64 of the NNN-bit digest>' (value "'sha256-abc'")
}

// A handler changes a header for its own route: the middleware sets the
// headers before calling it and never re-adds them.
func ExampleMiddleware_Handler() {
	m, err := security.New(security.Config{RedirectHosts: []string{"example.com"}})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/widget", func(w http.ResponseWriter, r *http.Request) {
		// Embeddable by a partner: relax framing and CORP for this route only.
		w.Header().Set("Content-Security-Policy", "default-src 'self'; frame-ancestors 'self' https://partner.example")
		w.Header().Set("Cross-Origin-Resource-Policy", "cross-origin")
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {})
	h := m.Handler(mux)

	for _, target := range []string{"https://example.com/widget", "https://example.com/", "http://example.com/a?b=c"} {
		r := httptest.NewRequest("GET", target, nil)
		if strings.HasPrefix(target, "https:") {
			r.TLS = &tls.ConnectionState{}
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		fmt.Println(target, rec.Code)
		fmt.Println("  CSP:", rec.Header().Get("Content-Security-Policy"))
		fmt.Printf("  Location: %q\n", rec.Header().Get("Location"))
	}
	// Output:
	// https://example.com/widget 200
	//   CSP: default-src 'self'; frame-ancestors 'self' https://partner.example
	//   Location: ""
	// https://example.com/ 200
	//   CSP: default-src 'self'; base-uri 'self'; object-src 'none'; frame-ancestors 'self'; form-action 'self'
	//   Location: ""
	// http://example.com/a?b=c 301
	//   CSP: default-src 'self'; base-uri 'self'; object-src 'none'; frame-ancestors 'self'; form-action 'self'
	//   Location: "https://example.com/a?b=c"
}

// Building a policy: each call returns a new Policy.
func ExamplePolicy() {
	p := security.DefaultPolicy().
		Set(security.ImgSrc, security.Self, "data:", "https://img.example").
		Set(security.ReportTo, "csp").
		Del(security.FormAction)
	fmt.Println(p)
	// Output:
	// default-src 'self'; base-uri 'self'; object-src 'none'; frame-ancestors 'self'; img-src 'self' data: https://img.example; report-to csp
}

func ExamplePermissions() {
	p := security.Permissions{}.
		Set("geolocation", security.AllowSelf, "https://maps.example").
		Set("fullscreen", security.AllowAll).
		Set("camera")
	fmt.Println(p)
	// Output:
	// geolocation=(self "https://maps.example"), fullscreen=*, camera=()
}

// Handler applies the default headers (the zero Config) to every response.
func ExampleHandler() {
	h := security.Handler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("X-Powered-By", "framework 1.0") // removed by the middleware
		fmt.Fprintln(w, "ok")
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "http://example.com/", nil))
	fmt.Println(rec.Header().Get("X-Content-Type-Options"), rec.Header().Get("Referrer-Policy"))
	fmt.Printf("HSTS over plain HTTP: %q, X-Powered-By: %q\n", rec.Header().Get("Strict-Transport-Security"), rec.Header().Get("X-Powered-By"))
	// Output:
	// nosniff same-origin
	// HSTS over plain HTTP: "", X-Powered-By: ""
}

// FrameOptions with the default CSP sets its frame-ancestors; ForgetHSTS is
// the one way to send max-age=0 (other negative or fractional values are
// errors); DisableXSSAuditor sends X-XSS-Protection: 0.
func ExampleConfig() {
	m, err := security.New(security.Config{
		FrameOptions:      "DENY",
		HSTS:              security.HSTS{MaxAge: security.ForgetHSTS},
		DisableXSSAuditor: true,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	r := httptest.NewRequest("GET", "https://example.com/", nil)
	r.TLS = &tls.ConnectionState{}
	rec := httptest.NewRecorder()
	m.Handler(http.NotFoundHandler()).ServeHTTP(rec, r)
	for _, k := range []string{"Content-Security-Policy", "X-Frame-Options", "Strict-Transport-Security", "X-Xss-Protection"} {
		fmt.Printf("%s: %s\n", k, rec.Header().Get(k))
	}

	_, err = security.New(security.Config{HSTS: security.HSTS{MaxAge: -time.Hour}})
	fmt.Println(err)
	// Output:
	// Content-Security-Policy: default-src 'self'; base-uri 'self'; object-src 'none'; frame-ancestors 'none'; form-action 'self'
	// X-Frame-Options: DENY
	// Strict-Transport-Security: max-age=0; includeSubDomains
	// X-Xss-Protection: 0
	// security: HSTS.MaxAge: must not be negative; ForgetHSTS sends max-age=0, which makes browsers forget HSTS (value "-1h0m0s")
}
