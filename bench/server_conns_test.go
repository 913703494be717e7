package bench

import (
	"net"
	"net/http"
	"runtime"
	"sync"
	"testing"
	"time"
)

// serverConns is how many connections BenchmarkServerConns serves at once
// (cmd/load: 64).
const serverConns = 50

// BenchmarkServerConns is BenchmarkServer with serverConns connections at
// once, each of whose goroutines yields before it reads its next request,
// as a server's connection goroutine waits for the network: the requests of
// all connections interleave, one at a time per P, as under load. Rounds of
// 5000 requests (100 per connection). Run it with -cpu 2: at -cpu 1 it
// agrees with BenchmarkServer (2k at 1.004 / 0.990 / 0.984 on 2026-12-02),
// at -cpu 2 it gives 2k a median of 1.02 (ten runs, 0.988–1.046), close to
// the 1.01–1.07 of cmd/load's CPU column for HTTP/1.1 2k that the
// single-connection benchmarks do not show.
//
//	go test -run '^$' -bench '^BenchmarkServerConns$' -cpu 2 -benchtime 40x -count 3 .
func BenchmarkServerConns(b *testing.B) {
	for _, c := range serverCases() {
		req := c.request()
		b.Run("case="+c.name, func(b *testing.B) {
			pairedRounds(b, 5000, func(h http.Handler, n int) { serveConns(b, h, req, n) })
		})
	}
}

// BenchmarkServerConnsSolo serves b.N requests through one chain as
// BenchmarkServerConns does, for profiles:
//
//	go test -run '^$' -bench 'ServerConnsSolo/case=2k$/impl=httpmw$' -cpu 2 -benchtime 300000x -cpuprofile /tmp/cpu.prof
func BenchmarkServerConnsSolo(b *testing.B) {
	soloRuns(b, func(b *testing.B, h http.Handler, c serverCase) { serveConns(b, h, c.request(), b.N) })
}

// serveConns serves n pipelined copies of req through h, spread over
// serverConns fake connections served at once, and returns the response
// bytes written.
func serveConns(tb testing.TB, h http.Handler, req []byte, n int) int64 {
	tb.Helper()
	ln := &connsListener{ch: make(chan net.Conn, serverConns), done: make(chan struct{})}
	cs := make([]*fakeConn, serverConns)
	for i := range cs {
		cs[i] = &fakeConn{req: req, left: n / serverConns, closed: make(chan struct{})}
		if i < n%serverConns {
			cs[i].left++
		}
		ln.ch <- yieldingConn{cs[i]}
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	for _, c := range cs {
		<-c.closed
	}
	_ = srv.Close()
	var written int64
	for i, c := range cs {
		if c.written > 0 && c.status != "HTTP/1.1 200" {
			tb.Fatalf("connection %d: first response %q", i, c.status)
		}
		written += c.written
	}
	return written
}

// yieldingConn is a fakeConn that yields the processor before it hands out
// its next request.
type yieldingConn struct{ *fakeConn }

func (c yieldingConn) Read(p []byte) (int, error) {
	if c.r.Len() == 0 {
		runtime.Gosched()
	}
	return c.fakeConn.Read(p)
}

// connsListener accepts the connections queued in ch, then blocks until
// closed.
type connsListener struct {
	ch   chan net.Conn
	done chan struct{}
	once sync.Once
}

func (l *connsListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.ch:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *connsListener) Close() error   { l.once.Do(func() { close(l.done) }); return nil }
func (l *connsListener) Addr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 80} }

// TestServeConns: serveConns answers every request it spreads over its
// connections with a 200 of the expected size, so BenchmarkServerConns
// measures what it says.
func TestServeConns(t *testing.T) {
	impls, _ := chainImpls(t)
	req := []byte("GET /2k HTTP/1.1\r\nHost: bench.example\r\n\r\n")
	for _, impl := range impls {
		one := serveFake(t, impl.h, req, 1)
		n := 2*serverConns + 3
		if got := serveConns(t, impl.h, req, n); got < int64(n)*(one-10) || got > int64(n)*(one+10) {
			t.Errorf("%s: %d responses, %d bytes; one is %d", impl.name, n, got, one)
		}
	}
}
