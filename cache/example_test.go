package cache_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jiec/httpmw/cache"
)

// A static-ish JSON route: the middleware hashes the body into a strong
// ETag, and a client that revalidates with If-None-Match gets a 304 without
// the body.
func Example() {
	m, err := cache.New(cache.Config{
		CacheControl: cache.CacheControl{}.Public().MaxAge(time.Minute).StaleWhileRevalidate(time.Hour),
	})
	if err != nil {
		panic(err)
	}
	config := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"theme":"dark","features":["search","export"]}`)
	}))

	rec := httptest.NewRecorder()
	config.ServeHTTP(rec, httptest.NewRequest("GET", "/config.json", nil))
	etag := rec.Header().Get("ETag")
	fmt.Println(rec.Code, etag, rec.Header().Get("Cache-Control"), rec.Body.Len(), "bytes")

	req := httptest.NewRequest("GET", "/config.json", nil)
	req.Header.Set("If-None-Match", etag)
	rec = httptest.NewRecorder()
	config.ServeHTTP(rec, req)
	fmt.Println(rec.Code, rec.Header().Get("ETag"), rec.Body.Len(), "bytes")
	// Output:
	// 200 "JXH8uGc-ZLEAAAAv" public, max-age=60, stale-while-revalidate=3600 47 bytes
	// 304 "JXH8uGc-ZLEAAAAv" 0 bytes
}

// store is a versioned document store: the version is the entity tag.
type store struct {
	mu      sync.Mutex
	doc     string
	version int
}

func (s *store) etag() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return `"v` + strconv.Itoa(s.version) + `"`
}

// Optimistic concurrency: Config.Validator reports the current version, so a
// PUT whose If-Match names an old version is answered 412 before the handler
// runs, and a lost update cannot happen.
func ExampleConfig_optimisticConcurrency() {
	s := &store{doc: "first draft", version: 1}
	m, err := cache.New(cache.Config{
		Validator: func(r *http.Request) (cache.Validators, bool) {
			return cache.Validators{ETag: s.etag()}, true
		},
	})
	if err != nil {
		panic(err)
	}
	doc := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case "GET":
			s.mu.Lock()
			io.WriteString(w, s.doc)
			s.mu.Unlock()
		case "PUT":
			if r.Header.Get("If-Match") == "" {
				http.Error(w, "send If-Match", http.StatusPreconditionRequired) // RFC 6585 §3
				return
			}
			b, _ := io.ReadAll(r.Body)
			s.mu.Lock()
			s.doc, s.version = string(b), s.version+1
			s.mu.Unlock()
			w.Header().Set("ETag", s.etag())
			w.WriteHeader(http.StatusNoContent)
		}
	}))

	do := func(method, ifMatch, body string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, "/doc", strings.NewReader(body))
		if ifMatch != "" {
			req.Header.Set("If-Match", ifMatch)
		}
		rec := httptest.NewRecorder()
		doc.ServeHTTP(rec, req)
		return rec
	}

	// Alice and Bob both read version 1.
	seen := do("GET", "", "").Header().Get("ETag")
	fmt.Println("read:", seen)
	// Alice writes first and gets the new version.
	rec := do("PUT", seen, "Alice's edit")
	fmt.Println("Alice:", rec.Code, rec.Header().Get("ETag"))
	// Bob's write names the version he read: rejected, nothing overwritten.
	rec = do("PUT", seen, "Bob's edit")
	fmt.Println("Bob:", rec.Code, rec.Header().Get("Content-Type"))
	fmt.Println("document:", do("GET", "", "").Body.String())
	// Output:
	// read: "v1"
	// Alice: 204 "v2"
	// Bob: 412 application/problem+json
	// document: Alice's edit
}

// CacheControl values are built once and specialised per route.
func ExampleCacheControl() {
	base := cache.CacheControl{}.Public().MaxAge(5 * time.Minute)
	fmt.Println(base)
	fmt.Println(base.MaxAge(365 * 24 * time.Hour).Immutable())
	fmt.Println(cache.CacheControl{}.Private().NoCache())
	fmt.Println(cache.CacheControl{}.NoStore())
	fmt.Println(cache.CacheControl{}.NoStore().MaxAge(time.Hour).Err())
	// Output:
	// public, max-age=300
	// public, max-age=31536000, immutable
	// private, no-cache
	// no-store
	// cache: CacheControl: no-store contradicts directives that let caches keep the response (value "no-store, max-age=3600")
}

// One Middleware per route gives each route its own caching policy.
func ExampleMiddleware_Handler() {
	assets, _ := cache.New(cache.Config{
		CacheControl: cache.CacheControl{}.Public().MaxAge(365 * 24 * time.Hour).Immutable(),
	})
	api, _ := cache.New(cache.Config{CacheControl: cache.CacheControl{}.Private().NoCache()})

	mux := http.NewServeMux()
	mux.Handle("GET /assets/", assets.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "body{}")
	})))
	mux.Handle("GET /api/me", api.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"name":"ada"}`)
	})))

	for _, path := range []string{"/assets/app.css", "/api/me"} {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		fmt.Println(path, rec.Header().Get("Cache-Control"))
	}
	// Output:
	// /assets/app.css public, max-age=31536000, immutable
	// /api/me private, no-cache
}

// New reports every problem of a Config at once, each naming its field.
func ExampleNew() {
	_, err := cache.New(cache.Config{
		CacheControl: cache.CacheControl{}.NoStore().MaxAge(time.Hour),
		Vary:         []string{"Accept Language"},
	})
	fmt.Println(err)
	// Output:
	// cache: CacheControl: no-store contradicts directives that let caches keep the response (value "no-store, max-age=3600")
	// cache: Vary: not a field name (value "Accept Language")
}

// Handler (the zero Config) gives a 200 a strong ETag from its body and
// answers a matching If-None-Match with 304.
func ExampleHandler() {
	h := cache.Handler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		io.WriteString(w, "hello")
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	etag := rec.Header().Get("ETag")

	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.Header.Set("If-None-Match", etag)
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	fmt.Println(etag != "", rec.Code, rec.Body.Len())
	// Output:
	// true 304 0
}

// A Validator that answers 304s before the handler also supplies the fields
// the handler's 200 would carry (RFC 9110 §15.4.5), so both agree.
func ExampleValidators() {
	m, _ := cache.New(cache.Config{Validator: func(*http.Request) (cache.Validators, bool) {
		return cache.Validators{
			ETag:            `"v3"`,
			CacheControl:    cache.CacheControl{}.Private().MaxAge(time.Minute),
			Expires:         time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC),
			ContentLocation: "/report.en.json",
			Vary:            []string{"Accept-Language"},
		}, true
	}})
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, `{"report":3}`)
	}))
	for _, inm := range []string{"", `"v3"`} {
		req := httptest.NewRequest(http.MethodGet, "/report", nil)
		if inm != "" {
			req.Header.Set("If-None-Match", inm)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		fmt.Println(rec.Code, rec.Header().Get("Cache-Control"), "|", rec.Header().Get("Expires"), "|",
			rec.Header().Get("Content-Location"), "|", rec.Header().Get("Vary"))
	}
	// Output:
	// 200 private, max-age=60 | Tue, 01 Jan 2030 00:00:00 GMT | /report.en.json | Accept-Language
	// 304 private, max-age=60 | Tue, 01 Jan 2030 00:00:00 GMT | /report.en.json | Accept-Language
}

// Once the middleware answers 304 (or 412) instead of the handler's
// response, the handler's writes fail with ErrAnswered, so it can stop.
func ExamplePreconditionError() {
	h := cache.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", `"big-export-7"`)
		for i := range 1000 {
			if _, err := fmt.Fprintf(w, "row %d\n", i); errors.Is(err, cache.ErrAnswered) {
				fmt.Println("stopped at row", i)
				return
			}
		}
	}))
	req := httptest.NewRequest(http.MethodGet, "/export", nil)
	req.Header.Set("If-None-Match", `"big-export-7"`)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	fmt.Println(rec.Code)

	// An unsafe request whose precondition is too long to read fails closed.
	v, _ := cache.New(cache.Config{Validator: func(*http.Request) (cache.Validators, bool) {
		return cache.Validators{ETag: `"v1"`}, true
	}})
	put := httptest.NewRequest(http.MethodPut, "/doc", nil)
	put.Header.Set("If-None-Match", "*"+strings.Repeat(" ", 9000))
	rec = httptest.NewRecorder()
	v.Handler(http.NotFoundHandler()).ServeHTTP(rec, put)
	fmt.Println(rec.Code)
	// Output:
	// stopped at row 0
	// 304
	// 412
}
