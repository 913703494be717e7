// Command stdmux serves a small notes API from an http.ServeMux with Go 1.22
// patterns ("GET /notes/{id}", "POST /notes", "/{$}") behind all eight
// httpmw middlewares, in the recommended order, around the whole mux:
//
//	trace → security → cors → ratelimit → idempotency → compress → cache → negotiate → mux
//
//	go run ./examples/stdmux            # http://127.0.0.1:8082 (-addr to change)
//
// The mux answers 404 and 405 (with Allow) itself, inside the chain, so those
// answers carry the trace id, the security and CORS headers too.
package main

import (
	"context"
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
	"github.com/jiec/httpmw/security"
	"github.com/jiec/httpmw/trace"
)

// newHandler returns the mux wrapped in the full chain.
func newHandler(logger *slog.Logger) (http.Handler, error) {
	n := newNotes()
	tr, err1 := trace.New(trace.Config{AccessLog: logger})
	sec, err2 := security.New(security.Config{})
	co, err3 := cors.New(cors.Config{
		Origins:        []string{"https://app.example.com"},
		Methods:        []string{http.MethodPost, http.MethodPut},
		RequestHeaders: []string{"Content-Type", "If-Match", "Idempotency-Key"},
		ExposedHeaders: []string{"ETag", "X-Trace-Id", "Idempotent-Replayed", "Retry-After", "RateLimit", "RateLimit-Policy"},
	})
	rl, err4 := ratelimit.New(ratelimit.Config{
		Policies: []ratelimit.Policy{{Name: "default", Limit: 10, Period: time.Second, Burst: 10}},
		Logger:   logger,
	})
	// Without Required, POST requests with an Idempotency-Key are protected
	// and those without one run as usual.
	idem, err5 := idempotency.New(idempotency.Config{})
	cm, err6 := compress.New(compress.Config{})
	ca, err7 := cache.New(cache.Config{Validator: n.validator, CacheControl: cache.CacheControl{}.NoCache()})
	neg, err8 := negotiate.New(negotiate.Config{Types: []string{"application/json", "text/plain"}})
	if err := errors.Join(err1, err2, err3, err4, err5, err6, err7, err8); err != nil {
		return nil, err
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintf(w, "notes API; your trace id is %s\n", trace.ID(r.Context()))
	})
	mux.HandleFunc("GET /notes", n.list)
	mux.HandleFunc("POST /notes", n.create)
	mux.HandleFunc("GET /notes/{id}", n.get)
	mux.HandleFunc("PUT /notes/{id}", n.put)

	chain := []func(http.Handler) http.Handler{ // outermost first
		tr.Handler, sec.Handler, co.Handler, rl.Handler, idem.Handler, cm.Handler, ca.Handler, neg.Handler,
	}
	var h http.Handler = mux
	for i := len(chain) - 1; i >= 0; i-- {
		h = chain[i](h)
	}
	return h, nil
}

// note is the API's resource; Version is its ETag.
type note struct {
	ID      int    `json:"id"`
	Text    string `json:"text"`
	Version int    `json:"version"`
}

func (n note) etag() string { return fmt.Sprintf(`"note-%d-v%d"`, n.ID, n.Version) }

type notes struct {
	mu   sync.Mutex
	byID map[int]note
	next int
}

const maxNotes = 1000 // bounded memory whatever clients post

func newNotes() *notes {
	return &notes{byID: map[int]note{1: {ID: 1, Text: "buy milk", Version: 1}}, next: 2}
}

// validator lets the cache middleware answer If-None-Match (304) and
// If-Match (412) on /notes/{id} before the handler runs.
func (s *notes) validator(r *http.Request) (cache.Validators, bool) {
	rest, ok := strings.CutPrefix(r.URL.Path, "/notes/")
	id, err := strconv.Atoi(rest)
	if !ok || err != nil {
		return cache.Validators{}, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if n, ok := s.byID[id]; ok {
		return cache.Validators{ETag: n.etag()}, true
	}
	return cache.Validators{Missing: true}, true
}

// write sends v as JSON or as text, as negotiated.
func write(w http.ResponseWriter, r *http.Request, status int, v any) {
	if negotiate.Result(r.Context()).MediaType == "text/plain" {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(status)
		fmt.Fprintf(w, "%+v\n", v)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (s *notes) list(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	all := make([]note, 0, len(s.byID))
	for i := 1; i < s.next; i++ {
		if n, ok := s.byID[i]; ok {
			all = append(all, n)
		}
	}
	s.mu.Unlock()
	write(w, r, http.StatusOK, all)
}

func (s *notes) get(w http.ResponseWriter, r *http.Request) {
	id, _ := strconv.Atoi(r.PathValue("id"))
	s.mu.Lock()
	n, ok := s.byID[id]
	s.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("ETag", n.etag())
	write(w, r, http.StatusOK, n)
}

func readText(r *http.Request) (string, bool) {
	var in struct {
		Text string `json:"text"`
	}
	err := json.NewDecoder(io.LimitReader(r.Body, 64<<10)).Decode(&in)
	return in.Text, err == nil && in.Text != ""
}

func (s *notes) create(w http.ResponseWriter, r *http.Request) {
	text, ok := readText(r)
	if !ok {
		http.Error(w, `body must be {"text": "..."}`, http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	if len(s.byID) >= maxNotes {
		s.mu.Unlock()
		http.Error(w, "too many notes", http.StatusInsufficientStorage)
		return
	}
	n := note{ID: s.next, Text: text, Version: 1}
	s.byID[n.ID] = n
	s.next++
	s.mu.Unlock()
	w.Header().Set("Location", "/notes/"+strconv.Itoa(n.ID))
	w.Header().Set("ETag", n.etag())
	write(w, r, http.StatusCreated, n)
}

// put replaces a note; the cache middleware already refused a stale If-Match.
func (s *notes) put(w http.ResponseWriter, r *http.Request) {
	id, _ := strconv.Atoi(r.PathValue("id"))
	text, ok := readText(r)
	if !ok {
		http.Error(w, `body must be {"text": "..."}`, http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	n, found := s.byID[id]
	n.Text, n.Version = text, n.Version+1
	if found {
		s.byID[id] = n
	}
	s.mu.Unlock()
	if !found {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("ETag", n.etag())
	write(w, r, http.StatusOK, n)
}

func main() {
	addr := flag.String("addr", "127.0.0.1:8082", "listen address")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *addr, os.Stderr, nil); err != nil {
		fmt.Fprintln(os.Stderr, "stdmux:", err)
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
