// Package httpmw is a set of net/http middlewares, one package per HTTP
// concern, that compose in any order and follow the RFCs where popular
// single-purpose libraries do not.
//
// Every package has the same shape: a Config whose zero value is a safe
// default, New(Config) (*Middleware, error) that validates the whole config up
// front (errors.Join of every problem), and (*Middleware).Handler, a
// func(http.Handler) http.Handler that works with http.ServeMux, chi and any
// router that takes that type.
//
// The packages:
//
//   - trace: X-Trace-Id / X-Request-Id and W3C traceparent: accept, validate,
//     generate, propagate to clients (Transport) and to log/slog records.
//   - security: HSTS (TLS only), CSP with a per-request nonce, nosniff, frame,
//     referrer, permissions and cross-origin policies.
//   - cors: the Fetch standard's CORS protocol, validated at construction.
//   - compress: zstd, br, gzip and deflate responses that keep streaming and
//     caching correct.
//   - cache: ETag and Last-Modified, conditional GET/HEAD (304) and
//     conditional writes (412).
//   - negotiate: Accept, Accept-Language and Accept-Charset (RFC 9110 §12),
//     406 problem+json or a fallback.
//   - ratelimit: GCRA limits per key (client IP through trusted proxies, or
//     an API key), 429 with Retry-After and the IETF RateLimit fields.
//   - idempotency: Idempotency-Key for POST and PATCH: one handler run,
//     409 while running, 422 on reuse, byte-for-byte replay.
//
// Stores are interfaces with bounded in-memory implementations; the nested
// module github.com/jiec/httpmw/redisstore shares them between replicas
// through Redis, and github.com/jiec/httpmw/otel bridges trace to
// OpenTelemetry.
//
// Errors a middleware answers itself use RFC 9457 application/problem+json
// with the trace id as the "trace_id" member.
//
// # Recommended order
//
// Outermost first:
//
//	trace → security → cors → ratelimit → idempotency → compress → cache → negotiate → handler
//
// trace comes first so that every response, including those answered by an
// inner middleware (CORS preflight, 304, 412, 429), carries the trace id and is
// logged; security next so that those responses carry the protective headers
// too; compress sits outside cache so that cache hashes the uncompressed body
// and compress weakens the ETag it sees. Any other order still works: each
// package sets its headers before calling the next handler, registers its
// Vary dimensions with the one shared ResponseWriter wrapper (which merges
// them, once each, when the status is committed, whatever the handler did
// to the field, into one Vary line; "*" stands alone), and keeps Flush, io.ReaderFrom,
// http.ResponseController and Hijack working: WebSocket libraries upgrade
// through any chain, with a legacy w.(http.Hijacker) assertion or the
// ResponseController. Header changes a handler makes after its status never
// reach the client, as with a bare net/http writer (trailers excepted).
//
// # Chain example
//
//	tr, _ := trace.New(trace.Config{})
//	sec, _ := security.New(security.Config{})
//	co, err := cors.New(cors.Config{Origins: []string{"https://app.example.com"}})
//	if err != nil {
//		log.Fatal(err) // names every bad field
//	}
//	cmp, _ := compress.New(compress.Config{})
//	ch, _ := cache.New(cache.Config{})
//
//	mux := http.NewServeMux()
//	mux.HandleFunc("GET /api/items", items)
//	handler := tr.Handler(sec.Handler(co.Handler(cmp.Handler(ch.Handler(mux)))))
//	log.Fatal(http.ListenAndServe(":8080", handler))
//
// The runnable recipes are in the examples directory; go run ./examples/server
// starts a demo with every package chained.
package httpmw
