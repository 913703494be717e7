//go:build unix

package bench

// Compression middleware side by side: httpmw/compress, klauspost gzhttp and
// CAFxX/httpcompression, on the same JSON bodies and at equal settings
// (gzip and deflate level 5 with klauspost's encoder, br quality 4 with a
// 256 KiB window, zstd SpeedFastest with a 128 KiB window, minimum size
// 1 KiB). Run:
//
//	go test -run '^$' -bench 'Compress' -benchmem
//
// Metrics: ns/op, B/op, allocs/op, MB/s of uncompressed body, out-B (bytes
// sent to the client) and cpu-ns/op (process CPU time per op, which is more
// stable than ns/op on a shared machine).

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"syscall"
	"testing"

	"github.com/CAFxX/httpcompression"
	cbrotli "github.com/CAFxX/httpcompression/contrib/andybalholm/brotli"
	cgzip "github.com/CAFxX/httpcompression/contrib/klauspost/gzip"
	czlib "github.com/CAFxX/httpcompression/contrib/klauspost/zlib"
	czstd "github.com/CAFxX/httpcompression/contrib/klauspost/zstd"
	"github.com/andybalholm/brotli"
	"github.com/jiec/httpmw/compress"
	"github.com/klauspost/compress/gzhttp"
	"github.com/klauspost/compress/zstd"
)

// discard is a reusable ResponseWriter that only counts bytes.
type discard struct {
	h    http.Header
	n    int
	code int
}

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) WriteHeader(code int)        { d.code = code }
func (d *discard) Write(p []byte) (int, error) { d.n += len(p); return len(p), nil }
func (d *discard) Flush()                      {}

func jsonDoc(n int) []byte {
	var b bytes.Buffer
	b.WriteString(`{"items":[`)
	for i := 0; b.Len() < n-64; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"id":%d,"name":"item %d","price":%d.%02d,"tags":["a","b"]}`, i, i*7%13, i%97, i%100)
	}
	b.WriteString(`]}`)
	for b.Len() < n {
		b.WriteByte(' ')
	}
	return b.Bytes()[:n]
}

type peer struct {
	name string
	encs map[string]bool // codings it supports
	mw   func(http.Handler) http.Handler
}

func peers(b *testing.B) []peer {
	ours, err := compress.New(compress.Config{GzipLevel: 5, DeflateLevel: 5, BrotliLevel: 4, ZstdLevel: 1, MinSize: 1024})
	if err != nil {
		b.Fatal(err)
	}
	gz, err := gzhttp.NewWrapper(gzhttp.MinSize(1024), gzhttp.CompressionLevel(5), gzhttp.EnableZstd(true), gzhttp.ZstdCompressionLevel(int(zstd.SpeedFastest)))
	if err != nil {
		b.Fatal(err)
	}
	hcGzip, _ := cgzip.New(cgzip.Options{Level: 5})
	hcZlib, _ := czlib.New(czlib.Options{Level: 5})
	hcBr, _ := cbrotli.New(brotli.WriterOptions{Quality: 4, LGWin: 18})
	hcZstd, _ := czstd.New(zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1), zstd.WithLowerEncoderMem(true), zstd.WithWindowSize(128<<10))
	hc, err := httpcompression.Adapter(
		httpcompression.GzipCompressor(hcGzip), httpcompression.DeflateCompressor(hcZlib),
		httpcompression.BrotliCompressor(hcBr), httpcompression.ZstandardCompressor(hcZstd),
		httpcompression.MinSize(1024))
	if err != nil {
		b.Fatal(err)
	}
	all := map[string]bool{"gzip": true, "deflate": true, "br": true, "zstd": true, "none": true}
	return []peer{
		{"httpmw", all, ours.Handler},
		{"gzhttp", map[string]bool{"gzip": true, "zstd": true, "none": true}, func(h http.Handler) http.Handler { return gz(h) }},
		{"httpcompression", all, hc},
	}
}

func BenchmarkCompress(b *testing.B) {
	sizes := []struct {
		name string
		n    int
	}{{"512B", 512}, {"1KiB", 1 << 10}, {"16KiB", 16 << 10}, {"1MiB", 1 << 20}}
	for _, p := range peers(b) {
		for _, enc := range []string{"none", "gzip", "zstd", "br", "deflate"} {
			if !p.encs[enc] {
				continue
			}
			for _, sz := range sizes {
				if enc == "none" && sz.n != 1<<10 {
					continue
				}
				body := jsonDoc(sz.n)
				h := p.mw(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
					w.Header().Set("Content-Type", "application/json")
					_, _ = w.Write(body)
				}))
				req := httptest.NewRequest(http.MethodGet, "/", nil)
				if enc != "none" {
					req.Header.Set("Accept-Encoding", enc)
				}
				b.Run(fmt.Sprintf("mw=%s/enc=%s/size=%s", p.name, enc, sz.name), func(b *testing.B) {
					w := &discard{h: make(http.Header)}
					b.SetBytes(int64(sz.n))
					b.ReportAllocs()
					cpu0 := cpuTime()
					for b.Loop() {
						clear(w.h)
						w.n = 0
						h.ServeHTTP(w, req)
					}
					b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
					if got := w.h.Get("Content-Encoding"); enc != "none" && sz.n >= 1024 && got != enc {
						b.Fatalf("Content-Encoding = %q, want %q", got, enc)
					}
					b.ReportMetric(float64(w.n), "out-B")
				})
			}
		}
	}
}

// cpuTime returns the user+system CPU time of the process in nanoseconds.
func cpuTime() int64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Utime.Nano() + ru.Stime.Nano()
}
