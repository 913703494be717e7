package compress

import (
	"encoding/binary"
	"hash/maphash"
	"net/http"
	"strconv"
	"strings"

	"github.com/jiec/httpmw/internal/header"
	"github.com/jiec/httpmw/internal/writer"
	"github.com/klauspost/compress/gzip"
)

// States of a response.
const (
	stateNew       uint8 = iota // no final status yet
	stateUndecided              // status held, body buffered up to minSize
	statePlain                  // passing through unchanged
	stateEncode                 // compressing (enc is created on first use)
	stateReplaced               // request body failed: the handler's answer is replaced
)

// response is the per-request state. It embeds the one ResponseWriter
// wrapper (internal/writer), which is what the next handler receives; the
// response is its Interceptor and BodyInterceptor. Pooled per Middleware.
type response struct {
	writer.Writer
	m     *Middleware
	req   *http.Request
	cd    coding
	state uint8
	head  bool
	// stream: the response is a stream (text/event-stream, or flushed
	// before its first encoded byte); it gets a stream encoder, which holds
	// almost nothing between flushes (encoders.go).
	stream bool
	buf    []byte // pre-decision buffer, cap minSize
	enc    encoder
	rb     *requestBody // decoded request body, or nil
	inm    []string     // If-None-Match as the client sent it (with suffixes)
	hash   maphash.Hash // jitter: keyed hash of the whole body (zstd) or its first minSize bytes (gzip)
}

var (
	_ writer.Interceptor     = (*response)(nil)
	_ writer.BodyInterceptor = (*response)(nil)
)

// varyAcceptEncoding is the Vary dimension registered with internal/writer.
var varyAcceptEncoding = []string{"Accept-Encoding"}

// addVary merges "Vary: Accept-Encoding". Each response gets its own slice
// (from header.AddVary's slab): a handler may write into its header values
// in place, and a slice shared between responses would then change (and
// race on) every other response.
func addVary(h http.Header) { header.AddVary(h, "Accept-Encoding") }

func (r *response) reset(rw http.ResponseWriter, req *http.Request, cd coding, rb *requestBody, inm []string) {
	r.Writer.Reset(rw, r)
	r.req, r.cd, r.rb, r.inm = req, cd, rb, inm
	r.state = stateNew
	r.head = req.Method == http.MethodHead
	r.stream = false
	r.buf = r.buf[:0]
	if r.m.c.jitter > 0 && (cd == codingZstd || cd == codingGzip) {
		r.hash.SetSeed(r.m.seed)
	}
}

// padGzip reports whether the response gets a gzip header comment as
// padding: its length is keyed by the first minSize bytes of the body, so
// the encoder starts only once those are held (in buf) or the handler
// flushes or returns.
func (r *response) padGzip() bool { return r.m.c.jitter > 0 && r.cd == codingGzip }

// Header decides what it can from the headers when the handler commits its
// status; it holds the status (returns false) while the body decides. A
// response left plain gets its body passed straight through (keeping
// sendfile).
func (r *response) Header(code int) bool {
	send := r.header(code)
	if r.state == statePlain {
		r.PassBody()
	}
	return send
}

func (r *response) header(code int) bool {
	if r.rb != nil && r.rb.err != nil {
		r.state = stateReplaced
		return false
	}
	r.state = statePlain
	if r.cd == codingIdentity || code == http.StatusPartialContent {
		return true
	}
	h := r.Writer.Header()
	if !transformable(h) {
		return true
	}
	if ct := h["Content-Type"]; len(ct) > 0 && isEventStream(ct[0]) {
		r.stream = true
	}
	if code == http.StatusNotModified {
		// The 304 must carry the validator the encoded 200 carried, or a
		// cache holding that 200 will not update it (RFC 9111 §4.3.4).
		suffixNotModifiedETag(h, r.cd, r.inm)
		return true
	}
	if !writer.BodyAllowed(code) {
		return true
	}
	cl := int64(-1)
	if v := h["Content-Length"]; len(v) > 0 {
		if n, err := strconv.ParseInt(v[0], 10, 64); err == nil && n >= 0 {
			cl = n
		}
	}
	if cl >= 0 && cl < int64(r.m.c.minSize) {
		return true
	}
	ct, hasCT := h["Content-Type"]
	if hasCT && (len(ct) == 0 || !r.m.c.allowed(ct[0])) {
		return true
	}
	if cl >= 0 && hasCT {
		r.start()
		return true
	}
	r.state = stateUndecided
	return false
}

// transformable reports whether the handler left the body to us: not
// already encoded, not a range, no "Cache-Control: no-transform"
// (RFC 9110 §8.4, §14.4, RFC 9111 §5.2.2.6).
func transformable(h http.Header) bool {
	for _, v := range h["Content-Encoding"] {
		if v != "" {
			return false
		}
	}
	return len(h["Content-Range"]) == 0 && !header.HasToken(h["Cache-Control"], "no-transform")
}

// isEventStream reports whether the media type of ct is text/event-stream.
func isEventStream(ct string) bool {
	mt, _ := header.CutParams(ct)
	return strings.EqualFold(mt, "text/event-stream")
}

// decide ends the undecided state, with the buffered bytes as the body
// prefix. large means the body is (or may be) at least minSize. next is
// the body that follows the buffered bytes, sniffed when none are buffered
// (MinSize AnySize buffers nothing).
func (r *response) decide(large bool, next []byte) error {
	h := r.HeaderDown() // the status is held: the handler's map is detached
	ok := large
	if ok {
		if ct, hasCT := h["Content-Type"]; hasCT {
			ok = len(ct) > 0 && r.m.c.allowed(ct[0])
		} else if len(r.buf) > 0 || len(next) > 0 {
			// Sniff as net/http would, and set it now: net/http would otherwise
			// sniff the compressed bytes (golang/go#31753).
			sniff := r.buf
			if len(sniff) == 0 {
				sniff = next[:min(len(next), 512)]
			}
			sniffed := http.DetectContentType(sniff)
			if ok = r.m.c.allowed(sniffed); ok {
				h["Content-Type"] = []string{sniffed}
			}
		} else {
			ok = false
		}
	}
	if ok {
		r.start()
	} else {
		r.state = statePlain
		r.SendHeader()
		r.PassBody()
	}
	if len(r.buf) == 0 {
		return nil
	}
	buf := r.buf
	r.buf = r.buf[:0]
	_, err := r.Body(buf)
	return err
}

// start switches to compressing: it edits the headers and sends the status.
func (r *response) start() {
	h := r.HeaderDown()
	h["Content-Encoding"] = []string{codingNames[r.cd]}
	delete(h, "Content-Length")
	delete(h, "Accept-Ranges") // ranges of the encoded body would not match
	suffixETag(h, r.cd)
	// Vary: Accept-Encoding is there: registered on r.Writer, it was merged
	// at the commit, before Header ran.
	// A HEAD body, if the handler writes one, is encoded too (net/http drops
	// it): an outer layer that hashes or measures the body (cache's ETag, a
	// Content-Length) must see what it sees for the GET (RFC 9110 §9.3.2).
	r.state = stateEncode
	r.SendHeader()
}

// openEncoder creates the encoder and encodes the bytes held in buf. next is
// the body that follows them (only its first bytes count, for the gzip
// padding length).
func (r *response) openEncoder(next []byte) error {
	r.enc = r.m.encoders.get(r.cd, r.stream, r.Writer.Down())
	if !r.padGzip() {
		return nil
	}
	// The padding length is a keyed hash of the first minSize bytes of the
	// body, as for zstd: the same body gets the same bytes (and an outer
	// cache the same ETag), and repeating a request does not average the
	// padding away.
	held := r.buf
	_, _ = r.hash.Write(held)
	_, _ = r.hash.Write(next[:min(len(next), r.m.c.minSize-len(held))])
	r.enc.(*gzip.Writer).Comment = padding[:1+int(r.hash.Sum64()%uint64(r.m.c.jitter))]
	if len(held) == 0 {
		return nil
	}
	r.buf = r.buf[:0]
	_, err := r.enc.Write(held)
	return err
}

// Body receives the handler's bytes. It is on the stack under the writes of
// the layers below: the rare steps (buffering the gzip padding's key,
// opening the encoder, deciding) run in functions that return before the
// bytes go down.
func (r *response) Body(p []byte) (int, error) {
	switch r.state {
	case statePlain:
		return r.WriteDown(p)
	case stateEncode:
		if r.enc == nil {
			if held, err := r.open(p); held || err != nil {
				if err != nil {
					return 0, err
				}
				return len(p), nil
			}
		}
		if r.m.c.jitter > 0 && r.cd == codingZstd {
			r.hashBody(p)
		}
		return r.enc.Write(p)
	case stateUndecided:
		return r.undecided(p)
	}
	return len(p), nil // stateReplaced
}

// open opens the encoder for the first bytes p of an encoded body, or
// holds them (held) while the gzip padding's key is incomplete.
//
//go:noinline
func (r *response) open(p []byte) (held bool, err error) {
	if r.padGzip() && len(r.buf)+len(p) < r.m.c.minSize {
		r.buf = append(r.buf, p...) // p may be buf itself (decide)
		return true, nil
	}
	return false, r.openEncoder(p)
}

// hashBody feeds p to the keyed hash of a zstd body (its padding length).
//
//go:noinline
func (r *response) hashBody(p []byte) { _, _ = r.hash.Write(p) }

// undecided buffers p until minSize bytes are held, then decides.
//
//go:noinline
func (r *response) undecided(p []byte) (int, error) {
	room := r.m.c.minSize - len(r.buf)
	if len(p) < room {
		r.buf = append(r.buf, p...)
		return len(p), nil
	}
	r.buf = append(r.buf, p[:room]...)
	if err := r.decide(true, p[room:]); err != nil {
		return 0, err
	}
	n, err := r.Body(p[room:])
	return room + n, err
}

// Flush runs when the handler flushes: an undecided response is decided
// now (so a stream is never held back), then the encoder is flushed.
func (r *response) Flush() error {
	switch r.state {
	case stateUndecided:
		r.stream = true // flushed before anything was encoded
		if err := r.decide(true, nil); err != nil {
			return err
		}
		if r.state != stateEncode {
			return nil
		}
		fallthrough
	case stateEncode:
		if r.enc == nil {
			r.stream = true
			if err := r.openEncoder(nil); err != nil {
				return err
			}
		}
		return r.enc.Flush()
	case stateReplaced:
		// The held status must not be sent: fail the flush, and let finish
		// write the error response.
		return r.rb.err
	}
	return nil
}

// finish completes the response after the handler returned. It returns
// true when all that is left is closing the encoder: the caller
// does that from its own frame, as this one would be on the stack under
// the writes of the layers below.
//
//go:noinline
func (r *response) finish() (closeEnc bool, err error) {
	if r.Hijacked() {
		return false, nil // the connection is the handler's: not a byte more
	}
	switch r.state {
	case stateNew:
		if r.rb != nil && r.rb.err != nil {
			return false, r.replace()
		}
		if r.head {
			// A HEAD handler that only set headers (Content-Length, as
			// http.ServeContent does): decide as for the GET.
			r.Writer.WriteHeader(http.StatusOK)
			return r.finish()
		}
	case stateUndecided:
		// The whole body is buffered and below minSize, unless this is a HEAD
		// response with no body and no Content-Length: then the size is
		// unknown and the decision is the one a large GET would get.
		large := r.head && len(r.buf) == 0
		if err := r.decide(large, nil); err != nil {
			return false, err
		}
		if r.state == stateEncode {
			return r.finish()
		}
	case stateEncode:
		if r.enc == nil {
			if r.head && len(r.buf) == 0 {
				// A HEAD handler that wrote no body (http.ServeContent):
				// write none, rather than an empty stream whose hash or
				// length would not be the GET's.
				return false, nil
			}
			// An empty body still needs a valid stream.
			if err := r.openEncoder(nil); err != nil {
				return false, err
			}
		}
		return true, nil
	case stateReplaced:
		return false, r.replace()
	}
	return false, nil
}

func (r *response) release() {
	r.Writer.Done() // trailer values set after a held status
	if r.enc != nil {
		r.m.encoders.put(r.cd, r.stream, r.enc)
		r.enc = nil
	}
	if r.rb != nil {
		r.rb.release()
		r.rb = nil
	}
	r.req = nil
	r.Writer.Reset(nil, nil)
}

// replace answers with the request-body error instead of what the handler
// wrote (which was held and dropped).
func (r *response) replace() error {
	if r.rb.replaced {
		return nil
	}
	r.rb.replaced = true
	w := r.Writer.Unwrap()
	h := w.Header()
	for _, k := range [...]string{"Content-Encoding", "Content-Length", "Content-Type", "Etag", "Last-Modified", "Content-Range", "Accept-Ranges"} {
		delete(h, k)
	}
	if len(r.m.c.codings) > 0 {
		addVary(h) // the handler may have replaced Vary before failing to read
	}
	r.m.c.errorHandler(w, r.req, r.rb.err)
	return nil
}

// padding is the source of jitter bytes (spaces: valid in a gzip comment).
var (
	padding      = strings.Repeat(" ", maxJitter)
	paddingBytes = []byte(padding)
)

// writeSkippableFrame appends a zstd skippable frame (RFC 8878 §3.1.2) of
// 1..jitter bytes chosen by the keyed hash of the body.
func (r *response) writeSkippableFrame() error {
	n := 1 + int(r.hash.Sum64()%uint64(r.m.c.jitter))
	var hdr [8]byte
	binary.LittleEndian.PutUint32(hdr[0:4], 0x184D2A50)
	binary.LittleEndian.PutUint32(hdr[4:8], uint32(n))
	if _, err := r.WriteDown(hdr[:]); err != nil {
		return err
	}
	_, err := r.WriteDown(paddingBytes[:n:n])
	return err
}
