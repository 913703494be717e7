package trace

import (
	"context"
	"math/rand/v2"
	"net/http"
	"sync"
	"unsafe"

	"github.com/google/uuid"
)

// Middleware assigns every request an id and a W3C span context. Create it
// with New; it is safe for concurrent use. Changing the Config passed to New
// afterwards has no effect. A nil or zero
// Middleware (New not called) passes requests to the next handler untouched,
// as in every package of this module.
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
	if m == nil || m.c.header == "" {
		return next
	}
	return &handler{m: m, next: next}
}

type handler struct {
	m    *Middleware
	next http.Handler
}

var _ http.Handler = (*handler)(nil)

// ServeHTTP keeps a small frame on the stack while next runs (HTTP/2 runs
// every request on a fresh goroutine whose stack grows by copying): the
// request's set-up happens in begin, which returns first.
func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	r = h.begin(w, r)
	if h.m.c.accessLog != nil {
		h.logRequest(w, r)
		return
	}
	h.next.ServeHTTP(w, r)
}

// begin sets the id header fields and returns the request carrying the
// trace context (its value, which fromContext returns).
//
//go:noinline
func (h *handler) begin(w http.ResponseWriter, r *http.Request) *http.Request {
	c := &h.m.c
	if v := fromContext(r.Context()); v != nil && !v.extracted {
		// An outer trace middleware already ran: keep its id (stacking
		// must not split a request into two ids), echo it in our header.
		if _, ok := w.Header()[c.header]; !ok {
			w.Header()[c.header] = []string{v.id}
		}
		return r
	}
	v := c.newValue(r.Context(), r.Header, r)
	hd := w.Header()
	v.hdrs[0] = v.id
	hd[c.header] = v.hdrs[0:1:1]
	if v.from != "" {
		v.hdrs[1] = v.id
		hd[v.from] = v.hdrs[1:2:2]
	}
	if c.serverTiming && v.ownSpan {
		hd["Server-Timing"] = append(hd["Server-Timing"], "trace;desc="+v.sc.Traceparent())
	}
	// A new request (WithContext's copy) rather than one embedded in v:
	// the context must not keep the request alive.
	return r.WithContext(v)
}

// newValue builds the id and span context of a request (r) or of a message
// (Extract, r nil) from its header fields. The header map is read once per
// field; the span context is built on the stack and stored once.
func (c *config) newValue(parent context.Context, h http.Header, r *http.Request) *value {
	v := &value{Context: parent, c: c, in: h, extracted: r == nil}
	sc := SpanContext{}

	trusted := r == nil || c.trust == nil || c.trust(r)
	started := false // the trace-id is new (sampling policy applies)
	id, continued := "", false
	if trusted {
		id, v.from = c.incomingID(h)
	}
	if s, ok := c.hookSpan(parent); ok && (trusted || !s.SpanID.IsZero()) {
		// OpenTelemetry (or another tracer) already has the trace: a span
		// of its own (SpanID set) or a remote parent (ParentID only).
		sc, continued = s, true
		v.ownSpan = !s.SpanID.IsZero()
	} else if trusted {
		t, parent, flags, err := parseTraceparent(h["Traceparent"])
		if err == nil {
			continued = true
			sc.TraceID, sc.ParentID, sc.Flags = t, parent, flags
			// A tracestate that fails to parse is dropped; traceparent stays.
			sc.TraceState, _ = parseTraceState(h["Tracestate"], c.traceStateLimit)
		}
	}
	if sc.SpanID.IsZero() {
		if continued && c.passThrough {
			sc.SpanID = sc.ParentID
		} else {
			sc.SpanID = randomSpanID()
			v.ownSpan = true
		}
	}

	switch {
	case continued:
	case id != "":
		// The client's id; one of 32 hex digits is also the trace-id.
		sc.TraceID, sc.Flags = c.traceIDOf(id)
		started = true
	default:
		id = c.generate(v, &sc)
		started = true
	}
	if started {
		switch c.sampling {
		case SampleAll:
			sc.Flags |= FlagSampled
		case SampleRatio:
			if sampledAt(&sc.TraceID, c.ratioBound) {
				sc.Flags |= FlagSampled
			}
		}
	}
	v.setSpanContext(sc)
	if id == "" {
		id = v.traceID() // the id is the trace-id, so both views agree
	}
	v.id = id
	return v
}

// hookSpan returns the span context Config.SpanContextFrom reports for ctx:
// a span (SpanID set) or a remote parent (SpanID zero, ParentID set).
func (c *config) hookSpan(ctx context.Context) (SpanContext, bool) {
	if c.spanFrom == nil || ctx == nil {
		return SpanContext{}, false
	}
	s, ok := c.spanFrom(ctx)
	if !ok || s.TraceID.IsZero() || (s.SpanID.IsZero() && s.ParentID.IsZero()) {
		return SpanContext{}, false
	}
	s.Flags &= knownFlags
	return s, true
}

// incomingID returns the first valid id among Header and AlsoAccept. A
// header with several field lines is ambiguous and skipped.
func (c *config) incomingID(h http.Header) (id, from string) {
	if vs := h[c.header]; len(vs) == 1 && validID(vs[0]) {
		return vs[0], ""
	}
	for _, name := range c.alsoAccept {
		if vs := h[name]; len(vs) == 1 && validID(vs[0]) {
			return vs[0], name
		}
	}
	return "", ""
}

// traceIDOf returns the trace-id of a valid id that did not come with a
// traceparent: the id itself when it is 32 hex digits and not all zero (the
// form this package generates), otherwise random. Other UUID forms are not
// taken: their fixed version and variant bits would skew ratio samplers.
func (c *config) traceIDOf(id string) (TraceID, Flags) {
	if t, ok := hexTraceID(id); ok {
		return t, 0
	}
	return newTraceID(c.clock.unixMilli()), FlagRandom
}

// generate returns a new id and sets the trace-id and flags of sc. The
// default id is "" (the caller uses the trace-id's hex form).
func (c *config) generate(v *value, sc *SpanContext) string {
	if c.newID != nil {
		if id := c.newID(); validID(id) {
			sc.TraceID, sc.Flags = c.traceIDOf(id)
			return id
		}
	}
	sc.TraceID, sc.Flags = newTraceID(c.clock.unixMilli()), FlagRandom
	if c.uuidVersion == 0 {
		return ""
	}
	u, err := newUUID(c.uuidVersion)
	if err != nil {
		// crypto/rand does not fail on supported platforms; stay available.
		u = uuid.UUID(newTraceID(c.clock.unixMilli()))
		u[6] = u[6]&0x0f | 0x40
		u[8] = u[8]&0x3f | 0x80
	}
	encodeUUID(&v.idBuf, (*[16]byte)(&u))
	return unsafe.String(&v.idBuf[0], len(v.idBuf))
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

func putUint64(b []byte, x uint64) {
	_ = b[7]
	for i := range 8 {
		b[i] = byte(x >> (56 - 8*i))
	}
}

// IDHeaders returns the canonical names of the request headers the
// middleware reads an id from, Config.Header first, then AlsoAccept. The
// OpenTelemetry bridge lists them as its propagator's fields.
func (m *Middleware) IDHeaders() []string {
	return append([]string{m.c.header}, m.c.alsoAccept...)
}
