package redisstore_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/jiec/httpmw/idempotency"
	"github.com/jiec/httpmw/ratelimit"
	"github.com/jiec/httpmw/redisstore"
	"github.com/redis/go-redis/v9"
)

// These Examples run against the redis-server TestMain starts (REDIS_ADDR).
// That server lives for the whole test binary, so each Example uses keys of
// its own run (rand.Text) and gives the same output however often it runs.

// The client configuration the stores want: context deadlines honoured on
// reads and writes, and no client-side retries (the store's timeout and
// breaker decide). NewUniversalClient gives a Sentinel client with
// MasterName, a Cluster client with several Addrs.
func ExampleRateLimitStore_Take() {
	client := redis.NewUniversalClient(&redis.UniversalOptions{
		Addrs:                 []string{os.Getenv("REDIS_ADDR")},
		MaxRetries:            -1,
		ContextTimeoutEnabled: true,
	})
	defer client.Close()

	store, err := redisstore.NewRateLimit(client, redisstore.Options{Prefix: "example", Timeout: time.Second})
	if err != nil {
		fmt.Println(err)
		return
	}
	policies := []ratelimit.Policy{
		{Name: "burst", Limit: 2, Period: time.Second},
		{Name: "daily", Limit: 1000, Period: 24 * time.Hour},
	}
	states := make([]ratelimit.State, len(policies))
	caller := "198.51.100.7/" + rand.Text() // a fresh key: the server outlives one run
	for range 3 {
		allowed, err := store.Take(context.Background(), caller, policies, 1, states)
		if errors.Is(err, redisstore.ErrUnavailable) {
			fmt.Println("redis down: the middleware fails open or closed")
			return
		}
		fmt.Printf("allowed=%v burst remaining=%d daily remaining=%d retry within 500ms=%v\n",
			allowed, states[0].Remaining, states[1].Remaining, states[0].RetryAfter > 0 && states[0].RetryAfter <= 500*time.Millisecond)
	}
	// Output:
	// allowed=true burst remaining=1 daily remaining=999 retry within 500ms=false
	// allowed=true burst remaining=0 daily remaining=998 retry within 500ms=false
	// allowed=false burst remaining=0 daily remaining=998 retry within 500ms=true
}

func ExampleIdempotencyStore_Complete() {
	client := redis.NewClient(&redis.Options{
		Addr:                  os.Getenv("REDIS_ADDR"),
		MaxRetries:            -1,
		ContextTimeoutEnabled: true,
	})
	defer client.Close()

	store, err := redisstore.NewIdempotency(client, redisstore.Options{Prefix: "example", Timeout: time.Second})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	key := "order-42/" + rand.Text() // the client's Idempotency-Key, fresh per run
	first, _ := store.Acquire(ctx, key, "sha256:...", 30*time.Second)
	retry, _ := store.Acquire(ctx, key, "sha256:...", 30*time.Second) // another replica, meanwhile
	fmt.Println("first acquired:", first.Acquired, "retry acquired:", retry.Acquired, "(409)")

	rec := idempotency.Record{
		Fingerprint: "sha256:...", Status: http.StatusCreated,
		Header: http.Header{"Location": {"/orders/42"}}, Body: []byte(`{"id":42}`), Created: time.Now(),
	}
	if err := store.Complete(ctx, key, first.Token, rec, 24*time.Hour); err != nil {
		fmt.Println(err)
		return
	}
	replay, _ := store.Acquire(ctx, key, "sha256:...", 30*time.Second)
	fmt.Println("replay:", replay.Record.Status, replay.Record.Header.Get("Location"), string(replay.Record.Body))
	// Output:
	// first acquired: true retry acquired: false (409)
	// replay: 201 /orders/42 {"id":42}
}

// A ratelimit.Middleware on the Redis store: every replica built this way
// shares one limit per API key.
func ExampleNewRateLimit() {
	client := redis.NewUniversalClient(&redis.UniversalOptions{
		Addrs:                 []string{os.Getenv("REDIS_ADDR")},
		MaxRetries:            -1,
		ContextTimeoutEnabled: true,
	})
	defer client.Close()
	// Timeout: 50 ms by default; more here, where the first call also dials.
	store, err := redisstore.NewRateLimit(client, redisstore.Options{Timeout: time.Second})
	if err != nil {
		fmt.Println(err)
		return
	}
	limiter, err := ratelimit.New(ratelimit.Config{
		Policies: []ratelimit.Policy{{Name: "default", Limit: 2, Period: time.Minute}},
		Store:    store,
		KeyFunc:  func(r *http.Request) (string, error) { return r.Header.Get("X-Api-Key"), nil },
		// Redis down: admitted and logged (the default); FailClosed answers 503.
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	srv := httptest.NewServer(limiter.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "hello")
	})))
	defer srv.Close()

	apiKey := rand.Text()
	for range 3 {
		req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
		req.Header.Set("X-Api-Key", apiKey)
		res, err := srv.Client().Do(req)
		if err != nil {
			fmt.Println(err)
			return
		}
		res.Body.Close()
		fmt.Println(res.StatusCode, res.Header.Get("RateLimit-Policy"), res.Header.Get("RateLimit"))
		if ra := res.Header.Get("Retry-After"); ra != "" {
			fmt.Println("Retry-After:", ra)
		}
	}
	// Output:
	// 200 "default";q=2;w=60 "default";r=1;t=30
	// 200 "default";q=2;w=60 "default";r=0;t=30
	// 429 "default";q=2;w=60 "default";r=0;t=30
	// Retry-After: 30
}

// An idempotency.Middleware on the Redis store: a retried POST is replayed
// by whichever replica it reaches, and the handler runs once.
func ExampleNewIdempotency() {
	client := redis.NewUniversalClient(&redis.UniversalOptions{
		Addrs:                 []string{os.Getenv("REDIS_ADDR")},
		MaxRetries:            -1,
		ContextTimeoutEnabled: true,
	})
	defer client.Close()
	store, err := redisstore.NewIdempotency(client, redisstore.Options{Timeout: time.Second})
	if err != nil {
		fmt.Println(err)
		return
	}
	idem, err := idempotency.New(idempotency.Config{Store: store}) // Redis down: 503
	if err != nil {
		fmt.Println(err)
		return
	}
	runs := 0
	srv := httptest.NewServer(idem.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		runs++
		w.Header().Set("Location", "/payments/1")
		w.WriteHeader(http.StatusCreated)
		fmt.Fprint(w, `{"id":1}`)
	})))
	defer srv.Close()

	key := strconv.Quote(rand.Text()) // a client's key: a fresh sf-string per operation
	for range 2 {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/payments", strings.NewReader(`{"amount":100}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", key)
		res, err := srv.Client().Do(req)
		if err != nil {
			fmt.Println(err)
			return
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		fmt.Printf("%d %s replayed=%q runs=%d\n", res.StatusCode, body, res.Header.Get(idempotency.ReplayedHeader), runs)
	}
	// Output:
	// 201 {"id":1} replayed="" runs=1
	// 201 {"id":1} replayed="true" runs=1
}
