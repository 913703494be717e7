package main

import (
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/jiec/httpmw/cache"
	"github.com/jiec/httpmw/compress"
	"github.com/jiec/httpmw/cors"
	"github.com/jiec/httpmw/idempotency"
	"github.com/jiec/httpmw/negotiate"
	"github.com/jiec/httpmw/ratelimit"
	"github.com/jiec/httpmw/security"
	"github.com/jiec/httpmw/trace"
)

// newHandler chains every httpmw package in the recommended order, outermost
// first: trace → security → cors → ratelimit → compress → cache → handler,
// with idempotency and negotiate mounted on the routes that need them (see
// routes).
func newHandler(logger *slog.Logger) (http.Handler, error) {
	store := newItemStore()

	tr, err1 := trace.New(trace.Config{AccessLog: logger})
	sec, err2 := security.New(security.Config{
		// Inline <script> and <style> in the HTML page carry this request's nonce.
		CSP: security.DefaultPolicy().
			Set(security.ScriptSrc, security.RequestNonce, security.StrictDynamic).
			Set(security.StyleSrc, security.Self, security.RequestNonce),
	})
	co, err3 := cors.New(cors.Config{
		// A single-page app served from another origin may call the API with cookies.
		Origins:        []string{"http://localhost:3000", "https://app.example.com"},
		Credentials:    true,
		Methods:        []string{http.MethodPut, http.MethodPost},
		RequestHeaders: []string{"Content-Type", "If-Match", "Idempotency-Key", "X-Trace-Id", "traceparent"},
		ExposedHeaders: []string{"ETag", "X-Trace-Id", "Idempotent-Replayed", "Retry-After", "RateLimit", "RateLimit-Policy"},
		MaxAge:         2 * time.Hour,

		DangerouslyAllowInsecureOrigins: true, // http://localhost:3000 for local development only
	})
	rl, err6 := ratelimit.New(ratelimit.Config{
		// Per client address: 20 a second with 20 more at once, and 2000 an
		// hour. Only the API counts; the page and the stream are exempt.
		Policies: []ratelimit.Policy{
			{Name: "burst", Limit: 20, Period: time.Second, Burst: 20},
			{Name: "hourly", Limit: 2000, Period: time.Hour},
		},
		Exempt: func(r *http.Request) bool { return !strings.HasPrefix(r.URL.Path, "/api/") },
		Logger: logger,
	})
	// POST /api/items must carry an Idempotency-Key: a retried create
	// replays the first answer instead of creating a second item.
	idem, err7 := idempotency.New(idempotency.Config{Required: true})
	// GET /api/items comes as JSON, HTML or CSV, in English or French.
	neg, err8 := negotiate.New(negotiate.Config{
		Types:     []string{"application/json", "text/html", "text/csv"},
		Languages: []string{"en", "fr"},
	})
	cm, err4 := compress.New(compress.Config{})
	ca, err5 := cache.New(cache.Config{
		// Answer If-None-Match (304) and If-Match (412) for items before the
		// handler runs: the version is known without rendering the JSON.
		Validator:    store.validators,
		CacheControl: cache.CacheControl{}.NoCache(), // revalidate every time
	})
	if err := errors.Join(err1, err2, err3, err4, err5, err6, err7, err8); err != nil {
		return nil, err
	}
	mux := routes(store, idem, neg)
	return tr.Handler(sec.Handler(co.Handler(rl.Handler(cm.Handler(ca.Handler(mux)))))), nil
}

// validators tells the cache middleware the current ETag of /api/items/{id}
// (ok false for every other route: the middleware then hashes the body).
func (s *itemStore) validators(r *http.Request) (cache.Validators, bool) {
	rest, ok := strings.CutPrefix(r.URL.Path, "/api/items/")
	if !ok {
		return cache.Validators{}, false
	}
	id, err := strconv.Atoi(rest)
	if err != nil {
		return cache.Validators{}, false
	}
	s.mu.RLock()
	it, found := s.items[id]
	s.mu.RUnlock()
	if !found {
		return cache.Validators{Missing: true}, true
	}
	return cache.Validators{ETag: it.etag(), LastModified: it.Updated}, true
}
