package cache_test

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jiec/httpmw/cache"
)

// rangeHandler serves a 206 itself, as the package doc suggests for Range.
func rangeHandler(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Etag", `"v2"`)
	w.Header().Set("Last-Modified", atLM)
	w.Header().Set("Content-Type", "text/plain")
	if r.Header.Get("Range") == "" {
		_, _ = io.WriteString(w, "0123456789")
		return
	}
	w.Header().Set("Content-Range", "bytes 0-3/10")
	w.WriteHeader(http.StatusPartialContent)
	_, _ = io.WriteString(w, "0123")
}

func TestPreconditionsAreEvaluatedBeforeRange(t *testing.T) {
	h := cache.Handler(http.HandlerFunc(rangeHandler))
	for _, c := range []struct {
		desc string
		kv   []string
		want int
	}{
		{"If-Match other gives 412", []string{"If-Match", `"other"`}, 412},
		{"If-Match current gives 206", []string{"If-Match", `"v2"`}, 206},
		{"If-None-Match current gives 304", []string{"If-None-Match", `"v2"`}, 304},
		{"If-None-Match weak current gives 304", []string{"If-None-Match", `W/"v2"`}, 304},
		{"If-None-Match other gives 206", []string{"If-None-Match", `"v1"`}, 206},
		{"If-Unmodified-Since before gives 412", []string{"If-Unmodified-Since", beforeL}, 412},
		{"If-Modified-Since at gives 304", []string{"If-Modified-Since", atLM}, 304},
	} {
		t.Run(c.desc, func(t *testing.T) {
			rec := serve(h, "GET", append([]string{"Range", "bytes=0-3"}, c.kv...)...)
			if rec.Code != c.want {
				t.Fatalf("got %d, want %d", rec.Code, c.want)
			}
			if c.want != 206 && (rec.Header().Get("Content-Range") != "" || rec.Body.Len() > 0 && c.want == 304) {
				t.Errorf("%d keeps Content-Range %q or a body %q", c.want, rec.Header().Get("Content-Range"), rec.Body.String())
			}
		})
	}
}

func TestValidator304CarriesTheFieldsOfThe200(t *testing.T) {
	exp := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	m, err := cache.New(cache.Config{
		Validator: func(*http.Request) (cache.Validators, bool) {
			return cache.Validators{
				ETag:            `"v1"`,
				CacheControl:    cache.CacheControl{}.Public().MaxAge(time.Minute),
				Expires:         exp,
				ContentLocation: "/doc.en.html",
				Vary:            []string{"Accept-Language"},
			}, true
		},
		Vary: []string{"Accept"},
	})
	if err != nil {
		t.Fatal(err)
	}
	h := m.Handler(http.HandlerFunc(okHandler))
	ok := serve(h, "GET")
	nm := serve(h, "GET", "If-None-Match", `"v1"`)
	if ok.Code != 200 || nm.Code != 304 {
		t.Fatalf("got %d and %d, want 200 and 304", ok.Code, nm.Code)
	}
	for _, k := range []string{"Cache-Control", "Content-Location", "Expires", "Vary", "Etag"} {
		if got, want := nm.Header()[k], ok.Header()[k]; len(want) == 0 || !slices.Equal(got, want) {
			t.Errorf("%s: 304 has %q, 200 has %q (want equal and set)", k, got, want)
		}
	}
	if got := ok.Header().Get("Expires"); got != exp.Format(http.TimeFormat) {
		t.Errorf("Expires %q", got)
	}
	// On an error the middleware takes its fields back.
	m2, _ := cache.New(cache.Config{Validator: func(*http.Request) (cache.Validators, bool) {
		return cache.Validators{ETag: `"v1"`, CacheControl: cache.CacheControl{}.MaxAge(time.Hour), Expires: exp, ContentLocation: "/x"}, true
	}})
	nf := serve(m2.Handler(http.NotFoundHandler()), "GET")
	for _, k := range []string{"Cache-Control", "Content-Location", "Expires", "Etag"} {
		if v := nf.Header()[k]; v != nil {
			t.Errorf("404 keeps %s %q", k, v)
		}
	}
}

func TestHandlerAddReplacesPresetFieldsOnce(t *testing.T) {
	m, _ := cache.New(cache.Config{
		CacheControl: cache.CacheControl{}.Public().MaxAge(time.Hour),
		Validator: func(*http.Request) (cache.Validators, bool) {
			return cache.Validators{ETag: `"v1"`, LastModified: lm}, true
		},
	})
	for _, c := range []struct {
		desc, key, value string
		code             int
	}{
		{"Cache-Control added on a 404", "Cache-Control", "max-age=5", 404},
		{"Cache-Control added on a 200", "Cache-Control", "max-age=5", 200},
		{"ETag added on a 200", "Etag", `"v2"`, 200},
		{"Last-Modified added on a 200", "Last-Modified", afterLM, 200},
	} {
		t.Run(c.desc, func(t *testing.T) {
			rec := serve(m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Add(c.key, c.value)
				w.WriteHeader(c.code)
			})), "GET")
			if got := rec.Header()[c.key]; !slices.Equal(got, []string{c.value}) {
				t.Errorf("%s: got %q, want only the handler's %q", c.key, got, c.value)
			}
		})
	}
}

func TestOversizedPreconditionFailsClosedForUnsafeMethods(t *testing.T) {
	m, _ := cache.New(cache.Config{Validator: func(*http.Request) (cache.Validators, bool) {
		return cache.Validators{ETag: `"v1"`}, true
	}})
	pad := strings.Repeat(" ", 9000)
	for _, c := range []struct {
		method, key, value string
		want               int
	}{
		{"PUT", "If-None-Match", "*" + pad, 412},
		{"PUT", "If-None-Match", `"v0",` + pad + `"v1"`, 412},
		{"PUT", "If-Match", `"v1",` + pad, 412},
		{"DELETE", "If-None-Match", `"v0",` + pad, 412},
		{"GET", "If-None-Match", `"v1",` + pad, 200}, // safe: the full response
	} {
		t.Run(c.method+" "+c.key, func(t *testing.T) {
			ran := false
			rec := serve(m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { ran = true })), c.method, c.key, c.value)
			if rec.Code != c.want || ran != (c.want == 200) {
				t.Fatalf("got %d (handler ran: %v), want %d", rec.Code, ran, c.want)
			}
			if c.want == 412 && !strings.Contains(rec.Body.String(), "too long") {
				t.Errorf("412 detail does not say the field is too long: %s", rec.Body.String())
			}
		})
	}
	var got error
	m2, _ := cache.New(cache.Config{
		Validator:    func(*http.Request) (cache.Validators, bool) { return cache.Validators{ETag: `"v1"`}, true },
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) { got = err; w.WriteHeader(412) },
	})
	serve(m2.Handler(http.NotFoundHandler()), "PUT", "If-None-Match", "*"+pad)
	var pe *cache.PreconditionError
	if !errors.As(got, &pe) || pe.Field != "If-None-Match" || !pe.TooLong {
		t.Errorf("ErrorHandler got %#v, want a *PreconditionError for If-None-Match with TooLong", got)
	}
}

func TestWriteFailsOnceA304Or412IsDecided(t *testing.T) {
	big := strings.Repeat("x", 2<<20) // over the 1 MiB buffer: spilled
	for _, c := range []struct {
		desc string
		kv   []string
		set  func(http.Header)
	}{
		{"handler ETag, 304", []string{"If-None-Match", `"mine"`}, func(h http.Header) { h.Set("Etag", `"mine"`) }},
		{"handler ETag, 412", []string{"If-Match", `"other"`}, func(h http.Header) { h.Set("Etag", `"mine"`) }},
		{"spilled body, 304 by date", []string{"If-Modified-Since", atLM}, func(h http.Header) { h.Set("Last-Modified", atLM) }},
	} {
		t.Run(c.desc, func(t *testing.T) {
			var errs []error
			written := 0
			rec := serve(cache.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				c.set(w.Header())
				for range 64 {
					n, err := io.WriteString(w, big[:64<<10])
					written += n
					if err != nil {
						errs = append(errs, err)
						return
					}
				}
			})), "GET", c.kv...)
			if rec.Code != 304 && rec.Code != 412 {
				t.Fatalf("status %d", rec.Code)
			}
			if len(errs) == 0 || !errors.Is(errs[0], cache.ErrAnswered) {
				t.Fatalf("the handler wrote %d bytes without an error (errors %v), want cache.ErrAnswered", written, errs)
			}
		})
	}
}

// allocated returns the average bytes allocated by f over n runs.
func allocated(n int, f func()) float64 {
	f()
	var a, b runtime.MemStats
	runtime.ReadMemStats(&a)
	for range n {
		f()
	}
	runtime.ReadMemStats(&b)
	return float64(b.TotalAlloc-a.TotalAlloc) / float64(n)
}

func TestBufferingAllocatesAtMostABitMoreThanTheBody(t *testing.T) {
	plain, _ := cache.New(cache.Config{})
	for _, c := range []struct {
		size  int
		limit float64 // bytes allowed per response
	}{
		{1 << 10, 1.25 * (1 << 10)},
		{64 << 10, 1.25 * (64 << 10)},
		{900 << 10, 1.25 * (900 << 10)},
		{3 << 20, 1.25 * (1 << 20)}, // over the cap: never more than the cap held
	} {
		content := bytes.Repeat([]byte("0123456789abcdef"), c.size/16)
		h := plain.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			for p := content; len(p) > 0; p = p[min(len(p), 4096):] {
				_, _ = w.Write(p[:min(len(p), 4096)])
			}
		}))
		r := httptest.NewRequest("GET", "/", nil)
		w := &discard{h: http.Header{}}
		got := allocated(20, func() { w.reset(); h.ServeHTTP(w, r) })
		if w.n != c.size {
			t.Fatalf("wrote %d of %d", w.n, c.size)
		}
		if got > c.limit {
			t.Errorf("%d KiB body: %.0f bytes allocated per response, want at most %.0f", c.size>>10, got, c.limit)
		}
	}
}

// countingWriter records the body and how many Writes brought it.
type countingWriter struct {
	h      http.Header
	body   bytes.Buffer
	writes int
}

func (c *countingWriter) Header() http.Header  { return c.h }
func (c *countingWriter) WriteHeader(code int) {}
func (c *countingWriter) Write(p []byte) (int, error) {
	c.writes++
	return c.body.Write(p)
}

// A held body goes down in writes of up to 64 KiB, whatever pieces the
// handler wrote it in: net/http turns every write that does not fit in its
// 4 KiB buffer into a system call.
func TestHeldBodyGoesDownInFewWrites(t *testing.T) {
	m, _ := cache.New(cache.Config{})
	for _, c := range []struct {
		size, piece, writes int
	}{
		{1 << 10, 100, 1},               // one chunk
		{4 << 10, 1 << 10, 4},           // at most 4 KiB: chunk by chunk, net/http buffers them
		{4<<10 + 1, 1 << 10, 1},         // over 4 KiB: gathered
		{32 << 10, 1 << 10, 1},          // 16 chunks, one write
		{32 << 10, 7, 1},                // tiny pieces
		{100 << 10, 3 << 10, 2},         // 64 KiB + the rest
		{1 << 20, 4 << 10, 1 << 4},      // 1 MiB: 16 writes of 64 KiB
		{900<<10 + 5, 64 << 10, 1 + 14}, // whole 64 KiB chunks go as they are
	} {
		content := make([]byte, c.size)
		for i := range content {
			content[i] = byte(i*7 + i>>10)
		}
		h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			for p := content; len(p) > 0; p = p[min(len(p), c.piece):] {
				_, _ = w.Write(p[:min(len(p), c.piece)])
			}
		}))
		w := &countingWriter{h: http.Header{}}
		h.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
		if !bytes.Equal(w.body.Bytes(), content) {
			t.Fatalf("%d bytes in pieces of %d: body differs (%d bytes sent)", c.size, c.piece, w.body.Len())
		}
		if w.h.Get("Etag") == "" {
			t.Fatalf("%d bytes: no generated ETag", c.size)
		}
		if w.writes > c.writes {
			t.Errorf("%d bytes in pieces of %d: %d writes, want at most %d", c.size, c.piece, w.writes, c.writes)
		}
	}
}
