package ratelimit_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jiec/httpmw/ratelimit"
)

var okHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) })

func mustNew(t testing.TB, cfg ratelimit.Config) *ratelimit.Middleware {
	t.Helper()
	m, err := ratelimit.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

func do(h http.Handler, remote string, hdr ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest("GET", "/api", nil)
	r.RemoteAddr = remote
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Add(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	return rec
}

// sfList matches a structured-field List of sf-string Items with Integer or
// String parameters (RFC 9651 §3.1), as the draft requires for both fields.
var sfList = regexp.MustCompile(`^"[ !#-\[\]-~]*"(;[a-z*][a-z0-9_.*-]*=(\d{1,15}|"[ !#-\[\]-~]*"))*(, "[ !#-\[\]-~]*"(;[a-z*][a-z0-9_.*-]*=(\d{1,15}|"[ !#-\[\]-~]*"))*)*$`)

func TestLimitPlusBurstAdmittedThen429WithExactFields(t *testing.T) {
	s, c := newStore(t, ratelimit.MemoryConfig{})
	m := mustNew(t, ratelimit.Config{Store: s, Policies: []ratelimit.Policy{{Name: "per-ip", Limit: 2, Period: 10 * time.Second, Burst: 1}}})
	h := m.Handler(okHandler)
	want := []string{`"per-ip";r=2;t=5`, `"per-ip";r=1;t=5`, `"per-ip";r=0;t=5`}
	for i, w := range want {
		rec := do(h, "198.51.100.7:1234")
		if rec.Code != 204 || rec.Header().Get("RateLimit") != w {
			t.Fatalf("request %d: %d %q, want 204 %q", i, rec.Code, rec.Header().Get("RateLimit"), w)
		}
		if p := rec.Header().Get("RateLimit-Policy"); p != `"per-ip";q=2;w=10;httpmw-burst=1` {
			t.Fatalf("RateLimit-Policy %q", p)
		}
	}
	c.advance(1500 * time.Millisecond)
	rec := do(h, "198.51.100.7:1234")
	if rec.Code != 429 {
		t.Fatalf("4th request: %d", rec.Code)
	}
	// Due in 5 s - 1.5 s = 3.5 s: Retry-After rounds up to 4, t agrees.
	if ra, rl := rec.Header().Get("Retry-After"), rec.Header().Get("RateLimit"); ra != "4" || rl != `"per-ip";r=0;t=4` {
		t.Fatalf("Retry-After %q RateLimit %q, want 4 and t=4", ra, rl)
	}
	var doc map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc["type"] != ratelimit.ProblemQuotaExceeded || doc["status"] != 429.0 ||
		rec.Header().Get("Content-Type") != "application/problem+json" {
		t.Fatalf("problem %v", doc)
	}
	if v, _ := doc["violated-policies"].([]any); len(v) != 1 || v[0] != "per-ip" {
		t.Fatalf("violated-policies %v", doc["violated-policies"])
	}
	c.advance(3500*time.Millisecond - 1)
	if rec := do(h, "198.51.100.7:1234"); rec.Code != 429 || rec.Header().Get("Retry-After") != "1" {
		t.Fatalf("1 ns early: %d, Retry-After %q (never 0 while limited)", rec.Code, rec.Header().Get("Retry-After"))
	}
	c.advance(1)
	if rec := do(h, "198.51.100.7:1234"); rec.Code != 204 {
		t.Fatalf("at the instant: %d", rec.Code)
	}
	if rec := do(h, "198.51.100.8:1234"); rec.Code != 204 {
		t.Fatalf("another client: %d", rec.Code)
	}
}

func TestTwoPoliciesNameTheViolatedOnes(t *testing.T) {
	s, c := newStore(t, ratelimit.MemoryConfig{})
	m := mustNew(t, ratelimit.Config{Store: s, KeyFunc: apiKey, Policies: []ratelimit.Policy{
		{Name: "burst", Limit: 2, Period: time.Second}, {Name: "daily", Limit: 3, Period: 24 * time.Hour}}})
	h := m.Handler(okHandler)
	for range 2 {
		do(h, "192.0.2.1:1", "X-Api-Key", "k1")
	}
	rec := do(h, "192.0.2.1:1", "X-Api-Key", "k1")
	if rec.Code != 429 || !strings.Contains(rec.Body.String(), `"violated-policies":["burst"]`) {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	if p := rec.Header().Get("RateLimit-Policy"); p != `"burst";q=2;w=1, "daily";q=3;w=86400` || !sfList.MatchString(p) {
		t.Fatalf("RateLimit-Policy %q", p)
	}
	c.advance(time.Second)
	if rec := do(h, "192.0.2.1:1", "X-Api-Key", "k1"); rec.Code != 204 {
		t.Fatalf("after a second: %d", rec.Code)
	}
	rec = do(h, "192.0.2.1:1", "X-Api-Key", "k1")
	if rec.Code != 429 || !strings.Contains(rec.Body.String(), `"violated-policies":["daily"]`) {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	rl := rec.Header().Get("RateLimit")
	if !sfList.MatchString(rl) || !strings.HasPrefix(rl, `"burst";r=1;t=1, "daily";r=0;t=`) {
		t.Fatalf("RateLimit %q", rl)
	}
	if ra := rec.Header().Get("Retry-After"); ra != "28799" { // the 4th daily unit: 8 h after the first, 1 s ago
		t.Fatalf("Retry-After %q", ra)
	}
	if rec := do(h, "192.0.2.1:1", "X-Api-Key", "k2"); rec.Code != 204 {
		t.Fatalf("another API key: %d", rec.Code)
	}
}

func apiKey(r *http.Request) (string, error) {
	k := r.Header.Get("X-Api-Key")
	if k == "" {
		return "", errors.New("no X-Api-Key")
	}
	return "key:" + k, nil
}

func TestKeysComeOnlyFromTrustedProxies(t *testing.T) {
	proxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	one := []ratelimit.Policy{{Name: "p", Limit: 1, Period: time.Hour}}
	t.Run("spoofed XFF from an untrusted client: 0 of 10 forged keys accepted", func(t *testing.T) {
		h := mustNew(t, ratelimit.Config{Policies: one, TrustedProxies: proxies}).Handler(okHandler)
		do(h, "198.51.100.7:1")
		for i := range 10 {
			forged := netip.AddrFrom4([4]byte{203, 0, 113, byte(i)}).String()
			if rec := do(h, "198.51.100.7:1", "X-Forwarded-For", forged); rec.Code != 429 {
				t.Fatalf("forged %s accepted as a new key", forged)
			}
		}
	})
	t.Run("client entries left of the trusted proxy's are ignored", func(t *testing.T) {
		h := mustNew(t, ratelimit.Config{Policies: one, TrustedProxies: proxies}).Handler(okHandler)
		do(h, "10.0.0.1:1", "X-Forwarded-For", "198.51.100.7")
		for i := range 10 {
			forged := netip.AddrFrom4([4]byte{203, 0, 113, byte(i)}).String()
			if rec := do(h, "10.0.0.1:1", "X-Forwarded-For", forged+", 198.51.100.7"); rec.Code != 429 {
				t.Fatalf("forged %s accepted as a new key", forged)
			}
		}
	})
	t.Run("several trusted hops, several lines", func(t *testing.T) {
		h := mustNew(t, ratelimit.Config{Policies: one, TrustedProxies: proxies}).Handler(okHandler)
		do(h, "10.0.0.1:1", "X-Forwarded-For", "1.1.1.1, 198.51.100.7, 10.2.2.2", "X-Forwarded-For", "10.3.3.3")
		if rec := do(h, "10.0.0.9:1", "X-Forwarded-For", "198.51.100.7"); rec.Code != 429 {
			t.Fatal("same client through another path got a new bucket")
		}
		if rec := do(h, "10.0.0.9:1", "X-Forwarded-For", "198.51.100.8"); rec.Code != 204 {
			t.Fatal("another client limited")
		}
	})
	t.Run("Forwarded with a quoted IPv6 and port; XFF then ignored", func(t *testing.T) {
		h := mustNew(t, ratelimit.Config{Policies: one, TrustedProxies: proxies, ProxyHeader: "Forwarded"}).Handler(okHandler)
		do(h, "10.0.0.1:1", "Forwarded", `for="[2001:db8:1:2::5]:4711";proto=https`)
		if rec := do(h, "10.0.0.1:1", "Forwarded", `for="[2001:db8:1:2::99]"`, "X-Forwarded-For", "1.2.3.4"); rec.Code != 429 {
			t.Fatal("the same /64 got a new bucket")
		}
		if rec := do(h, "10.0.0.1:1", "Forwarded", `for="[2001:db8:1:3::5]"`); rec.Code != 204 {
			t.Fatal("another /64 limited")
		}
	})
	t.Run("64 KB of garbage: bounded, keyed by the last trusted hop", func(t *testing.T) {
		h := mustNew(t, ratelimit.Config{Policies: one, TrustedProxies: proxies}).Handler(okHandler)
		junk := strings.Repeat("x", 64<<10)
		if rec := do(h, "10.0.0.1:1", "X-Forwarded-For", junk); rec.Code != 204 {
			t.Fatal(rec.Code)
		}
		if rec := do(h, "10.0.0.1:1", "X-Forwarded-For", "y"+junk); rec.Code != 429 {
			t.Fatal("garbage chose a new key")
		}
	})
}

func TestIPv6BucketedBy64ByDefault(t *testing.T) {
	one := []ratelimit.Policy{{Name: "p", Limit: 1, Period: time.Hour}}
	h := mustNew(t, ratelimit.Config{Policies: one}).Handler(okHandler)
	do(h, "[2001:db8:1:2::1]:80")
	if rec := do(h, "[2001:db8:1:2:ffff::1]:80"); rec.Code != 429 {
		t.Fatal("same /64 not limited")
	}
	h = mustNew(t, ratelimit.Config{Policies: one, IPv6Prefix: 128, IPv4Prefix: 24}).Handler(okHandler)
	do(h, "[2001:db8:1:2::1]:80")
	if rec := do(h, "[2001:db8:1:2::2]:80"); rec.Code != 204 {
		t.Fatal("/128 keys shared")
	}
	do(h, "192.0.2.1:80")
	if rec := do(h, "[::ffff:192.0.2.200]:80"); rec.Code != 429 {
		t.Fatal("mapped address in the same /24 not limited")
	}
}

func TestBadKeysAre400(t *testing.T) {
	one := []ratelimit.Policy{{Name: "p", Limit: 5, Period: time.Hour}}
	h := mustNew(t, ratelimit.Config{Policies: one, KeyFunc: func(r *http.Request) (string, error) {
		return r.Header.Get("X-Api-Key"), nil
	}, MaxKeyLen: 16}).Handler(okHandler)
	for _, k := range []string{"", strings.Repeat("k", 17), strings.Repeat("k", 64<<10)} {
		if rec := do(h, "192.0.2.1:1", "X-Api-Key", k); rec.Code != 400 || rec.Header().Get("Content-Type") != "application/problem+json" {
			t.Errorf("key of %d bytes: %d", len(k), rec.Code)
		}
	}
	h = mustNew(t, ratelimit.Config{Policies: one, KeyFunc: apiKey}).Handler(okHandler)
	if rec := do(h, "192.0.2.1:1"); rec.Code != 400 {
		t.Errorf("KeyFunc error: %d", rec.Code)
	}
}

type failingStore struct{}

func (failingStore) Take(context.Context, string, []ratelimit.Policy, int64, []ratelimit.State) (bool, error) {
	return false, errors.New("redis: connection refused")
}

func TestStoreErrorsFailClosedOrOpen(t *testing.T) {
	one := []ratelimit.Policy{{Name: "p", Limit: 5, Period: time.Hour}}
	rec := do(mustNew(t, ratelimit.Config{Policies: one, Store: failingStore{}, FailClosed: true}).Handler(okHandler), "192.0.2.1:1")
	if rec.Code != 503 || rec.Header().Get("Retry-After") != "1" || strings.Contains(rec.Body.String(), "refused") {
		t.Fatalf("fail closed: %d %q %s", rec.Code, rec.Header().Get("Retry-After"), rec.Body)
	}
	rec = do(mustNew(t, ratelimit.Config{Policies: one, Store: failingStore{}}).Handler(okHandler), "192.0.2.1:1")
	if rec.Code != 204 {
		t.Fatalf("fail open (the default): %d", rec.Code)
	}
	var got error
	m := mustNew(t, ratelimit.Config{Policies: one, Store: failingStore{}, FailClosed: true, ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
		got = err
		w.WriteHeader(599)
	}})
	do(m.Handler(okHandler), "192.0.2.1:1")
	var se *ratelimit.StoreError
	if !errors.As(got, &se) {
		t.Fatalf("ErrorHandler got %v", got)
	}
}

func TestConcurrencyLimitReleasedOnReturnAndPanic(t *testing.T) {
	m := mustNew(t, ratelimit.Config{Policies: []ratelimit.Policy{{Name: "p", Limit: 1000, Period: time.Second}}, Concurrency: 1})
	entered, leave := make(chan struct{}), make(chan struct{})
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Query().Get("mode") {
		case "block":
			close(entered)
			<-leave
		case "panic":
			panic(http.ErrAbortHandler)
		}
	}))
	var wg sync.WaitGroup
	wg.Go(func() {
		r := httptest.NewRequest("GET", "/?mode=block", nil)
		r.RemoteAddr = "192.0.2.1:1"
		h.ServeHTTP(httptest.NewRecorder(), r)
	})
	<-entered
	rec := do(h, "192.0.2.1:1")
	if rec.Code != 429 || !strings.Contains(rec.Body.String(), `"concurrency"`) || rec.Header().Get("Retry-After") != "1" {
		t.Fatalf("second concurrent request: %d %s", rec.Code, rec.Body)
	}
	if rl := rec.Header().Get("RateLimit"); rl != `"concurrency";r=0` {
		t.Fatalf("RateLimit %q", rl)
	}
	if p := rec.Header().Get("RateLimit-Policy"); !strings.HasSuffix(p, `"concurrency";q=1;qu="concurrent-requests"`) || !sfList.MatchString(p) {
		t.Fatalf("RateLimit-Policy %q", p)
	}
	if rec := do(h, "192.0.2.2:1"); rec.Code != 200 {
		t.Fatalf("another key: %d", rec.Code)
	}
	close(leave)
	wg.Wait()
	func() {
		defer func() { _ = recover() }()
		r := httptest.NewRequest("GET", "/?mode=panic", nil)
		r.RemoteAddr = "192.0.2.1:1"
		h.ServeHTTP(httptest.NewRecorder(), r)
	}()
	if rec := do(h, "192.0.2.1:1"); rec.Code != 200 {
		t.Fatalf("after return and panic: %d", rec.Code)
	}
}

// A concurrency slot taken for a request that is then refused (by a policy,
// by a failing Store) is released when the refusal is sent, not leaked.
func TestConcurrencySlotReleasedWhenRequestRefused(t *testing.T) {
	var errs []error
	record := func(w http.ResponseWriter, r *http.Request, err error) {
		errs = append(errs, err)
		w.WriteHeader(429)
	}
	limited := mustNew(t, ratelimit.Config{Policies: []ratelimit.Policy{{Name: "p", Limit: 1, Period: time.Hour}}, Concurrency: 1, ErrorHandler: record})
	failing := mustNew(t, ratelimit.Config{Policies: []ratelimit.Policy{{Name: "p", Limit: 5, Period: time.Hour}}, Store: failingStore{}, FailClosed: true, Concurrency: 1, ErrorHandler: record})
	for _, c := range []struct {
		name string
		h    http.Handler
		ok   int // requests that pass before the refusals
	}{{"policy", limited.Handler(okHandler), 1}, {"store", failing.Handler(okHandler), 0}} {
		errs = nil
		for i := range c.ok + 3 {
			rec := do(c.h, "192.0.2.1:1")
			if i < c.ok {
				if rec.Code != 204 {
					t.Fatalf("%s: request %d: %d", c.name, i, rec.Code)
				}
				continue
			}
			var le *ratelimit.LimitError
			if rec.Code != 429 || len(errs) != i-c.ok+1 || errors.As(errs[len(errs)-1], &le) && slices.Contains(le.Violated, "concurrency") {
				t.Fatalf("%s: request %d: %d %v (a refused request kept its concurrency slot)", c.name, i, rec.Code, errs)
			}
		}
	}
}

func TestExemptAndLegacyHeaders(t *testing.T) {
	m := mustNew(t, ratelimit.Config{
		Policies:      []ratelimit.Policy{{Name: "a", Limit: 10, Period: time.Minute}, {Name: "b", Limit: 3, Period: time.Second}},
		Exempt:        func(r *http.Request) bool { return r.URL.Path == "/healthz" },
		LegacyHeaders: true,
		Cost:          func(r *http.Request) int64 { return 2 },
	})
	h := m.Handler(okHandler)
	r := httptest.NewRequest("GET", "/healthz", nil)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	if rec.Header().Get("RateLimit") != "" {
		t.Fatal("exempt request decorated")
	}
	rec = do(h, "192.0.2.1:1")
	if l, rem, rs := rec.Header().Get("X-RateLimit-Limit"), rec.Header().Get("X-RateLimit-Remaining"), rec.Header().Get("X-RateLimit-Reset"); l != "3" || rem != "1" || rs != "1" {
		t.Fatalf("legacy %s %s %s", l, rem, rs)
	}
	if rl := rec.Header().Get("RateLimit"); rl != `"a";r=8;t=6, "b";r=1;t=1` {
		t.Fatalf("RateLimit %q", rl)
	}
}

func TestNewReportsEveryBadField(t *testing.T) {
	_, err := ratelimit.New(ratelimit.Config{
		Policies: []ratelimit.Policy{
			{Name: "", Limit: 0, Period: 0, Burst: -1},
			{Name: `a"b`, Limit: 1, Period: time.Second},
			{Name: "x", Limit: 1, Period: time.Second}, {Name: "x", Limit: 1, Period: time.Second},
			{Name: "concurrency", Limit: 1, Period: time.Second},
			{Name: "huge", Limit: 1, Period: time.Hour, Burst: 1e12},
			{Name: "beyond-sf", Limit: 1, Period: time.Nanosecond, Burst: 1 << 62},
		},
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.1/8"), {}},
		ProxyHeader:    "X-Real-IP", IPv4Prefix: 33, IPv6Prefix: -1, Concurrency: 1, MaxKeyLen: -1,
	})
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"Policies[0].Name", "Policies[0].Limit", "Policies[0].Period", "Policies[0].Burst",
		`Policies[1].Name`, `Policies[3].Name: duplicate (value "x")`, "Policies[4].Name: reserved", "Policies[5]: (Limit+Burst)", "Policies[6]: Limit+Burst must be at most 999999999999999",
		`TrustedProxies[0]`, `TrustedProxies[1]`, `ProxyHeader: want "X-Forwarded-For" or "Forwarded" (value "X-Real-IP")`,
		"IPv4Prefix", "IPv6Prefix", "MaxKeyLen"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if _, err := ratelimit.New(ratelimit.Config{}); err == nil || !strings.Contains(err.Error(), "Policies") {
		t.Errorf("empty Config: %v", err)
	}
}

func TestAllocationsPerRequest(t *testing.T) {
	m := mustNew(t, ratelimit.Config{Policies: []ratelimit.Policy{{Name: "a", Limit: 1 << 40, Period: time.Second}, {Name: "b", Limit: 1 << 40, Period: time.Hour}},
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}, LegacyHeaders: true})
	h := m.Handler(okHandler)
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = "10.0.0.1:1"
	r.Header.Set("X-Forwarded-For", "2001:db8::1, 10.0.0.2")
	w := &nopWriter{h: http.Header{}}
	if n := testing.AllocsPerRun(200, func() { clear(w.h); h.ServeHTTP(w, r) }); n > 2 {
		t.Errorf("%v allocations per admitted request, want <= 2", n)
	}
}

type nopWriter struct{ h http.Header }

func (w *nopWriter) Header() http.Header         { return w.h }
func (w *nopWriter) WriteHeader(int)             {}
func (w *nopWriter) Write(p []byte) (int, error) { return len(p), nil }

func TestConcurrentRequestsAdmittedExactly(t *testing.T) {
	s, _ := newStore(t, ratelimit.MemoryConfig{})
	h := mustNew(t, ratelimit.Config{Store: s, Policies: []ratelimit.Policy{{Name: "p", Limit: 50, Period: time.Hour, Burst: 7}}}).Handler(okHandler)
	var mu sync.Mutex
	codes := map[int]int{}
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for range 100 {
				rec := do(h, "198.51.100.7:1")
				mu.Lock()
				codes[rec.Code]++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if codes[204] != 57 || codes[429] != 1600-57 {
		t.Fatalf("codes %v, want exactly 57 admitted", codes)
	}
}

func TestHeaderValuesAreNotSharedBetweenResponses(t *testing.T) {
	h := mustNew(t, ratelimit.Config{Policies: []ratelimit.Policy{{Name: "p", Limit: 1, Period: time.Hour}}, Store: failingStore{}, FailClosed: true}).Handler(okHandler)
	a, b := do(h, "192.0.2.1:1"), httptest.NewRecorder()
	a.Header()["Retry-After"][0] = "999"
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = "192.0.2.1:1"
	h.ServeHTTP(b, r)
	if b.Header().Get("Retry-After") != "1" {
		t.Fatal("a handler's in-place write reached another response")
	}
	h = mustNew(t, ratelimit.Config{Policies: []ratelimit.Policy{{Name: "p", Limit: 9, Period: time.Hour}}}).Handler(okHandler)
	a = do(h, "192.0.2.1:1")
	a.Header()["Ratelimit-Policy"][0] = "changed"
	if got := do(h, "192.0.2.1:1").Header().Get("RateLimit-Policy"); got != `"p";q=9;w=3600` {
		t.Fatalf("RateLimit-Policy %q", got)
	}
}
