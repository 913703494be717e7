package compress_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/andybalholm/brotli"
	"github.com/jiec/httpmw/compress"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zlib"
	"github.com/klauspost/compress/zstd"
)

// jsonBody returns a JSON document of about n bytes.
func jsonBody(n int) []byte {
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

// newMW builds a middleware or fails the test.
func newMW(t testing.TB, cfg compress.Config) *compress.Middleware {
	t.Helper()
	m, err := compress.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return m
}

// do runs one request through m around h.
func do(t testing.TB, m *compress.Middleware, h http.HandlerFunc, req *http.Request) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler(h).ServeHTTP(rec, req)
	return rec
}

func get(ae ...string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	for _, v := range ae {
		r.Header.Add("Accept-Encoding", v)
	}
	return r
}

// decode undoes the content coding ce.
func decode(t testing.TB, ce string, b []byte) []byte {
	t.Helper()
	var r io.Reader
	var err error
	switch ce {
	case "":
		return b
	case "gzip":
		r, err = gzip.NewReader(bytes.NewReader(b))
	case "deflate":
		r, err = zlib.NewReader(bytes.NewReader(b))
	case "br":
		r = brotli.NewReader(bytes.NewReader(b))
	case "zstd":
		var d *zstd.Decoder
		d, err = zstd.NewReader(bytes.NewReader(b), zstd.WithDecoderConcurrency(1))
		if err == nil {
			defer d.Close()
		}
		r = d
	default:
		t.Fatalf("unexpected Content-Encoding %q", ce)
	}
	if err != nil {
		t.Fatalf("%s reader: %v", ce, err)
	}
	out, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("%s decode: %v", ce, err)
	}
	return out
}

// encode applies the content coding ce (for request bodies).
func encode(t testing.TB, ce string, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	var w io.WriteCloser
	switch ce {
	case "gzip", "x-gzip":
		w = gzip.NewWriter(&buf)
	case "deflate":
		w = zlib.NewWriter(&buf)
	case "br":
		w = brotli.NewWriter(&buf)
	case "zstd":
		z, _ := zstd.NewWriter(&buf, zstd.WithEncoderConcurrency(1))
		w = z
	default:
		t.Fatalf("encode: unknown %q", ce)
	}
	if _, err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func varyHas(h http.Header, name string) int {
	n := 0
	for _, v := range h.Values("Vary") {
		for _, e := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(e), name) {
				n++
			}
		}
	}
	return n
}
