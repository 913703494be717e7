package idempotency_test

import (
	"context"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jiec/httpmw/idempotency"
)

// Found in review: trailers must survive the held response (net/http drops
// them when a Content-Length is set) and be replayed.
func TestTrailersAreSentAndReplayed(t *testing.T) {
	for _, h2 := range []bool{false, true} {
		t.Run(map[bool]string{false: "HTTP/1.1", true: "HTTP/2"}[h2], func(t *testing.T) { testTrailers(t, h2) })
	}
}

func testTrailers(t *testing.T, h2 bool) {
	var runs atomic.Int64
	h := newMW(t, idempotency.Config{}).Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		runs.Add(1)
		w.Header().Set("Trailer", "X-Checksum")
		w.WriteHeader(201)
		io.WriteString(w, "hello")
		w.Header().Set("X-Checksum", "abc")
		w.Header().Set(http.TrailerPrefix+"X-Late", "z")
	}))
	srv := httptest.NewUnstartedServer(h)
	if h2 {
		srv.EnableHTTP2 = true
		srv.StartTLS()
	} else {
		srv.Start()
	}
	defer srv.Close()
	for i := range 2 {
		req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader("a"))
		req.Header.Set("Idempotency-Key", "k")
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if (resp.ProtoMajor == 2) != h2 {
			t.Fatalf("HTTP/%d", resp.ProtoMajor)
		}
		if resp.StatusCode != 201 || string(b) != "hello" || resp.Trailer.Get("X-Checksum") != "abc" ||
			resp.Trailer.Get("X-Late") != "z" || resp.Header.Get("X-Checksum") != "" {
			t.Errorf("response %d: %d %q header %v trailer %v", i, resp.StatusCode, b, resp.Header, resp.Trailer)
		}
		if replayed := resp.Header.Get(idempotency.ReplayedHeader) == "true"; replayed != (i == 1) {
			t.Errorf("response %d: replayed %v", i, replayed)
		}
	}
	if runs.Load() != 1 {
		t.Errorf("runs %d", runs.Load())
	}
}

// The wire form of first response and replay: same framing, no
// Transfer-Encoding next to Content-Length, no length on 204/304.
func TestReplayFramingOnTheWire(t *testing.T) {
	for _, tt := range []struct {
		code int
		cl   string // "" = none
	}{{200, "0"}, {201, "3"}, {204, ""}, {205, "0"}, {304, ""}} {
		h := newMW(t, idempotency.Config{}).Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("ETag", `"x"`)
			w.Header().Set("Content-Length", "999")
			w.Header().Set("Transfer-Encoding", "chunked")
			w.WriteHeader(tt.code)
			if tt.code == 201 {
				io.WriteString(w, "abc")
			}
		}))
		srv := httptest.NewServer(h)
		var raws []string
		for range 2 {
			c, err := net.Dial("tcp", srv.Listener.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			io.WriteString(c, "POST / HTTP/1.1\r\nHost: x\r\nIdempotency-Key: k\r\nContent-Length: 1\r\nConnection: close\r\n\r\na")
			b, _ := io.ReadAll(c)
			c.Close()
			raws = append(raws, string(b))
		}
		srv.Close()
		for i, raw := range raws {
			hasCL := strings.Contains(raw, "\r\nContent-Length: "+tt.cl+"\r\n")
			if strings.Contains(raw, "Transfer-Encoding") || (tt.cl != "") != hasCL || (tt.cl == "" && strings.Contains(raw, "Content-Length")) {
				t.Errorf("%d response %d:\n%s", tt.code, i, raw)
			}
		}
		strip := func(s string) string {
			s = strings.Replace(s, "Idempotent-Replayed: true\r\n", "", 1)
			i := strings.Index(s, "Date: ")
			return s[:i] + s[i+len("Date: Tue, 01 Dec 2026 00:00:00 GMT"):]
		}
		if strip(raws[0]) != strip(raws[1]) {
			t.Errorf("%d: replay differs:\n%q\n%q", tt.code, raws[0], raws[1])
		}
	}
}

type unsentBody struct{}

func (unsentBody) Read([]byte) (int, error) { return 0, io.ErrUnexpectedEOF }
func (unsentBody) Close() error             { return nil }

// Found in review: a client announcing a large Content-Length and sending
// nothing made the middleware allocate that much at once.
func TestAnnouncedContentLengthIsNotAllocatedAhead(t *testing.T) {
	h := newMW(t, idempotency.Config{MaxBodyBytes: 1 << 30}).Handler(&payment{})
	r := post("k", "")
	r.Body = unsentBody{}
	r.ContentLength = 1 << 30
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	w := do(h, r)
	runtime.ReadMemStats(&after)
	problemStatus(t, w, 400)
	if n := after.TotalAlloc - before.TotalAlloc; n > 1<<20 {
		t.Fatalf("allocated %d bytes for a body never sent", n)
	}
}

// Found in review: MaxBodyBytes = math.MaxInt64 (no practical limit)
// overflowed the read limit and handed the handler an empty body.
func TestMaxBodyBytesMaxInt64KeepsTheBody(t *testing.T) {
	h := newMW(t, idempotency.Config{MaxBodyBytes: math.MaxInt64}).Handler(&payment{})
	if w := do(h, post("k", "abc")); !strings.Contains(w.Body.String(), `"echo":"abc"`) {
		t.Fatalf("handler saw %s", w.Body)
	}
}

func TestBodyLimitEdges(t *testing.T) {
	for _, tt := range []struct {
		name string
		body string
		cl   int64
		want int
		seen string
	}{
		{"exactly the cap", "1234", 4, 201, "1234"},
		{"exactly the cap, chunked", "1234", -1, 201, "1234"},
		{"one over, chunked", "12345", -1, 413, ""},
		{"Content-Length smaller than the body", "12345", 3, 413, ""},
		{"Content-Length over the cap", "12", 5, 413, ""},
		{"Content-Length larger than the body", "12", 4, 201, "12"},
		{"empty chunked body", "", -1, 201, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var seen string
			var cl int64
			h := newMW(t, idempotency.Config{MaxBodyBytes: 4}).Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				seen, cl = string(b), r.ContentLength
				w.WriteHeader(201)
			}))
			r := post("k", "")
			r.Body = io.NopCloser(strings.NewReader(tt.body))
			r.ContentLength = tt.cl
			w := do(h, r)
			if w.Code != tt.want || seen != tt.seen {
				t.Fatalf("%d, handler saw %q", w.Code, seen)
			}
			if tt.want == 201 && cl != int64(len(seen)) {
				t.Fatalf("ContentLength %d for %d bytes", cl, len(seen))
			}
		})
	}
}

// The fencing token: a holder whose lease expired cannot complete or
// release over the request that took the key after it.
func TestMemoryStoreLateHolderCannotOverwrite(t *testing.T) {
	s, _ := idempotency.NewMemoryStore(idempotency.MemoryConfig{})
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s.SetClock(func() time.Time { return now })
	ctx := context.Background()
	a, _ := s.Acquire(ctx, "k", "fp", time.Second)
	now = now.Add(time.Second)
	b, _ := s.Acquire(ctx, "k", "fp", time.Second)
	if !b.Acquired || b.Token == a.Token {
		t.Fatalf("%+v %+v", a, b)
	}
	if err := s.Complete(ctx, "k", a.Token, idempotency.Record{Fingerprint: "fp", Status: 201, Body: []byte("A")}, time.Hour); err != idempotency.ErrLeaseLost {
		t.Fatalf("late Complete during B's lease: %v", err)
	}
	if err := s.Complete(ctx, "k", b.Token, idempotency.Record{Fingerprint: "fp", Status: 201, Body: []byte("B")}, time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := s.Complete(ctx, "k", a.Token, idempotency.Record{Fingerprint: "fp", Status: 201, Body: []byte("A")}, time.Hour); err != idempotency.ErrLeaseLost {
		t.Fatalf("late Complete after B's record: %v", err)
	}
	if err := s.Release(ctx, "k", a.Token); err != idempotency.ErrLeaseLost {
		t.Fatalf("late Release: %v", err)
	}
	if l, _ := s.Acquire(ctx, "k", "fp", time.Second); l.Record == nil || string(l.Record.Body) != "B" {
		t.Fatalf("%+v", l)
	}
}

// Found in review: a nil *Middleware panicked on every request; like the
// module's other packages, nil and zero Middlewares pass requests through.
func TestNilAndZeroMiddlewarePassThrough(t *testing.T) {
	var nilMW *idempotency.Middleware
	var zero idempotency.Middleware
	for name, m := range map[string]*idempotency.Middleware{"nil": nilMW, "zero": &zero} {
		p := &payment{}
		h := m.Handler(p)
		do(h, post("k", "a"))
		if w := do(h, post("k", "a")); w.Code != 201 || p.runs.Load() != 2 {
			t.Errorf("%s: %d, runs %d", name, w.Code, p.runs.Load())
		}
	}
}

type completeFails struct{ *idempotency.MemoryStore }

func (completeFails) Complete(context.Context, string, string, idempotency.Record, time.Duration) error {
	return idempotency.ErrStoreClosed
}

// When storing fails the handler has run: its client gets the response,
// and the key stays leased (409) rather than free for a second run.
func TestCompleteFailureStillAnswersAndKeepsTheLease(t *testing.T) {
	s, _ := idempotency.NewMemoryStore(idempotency.MemoryConfig{})
	p := &payment{}
	h := newMW(t, idempotency.Config{Store: completeFails{s}}).Handler(p)
	if w := do(h, post("k", "abc")); w.Code != 201 || w.Header().Get("Content-Length") == "" {
		t.Fatalf("%d %v", w.Code, w.Header())
	}
	problemStatus(t, do(h, post("k", "abc")), 409)
	if p.runs.Load() != 1 {
		t.Fatalf("runs %d", p.runs.Load())
	}
}

// Found in review: the pooled body the handler read stayed in the caller's
// *http.Request, so an outer middleware that drains r.Body after next (a
// common keep-alive idiom) read whatever request reused it next.
func TestRequestBodyIsNotLeftPooledInTheCallersRequest(t *testing.T) {
	h := newMW(t, idempotency.Config{}).Handler(&payment{})
	r := post("k", "secret")
	orig := r.Body
	do(h, r)
	if r.Body != orig {
		t.Fatalf("r.Body is %T after the middleware returned, not the request's own body", r.Body)
	}
	// And an outer reader of the old body after the next request started
	// sees nothing of it.
	var leaked []byte
	outer := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r)
		stale := r.Body
		second := post("k2", "other client's payment")
		h2 := newMW(t, idempotency.Config{}).Handler(http.HandlerFunc(func(w http.ResponseWriter, r2 *http.Request) {
			leaked, _ = io.ReadAll(stale)
			io.ReadAll(r2.Body)
		}))
		do(h2, second)
	})
	do(outer, post("k3", "first"))
	if len(leaked) != 0 {
		t.Fatalf("stale body read %q", leaked)
	}
}

// Found in review: with records of different TTLs in one store (two
// middlewares sharing it), an expired record behind a live older one was
// kept while the live one was evicted; likewise an expired lease behind a
// live one with a longer timeout.
func TestMemoryStoreEvictsExpiredBeforeLiveWithMixedTTLs(t *testing.T) {
	s, now := clockStore(t, idempotency.MemoryConfig{MaxEntries: 3})
	put := func(key string, ttl time.Duration) {
		l, err := s.Acquire(ctx, key, "fp", time.Minute)
		if err != nil || !l.Acquired {
			t.Fatalf("Acquire %s: %+v %v", key, l, err)
		}
		if err := s.Complete(ctx, key, l.Token, idempotency.Record{Fingerprint: "fp", Status: 201}, ttl); err != nil {
			t.Fatal(err)
		}
	}
	put("day", 24*time.Hour)  // oldest, live for a day
	put("hour", time.Hour)    // expires first
	put("day2", 24*time.Hour) // live
	*now = now.Add(2 * time.Hour)
	put("new", 24*time.Hour) // needs one slot: "hour" is expired
	for _, k := range []string{"day", "day2", "new"} {
		if l, _ := s.Acquire(ctx, k, "fp", time.Minute); l.Record == nil {
			t.Errorf("live record %s evicted while an expired one was kept", k)
		}
	}

	// Leases: a long lease first, then a short one that expires.
	s2, now2 := clockStore(t, idempotency.MemoryConfig{MaxEntries: 3})
	long, _ := s2.Acquire(ctx, "long", "fp", time.Hour)
	s2.Acquire(ctx, "short", "fp", time.Second)
	l, _ := s2.Acquire(ctx, "r", "fp", time.Minute)
	s2.Complete(ctx, "r", l.Token, idempotency.Record{Fingerprint: "fp", Status: 201}, time.Hour)
	*now2 = now2.Add(time.Minute)
	if l, err := s2.Acquire(ctx, "x", "fp", time.Minute); err != nil || !l.Acquired {
		t.Fatalf("Acquire x: %+v %v", l, err)
	}
	if l, _ := s2.Acquire(ctx, "r", "fp", time.Minute); l.Record == nil {
		t.Error("live record evicted while an expired lease was kept")
	}
	if err := s2.Release(ctx, "long", long.Token); err != nil {
		t.Errorf("live lease lost: %v", err)
	}
}

// Found in review: the status and header fields the handler wrote before
// hijacking were held by the middleware and lost (the client read a
// malformed response); net/http sends them on the connection it hands over.
// The response must look as it does without the middleware.
func TestHijackAfterWriteHeaderLooksAsWithoutTheMiddleware(t *testing.T) {
	var runs atomic.Int64
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		runs.Add(1)
		w.Header().Set("Content-Length", "3")
		w.Header().Set("Connection", "close")
		w.Header().Set("X-Before", "1")
		w.WriteHeader(201)
		c, rw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		rw.WriteString("raw")
		rw.Flush()
		c.Close()
	})
	get := func(h http.Handler) string {
		srv := httptest.NewServer(h)
		defer srv.Close()
		req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader("a"))
		req.Header.Set("Idempotency-Key", "k")
		resp, err := srv.Client().Do(req)
		if err != nil {
			return err.Error()
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp.Status + " " + resp.Header.Get("X-Before") + " " + string(b)
	}
	want := get(handler)
	// The client reads the hijacked response before the middleware has
	// released the lease: wait for the middleware to return each time.
	returned := make(chan struct{}, 2)
	inner := newMW(t, idempotency.Config{}).Handler(handler)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		inner.ServeHTTP(w, r)
		returned <- struct{}{}
	})
	for i := range 2 {
		if got := get(h); got != want {
			t.Fatalf("request %d: %q, without the middleware %q", i, got, want)
		}
		<-returned
	}
	if runs.Load() != 3 {
		t.Fatalf("runs %d: a hijacked response is not stored", runs.Load())
	}
}

// On HTTP/2 Hijack fails: a handler that tries it and then answers normally
// still has its response stored.
func TestFailedHijackKeepsTheResponseStored(t *testing.T) {
	var runs atomic.Int64
	h := newMW(t, idempotency.Config{}).Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		runs.Add(1)
		w.WriteHeader(201)
		if _, _, err := http.NewResponseController(w).Hijack(); err == nil {
			t.Error("hijacked an httptest.ResponseRecorder")
		}
		io.WriteString(w, "ok")
	}))
	do(h, post("k", "a"))
	if w := do(h, post("k", "a")); w.Code != 201 || w.Body.String() != "ok" || runs.Load() != 1 {
		t.Fatalf("%d %q runs %d", w.Code, w.Body, runs.Load())
	}
}

// Whichever way a keyed request with a body ends (stored, replayed, refused,
// the store down with or without FailOpen, the handler panicking), the
// caller's *http.Request gets its own body back: the pooled one must not stay
// in it.
func TestRequestBodyIsPutBackOnEveryPath(t *testing.T) {
	shared := newMW(t, idempotency.Config{}).Handler(&payment{})
	do(shared, post("seen", "a"))
	panics := newMW(t, idempotency.Config{}).Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		panic(http.ErrAbortHandler)
	}))
	for _, c := range []struct {
		name   string
		h      http.Handler
		key    string
		body   string
		status int
	}{
		{"stored", shared, "new", "a", 201},
		{"replayed", shared, "seen", "a", 201},
		{"key reused", shared, "seen", "other", 422},
		{"store down", newMW(t, idempotency.Config{Store: brokenStore{}}).Handler(&payment{}), "k", "a", 503},
		{"store down, FailOpen", newMW(t, idempotency.Config{Store: brokenStore{}, FailOpen: true}).Handler(&payment{}), "k", "a", 201},
		{"handler panics", panics, "k", "a", 0},
	} {
		r := post(c.key, c.body)
		orig := r.Body
		w := httptest.NewRecorder()
		func() {
			defer func() {
				if p := recover(); p != nil && c.status != 0 {
					panic(p)
				}
			}()
			c.h.ServeHTTP(w, r)
		}()
		if c.status != 0 && w.Code != c.status {
			t.Errorf("%s: status %d, want %d", c.name, w.Code, c.status)
		}
		if r.Body != orig {
			t.Errorf("%s: r.Body is %T after the middleware returned, not the request's own body", c.name, r.Body)
		}
	}
}
