package httpmw_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jiec/httpmw/cache"
	"github.com/jiec/httpmw/compress"
	"github.com/jiec/httpmw/cors"
	"github.com/jiec/httpmw/idempotency"
	"github.com/jiec/httpmw/negotiate"
	"github.com/jiec/httpmw/ratelimit"
	"github.com/jiec/httpmw/security"
	"github.com/jiec/httpmw/trace"
)

// The eight middlewares, indexed in the recommended order (outermost first):
// an order is a permutation of these indices.
const (
	lTrace = iota
	lSecurity
	lCORS
	lRatelimit
	lIdempotency
	lCompress
	lCache
	lNegotiate
	numLayers
)

// answered by the handler, not by a middleware.
const lHandler = -1

var layerNames = [numLayers]string{"trace", "security", "cors", "ratelimit", "idempotency", "compress", "cache", "negotiate"}

// recommended is the order doc.go and the README recommend.
var recommended = order{lTrace, lSecurity, lCORS, lRatelimit, lIdempotency, lCompress, lCache, lNegotiate}

// order lists layer indices outermost first.
type order [numLayers]uint8

func (o order) String() string {
	s := make([]string, numLayers)
	for i, l := range o {
		s[i] = layerNames[l]
	}
	return strings.Join(s, ">")
}

// positions returns, for each layer, its depth in o (0 = outermost).
func (o order) positions() (p [numLayers]int) {
	for i, l := range o {
		p[l] = i
	}
	return p
}

// allOrders returns the 8! orders in lexicographic order.
func allOrders() []order {
	out := make([]order, 0, 40320)
	var o order
	var used [numLayers]bool
	var rec func(i int)
	rec = func(i int) {
		if i == numLayers {
			out = append(out, o)
			return
		}
		for l := range uint8(numLayers) {
			if !used[l] {
				used[l], o[i] = true, l
				rec(i + 1)
				used[l] = false
			}
		}
	}
	rec(0)
	return out
}

// The fixed configuration of the eight middlewares, shared by every order.
const (
	rlLimit   = 10_000_000
	rlPeriod  = time.Duration(1e18) // one unit every 100 s: a counter that only goes down during a run
	costHeavy = "X-Heavy"           // a request carrying it costs more than the quota: always 429
)

type stack struct {
	mw    [numLayers]func(http.Handler) http.Handler
	app   http.Handler
	runs  atomic.Int64 // handler runs of POST /items
	idem  *idempotency.MemoryStore
	close func()
}

func newStack() (*stack, error) {
	s := &stack{}
	var errs []error
	add := func(i int, h func(http.Handler) http.Handler, err error) {
		s.mw[i] = h
		errs = append(errs, err)
	}
	tr, err := trace.New(trace.Config{})
	add(lTrace, tr.Handler, err)
	sec, err := security.New(security.Config{
		CSP: security.DefaultPolicy().Set(security.ScriptSrc, security.RequestNonce, security.StrictDynamic),
	})
	add(lSecurity, sec.Handler, err)
	co, err := cors.New(cors.Config{Origins: []string{origin}, Methods: []string{http.MethodPut},
		ExposedHeaders: []string{"X-Trace-Id"}})
	add(lCORS, co.Handler, err)
	rl, err := ratelimit.New(ratelimit.Config{
		Policies: []ratelimit.Policy{{Name: "matrix", Limit: rlLimit, Period: rlPeriod}},
		Cost: func(r *http.Request) int64 {
			if r.Header.Get(costHeavy) != "" {
				return rlLimit + 1
			}
			return 1
		},
	})
	if err != nil {
		return nil, err
	}
	add(lRatelimit, rl.Handler, err)
	s.idem, err = idempotency.NewMemoryStore(idempotency.MemoryConfig{MaxEntries: 20_000, MaxBytes: 16 << 20})
	errs = append(errs, err)
	// compress may run inside, storing encoded bodies: as idempotency's doc
	// asks, Accept-Encoding is in the fingerprint, so a retry accepting
	// another coding is a 422, never a replay in a coding it did not accept
	// (with the default fingerprint and compress inside, it would get the
	// stored gzip body).
	idem, err := idempotency.New(idempotency.Config{Store: s.idem, FingerprintHeaders: []string{"Accept-Encoding"}})
	if err != nil {
		return nil, errors.Join(append(errs, err)...)
	}
	add(lIdempotency, idem.Handler, err)
	cm, err := compress.New(compress.Config{})
	add(lCompress, cm.Handler, err)
	ca, err := cache.New(cache.Config{
		Validator: func(r *http.Request) (cache.Validators, bool) {
			return cache.Validators{ETag: mxTag}, r.URL.Path == "/json"
		},
		// negotiate may run inside: 304s answered from the Validator carry
		// the Vary of the 200.
		Vary: []string{"Accept"},
	})
	add(lCache, ca.Handler, err)
	ne, err := negotiate.New(negotiate.Config{Types: []string{"application/json", "text/html", "text/event-stream"}})
	add(lNegotiate, ne.Handler, err)
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	s.close = func() { rl.Close(); s.idem.Close() }
	s.app = s.handler()
	return s, nil
}

func (s *stack) chain(o order, h http.Handler) http.Handler {
	for i := numLayers - 1; i >= 0; i-- {
		h = s.mw[o[i]](h)
	}
	return h
}

// The bodies are just over compress's 1 KiB threshold (the Vary ones under
// it), and only the requests that test compression send a body to encode:
// the matrix pays for 40,320 × 5 encoders, which -race makes dear
// (sync.Pool drops items at random under the race detector, so most
// requests allocate a fresh ~1 MiB encoder).
var (
	mxBody   = "[" + strings.Repeat(`{"id":1,"name":"an item"},`, 44) + "{}]"
	mxTag    = strongTag(mxBody)
	docBody  = "<!doctype html><title>doc</title>" + strings.Repeat("<p>a paragraph worth compressing</p>\n", 30)
	varyBody = strings.Repeat(`{"vary":"depends on the Cookie"},`, 15) // under MinSize: compress wraps, encodes nothing
	itemPad  = strings.Repeat(`"an idempotent POST's response",`, 33)
	events   = [2]string{"data: one\n\n", "data: two\n\n"}
)

// strongTag is the ETag cache generates for body (the first 128 bits of its
// SHA-256, base64url).
func strongTag(body string) string {
	sum := sha256.Sum256([]byte(body))
	return `"` + base64.RawURLEncoding.EncodeToString(sum[:16]) + `"`
}

const wsGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// probe is what a request carries in its context to the shared handler: a
// callback after the stream's first flush, and channels that hold a slow
// POST until the test releases it.
type probe struct {
	flushed func()
	entered chan struct{}
	release chan struct{}
}

type probeKey struct{}

// probes are the probes of requests sent over real connections, by their
// X-Probe field.
var probes sync.Map

func probeOf(r *http.Request) *probe {
	if p, ok := r.Context().Value(probeKey{}).(*probe); ok {
		return p
	}
	if id := r.Header.Get("X-Probe"); id != "" {
		if p, ok := probes.Load(id); ok {
			return p.(*probe)
		}
	}
	return nil
}

func (s *stack) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, mxBody)
	})
	mux.HandleFunc("GET /doc", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, docBody)
	})
	mux.HandleFunc("GET /vary-set", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Vary", "Cookie")
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, varyBody)
	})
	mux.HandleFunc("GET /vary-add", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Vary", "Cookie")
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, varyBody)
	})
	mux.HandleFunc("GET /vary-raw", func(w http.ResponseWriter, r *http.Request) {
		w.Header()["vary"] = []string{"cookie"} // a non-canonical key
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, varyBody)
	})
	mux.HandleFunc("GET /vary-star", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Vary", "*")
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, varyBody)
	})
	mux.HandleFunc("GET /events", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		rc := http.NewResponseController(w)
		io.WriteString(w, events[0])
		if err := rc.Flush(); err != nil {
			panic(fmt.Sprintf("Flush: %v", err))
		}
		if p := probeOf(r); p != nil && p.flushed != nil {
			p.flushed()
		}
		if p := probeOf(r); p != nil && p.release != nil {
			<-p.release
		}
		io.WriteString(w, events[1])
	})
	mux.HandleFunc("GET /ws-legacy", ws)
	mux.HandleFunc("GET /ws", ws)
	mux.HandleFunc("POST /items", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		n := s.runs.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Location", "/items/"+strconv.FormatInt(n, 10))
		w.WriteHeader(http.StatusCreated)
		fmt.Fprintf(w, `{"run":%d,"got":%q,"pad":[%s""]}`, n, b, itemPad)
	})
	mux.HandleFunc("POST /slow", func(w http.ResponseWriter, r *http.Request) {
		if p := probeOf(r); p != nil && p.entered != nil {
			close(p.entered)
			<-p.release
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, mxBody)
	})
	return mux
}

// ws answers a WebSocket handshake on the hijacked connection and echoes
// one frame.
func ws(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Sec-WebSocket-Key") == "" {
		http.Error(w, "not an upgrade", http.StatusBadRequest)
		return
	}
	var conn net.Conn
	var brw *bufio.ReadWriter
	var err error
	if r.URL.Path == "/ws-legacy" {
		hj, ok := w.(http.Hijacker) // gorilla/websocket's assertion
		if !ok {
			http.Error(w, "not an http.Hijacker", http.StatusInternalServerError)
			return
		}
		conn, brw, err = hj.Hijack()
	} else {
		conn, brw, err = http.NewResponseController(w).Hijack() // coder/websocket's
	}
	if err != nil {
		http.Error(w, "Hijack: "+err.Error(), http.StatusInternalServerError)
		return
	}
	defer conn.Close()
	sum := sha1.Sum([]byte(r.Header.Get("Sec-WebSocket-Key") + wsGUID))
	brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Accept: " + base64.StdEncoding.EncodeToString(sum[:]) + "\r\n\r\n")
	brw.Flush()
	// Echo one unmasked text frame back (a server frame), if the client
	// sent one: enough to prove the connection is ours.
	var hdr [2]byte
	if _, err := io.ReadFull(brw, hdr[:]); err != nil {
		return
	}
	n := int(hdr[1] & 0x7f)
	var mask [4]byte
	if hdr[1]&0x80 != 0 {
		io.ReadFull(brw, mask[:])
	}
	payload := make([]byte, n)
	if _, err := io.ReadFull(brw, payload); err != nil {
		return
	}
	for i := range payload {
		payload[i] ^= mask[i%4]
	}
	brw.Write([]byte{0x81, byte(n)})
	brw.Write(payload)
	brw.Flush()
}

// fakeWriter is the in-process http.ResponseWriter at the bottom of every
// chain: it records what would go on the wire (the header at the moment the
// status is committed, the body bytes, flushes) and can be hijacked.
type fakeWriter struct {
	h         http.Header
	code      int
	sent      http.Header // h when the status was committed
	body      bytes.Buffer
	flushes   int
	hijacked  bool
	conn      fakeConn
	misuse    []string // writes after a hijack, bodies on 1xx...
	informals []int
}

func (f *fakeWriter) reset() {
	clear(f.h)
	if f.h == nil {
		f.h = http.Header{}
	}
	f.code, f.sent, f.flushes, f.hijacked, f.misuse, f.informals = 0, nil, 0, false, f.misuse[:0], f.informals[:0]
	f.body.Reset()
	f.conn.reset()
}

func (f *fakeWriter) Header() http.Header { return f.h }

func (f *fakeWriter) WriteHeader(code int) {
	switch {
	case f.hijacked:
		f.misuse = append(f.misuse, fmt.Sprintf("WriteHeader(%d) after Hijack", code))
	case code >= 100 && code < 200:
		f.informals = append(f.informals, code)
	case f.code != 0:
		f.misuse = append(f.misuse, fmt.Sprintf("WriteHeader(%d) after %d", code, f.code))
	default:
		f.code, f.sent = code, f.h.Clone()
	}
}

func (f *fakeWriter) Write(p []byte) (int, error) {
	if f.hijacked {
		f.misuse = append(f.misuse, "Write after Hijack")
		return 0, http.ErrHijacked
	}
	if f.code == 0 {
		f.WriteHeader(http.StatusOK)
	}
	return f.body.Write(p)
}

func (f *fakeWriter) Flush() {
	if f.hijacked {
		f.misuse = append(f.misuse, "Flush after Hijack")
		return
	}
	if f.code == 0 {
		f.WriteHeader(http.StatusOK)
	}
	f.flushes++
}

func (f *fakeWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if f.hijacked {
		return nil, nil, errors.New("hijacked twice")
	}
	if f.code != 0 {
		return nil, nil, errors.New("hijack after WriteHeader")
	}
	f.hijacked = true
	return &f.conn, bufio.NewReadWriter(bufio.NewReader(&f.conn), bufio.NewWriter(&f.conn)), nil
}

// finish is what net/http does when the handler returns without a status.
func (f *fakeWriter) finish() {
	if f.code == 0 && !f.hijacked {
		f.code, f.sent = http.StatusOK, f.h.Clone()
	}
}

// fakeConn is the hijacked connection: it reads a client frame and records
// what the handler writes.
type fakeConn struct {
	in     bytes.Reader
	out    bytes.Buffer
	closed bool
}

// clientFrame is a masked text frame "hi".
var clientFrame = []byte{0x81, 0x82, 1, 2, 3, 4, 'h' ^ 1, 'i' ^ 2}

func (c *fakeConn) reset()                             { c.in.Reset(clientFrame); c.out.Reset(); c.closed = false }
func (c *fakeConn) Read(p []byte) (int, error)         { return c.in.Read(p) }
func (c *fakeConn) Write(p []byte) (int, error)        { return c.out.Write(p) }
func (c *fakeConn) Close() error                       { c.closed = true; return nil }
func (c *fakeConn) LocalAddr() net.Addr                { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 80} }
func (c *fakeConn) RemoteAddr() net.Addr               { return &net.TCPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 1234} }
func (c *fakeConn) SetDeadline(t time.Time) error      { return nil }
func (c *fakeConn) SetReadDeadline(t time.Time) error  { return nil }
func (c *fakeConn) SetWriteDeadline(t time.Time) error { return nil }

// resp is one response as a client would see it.
type resp struct {
	name    string
	code    int
	h       http.Header
	raw     []byte // body bytes as sent
	body    []byte // decoded
	early   []byte // decoded bytes that had reached the wire at the first flush
	flushes int
	conn    []byte // bytes written to the hijacked connection
}

// reqSpec is one request of the fixed set.
type reqSpec struct {
	name   string
	method string
	path   string
	hdr    [][2]string
	body   string
}

var baseURL = func() map[string]*url.URL {
	m := map[string]*url.URL{}
	for _, p := range []string{"/json", "/doc", "/vary-set", "/vary-add", "/vary-raw", "/vary-star", "/events", "/ws", "/ws-legacy", "/items", "/slow"} {
		u, _ := url.Parse("http://api.example.com" + p)
		m[p] = u
	}
	return m
}()

func (rs reqSpec) build(ctx context.Context) *http.Request {
	u := *baseURL[rs.path]
	r := &http.Request{Method: rs.method, URL: &u, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: make(http.Header, len(rs.hdr)+1), Host: u.Host, RemoteAddr: "192.0.2.1:1234",
		RequestURI: u.RequestURI(), Body: http.NoBody}
	r.Header.Set("Origin", origin)
	for _, kv := range rs.hdr {
		r.Header.Add(kv[0], kv[1])
	}
	if rs.body != "" {
		r.Body = io.NopCloser(strings.NewReader(rs.body))
		r.ContentLength = int64(len(rs.body))
	}
	return r.WithContext(ctx)
}

// runner serves requests through one chain into reusable writers.
type runner struct {
	s     *stack
	w, w2 fakeWriter
	zr    *gzip.Reader
	buf   bytes.Buffer
}

// serve runs r through h into f and returns the response; a panic is
// returned as an error.
func (x *runner) serve(h http.Handler, f *fakeWriter, name string, r *http.Request) (res resp, err error) {
	f.reset()
	var early []byte
	if p := probeOf(r); p != nil && r.URL.Path == "/events" {
		p.flushed = func() { early = append([]byte(nil), f.body.Bytes()...) }
	}
	func() {
		defer func() {
			if v := recover(); v != nil {
				err = fmt.Errorf("%s: panic: %v", name, v)
			}
		}()
		h.ServeHTTP(f, r)
	}()
	if err != nil {
		return res, err
	}
	f.finish()
	res = resp{name: name, code: f.code, h: f.sent, raw: append([]byte(nil), f.body.Bytes()...),
		flushes: f.flushes, conn: append([]byte(nil), f.conn.out.Bytes()...)}
	if len(f.misuse) > 0 {
		return res, fmt.Errorf("%s: writer misused: %v", name, f.misuse)
	}
	if res.body, err = x.decode(res.h, res.raw, false); err != nil {
		return res, fmt.Errorf("%s: %v", name, err)
	}
	if early != nil {
		if res.early, err = x.decode(res.h, early, true); err != nil {
			return res, fmt.Errorf("%s: first flush: %v", name, err)
		}
	}
	return res, nil
}

// decode undoes the one content coding the chain may apply (the requests
// accept only gzip). partial accepts a stream cut at a flush.
func (x *runner) decode(h http.Header, raw []byte, partial bool) ([]byte, error) {
	ce := h.Values("Content-Encoding")
	switch {
	case len(ce) == 0:
		return raw, nil
	case len(ce) > 1 || strings.Contains(ce[0], ","):
		return nil, fmt.Errorf("Content-Encoding %q: encoded twice", ce)
	case ce[0] != "gzip":
		return nil, fmt.Errorf("Content-Encoding %q, only gzip was accepted", ce)
	}
	if len(raw) == 0 {
		return raw, nil
	}
	var err error
	if x.zr == nil {
		x.zr, err = gzip.NewReader(bytes.NewReader(raw))
	} else {
		err = x.zr.Reset(bytes.NewReader(raw))
	}
	if err != nil {
		return nil, fmt.Errorf("gzip: %v", err)
	}
	x.zr.Multistream(false)
	x.buf.Reset()
	_, err = x.buf.ReadFrom(x.zr)
	if err != nil && !(partial && errors.Is(err, io.ErrUnexpectedEOF)) {
		return nil, fmt.Errorf("gzip: %v", err)
	}
	out := append([]byte(nil), x.buf.Bytes()...)
	if bytes.HasPrefix(out, []byte{0x1f, 0x8b}) {
		return nil, errors.New("gzip inside gzip: compressed twice")
	}
	return out, nil
}

var (
	ae       = [2]string{"Accept-Encoding", "gzip"}
	upgrade  = [][2]string{{"Connection", "Upgrade"}, {"Upgrade", "websocket"}, {"Sec-WebSocket-Version", "13"}, {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="}}
	fixedSet = struct {
		plain, gzip, doc, preflight, notAcceptable, limited, events, varySet, varyAdd, varyRaw, varyStar, ws, wsLegacy reqSpec
	}{
		plain:         reqSpec{name: "plain GET", method: http.MethodGet, path: "/json"},
		gzip:          reqSpec{name: "GET gzip", method: http.MethodGet, path: "/json", hdr: [][2]string{ae}},
		doc:           reqSpec{name: "GET hashed", method: http.MethodGet, path: "/doc", hdr: [][2]string{ae}},
		preflight:     reqSpec{name: "preflight", method: http.MethodOptions, path: "/json", hdr: [][2]string{{"Access-Control-Request-Method", http.MethodPut}}},
		notAcceptable: reqSpec{name: "406", method: http.MethodGet, path: "/json", hdr: [][2]string{ae, {"Accept", "image/png"}}},
		limited:       reqSpec{name: "429", method: http.MethodGet, path: "/json", hdr: [][2]string{ae, {costHeavy, "1"}}},
		events:        reqSpec{name: "SSE", method: http.MethodGet, path: "/events", hdr: [][2]string{ae, {"Accept", "text/event-stream"}}},
		varySet:       reqSpec{name: "Vary Set", method: http.MethodGet, path: "/vary-set", hdr: [][2]string{ae}},
		varyAdd:       reqSpec{name: "Vary Add", method: http.MethodGet, path: "/vary-add", hdr: [][2]string{ae}},
		varyRaw:       reqSpec{name: "Vary non-canonical", method: http.MethodGet, path: "/vary-raw", hdr: [][2]string{ae}},
		varyStar:      reqSpec{name: "Vary *", method: http.MethodGet, path: "/vary-star", hdr: [][2]string{ae}},
		ws:            reqSpec{name: "WebSocket (ResponseController)", method: http.MethodGet, path: "/ws", hdr: upgrade},
		wsLegacy:      reqSpec{name: "WebSocket (http.Hijacker)", method: http.MethodGet, path: "/ws-legacy", hdr: upgrade},
	}
)

// results are the responses of the fixed request set through one order.
type results struct {
	o                                   order
	pos                                 [numLayers]int
	plain, gzip, notModified            resp
	doc, docNotModified                 resp
	put, putStale                       resp
	preflight, notAcceptable, limited   resp
	post, replay, retry, slow, conflict resp
	events, varySet, varyAdd, ws        resp
	varyRaw, varyStar, wsLegacy         resp
	all                                 []*resp
	answerer                            map[*resp]int
	hijacks                             bool // the connection can be hijacked (HTTP/1.x)
	wantBody                            map[*resp]string
}

// outside reports whether layer a wraps layer b in this order (b may be
// lHandler: every layer wraps the handler).
func (r *results) outside(a, b int) bool { return b == lHandler || r.pos[a] < r.pos[b] }

// A sender delivers one request of the fixed set to the chain under test:
// in process (inProcess) or over a real connection (compose_server_test.go).
// p, when not nil, is the probe the handler of a slow POST waits on; second
// selects a second writer for the request that runs concurrently.
type sender interface {
	send(rq reqSpec, p *probe, second bool) (resp, error)
	// keyPrefix makes idempotency keys unique per transport.
	keyPrefix() string
	// hijacks reports whether the connection can be hijacked (HTTP/1.x).
	hijacks() bool
}

// inProcess sends requests through h into the runner's fake writers.
type inProcess struct {
	x *runner
	h http.Handler
}

func (ip inProcess) keyPrefix() string { return "mem" }
func (ip inProcess) hijacks() bool     { return true }

func (ip inProcess) send(rq reqSpec, p *probe, second bool) (resp, error) {
	ctx := context.Background()
	switch {
	case p != nil:
		ctx = context.WithValue(ctx, probeKey{}, p)
	case rq.path == "/events":
		ctx = context.WithValue(ctx, probeKey{}, &probe{})
	}
	f := &ip.x.w
	if second {
		f = &ip.x.w2
	}
	return ip.x.serve(ip.h, f, rq.name, rq.build(ctx))
}

// run sends the fixed request set through order o in process.
func (x *runner) run(o order, idx int) (*results, []error) {
	return runSet(o, idx, inProcess{x: x, h: x.s.chain(o, x.s.app)})
}

// runSet sends the fixed request set through order o with snd and checks
// the invariants every order must keep. It returns the responses for the
// order-dependent rules and the broken invariants.
func runSet(o order, idx int, snd sender) (*results, []error) {
	rs := &results{o: o, pos: o.positions(), answerer: map[*resp]int{}, wantBody: map[*resp]string{}, hijacks: snd.hijacks()}
	var errs []error
	fail := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	add := func(dst *resp, by int, want string) {
		rs.all = append(rs.all, dst)
		rs.answerer[dst] = by
		rs.wantBody[dst] = want
	}
	do := func(dst *resp, rq reqSpec, by int, want string) {
		res, err := snd.send(rq, nil, false)
		fail(err)
		*dst = res
		add(dst, by, want)
	}
	do(&rs.plain, fixedSet.plain, lHandler, mxBody)
	do(&rs.gzip, fixedSet.gzip, lHandler, mxBody)
	etag := rs.gzip.h.Get("ETag")
	do(&rs.notModified, reqSpec{name: "GET If-None-Match (Validator)", method: http.MethodGet, path: "/json",
		hdr: [][2]string{ae, {"If-None-Match", etag}}}, lCache, "")
	do(&rs.doc, fixedSet.doc, lHandler, docBody)
	docTag := rs.doc.h.Get("ETag")
	// Answered by cache after the handler ran: every layer decorated it.
	do(&rs.docNotModified, reqSpec{name: "GET If-None-Match (hashed)", method: http.MethodGet, path: "/doc",
		hdr: [][2]string{ae, {"If-None-Match", docTag}}}, lHandler, "")
	do(&rs.put, reqSpec{name: "PUT If-Match", method: http.MethodPut, path: "/json",
		hdr: [][2]string{{"If-Match", etag}, {"Content-Type", "application/json"}}, body: `{"id":1}`}, lHandler, mxBody)
	do(&rs.putStale, reqSpec{name: "PUT If-Match stale", method: http.MethodPut, path: "/json",
		hdr: [][2]string{ae, {"If-Match", `"stale-gzip"`}, {"Content-Type", "application/json"}}, body: `{"id":1}`}, lCache, "")
	do(&rs.preflight, fixedSet.preflight, lCORS, "")
	do(&rs.notAcceptable, fixedSet.notAcceptable, lNegotiate, "")
	do(&rs.limited, fixedSet.limited, lRatelimit, "")
	key := [2]string{"Idempotency-Key", fmt.Sprintf(`"%s-order-%d"`, snd.keyPrefix(), idx)}
	post := reqSpec{name: "POST first", method: http.MethodPost, path: "/items",
		hdr: [][2]string{ae, {"Content-Type", "application/json"}, key}, body: `{"amount":42}`}
	do(&rs.post, post, lHandler, "")
	post.name = "POST replay"
	do(&rs.replay, post, lIdempotency, "")
	retry := post
	retry.name, retry.hdr = "POST retry without Accept-Encoding", post.hdr[1:]
	do(&rs.retry, retry, lIdempotency, "") // 422

	// A duplicate while the first runs: the first request's handler waits
	// on a channel until the second has been answered.
	slow := reqSpec{name: "POST slow", method: http.MethodPost, path: "/slow",
		hdr: [][2]string{{"Content-Type", "application/json"},
			{"Idempotency-Key", fmt.Sprintf(`"%s-slow-%d"`, snd.keyPrefix(), idx)}}, body: `{"amount":1}`}
	p := &probe{entered: make(chan struct{}), release: make(chan struct{})}
	done := make(chan struct{})
	var slowErr error
	go func() {
		defer close(done)
		rs.slow, slowErr = snd.send(slow, p, true)
	}()
	select {
	case <-p.entered:
		slow.name = "POST duplicate"
		do(&rs.conflict, slow, lIdempotency, "")
	case <-done:
		fail(fmt.Errorf("POST slow: answered %d without running the handler", rs.slow.code))
	}
	close(p.release)
	<-done
	fail(slowErr)
	add(&rs.slow, lHandler, mxBody)

	do(&rs.events, fixedSet.events, lHandler, events[0]+events[1])
	do(&rs.varySet, fixedSet.varySet, lHandler, varyBody)
	do(&rs.varyAdd, fixedSet.varyAdd, lHandler, varyBody)
	do(&rs.varyRaw, fixedSet.varyRaw, lHandler, varyBody)
	do(&rs.varyStar, fixedSet.varyStar, lHandler, varyBody)
	do(&rs.ws, fixedSet.ws, lHandler, "")
	do(&rs.wsLegacy, fixedSet.wsLegacy, lHandler, "")
	if len(errs) > 0 {
		return rs, errs
	}
	return rs, rs.check()
}
