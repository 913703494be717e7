package trace

import (
	"context"
	"fmt"
	"net/http"
	"unsafe"

	"github.com/jiec/httpmw/internal/traceid"
)

// value is the per-request state of the middleware. It is itself the
// request's context: it embeds the parent context and answers the
// internal/traceid key, which saves the context.WithValue allocation on
// every request. It also holds the request passed to the next handler (a
// copy of the incoming one whose context is the value), so a request costs
// one allocation instead of two. It is allocated once per request and never
// changed after the handler chain starts, so the strings that point into its
// buffers stay valid for as long as anything refers to them.
//
// Pointer-free fields come last, so the garbage collector scans less.
type value struct {
	req             http.Request // the request the next handler gets
	context.Context              // the parent
	c               *config      // the middleware's config (id header name for Transport)

	id string // the request's id (X-Trace-Id)

	// The request's own id, traceparent and tracestate lines, to recognize
	// them when a proxy copies them to an outgoing request (Transport).
	inID, inTP, inTS []string

	hdrs [2]string // backing arrays of the response id header values
	sc   SpanContext

	idBuf   [36]byte // backing store of id when generated or derived
	spanHex [16]byte // backing store of the span_id log attribute
}

// Value answers the traceid key with v and delegates every other key.
func (v *value) Value(k any) any {
	if k == (traceid.Key{}) {
		return v
	}
	return v.Context.Value(k)
}

// String names the context for debugging, like the context package does.
func (v *value) String() string {
	if s, ok := v.Context.(fmt.Stringer); ok {
		return s.String() + ".WithValue(trace)"
	}
	return "context.WithValue(trace)"
}

// TraceID implements traceid.Carrier, so problem+json responses report it.
func (v *value) TraceID() string { return v.id }

// spanID returns the span id as 16 hex digits without allocating.
func (v *value) spanID() string { return unsafe.String(&v.spanHex[0], len(v.spanHex)) }

// idFromBuf returns the n first bytes of idBuf as a string.
func (v *value) idFromBuf(n int) string { return unsafe.String(&v.idBuf[0], n) }

func fromContext(ctx context.Context) *value {
	v, _ := traceid.From(ctx).(*value)
	return v
}

// ID returns the request's id (the value echoed in the X-Trace-Id response
// header), or "" when ctx does not come from a request the middleware saw.
func ID(ctx context.Context) string {
	if v := fromContext(ctx); v != nil {
		return v.id
	}
	return ""
}

// FromContext returns the W3C span context of the request, and false when
// ctx does not come from a request the middleware saw.
func FromContext(ctx context.Context) (SpanContext, bool) {
	if v := fromContext(ctx); v != nil {
		return v.sc, true
	}
	return SpanContext{}, false
}
