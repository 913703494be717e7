package redisstore

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/jiec/httpmw/ratelimit"
	"github.com/redis/go-redis/v9"
)

// takeScript evaluates every policy of one Take, each a string key
// {prefix:key}:name holding the TAT as the pair "u f", and, only if all
// admit, advances them all, each with PX set to the time until its policy is
// full again, so idle keys vanish. The keys share the hash tag, so they are
// in one Cluster slot.
//
// KEYS: one per policy. ARGV[1] a test clock in µs ("" = TIME), then five
// per policy: charge u, charge f, tau u, tau f, D. Reply: admitted (0/1),
// now, then base u, base f per policy.
const takeLua = `
if redis.replicate_commands then redis.replicate_commands() end
local now
if ARGV[1] ~= '' then
  now = tonumber(ARGV[1])
else
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000000 + tonumber(t[2])
end
local n = #KEYS
local vals
if n == 1 then vals = {redis.call('GET', KEYS[1])} else vals = redis.call('MGET', unpack(KEYS)) end
local out = {1, now}
local nu, nf = {}, {}
for i = 1, n do
  local o = 5*i - 3
  local d = tonumber(ARGV[o+4])
  local bu, bf = now, 0
  local v = vals[i]
  if v then
    local sp = string.find(v, ' ', 1, true)
    local su, sf
    if sp then su, sf = tonumber(string.sub(v, 1, sp - 1)), tonumber(string.sub(v, sp + 1)) end
    if su and sf then
      if sf >= d then sf = d - 1 end
      if su > now or (su == now and sf > 0) then bu, bf = su, sf end
    end
  end
  out[2*i + 1] = bu
  out[2*i + 2] = bf
  local xu, xf = bu + tonumber(ARGV[o]), bf + tonumber(ARGV[o+1])
  if xf >= d then xu, xf = xu + 1, xf - d end
  local lu, lf = now + tonumber(ARGV[o+2]), tonumber(ARGV[o+3])
  if xu > lu or (xu == lu and xf > lf) then out[1] = 0 end
  nu[i], nf[i] = xu, xf
end
if out[1] == 1 then
  for i = 1, n do
    redis.call('SET', KEYS[i], string.format('%.0f %.0f', nu[i], nf[i]), 'PX', math.floor((nu[i] - now) / 1000) + 1)
  end
end
return out
`

var takeScript = newScript(takeLua)

// argsPool recycles Take's argument slices (a command does not keep its
// arguments after Process returns).
var argsPool = sync.Pool{New: func() any { s := make([]any, 0, 4+6*4); return &s }}

// maxPolicies caps the policies of one Take (script arguments) and
// maxCompiled the cache of compiled policies.
const (
	maxPolicies = 64
	maxCompiled = 1024
)

// RateLimitStore is a ratelimit.Store in Redis: GCRA in one Lua script per
// Take (one round trip for all policies), on the server's clock.
type RateLimitStore struct {
	base

	mu       sync.RWMutex
	compiled map[ratelimit.Policy]*policy

	nowUS func() int64 // test clock for the script (export_test.go)
}

var _ ratelimit.Store = (*RateLimitStore)(nil)

// NewRateLimit returns a rate-limit store on client (a *redis.Client,
// Sentinel failover client or *redis.ClusterClient), or an error naming
// every bad option. The client must have ContextTimeoutEnabled set and
// should have MaxRetries -1 (see the package documentation).
func NewRateLimit(client redis.UniversalClient, opts Options) (*RateLimitStore, error) {
	cfg, err := opts.compile(client, DefaultRateLimitPrefix)
	if err != nil {
		return nil, err
	}
	return &RateLimitStore{
		base:     base{client: client, cfg: cfg, br: newBreaker(cfg, "ratelimit")},
		compiled: make(map[ratelimit.Policy]*policy),
	}, nil
}

func (s *RateLimitStore) policy(p ratelimit.Policy) (*policy, error) {
	s.mu.RLock()
	c := s.compiled[p]
	s.mu.RUnlock()
	if c != nil {
		return c, nil
	}
	c, err := compilePolicy(p)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	if len(s.compiled) < maxCompiled {
		s.compiled[p] = c
	}
	s.mu.Unlock()
	return c, nil
}

// Take implements ratelimit.Store. Errors from Redis wrap ErrUnavailable;
// while the breaker is open Take returns ErrCircuitOpen at once.
func (s *RateLimitStore) Take(ctx context.Context, key string, policies []ratelimit.Policy, cost int64, states []ratelimit.State) (bool, error) {
	n := len(policies)
	switch {
	case n == 0:
		return false, errors.New("redisstore: Take: no policies")
	case n > maxPolicies:
		return false, fmt.Errorf("redisstore: Take: %d policies, at most %d", n, maxPolicies)
	case len(states) != n:
		return false, fmt.Errorf("redisstore: Take: %d states for %d policies", len(states), n)
	case cost < 1:
		return false, fmt.Errorf("redisstore: Take: cost %d, must be >= 1", cost)
	}
	if s.br.refusing() {
		return false, ErrCircuitOpen
	}
	var cbuf [4]*policy
	var chbuf [4]pair
	cs, charges := cbuf[:0], chbuf[:0]
	na := 4 + 6*n // command, hash, numkeys, keys, clock, five per policy
	ap := argsPool.Get().(*[]any)
	defer func() { clear(*ap); argsPool.Put(ap) }()
	if cap(*ap) < na {
		*ap = make([]any, na)
	}
	args := (*ap)[:na]
	args[2] = n // small ints box without allocating
	clock := 3 + n
	args[clock] = ""
	if s.nowUS != nil {
		args[clock] = s.nowUS()
	}
	if len(key) > maxKey {
		key = hashedKey(key)
	}
	for i := range policies {
		c, err := s.policy(policies[i])
		if err != nil {
			return false, err
		}
		args[3+i] = "{" + s.cfg.prefix + ":" + key + "}:" + policies[i].Name // one allocation
		a := args[clock+1+5*i : clock+6+5*i]
		copy(a, c.args[:])
		ch := c.chargeOf(cost)
		if cost != 1 {
			a[0], a[1] = ch.u, ch.f
		}
		cs = append(cs, c)
		charges = append(charges, ch)
	}
	cmd, err := run(ctx, &s.base, takeScript, redis.NewIntSliceCmd, args)
	if err != nil {
		return false, err
	}
	reply := cmd.Val()
	if len(reply) != 2+2*n {
		return false, fmt.Errorf("%w: Take: unexpected reply of %d integers", ErrUnavailable, len(reply))
	}
	admitted := reply[0] == 1
	now := pair{reply[1], 0}
	for i, c := range cs {
		c.state(now, pair{reply[2+2*i], reply[3+2*i]}, charges[i], admitted, &states[i])
	}
	return admitted, nil
}

// CircuitOpen reports whether the breaker currently refuses calls.
func (s *RateLimitStore) CircuitOpen() bool { return s.br.isOpen() }
