package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestStreamThroughChain opens streams through all eight middlewares. The
// server sends one event at once and the next an hour later, so reading
// the first event proves that every layer flushed it.
func TestStreamThroughChain(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	ready, done := make(chan string, 1), make(chan error, 1)
	go func() { done <- run(ctx, "127.0.0.1:0", io.Discard, time.Hour, ready) }()
	url := "http://" + <-ready + "/events"
	client := &http.Client{Timeout: 20 * time.Second} // a lost flush fails here, never hangs
	defer func() {
		client.CloseIdleConnections()
		cancel()
		if err := <-done; err != nil {
			t.Errorf("shutdown: %v", err)
		}
	}()

	open := func(hdr ...string) (*http.Response, *bufio.Reader) {
		t.Helper()
		req, _ := http.NewRequest("GET", url, nil)
		req.Header.Set("Accept", "text/event-stream")
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { res.Body.Close() })
		return res, bufio.NewReader(res.Body)
	}
	// event reads one event (lines up to the blank one).
	event := func(br *bufio.Reader) string {
		t.Helper()
		var ev strings.Builder
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				t.Fatalf("reading the stream: %v (so far %q)", err, ev.String())
			}
			if line == "\n" {
				return ev.String()
			}
			ev.WriteString(line)
		}
	}

	res, br := open("Origin", "https://app.example.com")
	id := res.Header.Get("X-Trace-Id")
	if res.StatusCode != 200 || !res.Uncompressed || id == "" || res.Header.Get("ETag") != "" ||
		res.Header.Get("Access-Control-Allow-Origin") != "https://app.example.com" ||
		!strings.Contains(res.Header.Get("RateLimit-Policy"), `"concurrency";q=4`) || res.Header.Get("Content-Security-Policy") == "" {
		t.Fatalf("stream header: %d (decompressed %t) %v", res.StatusCode, res.Uncompressed, res.Header)
	}
	if ev := event(br); ev != "retry: 1000\n" {
		t.Errorf("first event %q", ev)
	}
	if ev, want := event(br), "id: 1\ndata: {\"n\":1,\"trace\":\""+id+"\"}\n"; ev != want {
		t.Errorf("event %q, want %q", ev, want)
	}

	// A reconnecting EventSource resumes after the last id it saw.
	_, br2 := open("Last-Event-ID", "41")
	event(br2)
	if ev := event(br2); !strings.HasPrefix(ev, "id: 42\n") {
		t.Errorf("resumed stream starts with %q, want id 42", ev)
	}

	// Two streams are open; four per client are allowed.
	open()
	open()
	req, _ := http.NewRequest("GET", url, nil)
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusTooManyRequests || res.Header.Get("Retry-After") == "" {
		t.Errorf("fifth stream: %d %v, want 429", res.StatusCode, res.Header)
	}
}
