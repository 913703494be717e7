package writer_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/jiec/httpmw/internal/writer"
)

// discardRW is a reusable ResponseWriter that allocates nothing itself, so
// that the benchmarks count only what the Writer costs.
type discardRW struct{ h http.Header }

func (d *discardRW) Header() http.Header         { return d.h }
func (d *discardRW) WriteHeader(int)             {}
func (d *discardRW) Write(p []byte) (int, error) { return len(p), nil }
func (d *discardRW) Flush()                      {}

var benchBody = []byte(strings.Repeat("x", 512))

func benchHandler(flush bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(benchBody)
		if flush {
			w.(http.Flusher).Flush()
		}
		_, _ = w.Write(benchBody)
	})
}

// newPerRequest wraps with writer.New (no pool): one allocation per request.
func newPerRequest(next http.Handler) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(writer.New(rw, nil), r)
	})
}

type pooledBody struct {
	writer.Writer
	n int
}

func (p *pooledBody) Header(int) bool { return true }
func (p *pooledBody) Body(b []byte) (int, error) {
	p.n += len(b)
	return p.WriteDown(b)
}
func (p *pooledBody) Flush() error { return nil }

var pooledBodyPool = sync.Pool{New: func() any { return new(pooledBody) }}

// bodyMW is a pooled middleware with a pass-through BodyInterceptor.
func bodyMW(next http.Handler) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		p := pooledBodyPool.Get().(*pooledBody)
		p.n = 0
		p.Reset(rw, p)
		next.ServeHTTP(&p.Writer, r)
		p.Reset(nil, nil)
		pooledBodyPool.Put(p)
	})
}

var varyWriterPool = sync.Pool{New: func() any { return new(writer.Writer) }}

// pooledVary is a pooled middleware with a Vary dimension, registered on the
// httpmw Writer outside when there is one (as cors does).
func pooledVary(names []string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			if writer.Vary(rw, names) {
				next.ServeHTTP(rw, r)
				return
			}
			w := varyWriterPool.Get().(*writer.Writer)
			w.Reset(rw, nil)
			w.Vary(names)
			next.ServeHTTP(w, r)
			w.Done()
			w.Reset(nil, nil)
			varyWriterPool.Put(w)
		})
	}
}

var benchWraps = []struct {
	name string
	wrap func(http.Handler) http.Handler
}{
	{"wrap=none", func(h http.Handler) http.Handler { return h }},
	{"wrap=pooled", observe(nil)},
	{"wrap=pooled3", chain(observe(nil), observe(nil), observe(nil))},
	{"wrap=pooledBody", bodyMW},
	{"wrap=new", newPerRequest},
	// Two Vary layers (one registered on the other's Writer) over a holder
	// and an observer: registration, the merge at the commit, the header
	// copy while the status is held.
	{"wrap=vary2+hold", chain(pooledVary(varyOrigin), pooledVary(varyAE), pooledHoldMW, observe(nil))},
}

type pooledHolder struct{ holder }

var holderPool = sync.Pool{New: func() any { return new(pooledHolder) }}

// pooledHoldMW is holdMW with a pooled holder.
func pooledHoldMW(next http.Handler) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		h := holderPool.Get().(*pooledHolder)
		h.buf = h.buf[:0]
		h.Reset(rw, h)
		next.ServeHTTP(&h.Writer, r)
		if h.Committed() && len(h.buf) > 0 {
			_, _ = h.WriteDown(h.buf)
		}
		h.Done()
		h.Reset(nil, nil)
		holderPool.Put(h)
	})
}

// BenchmarkRequest measures one request through an in-memory writer: a
// wrapped request must cost at most one allocation more than a bare one, and
// none more with a pooled Writer.
func BenchmarkRequest(b *testing.B) {
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	for _, flush := range []bool{false, true} {
		for _, bw := range benchWraps {
			name := "flush=false/" + bw.name
			if flush {
				name = "flush=true/" + bw.name
			}
			b.Run(name, func(b *testing.B) {
				h := bw.wrap(benchHandler(flush))
				rw := &discardRW{h: make(http.Header)}
				b.ReportAllocs()
				for b.Loop() {
					h.ServeHTTP(rw, req)
				}
			})
		}
	}
}

// BenchmarkServer measures whole HTTP/1.1 round trips through httptest.Server.
func BenchmarkServer(b *testing.B) {
	for _, bw := range benchWraps {
		b.Run(bw.name, func(b *testing.B) {
			ts := httptest.NewServer(bw.wrap(benchHandler(true)))
			defer ts.Close()
			c := ts.Client()
			b.ReportAllocs()
			for b.Loop() {
				res, err := c.Get(ts.URL)
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, res.Body)
				res.Body.Close()
			}
		})
	}
}

func TestWrappedRequestAllocations(t *testing.T) {
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	rw := &discardRW{h: make(http.Header)}
	h := benchHandler(true)
	bare := testing.AllocsPerRun(100, func() { h.ServeHTTP(rw, req) })
	// A reused Writer (what a pooled per-request struct gives) adds nothing,
	// also with a BodyInterceptor; writer.New adds exactly the Writer.
	var o observer
	var p pooledBody
	reused := testing.AllocsPerRun(100, func() {
		o.Reset(rw, &o)
		p.Reset(&o.Writer, &p)
		h.ServeHTTP(&p.Writer, req)
	})
	fresh := testing.AllocsPerRun(100, func() { h.ServeHTTP(writer.New(rw, nil), req) })
	if reused != bare || fresh != bare+1 {
		t.Errorf("allocations per request: bare %v, reused Writers %v (want %v), writer.New %v (want %v)", bare, reused, bare, fresh, bare+1)
	}
}
