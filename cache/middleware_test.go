package cache_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jiec/httpmw/cache"
)

// spy is a ResponseWriter that records what reaches it and when.
type spy struct {
	h       http.Header
	code    int
	buf     bytes.Buffer
	flushes int
}

func newSpy() *spy { return &spy{h: http.Header{}} }

func (s *spy) Header() http.Header { return s.h }
func (s *spy) WriteHeader(code int) {
	if s.code == 0 {
		s.code = code
	}
}
func (s *spy) Write(p []byte) (int, error) {
	if s.code == 0 {
		s.code = 200
	}
	return s.buf.Write(p)
}
func (s *spy) Flush() { s.flushes++ }

func sha(b string) string { return cache.GeneratedETag(b) }

func serve(h http.Handler, method string, kv ...string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, request(method, hdr(kv...)))
	return rec
}

func writeBody(b string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, b) }
}

func TestGeneratedETagIsXXH64AndLengthOfBody(t *testing.T) {
	for _, b := range []string{"", "a", body, strings.Repeat("0123456789", 10000)} {
		rec := serve(cache.Handler(writeBody(b)), "GET")
		if rec.Code != 200 || rec.Body.String() != b {
			t.Fatalf("got %d %q, want 200 with the body", rec.Code, rec.Body.String())
		}
		if got, want := rec.Header().Get("Etag"), sha(b); got != want {
			t.Errorf("ETag for %d bytes: got %s, want %s", len(b), got, want)
		}
		// Also up to 2 KiB: TestOnTheWireContentLengthSurvivesAnOuterFlush.
		if got, want := rec.Header().Get("Content-Length"), fmt.Sprint(len(b)); got != want {
			t.Errorf("Content-Length for %d bytes: got %q, want %q", len(b), got, want)
		}
	}
}

func TestGeneratedETagIsQuotedStrongAndSyntacticallyValid(t *testing.T) {
	re := regexp.MustCompile(`^"[A-Za-z0-9_-]{16}"$`)
	for i := range 50 {
		tag := serve(cache.Handler(writeBody(fmt.Sprint(i))), "GET").Header().Get("Etag")
		if !re.MatchString(tag) {
			t.Fatalf("ETag %q is not a quoted strong 96-bit base64url tag", tag)
		}
	}
}

func TestGeneratedETagDoesNotDependOnWriteBoundaries(t *testing.T) {
	whole := serve(cache.Handler(writeBody(body)), "GET").Header().Get("Etag")
	pieces := serve(cache.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for i := range len(body) {
			_, _ = w.Write([]byte{body[i]})
		}
	})), "GET").Header().Get("Etag")
	if whole != pieces {
		t.Errorf("byte-wise writes: got %s, want %s", pieces, whole)
	}
	readFrom := serve(cache.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.(io.ReaderFrom).ReadFrom(strings.NewReader(body))
	})), "GET").Header().Get("Etag")
	if whole != readFrom {
		t.Errorf("ReadFrom: got %s, want %s", readFrom, whole)
	}
}

func TestGeneratedETagDiffersPerBody(t *testing.T) {
	seen := map[string]string{}
	for i := range 200 {
		b := fmt.Sprintf("body %d", i)
		tag := serve(cache.Handler(writeBody(b)), "GET").Header().Get("Etag")
		if prev, ok := seen[tag]; ok {
			t.Fatalf("%q and %q share ETag %s", prev, b, tag)
		}
		seen[tag] = b
	}
}

func TestPooledWritersDoNotLeakBetweenRequests(t *testing.T) {
	h := cache.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, r.URL.Query().Get("b"))
	}))
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 200 {
				b := strings.Repeat(fmt.Sprint(i), j%7+1) + fmt.Sprint(j)
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, httptest.NewRequest("GET", "/?b="+b, nil))
				if rec.Body.String() != b || rec.Header().Get("Etag") != sha(b) {
					t.Errorf("got %q %s, want %q %s", rec.Body.String(), rec.Header().Get("Etag"), b, sha(b))
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestBodyOverLimitPassesThroughWithoutETag(t *testing.T) {
	m, err := cache.New(cache.Config{MaxBodySize: 10})
	if err != nil {
		t.Fatal(err)
	}
	sp := newSpy()
	var seenDuring int
	m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "0123456789")
		if sp.buf.Len() != 0 {
			t.Error("a body within the limit reached the client before the handler finished")
		}
		_, _ = io.WriteString(w, "abc")
		seenDuring = sp.buf.Len()
		_, _ = io.WriteString(w, "def")
	})).ServeHTTP(sp, request("GET", nil))
	if seenDuring != 13 {
		t.Errorf("bytes sent once over the limit: got %d, want 13 (nothing held back)", seenDuring)
	}
	if sp.buf.String() != "0123456789abcdef" || sp.h.Get("Etag") != "" || sp.code != 200 {
		t.Errorf("got %d %q ETag %q, want 200 with the whole body and no ETag", sp.code, sp.buf.String(), sp.h.Get("Etag"))
	}
}

func TestDeclaredContentLengthOverLimitIsNotBuffered(t *testing.T) {
	m, _ := cache.New(cache.Config{MaxBodySize: 4})
	sp := newSpy()
	m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "5")
		_, _ = io.WriteString(w, "ab")
		if sp.buf.String() != "ab" {
			t.Errorf("first write: client got %q, want it at once", sp.buf.String())
		}
		_, _ = io.WriteString(w, "cde")
	})).ServeHTTP(sp, request("GET", nil))
	if sp.h.Get("Etag") != "" {
		t.Errorf("got ETag %q for a body over the limit", sp.h.Get("Etag"))
	}
}

func TestNegativeMaxBodySizeDisablesGeneratedETags(t *testing.T) {
	m, _ := cache.New(cache.Config{MaxBodySize: -1})
	rec := serve(m.Handler(writeBody(body)), "GET")
	if rec.Header().Get("Etag") != "" || rec.Body.String() != body {
		t.Errorf("got ETag %q body %q", rec.Header().Get("Etag"), rec.Body.String())
	}
}

func TestFlushedResponseStreamsWithoutETag(t *testing.T) {
	sp := newSpy()
	cache.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = io.WriteString(w, "data: 1\n\n")
		if err := http.NewResponseController(w).Flush(); err != nil {
			t.Errorf("Flush: %v", err)
		}
		if sp.buf.String() != "data: 1\n\n" || sp.flushes != 1 {
			t.Errorf("after Flush the client has %q (%d flushes)", sp.buf.String(), sp.flushes)
		}
		_, _ = io.WriteString(w, "data: 2\n\n")
	})).ServeHTTP(sp, request("GET", hdr("If-None-Match", `"x"`)))
	// (If-None-Match: * would rightly be answered 304 at the Flush, RFC 9110
	// §13.1.2: see TestPreconditionsHoldForResponsesTooLargeOrStreamedForAnETag.)
	if sp.code != 200 || sp.h.Get("Etag") != "" || sp.buf.String() != "data: 1\n\ndata: 2\n\n" {
		t.Errorf("got %d ETag %q body %q", sp.code, sp.h.Get("Etag"), sp.buf.String())
	}
}

func TestHandlerETagIsKeptAndNotBuffered(t *testing.T) {
	sp := newSpy()
	cache.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Etag", `"mine"`)
		_, _ = io.WriteString(w, "abc")
		if sp.buf.String() != "abc" {
			t.Error("a response with the handler's own ETag was held")
		}
	})).ServeHTTP(sp, request("GET", nil))
	if got := sp.h.Get("Etag"); got != `"mine"` {
		t.Errorf("ETag: got %q, want the handler's", got)
	}
}

func TestHandlerETagAnswers304AndDiscardsBody(t *testing.T) {
	var flushErr, writeErr error
	rec := serve(cache.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Etag", `"mine"`)
		w.Header().Set("Content-Type", "text/plain")
		_, writeErr = io.WriteString(w, "abc")
		flushErr = http.NewResponseController(w).Flush()
	})), "GET", "If-None-Match", `W/"mine"`)
	if rec.Code != 304 || rec.Body.Len() != 0 {
		t.Errorf("got %d %q, want 304 without body", rec.Code, rec.Body.String())
	}
	if !errors.Is(writeErr, cache.ErrAnswered) {
		t.Errorf("Write after the 304: got %v, want cache.ErrAnswered so that the handler stops", writeErr)
	}
	if flushErr == nil {
		t.Error("Flush after the 304: got nil, want an error telling a streaming handler to stop")
	}
}

func TestOnlySuccessfulGETAndHEADAreTagged(t *testing.T) {
	for _, c := range []struct {
		method string
		code   int
		want   int // with If-None-Match: *
	}{
		// Preconditions apply to every 2xx (RFC 9110 §13.2.1), but only a 200
		// gets a generated tag.
		{"GET", 201, 304}, {"GET", 203, 304}, {"GET", 206, 304},
		{"GET", 301, 301}, {"GET", 404, 404}, {"GET", 500, 500},
		{"POST", 200, 200}, {"PUT", 200, 200}, {"DELETE", 200, 200}, {"OPTIONS", 200, 200},
	} {
		h := cache.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(c.code)
			_, _ = io.WriteString(w, body)
		}))
		if rec := serve(h, c.method); rec.Code != c.code || rec.Header().Get("Etag") != "" {
			t.Errorf("%s %d: got %d with ETag %q, want %d untouched", c.method, c.code, rec.Code, rec.Header().Get("Etag"), c.code)
		}
		if rec := serve(h, c.method, "If-None-Match", "*"); rec.Code != c.want || rec.Header().Get("Etag") != "" {
			t.Errorf("%s %d with If-None-Match *: got %d with ETag %q, want %d", c.method, c.code, rec.Code, rec.Header().Get("Etag"), c.want)
		}
	}
}

func TestHEADTagMatchesGETWhenHandlerWritesBody(t *testing.T) {
	h := cache.Handler(writeBody(body))
	get, head := serve(h, "GET"), serve(h, "HEAD")
	if get.Header().Get("Etag") != head.Header().Get("Etag") || get.Header().Get("Content-Length") != head.Header().Get("Content-Length") {
		t.Errorf("HEAD: ETag %q CL %q; GET: ETag %q CL %q", head.Header().Get("Etag"), head.Header().Get("Content-Length"),
			get.Header().Get("Etag"), get.Header().Get("Content-Length"))
	}
}

func TestHEADWithoutBodyGetsNoETag(t *testing.T) {
	// http.ServeContent writes no body for HEAD; the tag of an empty body
	// would contradict GET's (RFC 9110 §9.3.2).
	rec := serve(cache.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "25")
		w.WriteHeader(200)
	})), "HEAD")
	if rec.Header().Get("Etag") != "" || rec.Header().Get("Content-Length") != "25" {
		t.Errorf("got ETag %q CL %q, want no ETag and the handler's length", rec.Header().Get("Etag"), rec.Header().Get("Content-Length"))
	}
}

func TestEmptyResponses(t *testing.T) {
	rec := serve(cache.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})), "GET")
	if rec.Code != 200 || rec.Header().Get("Etag") != "" {
		t.Errorf("handler that does nothing: got %d ETag %q", rec.Code, rec.Header().Get("Etag"))
	}
	rec = serve(cache.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(200) })), "GET")
	if rec.Code != 200 || rec.Header().Get("Etag") != sha("") || rec.Header().Get("Content-Length") != "0" {
		t.Errorf("explicit empty 200: got %d ETag %q CL %q", rec.Code, rec.Header().Get("Etag"), rec.Header().Get("Content-Length"))
	}
	rec = serve(cache.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) })), "GET")
	if rec.Code != 204 || rec.Header().Get("Etag") != "" {
		t.Errorf("204: got %d ETag %q", rec.Code, rec.Header().Get("Etag"))
	}
}

// full200 sets every kind of field a 200 may carry.
func full200(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Cache-Control", "max-age=60")
	h.Set("Content-Location", "/doc.json")
	h.Set("Expires", "Thu, 01 Jan 2037 00:00:00 GMT")
	h.Set("Vary", "Accept")
	h.Set("Content-Type", "application/json")
	h.Set("Content-Language", "en")
	h.Set("Content-Encoding", "identity")
	h.Set("Last-Modified", atLM)
	h.Set("X-Custom", "kept")
	_, _ = io.WriteString(w, `{"a":1}`)
}

func TestNotModifiedCarriesExactlyTheRFC9110Fields(t *testing.T) {
	// RFC 9110 §15.4.5: a 304 MUST carry Cache-Control, Content-Location,
	// Date, ETag, Expires and Vary of the 200, SHOULD NOT carry other
	// representation metadata (Last-Modified only without ETag), and has no
	// content. Fields that are not representation metadata (X-Custom, set by
	// the handler or an outer middleware) stay.
	h := cache.Handler(http.HandlerFunc(full200))
	tag := serve(h, "GET").Header().Get("Etag")
	rec := serve(h, "GET", "If-None-Match", tag)
	if rec.Code != 304 || rec.Body.Len() != 0 {
		t.Fatalf("got %d %q, want 304 without body", rec.Code, rec.Body.String())
	}
	want := http.Header{
		"Cache-Control":    {"max-age=60"},
		"Content-Location": {"/doc.json"},
		"Expires":          {"Thu, 01 Jan 2037 00:00:00 GMT"},
		"Vary":             {"Accept"},
		"Etag":             {tag},
		"X-Custom":         {"kept"},
	}
	if got := rec.Header(); !equalHeader(got, want) {
		t.Errorf("304 fields:\n got %v\nwant %v", got, want)
	}
}

func TestNotModifiedKeepsLastModifiedWithoutETag(t *testing.T) {
	m, _ := cache.New(cache.Config{MaxBodySize: -1})
	rec := serve(m.Handler(http.HandlerFunc(full200)), "GET", "If-Modified-Since", atLM)
	if rec.Code != 304 || rec.Header().Get("Last-Modified") != atLM || rec.Header().Get("Content-Type") != "" {
		t.Errorf("got %d LM %q CT %q", rec.Code, rec.Header().Get("Last-Modified"), rec.Header().Get("Content-Type"))
	}
}

func equalHeader(a, b http.Header) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if strings.Join(v, "\x00") != strings.Join(b[k], "\x00") {
			return false
		}
	}
	return true
}

func validatorMW(t *testing.T, cfg cache.Config, v cache.Validators) *cache.Middleware {
	t.Helper()
	cfg.Validator = func(*http.Request) (cache.Validators, bool) { return v, true }
	m, err := cache.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func mustNotRun(t *testing.T) http.Handler {
	return http.HandlerFunc(func(http.ResponseWriter, *http.Request) { t.Error("handler ran") })
}

func TestValidatorAnswers304BeforeHandlerWithRouteFields(t *testing.T) {
	m := validatorMW(t, cache.Config{
		CacheControl: cache.CacheControl{}.Public().MaxAge(time.Minute),
		Vary:         []string{"accept"},
	}, cache.Validators{ETag: tagE, LastModified: lm})
	rec := httptest.NewRecorder()
	rec.Header().Set("X-Trace-Id", "outer")
	rec.Header().Set("Vary", "Accept-Encoding")
	m.Handler(mustNotRun(t)).ServeHTTP(rec, request("GET", hdr("If-None-Match", tagW)))
	want := http.Header{
		"Etag":          {tagE},
		"Cache-Control": {"public, max-age=60"},
		"Vary":          {"Accept-Encoding, Accept"},
		"X-Trace-Id":    {"outer"},
	}
	if rec.Code != 304 || !equalHeader(rec.Header(), want) {
		t.Errorf("got %d %v, want 304 %v", rec.Code, rec.Header(), want)
	}
}

func TestValidatorFieldsOnResponses(t *testing.T) {
	m := validatorMW(t, cache.Config{CacheControl: cache.CacheControl{}.NoCache()},
		cache.Validators{ETag: "v7", LastModified: lm.Add(123 * time.Millisecond)})
	rec := serve(m.Handler(writeBody(body)), "GET")
	if rec.Header().Get("Etag") != `"v7"` || rec.Header().Get("Last-Modified") != atLM || rec.Header().Get("Cache-Control") != "no-cache" {
		t.Errorf("200: got %v", rec.Header())
	}
	// An error response must not carry the resource's validators or its
	// lifetime (RFC 9110 §13.2.1; an explicit max-age would make it cacheable).
	rec = serve(m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "boom", http.StatusInternalServerError)
	})), "GET")
	if rec.Code != 500 || rec.Header().Get("Etag") != "" || rec.Header().Get("Last-Modified") != "" || rec.Header().Get("Cache-Control") != "" {
		t.Errorf("500: got %v", rec.Header())
	}
	// The handler's own Cache-Control wins.
	rec = serve(m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=5")
	})), "GET")
	if rec.Header().Get("Cache-Control") != "max-age=5" {
		t.Errorf("handler Cache-Control: got %q", rec.Header().Get("Cache-Control"))
	}
	// Writes don't get the old validators.
	rec = serve(m.Handler(writeBody("ok")), "PUT", "If-Match", `"v7"`)
	if rec.Code != 200 || rec.Header().Get("Etag") != "" || rec.Header().Get("Cache-Control") != "" {
		t.Errorf("PUT: got %d %v", rec.Code, rec.Header())
	}
}

func TestValidatorMissingResource(t *testing.T) {
	m := validatorMW(t, cache.Config{}, cache.Validators{Missing: true})
	for _, c := range []struct {
		desc   string
		method string
		req    []string
		want   int
		runs   bool
	}{
		{"PUT If-Match star fails when nothing exists", "PUT", []string{"If-Match", "*"}, 412, false},
		{"PUT If-Match tag fails", "PUT", []string{"If-Match", tagE}, 412, false},
		{"PUT If-None-Match star creates", "PUT", []string{"If-None-Match", "*"}, 200, true},
		{"PUT IUS ignored without a modification date", "PUT", []string{"If-Unmodified-Since", beforeL}, 200, true},
		{"GET leaves preconditions to the handler's 404", "GET", []string{"If-Match", tagE}, 404, true},
	} {
		ran := false
		rec := serve(m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ran = true
			if r.Method == "GET" {
				http.NotFound(w, r)
			}
		})), c.method, c.req...)
		if rec.Code != c.want || ran != c.runs {
			t.Errorf("%s: got %d (handler ran %v), want %d (%v)", c.desc, rec.Code, ran, c.want, c.runs)
		}
	}
}

func TestValidatorNotOKFallsBackToResponseValidators(t *testing.T) {
	m, _ := cache.New(cache.Config{Validator: func(*http.Request) (cache.Validators, bool) { return cache.Validators{}, false }})
	rec := serve(m.Handler(writeBody(body)), "GET", "If-None-Match", sha(body))
	if rec.Code != 304 {
		t.Errorf("got %d, want 304 from the generated tag", rec.Code)
	}
	ran := false
	rec = serve(m.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { ran = true })), "PUT", "If-Match", tagE)
	if rec.Code != 200 || !ran {
		t.Errorf("PUT without validator: got %d ran %v, want the handler to decide", rec.Code, ran)
	}
}

func TestPreconditionFailedIsProblemJSON(t *testing.T) {
	m := validatorMW(t, cache.Config{}, cache.Validators{ETag: tagE})
	rec := serve(m.Handler(mustNotRun(t)), "PUT", "If-Match", `"stale"`)
	if rec.Code != 412 || rec.Header().Get("Content-Type") != "application/problem+json" {
		t.Fatalf("got %d %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	var p struct {
		Status int    `json:"status"`
		Title  string `json:"title"`
		Detail string `json:"detail"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil || p.Status != 412 || !strings.Contains(p.Detail, "If-Match") {
		t.Errorf("problem: %+v %v", p, err)
	}
}

func TestPreconditionFailedAfterHandlerDropsThe200Fields(t *testing.T) {
	rec := serve(cache.Handler(http.HandlerFunc(full200)), "GET", "If-Match", `"stale"`)
	if rec.Code != 412 {
		t.Fatalf("got %d", rec.Code)
	}
	for _, k := range []string{"Etag", "Last-Modified", "Cache-Control", "Expires", "Content-Location", "Content-Language", "Content-Encoding"} {
		if v := rec.Header().Get(k); v != "" {
			t.Errorf("412 carries %s: %q", k, v)
		}
	}
	if !strings.Contains(rec.Body.String(), `"status":412`) || strings.Contains(rec.Body.String(), `{"a":1}`) {
		t.Errorf("412 body: %q", rec.Body.String())
	}
}

func TestErrorHandlerReceivesPreconditionError(t *testing.T) {
	var got *cache.PreconditionError
	m := validatorMW(t, cache.Config{ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
		if !errors.As(err, &got) {
			t.Errorf("err %v is not a *PreconditionError", err)
		}
		w.WriteHeader(http.StatusConflict)
	}}, cache.Validators{ETag: tagE, LastModified: lm})
	for _, c := range []struct{ field, value, method string }{
		{"If-Match", `"x"`, "PUT"},
		{"If-Unmodified-Since", beforeL, "DELETE"},
		{"If-None-Match", "*", "PUT"},
	} {
		got = nil
		rec := serve(m.Handler(mustNotRun(t)), c.method, c.field, c.value)
		if rec.Code != http.StatusConflict || got == nil || got.Field != c.field {
			t.Errorf("%s: got %d %v", c.field, rec.Code, got)
		}
	}
}

func TestUnquotedAndInvalidValidatorETags(t *testing.T) {
	for _, c := range []struct{ etag, want string }{
		{"v1", `"v1"`}, {`"v1"`, `"v1"`}, {`W/"v1"`, `W/"v1"`}, {"has space", ""}, {`a"b`, ""},
	} {
		m := validatorMW(t, cache.Config{MaxBodySize: -1}, cache.Validators{ETag: c.etag})
		if got := serve(m.Handler(writeBody("x")), "GET").Header().Get("Etag"); got != c.want {
			t.Errorf("Validators.ETag %q: got %q, want %q", c.etag, got, c.want)
		}
	}
}

func TestOversizedConditionalFieldsAreBounded(t *testing.T) {
	long := strings.Repeat(`"a", `, 3000) + tagE
	m := validatorMW(t, cache.Config{}, cache.Validators{ETag: tagE})
	if rec := serve(m.Handler(writeBody("x")), "GET", "If-None-Match", long); rec.Code != 200 {
		t.Errorf("oversized If-None-Match: got %d, want it treated as malformed (200)", rec.Code)
	}
	if rec := serve(m.Handler(mustNotRun(t)), "PUT", "If-Match", long); rec.Code != 412 {
		t.Errorf("oversized If-Match: got %d, want 412", rec.Code)
	}
}

// weakening stands in for a compressing middleware: it weakens the strong
// ETag of whatever it passes on, as RFC 9110 §8.8.3.3 asks of an encoder.
func weakening(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(weakWriter{w}, r)
	})
}

type weakWriter struct{ http.ResponseWriter }

func (w weakWriter) WriteHeader(code int) {
	if et := w.Header().Get("Etag"); et != "" && !strings.HasPrefix(et, "W/") {
		w.Header().Set("Etag", "W/"+et)
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w weakWriter) Write(p []byte) (int, error) {
	w.WriteHeader(200)
	return w.ResponseWriter.Write(p)
}

func TestRevalidatesThroughAWeakeningMiddleware(t *testing.T) {
	// compress outside cache: the client only ever sees W/"…" and sends it
	// back; If-None-Match uses the weak comparison (RFC 9110 §13.1.2).
	h := weakening(cache.Handler(writeBody(body)))
	tag := serve(h, "GET").Header().Get("Etag")
	if !strings.HasPrefix(tag, `W/"`) {
		t.Fatalf("ETag %q not weakened", tag)
	}
	if rec := serve(h, "GET", "If-None-Match", tag); rec.Code != 304 {
		t.Errorf("If-None-Match %s: got %d, want 304", tag, rec.Code)
	}
	// A weak tag never satisfies If-Match (strong comparison, §13.1.1).
	if rec := serve(h, "GET", "If-Match", tag); rec.Code != 412 {
		t.Errorf("If-Match %s: got %d, want 412", tag, rec.Code)
	}
}

func TestEncodedBodyGetsItsOwnTag(t *testing.T) {
	// compress inside cache: the tag is computed over the encoded bytes, so
	// each content coding has its own strong tag (RFC 9110 §8.8.3.3).
	enc := cache.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Encoding", "gzip")
		_, _ = io.WriteString(w, "\x1f\x8b encoded")
	}))
	plain := cache.Handler(writeBody(body))
	if a, b := serve(enc, "GET").Header().Get("Etag"), serve(plain, "GET").Header().Get("Etag"); a == b || a != sha("\x1f\x8b encoded") {
		t.Errorf("encoded %s, identity %s", a, b)
	}
}

func TestNewReportsEveryProblem(t *testing.T) {
	_, err := cache.New(cache.Config{
		CacheControl: cache.CacheControl{}.Public().Private().MaxAge(-time.Second).StaleIfError(1500 * time.Millisecond),
		Vary:         []string{"Accept", "bad name"},
	})
	if err == nil {
		t.Fatal("New accepted a bad Config")
	}
	for _, want := range []string{
		`cache: CacheControl.MaxAge: must be whole non-negative seconds (value "-1s")`,
		`cache: CacheControl.StaleIfError: must be whole non-negative seconds (value "1.5s")`,
		"public contradicts private",
		`cache: Vary: not a field name (value "bad name")`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

func TestNewCopiesConfig(t *testing.T) {
	vary := []string{"Accept"}
	m, _ := cache.New(cache.Config{Vary: vary})
	vary[0] = "Cookie"
	if got := serve(m.Handler(writeBody("x")), "GET").Header().Get("Vary"); got != "Accept" {
		t.Errorf("Vary: got %q after changing the caller's slice", got)
	}
}

func TestCacheControlString(t *testing.T) {
	year := 365 * 24 * time.Hour
	for _, c := range []struct {
		cc   cache.CacheControl
		want string
		bad  bool
	}{
		{cache.CacheControl{}, "", false},
		{cache.CacheControl{}.MaxAge(0), "max-age=0", false},
		{cache.CacheControl{}.Public().MaxAge(year).Immutable(), "public, max-age=31536000, immutable", false},
		{cache.CacheControl{}.Private().NoCache(), "private, no-cache", false},
		{cache.CacheControl{}.NoStore(), "no-store", false},
		{cache.CacheControl{}.Public().MaxAge(time.Minute).SMaxAge(time.Hour).MustRevalidate(), "public, max-age=60, s-maxage=3600, must-revalidate", false},
		{cache.CacheControl{}.MaxAge(time.Minute).StaleWhileRevalidate(30 * time.Second).StaleIfError(24 * time.Hour), "max-age=60, stale-while-revalidate=30, stale-if-error=86400", false},
		{cache.CacheControl{}.NoCache().ProxyRevalidate().NoTransform(), "no-cache, proxy-revalidate, no-transform", false},
		{cache.CacheControl{}.MaxAge(time.Minute).MaxAge(time.Hour), "max-age=3600", false},
		{cache.CacheControl{}.NoStore().MaxAge(time.Hour), "no-store, max-age=3600", true},
		{cache.CacheControl{}.Private().SMaxAge(time.Hour), "private, s-maxage=3600", true},
		{cache.CacheControl{}.Immutable(), "immutable", true},
		{cache.CacheControl{}.MaxAge(time.Millisecond), "max-age=0", true},
	} {
		if got := c.cc.String(); got != c.want {
			t.Errorf("String: got %q, want %q", got, c.want)
		}
		if err := c.cc.Err(); (err != nil) != c.bad {
			t.Errorf("%q: Err() = %v, want error %v", c.want, err, c.bad)
		}
	}
}

func TestCacheControlBuilderReturnsCopies(t *testing.T) {
	base := cache.CacheControl{}.Public().MaxAge(time.Minute)
	long := base.MaxAge(time.Hour).Immutable()
	if base.String() != "public, max-age=60" || long.String() != "public, max-age=3600, immutable" {
		t.Errorf("base %q, derived %q", base, long)
	}
}

func TestValidatorRunsForWritesOnlyWithPreconditions(t *testing.T) {
	calls := 0
	m, _ := cache.New(cache.Config{Validator: func(*http.Request) (cache.Validators, bool) {
		calls++
		return cache.Validators{ETag: tagE}, true
	}})
	h := m.Handler(writeBody("ok"))
	serve(h, "POST")
	serve(h, "DELETE")
	if calls != 0 {
		t.Errorf("Validator ran %d times for writes without preconditions", calls)
	}
	serve(h, "DELETE", "If-Match", tagE)
	serve(h, "GET")
	if calls != 2 {
		t.Errorf("Validator ran %d times, want 2 (conditional DELETE, GET)", calls)
	}
}

// TestPreconditionsHoldForResponsesTooLargeOrStreamedForAnETag: a body over
// MaxBodySize or a flushed one gets no generated ETag, but its own
// Last-Modified (and If-None-Match: *) still decide. An origin MUST evaluate
// the preconditions it can (RFC 9110 §13.2.1, §13.2.2); it used to send the
// full 200 once the buffer spilled.
func TestPreconditionsHoldForResponsesTooLargeOrStreamedForAnETag(t *testing.T) {
	m, _ := cache.New(cache.Config{MaxBodySize: 10})
	const older = "Sun, 06 Nov 1994 08:49:37 GMT"
	large := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Last-Modified", atLM)
		w.Header().Set("Content-Type", "text/plain")
		_, _ = io.WriteString(w, "0123456789abcdef")
	}
	var flushErr error
	streamed := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Last-Modified", atLM)
		_, _ = io.WriteString(w, "data: 1\n\n")
		flushErr = http.NewResponseController(w).Flush()
	}
	for _, c := range []struct {
		desc string
		h    http.HandlerFunc
		req  []string
		want int
	}{
		{"large, If-Modified-Since at Last-Modified", large, []string{"If-Modified-Since", atLM}, 304},
		{"large, If-Modified-Since before Last-Modified", large, []string{"If-Modified-Since", older}, 200},
		{"large, If-Unmodified-Since before Last-Modified", large, []string{"If-Unmodified-Since", older}, 412},
		{"large, If-None-Match *", large, []string{"If-None-Match", "*"}, 304},
		{"large, If-None-Match with a tag: no ETag, no match", large, []string{"If-None-Match", `"x"`}, 200},
		{"streamed, If-Modified-Since at Last-Modified", streamed, []string{"If-Modified-Since", atLM}, 304},
		{"streamed, no precondition", streamed, nil, 200},
	} {
		flushErr = nil
		sp := newSpy()
		m.Handler(c.h).ServeHTTP(sp, request("GET", hdr(c.req...)))
		if sp.code != c.want {
			t.Errorf("%s: got %d, want %d", c.desc, sp.code, c.want)
			continue
		}
		if c.want == 304 && (sp.buf.Len() != 0 || sp.h.Get("Content-Type") != "" || sp.h.Get("Etag") != "") {
			t.Errorf("%s: 304 with body %q and fields %v", c.desc, sp.buf.String(), sp.h)
		}
		if strings.HasPrefix(c.desc, "streamed") && (c.want == 304) != (flushErr != nil) {
			t.Errorf("%s: Flush error %v, want one exactly when the stream was answered by a 304", c.desc, flushErr)
		}
	}
}

// TestRequestNoCacheStillRevalidates: a request's "Cache-Control: no-cache"
// tells caches not to answer from storage (RFC 9111 §5.2.1.4); the origin
// still evaluates If-None-Match and answers 304 (RFC 9110 §13.2.1).
// jshttp/fresh and go-http-utils/fresh answer 200 instead.
func TestRequestNoCacheStillRevalidates(t *testing.T) {
	tag := sha(body)
	for _, m := range []*cache.Middleware{
		must(cache.New(cache.Config{})),
		validatorMW(t, cache.Config{}, cache.Validators{ETag: tag}),
	} {
		rec := serve(m.Handler(writeBody(body)), "GET", "If-None-Match", tag, "Cache-Control", "no-cache", "Pragma", "no-cache")
		if rec.Code != http.StatusNotModified || rec.Body.Len() != 0 {
			t.Errorf("got %d with %d body bytes, want 304", rec.Code, rec.Body.Len())
		}
	}
}

func must(m *cache.Middleware, err error) *cache.Middleware {
	if err != nil {
		panic(err)
	}
	return m
}
