package cors_test

import (
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/jiec/httpmw/cors"
)

// An SPA served from https://app.example.com calls the API on another origin
// with cookies (fetch(url, {credentials: "include"})).
func Example() {
	c, err := cors.New(cors.Config{
		Origins:        []string{"https://app.example.com"},
		Credentials:    true,
		Methods:        []string{http.MethodPut, http.MethodDelete},
		RequestHeaders: []string{"Content-Type", "X-CSRF-Token"},
		ExposedHeaders: []string{"ETag"},
		MaxAge:         10 * time.Minute, // WebKit's cap; Chromium caps at 2h
	})
	if err != nil {
		log.Fatal(err)
	}
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", `"v1"`)
		fmt.Fprintln(w, "saved")
	})
	h := c.Handler(api)

	// The browser's preflight for a JSON PUT.
	pre := httptest.NewRequest(http.MethodOptions, "https://api.example.com/items/1", nil)
	pre.Header.Set("Origin", "https://app.example.com")
	pre.Header.Set("Access-Control-Request-Method", "PUT")
	pre.Header.Set("Access-Control-Request-Headers", "content-type,x-csrf-token")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, pre)
	fmt.Println("preflight:", rec.Code)
	for _, k := range []string{"Access-Control-Allow-Origin", "Access-Control-Allow-Credentials",
		"Access-Control-Allow-Methods", "Access-Control-Allow-Headers", "Access-Control-Max-Age", "Vary"} {
		fmt.Printf("  %s: %s\n", k, rec.Header().Get(k))
	}

	// The PUT itself.
	put := httptest.NewRequest(http.MethodPut, "https://api.example.com/items/1", nil)
	put.Header.Set("Origin", "https://app.example.com")
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, put)
	fmt.Println("actual:", rec.Code)
	for _, k := range []string{"Access-Control-Allow-Origin", "Access-Control-Allow-Credentials",
		"Access-Control-Expose-Headers", "Vary"} {
		fmt.Printf("  %s: %s\n", k, rec.Header().Get(k))
	}

	// Another site: no CORS headers, so its scripts cannot read the answer.
	// The request itself is still served (CORS is not CSRF protection).
	evil := httptest.NewRequest(http.MethodPost, "https://api.example.com/items/1", nil)
	evil.Header.Set("Origin", "https://evil.example")
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, evil)
	fmt.Printf("other origin: %d, ACAO %q, Vary %q\n", rec.Code,
		rec.Header().Get("Access-Control-Allow-Origin"), rec.Header().Get("Vary"))

	// Output:
	// preflight: 204
	//   Access-Control-Allow-Origin: https://app.example.com
	//   Access-Control-Allow-Credentials: true
	//   Access-Control-Allow-Methods: PUT
	//   Access-Control-Allow-Headers: content-type,x-csrf-token
	//   Access-Control-Max-Age: 600
	//   Vary: Origin, Access-Control-Request-Method, Access-Control-Request-Headers
	// actual: 200
	//   Access-Control-Allow-Origin: https://app.example.com
	//   Access-Control-Allow-Credentials: true
	//   Access-Control-Expose-Headers: etag
	//   Vary: Origin
	// other origin: 200, ACAO "", Vary "Origin"
}

// A public, read-mostly API anyone may call without credentials.
func ExampleMiddleware_Handler_publicAPI() {
	c, err := cors.New(cors.Config{
		Origins:        []string{"*"},
		Methods:        []string{"*"},
		RequestHeaders: []string{"*"},
		ExposedHeaders: []string{"X-Total-Count", "Link"},
	})
	if err != nil {
		log.Fatal(err)
	}
	h := c.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Total-Count", "42")
	}))

	get := httptest.NewRequest(http.MethodGet, "https://api.example.com/v1/items", nil)
	get.Header.Set("Origin", "https://anyone.example")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, get)
	fmt.Println("ACAO:", rec.Header().Get("Access-Control-Allow-Origin"))
	fmt.Println("ACEH:", rec.Header().Get("Access-Control-Expose-Headers"))
	fmt.Printf("Vary: %q\n", rec.Header().Get("Vary"))

	pre := httptest.NewRequest(http.MethodOptions, "https://api.example.com/v1/items", nil)
	pre.Header.Set("Origin", "https://anyone.example")
	pre.Header.Set("Access-Control-Request-Method", "PATCH")
	pre.Header.Set("Access-Control-Request-Headers", "x-api-key")
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, pre)
	fmt.Println("preflight:", rec.Code, rec.Header().Get("Access-Control-Allow-Methods"), rec.Header().Get("Access-Control-Allow-Headers"))

	// Credentials cannot be combined with "*": New says why.
	_, err = cors.New(cors.Config{Origins: []string{"*"}, Credentials: true})
	fmt.Println(err != nil)

	// Output:
	// ACAO: *
	// ACEH: link,x-total-count
	// Vary: ""
	// preflight: 204 * *
	// true
}

// New reports every problem of a configuration at once.
func ExampleNew_errors() {
	_, err := cors.New(cors.Config{
		Origins:     []string{"https://*example.com", "http://app.example.com"},
		Credentials: true,
		Methods:     []string{"TRACE"},
	})
	fmt.Println(err)
	// Output:
	// cors: Origins: wildcard allowed only as the first label of a domain name (scheme://*.example.com[:port]) (value "https://*example.com")
	// cors: Origins: insecure origin with Credentials: anyone on its network path can read credentialed responses; use https or set DangerouslyAllowInsecureOrigins (value "http://app.example.com")
	// cors: Methods: forbidden method: browsers never send it (value "TRACE")
}

// Registering the middleware on a method-specific route is a classic mistake
// (rs/cors#185): the mux answers the preflight (OPTIONS) with 405 before the
// middleware ever sees it. Wrap the whole mux instead.
func ExampleMiddleware_Handler_incorrect() {
	c, err := cors.New(cors.Config{
		Origins: []string{"https://app.example.com"},
		Methods: []string{http.MethodPut},
	})
	if err != nil {
		log.Fatal(err)
	}
	update := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})
	preflight := func(h http.Handler) int {
		r := httptest.NewRequest(http.MethodOptions, "/items/1", nil)
		r.Header.Set("Origin", "https://app.example.com")
		r.Header.Set("Access-Control-Request-Method", "PUT")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		return rec.Code
	}

	wrong := http.NewServeMux()
	wrong.Handle("PUT /items/{id}", c.Handler(update)) // never sees OPTIONS
	fmt.Println("on the route:", preflight(wrong))

	mux := http.NewServeMux()
	mux.Handle("PUT /items/{id}", update)
	fmt.Println("around the mux:", preflight(c.Handler(mux)))
	// Output:
	// on the route: 405
	// around the mux: 204
}

// Front-end development servers pick their port at random: a port wildcard on
// a loopback host allows them all (and the default port). Public-suffix
// wildcards such as "https://*.github.io" are refused: anyone can register a
// site there.
func ExampleNew_developmentOrigins() {
	m, err := cors.New(cors.Config{
		Origins:     []string{"https://app.example.com", "http://localhost:*", "http://127.0.0.1:*"},
		Credentials: true,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	h := m.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	for _, origin := range []string{"http://localhost:5173", "http://localhost", "http://127.0.0.1:3000", "http://localhost.evil.example:5173"} {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Origin", origin)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		fmt.Printf("%s: %q\n", origin, rec.Header().Get("Access-Control-Allow-Origin"))
	}

	_, err = cors.New(cors.Config{Origins: []string{"https://*.github.io", "https://example.com:*"}, Methods: []string{"patch"}})
	fmt.Println(err)
	// Output:
	// http://localhost:5173: "http://localhost:5173"
	// http://localhost: "http://localhost"
	// http://127.0.0.1:3000: "http://127.0.0.1:3000"
	// http://localhost.evil.example:5173: ""
	// cors: Origins: the wildcard's base "github.io" is a public suffix (Public Suffix List): anyone can register a subdomain there, so this allows every site under it (use "*" for a public anonymous API, list the origins, or set DangerouslyAllowPublicSuffixSubdomains) (value "https://*.github.io")
	// cors: Origins: a port wildcard is allowed only on localhost, 127.0.0.0/8 and [::1] (for development servers); elsewhere every service on any port of the host could read responses, which needs DangerouslyAllowPortWildcards (value "https://example.com:*")
	// cors: Methods: case variant of PATCH: methods other than DELETE, GET, HEAD, OPTIONS, POST and PUT are case-sensitive and browsers send them as the script wrote them, so this never matches a request for PATCH; write PATCH (value "patch")
}
