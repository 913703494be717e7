package bench

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"runtime/metrics"
	"sync"
	"testing"
	"time"
)

// BenchmarkServer serves each chain through a real http.Server over an
// in-memory connection that carries pipelined HTTP/1.1 requests and
// discards the responses: the server's whole cost per request (reading and
// parsing the request, the chain, net/http's header clone, sort and write,
// garbage collection), without the kernel and the load tool that make the
// loopback runs of cmd/load noisy. Cases as in cmd/load. Each iteration is
// a round of 500 requests per chain, the order rotating; it reports the
// median time per request of each chain and the median of the per-round
// ratios httpmw/peers. Run it with -cpu 1 -benchtime 200x.
func BenchmarkServer(b *testing.B) {
	for _, c := range serverCases() {
		req := c.request()
		b.Run("case="+c.name, func(b *testing.B) {
			pairedRounds(b, 500, func(h http.Handler, n int) { serveFake(b, h, req, n) })
		})
	}
}

// pairedRounds runs rounds of n requests through each chain with serve,
// the order rotating, and reports the median time per request of each chain
// and the median of the per-round ratios httpmw/peers (BenchmarkServer,
// BenchmarkServerH2, BenchmarkServerConns).
func pairedRounds(b *testing.B, n int, serve func(h http.Handler, n int)) {
	impls, _ := chainImpls(b)
	times := make([][]float64, len(impls))
	var ratios []float64
	round := 0
	b.ReportAllocs()
	for b.Loop() {
		for k := range impls {
			i := (k + round) % len(impls)
			t0 := time.Now()
			serve(impls[i].h, n)
			times[i] = append(times[i], float64(time.Since(t0).Nanoseconds())/float64(n))
		}
		ratios = append(ratios, times[1][round]/times[2][round])
		round++
	}
	for i, impl := range impls {
		b.ReportMetric(medianOf(times[i]), impl.name+"-ns/req")
	}
	b.ReportMetric(medianOf(ratios), "httpmw/peers")
}

// BenchmarkServerSolo serves b.N requests through one chain on one fake
// connection, for CPU and heap profiles of a single chain:
//
//	go test -run '^$' -bench 'ServerSolo/case=2k$/impl=httpmw$' -cpu 1 -benchtime 200000x -cpuprofile /tmp/cpu.prof
func BenchmarkServerSolo(b *testing.B) {
	soloRuns(b, func(b *testing.B, h http.Handler, c serverCase) { serveFake(b, h, c.request(), b.N) })
}

// soloRuns runs serve for every case and chain as a sub-benchmark of its
// own (BenchmarkServerSolo, BenchmarkServerConnsSolo, BenchmarkServerH2Solo).
// Besides time and allocations it reports the garbage collector's pace: GC
// cycles per 1000 requests and the live heap the last cycle marked (the
// bench process's own heap, ≈ 1.2 MiB, included), which set it while the
// heap is under the 4 MiB minimum goal (bench/README.md, "Slab size").
func soloRuns(b *testing.B, serve func(b *testing.B, h http.Handler, c serverCase)) {
	impls, _ := chainImpls(b)
	for _, c := range serverCases() {
		for _, impl := range impls {
			b.Run("case="+c.name+"/impl="+impl.name, func(b *testing.B) {
				b.ReportAllocs()
				gc := []metrics.Sample{{Name: "/gc/cycles/total:gc-cycles"}, {Name: "/gc/heap/live:bytes"}}
				metrics.Read(gc)
				cycles := gc[0].Value.Uint64()
				serve(b, impl.h, c)
				metrics.Read(gc)
				b.ReportMetric(float64(gc[0].Value.Uint64()-cycles)*1000/float64(b.N), "gc/1k-req")
				b.ReportMetric(float64(gc[1].Value.Uint64())/1024, "live-KiB")
			})
		}
	}
}

type serverCase struct{ name, path, ae string }

// serverCases are cmd/load's cases.
func serverCases() []serverCase {
	return []serverCase{
		{"2k", "/2k", ""}, {"2k-gzip", "/2k", "gzip"}, {"2k-cc", "/2k-cc", ""},
		{"32k", "/32k", ""}, {"32k-gzip", "/32k", "gzip"},
	}
}

// request is the case's request as wrk sends it.
func (c serverCase) request() []byte {
	req := "GET " + c.path + " HTTP/1.1\r\nHost: bench.example\r\nUser-Agent: wrk\r\n"
	if c.ae != "" {
		req += "Accept-Encoding: " + c.ae + "\r\n"
	}
	return []byte(req + "\r\n")
}

// serveFake serves n pipelined copies of req through h on one fake
// connection and returns the response bytes written.
func serveFake(tb testing.TB, h http.Handler, req []byte, n int) int64 {
	tb.Helper()
	c := &fakeConn{req: req, left: n, closed: make(chan struct{})}
	ln := &oneConnListener{c: c, done: make(chan struct{})}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	<-c.closed
	_ = srv.Close()
	if c.status != "HTTP/1.1 200" {
		tb.Fatalf("first response: %q", c.status)
	}
	return c.written
}

// fakeConn reads left copies of req, then EOF; writes are counted and
// discarded.
type fakeConn struct {
	connAddrs
	req     []byte
	left    int
	r       bytes.Reader
	written int64
	status  string // the start of the first response
	once    sync.Once
	closed  chan struct{}
}

func (c *fakeConn) Read(p []byte) (int, error) {
	if c.r.Len() == 0 {
		if c.left == 0 {
			return 0, io.EOF
		}
		c.left--
		c.r.Reset(c.req)
	}
	return c.r.Read(p)
}

func (c *fakeConn) Write(p []byte) (int, error) {
	if c.written == 0 {
		c.status = string(p[:min(len(p), 12)])
	}
	c.written += int64(len(p))
	return len(p), nil
}
func (c *fakeConn) Close() error { c.once.Do(func() { close(c.closed) }); return nil }

// connAddrs is the part of net.Conn the fake connections (fakeConn,
// h2Conn) share: fixed loopback addresses, deadlines ignored.
type connAddrs struct{}

func (connAddrs) LocalAddr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 80} }
func (connAddrs) RemoteAddr() net.Addr {
	return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000}
}
func (connAddrs) SetDeadline(time.Time) error      { return nil }
func (connAddrs) SetReadDeadline(time.Time) error  { return nil }
func (connAddrs) SetWriteDeadline(time.Time) error { return nil }

// oneConnListener accepts its connection once, then blocks until closed.
type oneConnListener struct {
	c    net.Conn
	mu   sync.Mutex
	done chan struct{}
	once sync.Once
}

func (l *oneConnListener) Accept() (net.Conn, error) {
	l.mu.Lock()
	c := l.c
	l.c = nil
	l.mu.Unlock()
	if c != nil {
		return c, nil
	}
	<-l.done
	return nil, net.ErrClosed
}

func (l *oneConnListener) Close() error   { l.once.Do(func() { close(l.done) }); return nil }
func (l *oneConnListener) Addr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 80} }

// TestServeFake: every response of the fake connection is a 200 of the
// expected size, so BenchmarkServer measures what it says.
func TestServeFake(t *testing.T) {
	impls, _ := chainImpls(t)
	for _, impl := range impls {
		req := []byte("GET /2k HTTP/1.1\r\nHost: bench.example\r\n\r\n")
		one := serveFake(t, impl.h, req, 1)
		ten := serveFake(t, impl.h, req, 10)
		if one < 2048 || ten < 10*one-10 || ten > 10*one+10 {
			t.Errorf("%s: 1 response %d bytes, 10 responses %d bytes", impl.name, one, ten)
		}
	}
}
