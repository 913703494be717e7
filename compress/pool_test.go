package compress_test

import (
	"bytes"
	"encoding/binary"
	"net/http"
	"runtime"
	"sync"
	"testing"

	"github.com/jiec/httpmw/compress"
	"github.com/klauspost/compress/gzip"
)

// TestPanickingHandlerDoesNotPoisonThePool: a handler that panics mid-body
// (http.ErrAbortHandler) leaves its encoder half-written and its response
// mid-state; neither may go back to a pool, and later responses are intact.
func TestPanickingHandlerDoesNotPoisonThePool(t *testing.T) {
	m := newMW(t, compress.Config{})
	body := jsonBody(8192)
	for _, enc := range []string{"zstd", "br", "gzip", "deflate"} {
		var resp, e any
		func() {
			defer func() {
				if recover() != http.ErrAbortHandler {
					t.Errorf("%s: panic not propagated", enc)
				}
			}()
			do(t, m, func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				_, _ = w.Write(body[:5000])
				resp, e = compress.Internals(w)
				panic(http.ErrAbortHandler)
			}, get(enc))
		}()
		if e == nil {
			t.Fatalf("%s: no encoder in use when the handler panicked", enc)
		}
		for _, x := range compress.Drain(m, enc) {
			if x == resp || x == e {
				t.Fatalf("%s: the panicked response's %T went back to its pool", enc, x)
			}
		}
		for range 3 {
			rec := do(t, m, write(map[string]string{"Content-Type": "application/json"}, 0, body, 0), get(enc))
			if got := decode(t, enc, rec.Body.Bytes()); !bytes.Equal(got, body) {
				t.Fatalf("%s: response after a panic is corrupt", enc)
			}
		}
	}
}
func TestConcurrentResponsesStaySeparate(t *testing.T) {
	m := newMW(t, compress.Config{})
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			enc := []string{"zstd", "br", "gzip", "deflate"}[i%4]
			body := jsonBody(2000 + i*1000)
			for range 10 {
				rec := do(t, m, write(map[string]string{"Content-Type": "application/json"}, 0, body, 700), get(enc))
				if got := decode(t, enc, rec.Body.Bytes()); !bytes.Equal(got, body) {
					t.Errorf("%s: body mixed up", enc)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func TestJitterPadsResponses(t *testing.T) {
	m := newMW(t, compress.Config{Jitter: 200})
	body := jsonBody(4096)
	h := write(map[string]string{"Content-Type": "application/json"}, 0, body, 0)
	plain := newMW(t, compress.Config{})

	t.Run("zstd: skippable frame keyed by the body", func(t *testing.T) {
		a := do(t, m, h, get("zstd")).Body.Bytes()
		b := do(t, m, h, get("zstd")).Body.Bytes()
		base := do(t, plain, h, get("zstd")).Body.Bytes()
		if !bytes.Equal(a, b) {
			t.Errorf("same body, different padding: %d vs %d bytes", len(a), len(b))
		}
		pad := len(a) - len(base)
		if pad < 9 || pad > 8+200 {
			t.Fatalf("padding %d bytes, want 9..208", pad)
		}
		frame := a[len(base):]
		if binary.LittleEndian.Uint32(frame) != 0x184D2A50 || int(binary.LittleEndian.Uint32(frame[4:])) != pad-8 {
			t.Fatalf("trailing bytes are not a skippable frame: % x", frame[:8])
		}
		if got := decode(t, "zstd", a); !bytes.Equal(got, body) {
			t.Fatal("padded zstd does not decode")
		}
		other := do(t, m, write(map[string]string{"Content-Type": "application/json"}, 0, jsonBody(4097), 0), get("zstd")).Body.Bytes()
		_ = other // a different body draws another length (not asserted: 1/200 collide)
	})
	t.Run("gzip: header comment", func(t *testing.T) {
		a := do(t, m, h, get("gzip")).Body.Bytes()
		zr, err := gzip.NewReader(bytes.NewReader(a))
		if err != nil {
			t.Fatal(err)
		}
		if n := len(zr.Comment); n < 1 || n > 200 {
			t.Fatalf("comment of %d bytes, want 1..200", n)
		}
		if got := decode(t, "gzip", a); !bytes.Equal(got, body) {
			t.Fatal("padded gzip does not decode")
		}
	})
	t.Run("default encodings drop br and deflate", func(t *testing.T) {
		if got := do(t, m, h, get("br, deflate")).Header().Get("Content-Encoding"); got != "" {
			t.Fatalf("Content-Encoding = %q, want none", got)
		}
	})
}

// TestMemoryPerInFlightResponse measures the heap held by each response that
// is being compressed (encoder state plus our buffers), with 32 responses in
// flight, and checks it against the documented bounds.
func TestMemoryPerInFlightResponse(t *testing.T) {
	if testing.Short() {
		t.Skip("measures the heap")
	}
	const inFlight = 32
	bounds := map[string]uint64{"zstd": 1 << 20, "br": 5 << 19, "gzip": 5 << 18, "deflate": 5 << 18}
	body := jsonBody(64 << 10)
	for _, enc := range []string{"zstd", "br", "gzip", "deflate"} {
		m := newMW(t, compress.Config{}) // fresh pools
		started := make(chan struct{})
		release := make(chan struct{})
		var wg sync.WaitGroup
		var ms0, ms1 runtime.MemStats
		runtime.GC()
		runtime.GC() // empty the victim caches of earlier pools
		runtime.ReadMemStats(&ms0)
		for range inFlight {
			wg.Add(1)
			go func() {
				defer wg.Done()
				do(t, m, func(w http.ResponseWriter, _ *http.Request) {
					w.Header().Set("Content-Type", "application/json")
					_, _ = w.Write(body)
					w.(http.Flusher).Flush()
					started <- struct{}{}
					<-release
				}, get(enc))
			}()
		}
		for range inFlight {
			<-started
		}
		runtime.GC()
		runtime.ReadMemStats(&ms1)
		close(release)
		wg.Wait()
		// Each recorder holds the compressed output; subtract an estimate.
		per := (ms1.HeapAlloc - min(ms1.HeapAlloc, ms0.HeapAlloc)) / inFlight
		t.Logf("%s: %d KiB per in-flight response (including the recorder's copy of the compressed output)", enc, per>>10)
		if per > bounds[enc] {
			t.Errorf("%s: %d bytes per in-flight response, want <= %d", enc, per, bounds[enc])
		}
	}
}
