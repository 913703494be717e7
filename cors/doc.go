// Package cors implements the server side of the CORS protocol of the WHATWG
// Fetch standard (https://fetch.spec.whatwg.org/#http-cors-protocol), with a
// configuration that is validated once, in New, so that it cannot be set up
// into a hole.
//
// # Policy
//
// Config lists the allowed origins (exact, "https://*.example.com" for
// subdomains, "http://localhost:*" for development servers on any port, or
// "*" for anonymous public APIs), whether credentials are allowed, and the
// methods and request headers preflights may ask for. New rejects, in one
// joined error naming every problem: "*" with credentials; the "null" origin
// and insecure http:// origins with credentials unless a Dangerously… field
// says otherwise; origins not in the form browsers send (path, query,
// userinfo, uppercase, default port, trailing slash, IPv6 not as the WHATWG
// URL serializer writes it: "[::ffff:7f00:1]", never "[::ffff:127.0.0.1]");
// wildcards anywhere but the first label; subdomain wildcards whose base is a
// public suffix ("https://*.github.io", "https://*.co.uk", "https://*.com",
// checked against the Public Suffix List of golang.org/x/net/publicsuffix),
// with or without credentials: anyone can register a site there, so for
// anonymous requests "*" says the same honestly and for credentialed ones it
// is a hole (DangerouslyAllowPublicSuffixSubdomains overrides); port
// wildcards on hosts other than localhost, 127.0.0.0/8 and [::1]
// (DangerouslyAllowPortWildcards overrides); the forbidden methods CONNECT,
// TRACE, TRACK; case variants of registered methods ("patch": methods other
// than the six Fetch upper-cases are case-sensitive, so it would never match
// PATCH; rejected rather than normalized, because a client may really send
// either); forbidden request-header names (Cookie, Host, Sec-*, Proxy-*, …);
// invalid tokens; and a MaxAge outside -1s…24h. There is no origin callback
// and no "reflect any origin" switch.
//
// A port wildcard matches any port and no port (the scheme's default), so
// "http://localhost:*" covers both http://localhost and
// http://localhost:5173.
//
// # Requests
//
// A preflight (OPTIONS with Origin and Access-Control-Request-Method) is
// answered by the middleware: 204 with the CORS headers when allowed, 403
// (application/problem+json, Config.ErrorHandler to change it) without any
// CORS header when not. Access-Control-Request-Headers is read
// tolerantly (any case, optional white space, up to 16 field lines, a few
// empty elements) within fixed bounds and without allocating. A preflight
// asking for Private Network Access (Access-Control-Request-Private-Network)
// gets Access-Control-Allow-Private-Network only with Config.PrivateNetwork;
// without it the preflight is answered as usual, just without that header,
// and the browser decides (it blocks where PNA is enforced, warns elsewhere).
//
// Every header value of a preflight answer (the 403 included) is a slice of
// its own, not shared with the config, other responses or the request's
// headers, so a layer that edits values in place cannot change the next
// answer; the values are carved out of large blocks (internal/slots), so a
// preflight still costs no allocation (amortized: one 8 KiB block per ~100
// preflights). Actual requests allocate one array for all their values.
//
// Every other request reaches the next handler. When its origin is allowed,
// Access-Control-Allow-Origin (plus -Allow-Credentials and -Expose-Headers)
// is set before the handler runs, whatever the method: the Methods list only
// concerns preflights. "Origin" is merged into Vary of every response whose
// headers depend on the origin, including responses to requests without an
// Origin header or from disallowed origins, so shared caches stay correct:
// once, when the status is committed (registered on the shared writer
// wrapper, whatever the handler did to the field), joined into the one Vary
// line the other layers' names share. Preflights answered here carry their
// Vary directly.
//
// # Zero value
//
// A nil or zero Middleware (New not called) passes every request to the next
// handler untouched, without any CORS header, so browsers keep cross-origin
// reads blocked. Every package of this module treats its zero Middleware so.
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
