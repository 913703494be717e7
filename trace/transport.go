package trace

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// Transport returns a RoundTripper that propagates the trace of the request
// context to outgoing requests: the id in the middleware's id header, a
// traceparent and the tracestate. The traceparent's parent-id is the span
// current in the context when Config.SpanContextFrom reports one (an
// OpenTelemetry span), the request's own with Config.PassThrough, and
// otherwise a new one for each call, so every outgoing call is a distinct
// child of this hop.
//
// Headers the caller set on the outgoing request are kept, except lines
// equal to the incoming request's (a proxy such as httputil.ReverseProxy
// copies them): those are replaced or removed, so untrusted, invalid or
// stale context never travels downstream. This covers every accepted id
// header (Config.Header and all of Config.AlsoAccept): a copied line is
// removed unless it is the id the middleware accepted. Destinations that
// Config.PropagateTo refuses get none of these headers (copied lines are
// removed too); redirects pass through RoundTrip again and are checked the
// same way. Requests whose context did not come through the middleware
// pass through unchanged. A nil base means http.DefaultTransport.
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
	allowed := v.c.propagateTo == nil || req.URL == nil || v.c.propagateTo(req.URL)
	if !v.needsChange(req.Header, allowed) {
		return t.base.RoundTrip(req)
	}
	// A RoundTripper must not modify the caller's request.
	r2 := new(http.Request)
	*r2 = *req
	r2.Header = req.Header.Clone()
	if r2.Header == nil {
		r2.Header = make(http.Header, 3)
	}
	v.rewrite(r2, allowed)
	return t.base.RoundTrip(r2)
}

// copied reports whether h[name] holds the same lines as the incoming
// request's non-empty h[name].
func (v *value) copied(h http.Header, name string) bool {
	in := v.in[name]
	return len(in) > 0 && slices.Equal(h[name], in)
}

// needsChange reports whether the outgoing header h must be rewritten.
func (v *value) needsChange(h http.Header, allowed bool) bool {
	c := v.c
	if !allowed {
		if v.copied(h, c.header) || v.copied(h, "Traceparent") || v.copied(h, "Tracestate") {
			return true
		}
	} else {
		if _, ok := h[c.header]; !ok || v.copied(h, c.header) {
			return true
		}
		if _, ok := h["Traceparent"]; !ok || v.copied(h, "Traceparent") {
			return true
		}
	}
	for _, name := range c.alsoAccept {
		if v.copied(h, name) && (!allowed || name != v.from) {
			return true
		}
	}
	return false
}

// rewrite sets the trace headers of the outgoing request r (whose header
// map is its own).
func (v *value) rewrite(r *http.Request, allowed bool) {
	h, c := r.Header, v.c
	for _, name := range c.alsoAccept {
		if v.copied(h, name) && (!allowed || name != v.from) {
			delete(h, name)
		}
	}
	if !allowed {
		for _, name := range [...]string{c.header, "Traceparent", "Tracestate"} {
			if v.copied(h, name) {
				delete(h, name)
			}
		}
		return
	}
	if _, ok := h[c.header]; !ok || v.copied(h, c.header) {
		h[c.header] = []string{v.id}
	}
	if _, ok := h["Traceparent"]; ok && !v.copied(h, "Traceparent") {
		return // the caller's own traceparent (and tracestate) stay
	}
	// The caller set no traceparent: this call continues our trace.
	sc := v.outgoing(r.Context())
	h["Traceparent"] = []string{sc.Traceparent()}
	if _, ok := h["Tracestate"]; !ok || v.copied(h, "Tracestate") {
		if sc.TraceState != "" {
			h["Tracestate"] = []string{sc.TraceState}
		} else {
			delete(h, "Tracestate")
		}
	}
}

// CloseIdleConnections closes the idle connections of the base transport
// when it supports it.
func (t *transport) CloseIdleConnections() {
	if c, ok := t.base.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

// HostAllowlist returns a Config.PropagateTo function that allows the
// listed hosts: "api.example.com" matches that host exactly, ".example.com"
// matches every subdomain of example.com. Matching ignores case and the
// port.
func HostAllowlist(hosts ...string) func(*url.URL) bool {
	exact := make(map[string]bool, len(hosts))
	var suffixes []string
	for _, h := range hosts {
		h = strings.ToLower(h)
		if strings.HasPrefix(h, ".") {
			suffixes = append(suffixes, h)
		} else {
			exact[h] = true
		}
	}
	return func(u *url.URL) bool {
		host := strings.ToLower(u.Hostname())
		if exact[host] {
			return true
		}
		for _, s := range suffixes {
			if len(host) > len(s) && strings.HasSuffix(host, s) {
				return true
			}
		}
		return false
	}
}
