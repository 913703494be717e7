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
)

const (
	maxRequestCodings = 3
	ratioGrace        = 64 << 10 // decoded bytes before the ratio is checked
	maxDecoderWindow  = 8 << 20  // RFC 9659: zstd window limit for HTTP
)

// decoderPools pools one decoder kind per coding (zstd, br, gzip, deflate).
type decoderPools [numCodings]sync.Pool

func (p *decoderPools) init(c *config) {
	p[codingZstd].New = func() any {
		d, _ := zstd.NewReader(nil,
			zstd.WithDecoderConcurrency(1), // synchronous: no goroutines
			zstd.WithDecoderLowmem(true),
			zstd.WithDecoderMaxWindow(maxDecoderWindow),
			zstd.WithDecoderMaxMemory(uint64(max(c.maxReq+1, maxDecoderWindow))))
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
	r        io.Reader // outermost decoder, nil until the first Read
	out      int64     // decoded bytes returned
	err      error     // sticky limit error (ErrRequestTooLarge, ErrRatio)
	replaced bool      // the error response has been written
	closed   bool
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
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
			err = d.Reset(src)
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
			return 0, err
		}
	}
	// Never hand out more than one byte past the limit.
	if rest := b.m.c.maxReq + 1 - b.out; int64(len(p)) > rest {
		p = p[:rest]
	}
	n, err := b.r.Read(p)
	b.out += int64(n)
	switch {
	case b.out > b.m.c.maxReq || errors.Is(err, zstd.ErrDecoderSizeExceeded):
		b.err = fmt.Errorf("%w: more than %d bytes", ErrRequestTooLarge, b.m.c.maxReq)
	case b.out > ratioGrace && b.out > b.m.c.maxRatio*b.in.n:
		b.err = fmt.Errorf("%w: %d bytes from %d", ErrRatio, b.out, b.in.n)
	default:
		return n, err
	}
	return 0, b.err
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
