// Command server is the httpmw demo: every package chained in the recommended
// order in front of an HTML page (CSP nonce), a rate-limited JSON API (ETag
// revalidation, If-Match writes, an idempotent POST, a list negotiated as
// JSON, HTML or CSV in English or French), and a Server-Sent Events stream
// (compressed, flushed per event). Its stores are in memory; examples/redis
// shows the same limits and idempotency keys kept in Redis.
//
//	go run ./examples/server                  # http://127.0.0.1:8080
//	go run ./examples/server -addr :9000      # or HTTPMW_ADDR=:9000
//
// It shuts down gracefully on SIGINT and SIGTERM.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/jiec/httpmw/trace"
)

func main() {
	addr := flag.String("addr", envOr("HTTPMW_ADDR", "127.0.0.1:8080"), "listen address (env HTTPMW_ADDR)")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *addr, os.Stderr, nil); err != nil {
		fmt.Fprintln(os.Stderr, "server:", err)
		os.Exit(1)
	}
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// run serves until ctx is done, then shuts down gracefully. If ready is not
// nil it receives the bound address once the server accepts connections.
func run(ctx context.Context, addr string, logOut *os.File, ready chan<- string) error {
	logger := newLogger(logOut)
	handler, err := newHandler(logger)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 5 * time.Second,
		IdleTimeout:       60 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
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
	logger.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// newLogger returns a logger whose records carry the trace_id and span_id of
// the request context they are logged with (trace.NewLogHandler).
func newLogger(out *os.File) *slog.Logger {
	return slog.New(trace.NewLogHandler(slog.NewTextHandler(out, nil)))
}
