package ratelimit_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"time"

	"github.com/jiec/httpmw/ratelimit"
)

// Per client IP behind a load balancer at 10.0.0.0/8: the balancer's
// X-Forwarded-For entry is the key, whatever the client wrote before it.
func ExampleNew_perIPBehindAProxy() {
	m, err := ratelimit.New(ratelimit.Config{
		Policies:       []ratelimit.Policy{{Name: "per-ip", Limit: 2, Period: time.Minute}},
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")},
	})
	if err != nil {
		panic(err)
	}
	defer m.Close()
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	for i := 0; i < 3; i++ {
		r := httptest.NewRequest("GET", "/api/items", nil)
		r.RemoteAddr = "10.0.0.1:5555"
		r.Header.Set("X-Forwarded-For", fmt.Sprintf("203.0.113.%d, 198.51.100.7", i)) // forged left part
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		fmt.Printf("%d %s Retry-After=%q\n", rec.Code, rec.Header().Get("RateLimit"), rec.Header().Get("Retry-After"))
	}
	// Output:
	// 200 "per-ip";r=1;t=30 Retry-After=""
	// 200 "per-ip";r=0;t=30 Retry-After=""
	// 429 "per-ip";r=0;t=30 Retry-After="30"
}

// Per API key with a burst policy and a daily quota.
func ExampleNew_perAPIKeyWithTwoPolicies() {
	m, err := ratelimit.New(ratelimit.Config{
		Policies: []ratelimit.Policy{
			{Name: "burst", Limit: 10, Period: time.Second},
			{Name: "daily", Limit: 1000, Period: 24 * time.Hour},
		},
		KeyFunc: func(r *http.Request) (string, error) {
			k := r.Header.Get("X-Api-Key")
			if k == "" {
				return "", errors.New("missing X-Api-Key")
			}
			return "apikey:" + k, nil
		},
	})
	if err != nil {
		panic(err)
	}
	defer m.Close()
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	r := httptest.NewRequest("GET", "/api/items", nil)
	r.Header.Set("X-Api-Key", "k-123")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	fmt.Println(rec.Code)
	fmt.Println(rec.Header().Get("RateLimit-Policy"))
	fmt.Println(rec.Header().Get("RateLimit"))

	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/api/items", nil))
	fmt.Println(rec.Code, rec.Header().Get("Content-Type"))
	// Output:
	// 200
	// "burst";q=10;w=1, "daily";q=1000;w=86400
	// "burst";r=9;t=1, "daily";r=999;t=87
	// 400 application/problem+json
}

// A MemoryStore can be shared by several middlewares (e.g. per route), and
// is closed by its owner.
func ExampleNewMemoryStore() {
	store, err := ratelimit.NewMemoryStore(ratelimit.MemoryConfig{MaxKeys: 1 << 20})
	if err != nil {
		panic(err)
	}
	defer store.Close()
	login, _ := ratelimit.New(ratelimit.Config{Store: store, Policies: []ratelimit.Policy{{Name: "login", Limit: 5, Period: time.Minute}}})
	api, _ := ratelimit.New(ratelimit.Config{Store: store, Policies: []ratelimit.Policy{{Name: "api", Limit: 100, Period: time.Second, Burst: 50}}})
	mux := http.NewServeMux()
	mux.Handle("/login", login.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})))
	mux.Handle("/api/", api.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})))
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest("POST", "/login", nil))
	fmt.Println(rec.Header().Get("RateLimit-Policy"), rec.Header().Get("RateLimit"))
	// Output: "login";q=5;w=60 "login";r=4;t=12
}

// The Store contract: one atomic call per request over all policies.
func ExampleMemoryStore_Take() {
	store, _ := ratelimit.NewMemoryStore(ratelimit.MemoryConfig{})
	defer store.Close()
	policies := []ratelimit.Policy{{Name: "p", Limit: 1, Period: time.Hour}}
	states := make([]ratelimit.State, 1)
	for i := 0; i < 2; i++ {
		ok, err := store.Take(context.Background(), "client-1", policies, 1, states)
		fmt.Println(ok, err, states[0].Remaining, states[0].Reset.Round(time.Minute), states[0].RetryAfter.Round(time.Minute))
	}
	// Output:
	// true <nil> 0 1h0m0s 0s
	// false <nil> 0 1h0m0s 1h0m0s
}

// ClientIP is the address the middleware keys by; a KeyFunc can combine it
// with a route, for instance.
func ExampleMiddleware_ClientIP() {
	m, _ := ratelimit.New(ratelimit.Config{
		Policies:       []ratelimit.Policy{{Name: "p", Limit: 1, Period: time.Second}},
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")},
		ProxyHeader:    "Forwarded",
	})
	defer m.Close()
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = "10.1.2.3:4444"
	r.Header.Set("Forwarded", `for=192.0.2.1, for="[2001:db8::7]:4711", for=10.0.0.9`)
	a, ok := m.ClientIP(r)
	fmt.Println(a, ok)
	// Output: 2001:db8::7 true
}
