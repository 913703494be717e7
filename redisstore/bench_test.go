package redisstore_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/jiec/httpmw/idempotency"
	"github.com/jiec/httpmw/ratelimit"
	"github.com/jiec/httpmw/redisstore"
)

// Benchmarks against a local redis-server on loopback. PING is the floor:
// one round trip through go-redis. redis_rate (go-redis/redis_rate/v10,
// GCRA in Lua too) is the peer, on the same client.

func BenchmarkPing(b *testing.B) {
	client := newClient(b, startRedis(b).Addr)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := client.Ping(ctx).Err(); err != nil {
			b.Fatal(err)
		}
	}
}

func benchTake(b *testing.B, policies []ratelimit.Policy) {
	client := newClient(b, startRedis(b).Addr)
	store, err := redisstore.NewRateLimit(client, benchOpts)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	states := make([]ratelimit.State, len(policies))
	b.ReportAllocs()
	for b.Loop() {
		if ok, err := store.Take(ctx, "198.51.100.7", policies, 1, states); err != nil || !ok {
			b.Fatal(ok, err)
		}
	}
}

// benchOpts: a generous timeout, so a scheduler stall on a shared machine
// does not fail a benchmark (the default is measured by the fault tests).
var benchOpts = redisstore.Options{Timeout: time.Second}

var hugeLimit = ratelimit.Policy{Name: "default", Limit: 1e12, Period: time.Second}

func BenchmarkTake(b *testing.B) { benchTake(b, []ratelimit.Policy{hugeLimit}) }

func BenchmarkTakeTwoPolicies(b *testing.B) {
	benchTake(b, []ratelimit.Policy{hugeLimit, {Name: "daily", Limit: 1e12, Period: 24 * time.Hour}})
}

func BenchmarkRedisRateAllow(b *testing.B) {
	client := newClient(b, startRedis(b).Addr)
	limiter := redis_rate.NewLimiter(client)
	ctx := context.Background()
	limit := redis_rate.PerSecond(1e9)
	b.ReportAllocs()
	for b.Loop() {
		if res, err := limiter.Allow(ctx, "198.51.100.7", limit); err != nil || res.Allowed == 0 {
			b.Fatal(res, err)
		}
	}
}

func keys(n int) []string {
	k := make([]string, n)
	for i := range k {
		k[i] = "10.0." + strconv.Itoa(i/256) + "." + strconv.Itoa(i%256)
	}
	return k
}

func BenchmarkTakeParallel(b *testing.B) {
	client := newClient(b, startRedis(b).Addr)
	store, err := redisstore.NewRateLimit(client, benchOpts)
	if err != nil {
		b.Fatal(err)
	}
	ks := keys(10000)
	policies := []ratelimit.Policy{hugeLimit}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		states := make([]ratelimit.State, 1)
		i := 0
		for pb.Next() {
			i++
			if _, err := store.Take(context.Background(), ks[i%len(ks)], policies, 1, states); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkRedisRateAllowParallel(b *testing.B) {
	client := newClient(b, startRedis(b).Addr)
	limiter := redis_rate.NewLimiter(client)
	ks := keys(10000)
	limit := redis_rate.PerSecond(1e9)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			i++
			if _, err := limiter.Allow(context.Background(), ks[i%len(ks)], limit); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkTakeCircuitOpen is the cost of a request while Redis is down
// and the breaker open.
func BenchmarkTakeCircuitOpen(b *testing.B) {
	srv := startRedis(b)
	store, err := redisstore.NewRateLimit(newClient(b, srv.Addr), redisstore.Options{BreakerCooldown: time.Hour, BreakerThreshold: 1})
	if err != nil {
		b.Fatal(err)
	}
	srv.Kill(b)
	policies := []ratelimit.Policy{hugeLimit}
	states := make([]ratelimit.State, 1)
	store.Take(context.Background(), "k", policies, 1, states) // opens the breaker
	b.ReportAllocs()
	for b.Loop() {
		if _, err := store.Take(context.Background(), "k", policies, 1, states); err != redisstore.ErrCircuitOpen {
			b.Fatal(err)
		}
	}
}

var benchRecord = idempotency.Record{
	Fingerprint: "sha256:2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae",
	Status:      http.StatusCreated,
	Header:      http.Header{"Content-Type": {"application/json"}, "Location": {"/orders/42"}},
	Body:        bytes.Repeat([]byte("x"), 1024),
	Created:     time.Now(),
}

// BenchmarkAcquireComplete is the first request for a key: lease, then
// the record (1 KiB body) stored — two round trips.
func BenchmarkAcquireComplete(b *testing.B) {
	client := newClient(b, startRedis(b).Addr)
	store, err := redisstore.NewIdempotency(client, benchOpts)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		i++
		key := "order-" + strconv.Itoa(i)
		l, err := store.Acquire(ctx, key, benchRecord.Fingerprint, 30*time.Second)
		if err != nil || !l.Acquired {
			b.Fatal(l, err)
		}
		if err := store.Complete(ctx, key, l.Token, benchRecord, time.Minute); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAcquireReplay is a retry answered from the record (1 KiB body).
func BenchmarkAcquireReplay(b *testing.B) {
	client := newClient(b, startRedis(b).Addr)
	store, err := redisstore.NewIdempotency(client, benchOpts)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	l, err := store.Acquire(ctx, "order", benchRecord.Fingerprint, 30*time.Second)
	if err != nil || !l.Acquired {
		b.Fatal(l, err)
	}
	if err := store.Complete(ctx, "order", l.Token, benchRecord, time.Minute); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if l, err := store.Acquire(ctx, "order", benchRecord.Fingerprint, 30*time.Second); err != nil || l.Record == nil {
			b.Fatal(l, err)
		}
	}
}

// BenchmarkInterleaved runs PING, Take and redis_rate's Allow in turn on one
// server and client, so that the noise of a shared machine hits all three
// alike, and reports the median of each and the ratios of the medians.
func BenchmarkInterleaved(b *testing.B) {
	client := newClient(b, startRedis(b).Addr)
	store, err := redisstore.NewRateLimit(client, benchOpts)
	if err != nil {
		b.Fatal(err)
	}
	limiter := redis_rate.NewLimiter(client)
	limit := redis_rate.PerSecond(1e9)
	policies := []ratelimit.Policy{hugeLimit}
	states := make([]ratelimit.State, 1)
	ctx := context.Background()
	var ping, take, peer []time.Duration
	for b.Loop() {
		t0 := time.Now()
		if err := client.Ping(ctx).Err(); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		if _, err := store.Take(ctx, "198.51.100.7", policies, 1, states); err != nil {
			b.Fatal(err)
		}
		t2 := time.Now()
		if _, err := limiter.Allow(ctx, "198.51.100.7", limit); err != nil {
			b.Fatal(err)
		}
		ping, take, peer = append(ping, t1.Sub(t0)), append(take, t2.Sub(t1)), append(peer, time.Since(t2))
	}
	mp, mt, mr := median(ping), median(take), median(peer)
	b.ReportMetric(float64(mp.Microseconds()), "ping-µs")
	b.ReportMetric(float64(mt.Microseconds()), "take-µs")
	b.ReportMetric(float64(mr.Microseconds()), "redis_rate-µs")
	b.ReportMetric(float64(mt)/float64(mp), "take/ping")
	b.ReportMetric(float64(mt)/float64(mr), "take/redis_rate")
}

func median(d []time.Duration) time.Duration {
	slices.Sort(d)
	return d[len(d)/2]
}

// BenchmarkMiddlewareRateLimit is one request through ratelimit.Middleware
// (no network between client and app: httptest.NewRecorder), on the
// Redis store and, for comparison, on the memory store.
func BenchmarkMiddlewareRateLimit(b *testing.B) {
	client := newClient(b, startRedis(b).Addr)
	rds, err := redisstore.NewRateLimit(client, benchOpts)
	if err != nil {
		b.Fatal(err)
	}
	mem, err := ratelimit.NewMemoryStore(ratelimit.MemoryConfig{})
	if err != nil {
		b.Fatal(err)
	}
	for _, s := range []struct {
		name  string
		store ratelimit.Store
	}{{"Redis", rds}, {"Memory", mem}} {
		b.Run(s.name, func(b *testing.B) {
			m, err := ratelimit.New(ratelimit.Config{Policies: []ratelimit.Policy{hugeLimit}, Store: s.store})
			if err != nil {
				b.Fatal(err)
			}
			h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			b.ReportAllocs()
			for b.Loop() {
				w := httptest.NewRecorder()
				h.ServeHTTP(w, req)
				if w.Code != http.StatusOK {
					b.Fatal(w.Code)
				}
			}
		})
	}
}

// BenchmarkMiddlewareIdempotencyReplay is a retried POST answered from the
// Redis record by idempotency.Middleware.
func BenchmarkMiddlewareIdempotencyReplay(b *testing.B) {
	client := newClient(b, startRedis(b).Addr)
	store, err := redisstore.NewIdempotency(client, benchOpts)
	if err != nil {
		b.Fatal(err)
	}
	m, err := idempotency.New(idempotency.Config{Store: store})
	if err != nil {
		b.Fatal(err)
	}
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusCreated)
		w.Write(benchRecord.Body)
	}))
	serve := func() int {
		req := httptest.NewRequest(http.MethodPost, "/orders", strings.NewReader(`{"amount":100}`))
		req.Header.Set("Idempotency-Key", `"bench"`)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		return w.Code
	}
	if code := serve(); code != http.StatusCreated {
		b.Fatal(code)
	}
	b.ReportAllocs()
	for b.Loop() {
		if code := serve(); code != http.StatusCreated {
			b.Fatal(code)
		}
	}
}
