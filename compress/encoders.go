package compress

import (
	"encoding/binary"
	"hash"
	"hash/adler32"
	"io"
	"runtime"
	"strings"
	"sync"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/flate"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zlib"
	"github.com/klauspost/compress/zstd"
)

// coding identifies a content coding.
type coding int8

const (
	codingZstd coding = iota
	codingBrotli
	codingGzip
	codingDeflate
	numCodings
	codingIdentity coding = -1
)

var codingNames = [numCodings]string{Zstd, Brotli, Gzip, Deflate}

func (c coding) String() string {
	if c < 0 || c >= numCodings {
		return "identity"
	}
	return codingNames[c]
}

// codingByName maps a coding name (case-insensitive, without aliases) to its
// coding.
func codingByName(s string) (coding, bool) {
	for i, n := range codingNames {
		if strings.EqualFold(s, n) {
			return coding(i), true
		}
	}
	return codingIdentity, false
}

const brotliLGWin = 18

// encoder is the part of the gzip, zlib, brotli and zstd writers the
// middleware uses.
type encoder interface {
	io.Writer
	Flush() error
	Close() error
	Reset(w io.Writer)
}

// encoderPools holds one pool per coding, each at the configured level, for
// ordinary responses, and one per coding for streams (see streamEncoder).
// Encoders are Reset onto io.Discard before they are pooled, so a pooled
// encoder never references a finished response.
type encoderPools struct {
	p      [2 * numCodings]sync.Pool // ordinary, then stream
	frames zstdShared                // EncodeAll encoder of zstd streams
}

// Stream encoders hold (almost) nothing between flushes, so that a
// long-lived stream (text/event-stream) that is idle costs at most a few
// KiB, whatever the coding, instead of an encoder's whole state (0.6 to
// 2 MiB):
//   - gzip: klauspost's stateless mode (every write is deflated on its own,
//     with pooled scratch state);
//   - deflate: the same inside a zlib frame of ours (statelessZlib);
//   - br: quality 1 with a 1 KiB window (lgwin 10), whose state is ~10 KiB;
//   - zstd: one frame per flush (concatenated frames are a valid stream,
//     RFC 8878 §3.1), encoded by one shared encoder (zstdFrames).
//
// The price is a lower ratio: nothing is shared between writes (gzip,
// deflate), flushes (zstd) or 1 KiB blocks (br).
const (
	streamBrotliQuality = 1
	streamBrotliLGWin   = 10
	streamFrameSize     = 64 << 10 // zstd: input encoded as one frame at most
)

func (p *encoderPools) init(c *config) {
	p.p[codingGzip].New = func() any {
		w, _ := gzip.NewWriterLevel(io.Discard, c.levels[codingGzip])
		return w
	}
	p.p[codingDeflate].New = func() any {
		w, _ := zlib.NewWriterLevel(io.Discard, c.levels[codingDeflate])
		return w
	}
	p.p[codingBrotli].New = func() any {
		// A 256 KiB window instead of 4 MiB: ~2 MiB instead of ~10 MiB per
		// in-flight response, with the same ratio for bodies up to 256 KiB.
		return brotli.NewWriterOptions(io.Discard, brotli.WriterOptions{Quality: c.levels[codingBrotli], LGWin: brotliLGWin})
	}
	p.p[codingZstd].New = func() any {
		w, _ := zstd.NewWriter(io.Discard,
			zstd.WithEncoderLevel(zstd.EncoderLevelFromZstd(c.levels[codingZstd])),
			zstd.WithEncoderConcurrency(1), // no goroutines per stream
			zstd.WithLowerEncoderMem(true),
			zstd.WithWindowSize(c.zstdWindow))
		return w
	}
	p.frames.c = c
	p.p[numCodings+codingGzip].New = func() any {
		w, _ := gzip.NewWriterLevel(io.Discard, gzip.StatelessCompression)
		return w
	}
	p.p[numCodings+codingDeflate].New = func() any { return &statelessZlib{w: io.Discard, sum: adler32.New()} }
	p.p[numCodings+codingBrotli].New = func() any {
		return brotli.NewWriterOptions(io.Discard, brotli.WriterOptions{Quality: streamBrotliQuality, LGWin: streamBrotliLGWin})
	}
	p.p[numCodings+codingZstd].New = func() any { return &zstdFrames{w: io.Discard, shared: &p.frames} }
}

func index(cd coding, stream bool) int {
	if stream {
		return int(numCodings + cd)
	}
	return int(cd)
}

func (p *encoderPools) get(cd coding, stream bool, w io.Writer) encoder {
	e := p.p[index(cd, stream)].Get().(encoder)
	e.Reset(w)
	return e
}

// put returns e to its pool as it is: get resets it onto the next
// response's writer, and a Reset here as well would double the cost (a
// klauspost gzip Reset is ≈ 8 % of a 2 KiB gzip response through the whole
// chain, bench BenchmarkServerSolo). Until then e refers to the writer it
// last wrote to, the Writer embedded in a pooled response, which pins no
// connection and is never written through the pooled encoder.
func (p *encoderPools) put(cd coding, stream bool, e encoder) {
	p.p[index(cd, stream)].Put(e)
}

// statelessZlib is a zlib stream (RFC 1950) whose deflate blocks are
// written by flate.StatelessDeflate: no state is kept between writes but
// the running Adler-32.
type statelessZlib struct {
	w           io.Writer
	sum         hash.Hash32
	wroteHeader bool
	err         error
}

// zlibHeader: deflate, 32 KiB window, fastest level, no dictionary.
var zlibHeader = []byte{0x78, 0x01}

func (z *statelessZlib) header() {
	if !z.wroteHeader && z.err == nil {
		z.wroteHeader = true
		_, z.err = z.w.Write(zlibHeader)
	}
}

func (z *statelessZlib) Write(p []byte) (int, error) {
	z.header()
	if z.err != nil || len(p) == 0 {
		return 0, z.err
	}
	_, _ = z.sum.Write(p)
	if z.err = flate.StatelessDeflate(z.w, p, false, nil); z.err != nil {
		return 0, z.err
	}
	return len(p), nil
}

// Flush writes nothing: every Write ends on a byte boundary (a sync block).
func (z *statelessZlib) Flush() error { return z.err }

func (z *statelessZlib) Close() error {
	z.header()
	if z.err != nil {
		return z.err
	}
	if z.err = flate.StatelessDeflate(z.w, nil, true, nil); z.err != nil {
		return z.err
	}
	var t [4]byte
	binary.BigEndian.PutUint32(t[:], z.sum.Sum32())
	_, z.err = z.w.Write(t[:])
	return z.err
}

func (z *statelessZlib) Reset(w io.Writer) {
	z.w, z.wroteHeader, z.err = w, false, nil
	z.sum.Reset()
}

// zstdShared is the encoder that zstd streams of one Middleware share: its
// EncodeAll is safe for concurrent use, with one internal encoder per
// GOMAXPROCS, created on first use.
type zstdShared struct {
	c    *config
	once sync.Once
	enc  *zstd.Encoder
}

func (s *zstdShared) get() *zstd.Encoder {
	s.once.Do(func() {
		s.enc, _ = zstd.NewWriter(nil,
			zstd.WithEncoderLevel(zstd.EncoderLevelFromZstd(s.c.levels[codingZstd])),
			zstd.WithEncoderConcurrency(runtime.GOMAXPROCS(0)),
			zstd.WithLowerEncoderMem(true),
			zstd.WithWindowSize(min(s.c.zstdWindow, streamFrameSize)),
			zstd.WithZeroFrames(true)) // an empty stream is still one frame
	})
	return s.enc
}

// frameBufs is a bounded free list of the input and output buffers of zstd
// stream frames, which a stream holds only while it collects or writes a
// frame. Unlike a sync.Pool it never keeps more than maxFreeFrameBufs
// (1 MiB) idle, however many streams flushed at once.
var frameBufs = make(chan *[]byte, maxFreeFrameBufs)

const maxFreeFrameBufs = 16

func getFrameBuf() *[]byte {
	select {
	case b := <-frameBufs:
		return b
	default:
		b := make([]byte, 0, streamFrameSize)
		return &b
	}
}

func putFrameBuf(b *[]byte) {
	if cap(*b) > 2*streamFrameSize { // EncodeAll grew it
		return
	}
	*b = (*b)[:0]
	select {
	case frameBufs <- b:
	default:
	}
}

// zstdFrames writes a zstd stream as one frame per flush (or per
// streamFrameSize bytes of input). Between flushes it holds no buffer.
type zstdFrames struct {
	w      io.Writer
	shared *zstdShared
	buf    *[]byte // pending input, nil when empty
	wrote  bool    // a frame has been written
	err    error
}

func (z *zstdFrames) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 && z.err == nil {
		if z.buf == nil {
			z.buf = getFrameBuf()
		}
		b := *z.buf
		k := copy(b[len(b):cap(b)], p)
		*z.buf = b[:len(b)+k]
		p = p[k:]
		if len(*z.buf) == cap(*z.buf) {
			z.frame()
		}
	}
	if z.err != nil {
		return n - len(p), z.err
	}
	return n, nil
}

// frame encodes the pending input as one frame and releases the buffer.
func (z *zstdFrames) frame() {
	var in []byte
	if z.buf != nil {
		in = *z.buf
	}
	out := getFrameBuf()
	*out = z.shared.get().EncodeAll(in, (*out)[:0])
	if z.err == nil {
		_, z.err = z.w.Write(*out)
	}
	z.wrote = true
	z.release()
	putFrameBuf(out)
}

func (z *zstdFrames) release() {
	if z.buf != nil {
		putFrameBuf(z.buf)
		z.buf = nil
	}
}

func (z *zstdFrames) Flush() error {
	if z.buf != nil && len(*z.buf) > 0 {
		z.frame()
	}
	return z.err
}

func (z *zstdFrames) Close() error {
	if z.buf != nil && len(*z.buf) > 0 || !z.wrote {
		z.frame()
	}
	return z.err
}

func (z *zstdFrames) Reset(w io.Writer) {
	z.release()
	z.w, z.wrote, z.err = w, false, nil
}
