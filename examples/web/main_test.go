package main

import (
	"context"
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

func TestWeb(t *testing.T) {
	base := start(t)

	nonceOf := func(page string) string {
		_, rest, ok := strings.Cut(page, `<script nonce="`)
		nonce, _, _ := strings.Cut(rest, `"`)
		if !ok || nonce == "" {
			t.Fatalf("page without a script nonce: %.200q", page)
		}
		return nonce
	}
	// The transport asks for gzip and decodes it, so bodies arrive decoded.
	res, page := do(t, "GET", base+"/", map[string]string{"Accept-Language": "fr-CH, fr;q=0.9, en;q=0.8"}, "")
	nonce := nonceOf(page)
	csp := res.Header.Get("Content-Security-Policy")
	if res.StatusCode != 200 || !strings.Contains(page, "Bonjour") || res.Header.Get("Content-Language") != "fr" ||
		!strings.Contains(csp, "script-src 'nonce-"+nonce+"'") || !strings.Contains(csp, "'nonce-"+nonce+"'") ||
		strings.Count(page, `nonce="`+nonce+`"`) != 2 || res.Header.Get("Cache-Control") != "no-store" ||
		!strings.Contains(strings.Join(res.Header.Values("Vary"), ","), "Accept-Language") {
		t.Errorf("French page: %d %v %.300q", res.StatusCode, res.Header, page)
	}
	res, page = do(t, "GET", base+"/", map[string]string{"Accept-Language": "de-AT"}, "")
	if !strings.Contains(page, "Hallo") || res.Header.Get("Content-Language") != "de" || nonceOf(page) == nonce {
		t.Errorf("German page (and a fresh nonce): %v %.300q", res.Header, page)
	}
	res, page = do(t, "GET", base+"/", map[string]string{"Accept-Language": "ja"}, "")
	if res.StatusCode != 200 || !strings.Contains(page, "Hello!") || res.Header.Get("Content-Language") != "en" {
		t.Errorf("Japanese falls back to English: %d %v", res.StatusCode, res.Header)
	}

	// The stylesheet: compressed, revalidated with its (compressed) ETag.
	res, css := do(t, "GET", base+"/assets/site.css", map[string]string{"Accept-Encoding": "br, gzip"}, "")
	etag := res.Header.Get("ETag")
	if res.StatusCode != 200 || res.Header.Get("Content-Encoding") != "br" || etag == "" || len(css) >= len(siteCSS) ||
		res.Header.Get("Content-Language") != "" {
		t.Fatalf("stylesheet: %d %v (%d bytes of %d)", res.StatusCode, res.Header, len(css), len(siteCSS))
	}
	res, _ = do(t, "GET", base+"/assets/site.css", map[string]string{"Accept-Encoding": "br, gzip", "If-None-Match": etag}, "")
	if res.StatusCode != http.StatusNotModified || res.Header.Get("ETag") != etag {
		t.Errorf("revalidation: %d %v, want 304 with ETag %s", res.StatusCode, res.Header, etag)
	}
	if res, css = do(t, "GET", base+"/assets/site.css", nil, ""); css != siteCSS {
		t.Errorf("decoded stylesheet differs: %d %q", res.StatusCode, css)
	}
}
