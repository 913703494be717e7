package trace

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
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
// valid, new ids are UUIDv7, and nothing is logged.
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

	// UUIDVersion selects the generated ids (RFC 9562), made by
	// github.com/google/uuid from crypto/rand: 7 (the default; time-ordered,
	// good for log search; it reveals the creation time) or 4 (random).
	UUIDVersion int

	// NewID, when set, generates the ids instead. A result that is not a
	// valid id (1-128 characters of A-Z a-z 0-9 - _ . :) is replaced by a
	// UUID. When the result is a UUID (or 32 hex digits) the W3C trace-id is
	// derived from it; otherwise the trace-id is random.
	NewID func() string

	// Sampled sets the W3C sampled flag on traces this middleware starts.
	// Continued traces keep the caller's flag.
	Sampled bool

	// ResponseTraceparent adds this hop's traceparent to the response, next
	// to the id header.
	ResponseTraceparent bool

	// TraceStateLimit is the longest tracestate propagated (to the context and
	// by Transport). Longer ones lose whole members per the spec's truncation
	// rule. Default and minimum 512 (§3.3.1.5), maximum 8192.
	TraceStateLimit int

	// AccessLog, when set, receives one Info record "request" per request
	// after the handler returns: method, path (escaped, at most 1024 bytes),
	// status, bytes (body bytes sent), duration, and trace_id and span_id
	// unless its handler is a LogHandler, which adds them itself. Status and
	// bytes come from the internal/writer wrapper, which keeps Flush,
	// ResponseController and ReadFrom working. A panicking handler is logged
	// with panic=true (status 0 if it had not sent one) and the panic goes on.
	AccessLog *slog.Logger
}

// config is the compiled form of Config.
type config struct {
	header              string
	alsoAccept          []string
	trust               func(*http.Request) bool
	uuidVersion         int
	newID               func() string
	sampled             bool
	responseTraceparent bool
	traceStateLimit     int
	accessLog           *slog.Logger
	logTraceAttrs       bool // accessLog's handler does not add trace attributes itself
}

func (cfg *Config) compile() (config, error) {
	var errs []error
	c := config{
		trust:               cfg.TrustIncoming,
		uuidVersion:         cfg.UUIDVersion,
		newID:               cfg.NewID,
		sampled:             cfg.Sampled,
		responseTraceparent: cfg.ResponseTraceparent,
		traceStateLimit:     cfg.TraceStateLimit,
		accessLog:           cfg.AccessLog,
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
	case 0:
		c.uuidVersion = 7
	case 4, 7:
	default:
		errs = append(errs, fmt.Errorf("trace: UUIDVersion: must be 4 or 7 (value %q)", fmt.Sprint(cfg.UUIDVersion)))
	}

	switch {
	case c.traceStateLimit == 0:
		c.traceStateLimit = DefaultTraceStateLimit
	case c.traceStateLimit < DefaultTraceStateLimit || c.traceStateLimit > header.MaxLen:
		errs = append(errs, fmt.Errorf("trace: TraceStateLimit: must be between %d and %d (value %q)",
			DefaultTraceStateLimit, header.MaxLen, fmt.Sprint(cfg.TraceStateLimit)))
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
