// Command api is a JSON API behind httpmw: API keys, a rate limit per key,
// idempotent creates, ETag revalidation and If-Match updates, JSON or CSV
// by Accept, and RFC 9457 problem+json for every error, the middlewares' and
// the handlers' alike.
//
//	go run ./examples/api               # http://127.0.0.1:8083 (-addr to change)
//	curl -H 'Authorization: Bearer key-alice' http://127.0.0.1:8083/v1/products
//
// The chain, outermost first:
//
//	trace → cors → ratelimit (per API key) → auth → idempotency → compress → cache → negotiate → mux
//
// ratelimit sits outside auth so that requests with bad keys are limited too
// (by client address): a key guesser gets 429s, not unlimited 401s.
package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jiec/httpmw/cache"
	"github.com/jiec/httpmw/compress"
	"github.com/jiec/httpmw/cors"
	"github.com/jiec/httpmw/idempotency"
	"github.com/jiec/httpmw/negotiate"
	"github.com/jiec/httpmw/ratelimit"
	"github.com/jiec/httpmw/trace"
)

// apiKeys maps bearer tokens to tenants. A real service looks them up in a
// database (and compares hashes).
var apiKeys = map[string]string{"key-alice": "alice", "key-bob": "bob"}

// tenantOf returns the tenant of the request's API key.
func tenantOf(r *http.Request) (string, bool) {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return "", false
	}
	tenant, ok := apiKeys[token]
	return tenant, ok
}

func newHandler(logger *slog.Logger) (http.Handler, error) {
	cat := newCatalog()
	tr, err1 := trace.New(trace.Config{AccessLog: logger})
	co, err2 := cors.New(cors.Config{
		Origins:        []string{"https://dashboard.example.com"},
		Methods:        []string{http.MethodPost, http.MethodPut},
		RequestHeaders: []string{"Authorization", "Content-Type", "If-Match", "Idempotency-Key"},
		ExposedHeaders: []string{"ETag", "Location", "X-Trace-Id", "Idempotent-Replayed", "Retry-After", "RateLimit", "RateLimit-Policy"},
	})
	var rl *ratelimit.Middleware
	rl, err3 := ratelimit.New(ratelimit.Config{
		Policies: []ratelimit.Policy{{Name: "per-key", Limit: 60, Period: time.Minute, Burst: 20}},
		// One bucket per tenant; requests without a valid key share their
		// client address's bucket.
		KeyFunc: func(r *http.Request) (string, error) {
			if tenant, ok := tenantOf(r); ok {
				return "tenant:" + tenant, nil
			}
			ip, _ := rl.ClientIP(r)
			return "ip:" + ip.String(), nil
		},
		Logger: logger,
	})
	idem, err4 := idempotency.New(idempotency.Config{
		Required: true, // every POST and PATCH needs an Idempotency-Key
		Scope: func(r *http.Request) string { // two tenants' keys never meet
			tenant, _ := tenantOf(r)
			return tenant
		},
	})
	cm, err5 := compress.New(compress.Config{})
	ca, err6 := cache.New(cache.Config{Validator: cat.validator, CacheControl: cache.CacheControl{}.Private().NoCache()})
	neg, err7 := negotiate.New(negotiate.Config{Types: mediaTypes})
	if err := errors.Join(err1, err2, err3, err4, err5, err6, err7); err != nil {
		return nil, err
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/products", cat.list)
	mux.HandleFunc("POST /v1/products", cat.create)
	mux.HandleFunc("GET /v1/products/{id}", cat.get)
	mux.HandleFunc("PUT /v1/products/{id}", cat.put)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, r, http.StatusNotFound, "no such endpoint: "+r.Method+" "+r.URL.Path)
	})

	var h http.Handler = neg.Handler(mux)
	h = ca.Handler(h)
	h = cm.Handler(h)
	h = idem.Handler(h)
	h = auth(h)
	h = rl.Handler(h)
	h = co.Handler(h)
	return tr.Handler(h), nil
}

// auth answers 401 to requests without a valid API key.
func auth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := tenantOf(r); !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="api"`)
			writeProblem(w, r, http.StatusUnauthorized, "send Authorization: Bearer <API key>")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// writeProblem answers an RFC 9457 problem+json document carrying the
// request's trace id, like the middlewares' own errors.
func writeProblem(w http.ResponseWriter, r *http.Request, status int, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"type": "about:blank", "title": http.StatusText(status), "status": status,
		"detail": detail, "trace_id": trace.ID(r.Context()),
	})
}

// product is the API's resource; Version is its ETag.
type product struct {
	ID         int    `json:"id"`
	Name       string `json:"name"`
	PriceCents int    `json:"price_cents"`
	Version    int    `json:"version"`
}

// etag is the validator of one representation of a product version: JSON
// and CSV are different representations, so they have different strong
// ETags.
func (p product) etag(mediaType string) string {
	if mediaType == "text/csv" {
		return fmt.Sprintf(`"p%d-v%d-csv"`, p.ID, p.Version)
	}
	return fmt.Sprintf(`"p%d-v%d"`, p.ID, p.Version)
}

// mediaTypes are the representations the API offers, most preferred first.
var mediaTypes = []string{"application/json", "text/csv"}

type catalog struct {
	mu   sync.Mutex
	byID map[int]product
	next int
}

const maxProducts = 1000 // bounded memory whatever clients post

func newCatalog() *catalog {
	return &catalog{byID: map[int]product{
		1: {ID: 1, Name: "teapot", PriceCents: 2500, Version: 1},
		2: {ID: 2, Name: "cup", PriceCents: 800, Version: 1},
	}, next: 3}
}

// validator gives the cache middleware the current ETag of
// /v1/products/{id}, so 304 and 412 are answered before the handler runs.
// The cache middleware runs outside negotiate, so it negotiates the media
// type itself, with the same offers, to name the representation's ETag.
func (c *catalog) validator(r *http.Request) (cache.Validators, bool) {
	id, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/v1/products/"))
	if !strings.HasPrefix(r.URL.Path, "/v1/products/") || err != nil {
		return cache.Validators{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if p, ok := c.byID[id]; ok {
		mt, _ := negotiate.MediaType(r, mediaTypes...)
		return cache.Validators{ETag: p.etag(mt)}, true
	}
	return cache.Validators{Missing: true}, true
}

func (c *catalog) list(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	all := make([]product, 0, len(c.byID))
	for i := 1; i < c.next; i++ {
		if p, ok := c.byID[i]; ok {
			all = append(all, p)
		}
	}
	c.mu.Unlock()
	write(w, r, http.StatusOK, all, all...)
}

// write sends v as JSON or rows as CSV, as negotiated.
func write(w http.ResponseWriter, r *http.Request, status int, v any, rows ...product) {
	if negotiate.Result(r.Context()).MediaType == "text/csv" {
		w.Header().Set("Content-Type", "text/csv; charset=utf-8; header=present")
		w.WriteHeader(status)
		cw := csv.NewWriter(w)
		_ = cw.Write([]string{"id", "name", "price_cents", "version"})
		for _, p := range rows {
			_ = cw.Write([]string{strconv.Itoa(p.ID), p.Name, strconv.Itoa(p.PriceCents), strconv.Itoa(p.Version)})
		}
		cw.Flush()
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (c *catalog) get(w http.ResponseWriter, r *http.Request) {
	id, _ := strconv.Atoi(r.PathValue("id"))
	c.mu.Lock()
	p, ok := c.byID[id]
	c.mu.Unlock()
	if !ok {
		writeProblem(w, r, http.StatusNotFound, "no product "+r.PathValue("id"))
		return
	}
	w.Header().Set("ETag", p.etag(negotiate.Result(r.Context()).MediaType))
	write(w, r, http.StatusOK, p, p)
}

// decode reads a product from a JSON body of at most 64 KiB.
func decode(w http.ResponseWriter, r *http.Request) (product, bool) {
	var in product
	dec := json.NewDecoder(io.LimitReader(r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		writeProblem(w, r, http.StatusBadRequest, "body: "+err.Error())
		return in, false
	}
	if in.Name == "" || in.PriceCents < 0 {
		writeProblem(w, r, http.StatusUnprocessableEntity, "name is required and price_cents must be >= 0")
		return in, false
	}
	return in, true
}

// create adds a product. The idempotency middleware runs it once per
// Idempotency-Key: a retry gets the same 201, replayed.
func (c *catalog) create(w http.ResponseWriter, r *http.Request) {
	in, ok := decode(w, r)
	if !ok {
		return
	}
	c.mu.Lock()
	if len(c.byID) >= maxProducts {
		c.mu.Unlock()
		writeProblem(w, r, http.StatusInsufficientStorage, "the catalog is full")
		return
	}
	p := product{ID: c.next, Name: in.Name, PriceCents: in.PriceCents, Version: 1}
	c.byID[p.ID] = p
	c.next++
	c.mu.Unlock()
	w.Header().Set("Location", "/v1/products/"+strconv.Itoa(p.ID))
	w.Header().Set("ETag", p.etag(negotiate.Result(r.Context()).MediaType))
	write(w, r, http.StatusCreated, p, p)
}

// put replaces a product. It requires If-Match (428 without it, RFC 6585),
// and the cache middleware has already answered 412 to a stale one, so two
// clients editing the same product never silently overwrite each other.
func (c *catalog) put(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("If-Match") == "" {
		writeProblem(w, r, http.StatusPreconditionRequired, "send If-Match with the ETag you last read")
		return
	}
	in, ok := decode(w, r)
	if !ok {
		return
	}
	id, _ := strconv.Atoi(r.PathValue("id"))
	c.mu.Lock()
	p, found := c.byID[id]
	if found {
		p.Name, p.PriceCents, p.Version = in.Name, in.PriceCents, p.Version+1
		c.byID[id] = p
	}
	c.mu.Unlock()
	if !found {
		writeProblem(w, r, http.StatusNotFound, "no product "+r.PathValue("id"))
		return
	}
	w.Header().Set("ETag", p.etag(negotiate.Result(r.Context()).MediaType))
	write(w, r, http.StatusOK, p, p)
}

func main() {
	addr := flag.String("addr", "127.0.0.1:8083", "listen address")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *addr, os.Stderr, nil); err != nil {
		fmt.Fprintln(os.Stderr, "api:", err)
		os.Exit(1)
	}
}

// run serves until ctx is done, then shuts down gracefully; ready, if not
// nil, receives the bound address.
func run(ctx context.Context, addr string, logOut io.Writer, ready chan<- string) error {
	logger := slog.New(trace.NewLogHandler(slog.NewTextHandler(logOut, nil)))
	h, err := newHandler(logger)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	logger.Info("listening", "url", "http://"+ln.Addr().String())
	if ready != nil {
		ready <- ln.Addr().String()
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
