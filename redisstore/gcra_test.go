package redisstore_test

import (
	"context"
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/jiec/httpmw/ratelimit"
	"github.com/jiec/httpmw/redisstore"
)

// fakeClock drives the script's clock (µs). It is the real time plus an
// offset the test advances, so it never runs slower than the real clock
// Redis expires keys by: a key is only ever gone when the model says it is
// full.
type fakeClock struct {
	offset, last int64
}

func (c *fakeClock) now() int64 {
	c.last = time.Now().UnixMicro() + c.offset
	return c.last
}

func TestGCRAFreshKeyAdmitsLimitPlusBurstThenOnePerInterval(t *testing.T) {
	srv := startRedis(t)
	store, err := redisstore.NewRateLimit(newClient(t, srv.Addr), slowOK)
	if err != nil {
		t.Fatal(err)
	}
	clock := &fakeClock{}
	store.SetScriptClock(func() int64 { return clock.last })
	clock.now()
	p := []ratelimit.Policy{{Name: "p", Limit: 3, Period: time.Second, Burst: 2}}
	const T = time.Second / 3 // 333333333.33 ns
	st := make([]ratelimit.State, 1)
	take := func() bool {
		t.Helper()
		ok, err := store.Take(context.Background(), t.Name(), p, 1, st)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	for i := range 5 {
		if !take() || st[0].Remaining != int64(4-i) {
			t.Fatalf("take %d of a fresh key: %+v", i, st[0])
		}
	}
	if st[0].Reset != 1666666667 { // 5T, rounded up to the nanosecond
		t.Errorf("Reset %v, want 5T", st[0].Reset)
	}
	if take() || st[0].Allowed || st[0].Remaining != 0 || st[0].RetryAfter != T+1 || st[0].Reset != 1666666667 {
		t.Fatalf("sixth take: %+v, want denied, retry after T (rounded up)", st[0])
	}
	clock.last += 333333 // 333.33 ns short of T
	if take() || st[0].RetryAfter != 334 {
		t.Fatalf("0.33 ns early: %+v", st[0])
	}
	clock.last++
	if !take() || st[0].Remaining != 0 {
		t.Fatalf("one interval later: %+v", st[0])
	}
	if take() {
		t.Fatal("a second unit one interval later")
	}
	clock.last += 10 * 1e6 // long idle: full again
	if !take() || st[0].Remaining != 4 || st[0].Reset != 333333334 {
		t.Fatalf("after idling: %+v", st[0])
	}
}

// refPolicy is the GCRA model in exact rationals (nanoseconds).
type refPolicy struct {
	p      ratelimit.Policy
	t, tau *big.Rat
	tat    *big.Rat
}

func newRef(p ratelimit.Policy) *refPolicy {
	t := big.NewRat(int64(p.Period), p.Limit)
	tau := new(big.Rat).Mul(t, big.NewRat(p.Limit+p.Burst, 1))
	return &refPolicy{p: p, t: t, tau: tau, tat: new(big.Rat)}
}

func ceilNs(r *big.Rat) time.Duration {
	q, m := new(big.Int).QuoRem(r.Num(), r.Denom(), new(big.Int))
	if m.Sign() > 0 {
		q.Add(q, big.NewInt(1))
	}
	return time.Duration(q.Int64())
}

func floorInt(r *big.Rat) int64 {
	return new(big.Int).Quo(r.Num(), r.Denom()).Int64() // r >= 0
}

// refTake evaluates one Take on the model.
func refTake(refs []*refPolicy, nowUS, cost int64) (bool, []ratelimit.State) {
	now := new(big.Rat).SetInt64(nowUS * 1000)
	bases := make([]*big.Rat, len(refs))
	nexts := make([]*big.Rat, len(refs))
	all := true
	states := make([]ratelimit.State, len(refs))
	for i, r := range refs {
		base := new(big.Rat).Set(now)
		if r.tat.Cmp(now) > 0 {
			base.Set(r.tat)
		}
		next := new(big.Rat).Add(base, new(big.Rat).Mul(r.t, big.NewRat(cost, 1)))
		limit := new(big.Rat).Add(now, r.tau)
		states[i].Allowed = next.Cmp(limit) <= 0
		switch {
		case states[i].Allowed:
		case cost > r.p.Limit+r.p.Burst: // store.go: never admitted
			states[i].RetryAfter = time.Duration(math.MaxInt64)
		default:
			states[i].RetryAfter = ceilNs(new(big.Rat).Sub(next, limit))
		}
		all = all && states[i].Allowed
		bases[i], nexts[i] = base, next
	}
	for i, r := range refs {
		after := bases[i]
		if all {
			after = nexts[i]
			r.tat = nexts[i]
		}
		limit := new(big.Rat).Add(now, r.tau)
		if left := new(big.Rat).Sub(limit, after); left.Sign() >= 0 {
			states[i].Remaining = floorInt(new(big.Rat).Quo(left, r.t))
		}
		if d := new(big.Rat).Sub(after, now); d.Sign() > 0 {
			states[i].Reset = ceilNs(d)
		}
	}
	return all, states
}

// TestGCRAMatchesExactModel drives the Lua script with random time steps
// and costs and compares every answer with the rational-arithmetic model:
// the script's integer pairs lose nothing, for periods that are not whole
// microseconds and intervals that are not whole nanoseconds.
func TestGCRAMatchesExactModel(t *testing.T) {
	srv := startRedis(t)
	store, err := redisstore.NewRateLimit(newClient(t, srv.Addr), slowOK)
	if err != nil {
		t.Fatal(err)
	}
	clock := &fakeClock{}
	store.SetScriptClock(clock.now)
	policies := []ratelimit.Policy{
		{Name: "a", Limit: 3, Period: time.Second, Burst: 2},
		{Name: "b", Limit: 7, Period: 10*time.Second + 1, Burst: 0},
		{Name: "c", Limit: 1000, Period: time.Minute, Burst: 5},
		{Name: "d", Limit: 1e9, Period: 24 * time.Hour, Burst: 1e9}, // byte quotas
	}
	sets := [][]int{{0, 1, 2}, {0}, {1, 2}, {3}}
	byPolicy := make([]*refPolicy, len(policies)) // one hash field per name, shared by the sets
	for i, p := range policies {
		byPolicy[i] = newRef(p)
	}
	refs := make([][]*refPolicy, len(sets))
	for i, set := range sets {
		for _, j := range set {
			refs[i] = append(refs[i], byPolicy[j])
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	admitted := 0
	for step := range 600 {
		switch rng.IntN(4) {
		case 0: // same instant (beyond the real time passing)
		case 1:
			clock.offset += rng.Int64N(400_000)
		case 2:
			clock.offset += rng.Int64N(3_000)
		case 3:
			clock.offset += rng.Int64N(5_000_000)
		}
		set := rng.IntN(len(sets))
		cost := 1 + rng.Int64N(3)
		if rng.IntN(20) == 0 {
			cost = 5 + rng.Int64N(4) // over a's capacity (5), sometimes b's (7)
		}
		if set == 3 {
			cost = rng.Int64N(1e8) + 1
		}
		ps := make([]ratelimit.Policy, len(sets[set]))
		for i, j := range sets[set] {
			ps[i] = policies[j]
		}
		got := make([]ratelimit.State, len(ps))
		ok, err := store.Take(context.Background(), "model", ps, cost, got)
		if err != nil {
			t.Fatal(err)
		}
		wantOK, want := refTake(refs[set], clock.last, cost)
		if ok != wantOK {
			t.Fatalf("step %d (set %d, cost %d): admitted %v, model %v", step, set, cost, ok, wantOK)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("step %d (set %d, cost %d) policy %s: %+v, model %+v", step, set, cost, ps[i].Name, got[i], want[i])
			}
		}
		if ok {
			admitted++
		}
	}
	if admitted < 100 || admitted > 500 {
		t.Errorf("%d of 600 admitted: the steps do not exercise both answers", admitted)
	}
}
