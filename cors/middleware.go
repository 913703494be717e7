package cors

import (
	"net/http"
	"sync"

	"github.com/jiec/httpmw/internal/writer"
)

// Middleware is a validated CORS policy, created by New. It is immutable and
// safe for concurrent use. A nil or zero Middleware passes requests through
// untouched (no CORS header, so browsers keep cross-origin reads blocked).
type Middleware struct {
	c *compiled
}

// New validates cfg and returns the middleware. All the problems in cfg are
// reported at once, joined with errors.Join, each naming the field and the
// offending value. New copies what it needs from cfg.
func New(cfg Config) (*Middleware, error) {
	c, err := compile(&cfg)
	if err != nil {
		return nil, err
	}
	return &Middleware{c: c}, nil
}

// Handler wraps next with the CORS policy:
//
//   - preflights (OPTIONS with Origin and Access-Control-Request-Method) are
//     answered here, unless Config.PreflightPassthrough is set;
//   - other requests get their CORS headers set before next runs, so they
//     survive inner middlewares that answer by themselves (429, 304), and
//     always reach next: disallowed origins only miss the CORS headers.
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

// ServeHTTP keeps a small frame on the stack while next runs (HTTP/2 runs
// every request on a fresh goroutine whose stack grows by copying): the
// headers are set, and the preflight answered, in begin, which returns
// first.
func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch how := h.begin(w, r); how {
	case callNext:
		h.next.ServeHTTP(w, r)
	case ownOrigin, ownPreflight:
		h.serveOwn(w, r, how)
	}
}

// How ServeHTTP goes on after begin.
const (
	answered     = iota // begin answered (a preflight)
	callNext            // next runs on w (Vary registered on the httpmw Writer outside, or none needed)
	ownOrigin           // next runs on a pooled Writer of ours adding Vary: Origin
	ownPreflight        // the same, with the Vary names of a passed-through preflight
)

// begin handles the request up to next: a preflight is answered (or passed
// through), other requests get their CORS headers.
//
//go:noinline
func (h *handler) begin(w http.ResponseWriter, r *http.Request) int {
	origin, isCORS := r.Header[hOrigin]
	if isCORS && r.Method == http.MethodOptions {
		if acrm, ok := r.Header[hACRM]; ok {
			if h.c.preflight(w, r, origin, acrm) {
				return varyOn(w, h.c.varyNames, ownPreflight)
			}
			return answered
		}
	}
	h.c.actual(w.Header(), origin)
	if h.c.anyOrigin {
		return callNext // the same answer for every origin: no Vary
	}
	return varyOn(w, varyOrigin, ownOrigin)
}

// varyOrigin is the Vary dimension of responses to non-preflight requests.
var varyOrigin = []string{hOrigin}

// varyOn registers names as Vary dimensions (internal/writer), so that they
// are still in Vary when the status is committed, whatever next does to the
// field: on the httpmw Writer outside (callNext), or else on a pooled one of
// our own (own, which serveOwn maps back to names).
func varyOn(w http.ResponseWriter, names []string, own int) int {
	if writer.Vary(w, names) {
		return callNext
	}
	return own
}

// serveOwn runs next on a pooled Writer that registers the Vary names of
// how.
//
//go:noinline
func (h *handler) serveOwn(w http.ResponseWriter, r *http.Request, how int) {
	ww := h.getWriter(w, how)
	h.next.ServeHTTP(ww, r)
	h.putWriter(ww)
}

//go:noinline
func (h *handler) getWriter(w http.ResponseWriter, how int) *writer.Writer {
	ww := h.pool.Get().(*writer.Writer)
	ww.Reset(w, nil)
	if how == ownPreflight {
		ww.Vary(h.c.varyNames)
	} else {
		ww.Vary(varyOrigin)
	}
	return ww
}

//go:noinline
func (h *handler) putWriter(ww *writer.Writer) {
	ww.Done()
	ww.Reset(nil, nil)
	h.pool.Put(ww)
}

// actual sets the headers of a response to a request that is not a preflight,
// with or without an Origin (Fetch §"CORS protocol and HTTP caches": when
// ACAO depends on Origin, every response carries "Vary: Origin", so that a
// cache never hands one origin's answer to another). The methods list does not
// apply here: the browser already checked the method in the preflight, and
// safelisted methods need none.
//
// Vary: Origin is not set here: begin registers it on an httpmw Writer (the
// one outside, or one of our own), which merges it into Vary when the status
// is committed, whatever next did to the field, and through inner
// middlewares that answer by themselves (429, 304). Set here too, it would
// be merged twice, and make a line of its own that the merges at the commit
// could not join with the names inner layers add.
//
// All the values the handler can see live in one fresh array per request, so
// a handler that edits them in place cannot race with other requests
// (rs/cors#198).
func (c *compiled) actual(h http.Header, origin []string) {
	if c.anyOrigin {
		// Same answer for every request: no Vary (Fetch, last paragraph of
		// §"CORS protocol and HTTP caches").
		b := new([2]string)
		b[0] = "*"
		h[hACAO] = b[0:1:1]
		if c.aceh != "" {
			b[1] = c.aceh
			h[hACEH] = b[1:2:2]
		}
		return
	}
	if len(origin) != 1 || !c.allowOrigin(origin[0]) {
		return // no CORS header, only Vary (registered by begin)
	}
	b := make([]string, c.actualValues)
	b[0] = origin[0]
	h[hACAO] = b[0:1:1]
	i := 1
	if c.credentials {
		b[i] = "true"
		h[hACAC] = b[i : i+1 : i+1]
		i++
	}
	if c.aceh != "" {
		b[i] = c.aceh
		h[hACEH] = b[i : i+1 : i+1]
	}
}
