package writer_test

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/jiec/httpmw/internal/writer"
)

// The middlewares below are built the way the httpmw packages build theirs:
// a pooled per-request struct embeds a writer.Writer by value, implements the
// interceptor hooks itself, and hands &s.Writer to the next handler.

// seen is what an observing middleware saw of one response.
type seen struct {
	Calls   int   // Header hook calls
	Code    int   // code passed to the Header hook
	Status  int   // Writer.Status after the handler returned
	Written int64 // Writer.Written after the handler returned
}

// observer only watches the status: an Interceptor without body hooks.
type observer struct {
	writer.Writer
	s seen
}

func (o *observer) Header(code int) bool {
	o.s.Calls++
	o.s.Code = code
	return true
}

var observerPool = sync.Pool{New: func() any { return new(observer) }}

// observe returns a middleware that wraps the writer with an observer and
// reports what it saw to report (nil to ignore) after next returns.
func observe(report func(seen)) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			o := observerPool.Get().(*observer)
			o.s = seen{}
			o.Reset(rw, o)
			next.ServeHTTP(&o.Writer, r)
			if report != nil {
				s := o.s
				s.Status, s.Written = o.Status(), o.Written()
				report(s)
			}
			o.Reset(nil, nil)
			observerPool.Put(o)
		})
	}
}

// upper is a body-transforming BodyInterceptor, shaped like a compressor: it
// upper-cases the body into a buffer and forwards it only when the buffer is
// full, when the handler flushes, or when the handler returns.
type upper struct {
	writer.Writer
	buf []byte
}

const upperBuffer = 4 << 10

func (u *upper) Header(code int) bool {
	u.Writer.Header().Del("Content-Length") // the length is ours to decide
	return true
}

func (u *upper) Body(p []byte) (int, error) {
	u.buf = append(u.buf, bytes.ToUpper(p)...)
	if len(u.buf) >= upperBuffer {
		if err := u.Flush(); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

func (u *upper) Flush() error {
	if len(u.buf) == 0 {
		return nil
	}
	_, err := u.WriteDown(u.buf)
	u.buf = u.buf[:0]
	return err
}

func upperMW(next http.Handler) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		u := &upper{}
		u.Reset(rw, u)
		next.ServeHTTP(&u.Writer, r)
		if u.Committed() {
			_ = u.Flush()
		}
	})
}

// holder holds the status until the handler returns (or its first body byte
// is forwarded), then adds a header and sends it: hold-then-SendHeader.
type holder struct {
	writer.Writer
	buf []byte
}

func (h *holder) Header(code int) bool { return false }

func (h *holder) Body(p []byte) (int, error) {
	h.buf = append(h.buf, p...)
	return len(p), nil
}

func (h *holder) Flush() error { return nil } // keeps buffering

func holdMW(next http.Handler) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		h := &holder{}
		h.Reset(rw, h)
		next.ServeHTTP(&h.Writer, r)
		if !h.Committed() {
			h.Done()
			return
		}
		if !h.HeaderSent() {
			h.HeaderDown().Set("X-Held-Length", strconv.Itoa(len(h.buf)))
			h.SendHeader()
		}
		if len(h.buf) > 0 {
			_, _ = h.WriteDown(h.buf)
		}
		h.Done()
	})
}

// stack is a middleware chain under test.
type stack struct {
	name   string
	wrap   func(http.Handler) http.Handler
	upper  bool // the body is upper-cased on its way
	layers int  // observers in the chain
}

func chain(mws ...func(http.Handler) http.Handler) func(http.Handler) http.Handler {
	return func(h http.Handler) http.Handler {
		for i := len(mws) - 1; i >= 0; i-- {
			h = mws[i](h)
		}
		return h
	}
}

// stacks returns the chains every server test runs through: none (the
// reference net/http behaviour), one Writer, several stacked Writers, and
// stacked Writers with a body-transforming interceptor in the middle. Every
// observer in them reports to report (nil to ignore).
func stacks(report func(seen)) []stack {
	o := func() func(http.Handler) http.Handler { return observe(report) }
	return []stack{
		{name: "bare", wrap: func(h http.Handler) http.Handler { return h }},
		{name: "one", wrap: o(), layers: 1},
		{name: "three", wrap: chain(o(), o(), o()), layers: 3},
		{name: "transform", wrap: chain(o(), upperMW, o()), layers: 2, upper: true},
	}
}

// want returns s as the client receives it through st.
func (st stack) want(s string) string {
	if st.upper {
		return string(bytes.ToUpper([]byte(s)))
	}
	return s
}

// rfSpy sits between the server's writer and the Writers and records the
// ReadFrom calls that reach it, then forwards them.
type rfSpy struct {
	http.ResponseWriter
	mu    sync.Mutex
	calls int
	src   io.Reader
}

func (s *rfSpy) Unwrap() http.ResponseWriter { return s.ResponseWriter }

func (s *rfSpy) ReadFrom(r io.Reader) (int64, error) {
	s.mu.Lock()
	s.calls++
	s.src = r
	s.mu.Unlock()
	if rf, ok := s.ResponseWriter.(io.ReaderFrom); ok {
		return rf.ReadFrom(r)
	}
	return io.Copy(struct{ io.Writer }{s.ResponseWriter}, r)
}

// netDialer dials the test server's listener over TCP.
type netDialer struct{}

func (netDialer) dial(addr string) (net.Conn, error) {
	return net.DialTimeout("tcp", addr, 10*time.Second)
}
