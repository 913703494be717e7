package redisstore

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

type breakerState uint8

const (
	closed breakerState = iota
	open
	halfOpen // one probe in flight
)

// breaker is a consecutive-failure circuit breaker: threshold failures in a
// row open it; after cooldown one probe call is let through, whose success
// closes it and whose failure opens it again.
type breaker struct {
	threshold int
	cooldown  time.Duration
	logger    *slog.Logger
	name      string

	mu       sync.Mutex
	now      func() time.Time
	state    breakerState
	failures int
	openedAt time.Time
}

func newBreaker(c config, name string) *breaker {
	return &breaker{threshold: c.threshold, cooldown: c.cooldown, logger: c.logger, name: name, now: time.Now}
}

// allow reports whether a call may go to Redis.
func (b *breaker) allow() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch b.state {
	case closed:
		return true
	case open:
		if b.now().Sub(b.openedAt) >= b.cooldown {
			b.state = halfOpen
			return true
		}
	}
	return false
}

// done records the outcome of an allowed call: nil is a success; a failure
// counts toward opening; aborted (the caller's own context ended) is no
// verdict, and lets the next call probe if this one was the probe.
func (b *breaker) done(failed, aborted bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch {
	case aborted:
		if b.state == halfOpen {
			b.state = open // the next allow probes at once: openedAt is old
		}
	case !failed:
		b.failures = 0
		if b.state != closed {
			b.state = closed
			b.log(slog.LevelInfo, "redisstore: circuit closed")
		}
	default:
		b.failures++
		if b.state == halfOpen || (b.state == closed && b.failures >= b.threshold) {
			b.state = open
			b.openedAt = b.now()
			b.log(slog.LevelWarn, "redisstore: circuit open", slog.Int("consecutive_failures", b.failures))
		}
	}
}

func (b *breaker) log(level slog.Level, msg string, attrs ...slog.Attr) {
	if b.logger != nil {
		b.logger.LogAttrs(context.Background(), level, msg, append(attrs, slog.String("store", b.name))...)
	}
}

// isOpen reports whether calls are currently refused (for tests and
// Stats).
func (b *breaker) isOpen() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.state != closed
}

// refusing reports, without changing state, whether allow would refuse
// now: the open-breaker fast path checks it before building a command.
func (b *breaker) refusing() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.state == halfOpen || (b.state == open && b.now().Sub(b.openedAt) < b.cooldown)
}

// start admits a call through the breaker and gives it the per-call
// deadline; every successful start must be followed by finish.
func (s *base) start(ctx context.Context) (context.Context, context.CancelFunc, error) {
	if !s.br.allow() {
		return nil, nil, ErrCircuitOpen
	}
	cctx, cancel := context.WithTimeout(ctx, s.cfg.timeout)
	return cctx, cancel, nil
}

// finish records the outcome of a call with the breaker and wraps its
// error; ctx is the caller's context.
func (s *base) finish(ctx context.Context, err error) error {
	if err == nil {
		s.br.done(false, false)
		return nil
	}
	if cerr := callerDone(ctx); cerr != nil { // the caller gave up: not Redis's fault
		s.br.done(false, true)
		return fmt.Errorf("redisstore: %w", cerr)
	}
	s.br.done(true, false)
	return fmt.Errorf("%w: %w", ErrUnavailable, err)
}

// callerDone is the caller's context error, also when its deadline has
// passed but its timer has not fired yet (the socket deadline go-redis set
// from it can expire first).
func callerDone(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if d, ok := ctx.Deadline(); ok && !time.Now().Before(d) {
		return context.DeadlineExceeded
	}
	return nil
}

// run evaluates sc with the breaker and the deadline.
func run[C redis.Cmder](ctx context.Context, s *base, sc *script, newCmd func(context.Context, ...any) C, args []any) (C, error) {
	cctx, cancel, err := s.start(ctx)
	if err != nil {
		var zero C
		return zero, err
	}
	cmd, err := eval(cctx, s.client, sc, newCmd, args)
	cancel()
	return cmd, s.finish(ctx, err)
}

// base is what both stores share: the client, the compiled options and the
// breaker.
type base struct {
	client redis.UniversalClient
	cfg    config
	br     *breaker
}
