// Package security sets the response headers a security review asks for,
// correct by construction: New validates the whole configuration and
// precomputes every header value, and a request only copies them.
//
// With the zero Config every response gets:
//
//	Content-Security-Policy: default-src 'self'; base-uri 'self'; object-src 'none'; frame-ancestors 'self'; form-action 'self'
//	X-Content-Type-Options: nosniff
//	Referrer-Policy: same-origin
//	Permissions-Policy: accelerometer=(), browsing-topics=(), camera=(), ... usb=()
//	Cross-Origin-Opener-Policy: same-origin
//	Cross-Origin-Resource-Policy: same-origin
//
// and HTTPS responses also get Strict-Transport-Security: max-age=31536000;
// includeSubDomains. HSTS is never sent over plain HTTP (RFC 6797 §7.2); a
// request counts as HTTPS when r.TLS is set, or when its peer is one of
// Config.TrustedProxies and that proxy's Forwarded proto (RFC 7239) and/or
// X-Forwarded-Proto say https (see TrustedProxies for multi-hop chains).
// X-Powered-By set by inner handlers is removed, also before 1xx responses.
// Cross-Origin-Embedder-Policy and X-XSS-Protection: 0 (Config.DisableXSSAuditor,
// as OWASP and helmet recommend; never the harmful "1; mode=block") are
// opt-in. This set scores A+ (125) in the
// Mozilla HTTP Observatory 1.4.8 over HTTPS with the redirect below, and C+
// (60, the ceiling without TLS) over plain HTTP.
//
// # Only fields that change what a browser does
//
// Every field costs every response (a server spends about a microsecond on
// each, and Go's header map grows at the 15th; see bench/README.md), so the
// defaults leave out what current browsers ignore. helmet sends these four;
// here they are opt-in:
//
//   - X-Frame-Options: browsers ignore it when the enforced policy has
//     frame-ancestors (HTML, "check a navigation response's adherence to
//     X-Frame-Options"), as the default policy has. It is still sent, as
//     SAMEORIGIN, when the policy has no frame-ancestors; Config.FrameOptions
//     sends it always. The decision is made from the configured policy,
//     before the handler runs: a handler that replaces the CSP of its route
//     with one without frame-ancestors (or deletes it) sets X-Frame-Options
//     itself, or keeps frame-ancestors in its policy.
//   - Origin-Agent-Cluster: ?1 is what Chromium does by default since 115
//     (2023), and no other engine reads the field (Config.OriginAgentCluster).
//   - X-DNS-Prefetch-Control: off: non-standard, and browsers already skip
//     the DNS prefetching of links on HTTPS pages, the pages whose lookups it
//     would keep private (Config.DNSPrefetchControl).
//   - X-Permitted-Cross-Domain-Policies: none: read by Adobe Flash (gone)
//     and Acrobat, for crossdomain.xml policy files, not by browsers or
//     their PDF viewers; a site without a policy file gains nothing
//     (Config.PermittedCrossDomainPolicies).
//
// The Observatory counts frame-ancestors as X-Frame-Options, and scores
// none of the other three: the grade above is the same with or without
// them.
//
// # HTTPS redirect
//
// Config.RedirectHosts turns on the HTTP→HTTPS redirect (301 for GET and HEAD,
// 308 otherwise, so the method and body survive) for the listed hosts only;
// other hosts get 421, so a forged Host header is never an open redirect.
// The redirect goes to https's default port unless Config.RedirectPort names
// another; the plain-HTTP request's port is never kept (behind a proxy the
// public port is 80, and a development server's :8080 cannot also be TLS).
// The redirect and the 421 carry every field but HSTS, the policies too (with
// a nonce of their own when the policy has one; the ErrorHandler's request
// carries it), so their frame-ancestors stands in for X-Frame-Options.
//
// # Configuration decisions
//
// HSTS.MaxAge is whole seconds: New rejects fractions (1.5 s used to be
// truncated) and negative values (they used to send max-age=0, making
// browsers forget HSTS); ForgetHSTS is the one way to send max-age=0.
// FrameOptions with the CSP left at its default sets the default policy's
// frame-ancestors (DENY → 'none', SAMEORIGIN → 'self'); with an explicit CSP a
// contradicting FrameOptions is an error. Omit cannot silently undo what the
// Config sets explicitly: an explicit CSP, CSPReportOnly, FrameOptions,
// CrossOriginEmbedderPolicy, OriginAgentCluster, DNSPrefetchControl,
// PermittedCrossDomainPolicies or DisableXSSAuditor whose header is in Omit
// is an error (a nonce in an omitted policy would leave Nonce(ctx) pointless).
// report-uri takes only absolute http(s) URLs and relative paths (never
// javascript:, data: or "//host"), and sandbox is an error in a report-only
// policy, where browsers ignore it (CSP3 §6.3.2).
//
// # Zero value
//
// A nil or zero Middleware (New not called) passes every request to the next
// handler untouched, without any header, as in every package of this module;
// use New, or the package-level Handler for the defaults.
//
// # Content-Security-Policy and nonces
//
// Policies are built with the typed Policy builder and checked by New, which
// rejects unknown or obsolete directives, unquoted keywords (self instead of
// 'self', helmet#454), malformed nonces and hashes, 'strict-dynamic' without a
// nonce or hash, values containing ';', ',', white space or control
// characters, and an enforced policy without default-src. Put RequestNonce in
// script-src or style-src and every response gets a fresh 128-bit nonce from
// crypto/rand (base64url); templates read it with Nonce(r.Context()):
//
//	csp := security.DefaultPolicy().Set(security.ScriptSrc, security.RequestNonce, security.StrictDynamic)
//	m, err := security.New(security.Config{CSP: csp})
//	...
//	tmpl.Execute(w, security.Nonce(r.Context())) // <script nonce="{{.}}">
//
// A response with a nonce must not be stored by a shared cache (the nonce
// would repeat); keep such pages out of the cache middleware.
// Content-Security-Policy-Report-Only (Config.CSPReportOnly) shares the nonce;
// report-to names one of Config.ReportingEndpoints, sent as
// Reporting-Endpoints.
//
// # Changing a header for one route
//
// The headers are in the response header map before the next handler runs, so
// a handler changes them for its own response with the usual calls:
//
//	w.Header().Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'") // stricter here
//	w.Header().Del("Cross-Origin-Resource-Policy")                                          // embeddable asset
//
// Nothing re-adds them later. Keep X-Frame-Options consistent when changing
// frame-ancestors (set it to DENY for 'none', delete it for a list of origins).
// For a whole group of routes, wrap them with a second Middleware built from a
// different Config instead.
//
// # Order
//
// Place security near the outside of the chain, after trace and before
// everything that may answer by itself, so that CORS preflights, 304s and
// problem+json errors carry the headers too:
//
//	trace → security → cors → ratelimit → idempotency → compress → cache → negotiate → handler
package security
