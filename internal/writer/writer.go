package writer

import (
	"fmt"
	"io"
	"net/http"
)

// Interceptor sees the final status of a response before it is sent.
type Interceptor interface {
	// Header runs once, when the handler commits its final status: by calling
	// WriteHeader with a code ≥ 200 (or 101), or implicitly by its first Write,
	// ReadFrom or Flush. It may edit the header map. It returns true to send the
	// status downstream now, false to hold it; a holder calls SendHeader later.
	Header(code int) (send bool)
}

// BodyInterceptor is an Interceptor that also receives the body.
type BodyInterceptor interface {
	Interceptor
	// Body receives what the handler writes, after Header. It forwards bytes
	// (transformed or not) with Writer.WriteDown.
	Body(p []byte) (int, error)
	// Flush empties any buffer or encoder towards Writer.WriteDown. It runs
	// when the handler flushes, before the connection below is flushed.
	Flush() error
}

// InformationalInterceptor is an Interceptor that also sees 1xx responses
// (such as 103 Early Hints), which net/http sends with the whole header map.
// Informational runs before each one is sent and may edit the header map.
type InformationalInterceptor interface {
	Interceptor
	Informational(code int)
}

// Writer wraps an http.ResponseWriter. Its zero value is not usable: call
// Reset (which lets middlewares embed a Writer by value and pool it).
type Writer struct {
	rw      http.ResponseWriter
	ic      Interceptor
	body    BodyInterceptor
	status  int   // committed final status; 0 until committed
	sent    bool  // status sent to rw
	written int64 // body bytes handed to rw
}

var (
	_ http.ResponseWriter = (*Writer)(nil)
	_ http.Flusher        = (*Writer)(nil)
	_ io.ReaderFrom       = (*Writer)(nil)
)

// New returns a Writer around rw with the interceptor ic (nil for none).
func New(rw http.ResponseWriter, ic Interceptor) *Writer {
	w := new(Writer)
	w.Reset(rw, ic)
	return w
}

// Reset makes w wrap rw with the interceptor ic (nil for none). If ic also
// implements BodyInterceptor, the body goes through it.
func (w *Writer) Reset(rw http.ResponseWriter, ic Interceptor) {
	body, _ := ic.(BodyInterceptor)
	*w = Writer{rw: rw, ic: ic, body: body}
}

// PassBody stops routing the body through the BodyInterceptor: from now on
// Write goes straight to the wrapped writer and ReadFrom can use its
// ReadFrom (sendfile) again. An interceptor calls it once it has decided to
// leave the rest of the body alone, after forwarding what it buffered.
func (w *Writer) PassBody() { w.body = nil }

// Unwrap returns the wrapped writer; http.ResponseController uses it.
func (w *Writer) Unwrap() http.ResponseWriter { return w.rw }

// Header returns the header map of the wrapped writer.
func (w *Writer) Header() http.Header { return w.rw.Header() }

// Status returns the status the handler committed, or 0 if it has not
// committed one yet (net/http then sends 200 when the handler returns).
func (w *Writer) Status() int { return w.status }

// Committed reports whether the handler has committed its final status.
func (w *Writer) Committed() bool { return w.status != 0 }

// HeaderSent reports whether the status has been sent to the wrapped writer.
func (w *Writer) HeaderSent() bool { return w.sent }

// Written returns the number of body bytes handed to the wrapped writer.
func (w *Writer) Written() int64 { return w.written }

// BodyAllowed reports whether a response with status code may have a body
// (RFC 9110 §6.4.1: not 1xx, 204 or 304).
func BodyAllowed(code int) bool {
	return code >= 200 && code != http.StatusNoContent && code != http.StatusNotModified
}

// WriteHeader commits code as the final status. Informational codes other than
// 101 are passed straight through and can be sent several times; after the
// final status, further calls are ignored, as net/http ignores them. A code
// outside 100..999 panics, as it does in net/http, before anything is recorded.
func (w *Writer) WriteHeader(code int) {
	if w.status != 0 {
		return
	}
	if code < 100 || code > 999 {
		panic(fmt.Sprintf("invalid WriteHeader code %v", code))
	}
	if code >= 100 && code < 200 && code != http.StatusSwitchingProtocols {
		if ii, ok := w.ic.(InformationalInterceptor); ok {
			ii.Informational(code)
		}
		w.rw.WriteHeader(code)
		return
	}
	w.status = code
	if w.ic == nil || w.ic.Header(code) {
		w.SendHeader()
	}
}

// SendHeader sends the committed status to the wrapped writer, once.
// Interceptors that held the status call it when they are ready.
func (w *Writer) SendHeader() {
	if w.sent {
		return
	}
	if w.status == 0 {
		w.status = http.StatusOK
	}
	w.sent = true
	w.rw.WriteHeader(w.status)
}

// Write writes the body, committing status 200 first if needed.
func (w *Writer) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	if !BodyAllowed(w.status) {
		return 0, http.ErrBodyNotAllowed
	}
	if w.body != nil {
		return w.body.Body(p)
	}
	return w.WriteDown(p)
}

// WriteDown writes p to the wrapped writer, sending the status first if it is
// still held. Interceptors use it to forward the (transformed) body.
func (w *Writer) WriteDown(p []byte) (int, error) {
	if !w.sent {
		w.SendHeader()
	}
	n, err := w.rw.Write(p)
	w.written += int64(n)
	return n, err
}

// ReadFrom copies r into the response. Without a BodyInterceptor it hands r
// to the wrapped writer's ReadFrom (sendfile on plain TCP); with one, every
// byte goes through the interceptor's Body.
func (w *Writer) ReadFrom(r io.Reader) (int64, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	if !BodyAllowed(w.status) {
		return 0, http.ErrBodyNotAllowed
	}
	if rf, ok := w.rw.(io.ReaderFrom); ok && w.body == nil {
		if !w.sent {
			w.SendHeader()
		}
		n, err := rf.ReadFrom(r)
		w.written += n
		return n, err
	}
	return io.Copy(writerOnly{w}, r)
}

// writerOnly hides ReadFrom so that io.Copy does not recurse.
type writerOnly struct{ io.Writer }

// Flush flushes the response; see FlushError.
func (w *Writer) Flush() { _ = w.FlushError() }

// FlushError commits the status (200 if none), lets the BodyInterceptor empty
// its buffer or encoder, then flushes the writer below through
// http.ResponseController.
func (w *Writer) FlushError() error {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	if w.body != nil {
		if err := w.body.Flush(); err != nil {
			return err
		}
	}
	if !w.sent {
		w.SendHeader()
	}
	return http.NewResponseController(w.rw).Flush()
}
