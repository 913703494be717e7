package security

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"strings"
	"sync"

	"github.com/jiec/httpmw/internal/problem"
	"github.com/jiec/httpmw/internal/writer"
)

// Middleware adds the security headers. It is safe for concurrent use.
// Create it with New. A nil or zero Middleware (New not called) passes
// requests to the next handler untouched, without any header, as in every
// package of this module.
type Middleware struct {
	c    *compiled
	pool sync.Pool // *respWriter
}

// New validates cfg and precomputes every header value. It reports all
// problems at once (errors.Join); messages name the Config field and value.
func New(cfg Config) (*Middleware, error) {
	c, err := compile(cfg)
	if err != nil {
		return nil, err
	}
	m := &Middleware{c: c}
	m.pool.New = func() any { return new(respWriter) }
	return m, nil
}

// Handler is New(Config{}).Handler: the default headers, no redirect.
func Handler(next http.Handler) http.Handler {
	m, err := New(Config{})
	if err != nil {
		panic(err) // unreachable: the zero Config is valid (tested)
	}
	return m.Handler(next)
}

// Handler returns next wrapped by the middleware. The headers are set before
// next runs, so next (or a middleware inside it that answers by itself) can
// change or delete any of them for one response; X-Powered-By set by next is
// removed when the response is committed.
func (m *Middleware) Handler(next http.Handler) http.Handler {
	if m == nil || m.c == nil {
		return next
	}
	return &handler{m: m, c: m.c, next: next}
}

type handler struct {
	m    *Middleware
	c    *compiled
	next http.Handler
}

// ServeHTTP keeps a small frame on the stack while next runs (HTTP/2 runs
// every request on a fresh goroutine whose stack grows by copying): the
// headers are set in begin and the response finished in end, which return
// before and run after next; what end needs lives in the pooled respWriter.
func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rw, r := h.begin(w, r)
	if rw == nil {
		return
	}
	h.next.ServeHTTP(&rw.w, r)
	h.m.end(rw)
}

// begin sets the headers and returns the pooled writer for next and the
// request next gets (carrying the nonce); rw is nil when begin answered
// (a redirect to HTTPS).
//
//go:noinline
func (h *handler) begin(w http.ResponseWriter, r *http.Request) (*respWriter, *http.Request) {
	c := h.c
	secure := c.isSecure(r)
	if !secure && len(c.redirectHosts) > 0 {
		c.redirect(w, r)
		return nil, r
	}
	hd := w.Header()
	c.staticFields(hd, secure)
	if c.nonce {
		r = c.nonceFields(hd, r)
	}
	rw := h.m.pool.Get().(*respWriter)
	rw.h = hd
	rw.w.Reset(w, rw)
	return rw, r
}

// staticFields sets the precomputed fields (and HSTS when secure), each in
// a slab slot of its own: a handler's edit or append cannot reach other
// headers or requests, and a request allocates nothing.
func (c *compiled) staticFields(hd http.Header, secure bool) {
	sl := c.slabs.Get(len(c.static) + 1)
	for _, f := range c.static {
		hd[f.key] = sl.Take(f.value)
	}
	if secure && c.hsts != "" {
		hd[hdrHSTS] = sl.Take(c.hsts)
	}
	c.slabs.Put(sl)
}

// nonceFields sets the policies that carry a fresh nonce, from a state that
// is also the context Nonce reads, and returns the request carrying it.
func (c *compiled) nonceFields(hd http.Header, r *http.Request) *http.Request {
	st := new(state)
	st.fill(c)
	if c.csp.set() {
		st.vals[0] = st.csp
		hd[hdrCSP] = st.vals[0:1:1]
	}
	if c.cspRO.set() {
		st.vals[1] = st.cspRO
		hd[hdrCSPRO] = st.vals[1:2:2]
	}
	st.Context = r.Context()
	return r.WithContext(st)
}

// end finishes the response after next returned and puts rw back.
//
//go:noinline
func (m *Middleware) end(rw *respWriter) {
	rw.w.Done() // Vary registered by inner layers, if nothing was committed
	if !rw.w.Committed() {
		delete(rw.h, hdrPoweredBy) // net/http sends the header map when next returns
	}
	rw.w.Reset(nil, nil)
	rw.h = nil
	m.pool.Put(rw)
}

// respWriter is the pooled per-request writer. Its hooks remove
// X-Powered-By from every header block sent: the final status (whether
// committed by WriteHeader, Write, ReadFrom or Flush) and 1xx responses such
// as 103 Early Hints, which net/http sends with the whole header map
// (RFC 8297).
type respWriter struct {
	w writer.Writer
	h http.Header // the header map of the writer below, for end
}

var _ writer.InformationalInterceptor = (*respWriter)(nil)

func (rw *respWriter) Header(int) bool {
	delete(rw.w.Header(), hdrPoweredBy)
	return true
}

func (rw *respWriter) Informational(int) { delete(rw.w.Header(), hdrPoweredBy) }

// state is the one allocation of a request whose policy carries a nonce:
// the request context that carries it and the backing array of the two
// policy values.
type state struct {
	context.Context
	vals       [2]string
	raw        [nonceBytes]byte
	enc        [nonceLen]byte
	nonce      string
	csp, cspRO string
}

const (
	nonceBytes = 16                     // 128 bits, CSP3 §"Nonce Reuse"
	nonceLen   = (nonceBytes*8 + 5) / 6 // unpadded base64url
)

type nonceKey struct{}

// Value returns the state itself for the nonce key (no allocation), else
// defers to the parent context.
func (st *state) Value(key any) any {
	if _, ok := key.(nonceKey); ok {
		return st
	}
	return st.Context.Value(key)
}

// fill draws the nonce and renders the policies around it, in one string.
func (st *state) fill(c *compiled) {
	_, _ = rand.Read(st.raw[:]) // never fails (crypto/rand since Go 1.24)
	base64.RawURLEncoding.Encode(st.enc[:], st.raw[:])
	size := 0
	for _, t := range [2]template{c.csp, c.cspRO} {
		for _, p := range t.parts {
			size += len(p) + nonceLen
		}
	}
	var b strings.Builder
	b.Grow(size)
	at := -1
	write := func(t template) (start int) {
		start = b.Len()
		for i, p := range t.parts {
			if i > 0 {
				if at < 0 {
					at = b.Len()
				}
				b.Write(st.enc[:])
			}
			b.WriteString(p)
		}
		return start
	}
	s1 := write(c.csp)
	s2 := write(c.cspRO)
	all := b.String()
	st.csp, st.cspRO = all[s1:s2], all[s2:]
	st.nonce = all[at : at+nonceLen]
}

// Nonce returns the CSP nonce of the request whose context is ctx: the value
// to put in nonce="..." attributes of <script> and <style> elements, 128 bits
// from crypto/rand in unpadded base64url (RFC 4648 §5; CSP's base64-value
// allows '-' and '_'), which html/template inserts without escaping. It
// is "" when the middleware did not run or no policy uses RequestNonce.
// Every response gets a fresh nonce, so a page that carries one must not be
// served from a shared cache.
func Nonce(ctx context.Context) string {
	if st, ok := ctx.Value(nonceKey{}).(*state); ok {
		return st.nonce
	}
	return ""
}

func defaultErrorHandler(w http.ResponseWriter, r *http.Request, err error) {
	d := problem.Details{Status: http.StatusInternalServerError}
	if se, ok := err.(*StatusError); ok {
		d.Status, d.Detail = se.Status, se.Detail
	}
	problem.Write(w, r, d)
}
