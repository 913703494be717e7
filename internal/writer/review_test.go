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
