package writer_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/jiec/httpmw/internal/writer"
)

// recordingIC records the Header hook calls and answers with send.
type recordingIC struct {
	codes []int
	send  bool
}

func (r *recordingIC) Header(code int) bool {
	r.codes = append(r.codes, code)
	return r.send
}

// readFromRecorder is a recorder that counts ReadFrom calls and remembers the
// reader it got, like the net/http writer whose ReadFrom uses sendfile.
type readFromRecorder struct {
	*httptest.ResponseRecorder
	calls int
	src   io.Reader
}

func (r *readFromRecorder) ReadFrom(src io.Reader) (int64, error) {
	r.calls++
	r.src = src
	return io.Copy(struct{ io.Writer }{r.ResponseRecorder}, src)
}

func TestBodyAllowed(t *testing.T) {
	for code, want := range map[int]bool{
		100: false, 101: false, 103: false, 199: false,
		200: true, 201: true, 204: false, 206: true, 301: true, 304: false, 404: true, 500: true,
	} {
		if got := writer.BodyAllowed(code); got != want {
			t.Errorf("BodyAllowed(%d) = %v, want %v", code, got, want)
		}
	}
}

// codesRW is a ResponseWriter that records every WriteHeader call (the
// recorder in httptest keeps only the first, even for 1xx).
type codesRW struct {
	h       http.Header
	codes   []int
	flushed bool
}

func (c *codesRW) Header() http.Header {
	if c.h == nil {
		c.h = make(http.Header)
	}
	return c.h
}
func (c *codesRW) WriteHeader(code int)        { c.codes = append(c.codes, code) }
func (c *codesRW) Write(p []byte) (int, error) { return len(p), nil }
func (c *codesRW) Flush()                      { c.flushed = true }

func TestHeaderHookRunsOnceWithFinalStatus(t *testing.T) {
	tests := []struct {
		desc  string
		do    func(w *writer.Writer)
		hook  []int // Header hook calls
		below []int // WriteHeader calls reaching the writer below
	}{
		{"1xx pass through, final status once", func(w *writer.Writer) {
			w.WriteHeader(100)
			w.WriteHeader(103)
			w.WriteHeader(103)
			w.WriteHeader(204)
			w.WriteHeader(103)
		}, []int{204}, []int{100, 103, 103, 204}},
		{"101 is final", func(w *writer.Writer) { w.WriteHeader(101); w.WriteHeader(200) }, []int{101}, []int{101}},
		{"double WriteHeader", func(w *writer.Writer) { w.WriteHeader(418); w.WriteHeader(200) }, []int{418}, []int{418}},
		{"Write commits 200", func(w *writer.Writer) { _, _ = w.Write(nil); w.WriteHeader(500) }, []int{200}, []int{200}},
		{"ReadFrom commits 200", func(w *writer.Writer) { _, _ = w.ReadFrom(strings.NewReader("x")) }, []int{200}, []int{200}},
		{"Flush commits 200", func(w *writer.Writer) { w.Flush() }, []int{200}, []int{200}},
		{"FlushError commits 200", func(w *writer.Writer) { _ = w.FlushError() }, []int{200}, []int{200}},
		{"nothing", func(*writer.Writer) {}, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			ic := &recordingIC{send: true}
			below := &codesRW{}
			w := writer.New(below, ic)
			tt.do(w)
			if fmt.Sprint(ic.codes) != fmt.Sprint(tt.hook) {
				t.Errorf("Header hook got %v, want %v", ic.codes, tt.hook)
			}
			if fmt.Sprint(below.codes) != fmt.Sprint(tt.below) {
				t.Errorf("writer below got WriteHeader %v, want %v", below.codes, tt.below)
			}
			wantStatus := 0
			if len(tt.hook) > 0 {
				wantStatus = tt.hook[0]
			}
			if w.Status() != wantStatus || w.Committed() != (wantStatus != 0) || w.HeaderSent() != (wantStatus != 0) {
				t.Errorf("Status %d Committed %v HeaderSent %v, want %d", w.Status(), w.Committed(), w.HeaderSent(), wantStatus)
			}
		})
	}
}

func TestWriteHeaderPanicsOnInvalidCodeLikeNetHTTP(t *testing.T) {
	for _, code := range []int{0, 99, 1000, -1} {
		ic := &recordingIC{send: true}
		w := writer.New(httptest.NewRecorder(), ic)
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("WriteHeader(%d) did not panic", code)
				}
			}()
			w.WriteHeader(code)
		}()
		if w.Committed() || len(ic.codes) != 0 {
			t.Errorf("WriteHeader(%d) committed %d / called the hook %v", code, w.Status(), ic.codes)
		}
	}
	// After the final status, an invalid code is ignored like any other.
	w := writer.New(httptest.NewRecorder(), nil)
	w.WriteHeader(http.StatusOK)
	w.WriteHeader(0)
}

func TestHeldStatusIsSentByWriteDownFlushOrSendHeader(t *testing.T) {
	tests := []struct {
		desc string
		do   func(w *writer.Writer)
		sent bool
		body string
	}{
		{"held", func(w *writer.Writer) {}, false, ""},
		{"Write without BodyInterceptor forwards", func(w *writer.Writer) { _, _ = w.Write([]byte("a")) }, true, "a"},
		{"ReadFrom without BodyInterceptor forwards", func(w *writer.Writer) { _, _ = w.ReadFrom(strings.NewReader("b")) }, true, "b"},
		{"Flush", func(w *writer.Writer) { w.Flush() }, true, ""},
		{"SendHeader", func(w *writer.Writer) { w.SendHeader(); w.SendHeader() }, true, ""},
		{"WriteDown", func(w *writer.Writer) { _, _ = w.WriteDown([]byte("c")) }, true, "c"},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			rec := httptest.NewRecorder()
			w := writer.New(rec, &recordingIC{send: false})
			w.WriteHeader(http.StatusAccepted)
			if w.HeaderSent() || rec.Code != 200 || rec.Flushed {
				t.Fatal("held status reached the recorder")
			}
			tt.do(w)
			if w.HeaderSent() != tt.sent {
				t.Errorf("HeaderSent %v, want %v", w.HeaderSent(), tt.sent)
			}
			if tt.sent && rec.Code != http.StatusAccepted {
				t.Errorf("recorder status %d, want 202", rec.Code)
			}
			if rec.Body.String() != tt.body {
				t.Errorf("body %q, want %q", rec.Body.String(), tt.body)
			}
		})
	}
}

func TestSendHeaderWithoutStatusSends200(t *testing.T) {
	rec := httptest.NewRecorder()
	w := writer.New(rec, nil)
	w.SendHeader()
	if w.Status() != 200 || rec.Code != 200 || !w.HeaderSent() {
		t.Errorf("Status %d, recorder %d, sent %v; want 200", w.Status(), rec.Code, w.HeaderSent())
	}
}

func TestReadFromUsesWriterBelowWithoutBodyInterceptor(t *testing.T) {
	below := &readFromRecorder{ResponseRecorder: httptest.NewRecorder()}
	// Three stacked Writers, observers only: ReadFrom goes straight down.
	top := writer.New(writer.New(writer.New(below, &recordingIC{send: true}), nil), &recordingIC{send: true})
	src := io.LimitReader(strings.NewReader("0123456789"), 8)
	n, err := top.ReadFrom(src)
	if n != 8 || err != nil {
		t.Fatalf("ReadFrom = %d, %v; want 8, nil", n, err)
	}
	if below.calls != 1 || below.src != src {
		t.Errorf("writer below got %d ReadFrom calls with %T, want 1 with the caller's reader", below.calls, below.src)
	}
	if top.Written() != 8 || below.Body.String() != "01234567" {
		t.Errorf("Written %d, body %q; want 8, %q", top.Written(), below.Body.String(), "01234567")
	}
}

// upperIC is a minimal BodyInterceptor that upper-cases bytes on the fly.
type upperIC struct {
	w      *writer.Writer
	bodies int
}

func (u *upperIC) Header(int) bool { return true }
func (u *upperIC) Body(p []byte) (int, error) {
	u.bodies++
	return u.w.WriteDown([]byte(strings.ToUpper(string(p))))
}
func (u *upperIC) Flush() error { return nil }

func TestReadFromNeverBypassesBodyInterceptor(t *testing.T) {
	below := &readFromRecorder{ResponseRecorder: httptest.NewRecorder()}
	u := &upperIC{}
	u.w = writer.New(below, u)
	// A plain Writer on top of the transforming one: its ReadFrom reaches
	// the transforming Writer's ReadFrom, which must use Body.
	top := writer.New(u.w, nil)
	for _, src := range []io.Reader{
		strings.NewReader("abc"),                    // has WriteTo
		io.LimitReader(strings.NewReader("def"), 3), // has not
	} {
		if _, err := top.ReadFrom(src); err != nil {
			t.Fatal(err)
		}
	}
	if below.calls != 0 {
		t.Errorf("ReadFrom of the writer below called %d times, want 0", below.calls)
	}
	if got := below.Body.String(); got != "ABCDEF" || u.bodies == 0 {
		t.Errorf("body %q (Body calls %d), want %q through Body", got, u.bodies, "ABCDEF")
	}
	if top.Written() != 6 || u.w.Written() != 6 {
		t.Errorf("Written top %d, transforming %d; want 6, 6", top.Written(), u.w.Written())
	}
}

type failingFlushIC struct{ upperIC }

var errFlush = errors.New("encoder broke")

func (f *failingFlushIC) Flush() error { return errFlush }

func TestFlushErrorReportsInterceptorError(t *testing.T) {
	rec := httptest.NewRecorder()
	ic := &failingFlushIC{}
	w := writer.New(rec, ic)
	if err := w.FlushError(); !errors.Is(err, errFlush) {
		t.Errorf("FlushError = %v, want %v", err, errFlush)
	}
	if err := http.NewResponseController(w).Flush(); !errors.Is(err, errFlush) {
		t.Errorf("ResponseController.Flush = %v, want %v", err, errFlush)
	}
	if rec.Flushed {
		t.Error("the writer below was flushed after the interceptor failed")
	}
}

func TestFlushErrorReportsUnsupportedWriterBelow(t *testing.T) {
	w := writer.New(struct{ http.ResponseWriter }{httptest.NewRecorder()}, nil)
	if err := w.FlushError(); !errors.Is(err, http.ErrNotSupported) {
		t.Errorf("FlushError = %v, want ErrNotSupported", err)
	}
}

func TestResetClearsState(t *testing.T) {
	w := writer.New(httptest.NewRecorder(), &recordingIC{send: true})
	w.WriteHeader(http.StatusTeapot)
	_, _ = w.Write([]byte("abc"))
	rec := httptest.NewRecorder()
	w.Reset(rec, nil)
	if w.Status() != 0 || w.Committed() || w.HeaderSent() || w.Written() != 0 || w.Unwrap() != rec {
		t.Errorf("after Reset: status %d committed %v sent %v written %d", w.Status(), w.Committed(), w.HeaderSent(), w.Written())
	}
	w.Header().Set("X", "y")
	if rec.Header().Get("X") != "y" {
		t.Error("Header is not the header map of the writer below")
	}
}

// infoIC records the 1xx codes it is shown and strips a header from them.
type infoIC struct {
	w     *writer.Writer
	infos []int
}

func (i *infoIC) Header(int) bool { return true }
func (i *infoIC) Informational(code int) {
	i.infos = append(i.infos, code)
	i.w.Header().Del("X-Secret")
}

func TestInformationalHookSeesEvery1xxBeforeItIsSent(t *testing.T) {
	rw := &codesRW{}
	ic := &infoIC{}
	w := writer.New(rw, ic)
	ic.w = w
	w.Header().Set("X-Secret", "1")
	w.WriteHeader(http.StatusEarlyHints)
	if rw.Header().Get("X-Secret") != "" {
		t.Errorf("X-Secret sent with the 103")
	}
	w.Header().Set("X-Secret", "2")
	w.WriteHeader(http.StatusEarlyHints)
	w.WriteHeader(http.StatusOK)
	w.WriteHeader(http.StatusEarlyHints) // after the final status: ignored
	if got, want := fmt.Sprint(ic.infos), "[103 103]"; got != want {
		t.Errorf("Informational saw %s, want %s", got, want)
	}
	if got, want := fmt.Sprint(rw.codes), "[103 103 200]"; got != want {
		t.Errorf("codes sent %s, want %s", got, want)
	}
}

// passIC buffers the first write, then forwards it and passes the body on.
type passIC struct {
	w      *writer.Writer
	bodies int
}

func (p *passIC) Header(int) bool { return true }
func (p *passIC) Flush() error    { return nil }
func (p *passIC) Body(b []byte) (int, error) {
	p.bodies++
	n, err := p.w.WriteDown(b)
	p.w.PassBody()
	return n, err
}

func TestPassBodyRestoresReadFromBelow(t *testing.T) {
	rec := &readFromRecorder{ResponseRecorder: httptest.NewRecorder()}
	ic := &passIC{}
	w := writer.New(rec, ic)
	ic.w = w
	io.WriteString(w, "head,")
	w.ReadFrom(strings.NewReader("tail"))
	io.WriteString(w, ",end")
	if ic.bodies != 1 {
		t.Errorf("BodyInterceptor saw %d writes, want 1 (before PassBody)", ic.bodies)
	}
	if rec.calls != 1 {
		t.Errorf("ReadFrom of the writer below not used after PassBody")
	}
	if got := rec.Body.String(); got != "head,tail,end" {
		t.Errorf("body %q", got)
	}
	if w.Written() != int64(len("head,tail,end")) {
		t.Errorf("Written() = %d", w.Written())
	}
}

// TestTrailersDownHandsPrefixedKeysBeforeTheStatus: an interceptor that
// sends a held status after the handler returned gets the values the
// handler set under http.TrailerPrefix keys in its late copy into the map
// below before the status (net/http then chooses chunked encoding over
// HTTP/1.1), one removed since the commit removed, while the values of
// declared trailer fields wait for Done (before the status they would be
// sent as header fields).
func TestTrailersDownHandsPrefixedKeysBeforeTheStatus(t *testing.T) {
	rec := httptest.NewRecorder()
	h := &holder{}
	h.Reset(rec, h)
	h.Writer.Header().Set("Trailer", "X-Sum")
	h.Writer.Header().Set(http.TrailerPrefix+"X-Old", "1")
	h.WriteHeader(http.StatusOK)
	copied := h.Writer.Header() // the copy: the status is held
	copied.Set(http.TrailerPrefix+"X-Checksum", "42")
	delete(copied, http.TrailerPrefix+"X-Old")
	copied.Set("X-Sum", "abc")
	down := h.HeaderDown()
	if _, ok := down[http.TrailerPrefix+"X-Checksum"]; ok {
		t.Fatal("handed down before TrailersDown")
	}
	h.TrailersDown()
	if got := down[http.TrailerPrefix+"X-Checksum"]; len(got) != 1 || got[0] != "42" {
		t.Errorf("Trailer:X-Checksum below = %q, want 42", got)
	}
	if _, ok := down[http.TrailerPrefix+"X-Old"]; ok {
		t.Error("a prefixed key the handler removed is still below")
	}
	if _, ok := down["X-Sum"]; ok {
		t.Error("a declared trailer's value handed down before the status")
	}
	copied[http.TrailerPrefix+"X-Checksum"][0] = "changed" // the values below are copies
	if got := down[http.TrailerPrefix+"X-Checksum"][0]; got != "42" {
		t.Errorf("below shares the late copy's array: %q", got)
	}
	h.SendHeader()
	h.Done()
	if got := down["X-Sum"]; len(got) != 1 || got[0] != "abc" {
		t.Errorf("X-Sum after Done = %q, want abc", got)
	}
}
