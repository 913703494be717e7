package writer_test

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jiec/httpmw/internal/writer"
)

// poolOf1 is a pool of exactly one holder, so that consecutive requests are
// served by the same Writer, as a sync.Pool does when it is warm.
type poolOf1 struct {
	mu sync.Mutex
	h  *pooledHolder
}

func (p *poolOf1) get() *pooledHolder {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.h == nil {
		return new(pooledHolder)
	}
	h := p.h
	p.h = nil
	return h
}

func (p *poolOf1) put(h *pooledHolder) {
	p.mu.Lock()
	p.h = h
	p.mu.Unlock()
}

// holdPooled is holdMW with its holder put back into pool (Reset first)
// before the middleware returns, as cache and compress do: net/http reads
// the trailer values from the header map only after that.
func holdPooled(pool *poolOf1) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			h := pool.get()
			h.buf = h.buf[:0]
			h.Reset(rw, h)
			next.ServeHTTP(&h.Writer, r)
			if h.Committed() {
				h.SendHeader()
				if len(h.buf) > 0 {
					_, _ = h.WriteDown(h.buf)
				}
			}
			h.Done()
			h.Reset(nil, nil)
			pool.put(h)
		})
	}
}

// Trailer values the handler sets after a held status are handed down by
// Done; a pooled Writer is Reset before net/http reads them, and they must
// still arrive (they did arrive empty: the values shared the Writer's
// reusable copy, which Reset clears).
func TestPooledHolderKeepsTrailersSetAfterTheStatus(t *testing.T) {
	h := func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Trailer", "X-Sum, X-Early")
		w.Header().Set("X-Early", "set before the status")
		w.Header().Set(http.TrailerPrefix+"X-Prefixed", "also before")
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, "body")
		w.Header().Set("X-Sum", "abc")
		w.Header().Set(http.TrailerPrefix+"X-Extra", "def")
	}
	for _, p := range protos {
		t.Run(p.name, func(t *testing.T) {
			ts := httptest.NewUnstartedServer(holdPooled(&poolOf1{})(http.HandlerFunc(h)))
			ts.EnableHTTP2 = p.h2
			ts.StartTLS()
			defer ts.Close()
			c := ts.Client()
			c.Timeout = 10 * time.Second
			for i := range 3 { // the second and third reuse the Writer
				res, err := c.Get(ts.URL)
				if err != nil {
					t.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.Trailer.Get("X-Sum") != "abc" || res.Trailer.Get("X-Extra") != "def" ||
					res.Trailer.Get("X-Early") != "set before the status" || res.Trailer.Get("X-Prefixed") != "also before" {
					t.Errorf("request %d: trailers %q, want X-Sum, X-Extra, X-Early and X-Prefixed", i, res.Trailer)
				}
			}
		})
	}
}

// mapRW is an in-memory ResponseWriter whose header map the test keeps.
type mapRW struct {
	h     http.Header
	codes []int
	body  strings.Builder
}

func (m *mapRW) Header() http.Header         { return m.h }
func (m *mapRW) WriteHeader(code int)        { m.codes = append(m.codes, code) }
func (m *mapRW) Write(p []byte) (int, error) { return m.body.Write(p) }

// A pooled Writer carries nothing from request A into request B: not A's
// Vary registrations, not its detached header copy or trailer values, not
// its status, hijack or tidiness flags; and nothing B does changes what A's
// header map holds (net/http may still be reading A's trailers).
func TestPooledWriterCarriesNothingToTheNextRequest(t *testing.T) {
	var h pooledHolder
	a := &mapRW{h: http.Header{}}
	h.Reset(a, &h)
	for _, v := range [][]string{{"A1"}, {"A2"}, {"A3"}, {"A4"}} {
		h.Vary(v)
	}
	if h.Vary([]string{"A5"}) {
		t.Fatal("a fifth registration was accepted")
	}
	w := &h.Writer
	w.Header().Set("Trailer", "X-Sum, X-Early")
	w.Header().Set("X-Early", "early-a")
	w.Header().Set(http.TrailerPrefix+"X-Prefixed", "prefixed-a")
	w.Header().Set("X-A", "a")
	w.Header()["etag"] = []string{`"a"`}
	w.WriteHeader(http.StatusTeapot)
	w.Header().Set("X-Sum", "sum-a")
	w.Header().Set(http.TrailerPrefix+"X-Extra", "extra-a")
	w.Header().Set("X-A-Late", "late")
	h.SendHeader()
	h.Done()
	aSnapshot := a.h.Clone()
	h.Reset(nil, nil)

	// Request B, on the same Writer: commits and holds, writes late headers
	// and trailers of its own.
	b := &mapRW{h: http.Header{}}
	h.Reset(b, &h)
	if w.Status() != 0 || w.Committed() || w.HeaderSent() || w.Hijacked() || w.Written() != 0 {
		t.Errorf("B starts with Status %d Committed %v HeaderSent %v Hijacked %v Written %d", w.Status(), w.Committed(), w.HeaderSent(), w.Hijacked(), w.Written())
	}
	if len(w.Header()) != 0 {
		t.Errorf("B's header before its commit: %v", w.Header())
	}
	w.Header().Set("X-B", "b")
	w.WriteHeader(http.StatusOK)
	if got := w.Header(); len(got) != 1 || got.Get("X-B") != "b" {
		t.Errorf("B's detached header copy: %v, want only X-B", got)
	}
	w.Header().Set("X-B-Late", "late")
	h.SendHeader()
	h.Done()
	if want := (http.Header{"X-B": {"b"}}); !equalHeader(b.h, want) {
		t.Errorf("B's header %v, want %v (nothing of A: no Vary, no Trailer, no late fields)", b.h, want)
	}
	if !equalHeader(a.h, aSnapshot) {
		t.Errorf("A's header changed by B: %v, was %v", a.h, aSnapshot)
	}
	if got := strings.Join([]string{aSnapshot.Get("X-Sum"), aSnapshot.Get(http.TrailerPrefix + "X-Extra"),
		aSnapshot.Get("X-Early"), aSnapshot.Get(http.TrailerPrefix + "X-Prefixed")}, " "); got != "sum-a extra-a early-a prefixed-a" {
		t.Errorf("A's trailer values %q, want %q", got, "sum-a extra-a early-a prefixed-a")
	}
	if v := varyTokens(aSnapshot); !slices.Equal(v, []string{"a1", "a2", "a3", "a4"}) {
		t.Errorf("A's Vary %q", v)
	}
	h.Reset(nil, nil)
	if !equalHeader(a.h, aSnapshot) || b.h.Get("X-B") != "b" {
		t.Errorf("Reset changed a finished response's header map: A %v, B %v", a.h, b.h)
	}
}

func equalHeader(a, b http.Header) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || !slices.Equal(v, w) {
			return false
		}
	}
	return true
}

// failingReader fails on its first Read, as a file or upstream body may.
type failingReader struct{}

var errSource = errors.New("source failed")

func (failingReader) Read([]byte) (int, error) { return 0, errSource }

// io.Copy from a source that yields nothing commits no status, as with a
// bare net/http writer (its ReadFrom writes nothing before the source has
// bytes): the handler can still answer with an error status.
func TestReadFromWithoutBytesCommitsNothing(t *testing.T) {
	h := func(w http.ResponseWriter, r *http.Request) {
		var src io.Reader = failingReader{}
		if r.URL.Query().Has("empty") {
			src = onlyReader("") // no WriteTo: io.Copy takes ReadFrom
		}
		if _, err := io.Copy(w, src); err != nil || r.URL.Query().Has("empty") {
			http.Error(w, "no source", http.StatusBadGateway)
		}
	}
	for _, q := range []string{"", "?empty"} {
		name := map[string]string{"": "failing", "?empty": "empty"}[q]
		t.Run(name, func(t *testing.T) {
			forEach(t, true, h, func(t *testing.T, r *rig) {
				req, _ := http.NewRequest(http.MethodGet, r.url+q, nil)
				res, body := r.do(t, req)
				r.wait(t)
				if res.StatusCode != http.StatusBadGateway || body != r.st.want("no source\n") {
					t.Errorf("got %d %q, want 502 %q", res.StatusCode, body, r.st.want("no source\n"))
				}
			})
		})
	}
}

// A Hijack that cannot succeed (nothing below can hijack: HTTP/2, a
// recorder) changes nothing: a held status stays held, so that the
// interceptor can still edit the header it sends.
func TestFailedHijackKeepsHeldStatus(t *testing.T) {
	t.Run("in memory", func(t *testing.T) {
		var h holder
		rw := &mapRW{h: http.Header{}}
		h.Reset(rw, &h)
		h.WriteHeader(http.StatusOK)
		if _, _, err := h.Hijack(); !errors.Is(err, http.ErrNotSupported) {
			t.Fatalf("Hijack: %v, want ErrNotSupported", err)
		}
		if h.HeaderSent() || len(rw.codes) != 0 || h.Hijacked() {
			t.Errorf("after a failed Hijack: HeaderSent %v, codes sent %v, Hijacked %v; want nothing sent", h.HeaderSent(), rw.codes, h.Hijacked())
		}
	})
	t.Run("HTTP2", func(t *testing.T) {
		ts := httptest.NewUnstartedServer(holdMW(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(http.StatusAccepted)
			if _, _, err := http.NewResponseController(w).Hijack(); !errors.Is(err, http.ErrNotSupported) {
				t.Errorf("Hijack: %v", err)
			}
			_, _ = io.WriteString(w, "abc")
		})))
		ts.EnableHTTP2 = true
		ts.StartTLS()
		defer ts.Close()
		c := ts.Client()
		c.Timeout = 10 * time.Second
		res, err := c.Get(ts.URL)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusAccepted || res.Header.Get("X-Held-Length") != "3" || string(body) != "abc" {
			t.Errorf("got %d X-Held-Length=%q %q; want 202, 3, abc", res.StatusCode, res.Header.Get("X-Held-Length"), body)
		}
	})
}

// A trailer value the handler removes after the status is not sent, as
// with a bare net/http writer (which reads the values when the handler
// returns), also when a layer holds the status.
func TestTrailerRemovedAfterTheStatusIsNotSent(t *testing.T) {
	h := func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Trailer", "X-Sum")
		w.Header().Set(http.TrailerPrefix+"X-Gone", "early")
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, "body")
		w.Header().Set("X-Sum", "abc")
		w.Header().Del(http.TrailerPrefix + "X-Gone")
	}
	forEachHolding(t, h, func(t *testing.T, res *http.Response, body string) {
		if res.Trailer.Get("X-Sum") != "abc" || res.Trailer.Get("X-Gone") != "" {
			t.Errorf("trailers %q, want X-Sum: abc and no X-Gone", res.Trailer)
		}
	})
}

// More layers than one Writer holds registrations for (maxVary, 4): the
// ones writer.Vary refuses wrap with a Writer of their own, and every
// dimension still arrives once, also when the handler replaces Vary.
func TestVaryRegistrationsBeyondOneWritersSlots(t *testing.T) {
	names := []string{"A1", "A2", "A3", "A4", "A5", "A6"}
	mws := []func(http.Handler) http.Handler{varyLayer([]string{"Origin"}, true)}
	for _, n := range names {
		mws = append(mws, varyLayer([]string{n}, false))
	}
	var outer *writer.Writer
	h := chain(mws...)(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		outer, _ = w.(*writer.Writer)
		w.Header().Set("Vary", "a3, Accept")
		w.WriteHeader(http.StatusOK)
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	want := []string{"a1", "a2", "a3", "a4", "a5", "a6", "accept", "origin"}
	if got := varyTokens(rec.Result().Header); !slices.Equal(got, want) {
		t.Errorf("Vary %q: tokens %q, want %q", rec.Result().Header.Values("Vary"), got, want)
	}
	if outer == nil {
		t.Fatal("the handler got no Writer")
	}
	if writer.Vary(outer, []string{"Late"}) {
		t.Error("writer.Vary registered on a committed Writer")
	}
}

// Vary "*" from the handler stands alone whatever was registered, and a
// registered "*" replaces the handler's list (RFC 9110 §12.5.5).
func TestVaryStarAgainstRegistrations(t *testing.T) {
	for _, tc := range []struct {
		desc       string
		registered []string
		handler    []string // Vary lines the handler leaves
		want       []string
	}{
		{"handler *", []string{"Origin", "Accept-Encoding"}, []string{"Accept", "*"}, []string{"*"}},
		{"registered *", []string{"*"}, []string{"Accept"}, []string{"*"}},
		{"registered list with *", []string{"Origin, *"}, nil, []string{"*"}},
		{"* in a non-canonical key", []string{"Origin"}, nil, []string{"*"}},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			rec := httptest.NewRecorder()
			w := writer.New(rec, nil)
			w.Vary(tc.registered)
			if tc.handler != nil {
				w.Header()["Vary"] = tc.handler
			} else if tc.desc == "* in a non-canonical key" {
				w.Header()["VARY"] = []string{"*"}
			}
			w.WriteHeader(http.StatusNoContent)
			if got := rec.Result().Header["Vary"]; !slices.Equal(got, tc.want) {
				t.Errorf("Vary %q, want %q", got, tc.want)
			}
		})
	}
}

// A handler that panics while a layer holds its status sends nothing of the
// held response (as with net/http, which had not sent the buffered one
// either), and a pooled Writer put back by a deferred Reset serves the next
// request as new.
func TestPanicWithHeldStatus(t *testing.T) {
	var pool poolOf1
	mw := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			h := pool.get()
			h.buf = h.buf[:0]
			h.Reset(rw, h)
			defer func() {
				h.Reset(nil, nil)
				pool.put(h)
			}()
			next.ServeHTTP(&h.Writer, r)
			if h.Committed() {
				h.SendHeader()
				_, _ = h.WriteDown(h.buf)
			}
			h.Done()
		})
	}
	h := func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Has("panic") {
			w.Header().Set("Trailer", "X-Sum")
			w.Header().Set("X-Panicked", "1")
			w.WriteHeader(http.StatusTeapot)
			_, _ = io.WriteString(w, "partial")
			w.Header().Set("X-Sum", "leaked")
			panic(http.ErrAbortHandler)
		}
		_, _ = io.WriteString(w, "fine")
	}
	for _, p := range protos {
		for _, wrapped := range []bool{false, true} {
			name := p.name + map[bool]string{false: "/bare", true: "/held"}[wrapped]
			t.Run(name, func(t *testing.T) {
				var hh http.Handler = http.HandlerFunc(h)
				if wrapped {
					hh = mw(hh)
				}
				ts := httptest.NewUnstartedServer(hh)
				ts.EnableHTTP2 = p.h2
				ts.StartTLS()
				defer ts.Close()
				c := ts.Client()
				c.Timeout = 10 * time.Second
				if res, err := c.Get(ts.URL + "?panic"); err == nil {
					_, err = io.ReadAll(res.Body)
					res.Body.Close()
					if err == nil {
						t.Errorf("a panicking handler's response arrived: %d", res.StatusCode)
					}
				}
				res, err := c.Get(ts.URL)
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(res.Body)
				res.Body.Close()
				if res.StatusCode != http.StatusOK || string(body) != "fine" || res.Header.Get("X-Panicked") != "" ||
					res.Header.Get("Trailer") != "" || len(res.Trailer) != 0 {
					t.Errorf("next request: %d %q, header %v, trailers %v", res.StatusCode, body, res.Header, res.Trailer)
				}
			})
		}
	}
}

// http.ResponseController deadlines set from another goroutine while the
// handler writes and flushes through the Writers (a watchdog does so) race
// with nothing (run with -race).
func TestConcurrentDeadlinesWhileWriting(t *testing.T) {
	h := func(w http.ResponseWriter, _ *http.Request) {
		rc := http.NewResponseController(w)
		stop := make(chan struct{})
		done := make(chan struct{})
		go func() {
			defer close(done)
			for {
				select {
				case <-stop:
					return
				default:
				}
				far := time.Now().Add(time.Minute)
				_ = rc.SetWriteDeadline(far)
				_ = rc.SetReadDeadline(far)
			}
		}()
		for range 50 {
			if _, err := io.WriteString(w, "chunk "); err != nil {
				break
			}
			if err := rc.Flush(); err != nil {
				break
			}
		}
		close(stop)
		<-done
	}
	forEach(t, false, h, func(t *testing.T, r *rig) {
		res, body := r.get(t, http.MethodGet)
		r.wait(t)
		if want := r.st.want(strings.Repeat("chunk ", 50)); res.StatusCode != http.StatusOK || body != want {
			t.Errorf("got %d, %d bytes; want 200, %d bytes", res.StatusCode, len(body), len(want))
		}
	})
}

// ReadFrom through reused Writers allocates nothing of its own, with and
// without a transform (its copy buffer is pooled; io.Copy allocated 32 KiB
// a call where a BodyInterceptor stands).
func TestReadFromPooledAllocations(t *testing.T) {
	rw := &discardRW{h: make(http.Header)}
	src := strings.NewReader("")
	var only io.Reader = struct{ io.Reader }{src} // no WriteTo: ReadFrom copies
	var o observer
	var p pooledBody
	for _, transform := range []bool{false, true} {
		n := testing.AllocsPerRun(100, func() {
			src.Reset("some body bytes")
			o.Reset(rw, &o)
			var w io.ReaderFrom = &o.Writer
			if transform {
				p.Reset(&o.Writer, &p)
				w = &p.Writer
			}
			if _, err := w.ReadFrom(only); err != nil {
				t.Fatal(err)
			}
		})
		if n != 0 {
			t.Errorf("transform %v: %v allocations per ReadFrom", transform, n)
		}
	}
}
