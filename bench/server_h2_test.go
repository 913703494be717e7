package bench

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"flag"
	"io"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// h2Streams is how many streams the fake HTTP/2 client keeps open at once:
// h2load's -m10 in cmd/load by default, never more than the server's
// SETTINGS_MAX_CONCURRENT_STREAMS (250 in Go 1.26's net/http, read from the
// server's SETTINGS frame).
var h2Streams = flag.Int("h2streams", 10, "streams in flight per connection in BenchmarkServerH2 (at most the server's MAX_CONCURRENT_STREAMS)")

// BenchmarkServerH2 is BenchmarkServer over h2c: each chain behind a real
// http.Server speaking HTTP/2 with prior knowledge on an in-memory
// connection, whose client end (h2Conn) answers the server's frames inline:
// it sends the requests as HEADERS frames (END_STREAM|END_HEADERS, encoded
// by one HPACK encoder per connection as a real client does), keeps
// -h2streams streams in flight, sending the next HEADERS as a stream ends,
// and returns flow-control credit as DATA arrives, so neither side ever
// stalls. Each iteration is a round of 500 requests per chain, the order
// rotating; it reports the median time per request of each chain and the
// median of the per-round ratios httpmw/peers. Run it with -cpu 1 (and
// -cpu 2: net/http runs a goroutine per stream) -benchtime 200x.
func BenchmarkServerH2(b *testing.B) {
	for _, c := range serverCases() {
		b.Run("case="+c.name, func(b *testing.B) {
			pairedRounds(b, 500, func(h http.Handler, n int) { serveFakeH2(b, h, c, n, nil) })
		})
	}
}

// BenchmarkServerH2Solo serves b.N requests through one chain on one fake
// h2c connection, for CPU and heap profiles of a single chain:
//
//	go test -run '^$' -bench 'ServerH2Solo/case=2k$/impl=httpmw$' -cpu 1 -benchtime 200000x -cpuprofile /tmp/cpu.prof
func BenchmarkServerH2Solo(b *testing.B) {
	soloRuns(b, func(b *testing.B, h http.Handler, c serverCase) { serveFakeH2(b, h, c, b.N, nil) })
}

// h2Request encodes c's request (the headers of request, as HTTP/2 fields)
// twice with one fresh encoder: the block of a connection's first request,
// which adds the fields to the dynamic table, and the block of every later
// one, which refers to them.
func (c serverCase) h2Request() (first, next []byte) {
	fields := []hpack.HeaderField{
		{Name: ":method", Value: "GET"}, {Name: ":scheme", Value: "http"},
		{Name: ":authority", Value: "bench.example"}, {Name: ":path", Value: c.path},
		{Name: "user-agent", Value: "wrk"},
	}
	if c.ae != "" {
		fields = append(fields, hpack.HeaderField{Name: "accept-encoding", Value: c.ae})
	}
	var buf bytes.Buffer
	enc := hpack.NewEncoder(&buf)
	for range 2 {
		for _, f := range fields {
			_ = enc.WriteField(f)
		}
		first, next = next, bytes.Clone(buf.Bytes())
		buf.Reset()
	}
	return first, next
}

// HTTP/2 frame types and flags (RFC 9113 §6) the fake client uses.
const (
	h2Data         = 0x0
	h2Headers      = 0x1
	h2RSTStream    = 0x3
	h2Settings     = 0x4
	h2GoAway       = 0x7
	h2WindowUpdate = 0x8

	h2FlagEndStream  = 0x1
	h2FlagAck        = 0x1
	h2FlagEndHeaders = 0x4

	h2SettingMaxConcurrentStreams = 0x3
	h2SettingInitialWindowSize    = 0x4

	// h2Window is the flow-control window the client grants, per stream
	// (SETTINGS_INITIAL_WINDOW_SIZE) and for the connection, as h2load's
	// default -w 30 -W 30.
	h2Window = 1<<30 - 1
)

// h2Result is what a fake h2c connection saw.
type h2Result struct {
	written int64 // bytes the server wrote
	ended   int   // streams ended by END_STREAM
	resets  int   // RST_STREAM frames
	goaway  bool  // a GOAWAY with an error code
	maxOpen int   // the streams kept in flight
}

// serveFakeH2 serves n requests of c through h on one fake h2c connection.
// With record set it keeps every byte the server wrote in the result.
func serveFakeH2(tb testing.TB, h http.Handler, c serverCase, n int, record *bytes.Buffer) h2Result {
	tb.Helper()
	first, next := c.h2Request()
	conn := newH2Conn(first, next, n, *h2Streams, record)
	ln := &oneConnListener{c: conn, done: make(chan struct{})}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	srv.Protocols = new(http.Protocols)
	srv.Protocols.SetHTTP1(true)
	srv.Protocols.SetUnencryptedHTTP2(true)
	go func() { _ = srv.Serve(ln) }()
	<-conn.closed
	_ = srv.Close()
	res := conn.result()
	if res.resets != 0 || res.goaway || res.ended != n {
		tb.Fatalf("h2c %s: %d of %d streams ended, %d reset, GOAWAY with error %v", c.name, res.ended, n, res.resets, res.goaway)
	}
	return res
}

// h2Conn is the client end of an h2c connection and the server's net.Conn
// at once: the server reads what the client has queued (Read blocks until
// there is some), and every Write of the server goes through a parser of
// frame headers that reacts as a client would: SETTINGS ACK for the
// server's SETTINGS, the next request when a stream ends, WINDOW_UPDATE for
// the DATA received. Bodies are counted, not kept (unless recording).
type h2Conn struct {
	connAddrs

	mu   sync.Mutex
	cond sync.Cond
	in   []byte // queued for the server; Read takes from in[off:]
	off  int
	eof  bool // the client has sent everything: Read returns io.EOF

	// Client state, touched by Write (the server serialises its writes).
	first, next []byte // HPACK blocks of the first and of later requests
	nextID      uint32
	left        int // requests not yet sent
	open        int // streams in flight
	want        int // streams to keep in flight (-h2streams)
	maxOpen     int // want, capped by the server's MAX_CONCURRENT_STREAMS
	started     bool
	credit      int // DATA bytes not yet returned by WINDOW_UPDATE

	// Frame parser state.
	fh       [9]byte
	fhn      int // bytes of fh filled
	rem      int // payload bytes of the current frame still to come
	settings []byte
	res      h2Result
	record   *bytes.Buffer

	once   sync.Once
	closed chan struct{}
}

func newH2Conn(first, next []byte, n, streams int, record *bytes.Buffer) *h2Conn {
	c := &h2Conn{first: first, next: next, nextID: 1, left: n, want: max(streams, 1),
		record: record, closed: make(chan struct{})}
	c.cond.L = &c.mu
	c.in = append(c.in, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"...)
	c.in = appendFrameHeader(c.in, 6, h2Settings, 0, 0)
	c.in = binary.BigEndian.AppendUint16(c.in, h2SettingInitialWindowSize)
	c.in = binary.BigEndian.AppendUint32(c.in, h2Window)
	c.in = appendWindowUpdate(c.in, h2Window-65535)
	return c
}

func appendFrameHeader(b []byte, length int, typ, flags byte, stream uint32) []byte {
	b = append(b, byte(length>>16), byte(length>>8), byte(length), typ, flags)
	return binary.BigEndian.AppendUint32(b, stream)
}

func appendWindowUpdate(b []byte, incr uint32) []byte {
	b = appendFrameHeader(b, 4, h2WindowUpdate, 0, 0)
	return binary.BigEndian.AppendUint32(b, incr)
}

func (c *h2Conn) Read(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for c.off == len(c.in) {
		if c.eof {
			return 0, io.EOF
		}
		c.cond.Wait()
	}
	n := copy(p, c.in[c.off:])
	c.off += n
	if c.off == len(c.in) {
		c.in, c.off = c.in[:0], 0
	}
	return n, nil
}

func (c *h2Conn) Write(p []byte) (int, error) {
	if c.record != nil {
		c.record.Write(p)
	}
	c.res.written += int64(len(p))
	n := len(p)
	for len(p) > 0 {
		if c.fhn < len(c.fh) {
			k := copy(c.fh[c.fhn:], p)
			c.fhn += k
			p = p[k:]
			if c.fhn < len(c.fh) {
				break
			}
			c.rem = int(c.fh[0])<<16 | int(c.fh[1])<<8 | int(c.fh[2])
			if c.rem == 0 {
				c.frameDone()
			}
			continue
		}
		k := min(c.rem, len(p))
		if c.fh[3] == h2Settings && c.fh[4]&h2FlagAck == 0 {
			c.settings = append(c.settings, p[:k]...)
		}
		c.rem -= k
		p = p[k:]
		if c.rem == 0 {
			c.frameDone()
		}
	}
	return n, nil
}

// frameDone reacts to the frame whose header is in fh (its payload read).
func (c *h2Conn) frameDone() {
	length := int(c.fh[0])<<16 | int(c.fh[1])<<8 | int(c.fh[2])
	typ, flags := c.fh[3], c.fh[4]
	c.fhn = 0
	c.mu.Lock()
	defer c.mu.Unlock()
	ended := false
	switch typ {
	case h2Settings:
		if flags&h2FlagAck != 0 {
			return
		}
		c.maxOpen = c.want
		for s := c.settings; len(s) >= 6; s = s[6:] {
			if binary.BigEndian.Uint16(s) == h2SettingMaxConcurrentStreams {
				c.maxOpen = min(c.maxOpen, int(binary.BigEndian.Uint32(s[2:])))
			}
		}
		c.settings = c.settings[:0]
		c.in = appendFrameHeader(c.in, 0, h2Settings, h2FlagAck, 0)
		if !c.started {
			c.started = true
			c.res.maxOpen = c.maxOpen
			for c.open < c.maxOpen && c.left > 0 {
				c.sendRequest()
			}
		}
	case h2Data:
		c.credit += length
		if c.credit >= h2Window/2 {
			c.in = appendWindowUpdate(c.in, uint32(c.credit))
			c.credit = 0
		}
		ended = flags&h2FlagEndStream != 0
	case h2Headers:
		ended = flags&h2FlagEndStream != 0
	case h2RSTStream:
		c.res.resets++
		ended = true
	case h2GoAway:
		// The payload's error code is not kept; a GOAWAY before the
		// client is done is an error either way.
		if c.left > 0 || c.open > 0 {
			c.res.goaway = true
			c.eof = true
		}
	}
	if ended {
		if typ != h2RSTStream {
			c.res.ended++
		}
		c.open--
		if c.left > 0 {
			c.sendRequest()
		} else if c.open == 0 {
			c.eof = true
		}
	}
	c.cond.Signal()
}

// sendRequest queues the next request's HEADERS frame; c.mu is held.
func (c *h2Conn) sendRequest() {
	block := c.next
	if c.nextID == 1 {
		block = c.first
	}
	c.in = appendFrameHeader(c.in, len(block), h2Headers, h2FlagEndStream|h2FlagEndHeaders, c.nextID)
	c.in = append(c.in, block...)
	c.nextID += 2
	c.left--
	c.open++
}

func (c *h2Conn) Close() error {
	c.once.Do(func() {
		c.mu.Lock()
		c.eof = true
		c.cond.Broadcast()
		c.mu.Unlock()
		close(c.closed)
	})
	return nil
}

// result is what the connection saw; call it after closed.
func (c *h2Conn) result() h2Result {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.res
}

// TestServeFakeH2: the fake h2c connection carries real responses. The
// server's bytes of a few requests per case and chain are decoded (frames,
// HPACK): every stream is a 200 with the case's body (decompressed where
// Content-Encoding says gzip), gzip cases are compressed by both chains,
// httpmw's responses carry an ETag and a trace id; no stream is refused or
// reset, and the later requests' HEADERS refer to the dynamic table only.
func TestServeFakeH2(t *testing.T) {
	impls, _ := chainImpls(t)
	for _, c := range serverCases() {
		first, next := c.h2Request()
		if len(next) >= len(first) || len(next) > 8 {
			t.Errorf("%s: HPACK blocks %d then %d bytes: later requests are not indexed", c.name, len(first), len(next))
		}
		size := 2 << 10
		if c.path == "/32k" {
			size = 32 << 10
		}
		for _, impl := range impls {
			t.Run(c.name+"/"+impl.name, func(t *testing.T) {
				const n = 25 // more than -h2streams, so later requests wait for streams to end
				var rec bytes.Buffer
				res := serveFakeH2(t, impl.h, c, n, &rec)
				if res.maxOpen != min(*h2Streams, 250) {
					t.Errorf("%d streams in flight, want %d", res.maxOpen, min(*h2Streams, 250))
				}
				streams := decodeH2(t, rec.Bytes())
				if len(streams) != n {
					t.Fatalf("%d streams answered, want %d", len(streams), n)
				}
				for id, s := range streams {
					if s.status != "200" {
						t.Fatalf("stream %d: status %q", id, s.status)
					}
					body := s.body.Bytes()
					ce := s.fields.Get("Content-Encoding")
					if ce == "gzip" {
						zr, err := gzip.NewReader(bytes.NewReader(body))
						if err != nil {
							t.Fatalf("stream %d: %v", id, err)
						}
						if body, err = io.ReadAll(zr); err != nil {
							t.Fatalf("stream %d: %v", id, err)
						}
					}
					if len(body) != size {
						t.Errorf("stream %d: body %d bytes, want %d", id, len(body), size)
					}
					if want := c.ae != "" && impl.name != "bare"; (ce == "gzip") != want {
						t.Errorf("stream %d: Content-Encoding %q, gzip wanted: %v", id, ce, want)
					}
					if cl := s.fields.Get("Content-Length"); cl != "" && cl != strconv.Itoa(s.body.Len()) {
						t.Errorf("stream %d: Content-Length %s, body %d bytes", id, cl, s.body.Len())
					}
					if impl.name == "httpmw" && (s.fields.Get("ETag") == "" || s.fields.Get("X-Trace-Id") == "") {
						t.Errorf("stream %d: ETag %q, X-Trace-Id %q", id, s.fields.Get("ETag"), s.fields.Get("X-Trace-Id"))
					}
				}
			})
		}
	}
}

type h2Stream struct {
	status string
	fields http.Header
	body   bytes.Buffer
	ended  bool
}

// decodeH2 decodes the server's side of a connection into its streams.
func decodeH2(t *testing.T, b []byte) map[uint32]*h2Stream {
	t.Helper()
	fr := http2.NewFramer(io.Discard, bytes.NewReader(b))
	fr.SetMaxReadFrameSize(1 << 20)
	fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	streams := map[uint32]*h2Stream{}
	for {
		f, err := fr.ReadFrame()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("server's frames: %v", err)
		}
		id := f.Header().StreamID
		switch f := f.(type) {
		case *http2.MetaHeadersFrame:
			s := &h2Stream{status: f.PseudoValue("status"), fields: http.Header{}}
			for _, hf := range f.RegularFields() {
				s.fields.Add(hf.Name, hf.Value)
			}
			streams[id] = s
			s.ended = f.StreamEnded()
		case *http2.DataFrame:
			s := streams[id]
			if s == nil || s.ended {
				t.Fatalf("DATA on stream %d without HEADERS or after its end", id)
			}
			s.body.Write(f.Data())
			s.ended = f.StreamEnded()
		case *http2.RSTStreamFrame:
			t.Fatalf("stream %d reset: %v", id, f.ErrCode)
		case *http2.GoAwayFrame:
			if f.ErrCode != http2.ErrCodeNo {
				t.Fatalf("GOAWAY %v", f.ErrCode)
			}
		}
	}
	for id, s := range streams {
		if !s.ended {
			t.Errorf("stream %d did not end", id)
		}
	}
	return streams
}
