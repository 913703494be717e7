package negotiate

import (
	"net/http"
	"sync"

	"github.com/jiec/httpmw/internal/header"
	"github.com/jiec/httpmw/internal/writer"
)

// Middleware negotiates the representation of every response: media type,
// language and charset. Create it with New. A nil or zero
// Middleware (New not called) passes requests to the next handler untouched,
// as in every package of this module.
type Middleware struct{ c *compiled }

// New validates cfg and returns the middleware. The error joins every
// problem found, each naming its field and value.
func New(cfg Config) (*Middleware, error) {
	c, err := compile(&cfg)
	if err != nil {
		return nil, err
	}
	return &Middleware{c: c}, nil
}

// Handler returns next wrapped by the middleware.
func (m *Middleware) Handler(next http.Handler) http.Handler {
	if m == nil || m.c == nil {
		return next
	}
	return &handler{c: m.c, next: next, pool: sync.Pool{New: func() any { return new(writer.Writer) }}}
}

type handler struct {
	c    *compiled
	next http.Handler
	pool sync.Pool // *writer.Writer, for Vary when no httpmw Writer is outside
}

// ServeHTTP stays on the stack while next runs (HTTP/2 serves every
// request on a new goroutine, whose small stack is copied as it grows): it
// keeps only the per-request value; the negotiation runs in begin.
func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	v, own := h.begin(w, r)
	switch {
	case v == nil:
	case own:
		h.serveOwn(w, v)
	default:
		h.next.ServeHTTP(w, &v.req) // Vary registered on the httpmw Writer outside
	}
}

// serveOwn runs next on a pooled Writer that merges the negotiated names
// into Vary when the status is committed (or when next returns without
// committing one): there is no httpmw Writer outside to register them on.
//
//go:noinline
func (h *handler) serveOwn(w http.ResponseWriter, v *value) {
	ww := h.pool.Get().(*writer.Writer)
	ww.Reset(w, nil)
	ww.Vary(h.c.varyNames)
	h.next.ServeHTTP(ww, &v.req)
	ww.Done()
	ww.Reset(nil, nil)
	h.pool.Put(ww)
}

// begin negotiates and sets Content-Language before next runs.
// It returns the per-request value, or nil when it answered 406, and
// whether next needs a Writer of ours for Vary (own): the negotiated names
// are registered on the httpmw Writer outside when there is one, which
// merges them into Vary however next edits the field. The negotiation's
// large frame (newValue) is gone before w.Header() walks down the writers
// below.
//
//go:noinline
func (h *handler) begin(w http.ResponseWriter, r *http.Request) (v *value, own bool) {
	c := h.c
	v, d := h.newValue(r)
	if v == nil {
		c.refuse(w, r, d)
		return nil, false
	}
	if lang := v.choice().Language; lang != "" {
		hd := w.Header()
		if _, ok := hd["Content-Language"]; !ok {
			v.lang[0] = lang
			hd["Content-Language"] = v.lang[:1:1]
		}
	}
	// The negotiated names are merged into Vary once, when the status is
	// committed (whatever the handler did to the field meanwhile), by the
	// Writer they are registered on: the httpmw Writer outside, or else one
	// of ours (own). They are not set now as well: that would merge them
	// twice and give them a line the commit's merges could not join.
	return v, !writer.Vary(w, c.varyNames)
}

// newValue negotiates every dimension and returns the per-request value
// holding the choice and the request for next; or nil and the dimension
// that has no acceptable offer (406).
//
//go:noinline
func (h *handler) newValue(r *http.Request) (*value, int) {
	c := h.c
	var idx [numDims]int
	fallback := false
	for d := range numDims {
		i, ok := c.negotiate(r, d)
		if !ok {
			if !c.fallback {
				return nil, d
			}
			i, fallback = 0, true
		}
		idx[d] = i
	}
	v := &value{Context: r.Context(), c: c, fallback: fallback}
	for d, i := range idx {
		v.idx[d] = int32(i)
	}
	// WithContext is inlined and its copy does not escape: the request
	// lives in v, allocated with it.
	v.req = *r.WithContext(v)
	v.outer, _ = v.Context.Value(ctxKey{}).(*value) // its dimensions stay
	return v, 0
}

// refuse answers 406 for dimension d, with the Vary of the negotiation.
//
//go:noinline
func (c *compiled) refuse(w http.ResponseWriter, r *http.Request, d int) {
	header.AddVary(w.Header(), c.varyNames...)
	c.notAcceptable(w, r, d)
}

// negotiate returns the index of the chosen offer of dimension d (0 when
// the dimension is not negotiated), and false when none is acceptable.
func (c *compiled) negotiate(r *http.Request, d int) (int, bool) {
	var n int
	switch d {
	case dimType:
		n = len(c.types)
	case dimLanguage:
		n = len(c.languages)
	default:
		n = len(c.charsets)
	}
	if n == 0 {
		return 0, true
	}
	values := fieldValues(r, fieldNames[d])
	if len(values) == 0 {
		return 0, true
	}
	if d == dimType && len(values) == 1 && values[0] == "*/*" {
		// What curl, Go and most API clients send: every (validated)
		// offer scores q=1 at the lowest specificity, so the first wins.
		return 0, true
	}
	var sbuf [stackOffers]score
	sc := sbuf[:]
	if n > stackOffers {
		sc = make([]score, n)
	}
	sc = sc[:n]
	var i int
	switch d {
	case dimType:
		i = scoreMedia(values, c.types, sc)
	case dimLanguage:
		i = scoreLanguages(values, c.languages, c.lookupOnly, sc)
	default:
		i = scoreCharsets(values, c.charsets, sc)
	}
	switch {
	case i >= 0:
		return i, true
	case i == noPreference:
		return 0, true
	}
	return 0, false
}

// notAcceptable answers a request that accepts no offer of dimension d.
func (c *compiled) notAcceptable(w http.ResponseWriter, r *http.Request, d int) {
	if c.errHandler != nil {
		c.errHandler(w, r, c.errs[d])
		return
	}
	c.notAccept.Write(w, r)
}
