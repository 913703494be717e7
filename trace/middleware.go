package trace

import (
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"github.com/google/uuid"
)

// Middleware assigns every request an id and a W3C span context. Create it
// with New; it is safe for concurrent use. Changing the Config passed to New
// afterwards has no effect.
type Middleware struct {
	c    config
	pool sync.Pool // *logWriter, used when access logging
}

// New validates cfg and returns the middleware. All problems are reported
// together.
func New(cfg Config) (*Middleware, error) {
	c, err := cfg.compile()
	if err != nil {
		return nil, err
	}
	return &Middleware{c: c}, nil
}

var defaultMiddleware, _ = New(Config{})

// Handler wraps next with the zero-Config middleware.
func Handler(next http.Handler) http.Handler { return defaultMiddleware.Handler(next) }

// Handler returns next wrapped by the middleware. Its type,
// func(http.Handler) http.Handler, fits router Use methods.
func (m *Middleware) Handler(next http.Handler) http.Handler {
	return &handler{m: m, next: next}
}

type handler struct {
	m    *Middleware
	next http.Handler
}

var _ http.Handler = (*handler)(nil)

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c := &h.m.c
	if v := fromContext(r.Context()); v != nil {
		// An outer trace middleware already ran: keep its id (stacking
		// must not split a request into two ids), echo it in our header.
		if _, ok := w.Header()[c.header]; !ok {
			w.Header()[c.header] = []string{v.id}
		}
		h.serve(w, r, v)
		return
	}
	v, from := c.newValue(r)
	hd := w.Header()
	v.hdrs[0] = v.id
	hd[c.header] = v.hdrs[0:1:1]
	if from != "" {
		v.hdrs[1] = v.id
		hd[from] = v.hdrs[1:2:2]
	}
	if c.responseTraceparent {
		hd["Traceparent"] = []string{v.sc.Traceparent()}
	}
	// WithContext is inlined and its copy does not escape: the request
	// lives in v, allocated with it.
	v.req = *r.WithContext(v)
	h.serve(w, &v.req, v)
}

// serve calls next, through the access log when there is one.
func (h *handler) serve(w http.ResponseWriter, r *http.Request, v *value) {
	if h.m.c.accessLog == nil {
		h.next.ServeHTTP(w, r)
		return
	}
	h.m.logRequest(h.next, w, r, v, time.Now())
}

// newValue builds the request's id and span context. from is the AlsoAccept
// header the id came from, if any. The request's header map is read once
// per field; the span context is built on the stack and stored once.
func (c *config) newValue(r *http.Request) (v *value, from string) {
	inID, inTP, inTS := r.Header[c.header], r.Header["Traceparent"], r.Header["Tracestate"]
	v = &value{Context: r.Context(), c: c, inID: inID, inTP: inTP, inTS: inTS}
	sc := SpanContext{SpanID: randomSpanID()}

	id, traceparentOK := "", false
	if c.trust == nil || c.trust(r) {
		id, from = c.incomingID(inID, r.Header)
		t, parent, flags, err := parseTraceparent(inTP)
		if err == nil {
			traceparentOK = true
			sc.TraceID, sc.ParentID, sc.Flags = t, parent, flags
			// A tracestate that fails to parse is dropped; traceparent stays.
			sc.TraceState, _ = parseTraceState(inTS, c.traceStateLimit)
		}
	}

	switch {
	case traceparentOK:
		if id == "" {
			// The id is the trace-id, so both views agree.
			encodeHex(v.idBuf[:32], sc.TraceID[:])
			id = v.idFromBuf(32)
		}
	case id != "":
		// The client's id; a UUID id is also the trace-id.
		sc.TraceID, sc.Flags = traceIDOf(id)
	default:
		id = c.generate(v, &sc)
	}
	if !traceparentOK && c.sampled {
		sc.Flags |= FlagSampled
	}
	encodeHex(v.spanHex[:], sc.SpanID[:])
	v.id, v.sc = id, sc
	return v, from
}

// incomingID returns the first valid id among Header (whose lines are
// first) and AlsoAccept. A header with several field lines is ambiguous and
// skipped.
func (c *config) incomingID(first []string, h http.Header) (id, from string) {
	if len(first) == 1 && validID(first[0]) {
		return first[0], ""
	}
	for _, name := range c.alsoAccept {
		if vs := h[name]; len(vs) == 1 && validID(vs[0]) {
			return vs[0], name
		}
	}
	return "", ""
}

// traceIDOf returns the trace-id of a valid id that did not come with a
// traceparent: the id itself when it is a non-nil UUID, otherwise random.
func traceIDOf(id string) (TraceID, Flags) {
	if u, ok := uuidBytes(id); ok && u != [16]byte{} {
		return u, 0
	}
	return randomTraceID(), FlagRandom
}

// generate returns a new id (backed by v.idBuf when it is a UUID made here)
// and sets the trace-id and flags of sc from it.
func (c *config) generate(v *value, sc *SpanContext) string {
	if c.newID != nil {
		if id := c.newID(); validID(id) {
			sc.TraceID, sc.Flags = traceIDOf(id)
			return id
		}
	}
	u, err := newUUID(c.uuidVersion)
	if err != nil {
		// crypto/rand does not fail on supported platforms; stay available.
		u = uuid.UUID(randomTraceID())
		u[6] = u[6]&0x0f | 0x40
		u[8] = u[8]&0x3f | 0x80
	}
	sc.TraceID = TraceID(u)
	// Both UUID versions leave the right-most 7 bytes random.
	sc.Flags = FlagRandom
	encodeUUID(&v.idBuf, (*[16]byte)(&sc.TraceID))
	return v.idFromBuf(36)
}

// randomSpanID returns a non-zero random span id. Span ids need to be
// unique, not secret: math/rand/v2 (ChaCha8 seeded by the runtime) is
// enough and does not allocate.
func randomSpanID() (s SpanID) {
	for s.IsZero() {
		putUint64(s[:], rand.Uint64())
	}
	return s
}

// randomTraceID returns a non-zero random trace-id.
func randomTraceID() (t TraceID) {
	for t.IsZero() {
		putUint64(t[:8], rand.Uint64())
		putUint64(t[8:], rand.Uint64())
	}
	return t
}

func putUint64(b []byte, x uint64) {
	_ = b[7]
	for i := range 8 {
		b[i] = byte(x >> (56 - 8*i))
	}
}
