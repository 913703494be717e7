package redisstore

import (
	"context"
	"crypto/rand"
	"fmt"
	"time"

	"github.com/jiec/httpmw/idempotency"
	"github.com/redis/go-redis/v9"
)

// One Redis string per idempotency key, {prefix:key}, holding either
//
//	"L" token fingerprint        a lease, with the lease timeout as PX
//	"R" token record             a completed response, with the record TTL as PX
//
// The token (26 characters of crypto/rand.Text, 130 bits) is the fencing
// token. Complete replaces the lease by the record in one SET, so the
// record is stored before (in the same atomic step as) the lease ends, and
// a replica never sees neither. Every script is safe to run twice with the
// same arguments (a client retry after a lost reply): a second Acquire
// finds its own lease, a second Complete finds its own record.
const tokenLen = 26

// acquireLua: KEYS[1]; ARGV[1] the lease value, ARGV[2] the lease PX.
// Reply {1} when acquired, else {0, value, pttl}.
const acquireLua = `
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return {1} end
local v = redis.call('GET', KEYS[1])
if v == ARGV[1] then return {1} end
return {0, v, redis.call('PTTL', KEYS[1])}
`

// completeLua: KEYS[1]; ARGV[1] the token, ARGV[2] the record value,
// ARGV[3] the record PX. Reply 1 when stored, 0 when the lease is lost.
const completeLua = `
local head = redis.call('GETRANGE', KEYS[1], 0, 26)
if head == 'L' .. ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
  return 1
end
if head == 'R' .. ARGV[1] then return 1 end
return 0
`

// releaseLua: KEYS[1]; ARGV[1] the token. Reply 1 when released.
const releaseLua = `
if redis.call('GETRANGE', KEYS[1], 0, 26) == 'L' .. ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
`

var (
	acquireScript  = newScript(acquireLua)
	completeScript = newScript(completeLua)
	releaseScript  = newScript(releaseLua)
)

// IdempotencyStore is an idempotency.Store in Redis: leases taken with
// SET NX PX, completion and release by the lease holder only (the fencing
// token checked in Lua), replays served by any replica.
type IdempotencyStore struct {
	base
}

var _ idempotency.Store = (*IdempotencyStore)(nil)

// NewIdempotency returns an idempotency store on client, or an error naming
// every bad option. The client requirements are those of NewRateLimit.
func NewIdempotency(client redis.UniversalClient, opts Options) (*IdempotencyStore, error) {
	cfg, err := opts.compile(client, DefaultIdempotencyPrefix)
	if err != nil {
		return nil, err
	}
	return &IdempotencyStore{base{client: client, cfg: cfg, br: newBreaker(cfg, "idempotency")}}, nil
}

// pxArg is d in whole milliseconds, rounded up (PX has millisecond
// resolution).
func pxArg(d time.Duration) int64 { return int64((d + time.Millisecond - 1) / time.Millisecond) }

// Acquire implements idempotency.Store.
func (s *IdempotencyStore) Acquire(ctx context.Context, key, fingerprint string, leaseTimeout time.Duration) (idempotency.Lease, error) {
	if leaseTimeout <= 0 {
		return idempotency.Lease{}, fmt.Errorf("redisstore: Acquire: lease timeout %v, must be positive", leaseTimeout)
	}
	token := rand.Text()
	args := []any{nil, nil, "1", redisKey(s.cfg.prefix, key), "L" + token + fingerprint, pxArg(leaseTimeout)}
	cmd, err := run(ctx, &s.base, acquireScript, redis.NewSliceCmd, args)
	if err != nil {
		return idempotency.Lease{}, err
	}
	reply := cmd.Val()
	if len(reply) == 1 {
		return idempotency.Lease{Acquired: true, Token: token}, nil
	}
	if len(reply) != 3 {
		return idempotency.Lease{}, fmt.Errorf("%w: Acquire: unexpected reply %v", ErrUnavailable, reply)
	}
	v, _ := reply[1].(string)
	pttl, _ := reply[2].(int64)
	if len(v) < 1+tokenLen {
		return idempotency.Lease{}, fmt.Errorf("%w: Acquire: malformed value under key", errRecord)
	}
	switch v[0] {
	case 'L':
		lease := idempotency.Lease{Fingerprint: v[1+tokenLen:]}
		// PTTL is 0 in the last millisecond of the lease.
		lease.RetryAfter = time.Duration(max(pttl, 1)) * time.Millisecond
		return lease, nil
	case 'R':
		rec, err := decodeRecord(v[1+tokenLen:])
		if err != nil {
			return idempotency.Lease{}, err
		}
		return idempotency.Lease{Record: rec}, nil
	}
	return idempotency.Lease{}, fmt.Errorf("%w: Acquire: malformed value under key", errRecord)
}

// Complete implements idempotency.Store.
func (s *IdempotencyStore) Complete(ctx context.Context, key, token string, rec idempotency.Record, ttl time.Duration) error {
	if ttl <= 0 {
		return fmt.Errorf("redisstore: Complete: ttl %v, must be positive", ttl)
	}
	if len(token) != tokenLen {
		return idempotency.ErrLeaseLost
	}
	v := make([]byte, 0, 1+tokenLen+64+len(rec.Fingerprint)+len(rec.Body)+32*len(rec.Header))
	v = append(append(v, 'R'), token...)
	v = appendRecord(v, &rec)
	args := []any{nil, nil, "1", redisKey(s.cfg.prefix, key), token, v, pxArg(ttl)}
	return s.fenced(ctx, completeScript, args)
}

// Release implements idempotency.Store.
func (s *IdempotencyStore) Release(ctx context.Context, key, token string) error {
	if len(token) != tokenLen {
		return idempotency.ErrLeaseLost
	}
	args := []any{nil, nil, "1", redisKey(s.cfg.prefix, key), token}
	return s.fenced(ctx, releaseScript, args)
}

func (s *IdempotencyStore) fenced(ctx context.Context, sc *script, args []any) error {
	cmd, err := run(ctx, &s.base, sc, redis.NewIntCmd, args)
	if err != nil {
		return err
	}
	if cmd.Val() != 1 {
		return idempotency.ErrLeaseLost
	}
	return nil
}

// CircuitOpen reports whether the breaker currently refuses calls.
func (s *IdempotencyStore) CircuitOpen() bool { return s.br.isOpen() }
