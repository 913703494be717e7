// Command web serves server-rendered HTML behind httpmw: pages whose inline
// script and style carry the request's CSP nonce, translated by
// Accept-Language, compressed, and a stylesheet that browsers revalidate
// with its ETag (304).
//
//	go run ./examples/web               # http://127.0.0.1:8084 (-addr to change)
//
// The chain, outermost first:
//
//	trace → security → compress → cache → negotiate → mux
//
// A page with a nonce must never be served from a cache (the nonce would be
// reused, and would not match the new CSP), so pages say Cache-Control:
// no-store; the stylesheet, which has no nonce, is cacheable.
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
	"strings"
	"syscall"
	"time"

	"github.com/jiec/httpmw/cache"
	"github.com/jiec/httpmw/compress"
	"github.com/jiec/httpmw/negotiate"
	"github.com/jiec/httpmw/security"
	"github.com/jiec/httpmw/trace"
)

// greetings are the page's translations, one per language offer.
var greetings = map[string]struct{ Title, Hello string }{
	"en": {"Welcome", "Hello! This page was rendered for you."},
	"fr": {"Bienvenue", "Bonjour ! Cette page a été générée pour vous."},
	"de": {"Willkommen", "Hallo! Diese Seite wurde für Sie erstellt."},
}

var pageTmpl = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="{{.Lang}}">
<head>
<meta charset="utf-8">
<title>{{.Title}}</title>
<link rel="stylesheet" href="/assets/site.css">
<style nonce="{{.Nonce}}">h1 { color: rebeccapurple; }</style>
</head>
<body>
<h1>{{.Title}}</h1>
<p>{{.Hello}}</p>
<p id="clock"></p>
<script nonce="{{.Nonce}}">document.getElementById("clock").textContent = new Date().toString();</script>
</body>
</html>
`))

// siteCSS is a stylesheet large enough to be worth compressing.
var siteCSS = func() string {
	var b strings.Builder
	b.WriteString("body { font-family: system-ui, sans-serif; max-width: 40rem; margin: 2rem auto; }\n")
	for i := 1; i <= 40; i++ {
		fmt.Fprintf(&b, ".m-%d { margin: %drem; }\n", i, i)
	}
	return b.String()
}()

func newHandler(logger *slog.Logger) (http.Handler, error) {
	tr, err1 := trace.New(trace.Config{AccessLog: logger})
	sec, err2 := security.New(security.Config{
		CSP: security.DefaultPolicy().
			Set(security.ScriptSrc, security.RequestNonce, security.StrictDynamic).
			Set(security.StyleSrc, security.Self, security.RequestNonce),
	})
	cm, err3 := compress.New(compress.Config{})
	ca, err4 := cache.New(cache.Config{})
	// Fallback: a browser asking only for Japanese gets English, not a 406.
	neg, err5 := negotiate.New(negotiate.Config{Languages: []string{"en", "fr", "de"}, Fallback: true})
	if err := errors.Join(err1, err2, err3, err4, err5); err != nil {
		return nil, err
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		lang := negotiate.Result(r.Context()).Language // Content-Language is already set
		g := greetings[lang]
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store") // the nonce is single-use
		_ = pageTmpl.Execute(w, struct{ Lang, Title, Hello, Nonce string }{
			lang, g.Title, g.Hello, security.Nonce(r.Context())})
	})
	mux.HandleFunc("GET /assets/site.css", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
		w.Header().Set("Cache-Control", "public, max-age=3600")
		w.Header()["Content-Language"] = nil // a stylesheet has no language
		io.WriteString(w, siteCSS)
	})
	return tr.Handler(sec.Handler(cm.Handler(ca.Handler(neg.Handler(mux))))), nil
}

func main() {
	addr := flag.String("addr", "127.0.0.1:8084", "listen address")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *addr, os.Stderr, nil); err != nil {
		fmt.Fprintln(os.Stderr, "web:", err)
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
