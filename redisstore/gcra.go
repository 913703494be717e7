package redisstore

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
	"strconv"
	"time"

	"github.com/jiec/httpmw/ratelimit"
)

// GCRA with exact integer arithmetic in Lua, whose numbers are doubles
// (exact integers below 2^53). Time is in microseconds (Redis TIME; 2026 is
// about 1.8e15 µs, so sums stay exact), and every instant or duration is a
// pair (u, f) meaning u + f/D µs with 0 <= f < D and D = 1000*Limit: the
// emission interval T = Period/Limit is Period_ns/D µs, so cost*T is exact
// whatever Period and Limit are (no rounding drift, no 1 µs floor).
//
// For a key with theoretical arrival time TAT, a request of cost n is
// admitted by a policy when max(TAT, now) + n*T <= now + tau, with
// tau = (Limit+Burst)*T: a fresh key admits Limit+Burst units at one instant,
// then one every T. Only when every policy admits it is TAT advanced, for
// all of them.

// maxExact bounds every pair's whole part (and so tau, about 142 years):
// sums of two such values and the current time stay below 2^53.
const maxExact = 1 << 52

// pair is u + f/d microseconds.
type pair struct{ u, f int64 }

func (a pair) add(b pair, d int64) pair {
	a.u += b.u
	a.f += b.f
	if a.f >= d {
		a.u++
		a.f -= d
	}
	return a
}

// sub returns a-b, which must be >= 0.
func (a pair) sub(b pair, d int64) pair {
	a.u -= b.u
	a.f -= b.f
	if a.f < 0 {
		a.u--
		a.f += d
	}
	return a
}

func (a pair) less(b pair) bool { return a.u < b.u || (a.u == b.u && a.f < b.f) }

// policy is a ratelimit.Policy compiled for the script.
type policy struct {
	limit  int64 // L
	capa   int64 // C = L + Burst
	period int64 // P, ns
	den    int64 // D = 1000*L
	tau    pair
	one    pair   // T, the charge of cost 1
	args   [5]any // T.u, T.f, tau.u, tau.f, D: the script's ARGV for cost 1
}

var errPolicyRange = errors.New("out of range")

func compilePolicy(p ratelimit.Policy) (*policy, error) {
	if p.Limit <= 0 || p.Period <= 0 || p.Burst < 0 {
		return nil, fmt.Errorf("redisstore: policy %q: Limit %d, Period %v, Burst %d: need Limit > 0, Period > 0, Burst >= 0", p.Name, p.Limit, p.Period, p.Burst)
	}
	if p.Limit > maxExact/1000 || p.Burst > maxExact {
		return nil, fmt.Errorf("redisstore: policy %q: Limit %d, Burst %d: %w", p.Name, p.Limit, p.Burst, errPolicyRange)
	}
	c := &policy{limit: p.Limit, capa: p.Limit + p.Burst, period: int64(p.Period), den: 1000 * p.Limit}
	tau, ok := c.charge(p.Limit + p.Burst)
	if !ok {
		return nil, fmt.Errorf("redisstore: policy %q: (Limit+Burst)*Period/Limit = %d*%v/%d: %w", p.Name, p.Limit+p.Burst, p.Period, p.Limit, errPolicyRange)
	}
	c.tau = tau
	c.one, _ = c.charge(1)
	c.args = [5]any{itoa(c.one.u), itoa(c.one.f), itoa(tau.u), itoa(tau.f), itoa(c.den)}
	return c, nil
}

// charge is n*T = n*P/D µs, exactly; ok is false past maxExact.
func (c *policy) charge(n int64) (pair, bool) {
	hi, lo := bits.Mul64(uint64(n), uint64(c.period))
	if hi >= uint64(c.den) {
		return pair{}, false
	}
	q, r := bits.Div64(hi, lo, uint64(c.den))
	if q >= maxExact {
		return pair{}, false
	}
	return pair{int64(q), int64(r)}, true
}

// chargeOf is the charge of a request of cost n >= 1. A cost above C is
// never admitted (ratelimit.Store: RetryAfter math.MaxInt64): it is sent as
// tau + 1 µs, which the script denies whatever the key's state, and which
// state recognises (every admissible charge is at most tau).
func (c *policy) chargeOf(n int64) pair {
	if n == 1 {
		return c.one
	}
	if n > c.capa {
		return c.tau.add(pair{1, 0}, c.den)
	}
	ch, _ := c.charge(n) // n*T <= tau: in range
	return ch
}

// units is floor(x/T) = floor((x.u*D + x.f)/P) for x >= 0.
func (c *policy) units(x pair) int64 {
	hi, lo := bits.Mul64(uint64(x.u), uint64(c.den))
	lo, carry := bits.Add64(lo, uint64(x.f), 0)
	hi += carry
	if hi >= uint64(c.period) {
		return 1<<63 - 1
	}
	q, _ := bits.Div64(hi, lo, uint64(c.period))
	return int64(q)
}

// duration converts x >= 0 to nanoseconds, rounding up: f/D µs = f/L ns.
func (c *policy) duration(x pair) time.Duration {
	return time.Duration(x.u*1000 + (x.f+c.limit-1)/c.limit)
}

// state fills st from the script's answer: base is max(TAT, now) before this
// request, charge its cost, admitted whether every policy admitted it.
// It reports whether this policy alone admits the request.
func (c *policy) state(now, base, charge pair, admitted bool, st *ratelimit.State) bool {
	limit := now.add(c.tau, c.den)
	next := base.add(charge, c.den)
	ok := !limit.less(next)
	after := base
	if admitted {
		after = next
	}
	*st = ratelimit.State{Allowed: ok}
	if !limit.less(after) {
		st.Remaining = c.units(limit.sub(after, c.den))
	}
	if now.less(after) {
		st.Reset = c.duration(after.sub(now, c.den))
	}
	switch {
	case ok:
	case c.tau.less(charge): // cost > C: never
		st.RetryAfter = time.Duration(math.MaxInt64)
	default:
		st.RetryAfter = c.duration(next.sub(limit, c.den))
	}
	return ok
}

func itoa(v int64) string { return strconv.FormatInt(v, 10) }
