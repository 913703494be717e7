// Command websocket serves a WebSocket echo endpoint behind all eight httpmw
// middlewares, with github.com/coder/websocket. It is a module of its own so
// that the WebSocket library never enters the core go.mod.
//
//	cd examples/websocket && go run .   # ws://127.0.0.1:8089/echo, page on http://127.0.0.1:8089/
//
// The upgrade is an ordinary GET until the handler hijacks the connection:
// trace, security, cors and ratelimit decorate the 101 response and count
// it; compress, cache and idempotency leave it alone (nothing to compress,
// nothing to hash, not a POST), and every middleware knows the connection
// was hijacked. coder/websocket finds the connection as
// http.ResponseController does (following Unwrap); a library asserting
// w.(http.Hijacker), such as gorilla/websocket, works too, since the
// middlewares' shared writer implements Hijack. Browsers do not apply CORS to WebSockets: the Origin check is
// websocket.AcceptOptions.OriginPatterns's job.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/coder/websocket"

	"github.com/jiec/httpmw/cache"
	"github.com/jiec/httpmw/compress"
	"github.com/jiec/httpmw/cors"
	"github.com/jiec/httpmw/idempotency"
	"github.com/jiec/httpmw/negotiate"
	"github.com/jiec/httpmw/ratelimit"
	"github.com/jiec/httpmw/security"
	"github.com/jiec/httpmw/trace"
)

var page = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>echo</title></head>
<body><input id="msg" value="hello"><button id="send">send</button><pre id="log"></pre>
<script nonce="{{.}}">
const ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/echo");
const log = document.getElementById("log");
ws.onmessage = (e) => { log.textContent += e.data + "\n"; };
document.getElementById("send").onclick = () => ws.send(document.getElementById("msg").value);
</script></body></html>
`))

func newHandler(logger *slog.Logger) (http.Handler, error) {
	tr, err1 := trace.New(trace.Config{AccessLog: logger})
	sec, err2 := security.New(security.Config{
		// connect-src 'self' covers ws: and wss: to this host in CSP Level 3.
		CSP: security.DefaultPolicy().Set(security.ScriptSrc, security.RequestNonce, security.StrictDynamic),
	})
	co, err3 := cors.New(cors.Config{Origins: []string{"https://app.example.com"}})
	rl, err4 := ratelimit.New(ratelimit.Config{
		Policies:    []ratelimit.Policy{{Name: "connects", Limit: 60, Period: time.Minute, Burst: 10}},
		Concurrency: 8, // open sockets per client address
		Logger:      logger,
	})
	idem, err5 := idempotency.New(idempotency.Config{})
	cm, err6 := compress.New(compress.Config{})
	ca, err7 := cache.New(cache.Config{})
	neg, err8 := negotiate.New(negotiate.Config{Languages: []string{"en"}, Fallback: true})
	if err := errors.Join(err1, err2, err3, err4, err5, err6, err7, err8); err != nil {
		return nil, err
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		_ = page.Execute(w, security.Nonce(r.Context()))
	})
	mux.HandleFunc("GET /echo", func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, &websocket.AcceptOptions{
			OriginPatterns: []string{"app.example.com"}, // and the same origin, always
		})
		if err != nil {
			logger.InfoContext(r.Context(), "upgrade refused", "err", err) // Accept answered already
			return
		}
		defer c.CloseNow()
		c.SetReadLimit(64 << 10)
		logger.InfoContext(r.Context(), "socket open") // carries the upgrade's trace_id
		echo(r.Context(), c)
	})

	var h http.Handler = mux
	for _, m := range []func(http.Handler) http.Handler{ // innermost first
		neg.Handler, ca.Handler, cm.Handler, idem.Handler, rl.Handler, co.Handler, sec.Handler, tr.Handler,
	} {
		h = m(h)
	}
	return h, nil
}

// echo sends every message back until the client closes the socket or the
// server shuts down.
func echo(ctx context.Context, c *websocket.Conn) {
	for {
		typ, msg, err := c.Read(ctx)
		if err != nil {
			return
		}
		if err := c.Write(ctx, typ, msg); err != nil {
			return
		}
	}
}

func main() {
	addr := flag.String("addr", "127.0.0.1:8089", "listen address")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *addr, os.Stderr, nil); err != nil {
		fmt.Fprintln(os.Stderr, "websocket:", err)
		os.Exit(1)
	}
}

// run serves until ctx is done; open sockets end with it (BaseContext),
// since Shutdown does not wait for hijacked connections.
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
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second,
		BaseContext: func(net.Listener) context.Context { return ctx }}
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
