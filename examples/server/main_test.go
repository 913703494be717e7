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

	// The negotiated list: JSON by default, CSV or HTML on request, in French
	// when asked, 406 problem+json when no offer fits.
	res, b = do("GET", "/api/items", nil, "")
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/json" || !strings.Contains(b, `"title":"Items"`) ||
		res.Header.Get("Content-Language") != "en" || !strings.Contains(strings.Join(res.Header.Values("Vary"), ","), "Accept-Language") {
		t.Errorf("GET list: %d %v %q", res.StatusCode, res.Header, b)
	}
	res, b = do("GET", "/api/items", map[string]string{"Accept": "text/csv", "Accept-Language": "fr-CA, en;q=0.5"}, "")
	if res.StatusCode != 200 || !strings.HasPrefix(b, "id,nom,version\n1,") || res.Header.Get("Content-Language") != "fr" {
		t.Errorf("GET list as French CSV: %d %v %q", res.StatusCode, res.Header, b)
	}
	res, b = do("GET", "/api/items", map[string]string{"Accept": "text/html"}, "")
	if res.StatusCode != 200 || !strings.Contains(b, "<h1>Items</h1>") {
		t.Errorf("GET list as HTML: %d %q", res.StatusCode, b)
	}
	res, b = do("GET", "/api/items", map[string]string{"Accept": "image/png"}, "")
	if res.StatusCode != http.StatusNotAcceptable || res.Header.Get("Content-Type") != "application/problem+json" || !strings.Contains(b, "text/csv") {
		t.Errorf("GET list as PNG: %d %q, want 406 problem+json listing the offers", res.StatusCode, b)
	}

	// The idempotent create: the key is required, a retry is replayed (the
	// handler ran once: the next create gets the next id), and the same key
	// with another body is refused.
	post := map[string]string{"Content-Type": "application/json"}
	if res, _ = do("POST", "/api/items", post, `{"name":"new"}`); res.StatusCode != http.StatusBadRequest {
		t.Errorf("POST without Idempotency-Key: %d, want 400", res.StatusCode)
	}
	post["Idempotency-Key"] = `"demo-key-1"`
	res, first := do("POST", "/api/items", post, `{"name":"new"}`)
	if res.StatusCode != http.StatusCreated || res.Header.Get("Location") != "/api/items/4" {
		t.Fatalf("first POST: %d %v %q", res.StatusCode, res.Header, first)
	}
	firstTrace := res.Header.Get("X-Trace-Id")
	res, again := do("POST", "/api/items", post, `{"name":"new"}`)
	if res.StatusCode != http.StatusCreated || again != first || res.Header.Get("Idempotent-Replayed") != "true" ||
		res.Header.Get("X-Trace-Id") == firstTrace || res.Header.Get("RateLimit") == "" {
		t.Errorf("retried POST: %d %v %q, want the first 201 replayed with fresh trace id and RateLimit", res.StatusCode, res.Header, again)
	}
	if res, b = do("POST", "/api/items", post, `{"name":"other"}`); res.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("key reused with another body: %d %q, want 422", res.StatusCode, b)
	}

	// CORS preflight from the allowed SPA origin.
	res, _ = do("OPTIONS", "/api/items/1", map[string]string{"Origin": "https://app.example.com",
		"Access-Control-Request-Method": "PUT", "Access-Control-Request-Headers": "content-type, if-match"}, "")
	if res.StatusCode != http.StatusNoContent || res.Header.Get("Access-Control-Allow-Origin") != "https://app.example.com" {
		t.Errorf("preflight: status %d ACAO %q", res.StatusCode, res.Header.Get("Access-Control-Allow-Origin"))
	}

	// A preflight for the idempotent create.
	res, _ = do("OPTIONS", "/api/items", map[string]string{"Origin": "https://app.example.com",
		"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type, idempotency-key"}, "")
	if res.StatusCode != http.StatusNoContent || !strings.Contains(strings.ToLower(res.Header.Get("Access-Control-Allow-Headers")), "idempotency-key") {
		t.Errorf("POST preflight: status %d %v", res.StatusCode, res.Header)
	}

	// The API is rate limited per client (40 at once, then 20 a second);
	// the page is not. A cross-origin caller can read the 429's fields.
	if res, _ = do("GET", "/", nil, ""); res.Header.Get("RateLimit") != "" {
		t.Errorf("the page carries RateLimit %q; only /api/ is limited", res.Header.Get("RateLimit"))
	}
	var limited *http.Response
	for range 400 {
		res, b = do("GET", "/api/items/2", map[string]string{"Origin": "https://app.example.com"}, "")
		if res.StatusCode == http.StatusTooManyRequests {
			limited = res
			break
		}
	}
	switch {
	case limited == nil:
		t.Errorf("400 API requests were never limited")
	case limited.Header.Get("Retry-After") == "" || !strings.Contains(b, "quota-exceeded") ||
		!strings.Contains(strings.ToLower(limited.Header.Get("Access-Control-Expose-Headers")), "retry-after") || limited.Header.Get("X-Trace-Id") == "":
		t.Errorf("429: %v %q", limited.Header, b)
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
