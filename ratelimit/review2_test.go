package ratelimit_test

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jiec/httpmw/ratelimit"
)

// Several policies under many goroutines: the binding policy admits
// exactly its capacity, and the requests it denies charge the other policy
// nothing (its remaining quota is exact after each phase).
func TestSeveralPoliciesAllOrNothingUnderManyGoroutines(t *testing.T) {
	s, c := newStore(t, ratelimit.MemoryConfig{})
	a := ratelimit.Policy{Name: "hourly", Limit: 30, Period: time.Hour, Burst: 5} // 35 at once, one back every 2 min
	b := ratelimit.Policy{Name: "lifetime", Limit: 100, Period: 100_000 * time.Hour}
	h := mustNew(t, ratelimit.Config{Store: s, Policies: []ratelimit.Policy{a, b}}).Handler(okHandler)
	phase := func(want int, wantRL string) {
		t.Helper()
		var admitted atomic.Int64
		var wg sync.WaitGroup
		for range 16 {
			wg.Go(func() {
				for range 50 {
					if do(h, "198.51.100.7:1").Code == 204 {
						admitted.Add(1)
					}
				}
			})
		}
		wg.Wait()
		if n := admitted.Load(); n != int64(want) {
			t.Fatalf("admitted %d of 800, want exactly %d", n, want)
		}
		if rl := do(h, "198.51.100.7:1").Header().Get("RateLimit"); !strings.HasPrefix(rl, wantRL) {
			t.Fatalf("RateLimit %q, want prefix %q", rl, wantRL)
		}
	}
	phase(35, `"hourly";r=0;t=120, "lifetime";r=65;`)
	c.advance(time.Hour + 10*time.Minute) // hourly full again, lifetime gains nothing worth a unit
	phase(35, `"hourly";r=0;t=120, "lifetime";r=30;`)
	c.advance(time.Hour + 10*time.Minute)
	phase(30, `"hourly";r=5;t=`) // lifetime binds now: hourly keeps 5
}

// The concurrency limit holds under many goroutines: never more than the
// limit run at once, and every slot comes back.
func TestConcurrencyNeverExceededUnderManyGoroutines(t *testing.T) {
	const limit = 3
	var running, peak atomic.Int64
	entered, release := make(chan struct{}, limit), make(chan struct{})
	m := mustNew(t, ratelimit.Config{Policies: []ratelimit.Policy{{Name: "p", Limit: 1e9, Period: time.Second}}, Concurrency: limit})
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := running.Add(1)
		for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
		}
		entered <- struct{}{}
		<-release
		running.Add(-1)
	}))
	var admitted, limited atomic.Int64
	var wg sync.WaitGroup
	count := func(code int) {
		switch code {
		case 200:
			admitted.Add(1)
		case 429:
			limited.Add(1)
		}
	}
	for range limit {
		wg.Go(func() { count(do(h, "198.51.100.7:1").Code) })
	}
	for range limit {
		<-entered
	}
	// Every slot is held: 29 more, concurrently, are all refused.
	for range 29 {
		wg.Go(func() { count(do(h, "198.51.100.7:1").Code) })
	}
	for limited.Load() < 29 {
		runtime.Gosched()
	}
	close(release)
	wg.Wait()
	if admitted.Load() != limit || peak.Load() != limit || limited.Load() != 29 {
		t.Fatalf("admitted %d, limited %d, peak %d, want %d, 29, %d", admitted.Load(), limited.Load(), peak.Load(), limit, limit)
	}
	if rec := do(h, "198.51.100.7:1"); rec.Code != 200 {
		t.Fatalf("after all returned: %d", rec.Code)
	}
}

// A handler that hijacks the connection releases its concurrency slot when
// it returns, also when it panics after the hijack (a real server: the
// hijack goes through the middleware's ResponseWriter untouched).
func TestConcurrencyReleasedAfterHijack(t *testing.T) {
	m := mustNew(t, ratelimit.Config{Policies: []ratelimit.Policy{{Name: "p", Limit: 1e9, Period: time.Second}}, Concurrency: 1})
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/plain" {
			return
		}
		conn, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		brw.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi")
		brw.Flush()
		conn.Close()
		if r.URL.Path == "/panic" {
			panic(http.ErrAbortHandler)
		}
	}))
	returned := make(chan struct{}, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() { returned <- struct{}{} }() // runs after the middleware's own release
		h.ServeHTTP(w, r)
	}))
	defer srv.Close()
	srv.Config.ErrorLog = nil
	get := func(path string) int {
		t.Helper()
		conn, err := net.Dial("tcp", srv.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		io.WriteString(conn, "GET "+path+" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	for _, path := range []string{"/hijack", "/panic"} {
		if code := get(path); code != 200 {
			t.Fatalf("%s: %d", path, code)
		}
		<-returned // the handler (and the middleware around it) returned
		if code := get("/plain"); code != 200 {
			t.Fatalf("after %s: %d, the concurrency slot was not released", path, code)
		}
		<-returned
	}
}

// The answers the middleware writes are RFC 9457 documents with the
// members the draft defines, and their status matches the response.
func TestRejectionsAreProblemDocuments(t *testing.T) {
	p := []ratelimit.Policy{{Name: "a", Limit: 1, Period: time.Hour}, {Name: "b", Limit: 1, Period: time.Minute}}
	check := func(rec *httptest.ResponseRecorder, status int, typ string) map[string]any {
		t.Helper()
		var doc map[string]any
		if rec.Code != status || rec.Header().Get("Content-Type") != "application/problem+json" {
			t.Fatalf("%d %q, want %d problem+json", rec.Code, rec.Header().Get("Content-Type"), status)
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
			t.Fatal(err)
		}
		if doc["status"] != float64(status) || (typ != "" && doc["type"] != typ) || doc["title"] == "" {
			t.Fatalf("document %v", doc)
		}
		return doc
	}
	h := mustNew(t, ratelimit.Config{Policies: p}).Handler(okHandler)
	do(h, "192.0.2.1:1")
	doc := check(do(h, "192.0.2.1:1"), 429, ratelimit.ProblemQuotaExceeded)
	if v, _ := json.Marshal(doc["violated-policies"]); string(v) != `["a","b"]` {
		t.Fatalf("violated-policies %s", v)
	}
	check(do(mustNew(t, ratelimit.Config{Policies: p, Store: failingStore{}, FailClosed: true}).Handler(okHandler), "192.0.2.1:1"), 503, "")
	check(do(mustNew(t, ratelimit.Config{Policies: p, KeyFunc: apiKey}).Handler(okHandler), "192.0.2.1:1"), 400, "")
	// A HEAD answer has no body but the same status and fields.
	r := httptest.NewRequest("HEAD", "/", nil)
	r.RemoteAddr = "192.0.2.1:1"
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	if rec.Code != 429 || rec.Body.Len() != 0 || rec.Header().Get("Retry-After") == "" {
		t.Fatalf("HEAD: %d %q %v", rec.Code, rec.Body, rec.Header())
	}
}

// The same client is one key however its address is written (native or
// IPv4-mapped, with a zone, through a proxy), and the IPv6 prefix edges are
// exact: the two ends of one /64 share a bucket, the next /64 does not.
func TestKeysBucketTheSameClientOnce(t *testing.T) {
	proxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::ffff:172.16.0.0/108")}
	one := []ratelimit.Policy{{Name: "p", Limit: 1, Period: time.Hour}}
	type req struct{ remote, xff string }
	tests := []struct {
		name        string
		cfg         ratelimit.Config
		first, same req
		other       req
	}{
		{"IPv4-mapped peer is the IPv4 peer", ratelimit.Config{}, req{"198.51.100.7:1", ""}, req{"[::ffff:198.51.100.7]:2", ""}, req{"198.51.100.8:1", ""}},
		{"zone ignored", ratelimit.Config{}, req{"[fe80::1%eth0]:1", ""}, req{"[fe80::1%eth1]:1", ""}, req{"[fe80:0:0:1::1]:1", ""}},
		{"/64 ends share a bucket, the next /64 does not", ratelimit.Config{}, req{"[2001:db8:0:1::]:1", ""}, req{"[2001:db8:0:1:ffff:ffff:ffff:ffff]:1", ""}, req{"[2001:db8:0:2::]:1", ""}},
		{"/48", ratelimit.Config{IPv6Prefix: 48}, req{"[2001:db8:0:1::]:1", ""}, req{"[2001:db8:0:ffff::1]:1", ""}, req{"[2001:db8:1::]:1", ""}},
		{"/128", ratelimit.Config{IPv6Prefix: 128}, req{"[2001:db8::1]:1", ""}, req{"[2001:db8::1]:2", ""}, req{"[2001:db8::2]:1", ""}},
		{"IPv4 /24", ratelimit.Config{IPv4Prefix: 24}, req{"198.51.100.1:1", ""}, req{"198.51.100.255:1", ""}, req{"198.51.101.0:1", ""}},
		{"proxied mapped client is the IPv4 client", ratelimit.Config{TrustedProxies: proxies}, req{"10.0.0.1:1", "198.51.100.7"}, req{"10.0.0.2:1", "::ffff:198.51.100.7, 10.9.9.9"}, req{"10.0.0.1:1", "198.51.100.8"}},
		{"mapped trusted-proxy prefix", ratelimit.Config{TrustedProxies: proxies}, req{"172.16.0.1:1", "198.51.100.7"}, req{"[::ffff:172.16.0.2]:1", "198.51.100.7"}, req{"172.16.0.1:1", "198.51.100.9"}},
		{"proxied client with a port", ratelimit.Config{TrustedProxies: proxies}, req{"10.0.0.1:1", "[2001:db8:0:1::1]:443"}, req{"10.0.0.1:1", "2001:db8:0:1::2"}, req{"10.0.0.1:1", "2001:db8:0:2::1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := tt.cfg
			cfg.Policies = one
			h := mustNew(t, cfg).Handler(okHandler)
			send := func(q req) int {
				if q.xff == "" {
					return do(h, q.remote).Code
				}
				return do(h, q.remote, "X-Forwarded-For", q.xff).Code
			}
			if c := send(tt.first); c != 204 {
				t.Fatalf("first: %d", c)
			}
			if c := send(tt.same); c != 429 {
				t.Fatalf("same client %v: %d, want 429 (one bucket)", tt.same, c)
			}
			if c := send(tt.other); c != 204 {
				t.Fatalf("other client %v: %d, want its own bucket", tt.other, c)
			}
		})
	}
}
