package browser_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/jiec/httpmw/cache"
	"github.com/jiec/httpmw/compress"
	"github.com/jiec/httpmw/cors"
	"github.com/jiec/httpmw/idempotency"
	"github.com/jiec/httpmw/negotiate"
	"github.com/jiec/httpmw/ratelimit"
	"github.com/jiec/httpmw/security"
	"github.com/jiec/httpmw/trace"
)

// options vary the API's chain for one test.
type options struct {
	// limiterOutsideCORS puts ratelimit outside cors (the wrong order): its
	// 429s then carry no CORS headers.
	limiterOutsideCORS bool
}

// stack is one test's pair of servers: the app (HTML pages, their CSP and
// its report endpoints) and the API (every middleware in the recommended
// order), on two ports of 127.0.0.1.
type stack struct {
	app, api       *server
	appRec, apiRec *recorder
	apiLog         *logBuffer // the API's access log (JSON, one line per request)

	putCalls   atomic.Int64 // PUT /api/items/{id} handler runs
	orderCalls atomic.Int64 // POST /orders handler runs
	// POST /orders?hold: the handler signals orderHeld, then waits for
	// orderRelease.
	orderHeld, orderRelease chan struct{}
	sse                     *sseState
	wsErr                   atomic.Value // string: why the last WebSocket upgrade failed

	closers []func() error // run when the test ends

	reportsMu sync.Mutex
	reports   []report // bodies POSTed to the app's report endpoints
}

// appOrigin is the page origin https://host:appport.
func (s *stack) appOrigin(host string) string { return s.app.origin(host) }

// apiURL is https://api.example.test:apiport + path.
func (s *stack) apiURL(path string) string { return s.api.origin(apiHost) + path }

func newStack(t *testing.T, opt options) *stack {
	t.Helper()
	s := &stack{app: newServer(t), api: newServer(t), appRec: newRecorder(), apiRec: newRecorder(),
		apiLog: &logBuffer{}, sse: newSSEState(),
		orderHeld: make(chan struct{}, 8), orderRelease: make(chan struct{})}
	app, err := s.appHandler()
	if err != nil {
		t.Fatalf("app chain: %v", err)
	}
	api, err := s.apiHandler(opt)
	if err != nil {
		t.Fatalf("API chain: %v", err)
	}
	t.Cleanup(func() {
		for _, c := range s.closers {
			if err := c(); err != nil {
				t.Errorf("close: %v", err)
			}
		}
	})
	s.app.start(s.appRec.wrap(app))
	s.api.start(s.apiRec.wrap(api))
	return s
}

// ---- the app: pages under a nonce-based CSP -------------------------------

// Pages of the app. Each has one inline script carrying the request's nonce
// (it sets window.nonceRan) and /csp one without (window.inlineRan).
var pageTmpl = template.Must(template.New("").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Title}}</title></head>
<body><h1>{{.Title}}</h1><pre id="out"></pre>
<script nonce="{{.Nonce}}">window.nonceRan = true;</script>
{{if .Inline}}<script>window.inlineRan = true;</script>{{end}}
</body></html>
`))

func (s *stack) appHandler() (http.Handler, error) {
	api := s.api.origin(apiHost)
	wss := "wss://" + apiHost + ":" + s.api.port
	policy := func() security.Policy {
		return security.DefaultPolicy().
			Set(security.ScriptSrc, security.RequestNonce, security.StrictDynamic).
			Set(security.ConnectSrc, security.Self, api, wss)
	}
	tr, err1 := trace.New(trace.Config{})
	// /csp: the Reporting API (report-to, Reporting-Endpoints).
	sec, err2 := security.New(security.Config{
		CSP:                policy().Set(security.ReportTo, "csp"),
		ReportingEndpoints: []security.Endpoint{{Name: "csp", URL: "/reports"}},
	})
	// /legacy/csp: report-uri only (browsers ignore report-uri when
	// report-to names a configured endpoint, so each gets its own page).
	legacy, err3 := security.New(security.Config{CSP: policy().Set(security.ReportURI, "/csp-report")})
	cm, err4 := compress.New(compress.Config{})
	if err := errors.Join(err1, err2, err3, err4); err != nil {
		return nil, err
	}

	mux := http.NewServeMux()
	page := func(title string, inline bool) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Header().Set("Cache-Control", "no-store")
			_ = pageTmpl.Execute(w, struct {
				Title, Nonce string
				Inline       bool
			}{title, security.Nonce(r.Context()), inline})
		}
	}
	mux.Handle("GET /{$}", page("app", false))
	mux.Handle("GET /csp", page("csp", true))
	mux.Handle("GET /legacy/csp", page("csp legacy", true))
	sink := func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		s.reportsMu.Lock()
		s.reports = append(s.reports, report{r.URL.Path, r.Header.Get("Content-Type"), body})
		s.reportsMu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}
	mux.HandleFunc("POST /reports", sink)
	mux.HandleFunc("POST /csp-report", sink)

	secured := sec.Handler(cm.Handler(mux))
	legacySecured := legacy.Handler(cm.Handler(mux))
	return tr.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/legacy/") {
			legacySecured.ServeHTTP(w, r)
			return
		}
		secured.ServeHTTP(w, r)
	})), nil
}

// report is a request to one of the app's report endpoints.
type report struct {
	Path, ContentType string
	Body              []byte
}

// reportsTo returns the reports received at path.
func (s *stack) reportsTo(path string) []report {
	s.reportsMu.Lock()
	defer s.reportsMu.Unlock()
	var out []report
	for _, r := range s.reports {
		if r.Path == path {
			out = append(out, r)
		}
	}
	return out
}

// ---- the API: every middleware in the recommended order ------------------
//
// recorder → trace → security → cors → ratelimit → idempotency → compress →
// cache → mux (negotiate around GET /api/items/{id}) → handlers.

// exposed are the response fields the page may read besides the safelisted
// ones. X-Internal, which every API response carries, is deliberately not
// among them.
var exposed = []string{"ETag", "X-Trace-Id", "RateLimit", "RateLimit-Policy", "Retry-After", "Idempotent-Replayed"}

func (s *stack) apiHandler(opt options) (http.Handler, error) {
	tr, err1 := trace.New(trace.Config{AccessLog: slog.New(slog.NewJSONHandler(s.apiLog, nil))})
	sec, err2 := security.New(security.Config{})
	co, err3 := cors.New(cors.Config{
		// Any subdomain of example.test served from the app's port.
		Origins:        []string{"https://*.example.test:" + s.app.port},
		Credentials:    true,
		Methods:        []string{http.MethodPut, http.MethodDelete},
		RequestHeaders: []string{"Content-Type", "Idempotency-Key"},
		ExposedHeaders: exposed,
		MaxAge:         cors.NoPreflightCache, // every preflight reaches the server
	})
	idem, err4 := idempotency.New(idempotency.Config{ScopeCookie: "sid"})
	var cms [4]*compress.Middleware
	var cerrs [4]error
	for i, enc := range [][]string{nil, {"zstd"}, {"br"}, {"gzip"}} {
		cms[i], cerrs[i] = compress.New(compress.Config{Encodings: enc})
	}
	ca, err5 := cache.New(cache.Config{CacheControl: cache.CacheControl{}.NoCache()})
	if err := errors.Join(err1, err2, err3, err4, err5, errors.Join(cerrs[:]...)); err != nil {
		return nil, err
	}
	// Only /limited is counted: 3 requests, then 429 for the minute.
	rl, err := ratelimit.New(ratelimit.Config{
		Policies: []ratelimit.Policy{{Name: "burst", Limit: 3, Period: time.Minute}},
		Exempt:   func(r *http.Request) bool { return r.URL.Path != "/limited" },
	})
	if err != nil {
		return nil, err
	}
	s.closers = append(s.closers, rl.Close)
	limiter := rl.Handler

	// compress sits where the recommended order puts it; /text/{coding}
	// goes through a middleware that offers only that coding.
	neg, err := negotiate.New(negotiate.Config{Types: []string{"application/json"}})
	if err != nil {
		return nil, err
	}
	inner := ca.Handler(s.routes(neg))
	byCoding := map[string]http.Handler{}
	for i, name := range []string{"", "zstd", "br", "gzip"} {
		byCoding[name] = cms[i].Handler(inner)
	}
	compressed := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		coding, _ := strings.CutPrefix(r.URL.Path, "/text/")
		h, ok := byCoding[coding]
		if !ok {
			h = byCoding[""]
		}
		h.ServeHTTP(w, r)
	})
	h := idem.Handler(compressed)
	if opt.limiterOutsideCORS {
		h = limiter(co.Handler(h))
	} else {
		h = co.Handler(limiter(h))
	}
	return tr.Handler(sec.Handler(h)), nil
}

// item is the JSON resource of the API, padded past compress's 1 KiB
// threshold so that its responses are compressed (and their ETag suffixed).
type item struct {
	ID      int    `json:"id"`
	Name    string `json:"name"`
	Padding string `json:"padding"`
}

func itemJSON(id int, name string) item {
	return item{ID: id, Name: name, Padding: strings.Repeat("httpmw ", 300)}
}

// bigText is the body of /text/{coding}: 96 KiB of compressible text.
var bigText = func() string {
	var b strings.Builder
	for i := 0; b.Len() < 96<<10; i++ {
		fmt.Fprintf(&b, "line %05d: the quick brown fox jumps over the lazy dog\n", i)
	}
	return b.String()
}()

func (s *stack) routes(neg *negotiate.Middleware) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "sid", Value: "session-" + strconv.FormatInt(time.Now().UnixNano(), 36),
			Path: "/", Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode})
		w.WriteHeader(http.StatusNoContent)
	})
	mux.Handle("GET /api/items/{id}", neg.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, _ := strconv.Atoi(r.PathValue("id"))
		w.Header().Set("Content-Type", negotiate.Result(r.Context()).MediaType)
		w.Header().Set("X-Internal", "not-exposed")
		_ = json.NewEncoder(w).Encode(itemJSON(id, "item "+strconv.Itoa(id)))
	})))
	mux.HandleFunc("PUT /api/items/{id}", func(w http.ResponseWriter, r *http.Request) {
		if c, err := r.Cookie("sid"); err != nil || !strings.HasPrefix(c.Value, "session-") {
			http.Error(w, "no session cookie", http.StatusUnauthorized)
			return
		}
		s.putCalls.Add(1)
		var in struct {
			Name string `json:"name"`
		}
		if err := json.NewDecoder(io.LimitReader(r.Body, 1<<16)).Decode(&in); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		id, _ := strconv.Atoi(r.PathValue("id"))
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Internal", "not-exposed")
		_ = json.NewEncoder(w).Encode(itemJSON(id, in.Name))
	})
	mux.HandleFunc("GET /text/{coding}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, bigText)
	})
	mux.HandleFunc("GET /events", s.sse.serve)
	mux.HandleFunc("POST /events/ack", s.sse.ack)
	mux.HandleFunc("POST /orders", func(w http.ResponseWriter, r *http.Request) {
		n := s.orderCalls.Add(1)
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<16))
		if r.URL.Query().Has("hold") { // held until the test releases it
			s.orderHeld <- struct{}{}
			<-s.orderRelease
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Location", "/orders/"+strconv.FormatInt(n, 10))
		w.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(w).Encode(map[string]any{"order": n, "request": string(body)})
	})
	mux.HandleFunc("GET /limited", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = io.WriteString(w, "within the limit\n")
	})
	mux.HandleFunc("GET /ws", s.websocket)
	return mux
}

// ---- Server-Sent Events in lockstep ---------------------------------------

// sseEvents is how many events /events sends.
const sseEvents = 5

// sseState runs /events in lockstep with the page: event n+1 is written
// only after the page has acknowledged event n (POST /events/ack?n=N). An
// event held back anywhere (an encoder's buffer, a cache's body buffer)
// never reaches the page, so the stream stalls and the test fails on its
// timeout; no timing is guessed.
type sseState struct {
	acks chan int
	mu   sync.Mutex
	sent []time.Time // when the write of event i+1 began
}

func newSSEState() *sseState { return &sseState{acks: make(chan int, sseEvents)} }

func (st *sseState) serve(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	rc := http.NewResponseController(w)
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	defer cancel()
	for n := 1; n <= sseEvents; n++ {
		st.mu.Lock()
		st.sent = append(st.sent, time.Now()) // before the write: the page cannot have it earlier
		st.mu.Unlock()
		if _, err := fmt.Fprintf(w, "id: %d\ndata: event %d\n\n", n, n); err != nil {
			return
		}
		if err := rc.Flush(); err != nil {
			return
		}
		select {
		case got := <-st.acks:
			if got != n {
				return
			}
		case <-ctx.Done():
			return
		}
	}
}

func (st *sseState) ack(w http.ResponseWriter, r *http.Request) {
	n, err := strconv.Atoi(r.URL.Query().Get("n"))
	if err != nil {
		http.Error(w, "n", http.StatusBadRequest)
		return
	}
	select {
	case st.acks <- n:
	default:
	}
	w.WriteHeader(http.StatusNoContent)
}

func (st *sseState) sentTimes() []time.Time {
	st.mu.Lock()
	defer st.mu.Unlock()
	return append([]time.Time(nil), st.sent...)
}

// ---- WebSocket echo ---------------------------------------------------------

func (s *stack) websocket(w http.ResponseWriter, r *http.Request) {
	up := websocket.Upgrader{CheckOrigin: func(r *http.Request) bool {
		return r.Header.Get("Origin") == s.appOrigin(appHost)
	}}
	// gorilla writes the 101 itself on the hijacked connection, with only
	// the fields passed here: pass what the chain set (trace id, security
	// headers) so that the browser sees them on the handshake response.
	conn, err := up.Upgrade(w, r, w.Header())
	if err != nil {
		s.wsErr.Store(fmt.Sprintf("%s %s: %v", r.Proto, r.Method, err))
		return // Upgrade has answered
	}
	defer conn.Close()
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		kind, msg, err := conn.ReadMessage()
		if err != nil {
			return
		}
		if err := conn.WriteMessage(kind, append([]byte("echo: "), msg...)); err != nil {
			return
		}
	}
}
