package bench

import (
	"encoding/base64"
	"encoding/binary"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/cespare/xxhash/v2"

	"github.com/jiec/httpmw/cache"
)

// TestCacheETagIsXXH64OfBody checks the generated ETags against an
// independent XXH64 (cespare/xxhash): bodies of every length up to 1 KiB and
// some larger ones, written in random pieces.
func TestCacheETagIsXXH64OfBody(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var body []byte
	h := cache.Handler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		for p := body; len(p) > 0; {
			n := min(len(p), 1+rng.IntN(100))
			_, _ = w.Write(p[:n])
			p = p[n:]
		}
		if len(body) == 0 {
			w.WriteHeader(http.StatusOK)
		}
	}))
	sizes := []int{4 << 10, 64<<10 + 3, 1 << 20}
	for n := range 1025 {
		sizes = append(sizes, n)
	}
	for _, n := range sizes {
		body = make([]byte, n)
		for i := range body {
			body[i] = byte(rng.Uint32())
		}
		var raw [12]byte
		binary.BigEndian.PutUint64(raw[:8], xxhash.Sum64(body))
		binary.BigEndian.PutUint32(raw[8:], uint32(n))
		want := `"` + base64.RawURLEncoding.EncodeToString(raw[:]) + `"`
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
		if got := rec.Header().Get("Etag"); got != want {
			t.Fatalf("%d bytes: ETag %s, want %s", n, got, want)
		}
	}
}
