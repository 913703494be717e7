package main

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
	"go.uber.org/goleak"

	"github.com/jiec/httpmw/cors"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestChiChain checks that the chain works inside chi: a preflight answered
// by cors (chi has no OPTIONS route), a nonce page, and a compressed,
// revalidating JSON route.
func TestChiChain(t *testing.T) {
	h, err := newRouter(slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()

	req, _ := http.NewRequest(http.MethodOptions, srv.URL+"/api/hello/x", nil)
	req.Header.Set("Origin", "https://app.example.com")
	req.Header.Set("Access-Control-Request-Method", "GET")
	res, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNoContent || res.Header.Get("Access-Control-Allow-Origin") != "https://app.example.com" || res.Header.Get("X-Trace-Id") == "" {
		t.Errorf("preflight: %d %v", res.StatusCode, res.Header)
	}

	res, err = srv.Client().Get(srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if !strings.Contains(res.Header.Get("Content-Security-Policy"), "'nonce-") || !strings.Contains(string(page), `nonce="`) {
		t.Errorf("page without nonce: CSP %q body %q", res.Header.Get("Content-Security-Policy"), page)
	}

	res, err = srv.Client().Get(srv.URL + "/api/hello/gopher")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	etag := res.Header.Get("ETag")
	if string(body) != "{\"hello\":\"gopher\"}\n" || etag == "" {
		t.Fatalf("GET: %q ETag %q", body, etag)
	}
	req, _ = http.NewRequest(http.MethodGet, srv.URL+"/api/hello/gopher", nil)
	req.Header.Set("If-None-Match", etag)
	res, err = srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNotModified {
		t.Errorf("revalidation: %d, want 304", res.StatusCode)
	}
}

func newTestServer(t *testing.T) *httptest.Server {
	t.Helper()
	h, err := newRouter(slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func send(t *testing.T, srv *httptest.Server, method, path, body string, hdr ...string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

// TestLoginHasStricterLimit: /login allows 5 attempts a minute, while the
// rest of the router is still open to the same client.
func TestLoginHasStricterLimit(t *testing.T) {
	srv := newTestServer(t)
	ct := "Content-Type"
	for i := 1; i <= 5; i++ {
		res, _ := send(t, srv, "POST", "/login", "user=gopher&password=guess", ct, "application/x-www-form-urlencoded")
		if res.StatusCode != http.StatusUnauthorized || !strings.Contains(res.Header.Get("RateLimit-Policy"), `"login";q=5;w=60`) {
			t.Fatalf("attempt %d: %d %v", i, res.StatusCode, res.Header)
		}
	}
	res, body := send(t, srv, "POST", "/login", "user=gopher&password=correct+horse", ct, "application/x-www-form-urlencoded")
	if res.StatusCode != http.StatusTooManyRequests || !strings.Contains(body, `"login"`) || res.Header.Get("Retry-After") == "" {
		t.Errorf("sixth attempt: %d %q, want 429 naming the login policy", res.StatusCode, body)
	}
	if res, _ = send(t, srv, "GET", "/api/hello/gopher", ""); res.StatusCode != 200 || !strings.Contains(res.Header.Get("RateLimit"), `"general"`) {
		t.Errorf("other routes after the login limit: %d %v", res.StatusCode, res.Header)
	}
}

// TestIdempotencyOnlyOnPostRoutes: the POST route needs a key and replays
// retries; the GET routes take no key.
func TestIdempotencyOnlyOnPostRoutes(t *testing.T) {
	srv := newTestServer(t)
	if res, body := send(t, srv, "POST", "/api/orders/", "teapot"); res.StatusCode != http.StatusBadRequest {
		t.Errorf("POST without a key: %d %q, want 400", res.StatusCode, body)
	}
	res, first := send(t, srv, "POST", "/api/orders/", "teapot", "Idempotency-Key", "order-1")
	res2, again := send(t, srv, "POST", "/api/orders/", "teapot", "Idempotency-Key", "order-1")
	if res.StatusCode != 201 || first != "order 1: teapot\n" || again != first || res2.Header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("create then retry: %d %q, %d %q %v", res.StatusCode, first, res2.StatusCode, again, res2.Header)
	}
	if res, body := send(t, srv, "GET", "/api/orders/1", "", "Idempotency-Key", "ignored"); res.StatusCode != 200 || body != "order 1: teapot\n" {
		t.Errorf("GET: %d %q", res.StatusCode, body)
	}
	if res, body := send(t, srv, "GET", "/api/orders/2", ""); res.StatusCode != 404 {
		t.Errorf("GET of an order never created (the retry did not run twice): %d %q", res.StatusCode, body)
	}
	res, _ = send(t, srv, "OPTIONS", "/api/orders/", "", "Origin", "https://app.example.com",
		"Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "idempotency-key")
	if res.StatusCode != http.StatusNoContent {
		t.Errorf("preflight of the POST route: %d", res.StatusCode)
	}
}

// TestCORSOnMethodRouteIsTheMistake shows what the README's troubleshooting
// warns about: CORS mounted on a GET route never sees the preflight, which
// chi answers 405.
func TestCORSOnMethodRouteIsTheMistake(t *testing.T) {
	co, err := cors.New(cors.Config{Origins: []string{"https://app.example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	r := chi.NewRouter()
	r.With(co.Handler).Get("/data", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "data") })
	srv := httptest.NewServer(r)
	defer srv.Close()
	res, _ := send(t, srv, "OPTIONS", "/data", "", "Origin", "https://app.example.com", "Access-Control-Request-Method", "GET")
	if res.StatusCode != http.StatusMethodNotAllowed || res.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("preflight with CORS on the GET route: %d %v; chi's behaviour changed, update the README", res.StatusCode, res.Header)
	}
}
