package idempotency_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/jiec/httpmw/idempotency"
	"github.com/jiec/httpmw/security"
	"github.com/jiec/httpmw/trace"
)

// counter stands for a rate limiter outside: a per-request field.
func counter(next http.Handler) http.Handler {
	var n atomic.Int64
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("RateLimit", `"default";r=`+strconv.FormatInt(100-n.Add(1), 10))
		next.ServeHTTP(w, r)
	})
}

var nonceRE = regexp.MustCompile(`'nonce-([^']+)'`)

func TestReplayThroughTraceAndSecurityGetsFreshOuterFields(t *testing.T) {
	tr, err := trace.New(trace.Config{})
	if err != nil {
		t.Fatal(err)
	}
	sec, err := security.New(security.Config{
		CSP: security.DefaultPolicy().Set(security.ScriptSrc, security.RequestNonce, security.StrictDynamic),
	})
	if err != nil {
		t.Fatal(err)
	}
	im := newMW(t, idempotency.Config{})
	var runs atomic.Int64
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		runs.Add(1)
		w.Header().Set("Location", "/payments/1")
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, `{"id":1}`)
	})
	srv := httptest.NewServer(tr.Handler(sec.Handler(counter(im.Handler(app)))))
	defer srv.Close()

	send := func() *http.Response {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/payments", strings.NewReader(`{"amount":10}`))
		req.Header.Set("Idempotency-Key", `"3f2a"`)
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	first, again := send(), send()
	b1, _ := io.ReadAll(first.Body)
	b2, _ := io.ReadAll(again.Body)
	first.Body.Close()
	again.Body.Close()

	if runs.Load() != 1 || again.StatusCode != 201 || string(b2) != string(b1) {
		t.Fatalf("runs %d, replay %d %q", runs.Load(), again.StatusCode, b2)
	}
	if again.Header.Get(idempotency.ReplayedHeader) != "true" || first.Header.Get(idempotency.ReplayedHeader) != "" {
		t.Fatal("replay marker wrong")
	}
	if again.ContentLength != int64(len(b1)) {
		t.Fatalf("Content-Length %d", again.ContentLength)
	}
	for _, f := range []string{"Location", "Content-Type", "Cache-Control"} {
		if again.Header.Get(f) != first.Header.Get(f) || first.Header.Get(f) == "" {
			t.Fatalf("%s: %q vs %q", f, again.Header.Get(f), first.Header.Get(f))
		}
	}
	fresh := func(name, a, b string) {
		t.Helper()
		if a == "" || b == "" || a == b {
			t.Fatalf("%s not fresh on the replay: %q then %q", name, a, b)
		}
	}
	fresh("trace id", first.Header.Get(trace.DefaultHeader), again.Header.Get(trace.DefaultHeader))
	n1 := nonceRE.FindStringSubmatch(first.Header.Get("Content-Security-Policy"))
	n2 := nonceRE.FindStringSubmatch(again.Header.Get("Content-Security-Policy"))
	if n1 == nil || n2 == nil {
		t.Fatalf("no nonce: %q", first.Header.Get("Content-Security-Policy"))
	}
	fresh("CSP nonce", n1[1], n2[1])
	fresh("rate-limit counter", first.Header.Get("RateLimit"), again.Header.Get("RateLimit"))
	if len(again.Header.Values("Content-Security-Policy")) != 1 || len(again.Header.Values(trace.DefaultHeader)) != 1 {
		t.Fatalf("outer fields doubled: %v", again.Header)
	}
	if again.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Fatal("security headers missing on the replay")
	}
}

func TestProblemsCarryTheTraceID(t *testing.T) {
	tr, _ := trace.New(trace.Config{})
	h := tr.Handler(newMW(t, idempotency.Config{Required: true}).Handler(&payment{}))
	w := do(h, post("", "a"))
	problemStatus(t, w, 400)
	if id := w.Header().Get(trace.DefaultHeader); id == "" || !strings.Contains(w.Body.String(), id) {
		t.Fatalf("trace id %q not in %s", id, w.Body)
	}
}
