// Command sse streams Server-Sent Events through all eight httpmw
// middlewares: every event reaches the client as soon as it is written,
// compressed, with the stream's trace id, rate limit and CORS fields on its
// header, and a reconnecting EventSource resumes after Last-Event-ID.
//
//	go run ./examples/sse               # http://127.0.0.1:8085/events (-addr to change)
//	curl -N --compressed http://127.0.0.1:8085/events
//
// What makes a stream work through the chain: the handler flushes each event
// with http.NewResponseController(w).Flush(), which every middleware passes
// down (compress flushes its encoder, cache stops buffering and sends no
// ETag); and the stream sets Cache-Control: no-cache itself.
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
	"strconv"
	"syscall"
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

func newHandler(logger *slog.Logger, every time.Duration) (http.Handler, error) {
	tr, err1 := trace.New(trace.Config{AccessLog: logger})
	sec, err2 := security.New(security.Config{})
	co, err3 := cors.New(cors.Config{
		Origins:        []string{"https://app.example.com"},
		RequestHeaders: []string{"Last-Event-ID"},
		ExposedHeaders: []string{"X-Trace-Id"},
	})
	// A stream is one request however long it lasts; Concurrency bounds how
	// many streams one client holds open at once.
	rl, err4 := ratelimit.New(ratelimit.Config{
		Policies:    []ratelimit.Policy{{Name: "connects", Limit: 30, Period: time.Minute, Burst: 10}},
		Concurrency: 4,
		Logger:      logger,
	})
	idem, err5 := idempotency.New(idempotency.Config{}) // no effect on GET: shown to prove it stays out of the way
	cm, err6 := compress.New(compress.Config{})
	ca, err7 := cache.New(cache.Config{})
	neg, err8 := negotiate.New(negotiate.Config{Types: []string{"text/event-stream"}})
	if err := errors.Join(err1, err2, err3, err4, err5, err6, err7, err8); err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("GET /events", events(logger, every))
	var h http.Handler = mux
	for _, m := range []func(http.Handler) http.Handler{ // innermost first
		neg.Handler, ca.Handler, cm.Handler, idem.Handler, rl.Handler, co.Handler, sec.Handler, tr.Handler,
	} {
		h = m(h)
	}
	return h, nil
}

// events sends one event every interval until the client goes away,
// numbering them so that a reconnecting client resumes after Last-Event-ID.
func events(logger *slog.Logger, every time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.ParseUint(r.Header.Get("Last-Event-ID"), 10, 32)
		w.Header().Set("Content-Type", "text/event-stream")
		w.Header().Set("Cache-Control", "no-cache")
		rc := http.NewResponseController(w)
		// The write deadline of the server (if any) must not cut the stream.
		_ = rc.SetWriteDeadline(time.Time{})
		if _, err := io.WriteString(w, "retry: 1000\n\n"); err != nil {
			return
		}
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			n++
			_, err := fmt.Fprintf(w, "id: %d\ndata: {\"n\":%d,\"trace\":%q}\n\n", n, n, trace.ID(r.Context()))
			if err == nil {
				err = rc.Flush()
			}
			if err != nil {
				logger.DebugContext(r.Context(), "stream ended", "err", err)
				return
			}
			select {
			case <-r.Context().Done():
				return
			case <-tick.C:
			}
		}
	})
}

func main() {
	addr := flag.String("addr", "127.0.0.1:8085", "listen address")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *addr, os.Stderr, time.Second, nil); err != nil {
		fmt.Fprintln(os.Stderr, "sse:", err)
		os.Exit(1)
	}
}

// run serves until ctx is done, then shuts down; ready, if not nil, receives
// the bound address. Open streams end when ctx does (BaseContext).
func run(ctx context.Context, addr string, logOut io.Writer, every time.Duration, ready chan<- string) error {
	logger := slog.New(trace.NewLogHandler(slog.NewTextHandler(logOut, nil)))
	h, err := newHandler(logger, every)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second, WriteTimeout: 30 * time.Second,
		BaseContext: func(net.Listener) context.Context { return ctx }}
	logger.Info("listening", "url", "http://"+ln.Addr().String()+"/events")
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
