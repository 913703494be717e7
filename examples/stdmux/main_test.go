package main

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// start runs the recipe on a free port and returns its base URL; the server
// shuts down gracefully when the test ends.
func start(t *testing.T) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready, done := make(chan string, 1), make(chan error, 1)
	go func() { done <- run(ctx, "127.0.0.1:0", io.Discard, ready) }()
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatal(err)
	}
	t.Cleanup(func() {
		http.DefaultClient.CloseIdleConnections()
		cancel()
		if err := <-done; err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return "http://" + addr
}

// do sends a request with the given header fields and returns the response
// with its body read (not decoded: Accept-Encoding, when set, is the test's).
func do(t *testing.T, method, url string, hdr map[string]string, body string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, string(b)
}

func TestStdmuxFullChain(t *testing.T) {
	base := start(t)

	res, body := do(t, "GET", base+"/", nil, "")
	id := res.Header.Get("X-Trace-Id")
	if res.StatusCode != 200 || id == "" || !strings.Contains(body, id) || res.Header.Get("Content-Security-Policy") == "" ||
		res.Header.Get("RateLimit") == "" {
		t.Fatalf("GET /: %d %v %q", res.StatusCode, res.Header, body)
	}

	// ServeMux's own 405 (with Allow) and 404 still pass through the chain.
	res, _ = do(t, "DELETE", base+"/notes/1", nil, "")
	if res.StatusCode != http.StatusMethodNotAllowed || !strings.Contains(res.Header.Get("Allow"), "PUT") || res.Header.Get("X-Trace-Id") == "" {
		t.Errorf("DELETE: %d %v, want 405 with Allow and a trace id", res.StatusCode, res.Header)
	}
	if res, _ = do(t, "GET", base+"/nowhere", nil, ""); res.StatusCode != 404 || res.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("GET /nowhere: %d %v", res.StatusCode, res.Header)
	}

	// Negotiated JSON or text, revalidation, optimistic concurrency.
	res, body = do(t, "GET", base+"/notes/1", nil, "")
	etag := res.Header.Get("ETag")
	if res.StatusCode != 200 || etag != `"note-1-v1"` || !strings.HasPrefix(body, `{"id":1,`) {
		t.Fatalf("GET note: %d %q %q", res.StatusCode, etag, body)
	}
	if res, body = do(t, "GET", base+"/notes/1", map[string]string{"Accept": "text/plain"}, ""); !strings.HasPrefix(body, "{ID:1 ") {
		t.Errorf("GET note as text: %d %q", res.StatusCode, body)
	}
	if res, _ = do(t, "GET", base+"/notes/1", map[string]string{"Accept": "image/png"}, ""); res.StatusCode != http.StatusNotAcceptable {
		t.Errorf("GET note as PNG: %d, want 406", res.StatusCode)
	}
	if res, _ = do(t, "GET", base+"/notes/1", map[string]string{"If-None-Match": etag}, ""); res.StatusCode != http.StatusNotModified {
		t.Errorf("revalidation: %d, want 304", res.StatusCode)
	}
	put := map[string]string{"If-Match": etag, "Content-Type": "application/json"}
	if res, _ = do(t, "PUT", base+"/notes/1", put, `{"text":"buy oat milk"}`); res.StatusCode != 200 || res.Header.Get("ETag") != `"note-1-v2"` {
		t.Errorf("PUT: %d %v", res.StatusCode, res.Header)
	}
	if res, _ = do(t, "PUT", base+"/notes/1", put, `{"text":"lost update"}`); res.StatusCode != http.StatusPreconditionFailed {
		t.Errorf("stale PUT: %d, want 412", res.StatusCode)
	}

	// An idempotent create: the retry is replayed, not run again.
	post := map[string]string{"Content-Type": "application/json", "Idempotency-Key": "note-2"}
	res, first := do(t, "POST", base+"/notes", post, `{"text":"call mum"}`)
	res2, again := do(t, "POST", base+"/notes", post, `{"text":"call mum"}`)
	if res.StatusCode != 201 || res2.StatusCode != 201 || first != again || res2.Header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("POST twice: %d %q, then %d %v %q", res.StatusCode, first, res2.StatusCode, res2.Header, again)
	}
	var all []note
	_, body = do(t, "GET", base+"/notes", nil, "")
	if err := json.Unmarshal([]byte(body), &all); err != nil || len(all) != 2 {
		t.Errorf("notes after a replayed create: %q (%v), want 2 notes", body, err)
	}

	// Compression of a large enough response, decoded here by hand.
	for range 3 {
		do(t, "POST", base+"/notes", map[string]string{"Content-Type": "application/json"}, `{"text":"`+strings.Repeat("long note ", 50)+`"}`)
	}
	req, _ := http.NewRequest("GET", base+"/notes", nil)
	req.Header.Set("Accept-Encoding", "gzip")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	zr, err := gzip.NewReader(res.Body)
	if err != nil || res.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("list: Content-Encoding %q, %v", res.Header.Get("Content-Encoding"), err)
	}
	if err := json.NewDecoder(zr).Decode(&all); err != nil || len(all) != 5 {
		t.Errorf("decoded list: %d notes, %v", len(all), err)
	}

	// The limit: 20 at once then 10 a second per client; the requests above
	// used most of it.
	limited := false
	for range 200 {
		if res, _ = do(t, "GET", base+"/notes/1", nil, ""); res.StatusCode == http.StatusTooManyRequests {
			limited = res.Header.Get("Retry-After") != "" && res.Header.Get("X-Trace-Id") != ""
			break
		}
	}
	if !limited {
		t.Errorf("never limited with Retry-After and a trace id")
	}
}
