package idempotency

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/jiec/httpmw/internal/header"
)

// Defaults used for the zero fields of Config.
const (
	DefaultTTL            = 24 * time.Hour
	DefaultLeaseTimeout   = 30 * time.Second
	DefaultMaxBodyBytes   = 1 << 20
	DefaultMaxStoredBytes = 1 << 20
)

// MaxKeyLength is the longest idempotency key accepted (after removing the
// quotes of the sf-string form).
const MaxKeyLength = 255

// Config configures the middleware. Its zero value protects POST and PATCH
// requests that carry an Idempotency-Key, keeps their responses for 24 h in a
// bounded in-memory store, scopes keys by the Authorization field and
// answers 503 when the store fails.
type Config struct {
	// Store keeps leases and responses. nil means a MemoryStore with its
	// defaults, owned by the Middleware (it starts no goroutine, so nothing
	// needs closing). Use a shared store (Redis) when several instances
	// serve the same clients.
	Store Store

	// Methods the middleware applies to; nil means POST and PATCH. Safe
	// methods (GET, HEAD, OPTIONS, TRACE) are rejected by New: they need no
	// key.
	Methods []string

	// Required answers 400 to requests of Methods without an
	// Idempotency-Key. Without it such requests go to the handler
	// unprotected.
	Required bool

	// Scope returns who the request acts for (tenant, user, API key), so
	// that two clients' identical keys never meet. nil means the
	// Authorization field (all its lines) plus, if ScopeCookie is set, that
	// cookie's value. An anonymous request has the empty scope: every
	// anonymous client shares one key space, so set Scope (or Required with
	// authentication in front) in multi-tenant use.
	Scope func(r *http.Request) string

	// ScopeCookie names a session cookie added to the default scope.
	ScopeCookie string

	// Route, if set, gives each route its own key space (for example
	// func(r *http.Request) string { return r.Method + " " + r.URL.Path }).
	// nil means one key space per scope, so a key reused on another method
	// or path is answered 422, as the draft and Stripe require.
	Route func(r *http.Request) string

	// FingerprintHeaders are request fields, besides Content-Type,
	// Accept-Encoding and the preconditions of unsafe methods (If-Match,
	// If-None-Match, If-Unmodified-Since), that make two requests different
	// (for example "Accept" or "Prefer").
	FingerprintHeaders []string

	// MaxBodyBytes is the largest request body read to fingerprint the
	// request; a longer body is answered 413. 0 means DefaultMaxBodyBytes.
	MaxBodyBytes int64

	// MaxStoredBytes is the largest response body stored; a longer response
	// is sent as it is written and not stored. 0 means
	// DefaultMaxStoredBytes.
	MaxStoredBytes int

	// TTL is how long a completed response is replayed. 0 means DefaultTTL.
	TTL time.Duration

	// LeaseTimeout is how long the first request holds the key while its
	// handler runs: after it, a crashed (or very slow) holder's key can be
	// taken again. 0 means DefaultLeaseTimeout.
	LeaseTimeout time.Duration

	// StoreServerErrors stores 5xx responses too (Stripe v1 behaviour). By
	// default they are not stored, so that a retry runs the handler again.
	StoreServerErrors bool

	// FailOpen runs the handler without protection when the store fails.
	// By default such requests are answered 503: the middleware cannot
	// promise that the handler runs once.
	FailOpen bool

	// ErrorHandler writes the responses the middleware answers itself (400,
	// 409, 413, 422, 503); err is an *Error. nil means an RFC 9457
	// problem+json document. Retry-After is already set for 409.
	ErrorHandler func(w http.ResponseWriter, r *http.Request, err error)
}

// defaultFingerprint are the request fields always in the fingerprint: a
// conditional PATCH with another precondition is another request, and a
// retry that accepts other content codings must not be handed a stored body
// in a coding it cannot decode (compress runs inside idempotency in the
// recommended order, so the stored body may be encoded).
var defaultFingerprint = []string{"Content-Type", "Accept-Encoding", "If-Match", "If-None-Match", "If-Unmodified-Since"}

// config is the compiled form of Config.
type config struct {
	store          Store
	methods        []string
	required       bool
	scope          func(*http.Request) string
	scopeCookie    string
	route          func(*http.Request) string
	fpHeaders      []string // canonical names, defaultFingerprint first
	maxBody        int64
	maxStored      int
	ttl            time.Duration
	leaseTimeout   time.Duration
	storeServerErr bool
	failOpen       bool
	errorHandler   func(http.ResponseWriter, *http.Request, error)
}

func compile(c Config) (config, error) {
	var errs []error
	cc := config{
		store:          c.Store,
		required:       c.Required,
		scope:          c.Scope,
		scopeCookie:    c.ScopeCookie,
		route:          c.Route,
		maxBody:        c.MaxBodyBytes,
		maxStored:      c.MaxStoredBytes,
		ttl:            c.TTL,
		leaseTimeout:   c.LeaseTimeout,
		storeServerErr: c.StoreServerErrors,
		failOpen:       c.FailOpen,
		errorHandler:   c.ErrorHandler,
	}
	if c.Methods == nil {
		cc.methods = []string{http.MethodPost, http.MethodPatch}
	}
	for _, m := range c.Methods {
		switch {
		case !header.IsToken(m):
			errs = append(errs, fmt.Errorf("idempotency: Methods: not a method token (value %q)", m))
		case m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions || m == http.MethodTrace:
			errs = append(errs, fmt.Errorf("idempotency: Methods: %s is safe and needs no idempotency key (value %q)", m, m))
		default:
			cc.methods = append(cc.methods, m)
		}
	}
	if c.Methods != nil && len(c.Methods) == 0 {
		errs = append(errs, errors.New("idempotency: Methods: empty list (value []); nil means POST and PATCH"))
	}
	if c.ScopeCookie != "" && !header.IsToken(c.ScopeCookie) {
		errs = append(errs, fmt.Errorf("idempotency: ScopeCookie: not a cookie name (value %q)", c.ScopeCookie))
	}
	cc.fpHeaders = append([]string(nil), defaultFingerprint...)
	for _, name := range c.FingerprintHeaders {
		if !header.IsToken(name) {
			errs = append(errs, fmt.Errorf("idempotency: FingerprintHeaders: not a field name (value %q)", name))
			continue
		}
		cc.fpHeaders = append(cc.fpHeaders, http.CanonicalHeaderKey(name))
	}
	switch {
	case c.MaxBodyBytes < 0:
		errs = append(errs, fmt.Errorf("idempotency: MaxBodyBytes: negative (value %d)", c.MaxBodyBytes))
	case c.MaxBodyBytes == 0:
		cc.maxBody = DefaultMaxBodyBytes
	}
	switch {
	case c.MaxStoredBytes < 0:
		errs = append(errs, fmt.Errorf("idempotency: MaxStoredBytes: negative (value %d)", c.MaxStoredBytes))
	case c.MaxStoredBytes == 0:
		cc.maxStored = DefaultMaxStoredBytes
	}
	switch {
	case c.TTL < 0:
		errs = append(errs, fmt.Errorf("idempotency: TTL: negative (value %s)", c.TTL))
	case c.TTL == 0:
		cc.ttl = DefaultTTL
	}
	switch {
	case c.LeaseTimeout < 0:
		errs = append(errs, fmt.Errorf("idempotency: LeaseTimeout: negative (value %s)", c.LeaseTimeout))
	case c.LeaseTimeout == 0:
		cc.leaseTimeout = DefaultLeaseTimeout
	case c.LeaseTimeout < time.Millisecond:
		errs = append(errs, fmt.Errorf("idempotency: LeaseTimeout: under 1ms (value %s)", c.LeaseTimeout))
	}
	if err := errors.Join(errs...); err != nil {
		return config{}, err
	}
	if cc.store == nil {
		ms, _ := NewMemoryStore(MemoryConfig{})
		cc.store = ms
	}
	return cc, nil
}

// applies reports whether the middleware protects requests with method.
func (c *config) applies(method string) bool {
	for _, m := range c.methods {
		if m == method {
			return true
		}
	}
	return false
}
