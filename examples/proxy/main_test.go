package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestBehindProxy(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	ready, done := make(chan Started, 1), make(chan error, 1)
	go func() { done <- run(ctx, "127.0.0.1:0", "127.0.0.1:0", io.Discard, ready) }()
	s := <-ready
	pool := x509.NewCertPool()
	pool.AddCert(s.Cert)
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
	client := &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	defer func() {
		tr.CloseIdleConnections()
		cancel()
		if err := <-done; err != nil {
			t.Errorf("shutdown: %v", err)
		}
	}()
	get := func(url string, hdr ...string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", url, nil)
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res, string(b)
	}
	remaining := func(res *http.Response) int {
		m := regexp.MustCompile(`;r=(\d+)`).FindStringSubmatch(res.Header.Get("RateLimit"))
		if m == nil {
			t.Fatalf("RateLimit %q", res.Header.Get("RateLimit"))
		}
		n, _ := strconv.Atoi(m[1])
		return n
	}

	// Through the proxy: HTTPS as far as the app knows (HSTS, no redirect),
	// and the client is the test's address, whatever it forges.
	res, body := get(s.ProxyURL + "/")
	first := remaining(res)
	if res.StatusCode != 200 || !strings.HasPrefix(body, "client 127.0.0.1,") ||
		!strings.HasPrefix(res.Header.Get("Strict-Transport-Security"), "max-age=") || res.Header.Get("X-Trace-Id") == "" {
		t.Fatalf("via proxy: %d %v %q", res.StatusCode, res.Header, body)
	}
	var last int
	for _, forged := range []string{"203.0.113.9", "198.51.100.1, 127.0.0.2", "10.0.0.1", "2001:db8::1"} {
		res, body = get(s.ProxyURL+"/", "X-Forwarded-For", forged, "X-Forwarded-Proto", "http")
		if res.StatusCode != 200 || !strings.HasPrefix(body, "client 127.0.0.1,") || res.Header.Get("Strict-Transport-Security") == "" {
			t.Errorf("forged X-Forwarded-For %q: %d %q %v", forged, res.StatusCode, body, res.Header)
		}
		last = remaining(res)
	}
	// One bucket for all five requests (1000 an hour: at most one unit
	// comes back meanwhile).
	if first-last < 3 {
		t.Errorf("RateLimit remaining went from %d to %d: forged addresses got their own buckets", first, last)
	}

	// Straight to the app over plain HTTP, claiming to be the proxy's
	// client over HTTPS: not trusted, so redirected to HTTPS, without HSTS.
	res, _ = get(s.AppURL+"/", "X-Forwarded-Proto", "https", "X-Forwarded-For", "203.0.113.9")
	if res.StatusCode != http.StatusMovedPermanently || !strings.HasPrefix(res.Header.Get("Location"), "https://127.0.0.1/") ||
		res.Header.Get("Strict-Transport-Security") != "" {
		t.Errorf("direct plain HTTP: %d %v, want a 301 to https without HSTS", res.StatusCode, res.Header)
	}
}
