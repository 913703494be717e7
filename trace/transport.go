package trace

import (
	"net/http"
	"slices"
)

// Transport returns a RoundTripper that propagates the trace of the request
// context to outgoing requests: the id in the middleware's id header, a
// child traceparent (the trace-id with a new parent-id for each call, so
// every outgoing call is a distinct child of this hop) and the tracestate.
// Headers the caller set on the outgoing request are kept, except lines
// equal to the incoming request's (a proxy such as httputil.ReverseProxy
// copies them): those are replaced, so untrusted, invalid or stale context
// never travels downstream. Requests whose context did not come through the
// middleware pass through unchanged. A nil base means http.DefaultTransport.
//
//	client := &http.Client{Transport: trace.Transport(nil)}
//	req, _ := http.NewRequestWithContext(r.Context(), "GET", url, nil)
func Transport(base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return &transport{base: base}
}

type transport struct {
	base http.RoundTripper
}

// RoundTrip adds the trace headers to a copy of req and sends it.
func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	v := fromContext(req.Context())
	if v == nil {
		return t.base.RoundTrip(req)
	}
	// Lines equal to the incoming request's were copied by a proxy
	// (httputil.ReverseProxy), not chosen by the caller: they may be
	// invalid, untrusted, or name the caller's span instead of ours.
	id, hasID := req.Header[v.c.header]
	hasID = hasID && !copied(id, v.inID)
	tp, hasTP := req.Header["Traceparent"]
	hasTP = hasTP && !copied(tp, v.inTP)
	if hasID && hasTP {
		return t.base.RoundTrip(req)
	}
	// A RoundTripper must not modify the caller's request.
	r2 := new(http.Request)
	*r2 = *req
	r2.Header = req.Header.Clone()
	if r2.Header == nil {
		r2.Header = make(http.Header, 3)
	}
	if !hasID {
		r2.Header[v.c.header] = []string{v.id}
	}
	if !hasTP {
		// The caller set no traceparent: this call is a child of our span.
		sc := v.sc
		sc.SpanID = randomSpanID()
		r2.Header["Traceparent"] = []string{sc.Traceparent()}
		if ts, ok := r2.Header["Tracestate"]; !ok || copied(ts, v.inTS) {
			if sc.TraceState != "" {
				r2.Header["Tracestate"] = []string{sc.TraceState}
			} else {
				delete(r2.Header, "Tracestate")
			}
		}
	}
	return t.base.RoundTrip(r2)
}

// copied reports whether out holds the same lines as the non-empty in.
func copied(out, in []string) bool { return len(in) > 0 && slices.Equal(out, in) }

// CloseIdleConnections closes the idle connections of the base transport
// when it supports it.
func (t *transport) CloseIdleConnections() {
	if c, ok := t.base.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}
