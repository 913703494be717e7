package main

// The mistakes the README's Troubleshooting section lists, each shown next
// to the fix, so that the advice stays true.

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/jiec/httpmw/cache"
	"github.com/jiec/httpmw/compress"
	"github.com/jiec/httpmw/cors"
	"github.com/jiec/httpmw/idempotency"
	"github.com/jiec/httpmw/ratelimit"
	"github.com/jiec/httpmw/security"
	"github.com/jiec/httpmw/trace"
)

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func serve(h http.Handler, method, target string, hdr ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, strings.NewReader(`{"n":1}`))
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	if ra := req.Header.Get("X-Test-Remote"); ra != "" {
		req.RemoteAddr = ra
		req.Header.Del("X-Test-Remote")
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

var ok = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain")
	w.Write([]byte(strings.Repeat("representation ", 200)))
})

// Ratelimit outside cors: the 429 has no CORS fields, so a browser page
// cannot read it (it sees a network error, not Retry-After).
func TestMistakeRatelimitOutsideCORS(t *testing.T) {
	newPair := func() (*cors.Middleware, *ratelimit.Middleware) {
		return must(cors.New(cors.Config{Origins: []string{"https://app.example.com"}})),
			must(ratelimit.New(ratelimit.Config{Policies: []ratelimit.Policy{{Name: "p", Limit: 1, Period: time.Hour}}}))
	}
	for _, tc := range []struct {
		name     string
		build    func(co *cors.Middleware, rl *ratelimit.Middleware) http.Handler
		wantACAO string
	}{
		{"mistake: ratelimit outside cors", func(co *cors.Middleware, rl *ratelimit.Middleware) http.Handler { return rl.Handler(co.Handler(ok)) }, ""},
		{"fix: cors outside ratelimit", func(co *cors.Middleware, rl *ratelimit.Middleware) http.Handler { return co.Handler(rl.Handler(ok)) }, "https://app.example.com"},
	} {
		h := tc.build(newPair())
		serve(h, "GET", "/", "Origin", "https://app.example.com")
		w := serve(h, "GET", "/", "Origin", "https://app.example.com")
		if w.Code != http.StatusTooManyRequests || w.Header().Get("Access-Control-Allow-Origin") != tc.wantACAO {
			t.Errorf("%s: %d, ACAO %q, want 429 with ACAO %q", tc.name, w.Code, w.Header().Get("Access-Control-Allow-Origin"), tc.wantACAO)
		}
	}
}

// Idempotency outside trace: the replay carries the first request's trace
// id, not its own.
func TestMistakeIdempotencyOutsideTrace(t *testing.T) {
	post := func(h http.Handler, id string) string {
		return serve(h, "POST", "/orders", "Idempotency-Key", "k", "Content-Type", "application/json", "X-Trace-Id", id).Header().Get("X-Trace-Id")
	}
	tr := must(trace.New(trace.Config{}))
	mistake := must(idempotency.New(idempotency.Config{})).Handler(tr.Handler(ok))
	if post(mistake, "first"); post(mistake, "retry") != "first" {
		t.Errorf("mistake: the replay did not carry the stale id; update the README")
	}
	fix := tr.Handler(must(idempotency.New(idempotency.Config{})).Handler(ok))
	if post(fix, "first"); post(fix, "retry") != "retry" {
		t.Errorf("fix: the replay does not carry its own trace id")
	}
}

// Compression inside idempotency stores the encoded body. Accept-Encoding
// is in the fingerprint, so a retry that accepts other codings is answered
// 422 rather than handed a gzip body; compress outside idempotency replays
// the stored plain body in whatever coding the retry accepts.
func TestMistakeCompressInsideIdempotency(t *testing.T) {
	post := func(h http.Handler, ae string) *httptest.ResponseRecorder {
		return serve(h, "POST", "/orders", "Idempotency-Key", "k", "Content-Type", "application/json", "Accept-Encoding", ae)
	}
	cm := must(compress.New(compress.Config{}))
	inside := must(idempotency.New(idempotency.Config{})).Handler(cm.Handler(ok))
	if post(inside, "gzip"); post(inside, "identity").Code != http.StatusUnprocessableEntity {
		t.Errorf("compress inside: the retry without gzip was not answered 422; update the README")
	}
	outside := cm.Handler(must(idempotency.New(idempotency.Config{})).Handler(ok))
	if post(outside, "gzip"); post(outside, "identity").Header().Get("Content-Encoding") != "" {
		t.Errorf("compress outside: the retry without gzip got Content-Encoding")
	}
}

// Cache outside compress still answers correctly, but hashes every
// compressed copy: one strong ETag per coding instead of one suffixed tag.
func TestMistakeCacheOutsideCompress(t *testing.T) {
	etags := func(h http.Handler) (gz, br string) {
		return serve(h, "GET", "/", "Accept-Encoding", "gzip").Header().Get("ETag"),
			serve(h, "GET", "/", "Accept-Encoding", "br").Header().Get("ETag")
	}
	cm, ca := must(compress.New(compress.Config{})), must(cache.New(cache.Config{}))
	gz, br := etags(ca.Handler(cm.Handler(ok)))
	if strings.TrimSuffix(gz, `-gzip"`) == strings.TrimSuffix(br, `-br"`) {
		t.Errorf("mistake: ETags %s and %s share a base tag; update the README", gz, br)
	}
	gz, br = etags(cm.Handler(ca.Handler(ok)))
	if !strings.HasSuffix(gz, `-gzip"`) || strings.TrimSuffix(gz, `-gzip"`) != strings.TrimSuffix(br, `-br"`) {
		t.Errorf("fix: ETags %s and %s, want one tag suffixed per coding", gz, br)
	}
}

// Behind a proxy without TrustedProxies: every client shares the proxy's
// bucket, and with RedirectHosts every proxied HTTPS request is redirected
// again (a loop). Trusting everyone instead lets clients pick their key.
func TestMistakeTrustedProxies(t *testing.T) {
	const proxy = "10.0.0.5:40000"
	limit := []ratelimit.Policy{{Name: "p", Limit: 1, Period: time.Hour}}
	via := func(h http.Handler, client string) int {
		return serve(h, "GET", "http://example.com/", "X-Test-Remote", proxy, "X-Forwarded-For", client, "X-Forwarded-Proto", "https").Code
	}
	untrusting := must(ratelimit.New(ratelimit.Config{Policies: limit})).Handler(ok)
	if via(untrusting, "203.0.113.1"); via(untrusting, "203.0.113.2") != http.StatusTooManyRequests {
		t.Errorf("mistake: two clients behind the proxy did not share a bucket; update the README")
	}
	trusting := must(ratelimit.New(ratelimit.Config{Policies: limit, TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/24")}})).Handler(ok)
	if via(trusting, "203.0.113.1"); via(trusting, "203.0.113.2") != http.StatusOK {
		t.Errorf("fix: the second client was limited by the first")
	}
	// Trusting everyone would let clients pick their key: New refuses a /0.
	if _, err := ratelimit.New(ratelimit.Config{Policies: limit, TrustedProxies: []netip.Prefix{netip.MustParsePrefix("0.0.0.0/0")}}); err == nil {
		t.Errorf("mistake: TrustedProxies 0.0.0.0/0 was accepted; update the README")
	}

	redirect := func(trusted []string) int {
		sec := must(security.New(security.Config{RedirectHosts: []string{"example.com"}, TrustedProxies: trusted}))
		return via(sec.Handler(ok), "203.0.113.1")
	}
	if code := redirect(nil); code != http.StatusMovedPermanently {
		t.Errorf("mistake: an HTTPS request through an untrusted proxy got %d, not a redirect (loop); update the README", code)
	}
	if code := redirect([]string{"10.0.0.0/24"}); code != http.StatusOK {
		t.Errorf("fix: %d", code)
	}
}
