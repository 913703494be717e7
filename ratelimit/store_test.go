package ratelimit_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jiec/httpmw/ratelimit"
)

type fakeClock struct{ t atomic.Int64 }

func (c *fakeClock) now() time.Duration      { return time.Duration(c.t.Load()) }
func (c *fakeClock) advance(d time.Duration) { c.t.Add(int64(d)) }

func newStore(t testing.TB, cfg ratelimit.MemoryConfig) (*ratelimit.MemoryStore, *fakeClock) {
	t.Helper()
	s, err := ratelimit.NewMemoryStore(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c := &fakeClock{}
	c.t.Store(int64(1000 * time.Hour))
	ratelimit.SetClock(s, c.now)
	t.Cleanup(func() { s.Close() })
	return s, c
}

func take(t testing.TB, s ratelimit.Store, key string, cost int64, ps ...ratelimit.Policy) (bool, []ratelimit.State) {
	t.Helper()
	st := make([]ratelimit.State, len(ps))
	ok, err := s.Take(context.Background(), key, ps, cost, st)
	if err != nil {
		t.Fatal(err)
	}
	return ok, st
}

func TestFreshKeyAdmitsLimitPlusBurstThenDenies(t *testing.T) {
	for _, p := range []ratelimit.Policy{
		{Name: "a", Limit: 10, Period: time.Second},
		{Name: "b", Limit: 10, Period: time.Second, Burst: 5},
		{Name: "c", Limit: 3, Period: time.Second, Burst: 1},
		{Name: "d", Limit: 1_000_000, Period: 24 * time.Hour},
		{Name: "e", Limit: 7, Period: 1000 * time.Nanosecond},
	} {
		s, _ := newStore(t, ratelimit.MemoryConfig{})
		n := p.Limit + p.Burst
		for i := int64(0); i < n; i++ {
			ok, st := take(t, s, "k", 1, p)
			if !ok || st[0].Remaining != n-i-1 {
				t.Fatalf("%s: request %d: allowed %v remaining %d, want true %d", p.Name, i, ok, st[0].Remaining, n-i-1)
			}
		}
		ok, st := take(t, s, "k", 1, p)
		if ok || st[0].Allowed || st[0].Remaining != 0 || st[0].RetryAfter <= 0 {
			t.Fatalf("%s: request %d admitted or bad state %+v", p.Name, n, st[0])
		}
	}
}

// 3 per second: T = 333 333 333⅓ ns. After the burst of 3 at t0, the next
// unit is due at exactly t0 + T, i.e. admitted at 333 333 334 ns, not before.
func TestRecoveryAtTheExactInstantForAFractionalInterval(t *testing.T) {
	s, c := newStore(t, ratelimit.MemoryConfig{})
	p := ratelimit.Policy{Name: "p", Limit: 3, Period: time.Second}
	for range 3 {
		take(t, s, "k", 1, p)
	}
	ok, st := take(t, s, "k", 1, p)
	if ok || st[0].RetryAfter != 333_333_334 || st[0].Reset != time.Second {
		t.Fatalf("denied state %+v, want RetryAfter 333333334ns Reset 1s", st[0])
	}
	c.advance(333_333_333)
	if ok, _ := take(t, s, "k", 1, p); ok {
		t.Fatal("admitted 1 ns early")
	}
	c.advance(1)
	if ok, st := take(t, s, "k", 1, p); !ok || st[0].Remaining != 0 {
		t.Fatalf("not admitted at the instant: %v %+v", ok, st[0])
	}
	// Three more intervals are exactly one second: no drift accumulates.
	for i := 0; i < 300; i++ {
		c.advance(time.Second)
		for j := 0; j < 3; j++ {
			if ok, _ := take(t, s, "k", 1, p); !ok {
				t.Fatalf("second %d request %d denied", i, j)
			}
		}
		if ok, _ := take(t, s, "k", 1, p); ok {
			t.Fatalf("second %d: 4th request admitted", i)
		}
	}
}

func TestDeniedRequestChargesNoPolicy(t *testing.T) {
	s, c := newStore(t, ratelimit.MemoryConfig{})
	burst := ratelimit.Policy{Name: "burst", Limit: 2, Period: time.Second}
	daily := ratelimit.Policy{Name: "daily", Limit: 5, Period: 24 * time.Hour}
	admitted := 0
	for i := 0; i < 40; i++ {
		ok, st := take(t, s, "k", 1, burst, daily)
		if ok {
			admitted++
		} else if st[0].Allowed && st[1].Allowed {
			t.Fatalf("denied with both policies admitting: %+v", st)
		}
		c.advance(250 * time.Millisecond)
	}
	if admitted != 5 {
		t.Fatalf("admitted %d, want the daily 5", admitted)
	}
	// The burst policy was never charged by the denied ones: full again.
	_, st := take(t, s, "k", 1, burst, daily)
	if !st[0].Allowed || st[0].Remaining != 2 || st[1].Allowed || st[1].Remaining != 0 {
		t.Fatalf("states %+v", st)
	}
}

func TestCostChargesUnits(t *testing.T) {
	s, c := newStore(t, ratelimit.MemoryConfig{})
	p := ratelimit.Policy{Name: "p", Limit: 10, Period: 10 * time.Second}
	if ok, st := take(t, s, "k", 7, p); !ok || st[0].Remaining != 3 || st[0].Reset != 7*time.Second {
		t.Fatalf("%v %+v", ok, st[0])
	}
	if ok, st := take(t, s, "k", 4, p); ok || st[0].RetryAfter != time.Second {
		t.Fatalf("%v %+v", ok, st[0])
	}
	c.advance(time.Second)
	if ok, _ := take(t, s, "k", 4, p); !ok {
		t.Fatal("denied after the retry delay")
	}
	if ok, st := take(t, s, "other", 11, p); ok || st[0].RetryAfter < time.Hour {
		t.Fatalf("cost above capacity: %v %+v", ok, st[0])
	}
}

func TestMaxKeysBoundsEntries(t *testing.T) {
	s, _ := newStore(t, ratelimit.MemoryConfig{MaxKeys: 1000})
	p := ratelimit.Policy{Name: "p", Limit: 1, Period: time.Hour}
	for i := 0; i < 100_000; i++ {
		take(t, s, string(rune(i))+"x", 1, p)
	}
	if n := s.Len(); n > 1000 {
		t.Fatalf("Len %d > MaxKeys", n)
	}
}

func TestFullBucketsAreEvictedFirst(t *testing.T) {
	s, c := newStore(t, ratelimit.MemoryConfig{MaxKeys: 16, Shards: 1})
	p := ratelimit.Policy{Name: "p", Limit: 2, Period: time.Hour}
	victim := ratelimit.Policy{Name: "p", Limit: 2, Period: time.Hour}
	take(t, s, "victim", 2, victim) // limited for an hour
	short := ratelimit.Policy{Name: "p", Limit: 1, Period: time.Second}
	for i := 0; i < 15; i++ {
		take(t, s, string(rune('a'+i)), 1, short)
	}
	c.advance(2 * time.Second) // the short buckets are full again
	for i := 0; i < 200; i++ {
		take(t, s, string(rune('A'+i)), 1, short)
		c.advance(2 * time.Second)
	}
	if ok, _ := take(t, s, "victim", 1, p); ok {
		t.Fatal("the limited key was evicted by a flood of keys carrying no state")
	}
}

func TestConcurrentTakesAdmitExactly(t *testing.T) {
	s, _ := newStore(t, ratelimit.MemoryConfig{})
	p := ratelimit.Policy{Name: "p", Limit: 1000, Period: time.Hour, Burst: 234}
	q := ratelimit.Policy{Name: "q", Limit: 5000, Period: time.Hour}
	var admitted atomic.Int64
	var wg sync.WaitGroup
	for g := 0; g < 16; g++ {
		wg.Go(func() {
			st := make([]ratelimit.State, 2)
			for i := 0; i < 500; i++ {
				ok, err := s.Take(context.Background(), "k", []ratelimit.Policy{p, q}, 1, st)
				if err != nil {
					t.Error(err)
					return
				}
				if ok {
					admitted.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if n := admitted.Load(); n != 1234 {
		t.Fatalf("admitted %d of 8000, want exactly 1234", n)
	}
}

func TestInvalidInputIsAnError(t *testing.T) {
	s, _ := newStore(t, ratelimit.MemoryConfig{})
	st := make([]ratelimit.State, 1)
	for _, p := range []ratelimit.Policy{{Limit: 0, Period: 1}, {Limit: 1, Period: 0}, {Limit: 1, Period: 1, Burst: -1}} {
		if _, err := s.Take(context.Background(), "k", []ratelimit.Policy{p}, 1, st); err == nil {
			t.Errorf("%+v: no error", p)
		}
	}
	if _, err := s.Take(context.Background(), "k", []ratelimit.Policy{{Limit: 1, Period: 1}}, 0, st); err == nil {
		t.Error("cost 0: no error")
	}
	s.Close()
	if _, err := s.Take(context.Background(), "k", []ratelimit.Policy{{Limit: 1, Period: 1}}, 1, st); err != ratelimit.ErrClosed {
		t.Errorf("after Close: %v", err)
	}
	if _, err := ratelimit.NewMemoryStore(ratelimit.MemoryConfig{MaxKeys: -1, Shards: 3}); err == nil {
		t.Error("bad MemoryConfig accepted")
	}
}

func TestManyPoliciesBeyondTheInlineArray(t *testing.T) {
	s, c := newStore(t, ratelimit.MemoryConfig{})
	var ps []ratelimit.Policy
	for i := range 6 {
		ps = append(ps, ratelimit.Policy{Name: string(rune('a' + i)), Limit: int64(10 + i), Period: time.Minute})
	}
	for i := 0; i < 10; i++ {
		if ok, st := take(t, s, "k", 1, ps...); !ok || st[5].Remaining != int64(15-i-1) {
			t.Fatalf("request %d: %v %+v", i, ok, st[5])
		}
	}
	if ok, st := take(t, s, "k", 1, ps...); ok || st[0].Allowed || !st[5].Allowed || st[5].Remaining != 5 {
		t.Fatalf("11th: %v %+v", ok, st)
	}
	c.advance(6 * time.Second) // policy a (10/min) gains one
	if ok, _ := take(t, s, "k", 1, ps...); !ok {
		t.Fatal("denied after a's interval")
	}
}
