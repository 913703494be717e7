package cache

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/jiec/httpmw/internal/header"
	"github.com/jiec/httpmw/internal/problem"
)

// DefaultMaxBodySize is the largest body held to generate an ETag when
// Config.MaxBodySize is 0.
const DefaultMaxBodySize = 1 << 20

// Config configures the middleware. Its zero value generates ETags for
// bodies up to 1 MiB, honours the handler's own validators, answers 304 and
// 412 per RFC 9110 §13 and sets no Cache-Control.
type Config struct {
	// Validator, if not nil, returns the current validators of the resource
	// the request targets, so that conditional requests are answered before
	// the handler runs (304 for GET and HEAD, 412 for any method whose
	// If-Match, If-Unmodified-Since or If-None-Match fails). ok false means
	// "unknown": the handler runs and, for GET and HEAD, the preconditions are
	// evaluated against the validators of its response.
	//
	// It runs for every GET and HEAD, and for other methods only when the
	// request carries a precondition field. It must be cheap (an in-memory
	// version number, a stat) and must return a different ETag for each
	// representation the handler may send for the request (e.g. per
	// negotiated media type). For GET and HEAD the returned ETag and
	// Last-Modified are set on the response before the handler runs (the
	// handler may replace them); for other methods they are not, since the
	// write changes them.
	Validator func(r *http.Request) (v Validators, ok bool)

	// MaxBodySize is the largest response body held to generate an ETag.
	// 0 means DefaultMaxBodySize (1 MiB); a negative value disables generated
	// ETags. Larger bodies are sent as they are written, without an ETag.
	MaxBodySize int

	// CacheControl is set on 2xx and 304 responses to GET and HEAD that have
	// no Cache-Control of their own. The zero value sets nothing.
	CacheControl CacheControl

	// Vary lists request fields the representation depends on. They are
	// merged into the Vary field of every response to GET and HEAD, including
	// the 304s answered before the handler runs (RFC 9110 §15.4.5).
	Vary []string

	// ErrorHandler writes the 412 responses; err is a *PreconditionError.
	// nil means an RFC 9457 problem+json response.
	ErrorHandler func(w http.ResponseWriter, r *http.Request, err error)
}

// Validators are the current validators of a resource (RFC 9110 §8.8).
type Validators struct {
	// ETag is the current entity tag as sent in the field, `"v42"` or
	// `W/"v42"`. A value without the quotes (v42) is quoted; a value that
	// cannot be an entity tag is ignored. Empty means none.
	ETag string
	// LastModified is the modification time; zero means unknown. It is
	// compared with one-second resolution.
	LastModified time.Time
	// Missing reports that the resource has no current representation: an
	// If-Match then fails and If-None-Match: * passes, so a PUT can create the
	// resource only if it does not exist yet. For GET and HEAD the
	// preconditions are then left to the handler (which answers 404).
	Missing bool

	// The fields below are those RFC 9110 §15.4.5 says a 304 MUST carry when
	// the 200 would: a 304 answered before the handler cannot learn them from
	// the handler, so the Validator supplies them. For GET and HEAD they are
	// also set on the response before the handler runs (the handler may
	// replace them, and they are taken back from a response that is not 2xx,
	// as ETag and Last-Modified are), so that the 304 and the 200 agree.

	// CacheControl, if not zero, is this resource's Cache-Control and takes
	// the place of Config.CacheControl. An invalid value (Err not nil) is
	// ignored.
	CacheControl CacheControl
	// Expires, if not zero, is sent as the Expires field (an HTTP-date).
	Expires time.Time
	// ContentLocation, if not empty, is sent as the Content-Location field.
	ContentLocation string
	// Vary lists request fields, besides Config.Vary, that this resource's
	// representation depends on; they are merged into Vary.
	Vary []string
}

// config is the compiled form of Config.
type config struct {
	validator    func(*http.Request) (Validators, bool)
	maxBody      int
	cacheControl string
	vary         []string
	errorHandler func(http.ResponseWriter, *http.Request, error)

	// Field values shared by every 304 answered before the handler runs
	// (final responses: nobody downstream writes to them). Both have
	// len == cap, so an append elsewhere reallocates.
	cacheControlValue []string // {cacheControl}
	varyValue         []string // vary as AddVary builds it on an empty header

	failures [3]failure // precomputed 412 problem+json, one per failed condition (TooLong ones are written when needed)
}

// failure is the precomputed problem+json response for a failed precondition.
type failure struct {
	err *PreconditionError
	doc *problem.Prepared
}

func compile(c Config) (config, error) {
	var errs []error
	cc := config{
		validator:    c.Validator,
		maxBody:      c.MaxBodySize,
		errorHandler: c.ErrorHandler,
	}
	if cc.maxBody == 0 {
		cc.maxBody = DefaultMaxBodySize
	}
	if err := c.CacheControl.Err(); err != nil {
		errs = append(errs, err)
	}
	cc.cacheControl = c.CacheControl.String()
	for _, name := range c.Vary {
		if !header.IsToken(name) {
			errs = append(errs, fmt.Errorf("cache: Vary: not a field name (value %q)", name))
			continue
		}
		cc.vary = append(cc.vary, http.CanonicalHeaderKey(name))
	}
	if cc.cacheControl != "" {
		cc.cacheControlValue = []string{cc.cacheControl}
	}
	if len(cc.vary) > 0 {
		h := http.Header{}
		header.AddVary(h, cc.vary...)
		cc.varyValue = slices.Clip(slices.Clone(h["Vary"])) // its own array, not a slab's
	}
	for i, err := range [...]*PreconditionError{errIfMatch, errIfUnmodifiedSince, errIfNoneMatch} {
		cc.failures[i] = failure{err: err,
			doc: problem.Prepare(problem.Details{Status: http.StatusPreconditionFailed, Detail: err.detail()})}
	}
	return cc, errors.Join(errs...)
}
