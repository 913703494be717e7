package idempotency_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/jiec/httpmw/idempotency"
)

// A payment that a client retries after a timeout: the second attempt gets
// the first one's response, and the card is charged once.
func ExampleNew() {
	charges := 0
	pay := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		charges++
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Location", fmt.Sprintf("/payments/%d", charges))
		w.WriteHeader(http.StatusCreated)
		fmt.Fprintf(w, `{"id":%d,"status":"paid"}`, charges)
	})
	m, err := idempotency.New(idempotency.Config{Required: true})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("POST /payments", m.Handler(pay))

	attempt := func(key, body string) {
		r := httptest.NewRequest(http.MethodPost, "/payments", strings.NewReader(body))
		r.Header.Set("Authorization", "Bearer alice")
		r.Header.Set("Content-Type", "application/json")
		if key != "" {
			r.Header.Set("Idempotency-Key", key)
		}
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, r)
		fmt.Println(w.Code, w.Header().Get("Location"), w.Header().Get("Idempotent-Replayed"), strings.TrimSpace(w.Body.String()))
	}
	attempt(`"8e03978e-40d5-43e8-bc93-6894a57f9324"`, `{"amount":1000}`) // the response is lost on the way
	attempt(`"8e03978e-40d5-43e8-bc93-6894a57f9324"`, `{"amount":1000}`) // the retry
	attempt(`"8e03978e-40d5-43e8-bc93-6894a57f9324"`, `{"amount":5}`)    // a bug: the key reused
	fmt.Println("charges:", charges)
	// Output:
	// 201 /payments/1  {"id":1,"status":"paid"}
	// 201 /payments/1 true {"id":1,"status":"paid"}
	// 422   {"detail":"This Idempotency-Key was used for a different request (method, path, query or body); use a new key for a new request.","status":422,"title":"Unprocessable Entity","type":"about:blank"}
	// charges: 1
}

// The zero Config: POST and PATCH with a key are protected, others pass.
func ExampleHandler() {
	runs := 0
	h := idempotency.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		runs++
		io.WriteString(w, "done")
	}))
	for range 2 {
		r := httptest.NewRequest(http.MethodPatch, "/orders/7", strings.NewReader(`{"qty":2}`))
		r.Header.Set("Idempotency-Key", "order-7-qty-2") // the unquoted form works too
		h.ServeHTTP(httptest.NewRecorder(), r)
	}
	fmt.Println("runs:", runs)
	// Output: runs: 1
}

func ExampleMiddleware_Handler() {
	m, _ := idempotency.New(idempotency.Config{})
	started := make(chan struct{})
	finish := make(chan struct{})
	slow := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-finish
		w.WriteHeader(http.StatusAccepted)
	}))
	req := func() *http.Request {
		r := httptest.NewRequest(http.MethodPost, "/jobs", nil)
		r.Header.Set("Idempotency-Key", `"job-1"`)
		return r
	}
	done := make(chan int)
	go func() {
		w := httptest.NewRecorder()
		slow.ServeHTTP(w, req())
		done <- w.Code
	}()
	<-started
	w := httptest.NewRecorder()
	slow.ServeHTTP(w, req()) // while the first runs
	fmt.Println(w.Code, "Retry-After set:", w.Header().Get("Retry-After") != "")
	close(finish)
	fmt.Println(<-done)
	// Output:
	// 409 Retry-After set: true
	// 202
}

func ExampleNewMemoryStore() {
	store, err := idempotency.NewMemoryStore(idempotency.MemoryConfig{MaxEntries: 10_000, MaxBytes: 32 << 20})
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	ctx := context.Background()
	lease, _ := store.Acquire(ctx, "key", "fingerprint", 30*time.Second)
	fmt.Println("acquired:", lease.Acquired)
	_ = store.Complete(ctx, "key", lease.Token, idempotency.Record{Fingerprint: "fingerprint", Status: 201}, time.Hour)
	again, _ := store.Acquire(ctx, "key", "fingerprint", 30*time.Second)
	fmt.Println("acquired:", again.Acquired, "stored status:", again.Record.Status)
	// Output:
	// acquired: true
	// acquired: false stored status: 201
}
