package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// lossy passes requests to the default transport and records what each
// attempt carried; when lose is set, it drops the response of the next
// request after the server handled it, as a connection reset would.
type lossy struct {
	mu       sync.Mutex
	lose     bool
	keys     []string
	parents  []string
	traceIDs []string
}

func (l *lossy) RoundTrip(req *http.Request) (*http.Response, error) {
	l.mu.Lock()
	l.keys = append(l.keys, req.Header.Get("Idempotency-Key"))
	l.parents = append(l.parents, req.Header.Get("Traceparent"))
	l.traceIDs = append(l.traceIDs, req.Header.Get("X-Trace-Id"))
	lose := l.lose
	l.lose = false
	l.mu.Unlock()
	res, err := http.DefaultTransport.RoundTrip(req)
	if err == nil && lose {
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return nil, errors.New("connection reset by peer (simulated)")
	}
	return res, err
}

func TestRetriedPaymentRunsOnce(t *testing.T) {
	l := &lossy{}
	ctx, cancel := context.WithCancel(context.Background())
	ready, done := make(chan [2]string, 1), make(chan error, 1)
	go func() { done <- run(ctx, "127.0.0.1:0", "127.0.0.1:0", io.Discard, l, ready) }()
	urls := <-ready
	defer func() {
		http.DefaultClient.CloseIdleConnections()
		http.DefaultTransport.(*http.Transport).CloseIdleConnections()
		cancel()
		if err := <-done; err != nil {
			t.Errorf("shutdown: %v", err)
		}
	}()

	pay := func(traceID string) (*http.Response, payment) {
		t.Helper()
		req, _ := http.NewRequest("POST", urls[0]+"/checkout?amount=1250", nil)
		req.Header.Set("X-Trace-Id", traceID)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var p payment
		if err := json.NewDecoder(res.Body).Decode(&p); err != nil || res.StatusCode != 201 {
			t.Fatalf("checkout: %d %v", res.StatusCode, err)
		}
		return res, p
	}

	// One attempt: the payments service saw the checkout's trace id.
	if _, p := pay("checkout-1"); p.ID != 1 || p.TraceID != "checkout-1" {
		t.Errorf("first payment %+v, want id 1 traced checkout-1", p)
	}

	// The response is lost after the payment ran: the retry, with the same
	// key, is answered from the idempotency record, not charged again.
	l.mu.Lock()
	l.lose, l.keys, l.parents, l.traceIDs = true, nil, nil, nil
	l.mu.Unlock()
	res, p := pay("checkout-2")
	if p.ID != 2 || p.TraceID != "checkout-2" || res.Header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("retried payment %+v replayed %q, want id 2 replayed", p, res.Header.Get("Idempotent-Replayed"))
	}
	l.mu.Lock()
	keys, parents, ids := l.keys, l.parents, l.traceIDs
	l.mu.Unlock()
	if len(keys) != 2 || keys[0] == "" || keys[0] != keys[1] {
		t.Errorf("attempts carried keys %q, want the same key twice", keys)
	}
	if len(parents) != 2 || parents[0] == parents[1] || parents[0][:35] != parents[1][:35] || ids[0] != "checkout-2" || ids[1] != "checkout-2" {
		t.Errorf("attempts carried traceparents %q and ids %q, want one trace, a child span per attempt", parents, ids)
	}
	if _, p := pay("checkout-3"); p.ID != 3 {
		t.Errorf("next payment id %d, want 3 (the retry did not charge)", p.ID)
	}
	if !strings.HasPrefix(parents[0], "00-") {
		t.Errorf("traceparent %q", parents[0])
	}
}
