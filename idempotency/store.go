package idempotency

import (
	"context"
	"errors"
	"net/http"
	"time"
)

// Record is a completed response as a Store keeps it.
type Record struct {
	// Fingerprint identifies the request that produced the response
	// (method, path, query and body hash); a retry with another fingerprint
	// is answered 422.
	Fingerprint string
	Status      int
	// Header holds only the fields the inner handler set (never per-request
	// fields of outer middlewares such as trace ids or nonces).
	Header http.Header
	Body   []byte
	// Created is when the first request completed.
	Created time.Time
}

// Lease is the answer of Acquire.
type Lease struct {
	// Acquired reports that the caller now holds the lease and must end it
	// with Complete or Release, passing Token.
	Acquired bool
	// Token is the fencing token of the lease the caller holds (unique per
	// lease); Complete and Release succeed only with the current token.
	Token string
	// Record is the completed response, when the key has one (Acquired is
	// then false): a replay, or 422 when its Fingerprint differs.
	Record *Record
	// Fingerprint is, when another request holds the lease, that request's
	// fingerprint (409 when it matches, 422 when it differs).
	Fingerprint string
	// RetryAfter is, when another request holds the lease, the time until
	// that lease expires.
	RetryAfter time.Duration
}

// Store keeps leases and completed records. Implementations must be safe for
// concurrent use and each method must be atomic (Redis: SET NX PX for the
// lease, Lua scripts checking the token for Complete and Release).
//
// The middleware passes as key its storage key, 64 lowercase hex characters
// (SHA-256 of scope, route and Idempotency-Key), and as fingerprint another
// 64 hex characters, so both can be used verbatim in a Redis key or value.
// It calls Complete and Release with a context that is not canceled when the
// client goes away. Records returned by Acquire are only read, never modified.
type Store interface {
	// Acquire returns the completed record for key if there is one;
	// otherwise, if no live lease exists, takes a lease for leaseTimeout
	// recording fingerprint; otherwise reports the live lease. An expired
	// lease counts as absent.
	Acquire(ctx context.Context, key, fingerprint string, leaseTimeout time.Duration) (Lease, error)
	// Complete stores rec under key for ttl and ends the lease, both in one
	// atomic step, only if token is the current lease's token; otherwise it
	// returns ErrLeaseLost and stores nothing.
	Complete(ctx context.Context, key, token string, rec Record, ttl time.Duration) error
	// Release ends the lease without storing anything (the key becomes
	// usable again), only if token is the current lease's token; otherwise
	// it returns ErrLeaseLost.
	Release(ctx context.Context, key, token string) error
}

// ErrLeaseLost is returned by Complete and Release when the caller's lease
// expired and another request took the key (or it was never held).
var ErrLeaseLost = errors.New("idempotency: lease lost")
