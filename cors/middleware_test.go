package cors_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jiec/httpmw/cors"
	"github.com/jiec/httpmw/internal/traceid"
)

// corsHeaders are the response headers every case checks: a case lists the
// ones it expects, all others must be absent.
var corsHeaders = []string{
	"Access-Control-Allow-Origin", "Access-Control-Allow-Credentials",
	"Access-Control-Allow-Methods", "Access-Control-Allow-Headers",
	"Access-Control-Max-Age", "Access-Control-Expose-Headers",
	"Access-Control-Allow-Private-Network", "Vary",
}

// serve runs one request (hdr: name, value, name, value…; repeated names
// become several field lines) through m around a handler answering 200 "ok".
func serve(m *cors.Middleware, method string, hdr ...string) (*httptest.ResponseRecorder, bool) {
	return serveWith(m, nil, method, hdr...)
}

func serveWith(m *cors.Middleware, outer http.Header, method string, hdr ...string) (*httptest.ResponseRecorder, bool) {
	r := httptest.NewRequest(method, "https://api.example.com/items", nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Add(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	for k, v := range outer {
		rec.Header()[k] = v
	}
	called := false
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		called = true
		_, _ = w.Write([]byte("ok"))
	}))
	h.ServeHTTP(rec, r)
	return rec, called
}

type requestCase struct {
	desc       string
	cfg        cors.Config
	method     string
	hdr        []string
	outer      http.Header // set by an outer middleware before cors runs
	wantStatus int
	wantNext   bool
	want       map[string]string // CORS headers, values joined with ", "
}

func runCases(t *testing.T, tests []requestCase) {
	t.Helper()
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			m, err := cors.New(tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			rec, called := serveWith(m, tc.outer, tc.method, tc.hdr...)
			if rec.Code != tc.wantStatus {
				t.Errorf("status = %d, want %d", rec.Code, tc.wantStatus)
			}
			if called != tc.wantNext {
				t.Errorf("next handler called = %t, want %t", called, tc.wantNext)
			}
			for _, k := range corsHeaders {
				if got := strings.Join(rec.Header().Values(k), ", "); got != tc.want[k] {
					t.Errorf("%s = %q, want %q", k, got, tc.want[k])
				}
			}
		})
	}
}

var (
	spa = cors.Config{
		Origins:        []string{"https://app.example.com"},
		Credentials:    true,
		Methods:        []string{http.MethodPut, http.MethodDelete, "PATCH"},
		RequestHeaders: []string{"Content-Type", "Authorization", "X-Pingother"},
		ExposedHeaders: []string{"X-Request-Id", "ETag", "Content-Type"},
		MaxAge:         2 * time.Hour,
	}
	public = cors.Config{
		Origins:        []string{"*"},
		RequestHeaders: []string{"*"},
		ExposedHeaders: []string{"X-Total-Count"},
	}
	subdomains = cors.Config{Origins: []string{"https://*.example.com", "https://*.example.org:8443"}}
)

const preflightVary = "Origin, Access-Control-Request-Method, Access-Control-Request-Headers"

func TestActualRequests(t *testing.T) {
	const app = "https://app.example.com"
	allowedSPA := map[string]string{
		"Access-Control-Allow-Origin":      app,
		"Access-Control-Allow-Credentials": "true",
		"Access-Control-Expose-Headers":    "etag,x-request-id",
		"Vary":                             "Origin",
	}
	runCases(t, []requestCase{
		{desc: "allowed origin gets ACAO, ACAC, ACEH and Vary", cfg: spa, method: "GET", hdr: []string{"Origin", app},
			wantStatus: 200, wantNext: true, want: allowedSPA},
		// rs/cors and go-chi/cors check actual requests against
		// AllowedMethods and drop ACAO for e.g. a GET when only PUT is
		// listed. Fetch: the methods list is a preflight matter
		// (§"CORS-preflight fetch"); safelisted methods need none.
		{desc: "actual request gets ACAO whatever its method (rs/cors bug)", cfg: cors.Config{Origins: []string{app}, Methods: []string{"PUT"}},
			method: "GET", hdr: []string{"Origin", app}, wantStatus: 200, wantNext: true,
			want: map[string]string{"Access-Control-Allow-Origin": app, "Vary": "Origin"}},
		{desc: "actual request with an unlisted method gets ACAO", cfg: spa, method: "PROPFIND", hdr: []string{"Origin", app},
			wantStatus: 200, wantNext: true, want: allowedSPA},
		// Fetch §3.2.2: OPTIONS with Origin but without ACRM is not a
		// preflight; gorilla/handlers answers it with 400.
		{desc: "OPTIONS without ACRM is an actual request", cfg: spa, method: "OPTIONS", hdr: []string{"Origin", app},
			wantStatus: 200, wantNext: true, want: allowedSPA},
		{desc: "disallowed origin gets only Vary and is not blocked", cfg: spa, method: "POST", hdr: []string{"Origin", "https://evil.com"},
			wantStatus: 200, wantNext: true, want: map[string]string{"Vary": "Origin"}},
		{desc: "request without Origin gets Vary (Fetch, whatwg/fetch#564)", cfg: spa, method: "GET",
			wantStatus: 200, wantNext: true, want: map[string]string{"Vary": "Origin"}},
		// rs/cors and go-chi lower-case the Origin; browsers send it
		// lowercase, so anything else is not from a browser.
		{desc: "origin compared byte-exactly", cfg: spa, method: "GET", hdr: []string{"Origin", "https://APP.example.com"},
			wantStatus: 200, wantNext: true, want: map[string]string{"Vary": "Origin"}},
		{desc: "origin with trailing slash is not the origin", cfg: spa, method: "GET", hdr: []string{"Origin", app + "/"},
			wantStatus: 200, wantNext: true, want: map[string]string{"Vary": "Origin"}},
		{desc: "two Origin lines are not allowed", cfg: spa, method: "GET", hdr: []string{"Origin", app, "Origin", app},
			wantStatus: 200, wantNext: true, want: map[string]string{"Vary": "Origin"}},
		{desc: "very long Origin is ignored", cfg: spa, method: "GET", hdr: []string{"Origin", app + strings.Repeat("a", 600)},
			wantStatus: 200, wantNext: true, want: map[string]string{"Vary": "Origin"}},
		{desc: "Vary merged with an outer middleware's Vary", cfg: spa, method: "GET", hdr: []string{"Origin", app},
			outer: http.Header{"Vary": {"Accept-Encoding"}}, wantStatus: 200, wantNext: true,
			want: map[string]string{
				"Access-Control-Allow-Origin": app, "Access-Control-Allow-Credentials": "true",
				"Access-Control-Expose-Headers": "etag,x-request-id", "Vary": "Accept-Encoding, Origin",
			}},
		{desc: "Vary Origin not duplicated", cfg: spa, method: "GET", hdr: []string{"Origin", "https://evil.com"},
			outer: http.Header{"Vary": {"accept, origin"}}, wantStatus: 200, wantNext: true,
			want: map[string]string{"Vary": "accept, origin"}},
		{desc: "outer ACAO replaced, never doubled (rs/cors#172)", cfg: spa, method: "GET", hdr: []string{"Origin", app},
			outer: http.Header{"Access-Control-Allow-Origin": {"*"}}, wantStatus: 200, wantNext: true, want: allowedSPA},
		{desc: "star gives ACAO * without Vary", cfg: public, method: "DELETE", hdr: []string{"Origin", "https://any.example"},
			wantStatus: 200, wantNext: true,
			want: map[string]string{"Access-Control-Allow-Origin": "*", "Access-Control-Expose-Headers": "x-total-count"}},
		{desc: "star answers requests without Origin too", cfg: public, method: "GET",
			wantStatus: 200, wantNext: true,
			want: map[string]string{"Access-Control-Allow-Origin": "*", "Access-Control-Expose-Headers": "x-total-count"}},
		{desc: "null origin when dangerously allowed", cfg: cors.Config{Origins: []string{"null"}, DangerouslyAllowNullOrigin: true},
			method: "GET", hdr: []string{"Origin", "null"}, wantStatus: 200, wantNext: true,
			want: map[string]string{"Access-Control-Allow-Origin": "null", "Vary": "Origin"}},
		{desc: "null origin not allowed by default config", cfg: spa,
			method: "GET", hdr: []string{"Origin", "null"}, wantStatus: 200, wantNext: true,
			want: map[string]string{"Vary": "Origin"}},
	})
}

func TestSubdomainPatterns(t *testing.T) {
	m, err := cors.New(subdomains)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		origin string
		want   bool
	}{
		{"https://api.example.com", true},
		{"https://a.b.example.com", true},
		{"https://x-1.example.com", true},
		{"https://example.com", false},              // the apex is not a subdomain
		{"https://evilexample.com", false},          // rs/cors and go-chi: https://*example.com matches this
		{"https://api.example.com.evil.com", false}, // suffix must end the origin
		{"https://evil.com/.example.com", false},    // path smuggling
		{"https://evil.com?.example.com", false},    // query smuggling
		{"https://evil.com#.example.com", false},    // fragment smuggling
		{"https://user@x.example.com", false},       // userinfo
		{"https://.example.com", false},             // empty label
		{"https://a..example.com", false},           // empty label
		{"https://API.example.com", false},          // browsers send lowercase
		{"http://api.example.com", false},           // scheme differs
		{"https://api.example.com:8443", false},     // port differs
		{"https://api.example.org:8443", true},      // port pattern
		{"https://api.example.org", false},          // port required
		{"https://api.example.org:84430", false},    // port is not a prefix
		{"https://a.example.com:443", false},        // browsers omit the default port
		{"https://" + strings.Repeat("a.", 300) + "example.com", false},
	}
	for _, tc := range tests {
		if got := cors.AllowOrigin(m, tc.origin); got != tc.want {
			t.Errorf("origin %q allowed = %t, want %t", tc.origin, got, tc.want)
		}
	}
}

func TestPreflightRequests(t *testing.T) {
	const app = "https://app.example.com"
	pf := func(hdr ...string) []string {
		return append([]string{"Origin", app}, hdr...)
	}
	forbidden := map[string]string{"Vary": preflightVary}
	// spaPreflightOK is the answer to an allowed spa preflight for PUT.
	spaPreflightOK := func(acah string) map[string]string {
		return map[string]string{
			"Access-Control-Allow-Origin": app, "Access-Control-Allow-Credentials": "true", "Access-Control-Allow-Methods": "PUT",
			"Access-Control-Allow-Headers": acah, "Access-Control-Max-Age": "7200", "Vary": preflightVary,
		}
	}
	runCases(t, []requestCase{
		{desc: "allowed preflight answered with 204", cfg: spa, method: "OPTIONS",
			hdr: pf("Access-Control-Request-Method", "PUT"), wantStatus: 204,
			want: map[string]string{
				"Access-Control-Allow-Origin": app, "Access-Control-Allow-Credentials": "true",
				"Access-Control-Allow-Methods": "PUT", "Access-Control-Max-Age": "7200", "Vary": preflightVary,
			}},
		{desc: "safelisted method needs no ACAM", cfg: spa, method: "OPTIONS",
			hdr: pf("Access-Control-Request-Method", "GET", "Access-Control-Request-Headers", "content-type"), wantStatus: 204,
			want: map[string]string{
				"Access-Control-Allow-Origin": app, "Access-Control-Allow-Credentials": "true",
				"Access-Control-Allow-Headers": "content-type", "Access-Control-Max-Age": "7200", "Vary": preflightVary,
			}},
		{desc: "method not allowed fails with 403 and no CORS header", cfg: spa, method: "OPTIONS",
			hdr: pf("Access-Control-Request-Method", "POSTX"), wantStatus: 403, want: forbidden},
		// Fetch normalizes only DELETE, GET, HEAD, OPTIONS, POST, PUT;
		// a script's "patch" is sent as is and is not "PATCH".
		{desc: "methods other than the six are case-sensitive", cfg: spa, method: "OPTIONS",
			hdr: pf("Access-Control-Request-Method", "patch"), wantStatus: 403, want: forbidden},
		{desc: "config methods of the six are normalized", cfg: cors.Config{Origins: []string{app}, Methods: []string{"delete"}}, method: "OPTIONS",
			hdr: pf("Access-Control-Request-Method", "DELETE"), wantStatus: 204,
			want: map[string]string{"Access-Control-Allow-Origin": app, "Access-Control-Allow-Methods": "DELETE", "Vary": preflightVary}},
		{desc: "two ACRM lines fail", cfg: spa, method: "OPTIONS",
			hdr: pf("Access-Control-Request-Method", "PUT", "Access-Control-Request-Method", "PUT"), wantStatus: 403, want: forbidden},
		{desc: "disallowed origin fails", cfg: spa, method: "OPTIONS",
			hdr: []string{"Origin", "https://evil.com", "Access-Control-Request-Method", "PUT"}, wantStatus: 403, want: forbidden},
		{desc: "browser-style ACRH echoed", cfg: spa, method: "OPTIONS",
			hdr: pf("Access-Control-Request-Method", "PUT", "Access-Control-Request-Headers", "authorization,content-type"), wantStatus: 204,
			want: spaPreflightOK("authorization,content-type")},
		// rs/cors 1.11.0 rejected these (rs/cors#176, #183): curl and the
		// MDN examples send mixed case, unsorted names with spaces.
		{desc: "ACRH in any case, unsorted, with OWS (rs/cors#176)", cfg: spa, method: "OPTIONS",
			hdr: pf("Access-Control-Request-Method", "PUT", "Access-Control-Request-Headers", "X-PINGOTHER, Content-Type"), wantStatus: 204,
			want: spaPreflightOK("X-PINGOTHER, Content-Type")},
		// Gateways split the list over several lines (rs/cors#184,
		// jub0bs/cors#7); RFC 9110 §5.3 says they combine.
		{desc: "ACRH over two field lines (rs/cors#184)", cfg: spa, method: "OPTIONS",
			hdr: pf("Access-Control-Request-Method", "PUT", "Access-Control-Request-Headers", "authorization", "Access-Control-Request-Headers", "content-type"), wantStatus: 204,
			want: spaPreflightOK("authorization, content-type")},
		{desc: "ACRH with a few empty elements (RFC 9110 §5.6.1)", cfg: spa, method: "OPTIONS",
			hdr: pf("Access-Control-Request-Method", "PUT", "Access-Control-Request-Headers", ",authorization,, content-type ,"), wantStatus: 204,
			want: spaPreflightOK(",authorization,, content-type ,")},
		{desc: "ACRH with an unlisted name fails", cfg: spa, method: "OPTIONS",
			hdr: pf("Access-Control-Request-Method", "PUT", "Access-Control-Request-Headers", "authorization,x-other"), wantStatus: 403, want: forbidden},
		// rs/cors#170 (GO-2024-2883) and go-chi/cors#36: a list of
		// commas cost seconds and megabytes.
		{desc: "ACRH of 1024 commas fails fast", cfg: spa, method: "OPTIONS",
			hdr: pf("Access-Control-Request-Method", "PUT", "Access-Control-Request-Headers", strings.Repeat(",", 1024)), wantStatus: 403, want: forbidden},
		{desc: "ACRH with too many names fails", cfg: spa, method: "OPTIONS",
			hdr: pf("Access-Control-Request-Method", "PUT", "Access-Control-Request-Headers", strings.Repeat("authorization,", 200)), wantStatus: 403, want: forbidden},
		{desc: "ACRH with a quoted string fails", cfg: spa, method: "OPTIONS",
			hdr: pf("Access-Control-Request-Method", "PUT", "Access-Control-Request-Headers", `"authorization"`), wantStatus: 403, want: forbidden},
		{desc: "star headers anonymous", cfg: cors.Config{Origins: []string{app}, RequestHeaders: []string{"*"}}, method: "OPTIONS",
			hdr: pf("Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "x-a,x-b"), wantStatus: 204,
			want: map[string]string{"Access-Control-Allow-Origin": app, "Access-Control-Allow-Headers": "*", "Vary": preflightVary}},
		// Fetch: Authorization is a "CORS non-wildcard request-header
		// name"; "*" never covers it (whatwg/fetch#251).
		{desc: "star headers with Authorization listed", cfg: cors.Config{Origins: []string{app}, RequestHeaders: []string{"*", "Authorization"}}, method: "OPTIONS",
			hdr: pf("Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "authorization"), wantStatus: 204,
			want: map[string]string{"Access-Control-Allow-Origin": app, "Access-Control-Allow-Headers": "*,authorization", "Vary": preflightVary}},
		// Under credentials "*" is a literal name (Fetch §"CORS protocol
		// and credentials"): echo the request instead.
		{desc: "star headers and methods with credentials echo the request", cfg: cors.Config{Origins: []string{app}, Credentials: true, Methods: []string{"*"}, RequestHeaders: []string{"*"}}, method: "OPTIONS",
			hdr: pf("Access-Control-Request-Method", "PURGE", "Access-Control-Request-Headers", "x-a,authorization"), wantStatus: 204,
			want: map[string]string{
				"Access-Control-Allow-Origin": app, "Access-Control-Allow-Credentials": "true",
				"Access-Control-Allow-Methods": "PURGE", "Access-Control-Allow-Headers": "x-a,authorization", "Vary": preflightVary,
			}},
		{desc: "star methods anonymous", cfg: cors.Config{Origins: []string{app}, Methods: []string{"*"}}, method: "OPTIONS",
			hdr: pf("Access-Control-Request-Method", "PURGE"), wantStatus: 204,
			want: map[string]string{"Access-Control-Allow-Origin": app, "Access-Control-Allow-Methods": "*", "Vary": preflightVary}},
		{desc: "star origin preflight has no Vary Origin", cfg: public, method: "OPTIONS",
			hdr: []string{"Origin", "https://x.test", "Access-Control-Request-Method", "GET", "Access-Control-Request-Headers", "x-a"}, wantStatus: 204,
			want: map[string]string{
				"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Headers": "*",
				"Vary": "Access-Control-Request-Method, Access-Control-Request-Headers",
			}},
		{desc: "no preflight cache sends max-age 0", cfg: cors.Config{Origins: []string{app}, MaxAge: cors.NoPreflightCache}, method: "OPTIONS",
			hdr: pf("Access-Control-Request-Method", "GET"), wantStatus: 204,
			want: map[string]string{"Access-Control-Allow-Origin": app, "Access-Control-Max-Age": "0", "Vary": preflightVary}},
		{desc: "custom preflight status", cfg: cors.Config{Origins: []string{app}, PreflightStatus: 200}, method: "OPTIONS",
			hdr: pf("Access-Control-Request-Method", "GET"), wantStatus: 200,
			want: map[string]string{"Access-Control-Allow-Origin": app, "Vary": preflightVary}},
		{desc: "private network access allowed", cfg: cors.Config{Origins: []string{app}, PrivateNetwork: true}, method: "OPTIONS",
			hdr: pf("Access-Control-Request-Method", "GET", "Access-Control-Request-Private-Network", "true"), wantStatus: 204,
			want: map[string]string{
				"Access-Control-Allow-Origin": app, "Access-Control-Allow-Private-Network": "true",
				"Vary": preflightVary + ", Access-Control-Request-Private-Network",
			}},
		{desc: "private network access not enabled omits only the PNA header", cfg: cors.Config{Origins: []string{app}}, method: "OPTIONS",
			hdr: pf("Access-Control-Request-Method", "GET", "Access-Control-Request-Private-Network", "true"), wantStatus: 204,
			want: map[string]string{"Access-Control-Allow-Origin": app, "Vary": preflightVary}},
		{desc: "preflight Vary merged with an outer Vary", cfg: cors.Config{Origins: []string{app}}, method: "OPTIONS",
			outer: http.Header{"Vary": {"Accept-Encoding"}},
			hdr:   pf("Access-Control-Request-Method", "GET"), wantStatus: 204,
			want: map[string]string{"Access-Control-Allow-Origin": app, "Vary": "Accept-Encoding, " + preflightVary}},
		{desc: "passthrough lets the handler answer", cfg: cors.Config{Origins: []string{app}, Methods: []string{"PUT"}, PreflightPassthrough: true}, method: "OPTIONS",
			hdr: pf("Access-Control-Request-Method", "PUT"), wantStatus: 200, wantNext: true,
			want: map[string]string{"Access-Control-Allow-Origin": app, "Access-Control-Allow-Methods": "PUT", "Vary": preflightVary}},
		{desc: "passthrough of a failed preflight has no CORS header", cfg: cors.Config{Origins: []string{app}, PreflightPassthrough: true}, method: "OPTIONS",
			hdr: pf("Access-Control-Request-Method", "PUT"), wantStatus: 200, wantNext: true,
			want: map[string]string{"Vary": preflightVary}},
	})
}

func TestPreflightFailureIsProblemJSON(t *testing.T) {
	m, err := cors.New(spa)
	if err != nil {
		t.Fatal(err)
	}
	rec, _ := serve(m, "OPTIONS", "Origin", "https://evil.com", "Access-Control-Request-Method", "PUT")
	if ct := rec.Header().Get("Content-Type"); ct != "application/problem+json" {
		t.Errorf("Content-Type = %q, want application/problem+json", ct)
	}
	var doc map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
		t.Fatalf("body %q: %v", rec.Body, err)
	}
	if doc["status"] != 403.0 || !strings.Contains(doc["detail"].(string), "Origin") {
		t.Errorf("problem document = %v", doc)
	}
	if got, want := rec.Header().Get("Content-Length"), len(rec.Body.Bytes()); got != strconv.Itoa(want) {
		t.Errorf("Content-Length = %s, body is %d bytes", got, want)
	}
}

type traceCarrier string

func (c traceCarrier) TraceID() string { return string(c) }

func TestPreflightFailureCarriesTraceID(t *testing.T) {
	m, err := cors.New(spa)
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest("OPTIONS", "/", nil)
	r.Header.Set("Origin", "https://app.example.com")
	r.Header.Set("Access-Control-Request-Method", "TRACE")
	r = r.WithContext(traceid.With(r.Context(), traceCarrier("abc123")))
	rec := httptest.NewRecorder()
	m.Handler(http.NotFoundHandler()).ServeHTTP(rec, r)
	var doc map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
		t.Fatalf("body %q: %v", rec.Body, err)
	}
	if rec.Code != 403 || doc["trace_id"] != "abc123" {
		t.Errorf("status %d, document %v: want 403 with trace_id abc123", rec.Code, doc)
	}
}

func TestErrorHandlerReceivesTheReason(t *testing.T) {
	const app = "https://app.example.com"
	tests := []struct {
		desc string
		hdr  []string
		want error
	}{
		{"origin", []string{"Origin", "https://evil.com", "Access-Control-Request-Method", "PUT"}, cors.ErrOriginNotAllowed},
		{"method", []string{"Origin", app, "Access-Control-Request-Method", "PURGE"}, cors.ErrMethodNotAllowed},
		{"header", []string{"Origin", app, "Access-Control-Request-Method", "PUT", "Access-Control-Request-Headers", "x-nope"}, cors.ErrHeaderNotAllowed},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			var got error
			cfg := spa
			cfg.ErrorHandler = func(w http.ResponseWriter, _ *http.Request, err error) {
				got = err
				w.WriteHeader(http.StatusTeapot)
			}
			m, err := cors.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			rec, called := serve(m, "OPTIONS", tc.hdr...)
			if !errors.Is(got, tc.want) || rec.Code != http.StatusTeapot || called {
				t.Errorf("ErrorHandler got %v (status %d, next called %t), want %v", got, rec.Code, called, tc.want)
			}
		})
	}
}

// TestHeadersSetBeforeNext: an inner middleware that answers by itself (429,
// 304) still sends the CORS headers, and the handler sees them.
func TestHeadersSetBeforeNext(t *testing.T) {
	m, err := cors.New(spa)
	if err != nil {
		t.Fatal(err)
	}
	var seen string
	inner := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		seen = w.Header().Get("Access-Control-Allow-Origin")
		http.Error(w, "slow down", http.StatusTooManyRequests)
	})
	r := httptest.NewRequest("POST", "/", nil)
	r.Header.Set("Origin", "https://app.example.com")
	rec := httptest.NewRecorder()
	m.Handler(inner).ServeHTTP(rec, r)
	if seen != "https://app.example.com" || rec.Header().Get("Access-Control-Allow-Origin") != seen || rec.Code != 429 {
		t.Errorf("handler saw ACAO %q; response %d with ACAO %q", seen, rec.Code, rec.Header().Get("Access-Control-Allow-Origin"))
	}
}

// TestHandlerCannotCorruptOtherResponses: handlers that edit header values in
// place (sorting, index writes) must not race with other requests
// (rs/cors#198, jub0bs/cors#14). Run with -race.
func TestHandlerCannotCorruptOtherResponses(t *testing.T) {
	for _, cfg := range []cors.Config{spa, public, {Origins: []string{"https://app.example.com"}, PreflightPassthrough: true, Methods: []string{"PUT"}}} {
		m, err := cors.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			for _, v := range w.Header() {
				for i := range v {
					v[i] = "clobbered"
				}
			}
		}))
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Go(func() {
				for range 50 {
					r := httptest.NewRequest("GET", "/", nil)
					if i%2 == 0 {
						r.Method = "OPTIONS"
						r.Header.Set("Access-Control-Request-Method", "PUT")
					}
					r.Header.Set("Origin", "https://app.example.com")
					h.ServeHTTP(httptest.NewRecorder(), r)
				}
			})
		}
		wg.Wait()
		rec, _ := serve(m, "GET", "Origin", "https://app.example.com")
		if got := rec.Header().Get("Access-Control-Allow-Origin"); got == "clobbered" || got == "" {
			t.Errorf("ACAO after clobbering handlers = %q", got)
		}
	}
}

func TestZeroMiddlewarePassesThrough(t *testing.T) {
	for _, m := range []*cors.Middleware{nil, new(cors.Middleware)} {
		rec, called := serve(m, "OPTIONS", "Origin", "https://app.example.com", "Access-Control-Request-Method", "PUT")
		if !called || rec.Code != 200 || len(rec.Header().Values("Access-Control-Allow-Origin")) != 0 {
			t.Errorf("zero middleware: status %d, next called %t, ACAO %q", rec.Code, called, rec.Header().Get("Access-Control-Allow-Origin"))
		}
	}
}

// TestAllocations pins the per-request cost: preflights (even hostile ones)
// allocate nothing, actual requests one array for all their header values.
func TestAllocations(t *testing.T) {
	m, err := cors.New(spa)
	if err != nil {
		t.Fatal(err)
	}
	h := m.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	const app = "https://app.example.com"
	tests := []struct {
		desc   string
		method string
		hdr    []string
		want   float64
	}{
		{"preflight", "OPTIONS", []string{"Origin", app, "Access-Control-Request-Method", "PUT"}, 0},
		{"preflight with mixed-case ACRH", "OPTIONS", []string{"Origin", app, "Access-Control-Request-Method", "PUT",
			"Access-Control-Request-Headers", "X-PINGOTHER, Content-Type, authorization"}, 0},
		{"preflight with 1024 commas", "OPTIONS", []string{"Origin", app, "Access-Control-Request-Method", "PUT",
			"Access-Control-Request-Headers", strings.Repeat(",", 1024)}, 0},
		{"preflight with 1024 names", "OPTIONS", []string{"Origin", app, "Access-Control-Request-Method", "PUT",
			"Access-Control-Request-Headers", strings.Repeat("content-type,", 1024)}, 0},
		{"preflight from another origin", "OPTIONS", []string{"Origin", "https://evil.com", "Access-Control-Request-Method", "PUT"}, 0},
		{"actual", "GET", []string{"Origin", app}, 1},
		{"actual from another origin", "GET", []string{"Origin", "https://evil.com"}, 0},
		{"actual without Origin", "GET", nil, 0},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			r := httptest.NewRequest(tc.method, "/", nil)
			for i := 0; i < len(tc.hdr); i += 2 {
				r.Header.Set(tc.hdr[i], tc.hdr[i+1])
			}
			w := &benchWriter{h: http.Header{}}
			got := testing.AllocsPerRun(100, func() {
				clear(w.h)
				h.ServeHTTP(w, r)
			})
			if got != tc.want {
				t.Errorf("allocations per request = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestErrorHandlerCannotCorruptOtherResponses: the ErrorHandler is user code
// like a handler; the Vary value it finds must be its own, not the slice
// every preflight shares (rs/cors#198). Run with -race.
func TestErrorHandlerCannotCorruptOtherResponses(t *testing.T) {
	cfg := spa
	cfg.ErrorHandler = func(w http.ResponseWriter, _ *http.Request, _ error) {
		for _, v := range w.Header() {
			for i := range v {
				v[i] = "clobbered"
			}
		}
		w.WriteHeader(http.StatusForbidden)
	}
	m, err := cors.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			for range 50 {
				origin := "https://evil.com" // fails: the ErrorHandler runs
				if i%2 == 0 {
					origin = "https://app.example.com"
				}
				serve(m, "OPTIONS", "Origin", origin, "Access-Control-Request-Method", "PUT")
			}
		})
	}
	wg.Wait()
	rec, _ := serve(m, "OPTIONS", "Origin", "https://app.example.com", "Access-Control-Request-Method", "PUT")
	if got := rec.Header().Get("Vary"); got != preflightVary {
		t.Errorf("Vary of a preflight after clobbering ErrorHandlers = %q, want %q", got, preflightVary)
	}
}

// TestStarHeadersWithCredentialsEchoOnlyNames: under credentials "*" is
// literal, so the preflight echoes Access-Control-Request-Headers; what it
// echoes must be header names, within the same bounds as a listed set (no raw
// request bytes reflected, no unbounded list).
func TestStarHeadersWithCredentialsEchoOnlyNames(t *testing.T) {
	const app = "https://app.example.com"
	cfg := cors.Config{Origins: []string{app}, Credentials: true, Methods: []string{"PUT"}, RequestHeaders: []string{"*"}}
	ok := func(acah string) map[string]string {
		return map[string]string{
			"Access-Control-Allow-Origin": app, "Access-Control-Allow-Credentials": "true",
			"Access-Control-Allow-Methods": "PUT", "Access-Control-Allow-Headers": acah, "Vary": preflightVary,
		}
	}
	forbidden := map[string]string{"Vary": preflightVary}
	pf := func(acrh string) []string {
		return []string{"Origin", app, "Access-Control-Request-Method", "PUT", "Access-Control-Request-Headers", acrh}
	}
	runCases(t, []requestCase{
		{desc: "browser list echoed", cfg: cfg, method: "OPTIONS", hdr: pf("authorization,x-a"), wantStatus: 204, want: ok("authorization,x-a")},
		{desc: "tolerant list echoed", cfg: cfg, method: "OPTIONS", hdr: pf("X-A, , x-b"), wantStatus: 204, want: ok("X-A, , x-b")},
		{desc: "non-token bytes are not reflected", cfg: cfg, method: "OPTIONS", hdr: pf("x-a,<script>"), wantStatus: 403, want: forbidden},
		{desc: "non-ASCII is not reflected", cfg: cfg, method: "OPTIONS", hdr: pf("caf\xc3\xa9"), wantStatus: 403, want: forbidden},
		{desc: "quoted string is not a name", cfg: cfg, method: "OPTIONS", hdr: pf(`"x-a"`), wantStatus: 403, want: forbidden},
		{desc: "1024 commas fail fast", cfg: cfg, method: "OPTIONS", hdr: pf(strings.Repeat(",", 1024)), wantStatus: 403, want: forbidden},
		{desc: "too many names fail", cfg: cfg, method: "OPTIONS", hdr: pf(strings.Repeat("x-a,", 200)), wantStatus: 403, want: forbidden},
	})
	m, err := cors.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	assertNoPreflightAllocs(t, m, pf, "authorization,x-a", strings.Repeat(",", 1024), strings.Repeat("x-a,", 1024))
}

// assertNoPreflightAllocs checks that m answers the preflight pf(acrh) for
// each acrh without allocating, hostile ones included.
func assertNoPreflightAllocs(t *testing.T, m *cors.Middleware, pf func(string) []string, acrhs ...string) {
	t.Helper()
	h := m.Handler(http.NotFoundHandler())
	for _, acrh := range acrhs {
		r := httptest.NewRequest("OPTIONS", "/", nil)
		for i, hdr := 0, pf(acrh); i < len(hdr); i += 2 {
			r.Header.Set(hdr[i], hdr[i+1])
		}
		w := &benchWriter{h: http.Header{}}
		if n := testing.AllocsPerRun(100, func() { clear(w.h); h.ServeHTTP(w, r) }); n != 0 {
			t.Errorf("ACRH %.20q…: %v allocations per preflight, want 0", acrh, n)
		}
	}
}

// TestExactOriginsDoNotShareSuffixes: jub0bs/cors GHSA-vhxv-fg4m-p2w8
// allowed https://barfoo.com with https://foo.com and https://bar.com
// configured; exact origins match whole strings only, with few or many.
func TestExactOriginsDoNotShareSuffixes(t *testing.T) {
	many := []string{"https://foo.com", "https://bar.com"}
	for i := range 10 {
		many = append(many, "https://o"+strconv.Itoa(i)+".example")
	}
	for _, origins := range [][]string{many[:2], many} {
		m, err := cors.New(cors.Config{Origins: origins})
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range []string{"https://barfoo.com", "https://foobar.com", "https://bar.foo.com", "https://foo.com.bar.com", "https://foo.co", "http://foo.com"} {
			if cors.AllowOrigin(m, o) {
				t.Errorf("%d origins: %q allowed", len(origins), o)
			}
		}
		if !cors.AllowOrigin(m, "https://foo.com") || !cors.AllowOrigin(m, "https://bar.com") {
			t.Errorf("%d origins: configured origins not allowed", len(origins))
		}
	}
}

// TestOptionsIsNotImplicitlyAllowed: a preflight asking for OPTIONS needs it
// listed, like any method that is not safelisted (go-chi/cors#37).
func TestOptionsIsNotImplicitlyAllowed(t *testing.T) {
	const app = "https://app.example.com"
	hdr := []string{"Origin", app, "Access-Control-Request-Method", "OPTIONS"}
	runCases(t, []requestCase{
		{desc: "not listed", cfg: cors.Config{Origins: []string{app}, Methods: []string{"PUT"}}, method: "OPTIONS", hdr: hdr,
			wantStatus: 403, want: map[string]string{"Vary": preflightVary}},
		{desc: "listed", cfg: cors.Config{Origins: []string{app}, Methods: []string{"options"}}, method: "OPTIONS", hdr: hdr,
			wantStatus: 204, want: map[string]string{"Access-Control-Allow-Origin": app, "Access-Control-Allow-Methods": "OPTIONS", "Vary": preflightVary}},
	})
}

// TestStarHeadersDoNotCoverAuthorization: Authorization is a "CORS
// non-wildcard request-header name" (Fetch, whatwg/fetch#251): with "*" and
// no explicit Authorization the browser fails such a preflight whatever we
// answer, so the middleware fails it visibly (403, ErrHeaderNotAllowed)
// instead of a 204 that only looks like success (rs/cors#13).
func TestStarHeadersDoNotCoverAuthorization(t *testing.T) {
	const app = "https://app.example.com"
	star := cors.Config{Origins: []string{app}, RequestHeaders: []string{"*"}}
	pf := func(acrh ...string) []string {
		hdr := []string{"Origin", app, "Access-Control-Request-Method", "GET"}
		for _, v := range acrh {
			hdr = append(hdr, "Access-Control-Request-Headers", v)
		}
		return hdr
	}
	forbidden := map[string]string{"Vary": preflightVary}
	runCases(t, []requestCase{
		{desc: "authorization asked", cfg: star, method: "OPTIONS", hdr: pf("authorization,x-a"), wantStatus: 403, want: forbidden},
		{desc: "Authorization in any case on a second line", cfg: star, method: "OPTIONS", hdr: pf("x-a", " AUTHORIZATION "), wantStatus: 403, want: forbidden},
		{desc: "oversized list", cfg: star, method: "OPTIONS", hdr: pf(strings.Repeat("x-a,", 3000)), wantStatus: 403, want: forbidden},
		{desc: "other names", cfg: star, method: "OPTIONS", hdr: pf("x-authorization,authorizations"), wantStatus: 204,
			want: map[string]string{"Access-Control-Allow-Origin": app, "Access-Control-Allow-Headers": "*", "Vary": preflightVary}},
	})
	var got error
	star.ErrorHandler = func(w http.ResponseWriter, _ *http.Request, err error) {
		got = err
		w.WriteHeader(http.StatusForbidden)
	}
	m, err := cors.New(star)
	if err != nil {
		t.Fatal(err)
	}
	serve(m, "OPTIONS", pf("authorization")...)
	if !errors.Is(got, cors.ErrHeaderNotAllowed) {
		t.Errorf("ErrorHandler got %v, want ErrHeaderNotAllowed", got)
	}
	star.ErrorHandler = nil // its copy of Vary is the one allocation of a failure
	if m, err = cors.New(star); err != nil {
		t.Fatal(err)
	}
	one := func(acrh string) []string { return pf(acrh) }
	assertNoPreflightAllocs(t, m, one, "x-a,x-b", "AUTHORIZATION", strings.Repeat(",", 1024), strings.Repeat("x-a,", 1024))
}

// Responses without a CORS answer get Vary: Origin from a slab: every one
// its own value of capacity 1, so editing or appending to one response's
// Vary changes no other.
func TestVaryWithoutOriginIsNeverShared(t *testing.T) {
	m, err := cors.New(spa)
	if err != nil {
		t.Fatal(err)
	}
	h := m.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	var vals [][]string
	for i := range 50 {
		r := httptest.NewRequest("GET", "/", nil)
		if i%2 == 1 {
			r.Header.Set("Origin", "https://evil.com")
		}
		w := &benchWriter{h: http.Header{}}
		h.ServeHTTP(w, r)
		v := w.h["Vary"]
		if len(v) != 1 || cap(v) != 1 || v[0] != "Origin" {
			t.Fatalf("request %d: Vary %q (cap %d), want [Origin] of capacity 1", i, v, cap(v))
		}
		vals = append(vals, v)
	}
	vals[0][0] = "Edited"
	_ = append(vals[1], "Appended")
	for i, v := range vals[1:] {
		if v[0] != "Origin" {
			t.Fatalf("response %d: Vary %q after another response's was edited", i+1, v)
		}
	}
}
