package redisstore

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Defaults of Options.
const (
	DefaultTimeout          = 50 * time.Millisecond
	DefaultBreakerThreshold = 5
	DefaultBreakerCooldown  = 250 * time.Millisecond

	DefaultRateLimitPrefix   = "httpmw:rl"
	DefaultIdempotencyPrefix = "httpmw:idem"
)

// maxPrefix caps Options.Prefix (it is part of every key).
const maxPrefix = 64

// Options configures a store. The zero value is the recommended setting.
type Options struct {
	// Prefix starts every key the store writes, inside the hash tag:
	// {Prefix:key}. Default DefaultRateLimitPrefix or DefaultIdempotencyPrefix;
	// at most 64 bytes, no '{' or '}'.
	Prefix string
	// Timeout bounds every call to Redis, including dialing and waiting for
	// a pooled connection (a context deadline on top of the caller's).
	// Default 50 ms.
	Timeout time.Duration
	// BreakerThreshold is the number of consecutive failed calls that opens
	// the circuit breaker. Default 5.
	BreakerThreshold int
	// BreakerCooldown is how long the breaker stays open (every call fails
	// at once with ErrCircuitOpen) before one probe call is let through;
	// its success closes the breaker, its failure opens it again.
	// Default 250 ms.
	BreakerCooldown time.Duration
	// Logger receives one record per breaker transition (Warn when it
	// opens, Info when it closes). Nil logs nothing.
	Logger *slog.Logger
}

// ErrUnavailable is wrapped by every error a store returns because Redis
// could not answer (timeout, connection refused, server error, open
// circuit). The middlewares apply their fail-open or fail-closed choice to
// any store error; test for this one to tell Redis faults from bad input.
var ErrUnavailable = errors.New("redisstore: redis unavailable")

// ErrCircuitOpen is returned without calling Redis while the breaker is
// open. errors.Is(ErrCircuitOpen, ErrUnavailable) is true.
var ErrCircuitOpen = fmt.Errorf("%w: circuit breaker open", ErrUnavailable)

type config struct {
	prefix    string
	timeout   time.Duration
	threshold int
	cooldown  time.Duration
	logger    *slog.Logger
}

func (o Options) compile(client redis.UniversalClient, defPrefix string) (config, error) {
	var errs []error
	c := config{prefix: o.Prefix, timeout: o.Timeout, threshold: o.BreakerThreshold, cooldown: o.BreakerCooldown, logger: o.Logger}
	if client == nil {
		errs = append(errs, errors.New("redisstore: client is nil"))
	} else if err := checkClient(client); err != nil {
		errs = append(errs, err)
	}
	if c.prefix == "" {
		c.prefix = defPrefix
	}
	if len(c.prefix) > maxPrefix || strings.ContainsAny(c.prefix, "{}") {
		errs = append(errs, fmt.Errorf("redisstore: Options.Prefix %q: at most %d bytes without '{' or '}'", o.Prefix, maxPrefix))
	}
	switch {
	case c.timeout == 0:
		c.timeout = DefaultTimeout
	case c.timeout < 0:
		errs = append(errs, fmt.Errorf("redisstore: Options.Timeout %v: must not be negative", o.Timeout))
	}
	switch {
	case c.threshold == 0:
		c.threshold = DefaultBreakerThreshold
	case c.threshold < 0:
		errs = append(errs, fmt.Errorf("redisstore: Options.BreakerThreshold %d: must not be negative", o.BreakerThreshold))
	}
	switch {
	case c.cooldown == 0:
		c.cooldown = DefaultBreakerCooldown
	case c.cooldown < 0:
		errs = append(errs, fmt.Errorf("redisstore: Options.BreakerCooldown %v: must not be negative", o.BreakerCooldown))
	}
	return c, errors.Join(errs...)
}

// checkClient rejects clients whose reads would ignore the per-call
// deadline: go-redis only applies a context deadline to socket reads and
// writes when ContextTimeoutEnabled is set; without it a hung Redis holds
// every request for ReadTimeout (3 s by default).
func checkClient(client redis.UniversalClient) error {
	var enabled bool
	switch c := client.(type) {
	case *redis.Client:
		enabled = c.Options().ContextTimeoutEnabled
	case *redis.ClusterClient:
		enabled = c.Options().ContextTimeoutEnabled
	case *redis.Ring:
		enabled = c.Options().ContextTimeoutEnabled
	default:
		return nil // a wrapper: its author answers for it
	}
	if !enabled {
		return errors.New("redisstore: client ContextTimeoutEnabled is false: set it (and MaxRetries -1) in the go-redis options so the per-call Timeout bounds reads")
	}
	return nil
}
