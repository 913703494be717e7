// Command client shows the outgoing side: a checkout service calls a
// payments service with an http.Client whose Transport
//
//   - propagates the trace (trace.Transport: X-Trace-Id, a child traceparent
//     per attempt, tracestate), so both services log the same trace id;
//   - retries a POST safely: one Idempotency-Key per logical call, reused by
//     every attempt, so the payments service (idempotency middleware) runs
//     the payment once and replays its answer to a retry whose first
//     response was lost.
//
// Run it:
//
//	go run ./examples/client            # checkout on :8086, payments on :8087
//	curl -X POST 'http://127.0.0.1:8086/checkout?amount=1250'
package main

import (
	"bytes"
	"context"
	"crypto/rand"
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
	"sync"
	"syscall"
	"time"

	"github.com/jiec/httpmw/idempotency"
	"github.com/jiec/httpmw/trace"
)

// Retry is a RoundTripper that retries requests that are safe to repeat:
// idempotent methods, and POST or PATCH carrying an Idempotency-Key (it
// adds one, the same for every attempt, when the request has none). It
// retries network errors and the answers that mean "try again" (408, 409
// while the first attempt still runs, 425, 429, 502, 503, 504), waiting
// Retry-After when the server sends it (capped at MaxWait) or Backoff.
type Retry struct {
	Base     http.RoundTripper               // nil: http.DefaultTransport
	Attempts int                             // total attempts, 0 means 4
	Backoff  func(attempt int) time.Duration // nil: 100 ms << attempt
	MaxWait  time.Duration                   // cap on Retry-After, 0 means 5 s
}

// RoundTrip sends req, retrying as described on Retry.
func (t *Retry) RoundTrip(req *http.Request) (*http.Response, error) {
	base, attempts, maxWait := t.Base, t.Attempts, t.MaxWait
	if base == nil {
		base = http.DefaultTransport
	}
	if attempts <= 0 {
		attempts = 4
	}
	if maxWait <= 0 {
		maxWait = 5 * time.Second
	}
	if req.Body != nil && req.Body != http.NoBody && req.GetBody == nil {
		return base.RoundTrip(req) // the body cannot be sent twice
	}
	req = req.Clone(req.Context()) // a RoundTripper must not modify the caller's request
	switch req.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodPut, http.MethodDelete:
	case http.MethodPost, http.MethodPatch:
		if req.Header.Get("Idempotency-Key") == "" {
			req.Header.Set("Idempotency-Key", `"`+rand.Text()+`"`) // sf-string form of the draft
		}
	default:
		return base.RoundTrip(req)
	}
	for attempt := 1; ; attempt++ {
		if attempt > 1 && req.GetBody != nil {
			body, err := req.GetBody()
			if err != nil {
				return nil, err
			}
			req.Body = body
		}
		res, err := base.RoundTrip(req)
		if attempt == attempts || !retryable(res, err) || req.Context().Err() != nil {
			return res, err
		}
		wait := t.backoff(attempt)
		if res != nil {
			if s, err := strconv.Atoi(res.Header.Get("Retry-After")); err == nil && s >= 0 {
				wait = min(time.Duration(s)*time.Second, maxWait)
			}
			io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10)) // reuse the connection
			res.Body.Close()
		}
		timer := time.NewTimer(wait)
		select {
		case <-req.Context().Done():
			timer.Stop()
			return nil, req.Context().Err()
		case <-timer.C:
		}
	}
}

func (t *Retry) backoff(attempt int) time.Duration {
	if t.Backoff != nil {
		return t.Backoff(attempt)
	}
	return 100 * time.Millisecond << attempt
}

func retryable(res *http.Response, err error) bool {
	if err != nil {
		return !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded)
	}
	switch res.StatusCode {
	case http.StatusRequestTimeout, http.StatusConflict, http.StatusTooEarly, http.StatusTooManyRequests,
		http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// payment is what the payments service answers.
type payment struct {
	ID      int    `json:"id"`
	Amount  int    `json:"amount"`
	TraceID string `json:"trace_id"` // the trace id the payments service saw
}

// payments is the downstream service: it charges once per Idempotency-Key.
type payments struct {
	mu      sync.Mutex
	charged int
}

func (p *payments) handler(logger *slog.Logger) (http.Handler, error) {
	tr, err1 := trace.New(trace.Config{AccessLog: logger})
	idem, err2 := idempotency.New(idempotency.Config{Required: true})
	if err := errors.Join(err1, err2); err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /payments", func(w http.ResponseWriter, r *http.Request) {
		var in payment
		if err := json.NewDecoder(io.LimitReader(r.Body, 4096)).Decode(&in); err != nil || in.Amount <= 0 {
			http.Error(w, "want {\"amount\": > 0}", http.StatusBadRequest)
			return
		}
		p.mu.Lock()
		p.charged++
		out := payment{ID: p.charged, Amount: in.Amount, TraceID: trace.ID(r.Context())}
		p.mu.Unlock()
		logger.InfoContext(r.Context(), "charged", "payment", out.ID, "amount", out.Amount)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(w).Encode(out)
	})
	return tr.Handler(idem.Handler(mux)), nil
}

// checkout is the upstream service: it calls payments with the request's
// context, so the call carries the trace.
func checkout(logger *slog.Logger, client *http.Client, paymentsURL string) (http.Handler, error) {
	tr, err := trace.New(trace.Config{AccessLog: logger})
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /checkout", func(w http.ResponseWriter, r *http.Request) {
		amount, err := strconv.Atoi(r.URL.Query().Get("amount"))
		if err != nil || amount <= 0 {
			http.Error(w, "want ?amount=<cents>", http.StatusBadRequest)
			return
		}
		body, _ := json.Marshal(payment{Amount: amount})
		// bytes.Reader: NewRequest sets GetBody, so Retry can resend it.
		req, _ := http.NewRequestWithContext(r.Context(), http.MethodPost, paymentsURL+"/payments", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		res, err := client.Do(req)
		if err != nil {
			logger.ErrorContext(r.Context(), "payments", "err", err)
			http.Error(w, "payments unavailable", http.StatusBadGateway)
			return
		}
		defer res.Body.Close()
		w.Header().Set("Content-Type", res.Header.Get("Content-Type"))
		w.Header().Set("Idempotent-Replayed", res.Header.Get("Idempotent-Replayed"))
		w.WriteHeader(res.StatusCode)
		_, _ = io.Copy(w, io.LimitReader(res.Body, 1<<20))
	})
	return tr.Handler(mux), nil
}

// newClient is the client every service should call others with.
func newClient(base http.RoundTripper) *http.Client {
	return &http.Client{
		Transport: &Retry{Base: trace.Transport(base)}, // a new child span per attempt
		Timeout:   30 * time.Second,
	}
}

func main() {
	front := flag.String("addr", "127.0.0.1:8086", "checkout listen address")
	back := flag.String("payments", "127.0.0.1:8087", "payments listen address")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *front, *back, os.Stderr, nil, nil); err != nil {
		fmt.Fprintln(os.Stderr, "client:", err)
		os.Exit(1)
	}
}

// run serves the two services until ctx is done. base is the checkout
// service's transport below Retry and trace.Transport (nil: the default);
// ready, if not nil, receives the checkout and payments base URLs.
func run(ctx context.Context, frontAddr, backAddr string, logOut io.Writer, base http.RoundTripper, ready chan<- [2]string) error {
	logger := slog.New(trace.NewLogHandler(slog.NewTextHandler(logOut, nil)))
	backLn, err := net.Listen("tcp", backAddr)
	if err != nil {
		return err
	}
	frontLn, err := net.Listen("tcp", frontAddr)
	if err != nil {
		backLn.Close()
		return err
	}
	backURL, frontURL := "http://"+backLn.Addr().String(), "http://"+frontLn.Addr().String()
	client := newClient(base)
	defer client.CloseIdleConnections()
	p := &payments{}
	ph, err1 := p.handler(logger.With("service", "payments"))
	ch, err2 := checkout(logger.With("service", "checkout"), client, backURL)
	if err := errors.Join(err1, err2); err != nil {
		backLn.Close()
		frontLn.Close()
		return err
	}
	servers := []*http.Server{
		{Handler: ph, ReadHeaderTimeout: 5 * time.Second},
		{Handler: ch, ReadHeaderTimeout: 5 * time.Second},
	}
	logger.Info("listening", "checkout", frontURL, "payments", backURL)
	if ready != nil {
		ready <- [2]string{frontURL, backURL}
	}
	errc := make(chan error, 2)
	go func() { errc <- servers[0].Serve(backLn) }()
	go func() { errc <- servers[1].Serve(frontLn) }()
	var serveErr error
	pending := cap(errc)
	select {
	case serveErr = <-errc:
		pending--
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	errs := []error{serveErr}
	for _, s := range servers {
		errs = append(errs, s.Shutdown(shutdown))
	}
	for range pending {
		if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
