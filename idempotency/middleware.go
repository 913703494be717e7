package idempotency

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"hash"
	"io"
	"math"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/jiec/httpmw/internal/writer"
)

// Middleware runs a keyed request's handler once and replays its response to
// retries. It is safe for concurrent use; create it with New. A nil or zero
// Middleware (New not called) passes requests to the next handler untouched,
// as in every package of this module.
type Middleware struct {
	cfg config
	now func() time.Time // Record.Created; set from export_test.go
}

// New validates cfg and returns a Middleware. It reports every problem at
// once. The Middleware keeps a copy: changing cfg afterwards has no effect.
func New(cfg Config) (*Middleware, error) {
	c, err := compile(cfg)
	if err != nil {
		return nil, err
	}
	return &Middleware{cfg: c, now: time.Now}, nil
}

// Handler wraps next with the zero Config (an in-memory store of its own).
func Handler(next http.Handler) http.Handler {
	m, _ := New(Config{})
	return m.Handler(next)
}

// Handler returns next wrapped by the middleware.
func (m *Middleware) Handler(next http.Handler) http.Handler {
	if m == nil || m.cfg.store == nil {
		return next
	}
	return &handler{m: m, next: next}
}

type handler struct {
	m    *Middleware
	next http.Handler
}

// ReplayedHeader marks a replayed response.
const ReplayedHeader = "Idempotent-Replayed"

var replayedValue = []string{"true"}

// How ServeHTTP goes on after begin.
const (
	answered = iota // begin answered (an error, a replay)
	pass            // next runs on w, with the body begin read if any
	keyed           // next runs on the recorder: its response is stored
)

// ServeHTTP keeps a small frame on the stack while next runs (HTTP/2 runs
// every request on a fresh goroutine whose stack grows by copying): the
// checks, the fingerprint and the lease are taken in begin, which returns
// first; what is needed after next lives in the pooled recorder and body.
func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec, b, v := h.m.begin(w, r)
	switch {
	case v == pass && b == nil:
		h.next.ServeHTTP(w, r)
	case v != answered:
		h.serveHeld(w, r, rec, b)
	}
}

// begin checks the key, reads the body and takes the lease. It answers
// errors and replays itself (answered); otherwise next runs on w (pass:
// not keyed, or the store is down and FailOpen) or on rec (keyed). When b is
// not nil the caller puts the request's own body back after next
// (serveHeld).
//
//go:noinline
func (m *Middleware) begin(w http.ResponseWriter, r *http.Request) (rec *recorder, b *body, v int) {
	if !m.cfg.applies(r.Method) {
		return nil, nil, pass
	}
	values := r.Header["Idempotency-Key"]
	if len(values) == 0 {
		if m.cfg.required {
			m.fail(w, r, &Error{Kind: ErrMissingKey, Status: http.StatusBadRequest})
			return nil, nil, answered
		}
		return nil, nil, pass
	}
	key, err := parseKey(values)
	if err != nil {
		m.fail(w, r, &Error{Kind: ErrInvalidKey, Status: http.StatusBadRequest, Cause: err})
		return nil, nil, answered
	}
	orig := r.Body
	body, err := m.readBody(r)
	if err != nil {
		var e *Error
		var tooLarge *http.MaxBytesError // an outer http.MaxBytesReader
		if errors.As(err, &e) {
			m.fail(w, r, e)
		} else if errors.As(err, &tooLarge) {
			m.fail(w, r, &Error{Kind: ErrBodyTooLarge, Status: http.StatusRequestEntityTooLarge, Cause: err})
		} else {
			m.fail(w, r, &Error{Kind: ErrBodyRead, Status: http.StatusBadRequest, Cause: err})
		}
		return nil, nil, answered
	}
	var raw []byte
	if body != nil {
		// The caller's *http.Request must not keep a pooled body: an outer
		// middleware reading r.Body after next would read another request's.
		// Put back here when begin answers (or panics), else by serveHeld.
		body.orig = orig
		v = answered
		defer func() {
			if v == answered {
				restoreBody(r, body)
			}
		}()
		raw = body.buf
	}
	h := getHasher()
	fp := m.fingerprint(h, r, raw)
	skey := m.storageKey(h, r, key)
	putHasher(h)

	ctx := r.Context()
	lease, err := m.cfg.store.Acquire(ctx, skey, fp, m.cfg.leaseTimeout)
	if err != nil {
		if m.cfg.failOpen {
			return nil, body, pass
		}
		m.fail(w, r, &Error{Kind: ErrStoreUnavailable, Status: http.StatusServiceUnavailable, Cause: err})
		return nil, nil, answered
	}
	if !lease.Acquired {
		switch {
		case lease.Record != nil && lease.Record.Fingerprint == fp:
			replay(w, r, lease.Record)
		case lease.Record != nil || (lease.Fingerprint != "" && lease.Fingerprint != fp):
			m.fail(w, r, &Error{Kind: ErrKeyReused, Status: http.StatusUnprocessableEntity})
		default:
			m.fail(w, r, &Error{Kind: ErrInProgress, Status: http.StatusConflict, RetryAfter: lease.RetryAfter})
		}
		return nil, nil, answered
	}
	return m.record(w, r, skey, fp, lease.Token), body, keyed
}

// restoreBody gives r its own body back and pools b.
func restoreBody(r *http.Request, b *body) {
	r.Body = b.orig
	putBody(b)
}

// body is a request body read into memory, handed to the handler.
type body struct {
	bytes.Reader
	buf  []byte
	orig io.ReadCloser // the request's own body, put back after next
}

func (*body) Close() error { return nil }

var bodies = sync.Pool{New: func() any { return new(body) }}

// maxPooledBody is the largest body buffer kept for reuse.
const maxPooledBody = 64 << 10

// maxPrealloc is the most allocated ahead of the bytes read, on the word of
// the request's Content-Length.
const maxPrealloc = 64 << 10

func putBody(b *body) {
	if b == nil {
		return
	}
	if cap(b.buf) > maxPooledBody {
		b.buf = nil
	}
	b.Reset(nil)
	b.orig = nil
	bodies.Put(b)
}

// readBody reads the request body (up to MaxBodyBytes) and puts it back for
// the handler. The caller returns b to the pool once the handler is done.
func (m *Middleware) readBody(r *http.Request) (b *body, err error) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, nil
	}
	if r.ContentLength > m.cfg.maxBody {
		return nil, &Error{Kind: ErrBodyTooLarge, Status: http.StatusRequestEntityTooLarge}
	}
	b = bodies.Get().(*body)
	buf := b.buf[:0]
	// Content-Length sizes the buffer only up to maxPrealloc: a client may
	// announce a large body and never send it. +1: room to see EOF.
	if n := min(r.ContentLength, maxPrealloc) + 1; r.ContentLength > 0 && int64(cap(buf)) < n {
		buf = make([]byte, 0, n)
	}
	limit := m.cfg.maxBody
	if limit < math.MaxInt64 {
		limit++ // one byte more, to see a body over the limit
	}
	lr := io.LimitedReader{R: r.Body, N: limit}
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, rerr := lr.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			err = rerr
			break
		}
	}
	_ = r.Body.Close()
	b.buf = buf
	if err == nil && int64(len(buf)) > m.cfg.maxBody {
		err = &Error{Kind: ErrBodyTooLarge, Status: http.StatusRequestEntityTooLarge}
	}
	if err != nil {
		putBody(b)
		return nil, err
	}
	b.Reset(buf)
	r.Body = b
	r.ContentLength = int64(len(buf))
	return b, nil
}

// hasher is the per-request scratch of fingerprint and storageKey.
type hasher struct {
	h   hash.Hash
	buf []byte
	sum [sha256.Size]byte
	hex [2 * sha256.Size]byte
}

var hashers = sync.Pool{New: func() any { return &hasher{h: sha256.New(), buf: make([]byte, 0, 512)} }}

func getHasher() *hasher { return hashers.Get().(*hasher) }

func putHasher(h *hasher) {
	if cap(h.buf) > 4<<10 {
		h.buf = make([]byte, 0, 512)
	}
	hashers.Put(h)
}

// field appends s length-prefixed, so that field boundaries cannot be
// forged.
func (h *hasher) field(s string) {
	h.buf = binary.BigEndian.AppendUint64(h.buf, uint64(len(s)))
	h.buf = append(h.buf, s...)
}

// count appends n.
func (h *hasher) count(n int) { h.buf = binary.BigEndian.AppendUint64(h.buf, uint64(n)) }

// hexSum hashes the fields and then tail, and returns the hex digest.
func (h *hasher) hexSum(tail []byte) string {
	h.h.Reset()
	h.h.Write(h.buf)
	h.h.Write(tail)
	h.buf = h.buf[:0]
	hex.Encode(h.hex[:], h.h.Sum(h.sum[:0]))
	return string(h.hex[:])
}

// fingerprint is hex(SHA-256(method, path, query, fingerprint headers, body)).
func (m *Middleware) fingerprint(h *hasher, r *http.Request, body []byte) string {
	h.field(r.Method)
	h.field(r.URL.EscapedPath())
	h.field(r.URL.RawQuery)
	for _, name := range m.cfg.fpHeaders {
		vs := r.Header[name]
		h.field(name)
		h.count(len(vs))
		for _, v := range vs {
			h.field(v)
		}
	}
	return h.hexSum(body)
}

// storageKey is hex(SHA-256(scope, route, key)): 64 printable characters, fit
// to be part of a Redis key, and revealing neither the scope nor the key.
func (m *Middleware) storageKey(h *hasher, r *http.Request, key string) string {
	if m.cfg.scope != nil {
		h.field("scope")
		h.field(m.cfg.scope(r))
	} else {
		auth := r.Header["Authorization"]
		h.field("authorization")
		h.count(len(auth))
		for _, v := range auth {
			h.field(v)
		}
		if m.cfg.scopeCookie != "" {
			h.field("cookie")
			if c, err := r.Cookie(m.cfg.scopeCookie); err == nil {
				h.field(c.Value)
			} else {
				h.count(0)
			}
		}
	}
	if m.cfg.route != nil {
		h.field(m.cfg.route(r))
	} else {
		h.field("")
	}
	h.field(key)
	return h.hexSum(nil)
}

// replay sends rec: its status, the fields the inner chain set, the replay
// marker, a Content-Length of its own and the body.
func replay(w http.ResponseWriter, r *http.Request, rec *Record) {
	h := w.Header()
	n := 0
	for _, vs := range rec.Header {
		n += len(vs)
	}
	vals := make([]string, 0, n) // outer middlewares may edit the values in place
	trailers := false
	for k, vs := range rec.Header {
		start := len(vals)
		vals = append(vals, vs...)
		h[k] = vals[start:len(vals):len(vals)]
		trailers = trailers || k == "Trailer" || strings.HasPrefix(k, http.TrailerPrefix)
	}
	h[ReplayedHeader] = replayedValue
	setLength(h, rec.Status, len(rec.Body), trailers)
	w.WriteHeader(rec.Status)
	if r.Method != http.MethodHead && writer.BodyAllowed(rec.Status) && len(rec.Body) > 0 {
		_, _ = w.Write(rec.Body)
	}
}

// record returns the recorder of the lease holder's response.
func (m *Middleware) record(w http.ResponseWriter, r *http.Request, key, fp, token string) *recorder {
	rec := getRecorder()
	rec.m, rec.key, rec.fp, rec.token = m, key, fp, token
	rec.takeSnapshot(w.Header())
	rec.spy.rw, rec.spy.rec = w, rec
	rec.w.Reset(&rec.spy, rec)
	rec.store = true
	rec.ctx = context.WithoutCancel(r.Context())
	return rec
}

// serveHeld runs next on rec (the lease holder: its response is stored) or,
// when rec is nil, on w; then it puts the request's own body back (b).
//
//go:noinline
func (h *handler) serveHeld(w http.ResponseWriter, r *http.Request, rec *recorder, b *body) {
	defer h.m.after(r, rec, b)
	if rec == nil {
		h.next.ServeHTTP(w, r)
		return
	}
	h.next.ServeHTTP(&rec.w, r)
	rec.phase = phaseFinishing
	rec.finish(rec.ctx, r)
	rec.w.Done() // trailer values set after a held status
	rec.phase = phaseFinished
}

// after runs when serveHeld returns or next panics.
func (m *Middleware) after(r *http.Request, rec *recorder, b *body) {
	if rec != nil {
		switch rec.phase {
		case phaseRunning:
			// The handler panicked: nothing is stored, the key is usable
			// again, and the panic goes on up.
			_ = m.cfg.store.Release(rec.ctx, rec.key, rec.token)
			putRecorder(rec)
		case phaseFinished:
			putRecorder(rec)
		}
	}
	if b != nil {
		restoreBody(r, b)
	}
}
