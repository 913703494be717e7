// Package cache adds validators (ETag, Last-Modified) to responses and answers
// conditional requests (RFC 9110 §13): 304 Not Modified for GET and HEAD, 412
// Precondition Failed for requests whose If-Match or If-Unmodified-Since
// fails, so that clients revalidate cheaply and writes are protected against
// lost updates.
//
// # Validators
//
// A response gets its validators from, in this order:
//
//  1. Config.Validator, a function of the request that returns the current
//     ETag and/or Last-Modified of the target resource. The middleware then
//     evaluates the preconditions before the handler runs: a matching
//     If-None-Match is answered with 304 and a failing If-Match with 412
//     without executing the handler. This is the only way to protect PUT,
//     PATCH, DELETE and POST (optimistic concurrency), because a write must
//     never run before its precondition is checked. A 304 answered this way
//     cannot learn from the handler the Cache-Control, Content-Location,
//     Expires and Vary its 200 would carry, which RFC 9110 §15.4.5 says it
//     MUST send: Validators carries them (CacheControl, ContentLocation,
//     Expires, Vary; with Config.CacheControl and Config.Vary as defaults),
//     and they are also set on the response before the handler runs, so the
//     304 and the 200 carry the same fields.
//  2. ETag and Last-Modified fields the handler sets itself.
//  3. A generated strong ETag for 200 responses to GET and HEAD without an
//     ETag of their own (a handler that sets one has its body neither held
//     nor hashed; Last-Modified alone does not count, since a date of
//     one-second resolution is a weak validator, RFC 9110 §8.8.2.2): the
//     body is hashed with XXH64 while the handler writes it (no second
//     pass), and the 64-bit hash and the body length modulo 2^32 become the
//     tag, 12 bytes base64url-encoded, e.g. "JXH8uGc-ZLEAAAAv". The tag
//     depends only on the body bytes (fixed seed, little-endian reads), so
//     it is stable across processes, restarts, platforms and replicas.
//     XXH64 runs 4–10× as fast as SHA-256 with SHA-NI, in pure Go: a
//     generated-ETag response of 64 KiB to 1 MiB costs 0.24–0.36× what it
//     did with SHA-256, 1 KiB 0.5–0.6× (interleaved runs, bench/README.md;
//     the tags of earlier versions, SHA-256 based, change once). It
//     is not collision-resistant: someone who chooses two bodies of the
//     same length can give them one tag. Accidental collisions between two
//     versions of a resource (2^-64) are not a concern; where an attacker
//     writes the content and a stale 304 would matter, set a validator of
//     your own (ETag, or Config.Validator, e.g. a version number). The body
//     is held (up to Config.MaxBodySize, 1 MiB by default) until the
//     handler returns; a larger body, or one the handler flushes
//     (streaming), is passed through without an ETag and is never held in
//     full; the preconditions are still evaluated, against its
//     Last-Modified, before its status goes out. A held body goes out with
//     its Content-Length, never chunked: the middleware sets the field
//     (a handler's own Content-Length is kept), also up to 2 KiB, which
//     net/http would measure itself only if nothing flushed the response
//     before the whole chain returned (a layer outside may flush after its
//     handler). Not with trailers: a response that declares them (Trailer)
//     or sets them under http.TrailerPrefix before its status (or later,
//     in the header map it had from Header before the status) goes chunked
//     over HTTP/1.1, as trailers need; so does one that sets a
//     TrailerPrefix key through Header after the status (its values are in
//     the map before the held status is sent). The map is walked once more
//     for that at the end: the handler may edit the map it kept in any way.
//
// # Preconditions
//
// Evaluation follows RFC 9110 §13.2.2 exactly: If-Match, else
// If-Unmodified-Since; then If-None-Match, else (GET and HEAD only)
// If-Modified-Since. If-Match uses the strong comparison and If-None-Match the
// weak one (§8.8.3.2). "*", lists, several field lines (combined, §5.3) and
// malformed elements (never match) are handled; a field without any element
// is ignored. Dates are accepted in the three HTTP-date formats; an invalid date,
// a list of dates or an unknown modification time makes the date condition
// ignored. Preconditions are ignored for OPTIONS, CONNECT and TRACE (§13.2.1)
// and for responses other than 2xx produced by the handler (a 200 is the
// only one that gets a generated ETag). Range and If-Range are left to the
// handler, but the preconditions come first (§13.2.2, step 5): a 206 the
// handler serves is answered 304 or 412, exactly like its 200, so that a
// resumed download never splices a new version onto an old partial file.
//
// An If-Match or If-None-Match longer than 8 KiB is not read. For GET and
// HEAD it then matches nothing (the full response is sent: safe); for any
// other method the precondition cannot be shown to hold and the request
// fails closed with 412 (a *PreconditionError with TooLong set; the
// problem+json detail says the field is too long), so that
// "If-None-Match: *" padded past the cap cannot let a PUT overwrite.
//
// Once the middleware has answered 304 or 412 in place of the handler's
// response, the handler's further Write, ReadFrom and Flush calls return
// ErrAnswered, so that it stops producing a body nobody receives.
//
// Fields the middleware sets before the handler runs (Cache-Control, ETag,
// Last-Modified, Expires, Content-Location) are the handler's to replace:
// Header().Set replaces them, and Header().Add does too (the preset value is
// dropped, so the field is not sent twice). They are taken back from a
// response that is not 2xx or 304, unless the handler set its own.
//
// A 304 keeps Cache-Control, Content-Location, Date, ETag, Expires and Vary
// and every field that is not representation metadata (trace ids, security
// headers set by outer middlewares); it drops Content-Type, Content-Length,
// Content-Encoding, Content-Language, Content-Range, digests, and
// Last-Modified when an ETag is present (RFC 9110 §15.4.5). A 412 is an RFC
// 9457 problem+json document unless Config.ErrorHandler replaces it.
//
// # Memory
//
// A body held for its ETag is kept in chunks (1 KiB to 64 KiB, each at
// most a quarter of what is already held, or as large as the Write that
// fills it) taken from a sync.Pool per size class (they keep what the
// requests in flight need, and give idle chunks back to the GC within two
// cycles), never in one growing slice, so that what a response allocates stays within
// 1.25× its body from 4 KiB up, and a body over MaxBodySize holds at most
// MaxBodySize (plus one chunk) before it is passed on and the chunks
// released. With warm pools a response allocates only its header
// values. A held body over 4 KiB is sent in writes of up to 64 KiB (the
// smaller chunks gathered in one of the largest class, from its pool),
// so that net/http makes one system call per 64 KiB rather than one per
// chunk. Measured (Go 1.26, amd64), bytes allocated per generated-ETag 200:
//
//	body                          1 KiB   64 KiB   900 KiB   1 MiB
//	one Write (BenchmarkMiddleware) 60 B    61 B     91 B      108 B    (before: 60 B, 74 B, –, 1 MiB)
//	4 KiB Writes (test, averaged)   ≤ 1.25× the body, warm: ~0       (before: 1.3 KiB, 252 KiB, 5.2 MiB)
//	empty pools (chunks)            1.0×    1.0×     1.07×     1.0×
//
// A streamed body over the cap (3 MiB) allocated 5.2 MiB before; now at
// most the cap, and nothing once the pools are warm.
//
// # Cache-Control
//
// CacheControl builds a Cache-Control value (max-age, s-maxage, no-cache,
// no-store, private, public, immutable, stale-while-revalidate,
// stale-if-error, must-revalidate...). Config.CacheControl sets it on 2xx and
// 304 responses to GET and HEAD that have none of their own, including the
// 304s answered before the handler. For different policies per route, create
// one Middleware per route (New is cheap):
//
//	assets, _ := cache.New(cache.Config{
//		CacheControl: cache.CacheControl{}.Public().MaxAge(365 * 24 * time.Hour).Immutable(),
//	})
//	api, _ := cache.New(cache.Config{CacheControl: cache.CacheControl{}.Private().NoCache()})
//	mux.Handle("GET /assets/", assets.Handler(files))
//	mux.Handle("/api/", api.Handler(apiHandler))
//
// # Composition
//
// Recommended order: trace → security → cors → ratelimit → idempotency →
// compress → cache → negotiate → handler. With compress outside, cache hashes
// the uncompressed body; compress sends a strong tag "t" of an encoded
// response as "t-gzip" (-br, -zstd, -deflate) and removes that suffix from
// If-Match and If-None-Match before cache sees them, so revalidation (304)
// and If-Match on writes (with Config.Validator) work with the tags clients
// received, in every coding, and 304s carry the 200's tag. With compress
// inside, cache hashes the compressed bytes, which gives each content coding
// its own strong tag (RFC 9110 §8.8.3.3), and a handler's own strong tag
// reaches cache already suffixed. A Config.Validator's tag "t" is compared
// before compress runs, while the encoded 200 carries "t-gzip": so cache
// itself lets a strong request tag that is the Validator's strong tag plus
// one of those coding suffixes match like "t" (for If-None-Match and
// If-Match alike, as compress outside would have removed the suffix), and a
// 304 answering such an If-None-Match element carries that element as its
// ETag, the validator of the 200 the client holds (RFC 9111 §4.3.4), with
// Accept-Encoding merged into Vary. Both orders therefore answer the same.
// When the handler's representation depends on request fields that an inner
// middleware negotiates (Accept, Accept-Language, and Accept-Encoding when
// compress is inside), list them in Config.Vary so that 304s answered before
// the handler carry the same Vary as the 200, and make Config.Validator
// return a different ETag per representation (compress already tells the
// content codings apart by their suffix).
package cache
