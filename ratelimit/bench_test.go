package ratelimit_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jiec/httpmw/ratelimit"
)

func benchStore(b *testing.B, p ratelimit.Policy, keys int, parallel bool) {
	s, err := ratelimit.NewMemoryStore(ratelimit.MemoryConfig{MaxKeys: 1 << 20})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ks := make([]string, keys)
	for i := range ks {
		ks[i] = "10.0." + strconv.Itoa(i>>8) + "." + strconv.Itoa(i&255)
	}
	ps := []ratelimit.Policy{p}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	if !parallel {
		st := make([]ratelimit.State, 1)
		for i := 0; b.Loop(); i++ {
			_, _ = s.Take(ctx, ks[i%keys], ps, 1, st)
		}
		return
	}
	var seq atomic.Int64
	b.RunParallel(func(pb *testing.PB) {
		st := make([]ratelimit.State, 1)
		i := int(seq.Add(1)) * 7919
		for pb.Next() {
			i++
			_, _ = s.Take(ctx, ks[i%keys], ps, 1, st)
		}
	})
}

var (
	allowAll = ratelimit.Policy{Name: "p", Limit: 1 << 40, Period: time.Second}
	denyAll  = ratelimit.Policy{Name: "p", Limit: 1, Period: 24 * time.Hour}
)

func BenchmarkMemoryStoreTake(b *testing.B) {
	b.Run("allowed/one-key", func(b *testing.B) { benchStore(b, allowAll, 1, false) })
	b.Run("rejected/one-key", func(b *testing.B) { benchStore(b, denyAll, 1, false) })
	b.Run("allowed/10k-keys/parallel", func(b *testing.B) { benchStore(b, allowAll, 10_000, true) })
	b.Run("rejected/10k-keys/parallel", func(b *testing.B) { benchStore(b, denyAll, 10_000, true) })
}

func BenchmarkMiddleware(b *testing.B) {
	m, err := ratelimit.New(ratelimit.Config{Policies: []ratelimit.Policy{allowAll}})
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	h := m.Handler(okHandler)
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = "198.51.100.7:1234"
	w := &nopWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		h.ServeHTTP(w, r)
	}
}

// BenchmarkMemoryPerKey reports the heap the store holds per key with 1M
// IPv6 /64 keys (the store keeps no key bytes; the caller's key strings,
// built before the first reading, are not counted).
func BenchmarkMemoryPerKey(b *testing.B) {
	const n = 1 << 20
	for b.Loop() {
		keys := make([]string, n)
		for i := range keys {
			keys[i] = "2001:db8:" + strconv.FormatInt(int64(i), 16) + "::/64"
		}
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		s, _ := ratelimit.NewMemoryStore(ratelimit.MemoryConfig{MaxKeys: n})
		st := make([]ratelimit.State, 1)
		ps := []ratelimit.Policy{allowAll}
		for _, k := range keys {
			_, _ = s.Take(context.Background(), k, ps, 1, st)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		total := float64(after.HeapAlloc-before.HeapAlloc) / n
		b.ReportMetric(total, "B/key")
		b.ReportMetric(float64(s.Len()), "keys")
		runtime.KeepAlive(s)
		runtime.KeepAlive(keys)
	}
}
