package httpmw_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

var (
	seedFlag   = flag.Uint64("seed", 0, "seed of the orders TestSampledOrdersOverTheWire samples (0: $HTTPMW_COMPOSE_SEED, else random)")
	sampleFlag = flag.Int("sample", 200, "how many orders TestSampledOrdersOverTheWire samples")
)

// wireSeed returns the seed from -seed, $HTTPMW_COMPOSE_SEED or the clock.
func wireSeed(t *testing.T) uint64 {
	if *seedFlag != 0 {
		return *seedFlag
	}
	if s := os.Getenv("HTTPMW_COMPOSE_SEED"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("HTTPMW_COMPOSE_SEED=%q: %v", s, err)
		}
		return n
	}
	return uint64(time.Now().UnixNano())
}

// TestSampledOrdersOverTheWire runs the fixed request set of the matrix
// through a seeded sample of orders (200 by default, plus the recommended
// one) over real servers: HTTP/1.1, HTTP/2 over TLS and h2c. Each protocol
// has one server whose handler picks the chain by the X-Order field; every
// order keeps the invariants and the order-dependent rules, as in process.
// The WebSocket upgrade hijacks the real connection over HTTP/1.1 and
// exchanges a frame; over HTTP/2 Hijack reports ErrNotSupported.
func TestSampledOrdersOverTheWire(t *testing.T) {
	seed := wireSeed(t)
	t.Logf("seed %d: reproduce with go test -run TestSampledOrdersOverTheWire -seed %d (or HTTPMW_COMPOSE_SEED=%d)", seed, seed, seed)
	s, err := newStack()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.close) // after the parallel subtests
	all := allOrders()
	rng := rand.New(rand.NewPCG(seed, 0x636f6d706f7365))
	n := min(*sampleFlag, len(all))
	sample := []int{}
	for _, i := range rng.Perm(len(all))[:n] {
		if all[i] != recommended {
			sample = append(sample, i)
		}
	}
	rec := 0
	for i, o := range all {
		if o == recommended {
			rec = i
		}
	}
	sample = append(sample, rec)
	chains := make([]http.Handler, len(all))
	for _, i := range sample {
		chains[i] = s.chain(all[i], s.app)
	}
	route := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i, err := strconv.Atoi(r.Header.Get("X-Order"))
		if err != nil || i < 0 || i >= len(chains) || chains[i] == nil {
			http.Error(w, "no such order", http.StatusNotFound)
			return
		}
		chains[i].ServeHTTP(w, r)
	})
	for _, proto := range []string{"http1", "h2", "h2c"} {
		t.Run(proto, func(t *testing.T) {
			t.Parallel()
			ws := newWire(t, proto, route)
			failures := 0
			for _, i := range sample {
				ws.order = i
				rs, errs := runSet(all[i], i, ws)
				for _, r := range rules {
					if len(errs) == 0 && r.holds(rs) != rs.outside(r.outer, r.inner) {
						errs = append(errs, fmt.Errorf("%q is %t, but %s outside %s is %t", r.outcome, r.holds(rs),
							layerNames[r.outer], layerNames[r.inner], rs.outside(r.outer, r.inner)))
					}
				}
				for _, err := range errs {
					t.Errorf("%s (order %d, seed %d): %v", all[i], i, seed, err)
				}
				if len(errs) > 0 {
					if failures++; failures == 5 {
						t.Fatalf("stopping after 5 failing orders")
					}
				}
			}
			t.Logf("%s: %d orders × %d requests over %d connections", proto, len(sample), requestsPerOrder, ws.conns.Load())
		})
	}
}

// wire sends the fixed set over a real server of one protocol.
type wire struct {
	t      *testing.T
	proto  string
	url    string
	addr   string
	client *http.Client
	order  int
	conns  atomic.Int64
	mu     sync.Mutex // the decoding state, shared by the concurrent slow POST
	x      runner
	nextID atomic.Int64
}

func newWire(t *testing.T, proto string, h http.Handler) *wire {
	w := &wire{t: t, proto: proto}
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			w.conns.Add(1)
		}
	}
	switch proto {
	case "http1":
		srv.Start()
		w.client = srv.Client()
	case "h2":
		srv.EnableHTTP2 = true
		srv.StartTLS()
		w.client = srv.Client()
	case "h2c":
		var p http.Protocols
		p.SetHTTP1(true)
		p.SetUnencryptedHTTP2(true)
		srv.Config.Protocols = &p
		srv.Start()
		var cp http.Protocols
		cp.SetUnencryptedHTTP2(true)
		w.client = &http.Client{Transport: &http.Transport{Protocols: &cp}}
	}
	// The plain GET must reach the chain without Accept-Encoding.
	w.client.Transport.(*http.Transport).DisableCompression = true
	t.Cleanup(func() {
		w.client.CloseIdleConnections()
		srv.Close()
	})
	w.url, w.addr = srv.URL, srv.Listener.Addr().String()
	return w
}

func (w *wire) keyPrefix() string { return w.proto }
func (w *wire) hijacks() bool     { return w.proto == "http1" }

func (w *wire) request(rq reqSpec, p *probe) (*http.Request, func()) {
	var body io.Reader = http.NoBody
	if rq.body != "" {
		body = strings.NewReader(rq.body)
	}
	req, err := http.NewRequest(rq.method, w.url+rq.path, body)
	if err != nil {
		panic(err)
	}
	req.Header.Set("Origin", origin)
	for _, kv := range rq.hdr {
		req.Header.Add(kv[0], kv[1])
	}
	req.Header.Set("X-Order", strconv.Itoa(w.order))
	cleanup := func() {}
	if p != nil {
		id := fmt.Sprintf("%s-%d", w.proto, w.nextID.Add(1))
		probes.Store(id, p)
		req.Header.Set("X-Probe", id)
		cleanup = func() { probes.Delete(id) }
	}
	return req, cleanup
}

func (w *wire) send(rq reqSpec, p *probe, second bool) (resp, error) {
	isWS := rq.path == "/ws" || rq.path == "/ws-legacy"
	if isWS && w.hijacks() {
		return w.upgrade(rq)
	}
	if isWS {
		// Connection and Upgrade are connection-specific, forbidden in
		// HTTP/2 (RFC 9113 §8.2.2); the handler still tries to hijack.
		rq.hdr = [][2]string{{"Sec-WebSocket-Version", "13"}, {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="}}
	}
	if rq.path == "/events" {
		p = &probe{release: make(chan struct{})}
	}
	req, cleanup := w.request(rq, p)
	defer cleanup()
	res, err := w.client.Do(req)
	if err != nil {
		return resp{}, fmt.Errorf("%s: %v", rq.name, err)
	}
	defer res.Body.Close()
	want := map[string]int{"http1": 1, "h2": 2, "h2c": 2}[w.proto]
	if res.ProtoMajor != want {
		return resp{}, fmt.Errorf("%s: served over %s, want HTTP/%d", rq.name, res.Proto, want)
	}
	out := resp{name: rq.name, code: res.StatusCode, h: res.Header}
	var raw bytes.Buffer
	if rq.path == "/events" {
		// The first event must arrive while the handler still waits.
		early, err := firstEvent(io.TeeReader(res.Body, &raw), res.Header.Get("Content-Encoding"))
		close(p.release)
		if err != nil {
			return out, fmt.Errorf("%s: first event: %v", rq.name, err)
		}
		out.early = early
		out.flushes = 1
	}
	if _, err := raw.ReadFrom(res.Body); err != nil {
		return out, fmt.Errorf("%s: body: %v", rq.name, err)
	}
	out.raw = raw.Bytes()
	w.mu.Lock()
	defer w.mu.Unlock()
	if out.body, err = w.x.decode(out.h, out.raw, false); err != nil {
		return out, fmt.Errorf("%s: %v", rq.name, err)
	}
	return out, nil
}

// firstEvent reads r until the first event, decoding gzip if ce says so.
func firstEvent(r io.Reader, ce string) ([]byte, error) {
	if ce == "gzip" {
		zr, err := gzip.NewReader(r)
		if err != nil {
			return nil, err
		}
		r = zr
	}
	br := bufio.NewReaderSize(r, 16)
	var got []byte
	for !bytes.HasSuffix(got, []byte("\n\n")) {
		b, err := br.ReadByte()
		if err != nil {
			return got, err
		}
		got = append(got, b)
	}
	return got, nil
}

// upgrade performs the WebSocket handshake on a raw connection and
// exchanges one frame.
func (w *wire) upgrade(rq reqSpec) (resp, error) {
	conn, err := net.Dial("tcp", w.addr)
	if err != nil {
		return resp{}, err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	req, _ := w.request(rq, nil)
	if err := req.Write(conn); err != nil {
		return resp{}, err
	}
	if _, err := conn.Write(clientFrame); err != nil {
		return resp{}, err
	}
	got, err := io.ReadAll(conn)
	if err != nil && !errors.Is(err, net.ErrClosed) {
		return resp{}, fmt.Errorf("%s: %v", rq.name, err)
	}
	return resp{name: rq.name, conn: got, h: http.Header{}}, nil
}
