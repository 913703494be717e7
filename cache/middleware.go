package cache

import (
	"net/http"
	"time"

	"github.com/jiec/httpmw/internal/header"
	"github.com/jiec/httpmw/internal/problem"
)

// Middleware adds validators to responses and answers conditional requests.
// It is safe for concurrent use. A nil *Middleware is not usable; call New.
type Middleware struct {
	cfg config
}

// New validates cfg and returns a Middleware. It reports every problem at
// once. The Middleware keeps a copy: changing cfg afterwards has no effect.
func New(cfg Config) (*Middleware, error) {
	c, err := compile(cfg)
	if err != nil {
		return nil, err
	}
	return &Middleware{cfg: c}, nil
}

// Handler wraps next with the zero Config: generated ETags for bodies up to
// 1 MiB and conditional GET/HEAD against the response's validators.
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

func (m *Middleware) serve(w http.ResponseWriter, r *http.Request, next http.Handler) {
	safe := r.Method == http.MethodGet || r.Method == http.MethodHead
	if !safe && (m.cfg.validator == nil || ignoresPreconditions(r.Method) || !conditional(r.Header)) {
		next.ServeHTTP(w, r)
		return
	}
	var (
		v  Validators
		ok bool
	)
	if m.cfg.validator != nil {
		v, ok = m.cfg.validator(r)
		ok = ok && !(safe && v.Missing)
	}
	var s state
	if ok {
		s = state{etag: parseETag(v.ETag), exists: !v.Missing}
		s.setLastModified(v.LastModified)
		switch res, perr := evaluate(r.Method, r.Header, &s); res {
		case notModified:
			m.addHeaders(w.Header(), &s, true)
			writeNotModified(w)
			return
		case failed:
			m.fail(w, r, perr)
			return
		}
	}
	if !safe {
		next.ServeHTTP(w, r)
		return
	}

	cw := getWriter()
	cw.Reset(w, cw)
	cw.m, cw.r = m, r
	if ok {
		cw.added = m.addHeaders(w.Header(), &s, false)
		cw.validated = s.etag.Opaque != ""
	} else {
		cw.added = m.addHeaders(w.Header(), nil, false)
	}
	next.ServeHTTP(&cw.Writer, r)
	cw.finish()
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

const (
	addedCacheControl added = 1 << iota
	addedETag
	addedLastModified
)

// addHeaders sets Vary, Cache-Control and the validators of s (if not nil)
// on a response to GET or HEAD. A 304 gets Last-Modified only when it has no
// ETag (RFC 9110 §15.4.5).
func (m *Middleware) addHeaders(h http.Header, s *state, notModified bool) added {
	var a added
	if len(m.cfg.vary) > 0 {
		header.AddVary(h, m.cfg.vary...)
	}
	// One backing array for the (at most three) values; each field gets a
	// full slice of length 1, so an append by someone else reallocates.
	var vals []string
	set := func(k, v string) {
		if vals == nil {
			vals = make([]string, 0, 3)
		}
		vals = append(vals, v)
		h[k] = vals[len(vals)-1 : len(vals) : len(vals)]
	}
	if m.cfg.cacheControl != "" && h["Cache-Control"] == nil {
		set("Cache-Control", m.cfg.cacheControl)
		a |= addedCacheControl
	}
	if s == nil {
		return a
	}
	if s.etag.Opaque != "" && h["Etag"] == nil {
		set("Etag", s.etag.String())
		a |= addedETag
	}
	if s.hasLM && h["Last-Modified"] == nil && !(notModified && h["Etag"] != nil) {
		set("Last-Modified", time.Unix(s.lastMod, 0).UTC().Format(http.TimeFormat))
		a |= addedLastModified
	}
	return a
}

// fail answers 412 for a failed precondition.
func (m *Middleware) fail(w http.ResponseWriter, r *http.Request, err *PreconditionError) {
	if m.cfg.errorHandler != nil {
		m.cfg.errorHandler(w, r, err)
		return
	}
	problem.Write(w, r, problem.Details{
		Status: http.StatusPreconditionFailed,
		Detail: err.Field + " does not hold for the current state of the resource",
	})
}
