package negotiate_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/jiec/httpmw/negotiate"
)

const chromeAccept = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8"

var sinkString string

func BenchmarkMediaTypeChrome(b *testing.B) {
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("Accept", chromeAccept)
	b.ReportAllocs()
	for b.Loop() {
		sinkString, _ = negotiate.MediaType(r, "application/json", "text/html", "text/csv")
	}
}

func BenchmarkLanguage5Offers(b *testing.B) {
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("Accept-Language", "fr-CH, fr;q=0.9, en;q=0.8, de;q=0.7, *;q=0.5")
	b.ReportAllocs()
	for b.Loop() {
		sinkString, _ = negotiate.Language(r, "en", "en-GB", "de", "fr", "es")
	}
}

func BenchmarkCharset(b *testing.B) {
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("Accept-Charset", "iso-8859-1;q=0.5, utf-8")
	b.ReportAllocs()
	for b.Loop() {
		sinkString, _ = negotiate.Charset(r, "utf-8", "iso-8859-1")
	}
}

type nopWriter struct{ h http.Header }

func (w *nopWriter) Header() http.Header         { return w.h }
func (w *nopWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *nopWriter) WriteHeader(int)             {}

func BenchmarkMiddlewareChrome(b *testing.B) {
	m, err := negotiate.New(negotiate.Config{
		Types:     []string{"application/json", "text/html", "text/csv"},
		Languages: []string{"en", "fr"},
	})
	if err != nil {
		b.Fatal(err)
	}
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sinkString = negotiate.Result(r.Context()).MediaType
	}))
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("Accept", chromeAccept)
	r.Header.Set("Accept-Language", "en-US,en;q=0.9")
	w := &nopWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		h.ServeHTTP(w, r)
	}
}

func BenchmarkMediaTypeFetch(b *testing.B) {
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("Accept", "application/json, text/plain, */*")
	b.ReportAllocs()
	for b.Loop() {
		sinkString, _ = negotiate.MediaType(r, "application/json", "text/html", "text/csv")
	}
}
