package ratelimit

import (
	"context"
	"time"
)

// Policy is one limit: Limit requests (cost units) per Period, and Burst
// more at one instant. A fresh key admits Limit+Burst units at once, then
// one unit every Period/Limit (GCRA, integer nanoseconds). It is both what
// users configure and what a Store evaluates.
type Policy struct {
	// Name identifies the policy in the RateLimit and RateLimit-Policy
	// fields and in store keys; unique within a Middleware. Middlewares
	// sharing one Store share the state of same-named policies for the
	// same key (the client IP too): name them apart to count apart.
	Name   string
	Limit  int64         // > 0
	Period time.Duration // > 0
	Burst  int64         // >= 0
}

// State is one policy's answer for one Take.
type State struct {
	// Allowed reports whether this policy alone would admit the request.
	Allowed bool
	// Remaining is how many cost units the key could still take at this
	// instant (after this request was charged, when it was admitted).
	Remaining int64
	// Reset is the time until the key's quota under this policy is full
	// again (zero when it is full).
	Reset time.Duration
	// RetryAfter is, when !Allowed, the time until this request would be
	// admitted by this policy; zero otherwise.
	RetryAfter time.Duration
}

// The GCRA every Store computes (MemoryStore exactly so; a remote store
// should match it). With T = Period/Limit and C = Limit+Burst, a key keeps a
// theoretical arrival time TAT per policy, and d = max(TAT-now, 0):
//
//   - admitted by a policy iff d + cost*T <= C*T; if every policy admits,
//     TAT = now + d + cost*T for each, else nothing changes;
//   - Remaining = C - ceil(d'/T), d' being d after the charge (or d when the
//     request was denied), never below 0;
//   - Reset = d' rounded up to a nanosecond;
//   - RetryAfter (denied policies only) = d + cost*T - C*T rounded up to a
//     nanosecond; math.MaxInt64 when cost > C (never admitted).
//
// Store keeps the per-key state of the policies. Implementations must be
// safe for concurrent use, and a Take must be atomic: the request is charged
// to every policy only if every policy admits it, and a denied request
// charges none. One Take is one round trip for remote stores (Redis: one Lua
// script with the server's TIME).
type Store interface {
	// Take evaluates policies for key with the given cost (>= 1) and fills
	// states[i] for policies[i] (len(states) == len(policies)). It reports
	// whether the request is admitted.
	Take(ctx context.Context, key string, policies []Policy, cost int64, states []State) (allowed bool, err error)
}
