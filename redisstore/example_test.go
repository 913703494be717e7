package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/jiec/httpmw/idempotency"
	"github.com/jiec/httpmw/ratelimit"
	"github.com/jiec/httpmw/redisstore"
	"github.com/redis/go-redis/v9"
)

// The client configuration the stores want: context deadlines honoured on
// reads and writes, and no client-side retries (the store's timeout and
// breaker decide). NewUniversalClient gives a Sentinel client with
// MasterName, a Cluster client with several Addrs.
func ExampleNewRateLimit() {
	client := redis.NewUniversalClient(&redis.UniversalOptions{
		Addrs:                 []string{os.Getenv("REDIS_ADDR")},
		MaxRetries:            -1,
		ContextTimeoutEnabled: true,
	})
	defer client.Close()

	store, err := redisstore.NewRateLimit(client, redisstore.Options{Prefix: "example"})
	if err != nil {
		fmt.Println(err)
		return
	}
	policies := []ratelimit.Policy{
		{Name: "burst", Limit: 2, Period: time.Second},
		{Name: "daily", Limit: 1000, Period: 24 * time.Hour},
	}
	states := make([]ratelimit.State, len(policies))
	for range 3 {
		allowed, err := store.Take(context.Background(), "198.51.100.7", policies, 1, states)
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

func ExampleNewIdempotency() {
	client := redis.NewClient(&redis.Options{
		Addr:                  os.Getenv("REDIS_ADDR"),
		MaxRetries:            -1,
		ContextTimeoutEnabled: true,
	})
	defer client.Close()

	store, err := redisstore.NewIdempotency(client, redisstore.Options{Prefix: "example"})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	first, _ := store.Acquire(ctx, "order-42", "sha256:...", 30*time.Second)
	retry, _ := store.Acquire(ctx, "order-42", "sha256:...", 30*time.Second) // another replica, meanwhile
	fmt.Println("first acquired:", first.Acquired, "retry acquired:", retry.Acquired, "(409)")

	rec := idempotency.Record{
		Fingerprint: "sha256:...", Status: http.StatusCreated,
		Header: http.Header{"Location": {"/orders/42"}}, Body: []byte(`{"id":42}`), Created: time.Now(),
	}
	if err := store.Complete(ctx, "order-42", first.Token, rec, 24*time.Hour); err != nil {
		fmt.Println(err)
		return
	}
	replay, _ := store.Acquire(ctx, "order-42", "sha256:...", 30*time.Second)
	fmt.Println("replay:", replay.Record.Status, replay.Record.Header.Get("Location"), string(replay.Record.Body))
	// Output:
	// first acquired: true retry acquired: false (409)
	// replay: 201 /orders/42 {"id":42}
}
