package idempotency_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jiec/httpmw/idempotency"
)

// payment is a handler that counts its runs and answers 201 with a body
// naming the run.
type payment struct {
	runs   atomic.Int64
	status int
}

func (p *payment) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := p.runs.Add(1)
	body, _ := io.ReadAll(r.Body)
	status := p.status
	if status == 0 {
		status = http.StatusCreated
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Location", "/payments/"+strconv.FormatInt(n, 10))
	w.WriteHeader(status)
	io.WriteString(w, `{"run":`+strconv.FormatInt(n, 10)+`,"echo":`+strconv.Quote(string(body))+`}`)
}

func newMW(t *testing.T, cfg idempotency.Config) *idempotency.Middleware {
	t.Helper()
	m, err := idempotency.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func post(key, body string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/payments?x=1", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	if key != "" {
		r.Header.Set("Idempotency-Key", key)
	}
	return r
}

func do(h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func problemStatus(t *testing.T, w *httptest.ResponseRecorder, want int) {
	t.Helper()
	if w.Code != want {
		t.Fatalf("status %d, want %d; body %s", w.Code, want, w.Body)
	}
	if ct := w.Header().Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("Content-Type %q", ct)
	}
	var doc map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &doc); err != nil || doc["status"] != float64(want) {
		t.Fatalf("problem document %s (%v)", w.Body, err)
	}
}

func TestFirstRequestRunsRetryReplays(t *testing.T) {
	p := &payment{}
	h := newMW(t, idempotency.Config{}).Handler(p)
	first := do(h, post(`"k1"`, `{"amount":10}`))
	if first.Code != 201 || first.Header().Get(idempotency.ReplayedHeader) != "" {
		t.Fatalf("first: %d %v", first.Code, first.Header())
	}
	if got := first.Header().Get("Content-Length"); got != strconv.Itoa(first.Body.Len()) {
		t.Fatalf("first Content-Length %q for %d bytes", got, first.Body.Len())
	}
	for _, key := range []string{`"k1"`, `k1`} { // both forms name one key
		again := do(h, post(key, `{"amount":10}`))
		if again.Code != 201 || again.Body.String() != first.Body.String() {
			t.Fatalf("replay %d %q, want %q", again.Code, again.Body, first.Body)
		}
		if again.Header().Get(idempotency.ReplayedHeader) != "true" {
			t.Fatalf("no replay marker: %v", again.Header())
		}
		for _, f := range []string{"Location", "Content-Type", "Content-Length"} {
			if again.Header().Get(f) != first.Header().Get(f) {
				t.Fatalf("%s: %q, want %q", f, again.Header().Get(f), first.Header().Get(f))
			}
		}
	}
	if n := p.runs.Load(); n != 1 {
		t.Fatalf("handler ran %d times", n)
	}
}

func TestHandlerGetsTheBodyIntact(t *testing.T) {
	p := &payment{}
	h := newMW(t, idempotency.Config{}).Handler(p)
	w := do(h, post("k", `{"amount":10}`))
	if !strings.Contains(w.Body.String(), strconv.Quote(`{"amount":10}`)) {
		t.Fatalf("handler saw %s", w.Body)
	}
}

func TestRequestsWithoutKey(t *testing.T) {
	p := &payment{}
	h := newMW(t, idempotency.Config{}).Handler(p)
	do(h, post("", "a"))
	do(h, post("", "a"))
	if p.runs.Load() != 2 {
		t.Fatalf("runs %d", p.runs.Load())
	}
	problemStatus(t, do(newMW(t, idempotency.Config{Required: true}).Handler(p), post("", "a")), 400)
}

func TestSafeMethodsAndOthersPassThrough(t *testing.T) {
	p := &payment{}
	h := newMW(t, idempotency.Config{}).Handler(p)
	for _, m := range []string{http.MethodGet, http.MethodPut, http.MethodDelete} {
		for range 2 {
			r := httptest.NewRequest(m, "/", nil)
			r.Header.Set("Idempotency-Key", "k")
			do(h, r)
		}
	}
	if p.runs.Load() != 6 {
		t.Fatalf("runs %d", p.runs.Load())
	}
}

func TestMalformedKeyIs400(t *testing.T) {
	h := newMW(t, idempotency.Config{}).Handler(&payment{})
	for _, key := range []string{`""`, `"unterminated`, strings.Repeat("k", 256), `a b`, `"a","b"`} {
		problemStatus(t, do(h, post(key, "a")), 400)
	}
	r := post("a", "a")
	r.Header.Add("Idempotency-Key", "b")
	problemStatus(t, do(h, r), 400)
}

func TestBodyOverMaxBodyBytesIs413(t *testing.T) {
	p := &payment{}
	h := newMW(t, idempotency.Config{MaxBodyBytes: 8}).Handler(p)
	problemStatus(t, do(h, post("k", "123456789")), 413)
	r := post("k2", "")
	r.Body = io.NopCloser(strings.NewReader("123456789")) // no Content-Length
	r.ContentLength = -1
	problemStatus(t, do(h, r), 413)
	if w := do(h, post("k3", "12345678")); w.Code != 201 {
		t.Fatalf("8 bytes: %d", w.Code)
	}
	if p.runs.Load() != 1 {
		t.Fatalf("runs %d", p.runs.Load())
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("connection reset") }

func TestUnreadableBodyIs400(t *testing.T) {
	r := post("k", "")
	r.Body = io.NopCloser(errReader{})
	problemStatus(t, do(newMW(t, idempotency.Config{}).Handler(&payment{}), r), 400)
}

// gate is a handler that blocks until released.
type gate struct {
	entered chan struct{}
	release chan struct{}
	runs    atomic.Int64
}

func newGate() *gate { return &gate{entered: make(chan struct{}, 16), release: make(chan struct{})} }

func (g *gate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := g.runs.Add(1)
	g.entered <- struct{}{}
	<-g.release
	w.WriteHeader(http.StatusCreated)
	io.WriteString(w, "run "+strconv.FormatInt(n, 10))
}

func TestConcurrentRetryIs409WithRetryAfter(t *testing.T) {
	g := newGate()
	h := newMW(t, idempotency.Config{LeaseTimeout: 10 * time.Second}).Handler(g)
	done := make(chan *httptest.ResponseRecorder)
	go func() { done <- do(h, post("k", "a")) }()
	<-g.entered
	w := do(h, post("k", "a"))
	problemStatus(t, w, 409)
	if ra, err := strconv.Atoi(w.Header().Get("Retry-After")); err != nil || ra < 1 || ra > 10 {
		t.Fatalf("Retry-After %q", w.Header().Get("Retry-After"))
	}
	// Another request with the key while the first runs: 422, not 409.
	problemStatus(t, do(h, post("k", "other body")), 422)
	close(g.release)
	if first := <-done; first.Code != 201 {
		t.Fatalf("first %d", first.Code)
	}
	if w := do(h, post("k", "a")); w.Code != 201 || w.Body.String() != "run 1" {
		t.Fatalf("after: %d %q", w.Code, w.Body)
	}
}

func TestKeyReusedForAnotherRequestIs422(t *testing.T) {
	p := &payment{}
	h := newMW(t, idempotency.Config{FingerprintHeaders: []string{"Prefer"}}).Handler(p)
	do(h, post("k", "a"))
	otherPath := post("k", "a")
	otherPath.URL.Path = "/refunds"
	otherQuery := post("k", "a")
	otherQuery.URL.RawQuery = "x=2"
	otherMethod := post("k", "a")
	otherMethod.Method = http.MethodPatch
	otherType := post("k", "a")
	otherType.Header.Set("Content-Type", "text/plain")
	otherPrefer := post("k", "a")
	otherPrefer.Header.Set("Prefer", "respond-async")
	otherPrecondition := post("k", "a")
	otherPrecondition.Header.Set("If-Match", `"v2"`)
	for name, r := range map[string]*http.Request{"body": post("k", "b"), "path": otherPath,
		"query": otherQuery, "method": otherMethod, "content type": otherType, "configured header": otherPrefer,
		"precondition": otherPrecondition} {
		t.Run(name, func(t *testing.T) { problemStatus(t, do(h, r), 422) })
	}
	if p.runs.Load() != 1 {
		t.Fatalf("runs %d", p.runs.Load())
	}
}

func TestRouteGivesEachRouteItsOwnKeys(t *testing.T) {
	p := &payment{}
	h := newMW(t, idempotency.Config{Route: func(r *http.Request) string { return r.Method + " " + r.URL.Path }}).Handler(p)
	do(h, post("k", "a"))
	r := post("k", "a")
	r.URL.Path = "/refunds"
	if w := do(h, r); w.Code != 201 || p.runs.Load() != 2 {
		t.Fatalf("%d, runs %d", w.Code, p.runs.Load())
	}
}

func TestWhatIsNotStored(t *testing.T) {
	for _, tt := range []struct {
		name   string
		status int
		cfg    idempotency.Config
		stored bool
	}{
		{"500 by default", 500, idempotency.Config{}, false},
		{"503 by default", 503, idempotency.Config{}, false},
		{"500 with StoreServerErrors", 500, idempotency.Config{StoreServerErrors: true}, true},
		{"408", 408, idempotency.Config{}, false},
		{"409", 409, idempotency.Config{}, false},
		{"429", 429, idempotency.Config{StoreServerErrors: true}, false},
		{"400 is the handler's final word", 400, idempotency.Config{}, true},
		{"422 is the handler's final word", 422, idempotency.Config{}, true},
		{"204", 204, idempotency.Config{}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := &payment{status: tt.status}
			h := newMW(t, tt.cfg).Handler(p)
			do(h, post("k", "a"))
			w := do(h, post("k", "a"))
			if w.Code != tt.status {
				t.Fatalf("status %d", w.Code)
			}
			want := int64(2)
			if tt.stored {
				want = 1
			}
			if p.runs.Load() != want {
				t.Fatalf("runs %d, want %d", p.runs.Load(), want)
			}
		})
	}
}

func TestNoContentReplayHasNoBody(t *testing.T) {
	h := newMW(t, idempotency.Config{}).Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	}))
	do(h, post("k", "a"))
	w := do(h, post("k", "a"))
	if w.Code != 204 || w.Body.Len() != 0 || w.Header().Get("Content-Length") != "" {
		t.Fatalf("%d %q %v", w.Code, w.Body, w.Header())
	}
}

func TestHandlerThatWritesNothingIsStoredAs200(t *testing.T) {
	var runs atomic.Int64
	h := newMW(t, idempotency.Config{}).Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		runs.Add(1)
		w.Header().Set("X-Done", "yes")
	}))
	do(h, post("k", "a"))
	w := do(h, post("k", "a"))
	if w.Code != 200 || w.Header().Get("X-Done") != "yes" || w.Header().Get("Content-Length") != "0" || runs.Load() != 1 {
		t.Fatalf("%d %v runs %d", w.Code, w.Header(), runs.Load())
	}
}

func TestPanicReleasesTheLeaseAndRepanics(t *testing.T) {
	var runs atomic.Int64
	h := newMW(t, idempotency.Config{}).Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if runs.Add(1) == 1 {
			w.WriteHeader(201)
			io.WriteString(w, "partial")
			panic("boom")
		}
		w.WriteHeader(201)
	}))
	func() {
		defer func() {
			if v := recover(); v != "boom" {
				t.Fatalf("recovered %v", v)
			}
		}()
		do(h, post("k", "a"))
	}()
	if w := do(h, post("k", "a")); w.Code != 201 || runs.Load() != 2 {
		t.Fatalf("retry %d, runs %d", w.Code, runs.Load())
	}
}

func TestStreamedResponseIsNotStored(t *testing.T) {
	var runs atomic.Int64
	h := newMW(t, idempotency.Config{}).Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		runs.Add(1)
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, "data: 1\n\n")
		http.NewResponseController(w).Flush()
		io.WriteString(w, "data: 2\n\n")
	}))
	w := do(h, post("k", "a"))
	if !w.Flushed || w.Body.String() != "data: 1\n\ndata: 2\n\n" {
		t.Fatalf("flushed %v body %q", w.Flushed, w.Body)
	}
	do(h, post("k", "a"))
	if runs.Load() != 2 {
		t.Fatalf("runs %d", runs.Load())
	}
}

func TestBodyOverMaxStoredBytesIsSentNotStored(t *testing.T) {
	var runs atomic.Int64
	big := strings.Repeat("x", 100)
	h := newMW(t, idempotency.Config{MaxStoredBytes: 64}).Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		runs.Add(1)
		w.WriteHeader(201)
		for i := 0; i < len(big); i += 10 {
			io.WriteString(w, big[i:i+10])
		}
	}))
	if w := do(h, post("k", "a")); w.Code != 201 || w.Body.String() != big {
		t.Fatalf("%d %q", w.Code, w.Body)
	}
	do(h, post("k", "a"))
	if runs.Load() != 2 {
		t.Fatalf("runs %d", runs.Load())
	}
}

func TestHijackedResponseIsNotStored(t *testing.T) {
	var runs atomic.Int64
	// The client reads the hijacked response before the middleware has
	// released the lease: wait for the middleware to return each time.
	returned := make(chan struct{}, 2)
	mw := newMW(t, idempotency.Config{})
	inner := mw.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		runs.Add(1)
		c, rw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		rw.WriteString("HTTP/1.1 201 Created\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi")
		rw.Flush()
		c.Close()
	}))
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		inner.ServeHTTP(w, r)
		returned <- struct{}{}
	})
	srv := httptest.NewServer(h)
	defer srv.Close()
	for range 2 {
		req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader("a"))
		req.Header.Set("Idempotency-Key", "k")
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 201 || string(b) != "hi" {
			t.Fatalf("%d %q", resp.StatusCode, b)
		}
		<-returned
	}
	if runs.Load() != 2 {
		t.Fatalf("runs %d", runs.Load())
	}
}

func TestCrashedHolderLeaseExpires(t *testing.T) {
	store, _ := idempotency.NewMemoryStore(idempotency.MemoryConfig{})
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	store.SetClock(func() time.Time { mu.Lock(); defer mu.Unlock(); return now })
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }

	g := newGate()
	h := newMW(t, idempotency.Config{Store: store, LeaseTimeout: 30 * time.Second}).Handler(g)
	done := make(chan *httptest.ResponseRecorder)
	go func() { done <- do(h, post("k", "a")) }()
	<-g.entered
	advance(29 * time.Second)
	w := do(h, post("k", "a"))
	problemStatus(t, w, 409)
	if w.Header().Get("Retry-After") != "1" {
		t.Fatalf("Retry-After %q", w.Header().Get("Retry-After"))
	}
	advance(time.Second) // the holder's lease has expired: the key is free
	go func() { done <- do(h, post("k", "a")) }()
	<-g.entered
	g.release <- struct{}{}
	g.release <- struct{}{}
	a, b := <-done, <-done
	if a.Code != 201 || b.Code != 201 || g.runs.Load() != 2 {
		t.Fatalf("%d %d runs %d", a.Code, b.Code, g.runs.Load())
	}
	// Only the second holder's response was stored (the first lost its
	// lease); it is replayed.
	w = do(h, post("k", "a"))
	if w.Body.String() != "run 2" || w.Header().Get(idempotency.ReplayedHeader) != "true" {
		t.Fatalf("replay %q", w.Body)
	}
	advance(idempotency.DefaultTTL)
	go func() { done <- do(h, post("k", "a")) }()
	<-g.entered
	g.release <- struct{}{}
	if w := <-done; w.Body.String() != "run 3" {
		t.Fatalf("after TTL %q", w.Body)
	}
}

func TestScopesKeepUsersApart(t *testing.T) {
	p := &payment{}
	h := newMW(t, idempotency.Config{}).Handler(p)
	for _, user := range []string{"Bearer alice", "Bearer bob", ""} {
		r := post("same-key", "a")
		if user != "" {
			r.Header.Set("Authorization", user)
		}
		if w := do(h, r); w.Header().Get(idempotency.ReplayedHeader) != "" {
			t.Fatalf("%s got a replay", user)
		}
	}
	if p.runs.Load() != 3 {
		t.Fatalf("runs %d", p.runs.Load())
	}
	// A session cookie and a custom scope.
	p2 := &payment{}
	h = newMW(t, idempotency.Config{ScopeCookie: "sid"}).Handler(p2)
	for _, sid := range []string{"s1", "s2"} {
		r := post("k", "a")
		r.AddCookie(&http.Cookie{Name: "sid", Value: sid})
		do(h, r)
	}
	p3 := &payment{}
	h = newMW(t, idempotency.Config{Scope: func(r *http.Request) string { return r.Header.Get("X-Tenant") }}).Handler(p3)
	for _, tenant := range []string{"t1", "t2", "t1"} {
		r := post("k", "a")
		r.Header.Set("X-Tenant", tenant)
		do(h, r)
	}
	if p2.runs.Load() != 2 || p3.runs.Load() != 2 {
		t.Fatalf("cookie runs %d, tenant runs %d", p2.runs.Load(), p3.runs.Load())
	}
}

// brokenStore fails every call.
type brokenStore struct{}

var errDown = errors.New("store down")

func (brokenStore) Acquire(context.Context, string, string, time.Duration) (idempotency.Lease, error) {
	return idempotency.Lease{}, errDown
}
func (brokenStore) Complete(context.Context, string, string, idempotency.Record, time.Duration) error {
	return errDown
}
func (brokenStore) Release(context.Context, string, string) error { return errDown }

func TestStoreFailure(t *testing.T) {
	p := &payment{}
	problemStatus(t, do(newMW(t, idempotency.Config{Store: brokenStore{}}).Handler(p), post("k", "a")), 503)
	if p.runs.Load() != 0 {
		t.Fatal("handler ran")
	}
	if w := do(newMW(t, idempotency.Config{Store: brokenStore{}, FailOpen: true}).Handler(p), post("k", "a")); w.Code != 201 {
		t.Fatalf("FailOpen: %d", w.Code)
	}
}

func TestErrorHandlerReplacesProblems(t *testing.T) {
	var got []error
	m := newMW(t, idempotency.Config{Required: true, ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
		got = append(got, err)
		var e *idempotency.Error
		if !errors.As(err, &e) {
			t.Fatalf("not an *Error: %v", err)
		}
		w.WriteHeader(e.Status)
	}})
	h := m.Handler(&payment{})
	if w := do(h, post("", "a")); w.Code != 400 || !errors.Is(got[0], idempotency.ErrMissingKey) {
		t.Fatalf("%d %v", w.Code, got)
	}
	if w := do(h, post(`"x`, "a")); w.Code != 400 || !errors.Is(got[1], idempotency.ErrInvalidKey) {
		t.Fatalf("%d %v", w.Code, got)
	}
	do(h, post("k", "a"))
	if w := do(h, post("k", "b")); w.Code != 422 || !errors.Is(got[2], idempotency.ErrKeyReused) {
		t.Fatalf("%d %v", w.Code, got)
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	_, err := idempotency.New(idempotency.Config{
		Methods: []string{"GET", "PO ST"}, ScopeCookie: "a b", FingerprintHeaders: []string{"bad:name"},
		MaxBodyBytes: -1, MaxStoredBytes: -1, TTL: -1, LeaseTimeout: -1,
	})
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{`Methods: GET`, `"PO ST"`, `ScopeCookie`, `FingerprintHeaders`, `MaxBodyBytes`,
		`MaxStoredBytes`, `TTL`, `LeaseTimeout`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
	if _, err := idempotency.New(idempotency.Config{Methods: []string{}}); err == nil {
		t.Error("empty Methods accepted")
	}
	if _, err := idempotency.NewMemoryStore(idempotency.MemoryConfig{MaxEntries: -1, MaxBytes: -1}); err == nil ||
		!strings.Contains(err.Error(), "MaxEntries") || !strings.Contains(err.Error(), "MaxBytes") {
		t.Errorf("NewMemoryStore: %v", err)
	}
}

func TestIdenticalRequestsAtOnceRunTheHandlerOnce(t *testing.T) {
	p := &payment{}
	h := newMW(t, idempotency.Config{}).Handler(p)
	const n = 32
	var wg sync.WaitGroup
	start := make(chan struct{})
	codes := make([]int, n)
	bodies := make([]string, n)
	for i := range n {
		wg.Go(func() {
			<-start
			w := do(h, post("k", "a"))
			codes[i], bodies[i] = w.Code, w.Body.String()
		})
	}
	close(start)
	wg.Wait()
	if p.runs.Load() != 1 {
		t.Fatalf("handler ran %d times", p.runs.Load())
	}
	for i, c := range codes {
		switch c {
		case 201:
			if !strings.HasPrefix(bodies[i], `{"run":1,`) {
				t.Fatalf("body %q", bodies[i])
			}
		case 409:
		default:
			t.Fatalf("status %d", c)
		}
	}
}

// probe is a ResponseWriter that, when the status reaches it (the first
// byte on the way to the client), sends the retry through the same handler.
type probe struct {
	*httptest.ResponseRecorder
	retry func() *httptest.ResponseRecorder
	got   *httptest.ResponseRecorder
}

func (p *probe) WriteHeader(code int) {
	if p.got == nil {
		p.got = p.retry()
	}
	p.ResponseRecorder.WriteHeader(code)
}

func (p *probe) Write(b []byte) (int, error) {
	if p.got == nil {
		p.WriteHeader(200)
	}
	return p.ResponseRecorder.Write(b)
}

func TestRecordIsStoredBeforeTheFirstByteIsSent(t *testing.T) {
	p := &payment{}
	h := newMW(t, idempotency.Config{}).Handler(p)
	w := &probe{ResponseRecorder: httptest.NewRecorder(), retry: func() *httptest.ResponseRecorder {
		return do(h, post("k", "a"))
	}}
	h.ServeHTTP(w, post("k", "a"))
	if w.got == nil || w.got.Code != 201 || w.got.Header().Get(idempotency.ReplayedHeader) != "true" ||
		w.got.Body.String() != w.Body.String() {
		t.Fatalf("a retry at the first byte got %d %v %q", w.got.Code, w.got.Header(), w.got.Body)
	}
	if p.runs.Load() != 1 {
		t.Fatalf("runs %d", p.runs.Load())
	}
}

func TestOuterFieldsChangedByTheHandlerAreStored(t *testing.T) {
	outer := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Cache-Control", "no-cache")
			w.Header().Set("X-Request-Scoped", strconv.FormatInt(time.Now().UnixNano(), 10))
			next.ServeHTTP(w, r)
		})
	}
	h := outer(newMW(t, idempotency.Config{}).Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "private, max-age=60") // the handler's own value wins
		w.Header().Add("Link", "</a>; rel=a")
		w.Header().Add("Link", "</b>; rel=b")
		w.Header().Set("Set-Cookie", "sid=1")
		w.Header().Set("Date", "Mon, 01 Dec 2026 00:00:00 GMT")
		w.WriteHeader(201)
	})))
	do(h, post("k", "a"))
	w := do(h, post("k", "a"))
	if got := w.Header().Get("Cache-Control"); got != "private, max-age=60" {
		t.Fatalf("Cache-Control %q", got)
	}
	if got := w.Header().Values("Link"); len(got) != 2 {
		t.Fatalf("Link %q", got)
	}
	if w.Header().Get("Set-Cookie") != "" || w.Header().Get("Date") != "" {
		t.Fatalf("Set-Cookie or Date replayed: %v", w.Header())
	}
}

func TestStoreFullOfLeasesIs503(t *testing.T) {
	store, _ := idempotency.NewMemoryStore(idempotency.MemoryConfig{MaxEntries: 1})
	g := newGate()
	h := newMW(t, idempotency.Config{Store: store}).Handler(g)
	done := make(chan *httptest.ResponseRecorder)
	go func() { done <- do(h, post("k1", "a")) }()
	<-g.entered
	w := do(h, post("k2", "a"))
	problemStatus(t, w, 503)
	close(g.release)
	<-done
}

func TestBodyWrittenWithReadFromIsStored(t *testing.T) {
	var runs atomic.Int64
	h := newMW(t, idempotency.Config{}).Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		runs.Add(1)
		w.WriteHeader(201)
		io.Copy(w, strings.NewReader(strings.Repeat("z", 5000)))
	}))
	first := do(h, post("k", "a"))
	again := do(h, post("k", "a"))
	if runs.Load() != 1 || again.Body.String() != first.Body.String() || again.Body.Len() != 5000 ||
		again.Header().Get("Content-Length") != "5000" {
		t.Fatalf("runs %d, %d bytes, Content-Length %q", runs.Load(), again.Body.Len(), again.Header().Get("Content-Length"))
	}
}

func TestOuterMaxBytesReaderIs413(t *testing.T) {
	h := http.MaxBytesHandler(newMW(t, idempotency.Config{}).Handler(&payment{}), 4)
	r := post("k", "")
	r.Body = io.NopCloser(strings.NewReader("123456789"))
	r.ContentLength = -1
	problemStatus(t, do(h, r), 413)
}
