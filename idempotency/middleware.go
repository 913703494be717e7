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
	"net/http"
	"sync"
	"time"

	"github.com/jiec/httpmw/internal/writer"
)

// Middleware runs a keyed request's handler once and replays its response to
// retries. It is safe for concurrent use. A nil *Middleware is not usable;
// call New.
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
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m.serve(w, r, next)
	})
}

// ReplayedHeader marks a replayed response.
const ReplayedHeader = "Idempotent-Replayed"

var replayedValue = []string{"true"}

func (m *Middleware) serve(w http.ResponseWriter, r *http.Request, next http.Handler) {
	if !m.cfg.applies(r.Method) {
		next.ServeHTTP(w, r)
		return
	}
	values := r.Header["Idempotency-Key"]
	if len(values) == 0 {
		if m.cfg.required {
			m.fail(w, r, &Error{Kind: ErrMissingKey, Status: http.StatusBadRequest})
			return
		}
		next.ServeHTTP(w, r)
		return
	}
	key, err := parseKey(values)
	if err != nil {
		m.fail(w, r, &Error{Kind: ErrInvalidKey, Status: http.StatusBadRequest, Cause: err})
		return
	}
	body, err := m.readBody(r)
	if err != nil {
		var e *Error
		if errors.As(err, &e) {
			m.fail(w, r, e)
		} else {
			m.fail(w, r, &Error{Kind: ErrBodyRead, Status: http.StatusBadRequest, Cause: err})
		}
		return
	}
	h := getHasher()
	fp := m.fingerprint(h, r, body)
	skey := m.storageKey(h, r, key)
	putHasher(h)

	ctx := r.Context()
	lease, err := m.cfg.store.Acquire(ctx, skey, fp, m.cfg.leaseTimeout)
	if err != nil {
		if m.cfg.failOpen {
			next.ServeHTTP(w, r)
			return
		}
		m.fail(w, r, &Error{Kind: ErrStoreUnavailable, Status: http.StatusServiceUnavailable, Cause: err})
		return
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
		return
	}
	m.first(w, r, next, skey, fp, lease.Token)
}

// readBody reads the request body (up to MaxBodyBytes) and puts it back for
// the handler.
func (m *Middleware) readBody(r *http.Request) ([]byte, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, nil
	}
	if r.ContentLength > m.cfg.maxBody {
		return nil, &Error{Kind: ErrBodyTooLarge, Status: http.StatusRequestEntityTooLarge}
	}
	var buf bytes.Buffer
	if r.ContentLength > 0 {
		buf.Grow(int(r.ContentLength) + 1) // +1: the EOF read needs no growth
	}
	_, err := buf.ReadFrom(io.LimitReader(r.Body, m.cfg.maxBody+1))
	_ = r.Body.Close()
	if err != nil {
		return nil, err
	}
	if int64(buf.Len()) > m.cfg.maxBody {
		return nil, &Error{Kind: ErrBodyTooLarge, Status: http.StatusRequestEntityTooLarge}
	}
	b := buf.Bytes()
	r.Body = io.NopCloser(bytes.NewReader(b))
	r.ContentLength = int64(len(b))
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
	return b, nil
}

var hashers = sync.Pool{New: func() any { return sha256.New() }}

func getHasher() hash.Hash  { return hashers.Get().(hash.Hash) }
func putHasher(h hash.Hash) { hashers.Put(h) }

// writeField writes s length-prefixed, so that field boundaries cannot be
// forged.
func writeField(h hash.Hash, s string) {
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(len(s)))
	h.Write(n[:])
	io.WriteString(h, s)
}

// fingerprint is hex(SHA-256(method, path, query, fingerprint headers, body)).
func (m *Middleware) fingerprint(h hash.Hash, r *http.Request, body []byte) string {
	h.Reset()
	writeField(h, r.Method)
	writeField(h, r.URL.EscapedPath())
	writeField(h, r.URL.RawQuery)
	for _, name := range m.cfg.fpHeaders {
		vs := r.Header[name]
		writeField(h, name)
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(vs)))
		h.Write(n[:])
		for _, v := range vs {
			writeField(h, v)
		}
	}
	h.Write(body)
	var sum [sha256.Size]byte
	return hex.EncodeToString(h.Sum(sum[:0]))
}

// storageKey is hex(SHA-256(scope, route, key)): 64 printable characters, fit
// to be part of a Redis key, and revealing neither the scope nor the key.
func (m *Middleware) storageKey(h hash.Hash, r *http.Request, key string) string {
	h.Reset()
	if m.cfg.scope != nil {
		writeField(h, m.cfg.scope(r))
	} else {
		auth := r.Header["Authorization"]
		writeField(h, "authorization")
		for _, v := range auth {
			writeField(h, v)
		}
		if m.cfg.scopeCookie != "" {
			writeField(h, "cookie")
			if c, err := r.Cookie(m.cfg.scopeCookie); err == nil {
				writeField(h, c.Value)
			}
		}
	}
	if m.cfg.route != nil {
		writeField(h, m.cfg.route(r))
	} else {
		writeField(h, "")
	}
	writeField(h, key)
	var sum [sha256.Size]byte
	return hex.EncodeToString(h.Sum(sum[:0]))
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
	for k, vs := range rec.Header {
		start := len(vals)
		vals = append(vals, vs...)
		h[k] = vals[start:len(vals):len(vals)]
	}
	h[ReplayedHeader] = replayedValue
	delete(h, "Content-Length")
	if writer.BodyAllowed(rec.Status) {
		h["Content-Length"] = []string{itoa(len(rec.Body))}
	}
	w.WriteHeader(rec.Status)
	if r.Method != http.MethodHead && writer.BodyAllowed(rec.Status) && len(rec.Body) > 0 {
		_, _ = w.Write(rec.Body)
	}
}

// first runs the handler for the lease holder and stores its response.
func (m *Middleware) first(w http.ResponseWriter, r *http.Request, next http.Handler, key, fp, token string) {
	rec := getRecorder()
	rec.m, rec.key, rec.fp, rec.token = m, key, fp, token
	rec.snapshot = w.Header().Clone()
	if rec.snapshot == nil {
		rec.snapshot = http.Header{}
	}
	rec.spy.rw = w
	rec.w.Reset(&rec.spy, rec)
	rec.store = true
	ctx := context.WithoutCancel(r.Context())
	done := false
	defer func() {
		if !done {
			// The handler panicked: nothing is stored, the key is usable
			// again, and the panic goes on up.
			_ = m.cfg.store.Release(ctx, key, token)
			putRecorder(rec)
		}
	}()
	next.ServeHTTP(&rec.w, r)
	done = true
	rec.finish(ctx, r)
	putRecorder(rec)
}

// itoa is strconv.Itoa for small non-negative numbers without importing
// strconv twice in hot paths.
func itoa(n int) string {
	if n < 10 {
		return digits[n : n+1]
	}
	var b [20]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[i:])
}

const digits = "0123456789"
