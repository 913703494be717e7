package cache

import (
	"hash/maphash"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/jiec/httpmw/internal/header"
	"github.com/jiec/httpmw/internal/problem"
)

// Middleware adds validators to responses and answers conditional requests.
// It is safe for concurrent use; create it with New. A nil or zero
// Middleware (New not called) passes requests to the next handler untouched,
// as in every package of this module.
type Middleware struct {
	cfg config

	// Recent ETags and Last-Modified times the Validator returned, parsed and
	// formatted, so that revalidating a resource again and again costs no
	// parsing, formatting or allocation. Direct-mapped: a slot holds the
	// last entry hashed to it.
	seed  maphash.Seed
	etags [recentSlots]atomic.Pointer[sharedETag]
	dates [recentSlots]atomic.Pointer[sharedDate]
}

// recentSlots is the number of slots of each table of recent validators.
const recentSlots = 64

// sharedETag is an ETag returned by Config.Validator, parsed. value[:] is
// its field value for 304s: shared, with len == cap.
type sharedETag struct {
	raw   string      // as returned
	tag   header.ETag // parsed
	value [1]string   // tag.String()
}

// sharedDate is a Last-Modified time, formatted. value[:] is its field
// value for 304s: shared, with len == cap.
type sharedDate struct {
	sec   int64     // Unix seconds
	value [1]string // HTTP-date
}

// validatorETag parses raw (a Validators.ETag; zero Opaque if it is empty or
// invalid). e is its recent entry, if any; slot is where it goes.
func (m *Middleware) validatorETag(raw string) (t header.ETag, e *sharedETag, slot uint64) {
	if raw == "" {
		return t, nil, 0
	}
	slot = maphash.String(m.seed, raw) % recentSlots
	if e := m.etags[slot].Load(); e != nil && e.raw == raw {
		return e.tag, e, slot
	}
	return parseETag(raw), nil, slot
}

// recentETag records t (raw as the Validator returned it) in slot.
func (m *Middleware) recentETag(slot uint64, raw string, t header.ETag) *sharedETag {
	e := &sharedETag{raw: raw, tag: t, value: [1]string{t.String()}}
	m.etags[slot].Store(e)
	return e
}

// lastModified returns sec (Unix seconds) formatted as an HTTP-date.
func (m *Middleware) lastModified(sec int64) *sharedDate {
	slot := uint64(sec) * 0x9e3779b97f4a7c15 >> 58 // Fibonacci hashing to 6 bits
	if d := m.dates[slot].Load(); d != nil && d.sec == sec {
		return d
	}
	d := &sharedDate{sec: sec, value: [1]string{time.Unix(sec, 0).UTC().Format(http.TimeFormat)}}
	m.dates[slot].Store(d)
	return d
}

// New validates cfg and returns a Middleware. It reports every problem at
// once. The Middleware keeps a copy: changing cfg afterwards has no effect.
func New(cfg Config) (*Middleware, error) {
	c, err := compile(cfg)
	if err != nil {
		return nil, err
	}
	return &Middleware{cfg: c, seed: maphash.MakeSeed()}, nil
}

// Handler wraps next with the zero Config: generated ETags for bodies up to
// 1 MiB and conditional GET/HEAD against the response's validators.
func Handler(next http.Handler) http.Handler {
	m, _ := New(Config{})
	return m.Handler(next)
}

// Handler returns next wrapped by the middleware.
func (m *Middleware) Handler(next http.Handler) http.Handler {
	if m == nil || m.cfg.maxBody == 0 {
		return next
	}
	return &handler{m: m, next: next}
}

// handler is the wrapped next. Its ServeHTTP stays on the stack while next
// runs (HTTP/2 serves every request on a new goroutine, whose small stack
// is copied as it grows): it keeps only the per-request writer, and the
// work before and after next runs in begin and end.
type handler struct {
	m    *Middleware
	next http.Handler
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	cw, pass := h.m.begin(w, r)
	if cw == nil {
		if pass {
			h.next.ServeHTTP(w, r)
		}
		return
	}
	h.next.ServeHTTP(&cw.Writer, r)
	cw.end()
}

// begin does the work before next runs. It returns the writer next gets,
// or nil with pass true when next gets w and r as they are, or nil with
// pass false when the middleware has answered (304, 412).
//
//go:noinline
func (m *Middleware) begin(w http.ResponseWriter, r *http.Request) (cw *cacheWriter, pass bool) {
	safe := r.Method == http.MethodGet || r.Method == http.MethodHead
	if m.cfg.validator != nil {
		return m.beginValidated(w, r, safe)
	}
	if !safe {
		return nil, true
	}
	cw = m.newWriter(w, r)
	cw.added = m.addHeaders(w.Header(), nil, nil, nil, &cw.ours)
	return cw, false
}

// newWriter returns the pooled writer for a response to GET or HEAD.
func (m *Middleware) newWriter(w http.ResponseWriter, r *http.Request) *cacheWriter {
	cw := getWriter()
	cw.Reset(w, cw)
	cw.m, cw.r = m, r
	if len(m.cfg.vary) > 0 {
		cw.Vary(m.cfg.vary) // merged at the commit, whatever the handler did
	}
	return cw
}

// beginValidated is begin with a Config.Validator: its Validators and
// state are large, and stay out of begin's frame.
//
//go:noinline
func (m *Middleware) beginValidated(w http.ResponseWriter, r *http.Request, safe bool) (cw *cacheWriter, pass bool) {
	if !safe && (ignoresPreconditions(r.Method) || !conditional(r.Header)) {
		return nil, true
	}
	var (
		v  Validators
		ok bool
	)
	v, ok = m.cfg.validator(r)
	ok = ok && !(safe && v.Missing)
	var (
		s    state
		et   *sharedETag
		slot uint64
	)
	if ok {
		s = state{exists: !v.Missing, coded: true}
		s.etag, et, slot = m.validatorETag(v.ETag)
		s.setLastModified(v.LastModified)
		switch res, perr := evaluate(r.Method, r.Header, &s); res {
		case notModified:
			if et == nil && s.etag.Opaque != "" {
				et = m.recentETag(slot, v.ETag, s.etag)
			}
			m.notModified(w, &s, et, &v)
			return nil, false
		case failed:
			m.fail(w, r, perr)
			return nil, false
		}
	}
	if !safe {
		return nil, true
	}

	cw = m.newWriter(w, r)
	if ok {
		cw.added = m.addHeaders(w.Header(), &s, et, &v, &cw.ours)
		cw.validated = s.etag.Opaque != ""
	} else {
		cw.added = m.addHeaders(w.Header(), nil, nil, nil, &cw.ours)
	}
	return cw, false
}

// end completes the response once next has returned and puts cw back.
//
//go:noinline
func (cw *cacheWriter) end() {
	if cw.finish() {
		cw.SendHeader()
		_ = cw.held.writeTo(&cw.Writer)
	}
	cw.Done() // Vary if nothing was committed; trailers set after a held status
	putWriter(cw)
}

// ignoresPreconditions reports the methods for which RFC 9110 §13.2.1 says
// a server must ignore preconditions.
func ignoresPreconditions(method string) bool {
	return method == http.MethodOptions || method == http.MethodConnect || method == http.MethodTrace
}

// added records which fields the middleware set before the handler ran, so
// that it can take them back from responses they do not describe.
type added uint8

// The fields the middleware may set before the handler runs, in the order
// of their bits in added (and of cacheWriter.ours).
const (
	addedCacheControl added = 1 << iota
	addedETag
	addedLastModified
	addedExpires
	addedContentLocation
	numPreset = iota
)

var presetKeys = [numPreset]string{"Cache-Control", "Etag", "Last-Modified", "Expires", "Content-Location"}

// validatorCacheControl returns the Cache-Control of v (Validators), or "".
func validatorCacheControl(v *Validators) string {
	if v == nil || v.CacheControl == (CacheControl{}) || v.CacheControl.Err() != nil {
		return ""
	}
	return v.CacheControl.String()
}

// addHeaders sets the Validator's Vary, Cache-Control and the validators of s (if not nil;
// et is the shared entry of its ETag, if any) and the fields of v (if not
// nil) on a response to GET or HEAD before the handler runs. It records the
// values it set in ours.
func (m *Middleware) addHeaders(h http.Header, s *state, et *sharedETag, v *Validators, ours *[numPreset]string) added {
	var a added
	empty := len(h) == 0 // no field to look up
	// Config.Vary is registered on the writer (newWriter), which merges it
	// once, at the commit; the Validator's names are set now.
	if v != nil && len(v.Vary) > 0 {
		header.AddVary(h, v.Vary...)
	}
	var vals [numPreset]string
	cc := validatorCacheControl(v)
	if cc == "" {
		cc = m.cfg.cacheControl
	}
	if cc != "" && (empty || h["Cache-Control"] == nil) {
		vals[0] = cc
		a |= addedCacheControl
	}
	if s != nil {
		if s.etag.Opaque != "" && (empty || h["Etag"] == nil) {
			if et != nil {
				vals[1] = et.value[0] // spares "W/" + Opaque
			} else {
				vals[1] = s.etag.String()
			}
			a |= addedETag
		}
		if s.hasLM && (empty || h["Last-Modified"] == nil) {
			vals[2] = m.lastModified(s.lastMod).value[0]
			a |= addedLastModified
		}
	}
	if v != nil {
		if !v.Expires.IsZero() && (empty || h["Expires"] == nil) {
			vals[3] = m.lastModified(v.Expires.Unix()).value[0]
			a |= addedExpires
		}
		if v.ContentLocation != "" && (empty || h["Content-Location"] == nil) {
			vals[4] = v.ContentLocation
			a |= addedContentLocation
		}
	}
	if a == 0 {
		return a
	}
	*ours = vals
	// The handler may write to these values in place: one backing array of
	// this request's own for them, each field a full slice of length 1 so
	// that an append reallocates.
	n := 0
	for i := range numPreset {
		if a&(1<<i) != 0 {
			n++
		}
	}
	store := make([]string, 0, n)
	for i := range numPreset {
		if a&(1<<i) != 0 {
			store = append(store, vals[i])
			h[presetKeys[i]] = store[len(store)-1 : len(store) : len(store)]
		}
	}
	return a
}

// notModified answers 304 before the handler runs, with the fields of RFC
// 9110 §15.4.5: Vary, Cache-Control and the ETag (or, without one, the
// Last-Modified) of s. The response is final and nobody downstream gets to
// write to its fields, so they get the shared, precomputed values.
func (m *Middleware) notModified(w http.ResponseWriter, s *state, et *sharedETag, v *Validators) {
	h := w.Header()
	empty := len(h) == 0 // no field to look up, keep or drop
	known := 0           // fields known to be in h and kept
	// Vary in the order of the 200 (one line): the Validator's names (set
	// before the handler), Accept-Encoding (merged by compress, inside, at
	// its commit), then Config.Vary (merged at cache's commit).
	if v != nil && len(v.Vary) > 0 {
		header.AddVary(h, v.Vary...) // not counted: dropNotModified looks at every field
		empty = false
	}
	if s.codedTag != "" {
		// The client holds an encoded response: the 304 carries its tag
		// (RFC 9111 §4.3.4) and the Vary of a response that compress, inside,
		// would have sent.
		if len(m.cfg.vary) == 0 && (empty || h["Vary"] == nil) {
			known++
		}
		header.AddVary(h, "Accept-Encoding")
		empty = false
	}
	if len(m.cfg.vary) > 0 {
		if empty || h["Vary"] == nil {
			h["Vary"] = m.cfg.varyValue
		} else {
			header.AddVary(h, m.cfg.vary...)
		}
		known++
	}
	if cc := validatorCacheControl(v); cc != "" {
		if empty || h["Cache-Control"] == nil {
			h["Cache-Control"] = []string{cc}
		}
	} else if m.cfg.cacheControl != "" {
		if empty || h["Cache-Control"] == nil {
			h["Cache-Control"] = m.cfg.cacheControlValue
		}
		known++
	}
	if v != nil {
		// The fields of §15.4.5 only the Validator knows (not counted in
		// known: dropNotModified then looks at every field).
		if !v.Expires.IsZero() && (empty || h["Expires"] == nil) {
			h["Expires"] = m.lastModified(v.Expires.Unix()).value[:]
		}
		if v.ContentLocation != "" && (empty || h["Content-Location"] == nil) {
			h["Content-Location"] = []string{v.ContentLocation}
		}
	}
	etag := !empty && h["Etag"] != nil
	if !etag && s.codedTag != "" {
		h["Etag"] = []string{s.codedTag}
		etag = true
	} else if !etag && et != nil {
		h["Etag"] = et.value[:]
		etag = true
	}
	if etag {
		known++
	} else if s.hasLM && (empty || h["Last-Modified"] == nil) {
		h["Last-Modified"] = m.lastModified(s.lastMod).value[:]
		known++
	}
	if len(h) > known {
		dropNotModified(h, etag)
	}
	w.WriteHeader(http.StatusNotModified)
}

// fail answers 412 for a failed precondition.
func (m *Middleware) fail(w http.ResponseWriter, r *http.Request, err *PreconditionError) {
	if m.cfg.errorHandler != nil {
		m.cfg.errorHandler(w, r, err)
		return
	}
	for i := range m.cfg.failures {
		if f := &m.cfg.failures[i]; f.err == err {
			f.doc.Write(w, r) // precomputed unless the request has a trace id
			return
		}
	}
	problem.Write(w, r, problem.Details{Status: http.StatusPreconditionFailed, Detail: err.detail()})
}
