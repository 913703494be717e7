// Package idempotency makes retried POST and PATCH requests carrying an
// Idempotency-Key run the handler once and replay its response.
package idempotency
