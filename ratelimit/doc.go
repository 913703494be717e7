// Package ratelimit limits requests per key (client IP by default) with GCRA,
// answering 429 with Retry-After and the IETF RateLimit fields.
package ratelimit
