package compress_test

import (
	"bytes"
	"encoding/binary"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"sync"
	"testing"

	"github.com/jiec/httpmw/cache"
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
	m := newMW(t, compress.Config{Jitter: 200, Encodings: []string{compress.Zstd, compress.Gzip}})
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
	t.Run("gzip: header comment keyed by the body", func(t *testing.T) {
		comment := func(b []byte) int {
			t.Helper()
			zr, err := gzip.NewReader(bytes.NewReader(b))
			if err != nil {
				t.Fatal(err)
			}
			if n := len(zr.Comment); n < 1 || n > 200 {
				t.Fatalf("comment of %d bytes, want 1..200", n)
			}
			return len(zr.Comment)
		}
		a := do(t, m, h, get("gzip")).Body.Bytes()
		comment(a)
		if got := decode(t, "gzip", a); !bytes.Equal(got, body) {
			t.Fatal("padded gzip does not decode")
		}
		// The same body gets the same bytes, however it is written: repeating
		// a request cannot average the padding away, and an outer cache
		// generates the same ETag every time.
		json := map[string]string{"Content-Type": "application/json"}
		for name, hh := range map[string]http.HandlerFunc{
			"again":               h,
			"in 7-byte pieces":    write(json, 0, body, 7),
			"in 1500-byte ones":   write(json, 0, body, 1500),
			"with Content-Length": write(map[string]string{"Content-Type": "application/json", "Content-Length": "4096"}, 0, body, 100),
		} {
			if b := do(t, m, hh, get("gzip")).Body.Bytes(); !bytes.Equal(a, b) {
				t.Errorf("same body written %s: %d bytes, want the same %d bytes", name, len(b), len(a))
			}
		}
		// Different bodies draw different lengths; so does another
		// Middleware (another secret seed) for the same bodies.
		other := newMW(t, compress.Config{Jitter: 200, Encodings: []string{compress.Zstd, compress.Gzip}})
		lengths, sameSeedless := map[int]bool{}, true
		for i := range 32 {
			hi := write(json, 0, append([]byte(strconv.Itoa(i)), body...), 0)
			n := comment(do(t, m, hi, get("gzip")).Body.Bytes())
			lengths[n] = true
			if comment(do(t, other, hi, get("gzip")).Body.Bytes()) != n {
				sameSeedless = false
			}
		}
		if len(lengths) < 8 {
			t.Errorf("32 bodies drew %d distinct padding lengths, want them to vary", len(lengths))
		}
		if sameSeedless {
			t.Error("another Middleware padded 32 bodies exactly alike: the length is not keyed by a secret seed")
		}
		// The length is keyed by the first MinSize bytes only (the comment is
		// in the gzip header, written before the rest of the body is known):
		// bodies that differ only after them are padded alike. Documented
		// limitation; zstd's padding is keyed by the whole body.
		tail := do(t, m, write(json, 0, append(body[:2048:2048], "different tail"...), 0), get("gzip")).Body.Bytes()
		if comment(tail) != comment(a) {
			t.Error("bodies with the same first MinSize bytes got different padding lengths")
		}
		// A stream flushed before MinSize bytes starts at the flush, padded.
		flushed := do(t, m, func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/event-stream")
			_, _ = w.Write(body[:100])
			w.(http.Flusher).Flush()
			_, _ = w.Write(body[100:])
		}, get("gzip")).Body.Bytes()
		comment(flushed)
		if got := decode(t, "gzip", flushed); !bytes.Equal(got, body) {
			t.Fatal("flushed padded gzip does not decode")
		}
	})
	t.Run("gzip: cache outside compress generates a stable ETag", func(t *testing.T) {
		ca, err := cache.New(cache.Config{})
		if err != nil {
			t.Fatal(err)
		}
		hh := ca.Handler(m.Handler(h))
		var tags []string
		for range 2 {
			rec := httptest.NewRecorder()
			hh.ServeHTTP(rec, get("gzip"))
			tags = append(tags, rec.Header().Get("Etag"))
		}
		if tags[0] == "" || tags[0] != tags[1] {
			t.Errorf("ETags %q, want one stable tag", tags)
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
