// Package redisstore keeps the state of the ratelimit and idempotency
// middlewares in Redis, so every replica of a service shares one limit and
// one record per idempotency key. It is a separate module: only users who
// import it download go-redis.
//
//	client := redis.NewUniversalClient(&redis.UniversalOptions{
//		Addrs:                 []string{"redis:6379"}, // several: Cluster; MasterName: Sentinel
//		MaxRetries:            -1,                     // no client retries on the decision path
//		ContextTimeoutEnabled: true,                   // required: lets Timeout bound reads
//	})
//	limits, err := redisstore.NewRateLimit(client, redisstore.Options{})
//	leases, err := redisstore.NewIdempotency(client, redisstore.Options{})
//
// # Rate limit
//
// RateLimitStore implements ratelimit.Store with GCRA in one Lua script per
// Take: one round trip for all the policies of a request, atomic, on the
// server's clock (redis.call('TIME'), so the replicas' clock skew does not
// matter). Each policy of a caller key is one string {prefix:key}:name
// holding its theoretical arrival time (the hash tag puts all of them in
// one Cluster slot); a request is charged to every policy only if every
// policy admits it. The script's arithmetic is exact:
// times are microseconds plus a remainder in 1/(1000*Limit) µs, so an
// emission interval Period/Limit that is not a whole nanosecond loses
// nothing, and every integer stays below 2^53 (Lua numbers are doubles).
// The answers follow ratelimit.Store's documented formulas, as the
// MemoryStore does: a policy that would admit a request another policy
// denies reports Allowed true and its Remaining without this request's
// charge; a cost above a policy's Limit+Burst is denied with RetryAfter
// math.MaxInt64 (never), not an error.
// Each key is written with PX set to the moment its policy is full again,
// so idle keys vanish. Policies are identified by
// Name in the key: two middlewares sharing a store and a key space need
// distinct names or prefixes.
//
// # Idempotency
//
// IdempotencyStore implements idempotency.Store with one string per key:
// a lease "L" token fingerprint written with SET NX PX (the lease timeout),
// replaced by the record "R" token record (with the record TTL) when the
// holder completes. Complete and Release check the fencing token in Lua, so
// a holder whose lease expired and was taken over gets ErrLeaseLost and
// cannot overwrite the new holder's work. The record is stored in the same
// atomic step that ends the lease. Every script may safely run twice (a
// client retry after a lost reply): a repeated Acquire finds its own lease,
// a repeated Complete its own record.
//
// # Faults
//
// Every call runs under Options.Timeout (default 50 ms) as a context
// deadline, covering the wait for a pooled connection, dialing and the
// reply. go-redis applies a context deadline to socket reads only with
// ContextTimeoutEnabled, so NewRateLimit and NewIdempotency reject clients
// without it. Retries inside go-redis (MaxRetries, 3 by default) would
// spend the same budget on a dead server: use MaxRetries -1. go-redis also
// retries a refused dial every 100 ms (DialerRetries, default 5); the
// deadline bounds that too, and DialerRetries 1 makes a refused connection
// fail at once.
//
// A circuit breaker counts consecutive failed calls; at BreakerThreshold
// (default 5) it opens and every call returns ErrCircuitOpen without
// touching the network; after BreakerCooldown (default 250 ms) one probe
// call goes through, whose success closes it. A dead Redis therefore costs
// at most Timeout per request for the first few requests, then nothing, and
// a restarted Redis is used again within the cooldown. Every Redis failure
// wraps ErrUnavailable; the middleware then applies its choice: ratelimit
// admits and logs by default (FailClosed: 503 with Retry-After: 1),
// idempotency answers 503 problem+json by default (FailOpen runs the handler
// unprotected).
// A caller whose own context ends is not counted as a Redis failure.
//
// The breaker is per store, not per Cluster node: one dead master opens it
// for all keys. Redis Cluster itself keeps a restarted master refusing
// commands for 2 s (CLUSTER_WRITABLE_DELAY).
//
// Keys longer than 256 bytes are replaced by their SHA-256, so hostile
// input cannot grow Redis memory.
package redisstore
