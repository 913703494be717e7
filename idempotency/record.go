package idempotency

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/jiec/httpmw/internal/header"
	"github.com/jiec/httpmw/internal/writer"
)

// recorder holds the response of the lease holder until it is stored.
type recorder struct {
	w   writer.Writer
	spy spyWriter
	m   *Middleware

	key, fp, token string
	snapshot       http.Header // the header map when the middleware was entered
	snapVals       []string    // backing array of snapshot's values
	buf            []byte
	store          bool            // still buffering to store
	ctx            context.Context // the request's, without its cancellation: for the store
	phase          uint8           // of serveHeld
}

// The phases of a recorder in serveHeld.
const (
	phaseRunning   = iota // next runs
	phaseFinishing        // next returned: storing, sending
	phaseFinished
)

var _ writer.BodyInterceptor = (*recorder)(nil)

var recorders = sync.Pool{New: func() any { return new(recorder) }}

func getRecorder() *recorder { return recorders.Get().(*recorder) }

// maxPooledBuffer is the largest response buffer kept for reuse.
const maxPooledBuffer = 64 << 10

// maxPooledFields is the largest snapshot kept for reuse.
const maxPooledFields = 64

func putRecorder(rec *recorder) {
	buf := rec.buf[:0]
	if cap(buf) > maxPooledBuffer {
		buf = nil
	}
	snap, vals := rec.snapshot, rec.snapVals[:0]
	if len(snap) > maxPooledFields || cap(vals) > 4*maxPooledFields {
		snap, vals = nil, nil
	}
	clear(snap)
	clear(vals[:cap(vals)])
	*rec = recorder{buf: buf, snapshot: snap, snapVals: vals}
	recorders.Put(rec)
}

// takeSnapshot copies h (keys and values) into the recorder's own map.
func (rec *recorder) takeSnapshot(h http.Header) {
	if rec.snapshot == nil {
		rec.snapshot = make(http.Header, len(h))
	}
	vals := rec.snapVals[:0]
	for k, vs := range h {
		start := len(vals)
		vals = append(vals, vs...)
		rec.snapshot[k] = vals[start:len(vals):len(vals)]
	}
	// If append reallocated, earlier entries point into the old array,
	// which nobody writes to: they stay correct.
	rec.snapVals = vals
}

// spyWriter sits below the Writer to see a Hijack through
// http.ResponseController (which reaches it via Writer.Unwrap).
type spyWriter struct {
	rw       http.ResponseWriter
	rec      *recorder
	hijacked bool
}

func (s *spyWriter) Header() http.Header         { return s.rw.Header() }
func (s *spyWriter) Write(p []byte) (int, error) { return s.rw.Write(p) }
func (s *spyWriter) WriteHeader(code int)        { s.rw.WriteHeader(code) }
func (s *spyWriter) Unwrap() http.ResponseWriter { return s.rw }

// Hijack hands the connection over; the response is then not stored. A
// status the handler committed before is sent first, as net/http sends it
// on the connection it hands over (unless hijacking is not supported
// below, as on HTTP/2: the response is then still held).
func (s *spyWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if rec := s.rec; rec != nil && rec.store && rec.w.Committed() && canHijack(s.rw) {
		if err := rec.forward(); err != nil {
			return nil, nil, err
		}
	}
	c, b, err := http.NewResponseController(s.rw).Hijack()
	if err == nil {
		s.hijacked = true
	}
	return c, b, err
}

// canHijack reports whether a writer in the chain below rw is a Hijacker.
func canHijack(rw http.ResponseWriter) bool {
	for {
		if _, ok := rw.(http.Hijacker); ok {
			return true
		}
		u, ok := rw.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			return false
		}
		rw = u.Unwrap()
	}
}

// storable reports whether a response with status code is stored.
func (c *config) storable(code int) bool {
	switch {
	case code < 200:
		return false // 101: the connection is handed over
	case code == http.StatusRequestTimeout, code == http.StatusConflict, code == http.StatusTooManyRequests:
		return false // transient: the retry must run the handler
	case code >= 500:
		return c.storeServerErr
	}
	return true
}

// Header holds the status of a response that will be stored.
func (rec *recorder) Header(code int) bool {
	if !rec.m.cfg.storable(code) {
		rec.giveUp()
		return true
	}
	return false
}

// Body buffers up to MaxStoredBytes, then gives up storing.
func (rec *recorder) Body(p []byte) (int, error) {
	if len(rec.buf)+len(p) <= rec.m.cfg.maxStored {
		rec.buf = append(rec.buf, p...)
		return len(p), nil
	}
	if err := rec.forward(); err != nil {
		return 0, err
	}
	return rec.w.WriteDown(p)
}

// Flush: a streamed response is not stored.
func (rec *recorder) Flush() error { return rec.forward() }

// giveUp stops storing; the body goes straight down.
func (rec *recorder) giveUp() {
	rec.store = false
	rec.w.PassBody()
}

// forward gives up storing and sends what was buffered.
func (rec *recorder) forward() error {
	rec.giveUp()
	if len(rec.buf) == 0 {
		rec.w.SendHeader()
		return nil
	}
	_, err := rec.w.WriteDown(rec.buf)
	rec.buf = rec.buf[:0]
	return err
}

// finish runs after the handler returned: store then send, or release.
func (rec *recorder) finish(ctx context.Context, r *http.Request) {
	st := rec.m.cfg.store
	if rec.spy.hijacked {
		_ = st.Release(ctx, rec.key, rec.token)
		return
	}
	if !rec.w.Committed() {
		rec.w.WriteHeader(http.StatusOK) // runs Header
	}
	if !rec.store {
		_ = st.Release(ctx, rec.key, rec.token)
		return
	}
	status := rec.w.Status()
	rec.w.Done()            // trailer values the handler set after the status, into HeaderDown
	h := rec.w.HeaderDown() // the status is held: the handler's map is detached
	trailers := moveTrailers(h)
	stored := Record{
		Fingerprint: rec.fp,
		Status:      status,
		Header:      changed(rec.snapshot, h),
		Body:        slices.Clip(slices.Clone(rec.buf)),
		Created:     rec.m.now(),
	}
	// Stored before a byte is sent and before the lease ends (Complete
	// does both at once). If it fails (the lease expired and another
	// request took the key, or the store is down) the response still goes
	// to this client: the handler has run.
	_ = st.Complete(ctx, rec.key, rec.token, stored, rec.m.cfg.ttl)
	setLength(h, status, len(rec.buf), trailers)
	rec.w.SendHeader()
	if len(rec.buf) > 0 && r.Method != http.MethodHead {
		_, _ = rec.w.WriteDown(rec.buf)
	}
}

// notReplayed are fields never taken into a record: per-response (Date),
// recomputed (Content-Length), hop-by-hop, cookies (a replay must not hand
// out a session again) and the replay marker itself. Trailer (the
// declaration) and the trailer fields ("Trailer:" keys) are kept.
var notReplayed = map[string]bool{
	"Date": true, "Content-Length": true, "Connection": true, "Keep-Alive": true,
	"Proxy-Connection": true, "Transfer-Encoding": true, "Upgrade": true,
	"Te": true, "Set-Cookie": true, ReplayedHeader: true,
}

// notTrailer are fields that must not be sent in trailers (RFC 9110 §6.5.1:
// framing, routing, controls, authentication, content metadata); net/http
// ignores their declaration in Trailer.
var notTrailer = map[string]bool{
	"Authorization": true, "Cache-Control": true, "Connection": true, "Content-Encoding": true,
	"Content-Length": true, "Content-Range": true, "Content-Type": true, "Expect": true,
	"Host": true, "Keep-Alive": true, "Max-Forwards": true, "Pragma": true,
	"Proxy-Authenticate": true, "Proxy-Authorization": true, "Proxy-Connection": true,
	"Range": true, "Realm": true, "Te": true, "Trailer": true, "Transfer-Encoding": true,
	"Www-Authenticate": true, "Set-Cookie": true, "Date": true,
}

// moveTrailers turns the values of the fields h declares in Trailer into
// http.TrailerPrefix fields, so that they are sent (and stored) as trailers
// only, as net/http sends a declared field set after the status. It reports
// whether the response has trailers.
func moveTrailers(h http.Header) bool {
	has := len(h["Trailer"]) > 0
	for e := range header.Elements(h["Trailer"]) {
		k := http.CanonicalHeaderKey(e)
		if vs, ok := h[k]; ok && !notTrailer[k] {
			tk := http.TrailerPrefix + k
			h[tk] = append(h[tk], vs...)
			delete(h, k)
		}
	}
	if !has {
		for k := range h {
			if strings.HasPrefix(k, http.TrailerPrefix) {
				return true
			}
		}
	}
	return has
}

// setLength gives a response with status and an n-byte body the
// Content-Length it has (none for 204, 304 and responses with trailers,
// which net/http then sends chunked: with a length it drops trailers).
func setLength(h http.Header, status, n int, trailers bool) {
	delete(h, "Content-Length")
	if writer.BodyAllowed(status) && !trailers {
		delete(h, "Transfer-Encoding")
		h["Content-Length"] = []string{strconv.Itoa(n)}
	}
}

// changed returns the fields of h that are not in before, or have other
// values there: what the inner chain set. The values are copied into one
// array of the record's own.
func changed(before, h http.Header) http.Header {
	n, fields := 0, 0
	for k, vs := range h {
		if keep(k, before[k], vs) {
			n += len(vs)
			fields++
		}
	}
	out := make(http.Header, fields)
	if fields == 0 {
		return out
	}
	vals := make([]string, 0, n)
	for k, vs := range h {
		if keep(k, before[k], vs) {
			start := len(vals)
			vals = append(vals, vs...)
			out[k] = vals[start:len(vals):len(vals)]
		}
	}
	return out
}

func keep(k string, before, now []string) bool {
	if len(now) == 0 || notReplayed[k] {
		return false
	}
	return !slices.Equal(before, now)
}
