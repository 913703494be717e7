package trace

import (
	"context"
	"net/http"
	"strings"

	"github.com/jiec/httpmw/internal/header"
)

// Carrier holds propagated fields outside HTTP: message headers of a queue,
// gRPC metadata. Its method set is OpenTelemetry's
// propagation.TextMapCarrier, so those carriers (MapCarrier, HeaderCarrier)
// fit. Keys are written in lowercase (traceparent, tracestate, x-trace-id),
// as the W3C Trace Context protocol bindings advise; Get is tried with the
// lowercase and the canonical HTTP spelling.
type Carrier interface {
	Get(key string) string
	Set(key, value string)
	Keys() []string
}

// MapCarrier is a Carrier backed by a map.
type MapCarrier map[string]string

// Get returns the value of key.
func (m MapCarrier) Get(key string) string { return m[key] }

// Set sets key to value.
func (m MapCarrier) Set(key, value string) { m[key] = value }

// Keys returns the keys, in no particular order.
func (m MapCarrier) Keys() []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	return keys
}

// Inject writes the trace of ctx to c for an outgoing message: the id under
// the middleware's id header name, a traceparent whose parent-id follows
// the rules of Transport (the current span, PassThrough, or a new child)
// and the tracestate when there is one. A ctx the middleware (or Extract)
// did not see writes nothing. Config.PropagateTo is not consulted: a
// carrier has no destination host.
func Inject(ctx context.Context, c Carrier) {
	v := fromContext(ctx)
	if v == nil || c == nil {
		return
	}
	sc := v.outgoing(ctx)
	c.Set(strings.ToLower(v.c.header), v.id)
	c.Set("traceparent", sc.Traceparent())
	if sc.TraceState != "" {
		c.Set("tracestate", sc.TraceState)
	}
}

// Extract returns ctx carrying the id and span context read from c, with
// the zero Config: what the middleware does for a request, for a message
// taken from a queue. See Middleware.Extract.
func Extract(ctx context.Context, c Carrier) context.Context {
	return defaultMiddleware.Extract(ctx, c)
}

// Extract returns ctx carrying the id and span context read from c with the
// middleware's configuration (header names, sampling, pass-through,
// SpanContextFrom), so ID, FromContext, LogHandler, Transport and Inject
// work in a message consumer. Config.TrustIncoming is not consulted (it
// takes an *http.Request): extract only from carriers of trusted producers.
// Values longer than the header limit are ignored. A nil c starts a new
// trace.
func (m *Middleware) Extract(ctx context.Context, c Carrier) context.Context {
	if ctx == nil {
		ctx = context.Background()
	}
	cfg := &m.c
	h := make(http.Header, 3)
	if c != nil {
		get := func(name string) {
			s := c.Get(strings.ToLower(name))
			if s == "" {
				s = c.Get(name)
			}
			if s != "" && len(s) <= header.MaxLen {
				h[name] = []string{s}
			}
		}
		get(cfg.header)
		for _, name := range cfg.alsoAccept {
			get(name)
		}
		get("Traceparent")
		get("Tracestate")
	}
	v := cfg.newValue(ctx, h, nil)
	v.in = nil // nothing to recognize on outgoing requests
	return v
}
