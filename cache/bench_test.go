package cache_test

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"hash"
	"hash/crc64"
	"hash/fnv"
	"net/http"
	"testing"
	"time"

	"github.com/jiec/httpmw/cache"
)

// discard is a reusable ResponseWriter, so that allocations measured are the
// middleware's own.
type discard struct {
	h    http.Header
	code int
	n    int
}

func (d *discard) Header() http.Header  { return d.h }
func (d *discard) WriteHeader(code int) { d.code = code }
func (d *discard) Write(p []byte) (int, error) {
	if d.code == 0 {
		d.code = 200
	}
	d.n += len(p)
	return len(p), nil
}
func (d *discard) reset() { clear(d.h); d.code, d.n = 0, 0 }

func BenchmarkMiddleware(b *testing.B) {
	v := cache.Validators{ETag: `"v42"`, LastModified: lm}
	withValidator, _ := cache.New(cache.Config{
		Validator:    func(*http.Request) (cache.Validators, bool) { return v, true },
		CacheControl: cache.CacheControl{}.Public().NoCache(),
	})
	plain, _ := cache.New(cache.Config{})

	for _, c := range []struct {
		name string
		h    http.Handler
		r    *http.Request
		want int
	}{
		{"type=exec/req=304/via=validator", withValidator.Handler(http.NotFoundHandler()), request("GET", hdr("If-None-Match", `W/"v42"`)), 304},
		{"type=exec/req=412/via=validator", withValidator.Handler(http.NotFoundHandler()), request("PUT", hdr("If-Match", `"v41"`)), 412},
		{"type=exec/req=200/via=validator", withValidator.Handler(writeBody(body)), request("GET", nil), 200},
	} {
		b.Run(c.name, func(b *testing.B) {
			w := &discard{h: http.Header{}}
			b.ReportAllocs()
			for b.Loop() {
				w.reset()
				c.h.ServeHTTP(w, c.r)
			}
			if w.code != c.want {
				b.Fatalf("status %d", w.code)
			}
		})
	}
	for _, size := range []int{1 << 10, 64 << 10, 900 << 10, 1 << 20} {
		content := bytes.Repeat([]byte("0123456789abcdef"), size/16)
		handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write(content) })
		tag := serve(plain.Handler(handler), "GET").Header().Get("Etag")
		for _, c := range []struct {
			name string
			h    http.Handler
			req  http.Header
			want int
		}{
			{"type=exec/req=200/via=generated", plain.Handler(handler), nil, 200},
			{"type=exec/req=304/via=generated", plain.Handler(handler), hdr("If-None-Match", tag), 304},
			{"type=exec/req=200/via=none", handler, nil, 200},
		} {
			b.Run(fmt.Sprintf("%s/size=%dKiB", c.name, size>>10), func(b *testing.B) {
				r := request("GET", c.req)
				w := &discard{h: http.Header{}}
				b.SetBytes(int64(size))
				b.ReportAllocs()
				for b.Loop() {
					w.reset()
					c.h.ServeHTTP(w, r)
				}
				if w.code != c.want {
					b.Fatalf("status %d", w.code)
				}
			})
		}
	}
	b.Run("type=exec/req=200/via=generated/parallel", func(b *testing.B) {
		h := plain.Handler(writeBody(body))
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			r := request("GET", nil)
			w := &discard{h: http.Header{}}
			for pb.Next() {
				w.reset()
				h.ServeHTTP(w, r)
			}
		})
	})
	b.Run("type=init/cfg=full", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _ = cache.New(cache.Config{
				CacheControl: cache.CacheControl{}.Public().MaxAge(time.Hour).StaleWhileRevalidate(time.Minute),
				Vary:         []string{"Accept"},
			})
		}
	})
}

// BenchmarkHash compares stable (process-independent) hashes that could tag
// a body, written in 4 KiB pieces as a handler would. The middleware uses
// XXH64 (xxh64 in the table), several times faster than SHA-256 even with
// SHA-NI, CRC-64 and FNV-1a.
func BenchmarkHash(b *testing.B) {
	chunk := bytes.Repeat([]byte("0123456789abcdef"), 4<<10/16)
	for _, c := range []struct {
		name string
		h    hash.Hash
	}{
		{"xxh64", cache.NewXXH64()},
		{"sha256", sha256.New()},
		{"crc64-ecma", crc64.New(crc64.MakeTable(crc64.ECMA))},
		{"fnv1a-64", fnv.New64a()},
	} {
		b.Run("hash="+c.name+"/size=64KiB", func(b *testing.B) {
			var sum [32]byte
			b.SetBytes(64 << 10)
			b.ReportAllocs()
			for b.Loop() {
				c.h.Reset()
				for range 16 {
					c.h.Write(chunk)
				}
				c.h.Sum(sum[:0])
			}
		})
	}
}
