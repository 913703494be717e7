// Package idempotency makes retried POST and PATCH requests carrying an
// Idempotency-Key run the handler once and replay its response, per
// draft-ietf-httpapi-idempotency-key-header (-09) and, where the draft is
// silent, Stripe's semantics.
//
//	m, err := idempotency.New(idempotency.Config{Required: true})
//	...
//	mux.Handle("POST /payments", m.Handler(http.HandlerFunc(pay)))
//
// # The key
//
// The draft defines Idempotency-Key as an sf-string Item (RFC 9651):
// `Idempotency-Key: "8e03978e-40d5-43e8-bc93-6894a57f9324"`. The unquoted
// form most APIs use (`Idempotency-Key: 8e03978e-...`) is accepted too and
// names the same key. A key is 1 to 255 printable ASCII characters; an
// empty, malformed or longer key, or more than one field line, is answered
// 400. Without a key the request goes to the handler unprotected, or, with
// Config.Required, is answered 400 (the draft's "missing key" error).
//
// # Scope and fingerprint
//
// Keys are scoped: the store sees hex(SHA-256(scope, route, key)), where the
// scope is Config.Scope(r) or, by default, the Authorization field (plus the
// cookie Config.ScopeCookie names), so two users' identical keys never meet
// and a client cannot read another's response (the draft's security
// considerations). Config.Route optionally gives each route its own key space;
// by default a key is one operation for its scope, so reusing it on another
// method or path is answered 422.
//
// The fingerprint is SHA-256 over the method, the path, the raw query, the
// Content-Type, the Accept-Encoding, the preconditions (If-Match, If-None-Match,
// If-Unmodified-Since), Config.FingerprintHeaders and the body. The body is
// read once, up to Config.MaxBodyBytes (1 MiB; 413 past it), and handed to
// the handler intact.
//
// # What happens
//
//   - First request: the middleware takes a lease (Config.LeaseTimeout, 30 s,
//     with a fencing token), runs the handler holding the response, stores
//     status, the header fields the inner chain set and the body for
//     Config.TTL (24 h), and only then sends the response. Storing and ending
//     the lease are one atomic step (Store.Complete), so a retry arriving at
//     any moment is answered 409 or replayed, never run twice.
//   - Same key while the first runs: 409 with Retry-After (seconds until the
//     lease expires, at least 1).
//   - Same key, other fingerprint: 422.
//   - Same key, same fingerprint, completed: the stored status, fields and
//     body byte for byte, plus `Idempotent-Replayed: true` and a
//     Content-Length of its own; the handler does not run.
//
// These answers are RFC 9457 problem+json documents (Config.ErrorHandler
// replaces them).
//
// Not stored (the lease is released, so a retry runs the handler again):
// 5xx (unless Config.StoreServerErrors), 408, 409 and 429 (transient); a
// handler panic (the panic goes on up); a response the handler flushes
// (streamed) or hijacks; a body over Config.MaxStoredBytes (1 MiB), which is
// sent as written. Other 4xx, such as 400 and 422, are the handler's final
// word on that request and are stored, as Stripe does: correct the request
// and use a new key. A lease whose holder crashed expires after LeaseTimeout,
// and the key becomes usable again; a holder that outlives its lease still
// answers its client, but its response is not stored (ErrLeaseLost).
//
// # Header fields of a replay
//
// When the middleware is entered it takes a snapshot of the response header
// map: fields outer middlewares set per request (trace id, CSP nonce,
// rate-limit counters) are already there. Only fields the inner chain added
// or changed are stored, never Date, Content-Length, hop-by-hop fields or
// Set-Cookie, so a replay gets fresh outer fields. A field the inner chain
// deleted is not recorded as deleted. Trailers (fields declared in Trailer,
// or set with http.TrailerPrefix) are sent as trailers only, the response
// then without Content-Length (chunked), and are replayed the same way.
// If a compressing middleware runs
// inside this one, its Content-Encoding is stored with the encoded body;
// Accept-Encoding is part of the fingerprint, so a retry that accepts other
// codings is answered 422 instead of being handed a body it may not decode.
//
// A nil or zero Middleware (New not called) passes every request through
// unprotected, as in the module's other packages.
//
// # Stores
//
// Store is the contract (see its methods) that MemoryStore and the Redis
// store (nested module) implement. MemoryStore is bounded (MaxEntries,
// MaxBytes, oldest records evicted first), expires entries lazily and starts
// no goroutine. When the store fails, requests with a key are answered 503
// (the middleware cannot promise once-only), or run unprotected with
// Config.FailOpen.
//
// # Published policy
//
// The draft requires a resource to publish its idempotency policy; with the
// defaults it is: keys are 1 to 255 characters, scoped by credentials, kept
// 24 hours after the first request completed, compared with a fingerprint of
// method, path, query, Content-Type, preconditions and body; 5xx responses
// are not kept.
package idempotency
