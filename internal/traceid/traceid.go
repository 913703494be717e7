// Package traceid carries the request's trace id in its context, so that
// packages which cannot import trace (internal/problem) can still report it.
package traceid

import "context"

// Carrier is stored in the context by the trace package.
type Carrier interface{ TraceID() string }

// Key is the context key of the Carrier. A context type may answer it from
// its own Value method instead of using With (the trace package does, to
// save an allocation per request).
type Key struct{}

// With returns ctx carrying c.
func With(ctx context.Context, c Carrier) context.Context {
	return context.WithValue(ctx, Key{}, c)
}

// From returns the carrier stored in ctx, or nil.
func From(ctx context.Context) Carrier {
	c, _ := ctx.Value(Key{}).(Carrier)
	return c
}

// ID returns the trace id stored in ctx, or "".
func ID(ctx context.Context) string {
	if c := From(ctx); c != nil {
		return c.TraceID()
	}
	return ""
}
