package redisstore_test

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/jiec/httpmw/ratelimit"
	"github.com/jiec/httpmw/redisstore"
)

// The memory store's clock cannot be set from this module (its SetClock is
// in ratelimit's export_test.go), so the differential tests compare the two
// stores at one instant: the Redis script's clock is frozen, the memory
// store's runs for the few milliseconds of the test, and every policy's
// emission interval is at least a minute. Then Allowed, Remaining and the
// admission agree exactly (Remaining = C - ceil(d/T) and d is a whole
// number of intervals minus at most the elapsed time), and Reset and
// RetryAfter differ by at most the elapsed time. How the stores evolve
// over time is checked against store.go's formulas by
// TestGCRAMatchesExactModel.

// takeBoth runs one Take on both stores and compares the answers.
func takeBoth(t *testing.T, mem *ratelimit.MemoryStore, rds *redisstore.RateLimitStore, started time.Time, key string, ps []ratelimit.Policy, cost int64) (bool, []ratelimit.State) {
	t.Helper()
	ms, rs := make([]ratelimit.State, len(ps)), make([]ratelimit.State, len(ps))
	mok, err := mem.Take(context.Background(), key, ps, cost, ms)
	if err != nil {
		t.Fatal(err)
	}
	rok, err := rds.Take(context.Background(), key, ps, cost, rs)
	if err != nil {
		t.Fatal(err)
	}
	elapsed := time.Since(started)
	if mok != rok {
		t.Fatalf("cost %d: memory admitted %v, redis %v", cost, mok, rok)
	}
	for i := range ps {
		m, r := ms[i], rs[i]
		if m.Allowed != r.Allowed || m.Remaining != r.Remaining {
			t.Fatalf("cost %d, policy %s: memory %+v, redis %+v", cost, ps[i].Name, m, r)
		}
		close := func(m, r time.Duration) bool {
			if r == math.MaxInt64 || r == 0 {
				return m == r
			}
			return m <= r && m >= r-elapsed-1
		}
		if !close(m.Reset, r.Reset) || !close(m.RetryAfter, r.RetryAfter) {
			t.Fatalf("cost %d, policy %s: memory %+v, redis %+v (%v elapsed)", cost, ps[i].Name, m, r, elapsed)
		}
	}
	return rok, rs
}

func diffStores(t *testing.T) (*ratelimit.MemoryStore, *redisstore.RateLimitStore, time.Time) {
	srv := startRedis(t)
	rds, err := redisstore.NewRateLimit(newClient(t, srv.Addr), slowOK)
	if err != nil {
		t.Fatal(err)
	}
	frozen := time.Now().UnixMicro()
	rds.SetScriptClock(func() int64 { return frozen })
	mem, err := ratelimit.NewMemoryStore(ratelimit.MemoryConfig{})
	if err != nil {
		t.Fatal(err)
	}
	return mem, rds, time.Now()
}

// TestRedisStoreMatchesMemoryStore feeds both stores the same random
// sequence of Takes: policies shared between policy sets (state is per
// policy name and key), costs from 1 to past the capacity, several keys.
func TestRedisStoreMatchesMemoryStore(t *testing.T) {
	mem, rds, started := diffStores(t)
	policies := []ratelimit.Policy{
		{Name: "hourly", Limit: 10, Period: 10 * time.Hour, Burst: 2},    // T = 1 h, C = 12
		{Name: "daily", Limit: 30, Period: 30 * 24 * time.Hour},          // T = 1 d, C = 30
		{Name: "odd", Limit: 7, Period: 7*time.Hour + 1, Burst: 3},       // T not a whole ns
		{Name: "bytes", Limit: 1e6, Period: 1e6 * time.Minute, Burst: 1}, // byte quota, T = 1 min
	}
	sets := [][]int{{0, 1}, {0}, {1, 2}, {2, 0, 1}, {3}, {3, 0}}
	rng := rand.New(rand.NewPCG(3, 4))
	admitted, denied, mixed := 0, 0, 0
	for range 400 {
		set := sets[rng.IntN(len(sets))]
		ps := make([]ratelimit.Policy, len(set))
		for i, j := range set {
			ps[i] = policies[j]
		}
		cost := 1 + rng.Int64N(3)
		switch rng.IntN(12) {
		case 0:
			cost = 11 + rng.Int64N(25) // around the capacities (12, 30, 10)
		case 1:
			cost = 1 << 40 // beyond every capacity: never admitted
		case 2:
			if set[0] == 3 {
				cost = rng.Int64N(2e5) + 1
			}
		}
		key := []string{"alice", "bob", "carol"}[rng.IntN(3)]
		ok, st := takeBoth(t, mem, rds, started, key, ps, cost)
		allowedSome := false
		for _, s := range st {
			allowedSome = allowedSome || s.Allowed
		}
		switch {
		case ok:
			admitted++
		case allowedSome:
			mixed++
		default:
			denied++
		}
	}
	t.Logf("400 Takes: %d admitted, %d denied by every policy, %d denied by some while others admitted", admitted, denied, mixed)
	if admitted < 40 || denied < 40 || mixed < 20 {
		t.Errorf("the sequence does not exercise every answer: %d admitted, %d denied, %d mixed", admitted, denied, mixed)
	}
}

// TestStatesWhenOnePolicyDenies settles what a policy that admits reports
// when another denies the request: store.go says Allowed is "whether this
// policy alone would admit the request" and Remaining is counted "after
// this request was charged, when it was admitted" (d' = d when denied), so
// the admitting policy says Allowed true and its Remaining is not charged
// (a denied request charges no policy). The memory store does exactly
// that; the Redis store matches it.
func TestStatesWhenOnePolicyDenies(t *testing.T) {
	mem, rds, started := diffStores(t)
	ps := []ratelimit.Policy{
		{Name: "burst", Limit: 2, Period: 2 * time.Hour}, // T = 1 h
		{Name: "daily", Limit: 10, Period: 10 * 24 * time.Hour},
	}
	const hour, day = time.Hour, 24 * time.Hour
	for i, want := range []struct {
		cost   int64
		ok     bool
		states [2]ratelimit.State
	}{
		{1, true, [2]ratelimit.State{{Allowed: true, Remaining: 1, Reset: hour}, {Allowed: true, Remaining: 9, Reset: day}}},
		{1, true, [2]ratelimit.State{{Allowed: true, Remaining: 0, Reset: 2 * hour}, {Allowed: true, Remaining: 8, Reset: 2 * day}}},
		// burst denies, daily would admit: daily is not charged.
		{1, false, [2]ratelimit.State{{Remaining: 0, Reset: 2 * hour, RetryAfter: hour}, {Allowed: true, Remaining: 8, Reset: 2 * day}}},
		// cost over burst's capacity: never (math.MaxInt64), daily admits.
		{3, false, [2]ratelimit.State{{Remaining: 0, Reset: 2 * hour, RetryAfter: math.MaxInt64}, {Allowed: true, Remaining: 8, Reset: 2 * day}}},
		// cost over both: daily denies too, with its own RetryAfter.
		{11, false, [2]ratelimit.State{{Remaining: 0, Reset: 2 * hour, RetryAfter: math.MaxInt64}, {Remaining: 8, Reset: 2 * day, RetryAfter: math.MaxInt64}}},
		{9, false, [2]ratelimit.State{{Remaining: 0, Reset: 2 * hour, RetryAfter: math.MaxInt64}, {Remaining: 8, Reset: 2 * day, RetryAfter: day}}},
	} {
		ok, st := takeBoth(t, mem, rds, started, "settle", ps, want.cost)
		if ok != want.ok {
			t.Fatalf("take %d (cost %d): admitted %v, want %v", i, want.cost, ok, want.ok)
		}
		for j := range st {
			if st[j] != want.states[j] { // the Redis store's clock is frozen: exact
				t.Errorf("take %d (cost %d), policy %s: %+v, want %+v", i, want.cost, ps[j].Name, st[j], want.states[j])
			}
		}
	}
}
