package bench

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-chi/httprate"
	"github.com/jiec/httpmw/ratelimit"
	"github.com/sethvargo/go-limiter/httplimit"
	"github.com/sethvargo/go-limiter/memorystore"
	"github.com/ulule/limiter/v3"
	ulstdlib "github.com/ulule/limiter/v3/drivers/middleware/stdlib"
	ulmemory "github.com/ulule/limiter/v3/drivers/store/memory"
	"golang.org/x/time/rate"
)

// Every limiter is set so high that each call takes the "allowed" path
// (and, for "rejected", so low that each call after the first is denied).
const huge = 1 << 40

type rlWriter struct{ h http.Header }

func (w *rlWriter) Header() http.Header         { return w.h }
func (w *rlWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *rlWriter) WriteHeader(int)             {}

var rlKeys = func() []string {
	ks := make([]string, 10_000)
	for i := range ks {
		ks[i] = "10.0." + strconv.Itoa(i>>8) + "." + strconv.Itoa(i&255)
	}
	return ks
}()

// takeFunc is one limiter decision for a key.
type takeFunc func(key string) bool

func rlOurs(b *testing.B, limit int64, period time.Duration) takeFunc {
	s, err := ratelimit.NewMemoryStore(ratelimit.MemoryConfig{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	ps := []ratelimit.Policy{{Name: "p", Limit: limit, Period: period}}
	ctx := context.Background()
	return func(key string) bool {
		var st [1]ratelimit.State // stays on the stack: s is a concrete *MemoryStore
		ok, _ := s.Take(ctx, key, ps, 1, st[:])
		return ok
	}
}

// rlXTime is the usual map of x/time/rate limiters under one mutex.
func rlXTime(_ *testing.B, limit int64, period time.Duration) takeFunc {
	var mu sync.Mutex
	m := map[string]*rate.Limiter{}
	every := rate.Every(period / time.Duration(limit))
	if period/time.Duration(limit) == 0 {
		every = rate.Inf
	}
	return func(key string) bool {
		mu.Lock()
		l := m[key]
		if l == nil {
			l = rate.NewLimiter(every, int(min(limit, 1<<30)))
			m[key] = l
		}
		mu.Unlock()
		return l.Allow()
	}
}

func rlSethvargo(b *testing.B, limit int64, period time.Duration) takeFunc {
	s, err := memorystore.New(&memorystore.Config{Tokens: uint64(limit), Interval: period})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Close(context.Background()) })
	ctx := context.Background()
	return func(key string) bool {
		_, _, _, ok, _ := s.Take(ctx, key)
		return ok
	}
}

func rlUlule(_ *testing.B, limit int64, period time.Duration) takeFunc {
	l := limiter.New(ulmemory.NewStore(), limiter.Rate{Period: period, Limit: limit})
	ctx := context.Background()
	return func(key string) bool {
		c, _ := l.Get(ctx, key)
		return !c.Reached
	}
}

var rlStores = []struct {
	name string
	new  func(*testing.B, int64, time.Duration) takeFunc
}{{"httpmw", rlOurs}, {"xtime", rlXTime}, {"sethvargo", rlSethvargo}, {"ulule", rlUlule}}

func BenchmarkRateLimitStore(b *testing.B) {
	for _, s := range rlStores {
		b.Run("allowed/one-key/"+s.name, func(b *testing.B) {
			take := s.new(b, huge, time.Second)
			b.ReportAllocs()
			for b.Loop() {
				take("198.51.100.7")
			}
		})
		b.Run("rejected/one-key/"+s.name, func(b *testing.B) {
			take := s.new(b, 1, 24*time.Hour)
			take("198.51.100.7")
			b.ReportAllocs()
			for b.Loop() {
				if take("198.51.100.7") {
					b.Fatal("admitted")
				}
			}
		})
		b.Run("allowed/10k-keys/parallel/"+s.name, func(b *testing.B) {
			take := s.new(b, huge, time.Second)
			var seq atomic.Int64
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				i := int(seq.Add(1)) * 4999
				for pb.Next() {
					i++
					take(rlKeys[i%len(rlKeys)])
				}
			})
		})
	}
}

// httprateKeyByIP keys by the peer address as httpmw does without trusted
// proxies (httprate's own KeyByIP is deprecated for the same reason).
func httprateKeyByIP(r *http.Request) (string, error) {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	return httprate.CanonicalizeIP(host), nil
}

func BenchmarkRateLimitMiddleware(b *testing.B) {
	next := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	ours, err := ratelimit.New(ratelimit.Config{Policies: []ratelimit.Policy{{Name: "p", Limit: huge, Period: time.Second}}})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { ours.Close() })
	sv, _ := memorystore.New(&memorystore.Config{Tokens: huge, Interval: time.Second})
	b.Cleanup(func() { _ = sv.Close(context.Background()) })
	svm, _ := httplimit.NewMiddleware(sv, httplimit.IPKeyFunc())
	ul := ulstdlib.NewMiddleware(limiter.New(ulmemory.NewStore(), limiter.Rate{Period: time.Second, Limit: huge}))
	for _, mw := range []struct {
		name string
		h    http.Handler
	}{
		{"baseline", next},
		{"httpmw", ours.Handler(next)},
		{"httprate", httprate.LimitBy(1<<30, time.Second, httprateKeyByIP)(next)},
		{"sethvargo", svm.Handle(next)},
		{"ulule", ul.Handler(next)},
	} {
		b.Run(mw.name, func(b *testing.B) {
			r := httptest.NewRequest("GET", "/api", nil)
			r.RemoteAddr = "198.51.100.7:1234"
			w := &rlWriter{h: http.Header{}}
			b.ReportAllocs()
			for b.Loop() {
				clear(w.h)
				mw.h.ServeHTTP(w, r)
			}
		})
	}
}
