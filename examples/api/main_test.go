package main

import (
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

func TestAPI(t *testing.T) {
	base := start(t) + "/v1/products"
	alice := map[string]string{"Authorization": "Bearer key-alice"}
	with := func(h map[string]string, kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range h {
			m[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	isProblem := func(res *http.Response, body string, status int) bool {
		var p struct {
			Status  int    `json:"status"`
			TraceID string `json:"trace_id"`
		}
		return res.StatusCode == status && res.Header.Get("Content-Type") == "application/problem+json" &&
			json.Unmarshal([]byte(body), &p) == nil && p.Status == status && p.TraceID == res.Header.Get("X-Trace-Id") && p.TraceID != ""
	}

	// Without a key: 401 problem+json, still counted (by address).
	res, body := do(t, "GET", base, nil, "")
	if !isProblem(res, body, 401) || res.Header.Get("WWW-Authenticate") == "" || res.Header.Get("RateLimit") == "" {
		t.Errorf("no key: %d %v %q", res.StatusCode, res.Header, body)
	}
	if res, body = do(t, "GET", base+"/../nope", alice, ""); !isProblem(res, body, 404) {
		t.Errorf("unknown endpoint: %d %q", res.StatusCode, body)
	}

	// JSON or CSV; 406 problem otherwise.
	if res, body = do(t, "GET", base, alice, ""); res.StatusCode != 200 || !strings.HasPrefix(body, `[{"id":1,"name":"teapot"`) {
		t.Errorf("list: %d %q", res.StatusCode, body)
	}
	if res, body = do(t, "GET", base, with(alice, "Accept", "text/csv"), ""); res.StatusCode != 200 || !strings.HasPrefix(body, "id,name,price_cents,version\n1,teapot,2500,1\n") {
		t.Errorf("list as CSV: %d %q", res.StatusCode, body)
	}
	if res, body = do(t, "GET", base, with(alice, "Accept", "application/xml"), ""); !isProblem(res, body, 406) {
		t.Errorf("list as XML: %d %q", res.StatusCode, body)
	}

	// One ETag per representation; 304 for the matching one only.
	res, _ = do(t, "GET", base+"/1", alice, "")
	resCSV, _ := do(t, "GET", base+"/1", with(alice, "Accept", "text/csv"), "")
	etag := res.Header.Get("ETag")
	if etag != `"p1-v1"` || resCSV.Header.Get("ETag") != `"p1-v1-csv"` {
		t.Fatalf("ETags: JSON %q CSV %q", etag, resCSV.Header.Get("ETag"))
	}
	if res, _ = do(t, "GET", base+"/1", with(alice, "If-None-Match", etag), ""); res.StatusCode != 304 {
		t.Errorf("revalidation: %d, want 304", res.StatusCode)
	}
	if res, _ = do(t, "GET", base+"/1", with(alice, "If-None-Match", etag, "Accept", "text/csv"), ""); res.StatusCode != 200 {
		t.Errorf("CSV revalidated with the JSON ETag: %d, want 200", res.StatusCode)
	}

	// Updates need the current ETag.
	upd := `{"name":"teapot","price_cents":2700}`
	if res, body = do(t, "PUT", base+"/1", alice, upd); !isProblem(res, body, 428) {
		t.Errorf("PUT without If-Match: %d %q", res.StatusCode, body)
	}
	if res, body = do(t, "PUT", base+"/1", with(alice, "If-Match", `"p1-v0"`), upd); !isProblem(res, body, 412) {
		t.Errorf("stale PUT: %d %q", res.StatusCode, body)
	}
	if res, body = do(t, "PUT", base+"/1", with(alice, "If-Match", etag), upd); res.StatusCode != 200 || res.Header.Get("ETag") != `"p1-v2"` {
		t.Errorf("PUT: %d %v %q", res.StatusCode, res.Header, body)
	}

	// Creates need an Idempotency-Key; a retry is replayed; the same key of
	// another tenant is another operation.
	create := `{"name":"saucer","price_cents":500}`
	if res, body = do(t, "POST", base, alice, create); !isProblem(res, body, 400) {
		t.Errorf("POST without key: %d %q", res.StatusCode, body)
	}
	res, first := do(t, "POST", base, with(alice, "Idempotency-Key", "k1"), create)
	res2, again := do(t, "POST", base, with(alice, "Idempotency-Key", "k1"), create)
	if res.StatusCode != 201 || first != again || res2.Header.Get("Idempotent-Replayed") != "true" || res2.Header.Get("Location") != "/v1/products/3" {
		t.Errorf("create, retry: %d %q / %d %v %q", res.StatusCode, first, res2.StatusCode, res2.Header, again)
	}
	bob := map[string]string{"Authorization": "Bearer key-bob"}
	if res, _ = do(t, "POST", base, with(bob, "Idempotency-Key", "k1"), create); res.StatusCode != 201 || res.Header.Get("Location") != "/v1/products/4" {
		t.Errorf("bob's k1: %d %v, want a new product", res.StatusCode, res.Header)
	}
	if res, body = do(t, "POST", base, with(alice, "Idempotency-Key", "k2"), `{"name":""}`); !isProblem(res, body, 422) {
		t.Errorf("invalid create: %d %q", res.StatusCode, body)
	}

	// A browser dashboard may call the API.
	res, _ = do(t, "OPTIONS", base, map[string]string{"Origin": "https://dashboard.example.com",
		"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization, content-type, idempotency-key"}, "")
	if res.StatusCode != 204 || res.Header.Get("Access-Control-Allow-Origin") != "https://dashboard.example.com" {
		t.Errorf("preflight: %d %v", res.StatusCode, res.Header)
	}

	// Limits are per key: bob runs out (80 at once, then one a second),
	// alice does not.
	var limited *http.Response
	for range 200 {
		if res, body = do(t, "GET", base+"/2", bob, ""); res.StatusCode == 429 {
			limited = res
			break
		}
	}
	if limited == nil || !isProblem(limited, body, 429) || !strings.Contains(body, "quota-exceeded") || limited.Header.Get("Retry-After") == "" {
		t.Fatalf("bob was not limited with a 429 problem: %q", body)
	}
	if res, _ = do(t, "GET", base+"/2", alice, ""); res.StatusCode != 200 {
		t.Errorf("alice after bob's 429: %d", res.StatusCode)
	}
}
