// Package compress encodes HTTP responses with zstd, br (brotli), gzip or
// deflate as the client's Accept-Encoding allows (RFC 9110 §12.5.3, §8.4),
// and optionally decodes compressed request bodies.
//
// # Negotiation
//
// Accept-Encoding is read over all its field lines with the shared list
// parser: codings compare case-insensitively, "x-gzip" means gzip, an element
// with an invalid q (q=2, q=0.1234, q=abc) is ignored, q=0 excludes, "*"
// covers unlisted codings (and identity, unless listed). The client's q-value
// decides first; Config.Encodings (default zstd, br, gzip, deflate) breaks
// ties, and a coding wins a tie with identity. A missing or empty field means
// no compression. "deflate" is the zlib format, as RFC 9110 §8.4.1.2 defines.
//
// # What is compressed
//
// A response is compressed when all of these hold:
//   - its status allows a body and is not 206 (1xx pass straight through and
//     do not fix the decision; 204 and 304 are never encoded);
//   - the handler set no Content-Encoding, no Content-Range and no
//     "Cache-Control: no-transform";
//   - its media type matches Config.ContentTypes (text/*, JSON, JS, XML,
//     SVG, wasm, fonts ... by default); a missing Content-Type is sniffed
//     from the first bytes and then set explicitly;
//   - the body is at least Config.MinSize (1 KiB): up to that many bytes are
//     buffered before deciding, unless Content-Length says it already, or
//     the handler flushes (a flush always decides at once, so streams are
//     never held back).
//
// When it compresses, the middleware sets Content-Encoding and removes
// Content-Length and Accept-Ranges, and gives a strong ETag a coding suffix
// (see Entity tags). "Accept-Encoding" is merged into Vary (never
// duplicated, never next to "Vary: *") of every response when its status is
// committed, whatever the handler did to the field, so responses answered by
// inner middlewares (304, 412) carry it too: it is registered on the shared
// writer wrapper (ours, or for a response left uncompressed the httpmw one
// outside; set before the handler runs only when there is none). The layers'
// names and the handler's own token lists make one Vary line ("Accept,
// Accept-Encoding, Origin"). The handler does not see the name in its header
// map before it commits.
//
// HEAD requests get the headers a GET would get (Content-Encoding, Vary,
// ETag), decided from the body the handler writes or from Content-Length. A
// body the handler writes to a HEAD is encoded as for the GET (net/http then
// drops it), so that an outer cache computes the GET's ETag; a HEAD handler
// that writes none gets nothing encoded. A HEAD handler that sets neither a
// body nor Content-Length gets the decision of a large body.
//
// # Entity tags
//
// An encoded body is a different representation from the identity one
// (RFC 9110 §8.8.3), so a strong ETag gets the coding as a suffix, like
// Apache's mod_deflate DeflateAlterETag AddSuffix: "v1" goes out as
// "v1-gzip", "v1-br", "v1-zstd" or "v1-deflate". It stays strong, so a
// client can send it back in If-Match (strong comparison, §13.1.1) to guard
// a PUT; weakening it (W/"v1") made every such request fail with 412. Weak
// tags are left as they are. A 304 to a request that negotiated a coding
// gets the same suffix, so that it carries the validator of the encoded 200
// a cache holds (RFC 9111 §4.3.4) — unless its If-None-Match named the
// unsuffixed tag and not the suffixed one (the client holds an identity 200,
// e.g. of a body below MinSize).
//
// On the way in (unlike mod_deflate, which leaves them), If-Match and
// If-None-Match lose the suffix of every strong tag ending in "-gzip",
// "-br", "-zstd" or "-deflate", so that the handler and inner middlewares
// (the cache package) compare against their own tags. The inner handler gets
// a shallow copy of the request with its own header map (the caller's
// request is not modified); a request without such a tag is passed on as it
// is, without allocating. Any coding's suffix goes, whatever the request
// negotiates: all of them name the same state of the resource, so If-Match
// with the tag of a br response read earlier protects a PUT sent with gzip. If-Range is not rewritten: it asks for a
// range of exactly the bytes the client holds (§13.1.5), which an unencoded
// 206 (206s are never encoded) does not continue, so a suffixed If-Range
// fails and the full response is sent.
//
// The middleware cannot tell its suffix from a handler tag that happens to
// end in "-gzip": such a tag round-trips when encoded ("v1-gzip-gzip"), but
// sent unencoded and echoed back it matches nothing (If-None-Match: a 200
// instead of a 304; If-Match: 412). Both are safe outcomes; avoid such tags.
//
// # Streaming
//
// The middleware is built on the shared ResponseWriter wrapper
// (internal/writer). A handler's Flush, through w.(http.Flusher) or
// http.ResponseController, flushes the encoder and then the connection, so
// Server-Sent Events (text/event-stream) and other streams arrive in real
// time, compressed. A stream — a text/event-stream response, or one the
// handler flushes before its first byte was encoded — gets a stream
// encoder, which holds almost nothing between flushes, so that an idle
// Server-Sent Events connection costs a few KiB whatever the coding instead
// of a whole encoder (0.7 to 2 MiB; 10k SSE clients would hold 7 to 20 GiB):
// gzip uses klauspost's stateless deflate (each write compressed on its
// own), deflate the same inside a zlib frame, br quality 1 with a 1 KiB
// window, and zstd one frame per flush (a stream of concatenated frames,
// RFC 8878 §3.1) from one encoder the Middleware's streams share. Streams
// compress less (nothing is shared between writes or flushes), which for
// events of a few hundred bytes costs little. http.ResponseController reaches Hijack, SetReadDeadline,
// SetWriteDeadline and EnableFullDuplex of the server's writer through
// Unwrap, and a legacy w.(http.Hijacker) assertion works too; after a
// hijack nothing more is written. io.ReaderFrom goes through the encoder.
//
// # Memory
//
// Encoders are pooled per Middleware (one pool per coding, at the configured
// level); zstd runs with one goroutine-free encoder per stream
// (WithEncoderConcurrency(1), WithLowerEncoderMem) and a 128 KiB window by
// default, brotli with a 256 KiB window. Measured heap (Go 1.26, amd64,
// default levels):
//
//	                                  zstd     br       gzip     deflate
//	in-flight ordinary response       731 KiB  2041 KiB 1084 KiB 1075 KiB  (TestMemoryPerInFlightResponse, 32 in flight)
//	idle event stream (SSE)           11 KiB   20 KiB   11 KiB   11 KiB    (TestIdleEventStreamsHoldLittleMemory, 100 idle)
//	stalled request body, 64 KiB cap  348 KiB  197 KiB  44 KiB   43 KiB    (TestStalledCompressedRequestsHoldLittleMemory, 200 stalled)
//	stalled request body, 10 MiB cap  8.6 MiB  2.1 MiB  44 KiB   43 KiB    (same, default MaxRequestSize)
//
// Figures include the goroutine, request and recorder of each request; an
// ordinary response also holds a MinSize buffer (1 KiB). Responses that are
// not compressed use no encoder. Higher levels cost more: zstd level 3+
// about 1.8 MiB; brotli above 9 is refused (~36 MB and ~30 ms per 16 KiB).
// There is no cap on concurrent encoders: bound concurrency in front (the
// ratelimit package, http.Server limits) if 1–2 MiB per in-flight
// compressed response is too much.
//
// # BREACH
//
// Compression of secrets next to attacker-controlled input leaks the secret
// through the response length (BREACH). Config.Jitter adds 1..Jitter bytes of
// padding to each compressed response, as gzhttp's RandomJitter does, but
// with a length that is a keyed hash (a secret seed per Middleware) of the
// body rather than random, so that an attacker cannot average it away by
// repeating a request, and the same body always gives the same bytes (an
// outer cache generates a stable ETag). zstd gets a trailing skippable frame
// keyed by the whole body. gzip gets a header comment, which is written
// before the rest of the body is known: its length is keyed by the first
// MinSize bytes of the body (held until then, or until the handler flushes),
// so bodies that differ only after them get the same padding — place
// reflected input and secrets early, or prefer zstd. br and deflate have no
// padding slot and cannot be combined with Jitter. Padding raises the cost of
// the attack; it does not remove it. Masking secrets per response (CSRF
// token XOR masks) or keeping them out of compressed bodies is the real fix.
//
// # Request bodies
//
// With Config.DecompressRequests, request bodies sent with Content-Encoding
// gzip, x-gzip, br, zstd or deflate (up to three chained codings) are
// decoded before the handler reads them; Content-Encoding and
// Content-Length are removed from the request the handler sees. An unknown
// coding is answered with 415 and an Accept-Encoding header (RFC 9110
// §15.5.16). A body that decodes to more than MaxRequestSize (10 MiB), or
// to more than MaxRequestRatio (100) times its encoded size once past 64 KiB,
// fails the handler's Read and the response becomes 413: whatever the handler
// answers after the failure is replaced (if it had not sent its status yet)
// by an RFC 9457 problem+json document, or by Config.ErrorHandler. A body
// that is not valid in its coding (a broken or truncated stream) fails the
// Read with ErrCorruptRequest (wrapping the decoder's error) and the
// response becomes 400 in the same way; an error of the original body (the
// client went away) is returned as it is and answered by nobody. Test with
// errors.Is(err, compress.ErrRequestTooLarge), ErrRatio, ErrCorruptRequest.
//
// A decoder allocates up to the window its stream declares, before any
// output, so a request that sends the first bytes of a stream and stalls
// would pin the whole window (8 MiB for zstd, 16 MiB for br). The window a
// zstd or br body may declare is therefore capped at the smallest power of
// two that holds MaxRequestSize (at least 64 KiB; at most 8 MiB for zstd,
// RFC 9659, and 16 MiB for br): a body declaring more is refused at its
// first bytes with ErrRequestTooLarge (413). With MaxRequestSize 64 KiB a
// stalled request costs at most ~350 KiB whatever the coding (table above);
// with the default 10 MiB it can cost 8.6 MiB (zstd), so lower
// MaxRequestSize to what the handlers need. Clients then have to encode
// with a window within the cap (zstd encoders do so for bodies whose size
// they know, brotli needs lgwin set).
//
// # Order
//
// Recommended chain: trace → security → cors → ratelimit → idempotency →
// compress → cache → negotiate → handler. Inside compress, the cache stores
// identity bodies and strong ETags and every client gets them encoded as it
// asks, with the suffix removed again from the conditional requests cache
// evaluates (304s and If-Match on writes work with the suffixed tags).
// Outside compress, cache matches the suffixed tags against its
// Config.Validator's tag itself (both packages share one definition of the
// suffixes), so the other order answers the same.
//
//	m, err := compress.New(compress.Config{})
//	if err != nil { ... }
//	http.ListenAndServe(":8080", m.Handler(mux))
package compress
