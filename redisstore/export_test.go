package redisstore

import "time"

// SetBreakerClock replaces the breaker's clock of a store.
func SetBreakerClock(s interface{ breakerOf() *breaker }, now func() time.Time) {
	b := s.breakerOf()
	b.mu.Lock()
	b.now = now
	b.mu.Unlock()
}

func (s *RateLimitStore) breakerOf() *breaker   { return s.br }
func (s *IdempotencyStore) breakerOf() *breaker { return s.br }

// SetScriptClock makes the rate-limit script use now (µs since the epoch)
// instead of Redis TIME.
func (s *RateLimitStore) SetScriptClock(now func() int64) { s.nowUS = now }

var (
	RedisKey     = redisKey
	AppendRecord = appendRecord
	DecodeRecord = decodeRecord
)
