package compress

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/andybalholm/brotli"
	"github.com/jiec/httpmw/internal/header"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zlib"
	"github.com/klauspost/compress/zstd"
)

// Errors of request-body decompression, passed to Config.ErrorHandler.
var (
	// ErrUnsupportedEncoding: the request's Content-Encoding is not one of
	// gzip, x-gzip, br, zstd, deflate, identity (or lists more than 3). 415.
	ErrUnsupportedEncoding = errors.New("compress: unsupported request content coding")
	// ErrRequestTooLarge: the decoded body exceeds Config.MaxRequestSize. 413.
	ErrRequestTooLarge = errors.New("compress: decoded request body too large")
	// ErrRatio: the decoded body grew past Config.MaxRequestRatio times its
	// encoded size (a decompression bomb). 413.
	ErrRatio = errors.New("compress: request body compression ratio too high")
	// ErrCorruptRequest: the request body is not valid in its
	// Content-Encoding (a broken or truncated stream). 400. The error a
	// handler's Read returns also wraps the decoder's own error.
	ErrCorruptRequest = errors.New("compress: corrupt request body")
)

const (
	maxRequestCodings = 3
	ratioGrace        = 64 << 10 // decoded bytes before the ratio is checked
	maxDecoderWindow  = 8 << 20  // RFC 9659: zstd window limit for HTTP
	maxBrotliWindow   = 1<<24 - 16
	minDecoderWindow  = 64 << 10
)

// decoderWindows returns the largest windows a zstd or br request body may
// declare when decoded bodies are capped at maxReq bytes: the smallest power
// of two that holds maxReq (a window never needs to exceed the content), at
// least 64 KiB, at most what the format allows for HTTP (zstd 8 MiB, RFC
// 9659; br 16 MiB). A decoder allocates up to its window per request, so
// this bounds what a request that stalls after its first bytes holds.
func decoderWindows(maxReq int64) (zstdWin, brWin int) {
	w := int64(minDecoderWindow)
	for w < maxReq && w < maxBrotliWindow {
		w <<= 1
	}
	return int(min(w, maxDecoderWindow)), int(min(w, maxBrotliWindow))
}

// decoderPools pools one decoder kind per coding (zstd, br, gzip, deflate).
type decoderPools [numCodings]sync.Pool

func (p *decoderPools) init(c *config) {
	p[codingZstd].New = func() any {
		d, _ := zstd.NewReader(nil,
			zstd.WithDecoderConcurrency(1), // synchronous: no goroutines
			zstd.WithDecoderLowmem(true),
			zstd.WithDecoderMaxWindow(uint64(c.zstdDecWindow)),
			zstd.WithDecoderMaxMemory(uint64(c.zstdDecWindow)))
		return d
	}
	p[codingGzip].New = func() any { return new(gzip.Reader) }
	p[codingBrotli].New = func() any { return new(brotli.Reader) }
	p[codingDeflate].New = func() any {
		// zlib has no zero value to Reset: start from an empty stream.
		d, _ := zlib.NewReader(bytes.NewReader(emptyZlib))
		return d
	}
}

// emptyZlib is a complete zlib stream of no data.
var emptyZlib = []byte{0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01}

// requestBody is the decoded request body given to the handler.
type requestBody struct {
	m        *Middleware
	orig     io.ReadCloser
	in       countingReader // encoded bytes read from orig
	codings  [maxRequestCodings]coding
	n        int // number of codings
	decs     [maxRequestCodings]any
	guards   [maxRequestCodings]brotliGuard
	r        io.Reader // outermost decoder, nil until the first Read
	out      int64     // decoded bytes returned
	err      error     // sticky error (ErrRequestTooLarge, ErrRatio, ErrCorruptRequest)
	replaced bool      // the error response has been written
	closed   bool
}

type countingReader struct {
	r   io.Reader
	n   int64
	err error // the last error of r other than io.EOF
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if err != nil && err != io.EOF {
		c.err = err
	}
	return n, err
}

// errBrotliWindow is the error of a brotli stream declaring a window over
// the limit; reported as ErrRequestTooLarge.
var errBrotliWindow = errors.New("compress: brotli window over the limit")

// brotliGuard passes a brotli stream through after checking the window its
// first byte declares (RFC 7932 §9.1) against limit: the decoder would
// otherwise allocate a ring buffer of up to 16 MiB for a stream that then
// stalls.
type brotliGuard struct {
	r       io.Reader
	limit   int
	first   [1]byte
	pending bool // first holds the byte to hand out
	checked bool
}

func (g *brotliGuard) Read(p []byte) (int, error) {
	if !g.checked {
		n, err := g.r.Read(g.first[:])
		if n == 0 {
			return 0, err
		}
		if w := brotliWindow(g.first[0]); w < 0 || w > g.limit {
			return 0, errBrotliWindow
		}
		g.checked, g.pending = true, true
	}
	if g.pending {
		if len(p) == 0 {
			return 0, nil
		}
		p[0] = g.first[0]
		g.pending = false
		return 1, nil
	}
	return g.r.Read(p)
}

// brotliWindow decodes WBITS from the first byte of a brotli stream and
// returns the window size in bytes, or -1 for the reserved value (used by
// the non-standard large-window extension).
func brotliWindow(b byte) int {
	wbits := 16
	switch {
	case b&1 == 0:
	case b>>1&7 != 0:
		wbits = 17 + int(b>>1&7)
	case b>>4&7 == 1:
		return -1
	case b>>4&7 != 0:
		wbits = 8 + int(b>>4&7)
	default:
		wbits = 17
	}
	return 1<<wbits - 16
}

// decodeRequest parses the request's Content-Encoding and returns a shallow
// copy of r whose Body decodes it. It fails with ErrUnsupportedEncoding.
func (m *Middleware) decodeRequest(r *http.Request) (*http.Request, *requestBody, error) {
	values := r.Header["Content-Encoding"]
	if header.TotalLen(values) > header.MaxLen {
		return r, nil, fmt.Errorf("%w: field too long", ErrUnsupportedEncoding)
	}
	var cds [maxRequestCodings]coding
	n := 0
	for e := range header.Elements(values) {
		cd, ok := codingByName(e)
		switch {
		case strings.EqualFold(e, "identity"):
			continue
		case strings.EqualFold(e, "x-gzip"):
			cd, ok = codingGzip, true
		}
		if !ok {
			if len(e) > 64 {
				e = e[:64]
			}
			return r, nil, fmt.Errorf("%w %q", ErrUnsupportedEncoding, e)
		}
		if n == maxRequestCodings {
			return r, nil, fmt.Errorf("%w: more than %d codings", ErrUnsupportedEncoding, maxRequestCodings)
		}
		cds[n] = cd
		n++
	}
	if n == 0 || r.Body == nil || r.Body == http.NoBody {
		return r, nil, nil
	}
	rb := &requestBody{m: m, orig: r.Body, codings: cds, n: n}
	rb.in.r = r.Body
	r2 := new(http.Request)
	*r2 = *r
	r2.Header = r.Header.Clone()
	delete(r2.Header, "Content-Encoding")
	delete(r2.Header, "Content-Length")
	r2.ContentLength = -1
	r2.Body = rb
	return r2, rb, nil
}

// build stacks the decoders: the last coding applied is undone first.
func (b *requestBody) build() error {
	var src io.Reader = &b.in
	for i := b.n - 1; i >= 0; i-- {
		d := b.m.decoders[b.codings[i]].Get()
		b.decs[i] = d
		var err error
		switch d := d.(type) {
		case *zstd.Decoder:
			err = d.Reset(src)
		case *gzip.Reader:
			err = d.Reset(src)
		case *brotli.Reader:
			g := &b.guards[i]
			*g = brotliGuard{r: src, limit: b.m.c.brDecWindow}
			err = d.Reset(g)
		case zlib.Resetter:
			err = d.Reset(src, nil)
		}
		if err != nil {
			return err
		}
		src = d.(io.Reader)
	}
	b.r = src
	return nil
}

// Read returns decoded bytes, failing once a limit is passed.
func (b *requestBody) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	if b.closed {
		return 0, http.ErrBodyReadAfterClose
	}
	if b.r == nil {
		if err := b.build(); err != nil {
			if e := b.classify(err); e != err {
				b.err = e
			}
			return 0, b.classify(err)
		}
	}
	// Never hand out more than one byte past the limit.
	if rest := b.m.c.maxReq + 1 - b.out; int64(len(p)) > rest {
		p = p[:rest]
	}
	n, err := b.r.Read(p)
	b.out += int64(n)
	switch {
	case b.out > b.m.c.maxReq:
		b.err = fmt.Errorf("%w: more than %d bytes", ErrRequestTooLarge, b.m.c.maxReq)
	case b.out > ratioGrace && b.out > b.m.c.maxRatio*b.in.n:
		b.err = fmt.Errorf("%w: %d bytes from %d", ErrRatio, b.out, b.in.n)
	case err != nil && err != io.EOF:
		if e := b.classify(err); e != err {
			b.err = e
		} else {
			return n, err // the client's own body failed: not ours to answer
		}
	default:
		return n, err
	}
	return 0, b.err
}

// classify maps a decoder error: a window over the limit is
// ErrRequestTooLarge, an error of the original body (a client gone, an
// outer http.MaxBytesReader) is returned as it is, anything else means the
// stream is broken: ErrCorruptRequest, wrapping the decoder's error.
func (b *requestBody) classify(err error) error {
	switch {
	case errors.Is(err, zstd.ErrWindowSizeExceeded) || errors.Is(err, zstd.ErrDecoderSizeExceeded) || errors.Is(err, errBrotliWindow):
		return fmt.Errorf("%w: the body declares a window larger than %d bytes", ErrRequestTooLarge, b.windowLimit())
	case b.in.err != nil && errors.Is(err, b.in.err):
		return err
	}
	return fmt.Errorf("%w: %w", ErrCorruptRequest, err)
}

func (b *requestBody) windowLimit() int {
	for i := 0; i < b.n; i++ {
		if b.codings[i] == codingBrotli {
			return b.m.c.brDecWindow
		}
	}
	return b.m.c.zstdDecWindow
}

// Close releases the decoders and closes the original body.
func (b *requestBody) Close() error {
	if b.closed {
		return nil
	}
	b.release()
	return b.orig.Close()
}

// release returns the decoders to their pools; further Reads fail.
func (b *requestBody) release() {
	b.closed = true
	b.r = nil
	for i := 0; i < b.n; i++ {
		d := b.decs[i]
		if d == nil {
			continue
		}
		b.decs[i] = nil
		if z, ok := d.(*zstd.Decoder); ok {
			_ = z.Reset(nil)
		}
		b.m.decoders[b.codings[i]].Put(d)
	}
}
