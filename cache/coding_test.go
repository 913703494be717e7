package cache_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/jiec/httpmw/cache"
	"github.com/jiec/httpmw/compress"
	"github.com/jiec/httpmw/internal/header"
)

// varies reports whether the Vary field of h names name.
func varies(h http.Header, name string) bool {
	return slices.ContainsFunc(slices.Collect(header.Elements(h["Vary"])), func(e string) bool {
		return strings.EqualFold(e, name)
	})
}

// TestValidatorMatchesCodingSuffixedTagsInEitherOrder stacks cache (with a
// Config.Validator for every method) and compress both ways. compress sends
// the Validator's strong "v1" as "v1-<coding>" (RFC 9110 §8.8.3: an encoded
// body is its own representation); outside cache it removes the suffix from
// If-Match and If-None-Match, inside it cannot (cache compares first), so
// cache itself matches the suffixed tag. Either way the client's tag gets a
// 304 carrying that same tag (RFC 9111 §4.3.4) and guards a PUT (strong
// comparison, RFC 9110 §13.1.1).
func TestValidatorMatchesCodingSuffixedTagsInEitherOrder(t *testing.T) {
	body := strings.Repeat(`{"id":1,"name":"a name long enough to compress"},`, 64)
	ca, err := cache.New(cache.Config{Validator: func(*http.Request) (cache.Validators, bool) {
		return cache.Validators{ETag: `"v1"`}, true
	}})
	if err != nil {
		t.Fatal(err)
	}
	co, err := compress.New(compress.Config{})
	if err != nil {
		t.Fatal(err)
	}
	var ran int
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ran++
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, body)
	})
	for _, order := range []struct {
		name string
		h    http.Handler
	}{
		{"cache>compress", ca.Handler(co.Handler(app))},
		{"compress>cache", co.Handler(ca.Handler(app))},
	} {
		for _, enc := range []string{"gzip", "br", "zstd", "deflate"} {
			do := func(method string, kv ...string) *httptest.ResponseRecorder {
				t.Helper()
				ran = 0
				req := httptest.NewRequest(method, "/items/1", nil)
				req.Header.Set("Accept-Encoding", enc)
				for i := 0; i < len(kv); i += 2 {
					req.Header.Set(kv[i], kv[i+1])
				}
				rec := httptest.NewRecorder()
				order.h.ServeHTTP(rec, req)
				return rec
			}
			name := order.name + "/" + enc

			res := do(http.MethodGet)
			etag := res.Header().Get("Etag")
			if res.Code != http.StatusOK || res.Header().Get("Content-Encoding") != enc || etag != `"v1-`+enc+`"` {
				t.Fatalf("%s: GET: status %d, Content-Encoding %q, ETag %q; want 200, %s, \"v1-%s\"",
					name, res.Code, res.Header().Get("Content-Encoding"), etag, enc, enc)
			}

			res = do(http.MethodGet, "If-None-Match", etag)
			if res.Code != http.StatusNotModified || ran != 0 || res.Body.Len() != 0 {
				t.Errorf("%s: If-None-Match %s: status %d, handler ran %d times, body %d bytes; want 304 before the handler",
					name, etag, res.Code, ran, res.Body.Len())
			}
			if got := res.Header().Values("Etag"); len(got) != 1 || got[0] != etag {
				t.Errorf("%s: 304 ETag %q, want the 200's %q", name, got, etag)
			}
			if !varies(res.Header(), "Accept-Encoding") {
				t.Errorf("%s: 304 Vary %q lacks Accept-Encoding", name, res.Header().Values("Vary"))
			}

			res = do(http.MethodGet, "If-None-Match", `"v0-`+enc+`"`)
			if res.Code != http.StatusOK || ran != 1 {
				t.Errorf("%s: If-None-Match with a stale tag: status %d, handler ran %d times; want 200", name, res.Code, ran)
			}

			res = do(http.MethodPut, "If-Match", etag)
			if res.Code != http.StatusOK || ran != 1 {
				t.Errorf("%s: PUT If-Match %s: status %d, handler ran %d times; want 200 from the handler", name, etag, res.Code, ran)
			}

			res = do(http.MethodPut, "If-Match", `"v0-`+enc+`"`)
			if res.Code != http.StatusPreconditionFailed || ran != 0 {
				t.Errorf("%s: PUT If-Match with a stale tag: status %d, handler ran %d times; want 412", name, res.Code, ran)
			}
		}
	}
}

// TestValidatorCodingSuffixRules: only a strong request tag that is the
// Validator's strong tag plus a coding suffix (-gzip, -br, -zstd, -deflate)
// matches it; that is exactly what compress produces and strips, so cache
// answers alike inside and outside compress.
func TestValidatorCodingSuffixRules(t *testing.T) {
	for _, tc := range []struct {
		desc      string
		validator string
		field     string
		method    string
		value     string
		want      int
		wantETag  string // of a 304
		wantVaryA bool   // a 304 varies on Accept-Encoding
	}{
		{"suffixed tag in a list", `"v1"`, "If-None-Match", "GET", `"v0", "v1-br"`, 304, `"v1-br"`, true},
		{"HEAD", `"v1"`, "If-None-Match", "HEAD", `"v1-zstd"`, 304, `"v1-zstd"`, true},
		{"first matching element decides: plain", `"v1"`, "If-None-Match", "GET", `"v1", "v1-gzip"`, 304, `"v1"`, false},
		{"first matching element decides: suffixed", `"v1"`, "If-None-Match", "GET", `"v1-gzip", "v1"`, 304, `"v1-gzip"`, true},
		{"weak request tag with a suffix (weakened by a CDN)", `"v1"`, "If-None-Match", "GET", `W/"v1-gzip"`, 304, `"v1-gzip"`, true},
		{"weak Validator tag (compress never suffixes it)", `W/"v1"`, "If-None-Match", "GET", `"v1-gzip"`, 200, "", false},
		{"unknown coding", `"v1"`, "If-None-Match", "GET", `"v1-compress"`, 200, "", false},
		{"upper-case coding", `"v1"`, "If-None-Match", "GET", `"v1-GZIP"`, 200, "", false},
		{"other base", `"v1"`, "If-None-Match", "GET", `"v11-gzip"`, 200, "", false},
		{"Validator tag that itself looks suffixed", `"v1-gzip"`, "If-None-Match", "GET", `"v1"`, 200, "", false},
		{"suffixed tag fails If-None-Match on a write", `"v1"`, "If-None-Match", "PUT", `"v1-gzip"`, 412, "", false},
		{"If-Match suffixed", `"v1"`, "If-Match", "PUT", `"v1-deflate"`, 200, "", false},
		{"If-Match weak suffixed (strong comparison)", `"v1"`, "If-Match", "PUT", `W/"v1-gzip"`, 412, "", false},
		{"If-Match weak Validator tag", `W/"v1"`, "If-Match", "PUT", `"v1-gzip"`, 412, "", false},
		{"If-Match unknown coding", `"v1"`, "If-Match", "PUT", `"v1-identity"`, 412, "", false},
	} {
		m := validatorMW(t, cache.Config{}, cache.Validators{ETag: tc.validator})
		h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
		rec := serve(h, tc.method, tc.field, tc.value)
		if rec.Code != tc.want {
			t.Errorf("%s: %s %s: status %d, want %d", tc.desc, tc.field, tc.value, rec.Code, tc.want)
			continue
		}
		if tc.want != http.StatusNotModified {
			continue
		}
		if got := rec.Header().Values("Etag"); len(got) != 1 || got[0] != tc.wantETag {
			t.Errorf("%s: 304 ETag %q, want %q", tc.desc, got, tc.wantETag)
		}
		if got := varies(rec.Header(), "Accept-Encoding"); got != tc.wantVaryA {
			t.Errorf("%s: 304 Vary %q, Accept-Encoding wanted: %t", tc.desc, rec.Header().Values("Vary"), tc.wantVaryA)
		}
	}
}

// TestSuffixed304KeepsConfiguredVary: Accept-Encoding joins Config.Vary, and
// the route fields of a 304 stay.
func TestSuffixed304KeepsConfiguredVary(t *testing.T) {
	m := validatorMW(t, cache.Config{Vary: []string{"Accept"}, CacheControl: cache.CacheControl{}.NoCache()},
		cache.Validators{ETag: `"v1"`, LastModified: lm})
	rec := serve(m.Handler(mustNotRun(t)), "GET", "If-None-Match", `"v1-gzip"`)
	if rec.Code != http.StatusNotModified {
		t.Fatalf("status %d, want 304", rec.Code)
	}
	if !varies(rec.Header(), "Accept") || !varies(rec.Header(), "Accept-Encoding") {
		t.Errorf("Vary %q, want Accept and Accept-Encoding", rec.Header().Values("Vary"))
	}
	if got := rec.Header().Get("Cache-Control"); got != "no-cache" {
		t.Errorf("Cache-Control %q, want no-cache", got)
	}
	if got := rec.Header().Get("Last-Modified"); got != "" {
		t.Errorf("Last-Modified %q next to an ETag", got)
	}
	// The shared Vary value of the Config is not written to.
	rec = serve(m.Handler(mustNotRun(t)), "GET", "If-None-Match", `"v1"`)
	if got := rec.Header().Values("Vary"); len(got) != 1 || got[0] != "Accept" {
		t.Errorf("unsuffixed 304 Vary %q, want [Accept]", got)
	}
}

// TestValidator304WithoutSuffixDoesNotAllocate guards the fast path.
func TestValidator304WithoutSuffixDoesNotAllocate(t *testing.T) {
	m := validatorMW(t, cache.Config{CacheControl: cache.CacheControl{}.Public().NoCache()},
		cache.Validators{ETag: `"v42"`, LastModified: lm})
	h := m.Handler(http.NotFoundHandler())
	req := request("GET", hdr("If-None-Match", `W/"v42"`))
	w := &discard{h: http.Header{}}
	h.ServeHTTP(w, req) // records the recent ETag
	if n := testing.AllocsPerRun(100, func() {
		w.reset()
		h.ServeHTTP(w, req)
	}); n != 0 || w.code != http.StatusNotModified {
		t.Errorf("status %d, %v allocations per 304, want 0", w.code, n)
	}
}
