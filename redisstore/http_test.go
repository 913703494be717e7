package redisstore_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jiec/httpmw/idempotency"
	"github.com/jiec/httpmw/ratelimit"
	"github.com/jiec/httpmw/redisstore"
)

// The HTTP scenarios run the real middlewares: three app instances
// (httptest servers), each with its own go-redis client, its own store and
// its own Middleware, as three replicas behind a load balancer would.

// quietLogger drops the middlewares' store-error logs.
func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// serve starts h as an app instance; its client is closed with it.
func serve(t *testing.T, h http.Handler) *httptest.Server {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// rateApp is one replica with a Redis-backed ratelimit.Middleware in front
// of a 204 handler.
func rateApp(t *testing.T, store ratelimit.Store, cfg ratelimit.Config) *httptest.Server {
	return serve(t, rateHandler(t, store, cfg))
}

func rateHandler(t *testing.T, store ratelimit.Store, cfg ratelimit.Config) http.Handler {
	t.Helper()
	cfg.Store = store
	if cfg.Logger == nil {
		cfg.Logger = quietLogger()
	}
	m, err := ratelimit.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	}))
}

// failLog reports the store's errors (the middleware's 503 does not say
// what failed).
type failLog struct {
	ratelimit.Store
	t *testing.T
}

func (f failLog) Take(ctx context.Context, key string, ps []ratelimit.Policy, cost int64, st []ratelimit.State) (bool, error) {
	ok, err := f.Store.Take(ctx, key, ps, cost, st)
	if err != nil {
		f.t.Errorf("store: %v", err)
	}
	return ok, err
}

// idemFailLog reports the idempotency store's errors.
type idemFailLog struct {
	idempotency.Store
	t *testing.T
}

func (f idemFailLog) Acquire(ctx context.Context, key, fp string, lease time.Duration) (idempotency.Lease, error) {
	l, err := f.Store.Acquire(ctx, key, fp, lease)
	if err != nil {
		f.t.Errorf("store: Acquire: %v", err)
	}
	return l, err
}

func (f idemFailLog) Complete(ctx context.Context, key, token string, rec idempotency.Record, ttl time.Duration) error {
	err := f.Store.Complete(ctx, key, token, rec, ttl)
	if err != nil {
		f.t.Errorf("store: Complete: %v", err)
	}
	return err
}

// rateLimitField matches the RateLimit field of one policy "default".
var rateLimitField = regexp.MustCompile(`^"default";r=(\d+)(;t=(\d+))?$`)

func testHTTPExactAdmission(t *testing.T, topo topology) {
	const limit, workers, perWorker = 20, 3 * 8, 5 // 120 requests for 20 units
	key := uniqueKey(t)
	cfg := ratelimit.Config{
		Policies: []ratelimit.Policy{{Name: "default", Limit: limit, Period: time.Hour}},
		KeyFunc:  func(*http.Request) (string, error) { return key, nil },
	}
	apps := make([]*httptest.Server, 3)
	for i, s := range rateStores(t, topo, 3, slowOK) {
		apps[i] = rateApp(t, failLog{s, t}, cfg)
	}
	var admitted, limited atomic.Int64
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make(chan error, workers*perWorker)
	for w := range workers {
		wg.Go(func() {
			<-start
			for i := range perWorker {
				app := apps[(w+i)%3]
				res, err := app.Client().Get(app.URL)
				if err != nil {
					errs <- err
					continue
				}
				body, _ := io.ReadAll(res.Body)
				res.Body.Close()
				if err := checkRateAnswer(res, body); err != nil {
					errs <- err
				}
				switch res.StatusCode {
				case http.StatusNoContent:
					admitted.Add(1)
				case http.StatusTooManyRequests:
					limited.Add(1)
				}
			}
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if admitted.Load() != limit || limited.Load() != workers*perWorker-limit {
		t.Fatalf("admitted %d, limited %d; want exactly %d of %d admitted across the three instances",
			admitted.Load(), limited.Load(), limit, workers*perWorker)
	}
}

// checkRateAnswer checks the fields of one answer: RateLimit and
// RateLimit-Policy always; on a 429, remaining 0, Retry-After (at most the
// interval, 3 minutes, rounded up) no earlier than the field's t, and a
// problem+json body.
func checkRateAnswer(res *http.Response, body []byte) error {
	if got := res.Header.Get("RateLimit-Policy"); got != `"default";q=20;w=3600` {
		return fmt.Errorf("%d: RateLimit-Policy %q", res.StatusCode, got)
	}
	m := rateLimitField.FindStringSubmatch(res.Header.Get("RateLimit"))
	if m == nil {
		return fmt.Errorf("%d: RateLimit %q", res.StatusCode, res.Header.Get("RateLimit"))
	}
	switch res.StatusCode {
	case http.StatusNoContent:
		if res.Header.Get("Retry-After") != "" {
			return fmt.Errorf("204 with Retry-After %q", res.Header.Get("Retry-After"))
		}
	case http.StatusTooManyRequests:
		ra, err := strconv.Atoi(res.Header.Get("Retry-After"))
		tv, _ := strconv.Atoi(m[3])
		if err != nil || ra < 1 || ra > 180 || ra < tv || m[1] != "0" {
			return fmt.Errorf("429: Retry-After %q, RateLimit %q", res.Header.Get("Retry-After"), res.Header.Get("RateLimit"))
		}
		if ct := res.Header.Get("Content-Type"); ct != "application/problem+json" || !bytes.Contains(body, []byte(`"status":429`)) {
			return fmt.Errorf("429: %s %s", ct, body)
		}
	default:
		return fmt.Errorf("status %d: %s", res.StatusCode, body)
	}
	return nil
}

// payments is the handler behind the idempotency middleware: every run
// creates a new order id, so a second run would be visible in the answers.
type payments struct {
	runs atomic.Int64
	// gate, if set, holds the handler until it is closed (or 10 s pass: a
	// second run must not deadlock the test, it must fail it).
	gate chan struct{}
}

func (p *payments) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.runs.Add(1)
	if p.gate != nil {
		select {
		case <-p.gate:
		case <-time.After(10 * time.Second):
		}
	}
	body, _ := io.ReadAll(r.Body)
	id := rand.Text()
	w.Header().Set("Location", "/orders/"+id)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	fmt.Fprintf(w, `{"id":%q,"request":%s}`, id, body)
}

func idemApp(t *testing.T, store idempotency.Store, h http.Handler, cfg idempotency.Config) *httptest.Server {
	return serve(t, idemHandler(t, store, h, cfg))
}

func idemHandler(t *testing.T, store idempotency.Store, h http.Handler, cfg idempotency.Config) http.Handler {
	t.Helper()
	cfg.Store = store
	m, err := idempotency.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return m.Handler(h)
}

type answer struct {
	status int
	header http.Header
	body   []byte
}

func post(app *httptest.Server, key string) (answer, error) {
	req, err := http.NewRequest(http.MethodPost, app.URL+"/payments", strings.NewReader(`{"amount":100}`))
	if err != nil {
		return answer{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer customer-7")
	req.Header.Set("Idempotency-Key", strconv.Quote(key))
	res, err := app.Client().Do(req)
	if err != nil {
		return answer{}, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	return answer{res.StatusCode, res.Header, body}, err
}

// spread sends n identical POSTs at once, round-robin over apps.
func spread(apps []*httptest.Server, key string, n int) ([]answer, []error) {
	answers, errs := make([]answer, n), make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			answers[i], errs[i] = post(apps[i%len(apps)], key)
		})
	}
	close(start)
	wg.Wait()
	return answers, errs
}

func sameAnswer(t *testing.T, what string, got, want answer) {
	t.Helper()
	if got.status != want.status || !bytes.Equal(got.body, want.body) {
		t.Errorf("%s: %d %q, want the original %d %q byte for byte", what, got.status, got.body, want.status, want.body)
	}
	for _, f := range []string{"Location", "Content-Type"} {
		if !slices.Equal(got.header[f], want.header[f]) {
			t.Errorf("%s: %s %q, want %q", what, f, got.header[f], want.header[f])
		}
	}
	if got.header.Get(idempotency.ReplayedHeader) != "true" {
		t.Errorf("%s: %s %q, want true", what, idempotency.ReplayedHeader, got.header.Get(idempotency.ReplayedHeader))
	}
}

func testHTTPIdempotencyOnce(t *testing.T, topo topology) {
	const n = 30
	t.Run("WhileRunning", func(t *testing.T) {
		// The handler holds until the n-1 others are answered: every one
		// of them meets the lease (409), then the replays come from any
		// instance.
		h := &payments{gate: make(chan struct{})}
		apps := make([]*httptest.Server, 3)
		for i, s := range idemStores(t, topo, 3, slowOK) {
			apps[i] = idemApp(t, idemFailLog{s, t}, h, idempotency.Config{})
		}
		key := uniqueKey(t)
		answers, errs := make([]answer, n), make([]error, n)
		var wg sync.WaitGroup
		var answered atomic.Int64
		for i := range n {
			wg.Go(func() {
				answers[i], errs[i] = post(apps[i%3], key)
				if answered.Add(1) == n-1 {
					close(h.gate)
				}
			})
		}
		wg.Wait()
		var first answer
		conflicts := 0
		for i, a := range answers {
			switch {
			case errs[i] != nil:
				t.Fatal(errs[i])
			case a.status == http.StatusCreated && a.header.Get(idempotency.ReplayedHeader) == "":
				first = a
			case a.status == http.StatusConflict:
				conflicts++
				if ra, err := strconv.Atoi(a.header.Get("Retry-After")); err != nil || ra < 1 || ra > 30 {
					t.Errorf("409 with Retry-After %q", a.header.Get("Retry-After"))
				}
				if a.header.Get("Content-Type") != "application/problem+json" {
					t.Errorf("409 as %q", a.header.Get("Content-Type"))
				}
			default:
				t.Errorf("answer %d: %d %s", i, a.status, a.body)
			}
		}
		if runs := h.runs.Load(); runs != 1 || first.status == 0 || conflicts != n-1 {
			t.Fatalf("handler ran %d times; %d conflicts of %d", runs, conflicts, n)
		}
		answers, errs = spread(apps, key, n)
		for i, a := range answers {
			if errs[i] != nil {
				t.Fatal(errs[i])
			}
			sameAnswer(t, fmt.Sprintf("retry %d via instance %d", i, i%3), a, first)
		}
		if runs := h.runs.Load(); runs != 1 {
			t.Fatalf("handler ran %d times", runs)
		}
	})
	t.Run("Racing", func(t *testing.T) {
		// No gate: whether a duplicate arrives during the run or after it,
		// it is a 409 or the replay, never a second run.
		h := &payments{}
		apps := make([]*httptest.Server, 3)
		for i, s := range idemStores(t, topo, 3, slowOK) {
			apps[i] = idemApp(t, idemFailLog{s, t}, h, idempotency.Config{})
		}
		key := uniqueKey(t)
		answers, errs := spread(apps, key, n)
		var first answer
		var replays []answer
		for i, a := range answers {
			switch {
			case errs[i] != nil:
				t.Fatal(errs[i])
			case a.status == http.StatusCreated && a.header.Get(idempotency.ReplayedHeader) == "":
				if first.status != 0 {
					t.Fatalf("two first answers: %s and %s", first.body, a.body)
				}
				first = a
			case a.status == http.StatusConflict:
			default:
				replays = append(replays, a)
			}
		}
		if runs := h.runs.Load(); runs != 1 || first.status == 0 {
			t.Fatalf("handler ran %d times", runs)
		}
		for i, a := range replays {
			sameAnswer(t, fmt.Sprintf("replay %d", i), a, first)
		}
		t.Logf("%d requests: 1 run, %d conflicts, %d replays", n, n-1-len(replays), len(replays))
	})
}

// TestHTTPFaults stops Redis under running apps. Rate limit: by default the
// request is admitted and the error logged; with FailClosed, 503 with
// Retry-After: 1. Idempotency: 503
// problem+json by default. Each request costs at most the store's Timeout
// (50 ms) + 5 ms while the breaker is closed, then nearly nothing; after
// the restart the apps serve normally again within a second.
func TestHTTPFaults(t *testing.T) {
	policies := []ratelimit.Policy{{Name: "default", Limit: 1e6, Period: time.Second}}
	cases := []struct {
		name string
		// app builds the instance on a store made from client.
		app func(t *testing.T, srv *redisServer) (http.Handler, interface{ CircuitOpen() bool }, *lockedBuffer)
		// up and down check an answer with Redis up and down.
		up, down func(a answer) error
		method   string
	}{
		{
			name: "RateLimitFailClosed",
			app: func(t *testing.T, srv *redisServer) (http.Handler, interface{ CircuitOpen() bool }, *lockedBuffer) {
				s, err := redisstore.NewRateLimit(newClient(t, srv.Addr), redisstore.Options{BreakerThreshold: faultThreshold})
				if err != nil {
					t.Fatal(err)
				}
				return rateHandler(t, s, ratelimit.Config{Policies: policies, FailClosed: true}), s, nil
			},
			up: status(http.StatusNoContent),
			down: func(a answer) error {
				if a.status != http.StatusServiceUnavailable || a.header.Get("Retry-After") != "1" ||
					a.header.Get("Content-Type") != "application/problem+json" {
					return fmt.Errorf("%d Retry-After %q %s, want 503 problem+json with Retry-After 1", a.status, a.header.Get("Retry-After"), a.body)
				}
				return nil
			},
			method: http.MethodGet,
		},
		{
			name: "RateLimitFailOpenByDefault",
			app: func(t *testing.T, srv *redisServer) (http.Handler, interface{ CircuitOpen() bool }, *lockedBuffer) {
				s, err := redisstore.NewRateLimit(newClient(t, srv.Addr), redisstore.Options{BreakerThreshold: faultThreshold})
				if err != nil {
					t.Fatal(err)
				}
				logs := new(lockedBuffer)
				return rateHandler(t, s, ratelimit.Config{Policies: policies, Logger: slog.New(slog.NewTextHandler(logs, nil))}), s, logs
			},
			up: status(http.StatusNoContent),
			down: func(a answer) error {
				if a.status != http.StatusNoContent || a.header.Get("RateLimit") != "" {
					return fmt.Errorf("%d RateLimit %q, want 204 without RateLimit fields", a.status, a.header.Get("RateLimit"))
				}
				return nil
			},
			method: http.MethodGet,
		},
		{
			name: "IdempotencyServiceUnavailableByDefault",
			app: func(t *testing.T, srv *redisServer) (http.Handler, interface{ CircuitOpen() bool }, *lockedBuffer) {
				s, err := redisstore.NewIdempotency(newClient(t, srv.Addr), redisstore.Options{BreakerThreshold: faultThreshold})
				if err != nil {
					t.Fatal(err)
				}
				return idemHandler(t, s, &payments{}, idempotency.Config{}), s, nil
			},
			up: status(http.StatusCreated),
			down: func(a answer) error {
				if a.status != http.StatusServiceUnavailable || a.header.Get("Content-Type") != "application/problem+json" ||
					!bytes.Contains(a.body, []byte(`"status":503`)) {
					return fmt.Errorf("%d %q %s, want 503 problem+json", a.status, a.header.Get("Content-Type"), a.body)
				}
				return nil
			},
			method: http.MethodPost,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := startRedis(t)
			inner, br, logs := tc.app(t, srv)
			// The latency measured is the app's: from the request reaching
			// the outer handler to the middleware's answer.
			var last atomic.Int64
			outer := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				start := time.Now()
				inner.ServeHTTP(w, r)
				last.Store(int64(time.Since(start)))
			}))
			call := func() (answer, time.Duration, time.Duration, error) {
				stop := make(chan struct{})
				late := stalls(stop)
				var a answer
				var err error
				if tc.method == http.MethodPost {
					a, err = post(outer, rand.Text())
				} else {
					var res *http.Response
					if res, err = outer.Client().Get(outer.URL); err == nil {
						a.body, _ = io.ReadAll(res.Body)
						res.Body.Close()
						a.status, a.header = res.StatusCode, res.Header
					}
				}
				close(stop)
				return a, time.Duration(last.Load()), <-late, err
			}
			waitFor := func(within time.Duration) time.Duration {
				start := time.Now()
				for {
					a, _, _, err := call()
					if err != nil {
						t.Fatal(err)
					}
					if tc.up(a) == nil {
						return time.Since(start)
					}
					if time.Since(start) > within {
						t.Fatalf("not serving %v after the restart: %d %s", time.Since(start), a.status, a.body)
					}
					time.Sleep(5 * time.Millisecond) // polling, not timing
				}
			}
			waitFor(time.Second)
			srv.Kill(t)
			// The first faultThreshold requests reach the dead Redis; then
			// the open breaker answers at once, but for one probe per
			// cooldown.
			var worst time.Duration
			var lastProbe time.Time
			fast := 0
			for i := range faultThreshold + 10 {
				a, el, late, err := call()
				if err != nil {
					t.Fatal(err)
				}
				if err := tc.down(a); err != nil {
					t.Fatalf("request %d with Redis down: %v", i, err)
				}
				if el > redisstore.DefaultTimeout+slack+late {
					t.Errorf("request %d took %v in the app, more than timeout + %v (+ %v the process could not run)", i, el, slack, late)
				}
				worst = max(worst, el)
				if i < faultThreshold {
					continue
				}
				if !br.CircuitOpen() {
					t.Errorf("request %d: breaker closed after %d failures", i, i)
				}
				if el <= slack+late {
					fast++
					continue
				}
				if !lastProbe.IsZero() && time.Since(lastProbe) < redisstore.DefaultBreakerCooldown {
					t.Errorf("request %d took %v, %v after the last probe: within the cooldown", i, el, time.Since(lastProbe))
				}
				lastProbe = time.Now()
			}
			if fast < 5 {
				t.Errorf("%d of 10 requests answered at once by the open breaker", fast)
			}
			if logs != nil && !strings.Contains(logs.String(), "redisstore: redis unavailable") {
				t.Errorf("fail open: store errors not logged: %q", logs.String())
			}
			srv.Restart(t)
			t.Logf("worst %v with Redis down, %d of 10 answered by the open breaker; serving %v after the restart", worst, fast, waitFor(time.Second))
		})
	}
}

// stalls runs a 1 ms ticker until stop is closed and sends the time it
// lost (ticks later than 1 ms after the previous one): how long this
// process could not run on a loaded machine, which the latency bounds allow
// on top of the slack.
func stalls(stop <-chan struct{}) <-chan time.Duration {
	out := make(chan time.Duration, 1)
	tick := time.NewTicker(time.Millisecond)
	go func() {
		defer tick.Stop()
		var lost time.Duration
		prev := time.Now()
		for {
			select {
			case <-stop:
				out <- lost + max(time.Since(prev)-time.Millisecond, 0)
				return
			case <-tick.C:
				now := time.Now()
				lost += max(now.Sub(prev)-time.Millisecond, 0)
				prev = now
			}
		}
	}()
	return out
}

func status(code int) func(answer) error {
	return func(a answer) error {
		if a.status != code {
			return fmt.Errorf("%d %s, want %d", a.status, a.body, code)
		}
		return nil
	}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
