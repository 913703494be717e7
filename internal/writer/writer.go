package writer

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"

	"github.com/jiec/httpmw/internal/header"
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

// HijackInterceptor is an Interceptor that learns of a hijack: OnHijack runs
// once the connection below has been taken over (the call succeeded). After
// it the Writer sends nothing more: the response belongs to the hijacker.
// (Interceptors that only need to know later ask Writer.Hijacked.)
type HijackInterceptor interface {
	Interceptor
	OnHijack()
}

// maxPooledFields bounds the header copy (see Writer.late) that Reset keeps
// for the next request.
const maxPooledFields = 64

// maxVary is how many Vary registrations (Writer.Vary) one Writer holds.
const maxVary = 4

// Writer wraps an http.ResponseWriter. Its zero value is not usable: call
// Reset (which lets middlewares embed a Writer by value and pool it).
type Writer struct {
	rw       http.ResponseWriter
	ic       Interceptor
	body     BodyInterceptor
	status   int   // committed final status; 0 until committed
	sent     bool  // status sent to rw
	hijacked bool  // the connection was hijacked through this Writer
	detached bool  // Header returns late: the status is committed but held
	detach1  bool  // the status is held: Header's next call detaches
	clean    bool  // the Writer above committed through SendHeader after normalizing
	tidy     bool  // this Writer normalized the header at its commit (or was clean)
	nvary    uint8 // registrations in vary
	written  int64 // body bytes handed to rw
	vary     [maxVary][]string

	// late is the header map the handler sees once the status is committed
	// but held, so that its later changes never reach the client (as with
	// net/http, which snapshots the map at WriteHeader); trailer values come
	// back down in Done. Kept across Reset, so pooled Writers reuse it.
	late     http.Header
	lateVals []string
}

var (
	_ http.ResponseWriter = (*Writer)(nil)
	_ http.Flusher        = (*Writer)(nil)
	_ http.Hijacker       = (*Writer)(nil)
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
	late, vals := w.late, w.lateVals
	if len(late) > maxPooledFields || cap(vals) > 4*maxPooledFields {
		late, vals = nil, nil // one huge response does not pin its size
	} else if len(late) > 0 {
		clear(late)
		clear(vals)
	}
	// Cleared in place, then set: a composite literal would be built in a
	// temporary in the frame of every caller Reset is inlined into.
	*w = Writer{}
	w.rw, w.ic, w.body, w.late, w.lateVals = rw, ic, body, late, vals[:0]
}

// Vary registers names as Vary dimensions of the layer that owns w: when the
// final status is committed through w, each of them is merged into the Vary
// field (once, case-insensitively, never next to "*"), whatever the handler
// did to the field meanwhile (Set, Add, a non-canonical key, several lines).
// names is kept, not copied, and never modified: pass a slice built once
// (from the Config). Vary reports false when w holds no more registrations
// (maxVary); the caller then wraps with a Writer of its own.
func (w *Writer) Vary(names []string) bool {
	if w.nvary == maxVary {
		return false
	}
	w.vary[w.nvary] = names
	w.nvary++
	return true
}

// Vary registers names on rw if it is a *Writer (an httpmw layer outside the
// caller), so that a layer which otherwise leaves the response alone needs
// no wrapper of its own. It reports false if rw is not one, or is full: the
// caller then wraps rw with its own Writer and registers there.
func Vary(rw http.ResponseWriter, names []string) bool {
	w, ok := rw.(*Writer)
	return ok && w.status == 0 && w.Vary(names)
}

// PassBody stops routing the body through the BodyInterceptor: from now on
// Write goes straight to the wrapped writer and ReadFrom can use its
// ReadFrom (sendfile) again. An interceptor calls it once it has decided to
// leave the rest of the body alone, after forwarding what it buffered.
func (w *Writer) PassBody() { w.body = nil }

// Unwrap returns the wrapped writer; http.ResponseController uses it.
func (w *Writer) Unwrap() http.ResponseWriter { return w.rw }

// Header returns the header map of the wrapped writer, as the handler may
// change it. Once the status is committed but held by the interceptor, it
// returns a copy, taken at its first call after the commit (most handlers
// never call it then, and pay no copy): changes made after the status no
// longer reach the client, as with a bare net/http writer, except trailer
// values (see Done). The interceptor edits the real map through HeaderDown.
func (w *Writer) Header() http.Header {
	if w.detached {
		return w.late
	}
	if w.detach1 {
		w.detach()
		return w.late
	}
	return w.rw.Header()
}

// HeaderDown returns the header map of the wrapped writer, the one that is
// sent: interceptors edit it while they hold the status.
func (w *Writer) HeaderDown() http.Header { return w.rw.Header() }

// Hijacked reports whether the connection was hijacked through w.
func (w *Writer) Hijacked() bool { return w.hijacked }

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
//
// WriteHeader, SendHeader, Write and WriteDown are on the stack under every
// response the handler writes (one set per Writer of the chain), and HTTP/2
// serves each request on a new goroutine whose small stack is copied as it
// grows: their frames are kept small, the rare cases in functions of their
// own.
func (w *Writer) WriteHeader(code int) {
	if w.status != 0 {
		return
	}
	if (code < 200 || code > 999) && w.informational(code) {
		return
	}
	w.status = code
	if w.clean || w.ic != nil || w.nvary != 0 {
		w.normalize(w.rw.Header())
	}
	if w.ic == nil || w.ic.Header(code) {
		// SendHeader by hand (too large to be inlined): no frame of its
		// own between the handler's commit and the writer below.
		if !w.sent && !w.hijacked {
			w.sent = true
			if below, ok := w.rw.(*Writer); ok && w.tidy {
				below.clean = true
			}
			w.rw.WriteHeader(code)
		}
	} else if !w.sent && !w.hijacked {
		w.detach1 = true // Header copies the map if the handler asks for it
	}
}

// informational passes an informational code (other than 101) through and
// reports true; it reports false for 101, a final status. A code outside
// 100..999 panics, as it does in net/http.
//
//go:noinline
func (w *Writer) informational(code int) bool {
	if code < 100 || code > 999 {
		panic(fmt.Sprintf("invalid WriteHeader code %v", code))
	}
	if code == http.StatusSwitchingProtocols {
		return false
	}
	if ii, ok := w.ic.(InformationalInterceptor); ok {
		ii.Informational(code)
	}
	w.rw.WriteHeader(code)
	return true
}

// normalize runs at the commit of the final status, before the interceptor,
// on h, the map of the writer below, when the Writer above committed
// through SendHeader (clean), or w has an interceptor or Vary registrations:
// non-canonical keys of the fields the packages read are folded, Vary is
// deduplicated ("*" alone), and the registered dimensions are merged. The
// first two are skipped when the Writer above (ours) did them already.
// The caller gets h, so that the call walking down the writers below is
// made from its frame, not from this one.
func (w *Writer) normalize(h http.Header) {
	clean := w.clean
	w.clean = false
	w.tidy = true
	if !clean {
		header.FoldKeys(h)
		header.NormalizeVary(h)
	}
	if w.nvary != 0 {
		header.AddVaryLists(h, w.vary[:w.nvary])
	}
}

// detach gives the handler its own copy of the header map (see Header).
func (w *Writer) detach() {
	h := w.rw.Header()
	if w.late == nil {
		w.late = make(http.Header, len(h))
	}
	n := 0
	for _, v := range h {
		n += len(v)
	}
	vals := w.lateVals[:0]
	if cap(vals) < n {
		vals = make([]string, 0, n)
	}
	for k, v := range h {
		vals = append(vals, v...)
		w.late[k] = vals[len(vals)-len(v) : len(vals) : len(vals)]
	}
	w.lateVals = vals
	w.detached, w.detach1 = true, false
}

// Done runs after the handler returned. With no status committed, it merges
// the registered Vary dimensions (net/http sends the map as it is). Else it
// hands down the trailer values the handler left after a held status
// (in the map Header returned then): those of the fields the Trailer header
// declared and those under http.TrailerPrefix keys, which net/http reads from
// the header map when the handler returns and sends only as trailers; one
// the handler removed after the status is removed below too. The values are
// copied: net/http reads them after the middleware has put w back into its
// pool, and the reusable copy they came from is cleared by Reset.
// Every middleware that owns a Writer calls it once it has written the whole
// response, before it returns; trailer values of its own it sets after Done.
func (w *Writer) Done() {
	if w.status == 0 {
		// net/http sends the header map with 200 when the handler
		// returns: the registered Vary dimensions must be in it.
		if w.clean || w.ic != nil || w.nvary != 0 {
			w.normalize(w.rw.Header())
		}
		return
	}
	if !w.detached || w.hijacked {
		return
	}
	w.trailersDown(w.rw.Header())
}

// TrailersDown does now part of what Done does for a held status: it hands
// down the values the handler left under http.TrailerPrefix keys in the map
// Header returned after the commit (net/http never sends those keys as
// header fields). An interceptor that sends the held status once the
// handler has returned calls it before it decides the framing and sends the
// status, so that the keys are in the map when the status is written: over
// HTTP/1.1 trailers need chunked encoding (no Content-Length), and net/http
// chooses it from the map as it is at WriteHeader. The values of fields the
// Trailer header declared are handed down by Done only, after the status
// (before it, they would be sent as header fields).
func (w *Writer) TrailersDown() {
	if w.status != 0 && w.detached && !w.hijacked {
		w.prefixedDown(w.rw.Header())
	}
}

// trailersDown is the end of Done: it hands the trailer values in late
// down to h, the map of the writer below.
//
//go:noinline
func (w *Writer) trailersDown(h http.Header) {
	w.prefixedDown(h)
	for name := range header.Elements(h["Trailer"]) {
		k := http.CanonicalHeaderKey(name)
		if v, ok := w.late[k]; ok {
			h[k] = slices.Clone(v)
		} else {
			delete(h, k)
		}
	}
}

// prefixedDown hands the values under http.TrailerPrefix keys in late down
// to h (removing those the handler removed).
//
//go:noinline
func (w *Writer) prefixedDown(h http.Header) {
	for k := range h {
		if _, ok := w.late[k]; !ok && strings.HasPrefix(k, http.TrailerPrefix) {
			delete(h, k)
		}
	}
	for k, v := range w.late {
		if strings.HasPrefix(k, http.TrailerPrefix) {
			h[k] = slices.Clone(v)
		}
	}
}

// SendHeader sends the committed status to the wrapped writer, once.
// Interceptors that held the status call it when they are ready.
func (w *Writer) SendHeader() {
	if w.sent || w.hijacked {
		return
	}
	if w.status == 0 {
		w.status = http.StatusOK
	}
	w.sent = true
	if below, ok := w.rw.(*Writer); ok && w.tidy {
		below.clean = true
	}
	w.rw.WriteHeader(w.status)
}

// Write writes the body, committing status 200 first if needed.
func (w *Writer) Write(p []byte) (int, error) {
	if w.hijacked {
		return 0, http.ErrHijacked
	}
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	if !BodyAllowed(w.status) {
		return 0, http.ErrBodyNotAllowed
	}
	if w.body != nil {
		return w.body.Body(p)
	}
	// WriteDown by hand (too large to be inlined): no frame of its own
	// between the handler and the writer below.
	if w.hijacked { // by an interceptor, at the commit above
		return 0, http.ErrHijacked
	}
	if !w.sent {
		w.SendHeader()
	}
	n, err := w.rw.Write(p)
	w.written += int64(n)
	return n, err
}

// WriteDown writes p to the wrapped writer, sending the status first if it is
// still held. Interceptors use it to forward the (transformed) body.
func (w *Writer) WriteDown(p []byte) (int, error) {
	if w.hijacked {
		return 0, http.ErrHijacked
	}
	if !w.sent {
		w.SendHeader()
	}
	n, err := w.rw.Write(p)
	w.written += int64(n)
	return n, err
}

// Down returns w as an io.Writer whose Write is WriteDown: the destination
// of an interceptor's encoder, with no frame of an adapter between the
// encoder and the writer below.
func (w *Writer) Down() io.Writer { return (*down)(w) }

type down Writer

// Write is WriteDown (the same statements: a call to it would add a frame).
func (d *down) Write(p []byte) (int, error) {
	w := (*Writer)(d)
	if w.hijacked {
		return 0, http.ErrHijacked
	}
	if !w.sent {
		w.SendHeader()
	}
	n, err := w.rw.Write(p)
	w.written += int64(n)
	return n, err
}

// ReadFrom copies r into the response. Without a BodyInterceptor it hands r
// to the wrapped writer's ReadFrom (sendfile on plain TCP); with one, every
// byte goes through the interceptor's Body. As with net/http's own ReadFrom,
// nothing is committed before r yields its first bytes: a handler whose
// source fails at once (io.Copy returns the error) can still answer with an
// error status. A response that may have no body (204, 304) refuses bytes
// with http.ErrBodyNotAllowed, an empty r without error.
//
// ReadFrom stays on the stack while the copy runs through the writers below:
// the buffered ways, with their pooled buffer, are in functions of their own.
func (w *Writer) ReadFrom(r io.Reader) (n int64, err error) {
	if w.hijacked {
		return 0, http.ErrHijacked
	}
	var buf *[]byte // one pooled buffer a call, for writeFirst and the copy
	if w.status == 0 {
		var done bool
		if n, done, buf, err = w.readFirst(r); done {
			return n, err
		}
	}
	if rf, ok := w.rw.(io.ReaderFrom); ok && w.body == nil && BodyAllowed(w.status) {
		if buf != nil {
			copyBufs.Put(buf)
		}
		if !w.sent {
			w.SendHeader()
		}
		m, err := rf.ReadFrom(r)
		w.written += m
		return n + m, err
	}
	m, err := w.copyFrom(r, buf)
	return n + m, err
}

// readFirst is writeFirst with a buffer from the pool, which it returns
// unless done (then it is back in the pool). No defer, which would take
// room in the frame: after a panic of the reader or of a writer below, the
// buffer is left to the garbage collector.
//
//go:noinline
func (w *Writer) readFirst(r io.Reader) (n int64, done bool, buf *[]byte, err error) {
	buf = copyBufs.Get().(*[]byte)
	n, done, err = w.writeFirst(r, (*buf)[:sniffLen])
	if done {
		copyBufs.Put(buf)
		return n, true, nil, err
	}
	return n, false, buf, err
}

// copyFrom copies r through Write with buf (from the pool if nil), then
// puts buf back (no defer, as in readFirst).
//
//go:noinline
func (w *Writer) copyFrom(r io.Reader, buf *[]byte) (int64, error) {
	if buf == nil {
		buf = copyBufs.Get().(*[]byte)
	}
	n, err := io.CopyBuffer((*bodyWriter)(w), r, *buf)
	copyBufs.Put(buf)
	return n, err
}

// sniffLen is how much ReadFrom reads before committing, as net/http does
// (its Content-Type sniffing length).
const sniffLen = 512

// copyBufs holds the buffers of ReadFrom, as net/http pools its own.
var copyBufs = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

// writeFirst reads r into p until it yields bytes, an error or EOF, and
// writes what it read (which commits the status). done reports that
// ReadFrom has nothing more to do.
func (w *Writer) writeFirst(r io.Reader, p []byte) (n int64, done bool, err error) {
	for {
		nr, er := r.Read(p)
		if nr > 0 {
			nw, ew := w.Write(p[:nr])
			n = int64(nw)
			switch {
			case ew != nil:
				return n, true, ew
			case nw < nr:
				return n, true, io.ErrShortWrite
			}
		}
		switch {
		case er == io.EOF:
			return n, true, nil
		case er != nil:
			return n, true, er
		case nr > 0:
			return n, false, nil
		}
	}
}

// bodyWriter is a Writer without ReadFrom, so that io.CopyBuffer does not
// recurse.
type bodyWriter Writer

func (b *bodyWriter) Write(p []byte) (int, error) { return (*Writer)(b).Write(p) }

// Flush flushes the response; see FlushError.
func (w *Writer) Flush() { _ = w.FlushError() }

// FlushError commits the status (200 if none), lets the BodyInterceptor empty
// its buffer or encoder, then flushes the writer below through
// http.ResponseController.
func (w *Writer) FlushError() error {
	if w.hijacked {
		return http.ErrHijacked
	}
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

// Hijack takes over the connection through http.ResponseController, so that
// legacy w.(http.Hijacker) assertions (gorilla/websocket) work through every
// layer; where the connection below cannot be hijacked (HTTP/2) it returns
// that error (wrapping http.ErrNotSupported) and nothing changes. A status
// committed but held is sent first, as net/http flushes a written header
// before a hijack (a 101 from coder/websocket). On success the response
// counts as 101 Switching Protocols unless a final status was committed
// before, the HijackInterceptor hook runs, and every later Write, Flush or
// WriteHeader is refused with http.ErrHijacked or ignored.
func (w *Writer) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if w.hijacked {
		return nil, nil, http.ErrHijacked
	}
	if w.status != 0 && !w.sent {
		// Send the held status only where a hijack can happen: a
		// failed one (HTTP/2) must leave it held, for the
		// interceptor to edit and send as before.
		if below, ok := hijackerBelow(w.rw); !ok {
			return http.NewResponseController(below).Hijack() // its error
		}
		w.SendHeader()
	}
	conn, brw, err := http.NewResponseController(w.rw).Hijack()
	if err != nil {
		return nil, nil, err
	}
	w.hijacked = true
	if w.status == 0 {
		w.status = http.StatusSwitchingProtocols
	}
	if hi, ok := w.ic.(HijackInterceptor); ok {
		hi.OnHijack()
	}
	return conn, brw, nil
}

// hijackerBelow walks down from rw as http.ResponseController.Hijack does
// (through our Writers and Unwrap) and reports whether it finds a Hijacker
// other than a Writer; else it returns the writer where the walk ended.
func hijackerBelow(rw http.ResponseWriter) (http.ResponseWriter, bool) {
	for {
		switch t := rw.(type) {
		case *Writer:
			if t.hijacked {
				return rw, true // its Hijack reports ErrHijacked
			}
			rw = t.rw
		case http.Hijacker:
			return rw, true
		case interface{ Unwrap() http.ResponseWriter }:
			rw = t.Unwrap()
		default:
			return rw, false
		}
	}
}
