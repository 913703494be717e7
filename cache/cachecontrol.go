package cache

import (
	"errors"
	"fmt"
	"strconv"
	"time"
)

// CacheControl builds a Cache-Control response field value (RFC 9111 §5.2.2,
// RFC 5861, RFC 8246). The zero value holds no directive. Every method returns
// a modified copy, so a base policy can be shared and specialised per route:
//
//	base := cache.CacheControl{}.Public().MaxAge(time.Minute)
//	assets := base.MaxAge(365 * 24 * time.Hour).Immutable()
//
// Durations are sent in whole seconds; Err reports negative or fractional
// durations and contradictory directives, and New returns that error.
type CacheControl struct {
	set                           directive
	maxAge, sMaxAge, swr, sie     time.Duration
	badMaxAge, badSMaxAge, badSWR bool
	badSIE                        bool
}

type directive uint16

const (
	dPublic directive = 1 << iota
	dPrivate
	dNoCache
	dNoStore
	dMaxAge
	dSMaxAge
	dMustRevalidate
	dProxyRevalidate
	dNoTransform
	dImmutable
	dSWR
	dSIE
)

// Public adds "public": shared caches may store the response even if it
// would otherwise not be storable (e.g. it answers a request with
// Authorization).
func (c CacheControl) Public() CacheControl { c.set |= dPublic; return c }

// Private adds "private": only the user's own (browser) cache may store it.
func (c CacheControl) Private() CacheControl { c.set |= dPrivate; return c }

// NoCache adds "no-cache": caches may store the response but must revalidate
// it before every reuse (a cheap 304 with this middleware).
func (c CacheControl) NoCache() CacheControl { c.set |= dNoCache; return c }

// NoStore adds "no-store": no cache may store any part of the response.
func (c CacheControl) NoStore() CacheControl { c.set |= dNoStore; return c }

// MaxAge adds "max-age": the response is fresh for d (0 is allowed and means
// "stale at once").
func (c CacheControl) MaxAge(d time.Duration) CacheControl {
	c.set |= dMaxAge
	c.maxAge, c.badMaxAge = d, !wholeSeconds(d)
	return c
}

// SMaxAge adds "s-maxage": freshness lifetime for shared caches, overriding
// max-age there.
func (c CacheControl) SMaxAge(d time.Duration) CacheControl {
	c.set |= dSMaxAge
	c.sMaxAge, c.badSMaxAge = d, !wholeSeconds(d)
	return c
}

// MustRevalidate adds "must-revalidate": once stale, the response must not be
// used without successful revalidation.
func (c CacheControl) MustRevalidate() CacheControl { c.set |= dMustRevalidate; return c }

// ProxyRevalidate adds "proxy-revalidate": must-revalidate for shared caches.
func (c CacheControl) ProxyRevalidate() CacheControl { c.set |= dProxyRevalidate; return c }

// NoTransform adds "no-transform": intermediaries must not transform the
// content (the compress package honours it).
func (c CacheControl) NoTransform() CacheControl { c.set |= dNoTransform; return c }

// Immutable adds "immutable" (RFC 8246): the content never changes while
// fresh, so browsers skip revalidation on reload. Requires MaxAge.
func (c CacheControl) Immutable() CacheControl { c.set |= dImmutable; return c }

// StaleWhileRevalidate adds "stale-while-revalidate" (RFC 5861 §3): a cache
// may serve the stale response for d while it revalidates in the background.
func (c CacheControl) StaleWhileRevalidate(d time.Duration) CacheControl {
	c.set |= dSWR
	c.swr, c.badSWR = d, !wholeSeconds(d)
	return c
}

// StaleIfError adds "stale-if-error" (RFC 5861 §4): a cache may serve the
// stale response for d when revalidation fails with an error or a 5xx.
func (c CacheControl) StaleIfError(d time.Duration) CacheControl {
	c.set |= dSIE
	c.sie, c.badSIE = d, !wholeSeconds(d)
	return c
}

// IsZero reports whether c holds no directive.
func (c CacheControl) IsZero() bool { return c.set == 0 }

func wholeSeconds(d time.Duration) bool { return d >= 0 && d%time.Second == 0 }

// String returns the field value, directives in a fixed order, e.g.
// "public, max-age=60, stale-while-revalidate=30". It is "" for the zero
// value.
func (c CacheControl) String() string {
	if c.set == 0 {
		return ""
	}
	b := make([]byte, 0, 96)
	add := func(name string) {
		if len(b) > 0 {
			b = append(b, ", "...)
		}
		b = append(b, name...)
	}
	addSecs := func(name string, d time.Duration) {
		add(name)
		b = append(b, '=')
		b = strconv.AppendInt(b, int64(d/time.Second), 10)
	}
	for _, d := range []struct {
		bit  directive
		name string
		dur  *time.Duration
	}{
		{dPublic, "public", nil},
		{dPrivate, "private", nil},
		{dNoCache, "no-cache", nil},
		{dNoStore, "no-store", nil},
		{dMaxAge, "max-age", &c.maxAge},
		{dSMaxAge, "s-maxage", &c.sMaxAge},
		{dMustRevalidate, "must-revalidate", nil},
		{dProxyRevalidate, "proxy-revalidate", nil},
		{dNoTransform, "no-transform", nil},
		{dImmutable, "immutable", nil},
		{dSWR, "stale-while-revalidate", &c.swr},
		{dSIE, "stale-if-error", &c.sie},
	} {
		switch {
		case c.set&d.bit == 0:
		case d.dur == nil:
			add(d.name)
		default:
			addSecs(d.name, *d.dur)
		}
	}
	return string(b)
}

// Err reports durations that are negative or not whole seconds and
// directives that contradict each other: public with private, no-store with
// anything that lets a cache keep or reuse the response, s-maxage with
// private, immutable without max-age.
func (c CacheControl) Err() error {
	var errs []error
	bad := func(field string, d time.Duration) {
		errs = append(errs, fmt.Errorf("cache: CacheControl.%s: must be whole non-negative seconds (value %q)", field, d.String()))
	}
	if c.badMaxAge {
		bad("MaxAge", c.maxAge)
	}
	if c.badSMaxAge {
		bad("SMaxAge", c.sMaxAge)
	}
	if c.badSWR {
		bad("StaleWhileRevalidate", c.swr)
	}
	if c.badSIE {
		bad("StaleIfError", c.sie)
	}
	conflict := func(a, b string) {
		errs = append(errs, fmt.Errorf("cache: CacheControl: %s contradicts %s (value %q)", a, b, c.String()))
	}
	if c.set&dPublic != 0 && c.set&dPrivate != 0 {
		conflict("public", "private")
	}
	if c.set&dPrivate != 0 && c.set&dSMaxAge != 0 {
		conflict("s-maxage", "private")
	}
	if c.set&dNoStore != 0 && c.set&(dPublic|dMaxAge|dSMaxAge|dImmutable|dSWR|dSIE) != 0 {
		conflict("no-store", "directives that let caches keep the response")
	}
	if c.set&dImmutable != 0 && c.set&dMaxAge == 0 {
		errs = append(errs, errors.New("cache: CacheControl: immutable needs max-age (value "+strconv.Quote(c.String())+")"))
	}
	return errors.Join(errs...)
}
