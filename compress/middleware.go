package compress

import (
	"errors"
	"hash/maphash"
	"net/http"
	"sync"

	"github.com/jiec/httpmw/internal/problem"
	"github.com/jiec/httpmw/internal/writer"
)

// Middleware compresses responses (and optionally decodes request bodies).
// Create it with New; it is safe for concurrent use by multiple goroutines. A nil or zero
// Middleware (New not called) passes requests to the next handler untouched,
// as in every package of this module.
type Middleware struct {
	c         *config
	encoders  encoderPools
	decoders  decoderPools
	responses sync.Pool
	seed      maphash.Seed
}

// New validates cfg and returns a Middleware. All problems are reported at
// once (errors.Join).
func New(cfg Config) (*Middleware, error) {
	c, err := cfg.compile()
	if err != nil {
		return nil, err
	}
	if c.errorHandler == nil {
		c.errorHandler = writeProblem
	}
	m := &Middleware{c: c, seed: maphash.MakeSeed()}
	m.encoders.init(c)
	m.decoders.init(c)
	m.responses.New = func() any {
		return &response{m: m, buf: make([]byte, 0, c.minSize)}
	}
	return m, nil
}

// Handler wraps next with the default Config (see Config).
func Handler(next http.Handler) http.Handler {
	m, _ := New(Config{}) // the zero Config is valid
	return m.Handler(next)
}

// Handler returns next wrapped by the middleware.
func (m *Middleware) Handler(next http.Handler) http.Handler {
	if m == nil || m.c == nil {
		return next
	}
	return &handler{m: m, next: next}
}

// handler is the wrapped next. Its ServeHTTP stays on the stack while next
// runs (HTTP/2 serves every request on a new goroutine, whose small stack
// is copied as it grows): it keeps only the pooled response, and the work
// before next runs in begin.
type handler struct {
	m    *Middleware
	next http.Handler
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	resp, r := h.m.begin(w, r)
	if resp == nil {
		if r != nil {
			h.next.ServeHTTP(w, r)
		}
		return
	}
	// No defer: if next panics (http.ErrAbortHandler mid-body, or a bug), the
	// response, its encoder and the request decoders are left half-used and
	// possibly still referenced by goroutines of the handler, so none of them
	// goes back to a pool; the garbage collector takes them.
	h.next.ServeHTTP(&resp.Writer, r)
	// An error here means the client is gone: there is nobody to tell.
	if closeEnc, _ := resp.finish(); closeEnc {
		// close, by hand: its frame would be on the stack under the
		// encoder's last writes.
		if err := resp.enc.Close(); err == nil && h.m.c.jitter > 0 && resp.cd == codingZstd {
			_ = resp.writeSkippableFrame()
		}
	}
	h.m.put(resp)
}

// begin does the work before next runs. It returns the response next
// writes to and the request it gets; or no response and the request when
// next gets w as it is; or neither when it answered the request itself.
//
//go:noinline
func (m *Middleware) begin(w http.ResponseWriter, r *http.Request) (*response, *http.Request) {
	cd := codingIdentity
	inm := r.Header["If-None-Match"]
	if len(m.c.codings) > 0 {
		// Inner handlers compare the tags they made, without the suffix this
		// middleware gives them (etag.go). Any coding's suffix goes, whatever
		// this request negotiates: the tags name the same resource state.
		r = unsuffixRequest(r, inm)
		cd = m.c.negotiate(r.Header["Accept-Encoding"])
	}
	var rb *requestBody
	if m.c.decompress && len(r.Header["Content-Encoding"]) > 0 {
		var err error
		if r, rb, err = m.decodeRequest(r); err != nil {
			if len(m.c.codings) > 0 {
				addVary(w.Header())
			}
			w.Header().Set("Accept-Encoding", "gzip, br, zstd, deflate")
			m.c.errorHandler(w, r, err)
			return nil, nil
		}
	}
	// Every response may depend on Accept-Encoding, also those inner
	// middlewares answer by themselves (304, 412 ...). The name is
	// registered on a Writer (internal/writer), which merges it into Vary
	// once, at the commit, whatever the handler did to the field: ours, or
	// for an identity response (no wrapper of our own: any cache may reuse
	// it) the httpmw Writer outside. Without one, it is set now.
	if cd == codingIdentity && rb == nil {
		if len(m.c.codings) > 0 && !writer.Vary(w, varyAcceptEncoding) {
			addVary(w.Header())
		}
		return nil, r
	}
	resp := m.responses.Get().(*response)
	resp.reset(w, r, cd, rb, inm)
	if len(m.c.codings) > 0 {
		resp.Vary(varyAcceptEncoding)
	}
	return resp, r
}

func (m *Middleware) put(resp *response) {
	resp.release()
	if cap(resp.buf) == m.c.minSize {
		m.responses.Put(resp)
	}
}

// writeProblem is the default ErrorHandler: RFC 9457 problem+json.
func writeProblem(w http.ResponseWriter, r *http.Request, err error) {
	status := http.StatusRequestEntityTooLarge
	switch {
	case errors.Is(err, ErrUnsupportedEncoding):
		status = http.StatusUnsupportedMediaType
	case errors.Is(err, ErrCorruptRequest):
		status = http.StatusBadRequest
	}
	problem.Write(w, r, problem.Details{Status: status, Detail: err.Error()})
}
