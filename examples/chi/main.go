// Command chi chains the httpmw middlewares in a chi router. It is a module of
// its own so that chi never enters the core go.mod.
//
//	cd examples/chi && go run .          # http://127.0.0.1:8081
//
// The router-wide chain goes in r.Use, outermost first; route groups add
// what only some routes need:
//
//   - POST /login gets a second, much stricter rate limit (5 a minute per
//     address) on top of the router-wide one, against password guessing;
//   - the POST routes under /api get idempotency (Idempotency-Key required);
//     GET routes never pay for it.
//
// CORS stays in r.Use: mounted on a method route (r.With(co.Handler).Get),
// chi answers the preflight OPTIONS with 405 before CORS sees it.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/jiec/httpmw/cache"
	"github.com/jiec/httpmw/compress"
	"github.com/jiec/httpmw/cors"
	"github.com/jiec/httpmw/idempotency"
	"github.com/jiec/httpmw/ratelimit"
	"github.com/jiec/httpmw/security"
	"github.com/jiec/httpmw/trace"
)

// newRouter returns a chi router with every middleware in the recommended
// order (r.Use applies them outermost first).
func newRouter(logger *slog.Logger) (http.Handler, error) {
	tr, err1 := trace.New(trace.Config{AccessLog: logger})
	sec, err2 := security.New(security.Config{
		CSP: security.DefaultPolicy().Set(security.ScriptSrc, security.RequestNonce, security.StrictDynamic),
	})
	co, err3 := cors.New(cors.Config{Origins: []string{"https://app.example.com"}, Credentials: true,
		Methods:        []string{http.MethodPost},
		RequestHeaders: []string{"Content-Type", "Idempotency-Key"},
		ExposedHeaders: []string{"X-Trace-Id", "Idempotent-Replayed", "Retry-After", "RateLimit", "RateLimit-Policy"}})
	// Router-wide: 100 a minute per address, 20 more at once.
	rl, err6 := ratelimit.New(ratelimit.Config{
		Policies: []ratelimit.Policy{{Name: "general", Limit: 100, Period: time.Minute, Burst: 20}},
		Logger:   logger,
	})
	// /login only: 5 a minute per address, no burst. A distinct policy name,
	// so both sets of RateLimit fields can be told apart.
	loginRL, err7 := ratelimit.New(ratelimit.Config{
		Policies: []ratelimit.Policy{{Name: "login", Limit: 5, Period: time.Minute}},
		Logger:   logger,
	})
	idem, err8 := idempotency.New(idempotency.Config{Required: true})
	cm, err4 := compress.New(compress.Config{})
	ca, err5 := cache.New(cache.Config{CacheControl: cache.CacheControl{}.NoCache()})
	if err := errors.Join(err1, err2, err3, err4, err5, err6, err7, err8); err != nil {
		return nil, err
	}

	r := chi.NewRouter()
	r.Use(tr.Handler, sec.Handler, co.Handler, rl.Handler, cm.Handler, ca.Handler)
	r.Get("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		fmt.Fprintf(w, `<!doctype html><title>chi</title><script nonce="%s">console.log("trace %s")</script>`,
			security.Nonce(r.Context()), trace.ID(r.Context()))
	})
	r.Get("/api/hello/{name}", func(w http.ResponseWriter, r *http.Request) {
		logger.InfoContext(r.Context(), "hello", "name", chi.URLParam(r, "name")) // carries trace_id
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, "{\"hello\":%q}\n", chi.URLParam(r, "name"))
	})

	// The stricter limit, on one route.
	r.With(loginRL.Handler).Post("/login", func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		if r.PostForm.Get("user") != "gopher" || r.PostForm.Get("password") != "correct horse" {
			http.Error(w, "wrong user or password", http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"welcome":"gopher"}`+"\n")
	})

	// Idempotency for the POST routes of /api only.
	var orders orderBook
	r.Route("/api/orders", func(r chi.Router) {
		r.Get("/{id}", orders.get)
		r.Group(func(r chi.Router) {
			r.Use(idem.Handler)
			r.Post("/", orders.create)
		})
	})
	return r, nil
}

// orderBook is an in-memory list of orders, bounded.
type orderBook struct {
	mu     sync.Mutex
	orders []string
}

func (o *orderBook) create(w http.ResponseWriter, r *http.Request) {
	item, err := io.ReadAll(io.LimitReader(r.Body, 256))
	o.mu.Lock()
	full := len(o.orders) >= 1000
	if err == nil && len(item) > 0 && !full {
		o.orders = append(o.orders, string(item))
	}
	id := len(o.orders)
	o.mu.Unlock()
	switch {
	case err != nil || len(item) == 0:
		http.Error(w, "the body names the item to order", http.StatusBadRequest)
	case full:
		http.Error(w, "too many orders", http.StatusInsufficientStorage)
	default:
		w.Header().Set("Location", "/api/orders/"+strconv.Itoa(id))
		w.WriteHeader(http.StatusCreated)
		fmt.Fprintf(w, "order %d: %s\n", id, item)
	}
}

func (o *orderBook) get(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.Atoi(chi.URLParam(r, "id"))
	o.mu.Lock()
	defer o.mu.Unlock()
	if err != nil || id < 1 || id > len(o.orders) {
		http.NotFound(w, r)
		return
	}
	fmt.Fprintf(w, "order %d: %s\n", id, o.orders[id-1])
}

func main() {
	logger := slog.New(trace.NewLogHandler(slog.NewTextHandler(os.Stderr, nil)))
	h, err := newRouter(logger)
	if err != nil {
		logger.Error("config", "err", err)
		os.Exit(1)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	srv := &http.Server{Addr: "127.0.0.1:8081", Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	logger.Info("listening", "url", "http://"+srv.Addr)
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		logger.Error("serve", "err", err)
		os.Exit(1)
	}
}
