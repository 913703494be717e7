package redisstore

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/jiec/httpmw/ratelimit"
	"github.com/redis/go-redis/v9"
)

// takeScript evaluates every policy of one Take against one hash
// {prefix:key} (a field per policy name holding "u f", the TAT as a pair) and,
// only if all admit, advances them all and extends the key's TTL to the
// time at which the last of them is full again, so idle keys vanish.
//
// KEYS[1] the hash. ARGV[1] a test clock in µs ("" = TIME), ARGV[2] the
// policy count n, then six per policy: name, charge u, charge f, tau u,
// tau f, D. Reply: admitted (0/1), now, then base u, base f per policy.
const takeLua = `
if redis.replicate_commands then redis.replicate_commands() end
local now
if ARGV[1] ~= '' then
  now = tonumber(ARGV[1])
else
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000000 + tonumber(t[2])
end
local n = tonumber(ARGV[2])
local names = {}
for i = 1, n do names[i] = ARGV[6*i - 3] end
local vals = redis.call('HMGET', KEYS[1], unpack(names))
local out = {1, now}
local nu, nf = {}, {}
local ttl = 1
for i = 1, n do
  local o = 6*i - 3
  local d = tonumber(ARGV[o+5])
  local bu, bf = now, 0
  local v = vals[i]
  if v then
    local su, sf = string.match(v, '^(%d+) (%d+)$')
    if su then
      su, sf = tonumber(su), tonumber(sf)
      if sf >= d then sf = d - 1 end
      if su > now or (su == now and sf > 0) then bu, bf = su, sf end
    end
  end
  out[2*i + 1] = bu
  out[2*i + 2] = bf
  local xu, xf = bu + tonumber(ARGV[o+1]), bf + tonumber(ARGV[o+2])
  if xf >= d then xu, xf = xu + 1, xf - d end
  local lu, lf = now + tonumber(ARGV[o+3]), tonumber(ARGV[o+4])
  if xu > lu or (xu == lu and xf > lf) then out[1] = 0 end
  nu[i], nf[i] = xu, xf
  local ms = math.floor((xu - now) / 1000) + 1
  if ms > ttl then ttl = ms end
end
if out[1] == 1 then
  local set = {}
  for i = 1, n do
    set[2*i - 1] = names[i]
    set[2*i] = string.format('%.0f %.0f', nu[i], nf[i])
  end
  redis.call('HSET', KEYS[1], unpack(set))
  if redis.call('PTTL', KEYS[1]) < ttl then redis.call('PEXPIRE', KEYS[1], ttl) end
end
return out
`

var takeScript = newScript(takeLua)

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
	var cbuf [4]*policy
	var chbuf [4]pair
	cs, charges := cbuf[:0], chbuf[:0]
	args := make([]any, 6+6*n)
	args[2], args[3], args[4], args[5] = "1", redisKey(s.cfg.prefix, key), "", n
	if s.nowUS != nil {
		args[4] = s.nowUS()
	}
	for i := range policies {
		c, err := s.policy(policies[i])
		if err != nil {
			return false, err
		}
		a := args[6+6*i : 12+6*i]
		copy(a, c.args[:])
		ch := c.one
		if cost != 1 {
			var ok bool
			if ch, ok = c.charge(cost); !ok {
				return false, fmt.Errorf("redisstore: Take: cost %d under policy %q: %w", cost, policies[i].Name, errPolicyRange)
			}
			a[1], a[2] = ch.u, ch.f
		}
		cs = append(cs, c)
		charges = append(charges, ch)
	}
	var reply []int64
	err := s.call(ctx, func(ctx context.Context) error {
		cmd, err := eval(ctx, s.client, takeScript, redis.NewIntSliceCmd, args)
		reply = cmd.Val()
		return err
	})
	if err != nil {
		return false, err
	}
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
