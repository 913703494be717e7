// Package ratelimit limits requests per key (the client IP by default) with
// GCRA, answering 429 with Retry-After, the IETF RateLimit fields
// (draft-ietf-httpapi-ratelimit-headers-12) and an RFC 9457 problem.
//
// # Algorithm
//
// Each Policy admits Limit units per Period with Burst more at one instant:
// a fresh key gets Limit+Burst at once, then one every Period/Limit. The
// Generic Cell Rate Algorithm keeps one theoretical arrival time per policy
// and key, in exact integer arithmetic (nanoseconds plus a remainder in
// 1/Limit ns, so 3 per second is exact and never drifts). With several
// policies (10/s and 1000/day) a request is admitted only if every policy
// admits it, and a denied request charges none: Store.Take is atomic. A
// request costs 1 unit, or what Config.Cost says.
//
// # Keys
//
// By default the key is the client address: RemoteAddr, or, only when
// RemoteAddr is one of Config.TrustedProxies, the first untrusted address
// of X-Forwarded-For (or Forwarded, see Config.ProxyHeader) walking from
// the right, so a client can never choose its key with a forged header. An
// unparseable hop ends the walk at the last trusted hop; never more than 32
// elements or 256-byte elements are read, whatever the header's size. IPv4
// addresses are keys as they are (/32), IPv6 ones by their /64 (both
// configurable). Config.KeyFunc replaces this (API keys, user ids); its keys
// are capped at MaxKeyLen (256) bytes and an empty one is a 400.
//
// # Fields
//
// Every counted response carries
//
//	RateLimit-Policy: "burst";q=10;w=1, "daily";q=1000;w=86400
//	RateLimit: "burst";r=9;t=1, "daily";r=999;t=87
//
// as structured-field Lists of sf-strings with Integer parameters: q and w
// (whole seconds; a Burst is the vendor parameter httpmw-burst) are the
// policy, r the units left and t the seconds (rounded up) until the next
// unit comes back (omitted when the quota is full). pk is never sent: it
// would reveal the key (the client's address or API key) to whoever reads
// the response. A 429 also carries Retry-After in whole seconds, rounded
// up, at least 1, the largest wait among the violated policies (so it is
// never earlier than their t, as the draft asks). LegacyHeaders adds
// X-RateLimit-Limit/-Remaining/-Reset for the most constrained policy.
//
// # Rejections
//
// 429 is problem+json with type
// "https://iana.org/assignments/http-problem-types#quota-exceeded" and the
// "violated-policies" member. When the Store fails the request goes through
// and the error is logged at most once a second (fail open, the default), or,
// with FailClosed, the answer is 503 with Retry-After: 1. ErrorHandler replaces these answers.
//
// # Stores
//
// The Store interface takes one call per request (one round trip for a
// remote store). MemoryStore is sharded (64 mutexes), bounded by MaxKeys
// (evicting first entries whose bucket is full again, which carry no state),
// and starts no goroutine. It keeps no key bytes: an entry is the seeded
// 64-bit hash of (policy name, key) and its arrival time, ~53 bytes at 1M
// keys; two pairs share state only on a hash collision (2^-64 per pair,
// under a random seed clients cannot learn). Concurrency limits running requests per key in
// this process, released when the handler returns or panics.
//
// Exempt requests are neither counted nor decorated. A nil or zero
// Middleware (New not called) passes every request through unlimited. The RateLimit fields are
// set before next runs; a handler may remove them.
package ratelimit
