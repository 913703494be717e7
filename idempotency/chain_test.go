package idempotency_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"time"

	"github.com/jiec/httpmw/compress"
	"io"
	"log"
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

func TestWithCompressionInsideOrOutside(t *testing.T) {
	cm, err := compress.New(compress.Config{})
	if err != nil {
		t.Fatal(err)
	}
	big := strings.Repeat(`{"id":1,"status":"paid"}`, 200)
	app := func(runs *atomic.Int64) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			runs.Add(1)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusCreated)
			io.WriteString(w, big)
		})
	}
	for _, order := range []string{"compress outside", "compress inside"} {
		t.Run(order, func(t *testing.T) {
			var runs atomic.Int64
			im := newMW(t, idempotency.Config{FingerprintHeaders: []string{"Accept-Encoding"}})
			var h http.Handler
			if order == "compress outside" {
				h = cm.Handler(im.Handler(app(&runs)))
			} else {
				h = im.Handler(cm.Handler(app(&runs)))
			}
			var encodings []string
			for range 2 {
				r := post("k", "a")
				r.Header.Set("Accept-Encoding", "gzip")
				w := do(h, r)
				if w.Code != 201 {
					t.Fatalf("status %d", w.Code)
				}
				raw := w.Body.Bytes()
				if cl := w.Header().Get("Content-Length"); cl != "" && cl != strconv.Itoa(len(raw)) {
					t.Fatalf("Content-Length %s for %d bytes", cl, len(raw))
				}
				zr, err := gzip.NewReader(bytes.NewReader(raw))
				if err != nil {
					t.Fatalf("%v (Content-Encoding %q)", err, w.Header().Get("Content-Encoding"))
				}
				if plain, _ := io.ReadAll(zr); string(plain) != big {
					t.Fatal("body changed")
				}
				encodings = append(encodings, w.Header().Get("Content-Encoding"))
			}
			if runs.Load() != 1 || encodings[0] != "gzip" || encodings[1] != "gzip" {
				t.Fatalf("runs %d, encodings %q", runs.Load(), encodings)
			}
		})
	}
}

// keyStore records the storage keys it is given.
type keyStore struct {
	idempotency.Store
	keys []string
}

func (s *keyStore) Acquire(ctx context.Context, key, fp string, d time.Duration) (idempotency.Lease, error) {
	s.keys = append(s.keys, key+" "+fp)
	return s.Store.Acquire(ctx, key, fp, d)
}

func TestStorageKeyAndFingerprintArePrintableHex(t *testing.T) {
	ms, _ := idempotency.NewMemoryStore(idempotency.MemoryConfig{})
	ks := &keyStore{Store: ms}
	h := newMW(t, idempotency.Config{Store: ks}).Handler(&payment{})
	r := post(`"secret key with spaces"`, "a")
	r.Header.Set("Authorization", "Bearer token")
	do(h, r)
	re := regexp.MustCompile(`^[0-9a-f]{64} [0-9a-f]{64}$`)
	if len(ks.keys) != 1 || !re.MatchString(ks.keys[0]) {
		t.Fatalf("keys %q", ks.keys)
	}
}

func TestConcurrentRetriesOverHTTP2(t *testing.T) {
	p := &payment{}
	srv := httptest.NewUnstartedServer(newMW(t, idempotency.Config{}).Handler(p))
	srv.EnableHTTP2 = true
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // spare connections closed at the end
	srv.StartTLS()
	defer srv.Close()
	const n = 16
	type result struct {
		code     int
		body     string
		replayed bool
		proto    int
	}
	results := make(chan result, n)
	start := make(chan struct{})
	for range n {
		go func() {
			<-start
			req, _ := http.NewRequest(http.MethodPost, srv.URL+"/payments", strings.NewReader(`{"amount":10}`))
			req.Header.Set("Idempotency-Key", `"h2"`)
			req.Header.Set("Content-Type", "application/json")
			resp, err := srv.Client().Do(req)
			if err != nil {
				results <- result{}
				return
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			results <- result{resp.StatusCode, string(b), resp.Header.Get(idempotency.ReplayedHeader) == "true", resp.ProtoMajor}
		}()
	}
	close(start)
	for range n {
		r := <-results
		switch {
		case r.proto != 2:
			t.Fatalf("HTTP/%d", r.proto)
		case r.code == 201 && strings.HasPrefix(r.body, `{"run":1,`):
		case r.code == 409:
		default:
			t.Fatalf("%d %q", r.code, r.body)
		}
	}
	if p.runs.Load() != 1 {
		t.Fatalf("runs %d", p.runs.Load())
	}
}
