package compress_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/andybalholm/brotli"
	"github.com/jiec/httpmw/compress"
	"github.com/klauspost/compress/zstd"
)

func TestWeakSuffixedTagIsRevalidated(t *testing.T) {
	m := newMW(t, compress.Config{})
	// The handler compares weakly against its own tag, as cache does.
	h := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Etag", `"v1"`)
		w.Header().Set("Content-Type", "text/plain")
		if inm := r.Header.Get("If-None-Match"); inm == `"v1"` || inm == `W/"v1"` {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		_, _ = w.Write(jsonBody(4 << 10))
	}
	for _, inm := range []string{`"v1-gzip"`, `W/"v1-gzip"`, `W/"v1-br"`, `W/"v1"`} {
		req := get("gzip")
		req.Header.Set("If-None-Match", inm)
		rec := do(t, m, h, req)
		if rec.Code != http.StatusNotModified {
			t.Errorf("If-None-Match %s: status %d, want 304", inm, rec.Code)
			continue
		}
		if got := rec.Header().Get("Etag"); got != `"v1-gzip"` {
			t.Errorf("If-None-Match %s: 304 ETag %s, want \"v1-gzip\"", inm, got)
		}
	}
}

// corrupt returns an encoded body whose stream breaks after a valid start.
func corrupt(t *testing.T, ce string) []byte {
	b := encode(t, ce, jsonBody(8<<10))
	b = append([]byte(nil), b...)
	for i := len(b) / 3; i < len(b)*2/3; i++ {
		b[i] ^= 0x5a
	}
	return b
}

func TestCorruptRequestBodyIs400WithAnExportedError(t *testing.T) {
	m := newMW(t, compress.Config{DecompressRequests: true})
	for _, c := range []struct {
		desc, ce string
		body     []byte
	}{
		{"gzip garbage", "gzip", []byte("definitely not compressed data")},
		{"br garbage", "br", []byte("definitely not compressed data")},
		{"zstd garbage", "zstd", []byte("definitely not compressed data")},
		{"deflate garbage", "deflate", []byte("definitely not compressed data")},
		{"gzip flipped", "gzip", corrupt(t, "gzip")},
		{"br flipped", "br", corrupt(t, "br")},
		{"zstd flipped", "zstd", corrupt(t, "zstd")},
		{"deflate flipped", "deflate", corrupt(t, "deflate")},
		{"gzip truncated", "gzip", encode(t, "gzip", jsonBody(8<<10))[:100]},
		{"zstd truncated", "zstd", encode(t, "zstd", jsonBody(8<<10))[:100]},
	} {
		t.Run(c.desc, func(t *testing.T) {
			var readErr error
			rec := do(t, m, func(w http.ResponseWriter, r *http.Request) {
				_, readErr = io.ReadAll(r.Body)
				if readErr != nil {
					http.Error(w, readErr.Error(), http.StatusBadRequest)
				}
			}, post(c.ce, c.body))
			if !errors.Is(readErr, compress.ErrCorruptRequest) {
				t.Fatalf("Read error %v, want compress.ErrCorruptRequest", readErr)
			}
			if rec.Code != http.StatusBadRequest {
				t.Fatalf("status %d, want 400", rec.Code)
			}
			assertProblem(t, rec, 400)
			// A handler that ignores the error still does not answer 200.
			rec = do(t, m, func(w http.ResponseWriter, r *http.Request) { _, _ = io.ReadAll(r.Body) }, post(c.ce, c.body))
			if rec.Code != http.StatusBadRequest {
				t.Fatalf("silent handler: status %d, want 400", rec.Code)
			}
		})
	}
}

type failingBody struct{ err error }

func (f failingBody) Read([]byte) (int, error) { return 0, f.err }
func (f failingBody) Close() error             { return nil }

func TestClientReadErrorIsNotReportedAsCorrupt(t *testing.T) {
	m := newMW(t, compress.Config{DecompressRequests: true})
	gone := errors.New("connection reset")
	var readErr error
	req := post("gzip", nil)
	req.Body = failingBody{gone}
	do(t, m, func(w http.ResponseWriter, r *http.Request) { _, readErr = io.ReadAll(r.Body) }, req)
	if !errors.Is(readErr, gone) || errors.Is(readErr, compress.ErrCorruptRequest) {
		t.Fatalf("Read error %v, want the body's own error", readErr)
	}
}

func TestConfigSentinels(t *testing.T) {
	// MinSize: AnySize compresses the smallest bodies.
	m := newMW(t, compress.Config{MinSize: compress.AnySize})
	rec := do(t, m, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = io.WriteString(w, "tiny")
	}, get("gzip"))
	if rec.Header().Get("Content-Encoding") != "gzip" || string(decode(t, "gzip", rec.Body.Bytes())) != "tiny" {
		t.Errorf("MinSize AnySize: Content-Encoding %q", rec.Header().Get("Content-Encoding"))
	}
	// Sniffing still works without a Content-Type.
	rec = do(t, m, func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "<html>hi</html>") }, get("gzip"))
	if rec.Header().Get("Content-Encoding") != "gzip" || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") {
		t.Errorf("MinSize AnySize, sniffed: Content-Encoding %q, Content-Type %q", rec.Header().Get("Content-Encoding"), rec.Header().Get("Content-Type"))
	}
	// MaxRequestSize: Unlimited accepts more than the 10 MiB default.
	big := bytes.Repeat([]byte("0123456789abcdef"), (11<<20)/16)
	mu := newMW(t, compress.Config{DecompressRequests: true, MaxRequestSize: compress.Unlimited, MaxRequestRatio: 1 << 20})
	n := 0
	rec = do(t, mu, func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), 500)
		}
		n = len(b)
	}, post("gzip", encode(t, "gzip", big)))
	if rec.Code != 200 || n != len(big) {
		t.Errorf("MaxRequestSize Unlimited: status %d, read %d of %d", rec.Code, n, len(big))
	}
}

// stallingBody returns prefix, then blocks until release is closed.
type stallingBody struct {
	prefix  []byte
	release chan struct{}
	stalled chan struct{}
	once    sync.Once
}

func (s *stallingBody) Read(p []byte) (int, error) {
	if len(s.prefix) > 0 {
		n := copy(p, s.prefix)
		s.prefix = s.prefix[n:]
		return n, nil
	}
	s.once.Do(func() { close(s.stalled) })
	<-s.release
	return 0, io.ErrUnexpectedEOF
}
func (s *stallingBody) Close() error { return nil }

// noise is incompressible data, so that encoders emit large blocks.
func noise(n int) []byte {
	r := rand.New(rand.NewPCG(1, 2))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// hostilePrefixN is the first n bytes of a stream of ce declaring the
// window window (bytes, a power of two), cut inside its first blocks.
func hostilePrefixN(t *testing.T, ce string, window, n int) []byte {
	var buf bytes.Buffer
	data := noise(256 << 10)
	switch ce {
	case "zstd":
		w, _ := zstd.NewWriter(&buf, zstd.WithWindowSize(window), zstd.WithEncoderConcurrency(1))
		_, _ = w.Write(data)
		_ = w.Close()
	case "br":
		lg := 0
		for 1<<lg < window {
			lg++
		}
		w := brotli.NewWriterOptions(&buf, brotli.WriterOptions{Quality: 4, LGWin: lg})
		_, _ = w.Write(data)
		_ = w.Close()
	default:
		buf.Write(encode(t, ce, data))
	}
	return buf.Bytes()[:n]
}

// stalledHeap runs n requests whose bodies stall after prefix and returns
// the heap held per request while they are stalled, and their statuses.
func stalledHeap(t *testing.T, m *compress.Middleware, ce string, prefix []byte, n int) (uint64, []int) {
	release := make(chan struct{})
	bodies := make([]*stallingBody, n)
	recs := make([]*httptest.ResponseRecorder, n)
	done := make(chan int, n)
	var ms0, ms1 runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&ms0)
	h := m.Handler(http.HandlerFunc(echo))
	for i := range n {
		bodies[i] = &stallingBody{prefix: prefix, release: release, stalled: make(chan struct{})}
		recs[i] = httptest.NewRecorder()
		req := post(ce, nil)
		req.Body = bodies[i]
		go func() {
			h.ServeHTTP(recs[i], req)
			done <- i
		}()
	}
	finished := 0
	for i := range n {
		select {
		case <-bodies[i].stalled:
		case <-done: // refused before stalling
			finished++
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&ms1)
	close(release)
	for range n - finished {
		<-done
	}
	codes := make([]int, n)
	for i, r := range recs {
		codes[i] = r.Code
	}
	return (ms1.HeapAlloc - min(ms1.HeapAlloc, ms0.HeapAlloc)) / uint64(n), codes
}

func TestStalledCompressedRequestsHoldLittleMemory(t *testing.T) {
	const n = 200
	m := newMW(t, compress.Config{DecompressRequests: true, MaxRequestSize: 64 << 10})
	for _, c := range []struct {
		ce     string
		window int
		cut    int // bytes sent before the stall
		want   int // status once released
	}{
		{"zstd", 8 << 20, 51, 413}, // declares more than the limit: refused at once
		{"zstd", 8 << 20, 130 << 10, 413},
		{"br", 16 << 20, 51, 413},
		{"zstd", 64 << 10, 51, 400}, // within the limit: stalls, then truncated
		{"zstd", 64 << 10, 66 << 10, 400},
		{"br", 64 << 10, 51, 400},
		{"br", 64 << 10, 60 << 10, 400},
		{"gzip", 0, 51, 400},
		{"deflate", 0, 51, 400},
	} {
		t.Run(fmt.Sprintf("%s/window=%dKiB/cut=%d", c.ce, c.window>>10, c.cut), func(t *testing.T) {
			per, codes := stalledHeap(t, m, c.ce, hostilePrefixN(t, c.ce, c.window, c.cut), n)
			t.Logf("%s, declared window %d KiB, stalled after %d bytes: %d KiB per request", c.ce, c.window>>10, c.cut, per>>10)
			if per > 1<<20 {
				t.Errorf("%d bytes per stalled request, want at most 1 MiB", per)
			}
			for _, code := range codes {
				if code != c.want {
					t.Fatalf("status %d, want %d", code, c.want)
				}
			}
		})
	}
}

func TestDecoderWindowWithinTheLimitIsAccepted(t *testing.T) {
	m := newMW(t, compress.Config{DecompressRequests: true, MaxRequestSize: 64 << 10})
	payload := jsonBody(40 << 10)
	var zb, bb bytes.Buffer
	zw, _ := zstd.NewWriter(&zb, zstd.WithWindowSize(64<<10), zstd.WithEncoderConcurrency(1))
	_, _ = zw.Write(payload)
	_ = zw.Close()
	bw := brotli.NewWriterOptions(&bb, brotli.WriterOptions{Quality: 5, LGWin: 16})
	_, _ = bw.Write(payload)
	_ = bw.Close()
	for ce, body := range map[string][]byte{"zstd": zb.Bytes(), "br": bb.Bytes()} {
		rec := do(t, m, echo, post(ce, body))
		if rec.Code != 200 || !bytes.Equal(rec.Body.Bytes(), payload) {
			t.Errorf("%s: status %d, %d bytes", ce, rec.Code, rec.Body.Len())
		}
	}
}

// flushCounter is a ResponseWriter that keeps only a byte count.
type flushCounter struct {
	h http.Header
	n int
}

func (f *flushCounter) Header() http.Header         { return f.h }
func (f *flushCounter) WriteHeader(int)             {}
func (f *flushCounter) Write(p []byte) (int, error) { f.n += len(p); return len(p), nil }
func (f *flushCounter) Flush()                      {}

func TestIdleEventStreamsHoldLittleMemory(t *testing.T) {
	const n = 100
	events := make([][]byte, 8)
	for i := range events {
		events[i] = fmt.Appendf(nil, "id: %d\ndata: %s\n\n", i, jsonBody(200+i*500))
	}
	for _, enc := range []string{"zstd", "br", "gzip", "deflate"} {
		t.Run(enc, func(t *testing.T) {
			m := newMW(t, compress.Config{})
			idle := make(chan struct{}, n)
			release := make(chan struct{})
			var wg sync.WaitGroup
			ws := make([]*flushCounter, n)
			var ms0, ms1 runtime.MemStats
			runtime.GC()
			runtime.GC()
			runtime.ReadMemStats(&ms0)
			var ce string
			for i := range n {
				ws[i] = &flushCounter{h: http.Header{}}
				wg.Add(1)
				go func() {
					defer wg.Done()
					m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
						w.Header().Set("Content-Type", "text/event-stream")
						for _, e := range events {
							_, _ = w.Write(e)
							w.(http.Flusher).Flush()
						}
						idle <- struct{}{}
						<-release
					})).ServeHTTP(ws[i], get(enc))
				}()
			}
			for range n {
				<-idle
			}
			runtime.GC()
			runtime.ReadMemStats(&ms1)
			// What the client gets: the handler's own map is detached once
			// the status is committed, as with a bare net/http writer.
			ce = ws[0].h.Get("Content-Encoding")
			close(release)
			wg.Wait()
			per := (ms1.HeapAlloc - min(ms1.HeapAlloc, ms0.HeapAlloc)) / n
			t.Logf("%s (Content-Encoding %q): %d KiB per idle event stream, %d bytes sent each", enc, ce, per>>10, ws[0].n)
			if ce != enc {
				t.Errorf("Content-Encoding %q, want %q", ce, enc)
			}
			if per > 64<<10 {
				t.Errorf("%d bytes per idle event stream, want at most 64 KiB", per)
			}
		})
	}
}

func TestStreamedResponsesDecodeInEveryCoding(t *testing.T) {
	body := jsonBody(300 << 10)
	for _, enc := range []string{"zstd", "br", "gzip", "deflate"} {
		m := newMW(t, compress.Config{})
		rec := do(t, m, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/event-stream")
			w.(http.Flusher).Flush()
			for p := body; len(p) > 0; p = p[min(len(p), 7000):] {
				_, _ = w.Write(p[:min(len(p), 7000)])
				if len(p)%3 == 0 {
					w.(http.Flusher).Flush()
				}
			}
			_, _ = w.Write(body[:100000]) // one large write
		}, get(enc))
		if got := rec.Header().Get("Content-Encoding"); got != enc {
			t.Fatalf("%s: Content-Encoding %q", enc, got)
		}
		want := append(append([]byte(nil), body...), body[:100000]...)
		if out := decode(t, enc, rec.Body.Bytes()); !bytes.Equal(out, want) {
			t.Fatalf("%s: decoded %d bytes, want %d", enc, len(out), len(want))
		}
		if rec.Body.Len() > len(want)/3 {
			t.Errorf("%s: %d bytes for %d: hardly compressed", enc, rec.Body.Len(), len(want))
		}
		// Empty streams are valid too.
		rec = do(t, m, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/event-stream")
			w.(http.Flusher).Flush()
		}, get(enc))
		if out := decode(t, enc, rec.Body.Bytes()); len(out) != 0 {
			t.Fatalf("%s: empty stream decoded to %q", enc, out)
		}
	}
}
