// Package cors implements the server side of the CORS protocol of the WHATWG
// Fetch standard (https://fetch.spec.whatwg.org/#http-cors-protocol), with a
// configuration that is validated once, in New, so that it cannot be set up
// into a hole.
//
// # Policy
//
// Config lists the allowed origins (exact, "https://*.example.com" for
// subdomains, or "*" for anonymous public APIs), whether credentials are
// allowed, and the methods and request headers preflights may ask for. New
// rejects, in one joined error naming every problem: "*" with credentials;
// the "null" origin and insecure http:// origins with credentials unless a
// Dangerously… field says otherwise; origins not in the form browsers send
// (path, query, userinfo, uppercase, default port, trailing slash); wildcards
// anywhere but the first label; the forbidden methods CONNECT, TRACE, TRACK;
// forbidden request-header names (Cookie, Host, Sec-*, Proxy-*, …); invalid
// tokens; and a MaxAge outside -1s…24h. There is no origin callback and no
// "reflect any origin" switch.
//
// # Requests
//
// A preflight (OPTIONS with Origin and Access-Control-Request-Method) is
// answered by the middleware: 204 with the CORS headers when allowed, 403
// (application/problem+json, Config.ErrorHandler to change it) without any
// CORS header when not. Access-Control-Request-Headers is read
// tolerantly (any case, optional white space, several field lines, a few
// empty elements) within fixed bounds and without allocating.
//
// Every other request reaches the next handler. When its origin is allowed,
// Access-Control-Allow-Origin (plus -Allow-Credentials and -Expose-Headers)
// is set before the handler runs, whatever the method: the Methods list only
// concerns preflights. "Vary: Origin" is merged into every response whose
// headers depend on the origin, including responses to requests without an
// Origin header or from disallowed origins, so shared caches stay correct.
//
// # What CORS is not
//
// CORS is enforced by browsers. A disallowed origin gets no CORS headers, so
// the browser hides the response from the calling script, but the request is
// still served: the middleware does not block anything. In particular CORS
// is not CSRF protection: simple cross-origin requests (form posts, GET, POST
// with a safelisted content type) are sent, with cookies, without any
// preflight. Protect state-changing endpoints separately (SameSite cookies,
// CSRF tokens, Sec-Fetch-Site or Origin checks, e.g. net/http's
// CrossOriginProtection).
//
// # Placement
//
// Put cors outside the middlewares that may reject or answer requests
// (rate limiting, authentication, caching), because preflights carry no
// credentials and the CORS headers must be on 429 and 304 responses too:
//
//	trace → security → cors → ratelimit → idempotency → compress → cache → negotiate → handler
//
// Register it around the whole mux, not on method-specific routes: a router
// that answers OPTIONS itself (405) never lets the preflight reach it.
// Do not stack two CORS middlewares, and do not let caches store responses
// to OPTIONS requests.
//
// Example:
//
//	c, err := cors.New(cors.Config{
//		Origins:        []string{"https://app.example.com"},
//		Credentials:    true,
//		Methods:        []string{http.MethodPut, http.MethodDelete},
//		RequestHeaders: []string{"Content-Type", "Authorization"},
//		MaxAge:         2 * time.Hour,
//	})
//	if err != nil {
//		log.Fatal(err)
//	}
//	http.ListenAndServe(":8080", c.Handler(mux))
package cors
