// Command redis runs two replicas of one service that share their rate
// limits and idempotency records in Redis (the redisstore module), so a
// client limited by one replica is limited by both, and a retry that lands
// on the other replica is replayed, not run twice. It is a module of its
// own so that go-redis never enters the core go.mod; examples/server, in
// the core module, keeps its stores in memory.
//
//	cd examples/redis && REDIS_ADDR=127.0.0.1:6379 go run .   # replicas on :8090 and :8091
//	curl -X POST -H 'Idempotency-Key: k1' -d 'tea' http://127.0.0.1:8090/orders
//	curl -X POST -H 'Idempotency-Key: k1' -d 'tea' http://127.0.0.1:8091/orders   # replayed
//
// The go-redis client needs ContextTimeoutEnabled (the stores bound every
// call with a deadline) and MaxRetries -1 (the stores' breaker, not client
// retries, decides what a dead Redis costs). When Redis is down, ratelimit
// fails open (the default: admitted and logged) and idempotency answers 503: it cannot
// promise that the handler runs once.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/jiec/httpmw/idempotency"
	"github.com/jiec/httpmw/ratelimit"
	"github.com/jiec/httpmw/redisstore"
	"github.com/jiec/httpmw/trace"
)

// replica is one instance of the service; every replica builds its own
// middlewares on the shared stores.
func replica(name string, logger *slog.Logger, limits ratelimit.Store, records idempotency.Store) (http.Handler, error) {
	tr, err1 := trace.New(trace.Config{AccessLog: logger})
	rl, err2 := ratelimit.New(ratelimit.Config{
		Policies: []ratelimit.Policy{{Name: "per-client", Limit: 10, Period: time.Minute, Burst: 5}},
		Store:    limits,
		Logger:   logger, // Redis down: requests admitted, errors logged (FailClosed: 503)
	})
	idem, err3 := idempotency.New(idempotency.Config{Store: records, Required: true})
	if err := errors.Join(err1, err2, err3); err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("POST /orders", idem.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		item, _ := io.ReadAll(io.LimitReader(r.Body, 256))
		logger.InfoContext(r.Context(), "order", "item", string(item))
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusCreated)
		fmt.Fprintf(w, "order for %q taken by %s\n", item, name)
	})))
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%s\n", name)
	})
	return tr.Handler(rl.Handler(mux)), nil
}

// newClient is the go-redis client the stores want. Several addresses make
// a Cluster client, MasterName a Sentinel one.
func newClient(opts *redis.UniversalOptions) redis.UniversalClient {
	o := *opts
	o.MaxRetries = -1
	o.ContextTimeoutEnabled = true
	return redis.NewUniversalClient(&o)
}

func main() {
	addrs := flag.String("addrs", "127.0.0.1:8090,127.0.0.1:8091", "replica listen addresses")
	flag.Parse()
	redisAddr := os.Getenv("REDIS_ADDR")
	if redisAddr == "" {
		redisAddr = "127.0.0.1:6379"
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, strings.Split(*addrs, ","), &redis.UniversalOptions{Addrs: []string{redisAddr}}, os.Stderr, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, "redis:", err)
		os.Exit(1)
	}
}

// run serves one replica per address until ctx is done; ready, if not nil,
// receives their base URLs.
func run(ctx context.Context, addrs []string, redisOpts *redis.UniversalOptions, logOut io.Writer, ready chan<- []string) (err error) {
	logger := slog.New(trace.NewLogHandler(slog.NewTextHandler(logOut, nil)))
	client := newClient(redisOpts)
	defer client.Close()
	if err := client.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("redis at %v: %w", redisOpts.Addrs, err)
	}
	limits, err1 := redisstore.NewRateLimit(client, redisstore.Options{Logger: logger})
	records, err2 := redisstore.NewIdempotency(client, redisstore.Options{Logger: logger})
	if err := errors.Join(err1, err2); err != nil {
		return err
	}

	var servers []*http.Server
	var urls []string
	errc := make(chan error, len(addrs))
	defer func() {
		shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		for _, s := range servers {
			err = errors.Join(err, s.Shutdown(shutdown))
		}
		for range servers {
			if e := <-errc; !errors.Is(e, http.ErrServerClosed) {
				err = errors.Join(err, e)
			}
		}
	}()
	for i, addr := range addrs {
		name := fmt.Sprintf("replica-%d", i+1)
		h, err := replica(name, logger.With("replica", name), limits, records)
		if err != nil {
			return err
		}
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return err
		}
		srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
		servers = append(servers, srv)
		go func() { errc <- srv.Serve(ln) }()
		urls = append(urls, "http://"+ln.Addr().String())
	}
	logger.Info("listening", "replicas", urls, "redis", redisOpts.Addrs)
	if ready != nil {
		ready <- urls
	}
	<-ctx.Done()
	return nil
}
