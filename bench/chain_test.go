package bench

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"
)

// The chain benchmarks send the same requests through the bare handler
// (Handler), the recommended httpmw chain (OursChain) and the peers' chain
// (PeersChain). w=reused clears one discarding writer's header map between
// requests (the middleware's own cost); w=recorder gives every request a
// fresh httptest.ResponseRecorder, whose header map grows with the number of
// fields the chain sets, as a server's does.
//
// Cases: GET of 2 KiB without and with an allowed Origin, a CORS preflight,
// a revalidation (If-None-Match with httpmw's generated ETag: 304 from
// httpmw; the peers have no validators and send the 200), and GET of 32 KiB
// without and with Accept-Encoding: gzip.

type chainCase struct {
	name   string
	req    func(etag string) *http.Request
	status map[string]int // expected status per chain
}

func chainRequest(method, target string, hdr ...string) *http.Request {
	r := httptest.NewRequest(method, target, nil)
	for i := 0; i < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	return r
}

func chainCases() []chainCase {
	ok := map[string]int{"bare": 200, "httpmw": 200, "peers": 200}
	return []chainCase{
		{"get", func(string) *http.Request { return chainRequest("GET", "/2k") }, ok},
		{"get-origin", func(string) *http.Request { return chainRequest("GET", "/2k", "Origin", ChainOrigin) }, ok},
		{"preflight", func(string) *http.Request {
			return chainRequest("OPTIONS", "/2k", "Origin", ChainOrigin, "Access-Control-Request-Method", "POST")
		}, map[string]int{"bare": 200, "httpmw": 204, "peers": 204}},
		{"304", func(etag string) *http.Request { return chainRequest("GET", "/2k", "If-None-Match", etag) },
			map[string]int{"bare": 200, "httpmw": 304, "peers": 200}},
		{"32k", func(string) *http.Request { return chainRequest("GET", "/32k") }, ok},
		{"32k-gzip", func(string) *http.Request { return chainRequest("GET", "/32k", "Accept-Encoding", "gzip") }, ok},
	}
}

type chainImpl struct {
	name string
	h    http.Handler
}

func chainImpls(tb testing.TB) (impls []chainImpl, etag string) {
	h := Handler()
	ours, err := OursChain(h)
	if err != nil {
		tb.Fatal(err)
	}
	peers, err := PeersChain(h)
	if err != nil {
		tb.Fatal(err)
	}
	w := httptest.NewRecorder()
	ours.ServeHTTP(w, chainRequest("GET", "/2k"))
	etag = w.Header().Get("ETag")
	if etag == "" {
		tb.Fatal("httpmw chain sent no ETag")
	}
	return []chainImpl{{"bare", h}, {"httpmw", ours}, {"peers", peers}}, etag
}

// discardWriter is a ResponseWriter whose header map is reused and whose
// body goes nowhere.
type discardWriter struct {
	h    http.Header
	code int
}

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *discardWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
}

func TestChainBenchmarkCases(t *testing.T) {
	impls, etag := chainImpls(t)
	for _, c := range chainCases() {
		for _, impl := range impls {
			r := c.req(etag)
			w := httptest.NewRecorder()
			impl.h.ServeHTTP(w, r)
			if w.Code != c.status[impl.name] {
				t.Errorf("%s %s: status %d, want %d", c.name, impl.name, w.Code, c.status[impl.name])
			}
			if impl.name != "bare" && c.name == "32k-gzip" && w.Header().Get("Content-Encoding") != "gzip" {
				t.Errorf("%s %s: Content-Encoding %q", c.name, impl.name, w.Header().Get("Content-Encoding"))
			}
		}
	}
}

func BenchmarkChain(b *testing.B) {
	impls, etag := chainImpls(b)
	for _, c := range chainCases() {
		for _, impl := range impls {
			r := c.req(etag)
			b.Run("case="+c.name+"/w=reused/impl="+impl.name, func(b *testing.B) {
				w := &discardWriter{h: make(http.Header)}
				b.ReportAllocs()
				for b.Loop() {
					clear(w.h)
					w.code = 0
					impl.h.ServeHTTP(w, r)
				}
			})
			b.Run("case="+c.name+"/w=recorder/impl="+impl.name, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					impl.h.ServeHTTP(httptest.NewRecorder(), r)
				}
			})
		}
	}
}

// BenchmarkChainPaired runs the bare handler, the httpmw chain and the
// peers' chain in alternation, 100 requests at a time, and reports per case
// and writer the median of the paired ratios httpmw/peers (and the median
// time per request of each): on a loaded machine absolute times drift by
// several times within seconds, ratios of neighbouring slices of time do
// not. Run it with -benchtime 200x.
func BenchmarkChainPaired(b *testing.B) {
	impls, etag := chainImpls(b)
	for _, c := range chainCases() {
		r := c.req(etag)
		for _, wname := range []string{"reused", "recorder"} {
			b.Run("case="+c.name+"/w="+wname, func(b *testing.B) {
				w := &discardWriter{h: make(http.Header)}
				serve := func(h http.Handler) {
					if wname == "reused" {
						clear(w.h)
						w.code = 0
						h.ServeHTTP(w, r)
						return
					}
					h.ServeHTTP(httptest.NewRecorder(), r)
				}
				times := make([][]float64, len(impls))
				var ratios []float64
				for b.Loop() {
					const n = 100
					for i, impl := range impls {
						t0 := time.Now()
						for range n {
							serve(impl.h)
						}
						times[i] = append(times[i], float64(time.Since(t0).Nanoseconds())/n)
					}
					k := len(times[1]) - 1
					ratios = append(ratios, times[1][k]/times[2][k])
				}
				for i, impl := range impls {
					b.ReportMetric(medianOf(times[i]), impl.name+"-ns/req")
				}
				b.ReportMetric(medianOf(ratios), "httpmw/peers")
			})
		}
	}
}

func medianOf(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}

// TestChainsSendTheSameSecurityHeaders: the peers' chain is configured with
// httpmw's security defaults, so the load runs compare the same security
// fields on every response (both plain HTTP: no HSTS).
func TestChainsSendTheSameSecurityHeaders(t *testing.T) {
	impls, _ := chainImpls(t)
	fields := []string{"Strict-Transport-Security", "Content-Security-Policy", "X-Content-Type-Options",
		"X-Frame-Options", "Referrer-Policy", "Permissions-Policy", "Cross-Origin-Opener-Policy",
		"Cross-Origin-Resource-Policy", "Cross-Origin-Embedder-Policy", "Origin-Agent-Cluster",
		"X-Dns-Prefetch-Control", "X-Permitted-Cross-Domain-Policies", "X-Xss-Protection"}
	got := map[string]http.Header{}
	for _, impl := range impls[1:] {
		w := httptest.NewRecorder()
		impl.h.ServeHTTP(w, chainRequest("GET", "/2k"))
		got[impl.name] = w.Header()
	}
	for _, k := range fields {
		o, p := got["httpmw"][k], got["peers"][k]
		if !slices.Equal(o, p) {
			t.Errorf("%s: httpmw %q, peers %q", k, o, p)
		}
	}
}
