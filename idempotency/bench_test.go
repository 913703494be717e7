package idempotency_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jiec/httpmw/idempotency"
)

var (
	benchReqBody  = strings.Repeat(`{"amount":1000,"currency":"EUR"}`, 32)[:1024]
	benchRespBody = []byte(strings.Repeat("r", 1024))
)

// created is a bare POST handler: reads the body, answers 201 with 1 KiB.
var created = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Location", "/payments/1")
	w.WriteHeader(http.StatusCreated)
	_, _ = w.Write(benchRespBody)
})

// discard is a ResponseWriter that keeps nothing.
type discard struct{ h http.Header }

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) Write(p []byte) (int, error) { return len(p), nil }
func (d *discard) WriteHeader(int)             {}

func benchRequest(key string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/payments", nil)
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("Authorization", "Bearer alice")
	if key != "" {
		r.Header.Set("Idempotency-Key", key)
	}
	return r
}

func run(b *testing.B, h http.Handler, key func(i int) []string) {
	b.Helper()
	req := benchRequest("")
	body := strings.NewReader(benchReqBody)
	w := &discard{h: http.Header{}}
	b.ReportAllocs()
	b.SetBytes(int64(len(benchReqBody)))
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		body.Reset(benchReqBody)
		req.Body = io.NopCloser(body)
		req.ContentLength = int64(len(benchReqBody))
		if key != nil {
			req.Header["Idempotency-Key"] = key(i)
		}
		clear(w.h)
		h.ServeHTTP(w, req)
	}
}

func BenchmarkBarePOST(b *testing.B) { run(b, created, nil) }

// BenchmarkFirstRequest: a new key on every request (lease, handler, store).
func BenchmarkFirstRequest(b *testing.B) {
	keys := make([][]string, 1<<16)
	for i := range keys {
		keys[i] = []string{"k" + strconv.Itoa(i)}
	}
	var cur http.Handler
	var store *idempotency.MemoryStore
	fresh := func() {
		if store != nil {
			store.Close()
		}
		store, _ = idempotency.NewMemoryStore(idempotency.MemoryConfig{})
		m, _ := idempotency.New(idempotency.Config{Store: store, TTL: time.Hour})
		cur = m.Handler(created)
	}
	fresh()
	defer func() { store.Close() }()
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { cur.ServeHTTP(w, r) })
	n := 0
	run(b, h, func(i int) []string {
		if n == len(keys) { // start over with an empty store
			b.StopTimer()
			fresh()
			n = 0
			b.StartTimer()
		}
		n++
		return keys[n-1]
	})
}

// BenchmarkReplay: the same key every time.
func BenchmarkReplay(b *testing.B) {
	h := idempotency.Handler(created)
	key := []string{`"8e03978e-40d5-43e8-bc93-6894a57f9324"`}
	run(b, h, func(int) []string { return key })
}

// BenchmarkNoKey: a POST without a key passes through.
func BenchmarkNoKey(b *testing.B) { run(b, idempotency.Handler(created), nil) }

// BenchmarkStoredResponseMemory reports the heap held per stored response
// (1 KiB body, two fields) in the memory store.
func BenchmarkStoredResponseMemory(b *testing.B) {
	const n = 20_000
	for b.Loop() {
		store, _ := idempotency.NewMemoryStore(idempotency.MemoryConfig{MaxEntries: n, MaxBytes: 1 << 40})
		m, _ := idempotency.New(idempotency.Config{Store: store})
		h := m.Handler(created)
		keys := make([]string, n)
		for i := range keys {
			keys[i] = "key-" + strconv.Itoa(i)
		}
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		w := &discard{h: http.Header{}}
		for i := range n {
			r := benchRequest(keys[i])
			r.Body = io.NopCloser(bytes.NewReader([]byte(benchReqBody)))
			clear(w.h)
			h.ServeHTTP(w, r)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		if store.Len() != n {
			b.Fatalf("stored %d", store.Len())
		}
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "heapB/response")
		b.ReportMetric(float64(store.Bytes())/n, "accountedB/response")
		runtime.KeepAlive(keys)
		store.Close()
	}
}
