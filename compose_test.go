package httpmw_test

import (
	"bufio"
	"compress/gzip"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/jiec/httpmw/cache"
	"github.com/jiec/httpmw/compress"
	"github.com/jiec/httpmw/cors"
	"github.com/jiec/httpmw/security"
	"github.com/jiec/httpmw/trace"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const origin = "https://app.example.com"

type layer struct {
	name string
	mw   func(http.Handler) http.Handler
}

func layers(t *testing.T) []layer {
	t.Helper()
	tr, err := trace.New(trace.Config{})
	must(t, err)
	sec, err := security.New(security.Config{})
	must(t, err)
	co, err := cors.New(cors.Config{Origins: []string{origin}, Methods: []string{http.MethodPut},
		ExposedHeaders: []string{"X-Trace-Id"}})
	must(t, err)
	cm, err := compress.New(compress.Config{})
	must(t, err)
	// A Validator for /json: cache evaluates If-None-Match and If-Match
	// against jsonTag before the handler runs, in every method.
	ca, err := cache.New(cache.Config{Validator: func(r *http.Request) (cache.Validators, bool) {
		return cache.Validators{ETag: jsonTag}, r.URL.Path == "/json"
	}})
	must(t, err)
	return []layer{{"trace", tr.Handler}, {"security", sec.Handler}, {"cors", co.Handler},
		{"compress", cm.Handler}, {"cache", ca.Handler}}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// permutations returns every order of ls.
func permutations(ls []layer) [][]layer {
	if len(ls) <= 1 {
		return [][]layer{append([]layer(nil), ls...)}
	}
	var out [][]layer
	for i := range ls {
		rest := append(append([]layer(nil), ls[:i]...), ls[i+1:]...)
		for _, p := range permutations(rest) {
			out = append(out, append([]layer{ls[i]}, p...))
		}
	}
	return out
}

func chain(order []layer, h http.Handler) http.Handler {
	for i := len(order) - 1; i >= 0; i-- {
		h = order[i].mw(h)
	}
	return h
}

func names(order []layer) string {
	s := make([]string, len(order))
	for i, l := range order {
		s[i] = l.name
	}
	return strings.Join(s, ">")
}

var jsonBody = strings.Repeat(`{"id":1,"name":"an item with a name long enough to compress"},`, 64)

// jsonTag is the ETag the Validator reports for jsonBody (any strong tag
// would do: a Validator's tag is the application's, not cache's hash).
var jsonTag = func() string {
	sum := sha256.Sum256([]byte(jsonBody))
	return `"` + base64.RawURLEncoding.EncodeToString(sum[:16]) + `"`
}()

// app is the handler under every chain: a JSON route, a Server-Sent Events
// route whose second event waits for the test, and a route that hijacks.
func app(release <-chan struct{}) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, jsonBody)
	})
	mux.HandleFunc("/events", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		rc := http.NewResponseController(w)
		if err := rc.SetWriteDeadline(time.Now().Add(time.Minute)); err != nil {
			http.Error(w, "SetWriteDeadline: "+err.Error(), http.StatusInternalServerError)
			return
		}
		io.WriteString(w, "data: one\n\n")
		if err := rc.Flush(); err != nil {
			panic(err)
		}
		<-release
		io.WriteString(w, "data: two\n\n")
	})
	// Handlers that treat Vary and the header map the way real code does.
	mux.HandleFunc("/vary-set", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Vary", "Accept")
		io.WriteString(w, jsonBody)
	})
	mux.HandleFunc("/vary-add", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Add("Vary", "accept-encoding")
		w.Header()["vary"] = []string{"ORIGIN, Accept"}
		io.WriteString(w, jsonBody)
	})
	mux.HandleFunc("/vary-star", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Vary", "*")
		io.WriteString(w, jsonBody)
	})
	mux.HandleFunc("/late", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Trailer", "X-Sum")
		io.WriteString(w, jsonBody)
		w.Header().Set("X-Late", "1")
		w.Header().Set("Vary", "Late")
		w.Header().Set("X-Sum", "abc")
	})
	mux.HandleFunc("/hijack-legacy", func(w http.ResponseWriter, r *http.Request) {
		hj, ok := w.(http.Hijacker) // gorilla/websocket's assertion
		if !ok {
			http.Error(w, "not a Hijacker", http.StatusInternalServerError)
			return
		}
		conn, brw, err := hj.Hijack()
		if err != nil {
			http.Error(w, "Hijack: "+err.Error(), http.StatusInternalServerError)
			return
		}
		defer conn.Close()
		brw.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 8\r\nConnection: close\r\n\r\nhijacked")
		brw.Flush()
	})
	mux.HandleFunc("/hijack", func(w http.ResponseWriter, r *http.Request) {
		conn, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			http.Error(w, "Hijack: "+err.Error(), http.StatusInternalServerError)
			return
		}
		defer conn.Close()
		brw.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 8\r\nConnection: close\r\n\r\nhijacked")
		brw.Flush()
	})
	return mux
}

func get(t *testing.T, c *http.Client, method, url string, hdr map[string]string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	must(t, err)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	res, err := c.Do(req)
	must(t, err)
	return res
}

func body(t *testing.T, res *http.Response) string {
	t.Helper()
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	must(t, err)
	if len(b) > 0 && res.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(strings.NewReader(string(b)))
		must(t, err)
		b, err = io.ReadAll(zr)
		must(t, err)
	}
	return string(b)
}

// outside reports whether layer a wraps layer b in order.
func outside(order []layer, a, b string) bool {
	for _, l := range order {
		switch l.name {
		case a:
			return true
		case b:
			return false
		}
	}
	return false
}

// decorated checks what every response must carry. answeredBy names the layer
// that wrote the response without calling the next handler ("" for the
// handler): only the layers outside it can decorate it.
func decorated(t *testing.T, res *http.Response, order []layer, answeredBy string) {
	t.Helper()
	wrapped := func(name string) bool { return answeredBy == "" || outside(order, name, answeredBy) }
	if wrapped("trace") && res.Header.Get("X-Trace-Id") == "" {
		t.Errorf("status %d: no X-Trace-Id", res.StatusCode)
	}
	if wrapped("security") && (res.Header.Get("Content-Security-Policy") == "" || res.Header.Get("X-Content-Type-Options") != "nosniff") {
		t.Errorf("status %d: security headers missing: %v", res.StatusCode, res.Header)
	}
	if wrapped("cors") && res.Header.Get("Access-Control-Allow-Origin") != origin {
		t.Errorf("status %d: Access-Control-Allow-Origin = %q", res.StatusCode, res.Header.Get("Access-Control-Allow-Origin"))
	}
	seen := map[string]bool{}
	for _, line := range res.Header.Values("Vary") {
		for _, v := range strings.Split(line, ",") {
			v = strings.ToLower(strings.TrimSpace(v))
			if seen[v] {
				t.Errorf("status %d: Vary lists %q twice: %q", res.StatusCode, v, res.Header.Values("Vary"))
			}
			seen[v] = true
		}
	}
	if wrapped("cors") && !seen["origin"] {
		t.Errorf("status %d: Vary %q lacks Origin", res.StatusCode, res.Header.Values("Vary"))
	}
}

// TestEveryOrder stacks the five middlewares in all 120 orders and checks
// that none breaks another: bodies arrive intact, revalidation answers 304,
// preflights are answered, streams flush through, ResponseController reaches
// the connection, and every response carries the trace id and the security
// and CORS headers.
func TestEveryOrder(t *testing.T) {
	for _, order := range permutations(layers(t)) {
		for _, h2 := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/h2=%t", names(order), h2), func(t *testing.T) {
				testOrder(t, order, h2)
			})
		}
	}
}

func testOrder(t *testing.T, order []layer, h2 bool) {
	release := make(chan struct{})
	srv := httptest.NewUnstartedServer(chain(order, app(release)))
	if h2 {
		srv.EnableHTTP2 = true
		srv.StartTLS()
	} else {
		srv.Start()
	}
	defer srv.Close()
	c := srv.Client()
	ae := map[string]string{"Origin": origin, "Accept-Encoding": "gzip"}

	res := get(t, c, http.MethodGet, srv.URL+"/json", ae)
	if got := body(t, res); got != jsonBody {
		t.Fatalf("GET /json body = %.60q…, want the JSON", got)
	}
	if want := map[bool]int{false: 1, true: 2}[h2]; res.ProtoMajor != want {
		t.Fatalf("served over HTTP/%d, want HTTP/%d", res.ProtoMajor, want)
	}
	decorated(t, res, order, "")
	if res.Header.Get("Content-Encoding") != "gzip" {
		t.Errorf("GET /json Content-Encoding = %q, want gzip", res.Header.Get("Content-Encoding"))
	}
	etag := res.Header.Get("ETag")
	if etag == "" {
		t.Fatalf("GET /json has no ETag")
	}

	cond := map[string]string{"Origin": origin, "Accept-Encoding": "gzip", "If-None-Match": etag}
	res = get(t, c, http.MethodGet, srv.URL+"/json", cond)
	if got := body(t, res); res.StatusCode != http.StatusNotModified || got != "" {
		t.Errorf("revalidation: status %d body %d bytes, want 304 without body", res.StatusCode, len(got))
	}
	if got := res.Header.Get("ETag"); got != etag {
		// RFC 9111 §4.3.4: a cache updates its stored 200 only if the 304's
		// validator matches it; "x" does not select a stored "x-gzip".
		t.Errorf("304 ETag %q, want the 200's %q", got, etag)
	}
	if !strings.Contains(strings.ToLower(strings.Join(res.Header.Values("Vary"), ",")), "accept-encoding") {
		t.Errorf("304 Vary %q lacks Accept-Encoding", res.Header.Values("Vary"))
	}
	// cache answers from its Validator before the layers inside it run.
	decorated(t, res, order, "cache")

	// Optimistic concurrency with the tag of the compressed GET: compress
	// outside cache removes its coding suffix, and cache inside compress
	// matches the suffixed tag itself, so cache's strong If-Match comparison
	// (RFC 9110 §13.1.1) holds either way. A weakened tag always got 412.
	put := map[string]string{"Origin": origin, "Accept-Encoding": "gzip", "If-Match": etag}
	res = get(t, c, http.MethodPut, srv.URL+"/json", put)
	if got := body(t, res); res.StatusCode != http.StatusOK || got != jsonBody {
		t.Errorf("PUT If-Match %s: status %d, want 200 from the handler", etag, res.StatusCode)
	}
	decorated(t, res, order, "")
	put["If-Match"] = `"stale-gzip"`
	res = get(t, c, http.MethodPut, srv.URL+"/json", put)
	body(t, res)
	if res.StatusCode != http.StatusPreconditionFailed {
		t.Errorf("PUT If-Match with a stale tag: status %d, want 412", res.StatusCode)
	}
	decorated(t, res, order, "cache") // its Vary too

	res = get(t, c, http.MethodHead, srv.URL+"/json", ae)
	if got := body(t, res); res.StatusCode != http.StatusOK || got != "" {
		t.Errorf("HEAD: status %d body %q", res.StatusCode, got)
	}

	pre := map[string]string{"Origin": origin, "Access-Control-Request-Method": http.MethodPut}
	res = get(t, c, http.MethodOptions, srv.URL+"/json", pre)
	body(t, res)
	if res.StatusCode != http.StatusNoContent {
		t.Errorf("preflight status %d, want 204", res.StatusCode)
	}
	decorated(t, res, order, "cors")

	res = get(t, c, http.MethodGet, srv.URL+"/events", ae)
	var r io.Reader = res.Body
	if res.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(res.Body)
		must(t, err)
		r = zr
	}
	br := bufio.NewReader(r)
	line, err := br.ReadString('\n') // arrives only if every layer flushed
	if err != nil || line != "data: one\n" {
		t.Fatalf("first event %q, %v", line, err)
	}
	close(release)
	rest, _ := io.ReadAll(br)
	res.Body.Close()
	if string(rest) != "\ndata: two\n\n" {
		t.Errorf("rest of stream %q", rest)
	}
	decorated(t, res, order, "")

	for _, path := range []string{"/hijack", "/hijack-legacy"} {
		res = get(t, c, http.MethodGet, srv.URL+path, nil)
		got := body(t, res)
		switch {
		case h2 && !strings.Contains(got, "not supported"):
			t.Errorf("HTTP/2 %s: status %d body %q, want ErrNotSupported", path, res.StatusCode, got)
		case !h2 && got != "hijacked":
			t.Errorf("%s: status %d body %q", path, res.StatusCode, got)
		}
	}

	// Whatever the handler does to Vary, every layer's dimension is there
	// once when the status is committed, and "*" stands alone.
	for _, tc := range []struct{ path, want string }{
		{"/vary-set", "accept, accept-encoding, origin"},
		{"/vary-add", "accept, accept-encoding, origin"},
		{"/vary-star", "*"},
		{"/late", "accept-encoding, origin"},
	} {
		res = get(t, c, http.MethodGet, srv.URL+tc.path, ae)
		if got := body(t, res); got != jsonBody {
			t.Errorf("%s: body %.40q", tc.path, got)
		}
		if got := varyTokens(res.Header); got != tc.want {
			t.Errorf("%s: Vary %q, want tokens %q", tc.path, res.Header.Values("Vary"), tc.want)
		}
		// The layers' names and the handler's token lists make one line.
		if n := len(res.Header.Values("Vary")); n != 1 {
			t.Errorf("%s: Vary %q: %d lines, want 1", tc.path, res.Header.Values("Vary"), n)
		}
		if tc.want != "*" {
			decorated(t, res, order, "")
		}
		if tc.path == "/late" && (res.Header.Get("X-Late") != "" || res.Header.Get("X-Sum") != "" || res.Trailer.Get("X-Sum") != "abc") {
			t.Errorf("/late: X-Late %q X-Sum %q trailer %v; want neither header, X-Sum as a trailer", res.Header.Get("X-Late"), res.Header.Get("X-Sum"), res.Trailer)
		}
	}
}

// varyTokens returns the Vary tokens of h, lower case, sorted, joined.
func varyTokens(h http.Header) string {
	var out []string
	for _, line := range h.Values("Vary") {
		for _, e := range strings.Split(line, ",") {
			if e = strings.ToLower(strings.TrimSpace(e)); e != "" {
				out = append(out, e)
			}
		}
	}
	slices.Sort(out)
	return strings.Join(out, ", ")
}

func Example() {
	tr, _ := trace.New(trace.Config{NewID: func() string { return "req-1" }})
	sec, _ := security.New(security.Config{})
	co, _ := cors.New(cors.Config{Origins: []string{"https://app.example.com"}})
	cm, _ := compress.New(compress.Config{})
	ca, _ := cache.New(cache.Config{})

	mux := http.NewServeMux()
	mux.HandleFunc("GET /hello", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "hello", trace.ID(r.Context()))
	})
	handler := tr.Handler(sec.Handler(co.Handler(cm.Handler(ca.Handler(mux)))))

	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/hello", nil)
	req.Header.Set("Origin", "https://app.example.com")
	handler.ServeHTTP(rec, req)
	fmt.Println(rec.Code, rec.Header().Get("Access-Control-Allow-Origin"), rec.Header().Get("ETag") != "")
	fmt.Print(rec.Body.String())
	// Output:
	// 200 https://app.example.com true
	// hello req-1
}
