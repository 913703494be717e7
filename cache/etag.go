package cache

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/jiec/httpmw/internal/header"
	"github.com/jiec/httpmw/internal/writer"
)

// What a cacheWriter does with the handler's body.
const (
	stPass    = iota // forward as written
	stBuffer         // hold the status, buffer and hash the body
	stDiscard        // 304 or 412 already answered: drop the body
)

// ErrAnswered is returned by Write, ReadFrom and Flush to a handler whose
// response the middleware has already replaced by a 304 or 412: the body is
// not sent, so the handler should stop producing it.
var ErrAnswered = errors.New("cache: response already answered with 304 or 412")

// cacheWriter is the per-request state of the middleware for GET and HEAD.
// The handler sees only the embedded writer.Writer.
type cacheWriter struct {
	writer.Writer
	m         *Middleware
	r         *http.Request
	state     uint8
	added     added             // fields set before the handler ran
	ours      [numPreset]string // their values, by bit
	validated bool              // preconditions already evaluated against Config.Validator's ETag
	held      heldBody          // the buffered body (pooled chunks)
	hash      xxh64             // of the buffered body
}

var (
	_ writer.BodyInterceptor = (*cacheWriter)(nil)

	writerPool = sync.Pool{New: func() any { return new(cacheWriter) }}
)

func getWriter() *cacheWriter { return writerPool.Get().(*cacheWriter) }

func putWriter(w *cacheWriter) {
	w.held.drop()
	held := w.held.reuse()
	w.Writer.Reset(nil, nil) // keeps its reusable header copy
	*w = cacheWriter{Writer: w.Writer, held: held}
	writerPool.Put(w)
}

// Header implements writer.Interceptor. A response the middleware leaves
// alone gets its body passed straight through (keeping sendfile).
func (w *cacheWriter) Header(code int) bool {
	// The map first, then the work in header: its frame is not on the
	// stack while the layers below answer Header (see handler).
	send := w.header(w.Writer.Header(), code)
	if w.state == stPass {
		w.PassBody()
	}
	return send
}

func (w *cacheWriter) header(h http.Header, code int) bool {
	if w.added != 0 {
		w.dedupe(h)
	}
	if code != http.StatusNotModified && (code < 200 || code > 299) {
		w.takeBack(h)
	}
	// Preconditions apply to every 2xx the request would get without them
	// (RFC 9110 §13.2.1), and are evaluated before Range (§13.2.2 step 5):
	// a 206 the handler serves itself is answered 304 or 412 as a 200 is.
	if code < 200 || code > 299 || w.validated {
		return true
	}
	// A handler that set its own ETag gets none generated: its body is
	// neither held nor hashed. Last-Modified alone does not count: a date
	// with one-second resolution is a weak validator (RFC 9110 §8.8.2.2).
	if code == http.StatusOK && w.m.cfg.maxBody > 0 && h["Etag"] == nil && !longerThan(h, w.m.cfg.maxBody) {
		w.state = stBuffer
		w.hash.reset()
		return false
	}
	return w.check(h)
}

// takeBack removes the Cache-Control and validators the middleware set
// before the handler from a response they do not describe (an error or a
// redirect): an explicit lifetime would make an error cacheable.
//
// Not inlined: its frame stays out of header's.
//
//go:noinline
func (w *cacheWriter) takeBack(h http.Header) {
	for i, k := range presetKeys {
		if w.added&(1<<i) != 0 && len(h[k]) == 1 && h[k][0] == w.ours[i] {
			delete(h, k)
		}
	}
}

// dedupe drops the values the middleware set before the handler from the
// fields to which the handler added its own with Header().Add: the
// handler's value wins, and the field is not sent twice.
//
// Not inlined: its frame stays out of header's.
//
//go:noinline
func (w *cacheWriter) dedupe(h http.Header) {
	for i, k := range presetKeys {
		if v := h[k]; w.added&(1<<i) != 0 && len(v) > 1 && v[0] == w.ours[i] {
			h[k] = v[1:]
		}
	}
}

// longerThan reports whether the handler declared a Content-Length above max.
func longerThan(h http.Header, max int) bool {
	cl := h["Content-Length"]
	if len(cl) == 0 {
		return false
	}
	n, err := strconv.ParseInt(cl[0], 10, 64)
	return err != nil || n > int64(max)
}

// check evaluates the preconditions against the validators of the 200
// response in h. It answers 304 or 412 and returns false, or returns true
// to let the response through.
func (w *cacheWriter) check(h http.Header) bool {
	if !conditional(w.r.Header) {
		return true
	}
	// The evaluation's frame is gone before the answer goes down the chain.
	switch res, perr := w.evaluate(h); res {
	case notModified:
		w.state = stDiscard
		writeNotModified(w.Unwrap())
		return false
	case failed:
		w.state = stDiscard
		clearForError(h)
		w.m.fail(w.Unwrap(), w.r, perr)
		return false
	}
	return true
}

// evaluate evaluates the preconditions against the validators in h.
//
//go:noinline
func (w *cacheWriter) evaluate(h http.Header) (result, *PreconditionError) {
	s := state{exists: true}
	if et := h["Etag"]; len(et) > 0 {
		s.etag, _ = header.ParseETag(et[0])
	}
	if lm := h["Last-Modified"]; len(lm) == 1 {
		if t, err := http.ParseTime(lm[0]); err == nil {
			s.setLastModified(t)
		}
	}
	return evaluate(w.r.Method, w.r.Header, &s)
}

// Body implements writer.BodyInterceptor.
func (w *cacheWriter) Body(p []byte) (int, error) {
	switch w.state {
	case stDiscard:
		return 0, ErrAnswered // tell the handler to stop
	case stBuffer:
		if w.held.n+len(p) <= w.m.cfg.maxBody {
			w.held.write(p)
			w.hash.write(p)
			return len(p), nil
		}
		if err := w.spill(); err != nil {
			return 0, err
		}
		if w.state == stDiscard {
			return 0, ErrAnswered
		}
	}
	return w.WriteDown(p)
}

// Flush implements writer.BodyInterceptor: a flushed response is streamed,
// so it goes out without a generated ETag.
func (w *cacheWriter) Flush() error {
	switch w.state {
	case stBuffer:
		if err := w.spill(); err != nil || w.state != stDiscard {
			return err
		}
		return ErrAnswered
	case stDiscard:
		return ErrAnswered
	}
	return nil
}

// spill gives up on the ETag: it evaluates the preconditions against the
// handler's own validators (Last-Modified, or "*"), then either answers
// 304/412 (state stDiscard) or sends the status and what is buffered, and
// forwards the rest of the body as it comes.
func (w *cacheWriter) spill() error {
	if !w.check(w.HeaderDown()) { // the status is held: the handler's map is detached
		w.held.drop()
		return nil
	}
	w.state = stPass
	w.SendHeader()
	w.PassBody()
	return w.held.writeTo(&w.Writer)
}

// finish completes a buffered response once the handler has returned: it
// sets the generated ETag, evaluates the preconditions and sends either a
// 304/412 or the 200 with its body.
//
// It reports true when the 200 is to be sent with its body: the caller
// (end) does that from its own small frame, as this one would be on the
// stack under the layers below.
//
//go:noinline
func (w *cacheWriter) finish() (send bool) {
	if w.state != stBuffer || w.Hijacked() {
		return false // a hijacked connection is the handler's: nothing is stored or sent
	}
	h := w.HeaderDown()
	// A HEAD handler that writes no body (http.ServeContent does not) gives
	// nothing to hash: no tag rather than the tag of an empty body, which
	// would differ from GET's (RFC 9110 §9.3.2).
	if w.r.Method == http.MethodHead && w.held.n == 0 && !(len(h["Content-Length"]) == 1 && h["Content-Length"][0] == "0") {
		if !w.check(h) {
			return false
		}
		w.state = stPass
		return true
	}
	// One string holds the tag and the decimal length, one array of this
	// response's own the two values (an outer layer may write to them in
	// place), each field a full slice of length 1 so that an append
	// reallocates: two allocations for the two fields.
	var b [tagLen + 20]byte
	formatTag(b[:tagLen], w.hash.sum(), w.held.n)
	s := string(strconv.AppendInt(b[:tagLen], int64(w.held.n), 10))
	vals := &[2]string{s[:tagLen], s[tagLen:]}
	h["Etag"] = vals[0:1:1]
	if !w.check(h) {
		w.held.drop()
		return false
	}
	// The Content-Length of the held body: the whole body is known, and a
	// Content-Length spares chunked encoding (not with trailers, which need
	// it). Also for a small body: net/http measures one of up to 2 KiB
	// itself only if nothing flushes it before the whole chain returns, and
	// a layer outside may flush after its handler (it would go chunked).
	// Trailer values the handler set through Header after the status are
	// handed down first: net/http sees their keys when the status is sent.
	w.TrailersDown()
	if h["Content-Length"] == nil && h["Transfer-Encoding"] == nil && !hasTrailers(h) {
		h["Content-Length"] = vals[1:2:2]
	}
	w.state = stPass
	return true
}

// hasTrailers reports whether the handler declared trailers (Trailer) or
// set them under http.TrailerPrefix. It walks the whole map: the handler
// may have edited the map it had from Header before the commit (the status
// is held, the map not yet sent) in any way, deleting fields as well as
// adding keys, so what the map held at the commit is not the answer. Not inlined: the map iterator stays out of finish's frame,
// which is on the stack while a 304 goes down the chain.
//
//go:noinline
func hasTrailers(h http.Header) bool {
	if h["Trailer"] != nil {
		return true
	}
	for k := range h {
		if strings.HasPrefix(k, http.TrailerPrefix) {
			return true
		}
	}
	return false
}

// tagLen is the length of a generated entity tag, quotes included.
const tagLen = 2 + 16

// formatTag writes the strong entity tag of a body with XXH64 sum and
// length n into b (tagLen bytes): the sum (8 bytes, big-endian) and the
// length (4 bytes, modulo 2^32), base64url-encoded (16 characters), in
// quotes.
func formatTag(b []byte, sum uint64, n int) {
	var raw [12]byte
	binary.BigEndian.PutUint64(raw[:8], sum)
	binary.BigEndian.PutUint32(raw[8:], uint32(n))
	b = b[:tagLen]
	b[0], b[tagLen-1] = '"', '"'
	base64.RawURLEncoding.Encode(b[1:tagLen-1], raw[:])
}
