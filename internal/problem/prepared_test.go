package problem_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/jiec/httpmw/internal/problem"
	"github.com/jiec/httpmw/internal/traceid"
)

type carrier string

func (c carrier) TraceID() string { return string(c) }

// A Prepared document is byte-for-byte what Write sends, for every method
// and with or without a trace id, and costs no allocation without one.
func TestPreparedWritesWhatWriteWrites(t *testing.T) {
	d := problem.Details{Status: http.StatusForbidden, Detail: `origin "x" not allowed`}
	p := problem.Prepare(d)
	for _, method := range []string{http.MethodGet, http.MethodHead} {
		for _, id := range []string{"", "trace-1"} {
			r := httptest.NewRequest(method, "/", nil)
			if id != "" {
				r = r.WithContext(traceid.With(context.Background(), carrier(id)))
			}
			want, got := httptest.NewRecorder(), httptest.NewRecorder()
			for _, rec := range []*httptest.ResponseRecorder{want, got} {
				rec.Header().Set("ETag", `"v1"`)
				rec.Header().Set("Content-Encoding", "gzip")
			}
			problem.Write(want, r, d)
			p.Write(got, r)
			if got.Code != want.Code || got.Body.String() != want.Body.String() {
				t.Errorf("%s id=%q: got %d %q, want %d %q", method, id, got.Code, got.Body, want.Code, want.Body)
			}
			for _, k := range []string{"Content-Type", "Content-Length", "X-Content-Type-Options", "Etag", "Content-Encoding"} {
				if g, w := got.Header().Get(k), want.Header().Get(k); g != w {
					t.Errorf("%s id=%q: %s = %q, want %q", method, id, k, g, w)
				}
			}
		}
	}
	w := &nopWriter{h: http.Header{}}
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	if n := testing.AllocsPerRun(100, func() { clear(w.h); p.Write(w, r) }); n != 0 {
		t.Errorf("Prepared.Write allocates %v times, want 0", n)
	}
}

type nopWriter struct{ h http.Header }

func (w *nopWriter) Header() http.Header         { return w.h }
func (w *nopWriter) WriteHeader(int)             {}
func (w *nopWriter) Write(p []byte) (int, error) { return len(p), nil }

// An outer layer that edits the header values of one answer in place must
// not change the next answer.
func TestPreparedAnswersShareNoHeaderValues(t *testing.T) {
	p := problem.Prepare(problem.Details{Status: http.StatusForbidden})
	first := httptest.NewRecorder()
	p.Write(first, httptest.NewRequest("GET", "/", nil))
	want := first.Header().Clone()
	for _, v := range first.Header() {
		for i := range v {
			v[i] = "clobbered"
		}
	}
	second := httptest.NewRecorder()
	p.Write(second, httptest.NewRequest("GET", "/", nil))
	for k := range want {
		if got := second.Header().Get(k); got != want.Get(k) {
			t.Errorf("%s = %q after editing the previous answer, want %q", k, got, want.Get(k))
		}
	}
}
