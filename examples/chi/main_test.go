package main

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"go.uber.org/goleak"
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
