package ratelimit

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/jiec/httpmw/internal/problem"
)

// Config configures the middleware. New validates it and copies it:
// changing a Config (or its slices) after New has no effect.
type Config struct {
	// Policies are the limits every request must pass, e.g. 10 per second
	// and 1000 per day. Required (at most 16). A request is admitted only
	// if every policy admits it; a denied request charges none. Names must
	// be unique, 1-64 printable ASCII characters without '"' or '\'.
	// Limit+Burst is at most 999 999 999 999 999, the largest Integer a
	// structured field carries (RFC 9651), as is Concurrency.
	Policies []Policy

	// Store keeps the per-key state. nil: a MemoryStore with the default
	// MemoryConfig, owned by the Middleware (Close closes it). A
	// *MemoryStore must come from NewMemoryStore.
	Store Store

	// KeyFunc returns the key requests are counted under (an API key, a
	// user id; add a prefix to share one Store between middlewares). nil:
	// the client IP address, see TrustedProxies and IPv6Prefix. An error,
	// an empty key or one longer than MaxKeyLen reaches ErrorHandler as a
	// *KeyError (default: 400).
	KeyFunc func(r *http.Request) (string, error)

	// MaxKeyLen caps the keys KeyFunc returns; 0 means 256 bytes.
	MaxKeyLen int

	// TrustedProxies are the proxies whose ProxyHeader is believed. Only
	// when the connection comes from one of them is the header read, right
	// to left, skipping hops that are themselves trusted: the first
	// untrusted address is the client. Anything a client writes further
	// left is never read, so a client cannot choose its key. Empty (the
	// default): the connection's address is the client. A /0 (trusting
	// every peer) is refused.
	TrustedProxies []netip.Prefix

	// ProxyHeader is the header the trusted proxies append to:
	// "X-Forwarded-For" (the default) or "Forwarded" (RFC 7239). The other
	// one is ignored, since a proxy that manages one passes the other
	// through from the client.
	ProxyHeader string

	// IPv4Prefix and IPv6Prefix are the prefix lengths client addresses are
	// bucketed by. 0 means 32 (one address) and 64 (one IPv6 subnet, what
	// one customer usually gets; a /128 key would let a client rotate
	// through 2^64 addresses).
	IPv4Prefix, IPv6Prefix int

	// Exempt, when it returns true, lets the request through uncounted and
	// without RateLimit fields (health checks, internal callers).
	Exempt func(r *http.Request) bool

	// Cost returns how many units the request takes (e.g. more for an
	// expensive endpoint). nil, or a result below 1: 1. A cost above a
	// policy's Limit+Burst is never admitted (429, Retry-After one Period).
	Cost func(r *http.Request) int64

	// Concurrency, when > 0, limits how many requests of one key run at
	// once in this process, released when the handler returns or panics
	// (a handler that hijacks the connection, e.g. for a WebSocket, holds
	// its slot until it returns). Over the limit: 429. Advertised as policy "concurrency" with
	// qu="concurrent-requests".
	Concurrency int64

	// FailClosed answers 503 problem+json with Retry-After: 1 when the
	// Store fails. false (the default): the request is admitted and the
	// error logged at most once a second on Logger, so that an outage of a
	// shared store (Redis) does not take the API down with it (Envoy's
	// failure_mode_deny defaults to false too). Idempotency, which cannot
	// promise once-only without its store, defaults the other way.
	FailClosed bool

	// Logger receives store errors; nil means slog.Default().
	Logger *slog.Logger

	// LegacyHeaders also sends X-RateLimit-Limit, X-RateLimit-Remaining
	// and X-RateLimit-Reset (delta seconds) for the most constrained policy.
	LegacyHeaders bool

	// ErrorHandler answers the requests the middleware rejects. err is a
	// *LimitError (429), a *StoreError (503, fail closed) or a *KeyError
	// (400). The RateLimit fields and Retry-After are already set on w.
	// The default writes RFC 9457 problem+json: for a *LimitError the
	// draft's "https://iana.org/assignments/http-problem-types#quota-exceeded"
	// type with its "violated-policies" member.
	ErrorHandler func(w http.ResponseWriter, r *http.Request, err error)
}

// LimitError is a request over a limit.
type LimitError struct {
	// Violated names the policies that denied it ("concurrency" for the
	// Concurrency limit).
	Violated []string
	// RetryAfter is when the request would be admitted (as Retry-After).
	RetryAfter time.Duration
}

func (e *LimitError) Error() string {
	return "ratelimit: quota exceeded: " + strings.Join(e.Violated, ", ")
}

// StoreError is a Store failure with FailClosed set.
type StoreError struct{ Err error }

func (e *StoreError) Error() string { return "ratelimit: store: " + e.Err.Error() }
func (e *StoreError) Unwrap() error { return e.Err }

// KeyError is a request without a usable key.
type KeyError struct{ Err error }

func (e *KeyError) Error() string { return "ratelimit: key: " + e.Err.Error() }
func (e *KeyError) Unwrap() error { return e.Err }

// ProblemQuotaExceeded is the problem type of 429 answers.
const ProblemQuotaExceeded = "https://iana.org/assignments/http-problem-types#quota-exceeded"

const (
	maxPolicies       = 16
	maxSFInteger      = 999_999_999_999_999 // RFC 9651 §3.3.1: at most 15 digits
	concurrencyPolicy = "concurrency"
	headerXFF         = "X-Forwarded-For"
	headerForwarded   = "Forwarded"
)

type compiled struct {
	policies    []Policy
	store       Store
	ownStore    *MemoryStore
	memStore    bool // store is a *MemoryStore, which keeps no key strings
	keyFunc     func(*http.Request) (string, error)
	maxKeyLen   int
	trusted     []netip.Prefix
	forwarded   bool // ProxyHeader is Forwarded
	v4, v6      int
	exempt      func(*http.Request) bool
	cost        func(*http.Request) int64
	concurrency int64
	failOpen    bool
	logger      *slog.Logger
	legacy      bool
	onError     func(http.ResponseWriter, *http.Request, error)
	policyField []string // RateLimit-Policy, shared (len == cap)
	limited     map[string]*problem.Prepared
	unavailable *problem.Prepared
	badKey      *problem.Prepared
}

func validName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

func compile(cfg Config) (*compiled, error) {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf("ratelimit: "+format, a...)) }
	c := &compiled{
		store: cfg.Store, keyFunc: cfg.KeyFunc, maxKeyLen: cfg.MaxKeyLen, exempt: cfg.Exempt, cost: cfg.Cost,
		concurrency: cfg.Concurrency, failOpen: !cfg.FailClosed, logger: cfg.Logger, legacy: cfg.LegacyHeaders,
		onError: cfg.ErrorHandler, v4: cfg.IPv4Prefix, v6: cfg.IPv6Prefix,
	}
	if len(cfg.Policies) == 0 {
		bad("Policies: at least one policy is required (value [])")
	}
	if len(cfg.Policies) > maxPolicies {
		bad("Policies: at most %d policies (value %d policies)", maxPolicies, len(cfg.Policies))
	}
	seen := map[string]bool{}
	for i, p := range cfg.Policies {
		switch {
		case !validName(p.Name):
			bad("Policies[%d].Name: want 1-64 printable ASCII characters without '\"' or '\\' (value %q)", i, p.Name)
		case seen[p.Name]:
			bad("Policies[%d].Name: duplicate (value %q)", i, p.Name)
		case p.Name == concurrencyPolicy && cfg.Concurrency > 0:
			bad("Policies[%d].Name: reserved for the Concurrency limit (value %q)", i, p.Name)
		}
		seen[p.Name] = true
		if p.Limit <= 0 {
			bad("Policies[%d].Limit: must be > 0 (value %d)", i, p.Limit)
		}
		if p.Period <= 0 {
			bad("Policies[%d].Period: must be > 0 (value %s)", i, p.Period)
		}
		if p.Burst < 0 {
			bad("Policies[%d].Burst: must be >= 0 (value %d)", i, p.Burst)
		}
		if p.Limit > 0 && p.Burst >= 0 && (p.Burst > maxSFInteger || p.Limit > maxSFInteger-p.Burst) {
			bad("Policies[%d]: Limit+Burst must be at most %d, the largest Integer the RateLimit fields can carry (value %d+%d)", i, int64(maxSFInteger), p.Limit, p.Burst)
		} else if p.Limit > 0 && p.Period > 0 && p.Burst >= 0 {
			if _, ok := compilePolicy(p); !ok {
				bad("Policies[%d]: (Limit+Burst)*Period/Limit must be under 2^61 ns, about 73 years (value %d+%d per %s)", i, p.Limit, p.Burst, p.Period)
			}
		}
	}
	c.policies = append([]Policy(nil), cfg.Policies...)
	if ms, ok := cfg.Store.(*MemoryStore); ok && ms == nil {
		bad("Store: a *MemoryStore must come from NewMemoryStore (value nil)")
	} else if ok && len(ms.shards) == 0 {
		bad("Store: a *MemoryStore must come from NewMemoryStore (value a zero MemoryStore)")
	}
	if cfg.MaxKeyLen < 0 {
		bad("MaxKeyLen: must be >= 0 (value %d)", cfg.MaxKeyLen)
	}
	if c.maxKeyLen == 0 {
		c.maxKeyLen = 256
	}
	for i, p := range cfg.TrustedProxies {
		if !p.IsValid() || p.Masked() != p || p.Addr().Zone() != "" {
			bad("TrustedProxies[%d]: want a valid prefix without host bits or zone (value %q)", i, p.String())
			continue
		}
		orig := p
		if p.Addr().Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		if p.Bits() == 0 {
			bad("TrustedProxies[%d]: a /0 trusts every peer, so any client could choose its key with a forged header; list the proxies' own prefixes (value %q)", i, orig.String())
			continue
		}
		c.trusted = append(c.trusted, p)
	}
	switch http.CanonicalHeaderKey(cfg.ProxyHeader) {
	case "", headerXFF:
	case headerForwarded:
		c.forwarded = true
	default:
		bad("ProxyHeader: want %q or %q (value %q)", headerXFF, headerForwarded, cfg.ProxyHeader)
	}
	if cfg.IPv4Prefix < 0 || cfg.IPv4Prefix > 32 {
		bad("IPv4Prefix: want 0 (32) or 1-32 (value %d)", cfg.IPv4Prefix)
	}
	if cfg.IPv6Prefix < 0 || cfg.IPv6Prefix > 128 {
		bad("IPv6Prefix: want 0 (64) or 1-128 (value %d)", cfg.IPv6Prefix)
	}
	if c.v4 == 0 {
		c.v4 = 32
	}
	if c.v6 == 0 {
		c.v6 = 64
	}
	if cfg.Concurrency < 0 || cfg.Concurrency > maxSFInteger {
		bad("Concurrency: must be 0-%d (value %d)", int64(maxSFInteger), cfg.Concurrency)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if c.store == nil {
		s, _ := NewMemoryStore(MemoryConfig{})
		c.store, c.ownStore = s, s
	}
	_, c.memStore = c.store.(*MemoryStore)
	if c.logger == nil {
		c.logger = slog.Default()
	}
	if c.onError == nil {
		c.onError = c.defaultErrorHandler
	}
	c.policyField = []string{policyField(c.policies, c.concurrency)}
	c.prepareProblems()
	return c, nil
}

// policyField renders RateLimit-Policy: "name";q=Limit;w=seconds for each
// policy. w is the Period in whole seconds; a sub-second or fractional
// Period is scaled to q per 1 s when that is exact and q stays a 15-digit
// sf-integer, else w is omitted. A Burst is the vendor parameter httpmw-burst.
func policyField(ps []Policy, concurrency int64) string {
	var b []byte
	for i, p := range ps {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = strconv.AppendQuote(b, p.Name)
		q, w := p.Limit, int64(0)
		switch {
		case p.Period%time.Second == 0:
			w = int64(p.Period / time.Second)
		case int64(time.Second)%int64(p.Period) == 0 && p.Limit <= maxSFInteger/(int64(time.Second)/int64(p.Period)):
			q, w = p.Limit*(int64(time.Second)/int64(p.Period)), 1
		}
		b = append(b, ";q="...)
		b = strconv.AppendInt(b, q, 10)
		if w > 0 {
			b = append(b, ";w="...)
			b = strconv.AppendInt(b, w, 10)
		}
		if p.Burst > 0 {
			b = append(b, ";httpmw-burst="...)
			b = strconv.AppendInt(b, p.Burst, 10)
		}
	}
	if concurrency > 0 {
		if len(b) > 0 {
			b = append(b, ", "...)
		}
		b = append(b, `"concurrency";q=`...)
		b = strconv.AppendInt(b, concurrency, 10)
		b = append(b, `;qu="concurrent-requests"`...)
	}
	return string(b)
}

const quotaTitle = "Request cannot be satisfied as assigned quota has been exceeded"

// prepareProblems renders the 429 documents for every set of violated
// policies (up to 2^5 sets; larger configurations render per request), and
// the 503 and 400 ones.
func (c *compiled) prepareProblems() {
	names := make([]string, 0, len(c.policies)+1)
	for _, p := range c.policies {
		names = append(names, p.Name)
	}
	if c.concurrency > 0 {
		names = append(names, concurrencyPolicy)
	}
	if len(names) <= 5 {
		c.limited = map[string]*problem.Prepared{}
		for set := 1; set < 1<<len(names); set++ {
			var v []string
			for i, n := range names {
				if set&(1<<i) != 0 {
					v = append(v, n)
				}
			}
			c.limited[strings.Join(v, "\x00")] = problem.Prepare(quotaProblem(v))
		}
	}
	c.unavailable = problem.Prepare(problem.Details{Status: http.StatusServiceUnavailable,
		Detail: "rate limiting is unavailable; retry later"})
	c.badKey = problem.Prepare(problem.Details{Status: http.StatusBadRequest,
		Detail: "the request carries no usable rate-limit key"})
}

func quotaProblem(violated []string) problem.Details {
	return problem.Details{
		Type: ProblemQuotaExceeded, Title: quotaTitle, Status: http.StatusTooManyRequests,
		Extensions: map[string]any{"violated-policies": violated},
	}
}

func (c *compiled) defaultErrorHandler(w http.ResponseWriter, r *http.Request, err error) {
	var le *LimitError
	var se *StoreError
	switch {
	case errors.As(err, &le):
		if p := c.limited[strings.Join(le.Violated, "\x00")]; p != nil {
			p.Write(w, r)
			return
		}
		problem.Write(w, r, quotaProblem(le.Violated))
	case errors.As(err, &se):
		c.unavailable.Write(w, r)
	default:
		c.badKey.Write(w, r)
	}
}
