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
// When it compresses, the middleware sets Content-Encoding, removes
// Content-Length and Accept-Ranges, and turns a strong ETag into a weak one
// (RFC 9110 §8.8.3: the encoded bytes differ), so that caches and the cache
// package stay correct in either order. A 304 to a request that negotiated a
// coding gets its strong ETag weakened the same way, so that it carries the
// validator of the encoded 200 that a cache holds (RFC 9111 §4.3.4).
// "Vary: Accept-Encoding" is merged
// (never duplicated, never next to "Vary: *") into every response, before the
// next handler runs, so responses answered by inner middlewares (304, 412)
// carry it too.
//
// HEAD requests get the headers a GET would get (Content-Encoding, Vary,
// ETag), decided from the body the handler writes or from Content-Length. A
// body the handler writes to a HEAD is encoded as for the GET (net/http then
// drops it), so that an outer cache computes the GET's ETag; a HEAD handler
// that writes none gets nothing encoded. A HEAD handler that sets neither a
// body nor Content-Length gets the decision of a large body.
//
// # Streaming
//
// The middleware is built on the shared ResponseWriter wrapper
// (internal/writer). A handler's Flush, through w.(http.Flusher) or
// http.ResponseController, flushes the encoder and then the connection, so
// Server-Sent Events (text/event-stream) and other streams arrive in real
// time, compressed. http.ResponseController reaches Hijack, SetReadDeadline,
// SetWriteDeadline and EnableFullDuplex of the server's writer through
// Unwrap; a legacy w.(http.Hijacker) assertion does not (use the
// ResponseController). io.ReaderFrom goes through the encoder.
//
// # Memory
//
// Encoders are pooled per Middleware (one pool per coding, at the configured
// level); zstd runs with one goroutine-free encoder per stream
// (WithEncoderConcurrency(1), WithLowerEncoderMem) and a 128 KiB window by
// default, brotli with a 256 KiB window. Measured heap per in-flight
// compressed response at the default levels (TestMemoryPerInFlightResponse,
// Go 1.26, amd64): zstd ~0.7 MiB, br ~2.0 MiB, gzip ~1.06 MiB, deflate
// ~1.05 MiB, plus a MinSize buffer (1 KiB) per response. Responses that are
// not compressed use no encoder. Higher levels cost more: zstd level 3+
// about 1.8 MiB; brotli above 9 is refused (~36 MB and ~30 ms per 16 KiB).
//
// # BREACH
//
// Compression of secrets next to attacker-controlled input leaks the secret
// through the response length (BREACH). Config.Jitter adds 1..Jitter bytes of
// padding to each compressed response, as gzhttp's RandomJitter does: a gzip
// header comment of random length, or a trailing zstd skippable frame whose
// length comes from a keyed hash of the whole body (so an attacker cannot
// average it away by repeating a request). br and deflate have no padding
// slot and cannot be combined with Jitter. Padding raises the cost of the
// attack; it does not remove it. Masking secrets per response (CSRF token
// XOR masks) or keeping them out of compressed bodies is the real fix.
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
// by an RFC 9457 problem+json document, or by Config.ErrorHandler.
//
// # Order
//
// Recommended chain: trace → security → cors → ratelimit → idempotency →
// compress → cache → negotiate → handler. Inside compress, the cache stores
// identity bodies and strong ETags and every client gets them encoded as it
// asks.
//
//	m, err := compress.New(compress.Config{})
//	if err != nil { ... }
//	http.ListenAndServe(":8080", m.Handler(mux))
package compress
