package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestDemo starts the demo server, exercises each route through the whole
// chain, and shuts it down gracefully.
func TestDemo(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	devNull, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer devNull.Close()
	go func() { done <- run(ctx, "127.0.0.1:0", devNull, ready) }()
	base := "http://" + <-ready
	c := &http.Client{}
	defer c.CloseIdleConnections()

	do := func(method, path string, hdr map[string]string, body string) (*http.Response, string) {
		t.Helper()
		req, err := http.NewRequest(method, base+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		res, err := c.Do(req)
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

	// The HTML page: its inline script carries the nonce the CSP allows.
	res, page := do("GET", "/", nil, "")
	csp := res.Header.Get("Content-Security-Policy")
	i := strings.Index(page, `<script nonce="`)
	if res.StatusCode != 200 || i < 0 || res.Header.Get("X-Trace-Id") == "" {
		t.Fatalf("GET /: status %d, X-Trace-Id %q, page %.80q", res.StatusCode, res.Header.Get("X-Trace-Id"), page)
	}
	nonce := page[i+len(`<script nonce="`):]
	nonce = nonce[:strings.IndexByte(nonce, '"')]
	if !strings.Contains(csp, "'nonce-"+nonce+"'") {
		t.Errorf("CSP %q does not allow the page's nonce %q", csp, nonce)
	}

	// The JSON API: ETag, then 304 on revalidation (answered by the cache
	// middleware's Validator), then an If-Match write and a stale one.
	res, _ = do("GET", "/api/items/1", map[string]string{"Accept-Encoding": "gzip"}, "")
	etag := res.Header.Get("ETag")
	if res.StatusCode != 200 || etag == "" {
		t.Fatalf("GET item: status %d ETag %q", res.StatusCode, etag)
	}
	if res, _ = do("GET", "/api/items/1", map[string]string{"If-None-Match": etag}, ""); res.StatusCode != http.StatusNotModified {
		t.Errorf("revalidation status %d, want 304", res.StatusCode)
	}
	put := map[string]string{"If-Match": etag, "Content-Type": "application/json"}
	if res, b := do("PUT", "/api/items/1", put, `{"name":"renamed"}`); res.StatusCode != 200 || !strings.Contains(b, "renamed") {
		t.Errorf("PUT with current If-Match: status %d body %q", res.StatusCode, b)
	}
	res, b := do("PUT", "/api/items/1", put, `{"name":"lost update"}`)
	if res.StatusCode != http.StatusPreconditionFailed || res.Header.Get("Content-Type") != "application/problem+json" {
		t.Errorf("PUT with stale If-Match: status %d %q body %q, want 412 problem+json", res.StatusCode, res.Header.Get("Content-Type"), b)
	}

	// CORS preflight from the allowed SPA origin.
	res, _ = do("OPTIONS", "/api/items/1", map[string]string{"Origin": "https://app.example.com",
		"Access-Control-Request-Method": "PUT", "Access-Control-Request-Headers": "content-type, if-match"}, "")
	if res.StatusCode != http.StatusNoContent || res.Header.Get("Access-Control-Allow-Origin") != "https://app.example.com" {
		t.Errorf("preflight: status %d ACAO %q", res.StatusCode, res.Header.Get("Access-Control-Allow-Origin"))
	}

	// The event stream arrives event by event, compressed.
	req, _ := http.NewRequest("GET", base+"/events", nil)
	res, err = c.Do(req) // the transport asks for gzip and decodes it
	if err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(res.Body).ReadString('\n')
	res.Body.Close()
	if err != nil || !strings.HasPrefix(line, "data: event 1 ") || !res.Uncompressed {
		t.Errorf("first event %q (err %v, decompressed %t)", line, err, res.Uncompressed)
	}

	cancel()
	if err := <-done; err != nil {
		t.Fatalf("graceful shutdown: %v", err)
	}
}
