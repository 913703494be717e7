package trace

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/jiec/httpmw/internal/header"
)

// Default header names.
const (
	DefaultHeader   = "X-Trace-Id"
	RequestIDHeader = "X-Request-Id"
)

// Config configures the middleware. The zero value is ready to use: ids from
// X-Trace-Id or X-Request-Id and W3C traceparent/tracestate are trusted when
// valid, new ids are W3C trace-ids (32 hex digits) of sampled traces, and
// nothing is logged.
type Config struct {
	// Header is the request header read for an incoming id and the response
	// header the id is echoed in. Default "X-Trace-Id". New rejects
	// traceparent, tracestate, framing and hop-by-hop fields (Content-Length,
	// Connection, …) and credentials (Authorization, Cookie, …), here and in
	// AlsoAccept.
	Header string

	// AlsoAccept lists further request headers read, in order, when Header
	// carries no valid id. An id found there is echoed in that header too.
	// nil means {"X-Request-Id"}; an empty non-nil slice means none.
	AlsoAccept []string

	// TrustIncoming decides per request whether the client's ids and trace
	// context are used. nil trusts every request: right for a service behind
	// a gateway. An edge service returns false for outside callers, which
	// then always get a new id and a restarted trace (W3C Trace Context §8.1:
	// the caller cannot choose the trace-id or the sampled flag).
	TrustIncoming func(*http.Request) bool

	// UUIDVersion selects the generated ids. 0 (the default): the id is the
	// W3C trace-id itself, 32 lowercase hex digits, searchable as-is in a
	// tracing backend. 4 or 7: the id is an RFC 9562 UUID made by
	// github.com/google/uuid, a request id beside a separate random trace-id
	// (a UUID's fixed version and variant bits must not become trace-id
	// bytes, which ratio samplers read).
	UUIDVersion int

	// NewID, when set, generates the ids instead. A result that is not a
	// valid id (1-128 characters of A-Z a-z 0-9 - _ . :) is replaced by a
	// generated one. A result of 32 hex digits is used as the trace-id too;
	// otherwise the trace-id is random.
	NewID func() string

	// Sampling decides the sampled flag of traces this middleware starts;
	// continued traces keep the caller's flag. The default, SampleAll, sets
	// it: every request is logged with its trace_id, a definitive recording
	// decision the flag SHOULD reflect (W3C Trace Context §3.2.2.5.1), and
	// downstream services with the common parent-based samplers then record
	// the trace instead of silently dropping it. SampleNone clears it;
	// SampleRatio sets it for the fraction Ratio of trace-ids, decided from
	// trace-id bytes 8-15 exactly as OpenTelemetry's TraceIDRatioBased does.
	Sampling Sampling

	// Ratio is the sampled fraction with SampleRatio, from 0 to 1.
	Ratio float64

	// PassThrough is for services that record no spans: a valid incoming
	// traceparent is forwarded unchanged (same parent-id and flags: the
	// "forwarding" the W3C processing model requires at a minimum, while a
	// new parent-id promises a span that nobody records), so the caller's
	// span stays the parent of the downstream spans. FromContext then
	// reports the caller's parent-id as SpanID. Without an incoming
	// traceparent the trace starts here as usual, with one span id for the
	// hop (and for all its outgoing calls). The W3C test suite, which models
	// a participant that records spans, expects a new parent-id per call and
	// fails 5 of its 41 tests in this mode; the default passes all 41.
	PassThrough bool

	// SpanContextFrom returns the span context of the span current in ctx,
	// for instance OpenTelemetry's (github.com/jiec/httpmw/otel/traceotel
	// fills it in). When it reports a valid span at request start, that span
	// is the request's trace (id, logs, problem+json, outgoing calls); log
	// records and outgoing calls made with a context holding a child span
	// use that span. A result with a zero SpanID is a remote parent: it is
	// continued like a valid traceparent (unless TrustIncoming refuses the
	// request). A span the tracer already started is used whatever
	// TrustIncoming says: configure the tracer's own boundary (otelhttp's
	// WithPublicEndpointFn) to restart untrusted traces there.
	SpanContextFrom func(ctx context.Context) (SpanContext, bool)

	// PropagateTo, when set, decides which outgoing requests (see Transport)
	// receive the id headers, traceparent and tracestate. For the others
	// Transport sends none of them and removes the lines a proxy copied from
	// the incoming request (the W3C Trace Context privacy considerations:
	// keep tracestate out of requests to external systems). It is asked again for every redirect. HostAllowlist builds one.
	// nil propagates to every destination.
	PropagateTo func(*url.URL) bool

	// ServerTiming adds the trace context of this hop to the response, in
	// the form the W3C Trace Context Level 2 editor's draft defines (a
	// "trace" metric of Server-Timing, appended to the field):
	//
	//	Server-Timing: trace;desc=00-<trace-id>-<span-id>-<flags>
	ServerTiming bool

	// TraceStateLimit is the longest tracestate propagated (to the context and
	// by Transport). Longer ones lose whole members per the spec's truncation
	// rule. Default and minimum 512 (§3.3.1.5), maximum 8192.
	TraceStateLimit int

	// LogKeys names the attributes the access log adds. Empty fields get the
	// defaults (trace_id, span_id, request_id: otelslog's names for the
	// first two).
	LogKeys LogKeys

	// AccessLog, when set, receives one Info record "request" per request
	// after the handler returns: method, path (escaped, at most 1024 bytes),
	// status, bytes (body bytes sent), duration, and trace_id, span_id and
	// request_id unless its handler is a LogHandler, which adds them itself.
	// Status and bytes come from the internal/writer wrapper, which keeps
	// Flush, ResponseController and ReadFrom working. A panicking handler is
	// logged with panic=true (status 0 if it had not sent one) and the panic
	// goes on.
	AccessLog *slog.Logger
}

// Sampling is the sampled-flag policy for traces the middleware starts.
type Sampling int

// Sampling policies.
const (
	SampleAll   Sampling = iota // sampled (the default)
	SampleNone                  // not sampled
	SampleRatio                 // sampled for Config.Ratio of the trace-ids
)

// config is the compiled form of Config.
type config struct {
	header          string
	alsoAccept      []string
	trust           func(*http.Request) bool
	uuidVersion     int
	newID           func() string
	sampling        Sampling
	ratioBound      uint64 // SampleRatio: sampled when trace-id bytes 8-15 >> 1 are below
	passThrough     bool
	spanFrom        func(context.Context) (SpanContext, bool)
	propagateTo     func(*url.URL) bool
	serverTiming    bool
	traceStateLimit int
	keys            LogKeys
	accessLog       *slog.Logger
	logTraceAttrs   bool        // accessLog's handler does not add trace attributes itself
	clock           *milliClock // the time in new trace-ids
}

func (cfg *Config) compile() (config, error) {
	var errs []error
	c := config{
		trust:           cfg.TrustIncoming,
		uuidVersion:     cfg.UUIDVersion,
		newID:           cfg.NewID,
		sampling:        cfg.Sampling,
		passThrough:     cfg.PassThrough,
		spanFrom:        cfg.SpanContextFrom,
		propagateTo:     cfg.PropagateTo,
		serverTiming:    cfg.ServerTiming,
		traceStateLimit: cfg.TraceStateLimit,
		keys:            cfg.LogKeys.withDefaults(),
		accessLog:       cfg.AccessLog,
		clock:           new(milliClock),
	}

	c.header = DefaultHeader
	if cfg.Header != "" {
		c.header = http.CanonicalHeaderKey(cfg.Header)
		if err := checkHeaderName("Header", cfg.Header); err != nil {
			errs = append(errs, err)
		}
	}
	also := cfg.AlsoAccept
	if also == nil {
		also = []string{RequestIDHeader}
	}
	for _, name := range also {
		if err := checkHeaderName("AlsoAccept", name); err != nil {
			errs = append(errs, err)
			continue
		}
		name = http.CanonicalHeaderKey(name)
		if name == c.header || slices.Contains(c.alsoAccept, name) {
			if cfg.AlsoAccept != nil { // the default never duplicates silently
				errs = append(errs, fmt.Errorf("trace: AlsoAccept: duplicate header name (value %q)", name))
			}
			continue
		}
		c.alsoAccept = append(c.alsoAccept, name)
	}

	switch c.uuidVersion {
	case 0, 4, 7:
	default:
		errs = append(errs, fmt.Errorf("trace: UUIDVersion: must be 0, 4 or 7 (value %q)", fmt.Sprint(cfg.UUIDVersion)))
	}

	switch cfg.Sampling {
	case SampleAll, SampleNone:
		if cfg.Ratio != 0 {
			errs = append(errs, fmt.Errorf("trace: Ratio: set without Sampling SampleRatio (value %q)", fmt.Sprint(cfg.Ratio)))
		}
	case SampleRatio:
		if !(cfg.Ratio >= 0 && cfg.Ratio <= 1) { // also rejects NaN
			errs = append(errs, fmt.Errorf("trace: Ratio: must be between 0 and 1 (value %q)", fmt.Sprint(cfg.Ratio)))
		} else {
			c.ratioBound = ratioBound(cfg.Ratio)
		}
	default:
		errs = append(errs, fmt.Errorf("trace: Sampling: unknown policy (value %q)", fmt.Sprint(int(cfg.Sampling))))
	}

	switch {
	case c.traceStateLimit == 0:
		c.traceStateLimit = DefaultTraceStateLimit
	case c.traceStateLimit < DefaultTraceStateLimit || c.traceStateLimit > header.MaxLen:
		errs = append(errs, fmt.Errorf("trace: TraceStateLimit: must be between %d and %d (value %q)",
			DefaultTraceStateLimit, header.MaxLen, fmt.Sprint(cfg.TraceStateLimit)))
	}

	if err := c.keys.check(); err != nil {
		errs = append(errs, err)
	}

	if c.accessLog != nil {
		_, ok := c.accessLog.Handler().(*LogHandler)
		c.logTraceAttrs = !ok
	}
	return c, errors.Join(errs...)
}

// checkHeaderName rejects names that are not tokens, that would collide
// with the W3C headers the middleware handles itself, or that the id must
// never be read from or echoed in: framing and hop-by-hop fields would break
// the response, credentials would be copied into it and into every log line.
func checkHeaderName(field, name string) error {
	if !header.IsToken(name) {
		return fmt.Errorf("trace: %s: not a valid header name (value %q)", field, name)
	}
	switch strings.ToLower(name) {
	case "traceparent", "tracestate":
		return fmt.Errorf("trace: %s: reserved for W3C Trace Context (value %q)", field, name)
	case "connection", "content-length", "content-type", "content-encoding", "host",
		"keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade":
		return fmt.Errorf("trace: %s: framing or hop-by-hop header (value %q)", field, name)
	case "authorization", "proxy-authorization", "cookie", "set-cookie":
		return fmt.Errorf("trace: %s: carries credentials (value %q)", field, name)
	}
	return nil
}
