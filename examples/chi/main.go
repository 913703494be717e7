// Command chi chains the httpmw middlewares in a chi router. It is a module of
// its own so that chi never enters the core go.mod.
//
//	cd examples/chi && go run .          # http://127.0.0.1:8081
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/jiec/httpmw/cache"
	"github.com/jiec/httpmw/compress"
	"github.com/jiec/httpmw/cors"
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
		ExposedHeaders: []string{"X-Trace-Id"}})
	cm, err4 := compress.New(compress.Config{})
	ca, err5 := cache.New(cache.Config{CacheControl: cache.CacheControl{}.NoCache()})
	if err := errors.Join(err1, err2, err3, err4, err5); err != nil {
		return nil, err
	}

	r := chi.NewRouter()
	r.Use(tr.Handler, sec.Handler, co.Handler, cm.Handler, ca.Handler)
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
	return r, nil
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
