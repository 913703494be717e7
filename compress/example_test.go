package compress_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/jiec/httpmw/compress"
)

func Example() {
	api := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("ETag", `"v7"`)
		fmt.Fprint(w, `{"items":[`+strings.Repeat(`{"name":"widget","price":10},`, 100)+`{}]}`)
	})
	h := compress.Handler(api) // zero Config: zstd, br, gzip, deflate; 1 KiB minimum

	req := httptest.NewRequest(http.MethodGet, "/items", nil)
	req.Header.Set("Accept-Encoding", "gzip, deflate, br, zstd")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)

	fmt.Println(rec.Header().Get("Content-Encoding"))
	fmt.Println(rec.Header().Get("Vary"))
	fmt.Println(rec.Header().Get("ETag"))
	// Output:
	// zstd
	// Accept-Encoding
	// "v7-zstd"
}

func ExampleMiddleware_Handler() {
	m, err := compress.New(compress.Config{
		Encodings: []string{"br", "gzip"}, // server preference for equal q-values
		GzipLevel: 6,
		MinSize:   256,
	})
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /page", func(w http.ResponseWriter, _ *http.Request) {
		// No Content-Type: sniffed from the body (text/html), then compressed.
		fmt.Fprint(w, "<!doctype html><p>"+strings.Repeat("hello ", 100))
	})
	h := m.Handler(mux)

	for _, ae := range []string{"gzip, br", "gzip;q=1, br;q=0.5", "br;q=0", ""} {
		req := httptest.NewRequest(http.MethodGet, "/page", nil)
		req.Header.Set("Accept-Encoding", ae)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		fmt.Printf("%-20q -> %q %s\n", ae, rec.Header().Get("Content-Encoding"), rec.Header().Get("Content-Type"))
	}
	// Output:
	// "gzip, br"           -> "br" text/html; charset=utf-8
	// "gzip;q=1, br;q=0.5" -> "gzip" text/html; charset=utf-8
	// "br;q=0"             -> "" text/html; charset=utf-8
	// ""                   -> "" text/html; charset=utf-8
}

func ExampleConfig_decompressRequests() {
	m, _ := compress.New(compress.Config{
		DecompressRequests: true,
		MaxRequestSize:     1 << 20, // decoded bytes; past it: 413 problem+json
	})
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "ok")
	}))

	req := httptest.NewRequest(http.MethodPost, "/upload", strings.NewReader("..."))
	req.Header.Set("Content-Encoding", "lzma")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	fmt.Println(rec.Code, rec.Header().Get("Content-Type"))
	fmt.Println(rec.Header().Get("Accept-Encoding"))
	// Output:
	// 415 application/problem+json
	// gzip, br, zstd, deflate
}

// New reports every problem of a Config at once, each naming its field.
func ExampleNew() {
	_, err := compress.New(compress.Config{
		Encodings: []string{"gzip", "lz4"},
		GzipLevel: 12,
		MinSize:   -2,
	})
	fmt.Println(err)
	// Output:
	// compress: Encodings: unknown coding, want zstd, br, gzip or deflate (value "lz4")
	// compress: GzipLevel: must be 1..9 (value "12")
	// compress: MinSize: must be 0 (default), AnySize (-1) or 1..65536 (value "-2")
}

// A request body that is not valid in its Content-Encoding fails the
// handler's Read with ErrCorruptRequest, and the answer is 400.
func ExampleConfig_corruptRequest() {
	m, _ := compress.New(compress.Config{DecompressRequests: true})
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.ReadAll(r.Body); errors.Is(err, compress.ErrCorruptRequest) {
			fmt.Println("handler: corrupt body")
			return
		}
		fmt.Fprintln(w, "ok")
	}))
	req := httptest.NewRequest(http.MethodPost, "/upload", strings.NewReader("not gzip at all"))
	req.Header.Set("Content-Encoding", "gzip")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	fmt.Println(rec.Code, rec.Header().Get("Content-Type"))
	// Output:
	// handler: corrupt body
	// 400 application/problem+json
}

// AnySize compresses even the smallest bodies; Unlimited lifts the cap on
// decoded request bodies (the ratio guard stays). Jitter needs Encodings.
func ExampleConfig_sentinels() {
	_, err := compress.New(compress.Config{MinSize: compress.AnySize, MaxRequestSize: compress.Unlimited})
	fmt.Println(err)
	_, err = compress.New(compress.Config{Jitter: 32})
	fmt.Println(err != nil)
	_, err = compress.New(compress.Config{Jitter: 32, Encodings: []string{compress.Zstd, compress.Gzip}})
	fmt.Println(err)
	// Output:
	// <nil>
	// true
	// <nil>
}
