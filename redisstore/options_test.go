package redisstore_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jiec/httpmw/ratelimit"
	"github.com/jiec/httpmw/redisstore"
	"github.com/redis/go-redis/v9"
)

func TestNewRejectsBadOptionsNamingEach(t *testing.T) {
	lax := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"}) // ContextTimeoutEnabled false
	defer lax.Close()
	good := newClient(t, "127.0.0.1:1")
	for _, tc := range []struct {
		name   string
		client redis.UniversalClient
		opts   redisstore.Options
		want   []string
	}{
		{"nil client", nil, redisstore.Options{}, []string{"client is nil"}},
		{"context timeouts off", lax, redisstore.Options{}, []string{"ContextTimeoutEnabled"}},
		{"every field", good, redisstore.Options{Prefix: "a{b", Timeout: -1, BreakerThreshold: -2, BreakerCooldown: -3},
			[]string{`Prefix "a{b"`, "Timeout -1ns", "BreakerThreshold -2", "BreakerCooldown -3ns"}},
		{"long prefix", good, redisstore.Options{Prefix: strings.Repeat("p", 65)}, []string{"Prefix"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err1 := redisstore.NewRateLimit(tc.client, tc.opts)
			_, err2 := redisstore.NewIdempotency(tc.client, tc.opts)
			for _, err := range []error{err1, err2} {
				if err == nil {
					t.Fatal("accepted")
				}
				for _, w := range tc.want {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not name %q", err, w)
					}
				}
			}
		})
	}
	cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{"127.0.0.1:1"}})
	defer cc.Close()
	if _, err := redisstore.NewRateLimit(cc, redisstore.Options{}); err == nil {
		t.Error("cluster client without ContextTimeoutEnabled accepted")
	}
}

func TestTakeRejectsBadInputWithoutCallingRedis(t *testing.T) {
	// Port 1 refuses: a call would fail with ErrUnavailable.
	store, err := redisstore.NewRateLimit(newClient(t, "127.0.0.1:1"), redisstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ok := ratelimit.Policy{Name: "p", Limit: 1, Period: time.Second}
	many := make([]ratelimit.Policy, 65)
	for i := range many {
		many[i] = ok
	}
	for _, tc := range []struct {
		name     string
		policies []ratelimit.Policy
		cost     int64
		states   int
	}{
		{"no policies", nil, 1, 0},
		{"states length", []ratelimit.Policy{ok}, 1, 2},
		{"cost 0", []ratelimit.Policy{ok}, 0, 1},
		{"limit 0", []ratelimit.Policy{{Name: "p", Period: time.Second}}, 1, 1},
		{"period 0", []ratelimit.Policy{{Name: "p", Limit: 1}}, 1, 1},
		{"negative burst", []ratelimit.Policy{{Name: "p", Limit: 1, Period: time.Second, Burst: -1}}, 1, 1},
		{"tau beyond 2^52 µs", []ratelimit.Policy{{Name: "p", Limit: 1, Period: 1<<62 + 1, Burst: 10}}, 1, 1},
		{"limit beyond exact range", []ratelimit.Policy{{Name: "p", Limit: 1 << 50, Period: time.Second}}, 1, 1},
		{"too many policies", many, 1, 65},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := store.Take(context.Background(), "k", tc.policies, tc.cost, make([]ratelimit.State, tc.states))
			if err == nil || errors.Is(err, redisstore.ErrUnavailable) {
				t.Fatalf("error %v, want a validation error", err)
			}
		})
	}
	if store.CircuitOpen() {
		t.Error("validation errors counted by the breaker")
	}
}

func TestIdempotencyRejectsBadDurations(t *testing.T) {
	store, err := redisstore.NewIdempotency(newClient(t, "127.0.0.1:1"), redisstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.Acquire(context.Background(), "k", "fp", 0); err == nil || errors.Is(err, redisstore.ErrUnavailable) {
		t.Errorf("lease timeout 0: %v", err)
	}
	if err := store.Complete(context.Background(), "k", strings.Repeat("A", 26), testRecord, -time.Second); err == nil || errors.Is(err, redisstore.ErrUnavailable) {
		t.Errorf("ttl < 0: %v", err)
	}
}

// A caller that gives up (client disconnected) is not a Redis failure.
func TestCanceledCallerDoesNotOpenBreaker(t *testing.T) {
	srv := startRedis(t)
	store, err := redisstore.NewRateLimit(newClient(t, srv.Addr), redisstore.Options{BreakerThreshold: 1})
	if err != nil {
		t.Fatal(err)
	}
	srv.Pause(t)
	defer srv.Resume(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Millisecond)
	defer cancel()
	p := []ratelimit.Policy{{Name: "p", Limit: 1, Period: time.Second}}
	_, err = store.Take(ctx, "k", p, 1, make([]ratelimit.State, 1))
	if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, redisstore.ErrUnavailable) {
		t.Fatalf("error %v, want the caller's context error", err)
	}
	if store.CircuitOpen() {
		t.Fatal("the caller's deadline opened the breaker")
	}
}
