package ratelimit_test

import (
	"context"
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jiec/httpmw/ratelimit"
)

// Every package of the module passes requests through a nil or zero
// Middleware (New not called) instead of panicking.
func TestNilAndZeroMiddlewarePassThrough(t *testing.T) {
	for name, m := range map[string]*ratelimit.Middleware{"nil": nil, "zero": {}} {
		rec := do(m.Handler(okHandler), "198.51.100.7:1")
		if rec.Code != 204 || rec.Header().Get("RateLimit") != "" {
			t.Errorf("%s Middleware: %d %v, want the handler's 204 untouched", name, rec.Code, rec.Header())
		}
		if err := m.Close(); err != nil {
			t.Errorf("%s Middleware: Close: %v", name, err)
		}
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = "198.51.100.7:1"
		if a, ok := m.ClientIP(r); !ok || a.String() != "198.51.100.7" {
			t.Errorf("%s Middleware: ClientIP = %v %v", name, a, ok)
		}
	}
}

// The RateLimit and RateLimit-Policy fields are canonical RFC 9651 Lists
// (a strict parser and serializer round-trip them) whatever the
// configuration: huge limits (sf-integers have at most 15 digits), periods
// that are not whole seconds, names with every allowed character, and the
// concurrency policy.
func TestFieldsAreStrictStructuredFieldsForEveryConfiguration(t *testing.T) {
	const maxSF = 999_999_999_999_999
	cases := []struct {
		name        string
		ps          []ratelimit.Policy
		concurrency int64
	}{
		{"plain", []ratelimit.Policy{{Name: "p", Limit: 10, Period: time.Second}}, 0},
		{"names with every allowed character", []ratelimit.Policy{{Name: " !#$%&'()*+,-./09:;<=>?@AZ[]^_`az{|}~", Limit: 3, Period: time.Minute, Burst: 2}}, 0},
		{"sub-second period", []ratelimit.Policy{{Name: "p", Limit: 7, Period: 100 * time.Millisecond}}, 0},
		{"period of 1.5 s", []ratelimit.Policy{{Name: "p", Limit: 3, Period: 1500 * time.Millisecond}}, 0},
		{"period of 1 ns", []ratelimit.Policy{{Name: "p", Limit: 1, Period: 1}}, 0},
		{"limit at the sf-integer maximum", []ratelimit.Policy{{Name: "p", Limit: maxSF, Period: time.Hour}}, 0},
		{"sub-second period scaled past the sf-integer maximum", []ratelimit.Policy{{Name: "p", Limit: 1_000_000_000_000, Period: time.Millisecond}}, 0},
		{"concurrency", []ratelimit.Policy{{Name: "p", Limit: 10, Period: time.Second}}, 5},
		{"two policies and concurrency", []ratelimit.Policy{{Name: "a", Limit: 10, Period: time.Second}, {Name: "b", Limit: 1000, Period: 24 * time.Hour}}, 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, c := newStore(t, ratelimit.MemoryConfig{})
			m, err := ratelimit.New(ratelimit.Config{Store: s, Policies: tc.ps, Concurrency: tc.concurrency, KeyFunc: apiKey})
			if err != nil {
				t.Fatal(err)
			}
			h := m.Handler(okHandler)
			for i := range 4 {
				rec := do(h, "192.0.2.1:1", "X-Api-Key", "k")
				for _, f := range []string{"RateLimit-Policy", "RateLimit"} {
					v := rec.Header().Get(f)
					if why := strictSF(v); why != "" {
						t.Fatalf("request %d: %s: %q: %s", i, f, v, why)
					}
					list, _ := parseSFList(v)
					for _, it := range list {
						if _, ok := it.val.(string); !ok {
							t.Fatalf("%s: member %v is not an sf-string", f, it.val)
						}
					}
				}
				for _, p := range tc.ps {
					pp := sfParams(rec.Header().Get("RateLimit-Policy"), p.Name)
					if q, ok := pp["q"].(int64); !ok || q < 0 {
						t.Fatalf("policy %q: q %v", p.Name, pp["q"])
					}
					if w, ok := pp["w"]; ok {
						if w, _ := w.(int64); w <= 0 {
							t.Fatalf("policy %q: w %v (must be a positive Integer)", p.Name, pp["w"])
						}
					}
					rp := sfParams(rec.Header().Get("RateLimit"), p.Name)
					if r, ok := rp["r"].(int64); !ok || r < 0 {
						t.Fatalf("policy %q: r %v", p.Name, rp["r"])
					}
				}
				c.advance(time.Millisecond)
			}
		})
	}
}

// New rejects limits the RateLimit fields cannot carry: an sf-integer has at
// most 15 digits, so q, r and httpmw-burst must stay below 10^15.
func TestNewRejectsQuotasBeyondTheStructuredFieldInteger(t *testing.T) {
	const big = 1_000_000_000_000_000
	for _, tc := range []struct {
		cfg  ratelimit.Config
		want string
	}{
		{ratelimit.Config{Policies: []ratelimit.Policy{{Name: "p", Limit: big, Period: time.Hour}}}, "Policies[0]"},
		{ratelimit.Config{Policies: []ratelimit.Policy{{Name: "p", Limit: 1, Period: time.Hour, Burst: big}}}, "Policies[0]"},
		{ratelimit.Config{Policies: []ratelimit.Policy{{Name: "p", Limit: 1, Period: time.Hour}}, Concurrency: big}, "Concurrency"},
	} {
		_, err := ratelimit.New(tc.cfg)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "1000000000000000") {
			t.Errorf("%+v: %v, want an error naming %s and the value", tc.cfg.Policies, err, tc.want)
		}
	}
}

// ref is GCRA in exact rational arithmetic, the specification of
// MemoryStore (see the Store doc): T = Period/Limit, C = Limit+Burst.
type ref struct {
	T, cap *big.Rat
	c      int64
	tat    *big.Rat
}

func newRef(p ratelimit.Policy) *ref {
	T := big.NewRat(int64(p.Period), p.Limit)
	return &ref{T: T, cap: new(big.Rat).Mul(T, big.NewRat(p.Limit+p.Burst, 1)), c: p.Limit + p.Burst, tat: new(big.Rat)}
}

func ratCeil(r *big.Rat) int64 {
	q, m := new(big.Int).DivMod(r.Num(), r.Denom(), new(big.Int))
	if m.Sign() != 0 {
		q.Add(q, big.NewInt(1))
	}
	return q.Int64()
}

func (g *ref) delay(now int64) *big.Rat {
	d := new(big.Rat).Sub(g.tat, big.NewRat(now, 1))
	if d.Sign() < 0 {
		d.SetInt64(0)
	}
	return d
}

func (g *ref) state(d *big.Rat) (remaining int64, reset time.Duration) {
	remaining = max(g.c-ratCeil(new(big.Rat).Quo(d, g.T)), 0)
	return remaining, time.Duration(ratCeil(d))
}

// nextUnit is the exact time until Remaining grows (the draft's t).
func (g *ref) nextUnit(d *big.Rat, remaining int64) *big.Rat {
	k := g.c - remaining - 1
	return new(big.Rat).Sub(d, new(big.Rat).Mul(g.T, big.NewRat(k, 1)))
}

// MemoryStore agrees with exact rational GCRA on every quantity, for random
// policies (periods not divisible by the limit, bursts, huge limits),
// costs above capacity and random times, with several policies at once.
func TestMemoryStoreMatchesExactRationalGCRA(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 300 {
		var ps []ratelimit.Policy
		for i := range 1 + rng.IntN(3) {
			p := ratelimit.Policy{Name: strconv.Itoa(i), Limit: 1 + rng.Int64N(7), Period: time.Duration(1 + rng.Int64N(int64(3*time.Second))), Burst: rng.Int64N(3)}
			if rng.IntN(10) == 0 {
				p.Limit = 1 + rng.Int64N(1e12)
			}
			ps = append(ps, p)
		}
		refs := make([]*ref, len(ps))
		for i, p := range ps {
			refs[i] = newRef(p)
		}
		s, c := newStore(t, ratelimit.MemoryConfig{})
		now := int64(0)
		for step := range 60 {
			cost := int64(1)
			if rng.IntN(4) == 0 {
				cost = 1 + rng.Int64N(10)
			}
			ok, st := take(t, s, "k", cost, ps...)
			wantOK := true
			ds := make([]*big.Rat, len(ps))
			ns := make([]*big.Rat, len(ps))
			for i, g := range refs {
				ds[i] = g.delay(now)
				ns[i] = new(big.Rat).Add(ds[i], new(big.Rat).Mul(g.T, big.NewRat(cost, 1)))
				if ns[i].Cmp(g.cap) > 0 {
					wantOK = false
				}
			}
			if ok != wantOK {
				t.Fatalf("round %d step %d %+v cost %d: allowed %v, want %v", round, step, ps, cost, ok, wantOK)
			}
			for i, g := range refs {
				allowed := ns[i].Cmp(g.cap) <= 0
				var retry time.Duration
				if !allowed {
					retry = time.Duration(ratCeil(new(big.Rat).Sub(ns[i], g.cap)))
					if cost > g.c {
						retry = math.MaxInt64
					}
				}
				d := ds[i]
				if wantOK {
					d = ns[i]
					g.tat = new(big.Rat).Add(big.NewRat(now, 1), ns[i])
				}
				rem, reset := g.state(d)
				want := ratelimit.State{Allowed: allowed, Remaining: rem, Reset: reset, RetryAfter: retry}
				if st[i] != want {
					t.Fatalf("round %d step %d policy %+v cost %d: %+v, want %+v", round, step, ps[i], cost, st[i], want)
				}
			}
			adv := rng.Int64N(int64(ps[0].Period))
			if rng.IntN(3) == 0 {
				adv = 0
			}
			now += adv
			c.advance(time.Duration(adv))
		}
	}
}

// The RateLimit field's t is the exact time until the policy gains a unit,
// rounded up to whole seconds; Retry-After is the exact time until the
// request would be admitted, rounded up, never 0: never a second more
// than needed.
func TestTAndRetryAfterAreExactCeilings(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for round := range 200 {
		p := ratelimit.Policy{Name: "p", Limit: 1 + rng.Int64N(6), Period: time.Duration(1+rng.Int64N(4)) * time.Second / time.Duration(1+rng.Int64N(3)), Burst: rng.Int64N(3)}
		g := newRef(p)
		s, c := newStore(t, ratelimit.MemoryConfig{})
		h := mustNew(t, ratelimit.Config{Store: s, Policies: []ratelimit.Policy{p}}).Handler(okHandler)
		now := int64(0)
		for step := range 40 {
			rec := do(h, "192.0.2.1:1")
			d := g.delay(now)
			n := new(big.Rat).Add(d, g.T)
			allowed := n.Cmp(g.cap) <= 0
			if (rec.Code == 204) != allowed {
				t.Fatalf("round %d step %d %+v: %d, want allowed=%v", round, step, p, rec.Code, allowed)
			}
			params := sfParams(rec.Header().Get("RateLimit"), "p")
			var wantT int64
			if allowed {
				g.tat = new(big.Rat).Add(big.NewRat(now, 1), n)
				rem, _ := g.state(n)
				if rem < g.c {
					wantT = (ratCeil(g.nextUnit(n, rem)) + int64(time.Second) - 1) / int64(time.Second)
				}
				if params["r"] != rem {
					t.Fatalf("round %d step %d %+v: r %v, want %d", round, step, p, params["r"], rem)
				}
			} else {
				wait := ratCeil(new(big.Rat).Sub(n, g.cap))
				wantT = (wait + int64(time.Second) - 1) / int64(time.Second)
				if ra := rec.Header().Get("Retry-After"); ra != strconv.FormatInt(max(wantT, 1), 10) {
					t.Fatalf("round %d step %d %+v: Retry-After %q, want %d (exact wait %v)", round, step, p, ra, max(wantT, 1), time.Duration(wait))
				}
			}
			gotT, _ := params["t"].(int64)
			if gotT != wantT {
				t.Fatalf("round %d step %d %+v (now %v): t=%d, want %d; %s", round, step, p, time.Duration(now), gotT, wantT, rec.Header().Get("RateLimit"))
			}
			adv := rng.Int64N(int64(p.Period))
			if rng.IntN(3) == 0 {
				adv = 0
			}
			now += adv
			c.advance(time.Duration(adv))
		}
	}
}

// MaxKeys holds when the entry a new policy entry evicts is another policy's
// entry of the same key, written in the same Take.
func TestMaxKeysHoldsWhenEvictionHitsTheSameKey(t *testing.T) {
	s, _ := newStore(t, ratelimit.MemoryConfig{MaxKeys: 8, Shards: 1})
	a := ratelimit.Policy{Name: "a", Limit: 1, Period: time.Second}
	b := ratelimit.Policy{Name: "b", Limit: 2, Period: 2 * time.Hour} // T = 1 h
	other := ratelimit.Policy{Name: "o", Limit: 1, Period: 3 * time.Hour}
	take(t, s, "k", 1, b) // k's "b" entry: full again in 1 h
	for i := range 7 {
		take(t, s, fmt.Sprint("x", i), 1, other) // 3 h each: the shard is full
	}
	// k under both policies: "a" is new and evicts the entry closest to
	// full, k's own "b", which the same Take then writes back.
	if ok, _ := take(t, s, "k", 1, a, b); !ok {
		t.Fatal("denied")
	}
	if n := s.Len(); n > 8 {
		t.Fatalf("Len() = %d entries, MaxKeys is 8", n)
	}
}

// An attacker who floods the store with fresh keys cannot reset a limited
// key's bucket unless every flooding key is itself drained deeper than the
// victim: the cost is measured and logged (see MemoryConfig.MaxKeys).
func TestFloodingFreshKeysDoesNotResetALimitedKey(t *testing.T) {
	const maxKeys = 1024
	p := ratelimit.Policy{Name: "login", Limit: 5, Period: time.Hour}
	s, c := newStore(t, ratelimit.MemoryConfig{MaxKeys: maxKeys})
	for range 5 {
		take(t, s, "victim", 1, p)
	}
	if ok, _ := take(t, s, "victim", 1, p); ok {
		t.Fatal("victim not limited")
	}
	// One request per fresh key, 100 × MaxKeys keys, 10 µs apart (1 s in
	// all, far less than the 12 min a unit takes to come back): none is
	// deeper than the victim.
	for i := range 100 * maxKeys {
		take(t, s, "flood"+strconv.Itoa(i), 1, p)
		c.advance(10 * time.Microsecond)
	}
	if ok, _ := take(t, s, "victim", 1, p); ok {
		t.Fatal("a flood of single requests on fresh keys reset the limited key")
	}
	if n := s.Len(); n > maxKeys {
		t.Fatalf("Len() = %d, MaxKeys %d", n, maxKeys)
	}
	// Draining every flooding key to the limit makes them deeper than the
	// victim; count the requests the attacker needs.
	requests := 0
	for i := 0; ; i++ {
		for range 5 {
			take(t, s, "drain"+strconv.Itoa(i), 1, p)
			requests++
		}
		if requests%100 == 0 {
			if ok, _ := take(t, s, "victim", 1, p); ok {
				break
			}
		}
		if requests > 1000*maxKeys {
			t.Fatal("never evicted")
		}
	}
	if requests < maxKeys {
		t.Fatalf("reset after %d requests, fewer than MaxKeys (%d)", requests, maxKeys)
	}
	t.Logf("resetting a limited key took %d drained-key requests (%.1f × MaxKeys × Limit)", requests, float64(requests)/float64(maxKeys*5))
}

// Close makes a default store's Takes fail: the store-error choice applies
// (here FailClosed: 503; by default the request is admitted and logged).
func TestCloseFailsClosed(t *testing.T) {
	m := mustNew(t, ratelimit.Config{Policies: []ratelimit.Policy{{Name: "p", Limit: 1, Period: time.Second}}, FailClosed: true})
	h := m.Handler(okHandler)
	if rec := do(h, "192.0.2.1:1"); rec.Code != 204 {
		t.Fatal(rec.Code)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if rec := do(h, "192.0.2.1:1"); rec.Code != 503 || rec.Header().Get("Retry-After") != "1" {
		t.Fatalf("after Close: %d %v", rec.Code, rec.Header())
	}
}

// Extreme but valid policies and costs: no panic, no overflow, fields that
// stay canonical structured fields, Retry-After a positive whole number.
func TestExtremePoliciesAndCostsStayExact(t *testing.T) {
	const maxSF = 999_999_999_999_999
	policies := []ratelimit.Policy{
		{Name: "max-per-ns", Limit: maxSF, Period: 1},
		{Name: "max-per-century", Limit: maxSF, Period: 1 << 60},
		{Name: "one-per-36y", Limit: 1, Period: 1 << 60},
		{Name: "burst-max", Limit: 1, Period: time.Nanosecond, Burst: maxSF - 1},
	}
	for _, p := range policies {
		for _, cost := range []int64{-5, 0, 1, 2, maxSF, math.MaxInt64} {
			s, c := newStore(t, ratelimit.MemoryConfig{})
			m, err := ratelimit.New(ratelimit.Config{Store: s, Policies: []ratelimit.Policy{p}, Cost: func(*http.Request) int64 { return cost }})
			if err != nil {
				t.Fatalf("%+v: %v", p, err)
			}
			h := m.Handler(okHandler)
			for range 3 {
				rec := do(h, "192.0.2.1:1")
				for _, f := range []string{"RateLimit", "RateLimit-Policy"} {
					if why := strictSF(rec.Header().Get(f)); why != "" {
						t.Fatalf("%+v cost %d: %s %q: %s", p, cost, f, rec.Header().Get(f), why)
					}
				}
				if rec.Code == 429 {
					if n, err := strconv.ParseInt(rec.Header().Get("Retry-After"), 10, 64); err != nil || n < 1 {
						t.Fatalf("%+v cost %d: Retry-After %q", p, cost, rec.Header().Get("Retry-After"))
					}
				}
				c.advance(time.Duration(1 << 59))
			}
		}
	}
}

// Trusting every address (a /0) would let any client choose its key with a
// forged X-Forwarded-For: New refuses it, naming the field and value.
func TestNewRejectsTrustingEveryAddress(t *testing.T) {
	for _, p := range []string{"0.0.0.0/0", "::/0", "::ffff:0.0.0.0/96"} {
		_, err := ratelimit.New(ratelimit.Config{Policies: []ratelimit.Policy{{Name: "p", Limit: 1, Period: time.Second}},
			TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix(p)}})
		if err == nil || !strings.Contains(err.Error(), "TrustedProxies[1]") || !strings.Contains(err.Error(), p) {
			t.Errorf("%s: %v, want an error naming TrustedProxies[1] and the value", p, err)
		}
	}
}

// With more policies than the store keeps inline (4), an eviction made while
// writing one policy's entry must not make a later policy's entry of the
// same key start again from empty: the charge it carried is kept.
func TestEvictionDuringATakeKeepsLaterPoliciesCharges(t *testing.T) {
	s, _ := newStore(t, ratelimit.MemoryConfig{MaxKeys: 8, Shards: 1})
	var ps []ratelimit.Policy
	for i := range 4 {
		ps = append(ps, ratelimit.Policy{Name: fmt.Sprint("p", i), Limit: 1, Period: time.Second})
	}
	last := ratelimit.Policy{Name: "last", Limit: 2, Period: 2 * time.Hour} // C = 2, T = 1 h
	ps = append(ps, last)
	other := ratelimit.Policy{Name: "o", Limit: 1, Period: 3 * time.Hour}
	take(t, s, "k", 1, last) // k has used 1 of 2
	for i := range 7 {
		take(t, s, fmt.Sprint("x", i), 1, other)
	}
	ok, st := take(t, s, "k", 1, ps...) // 2 of 2; the new p0-p3 entries evict
	if !ok || st[4].Remaining != 0 {
		t.Fatalf("second request: %v %+v", ok, st[4])
	}
	if ok, st := take(t, s, "k", 1, last); ok {
		t.Fatalf("third request admitted (%+v): the eviction reset policy %q", st[0], last.Name)
	}
}

// A careless Store (a nil or zero *MemoryStore) is a configuration error
// from New, and a zero MemoryStore used directly fails with an error, not a
// panic at request time.
func TestNilOrZeroMemoryStoreIsAnError(t *testing.T) {
	pol := []ratelimit.Policy{{Name: "p", Limit: 1, Period: time.Second}}
	var nilStore *ratelimit.MemoryStore
	for name, s := range map[string]ratelimit.Store{"nil *MemoryStore": nilStore, "zero MemoryStore": &ratelimit.MemoryStore{}} {
		if _, err := ratelimit.New(ratelimit.Config{Policies: pol, Store: s}); err == nil || !strings.Contains(err.Error(), "Store") {
			t.Errorf("%s: New: %v, want an error naming Store", name, err)
		}
	}
	var zero ratelimit.MemoryStore
	if _, err := zero.Take(context.Background(), "k", pol, 1, make([]ratelimit.State, 1)); err == nil {
		t.Error("zero MemoryStore: Take succeeded")
	}
	if zero.Len() != 0 || zero.Close() != nil {
		t.Error("zero MemoryStore: Len or Close")
	}
}

// An eviction never takes an entry the same Take just wrote: a fresh key
// charged under two policies keeps both charges even when its new entry is
// the closest to full in a full shard.
func TestEvictionSparesTheEntriesOfTheCurrentTake(t *testing.T) {
	s, _ := newStore(t, ratelimit.MemoryConfig{MaxKeys: 8, Shards: 1})
	a := ratelimit.Policy{Name: "a", Limit: 1, Period: time.Second}
	b := ratelimit.Policy{Name: "b", Limit: 1, Period: time.Hour}
	other := ratelimit.Policy{Name: "o", Limit: 1, Period: 3 * time.Hour}
	for i := range 8 {
		take(t, s, fmt.Sprint("x", i), 1, other)
	}
	if ok, _ := take(t, s, "k", 1, a, b); !ok {
		t.Fatal("first request denied")
	}
	if ok, st := take(t, s, "k", 1, a, b); ok || st[0].Allowed {
		t.Fatalf("second request at the same instant: %v %+v, want policy a to deny (its entry was evicted)", ok, st)
	}
}
