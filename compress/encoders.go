package compress

import (
	"io"
	"strings"
	"sync"

	"github.com/andybalholm/brotli"
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

// encoderPools holds one pool per coding, each at the configured level.
// Encoders are Reset onto io.Discard before they are pooled, so a pooled
// encoder never references a finished response.
type encoderPools [numCodings]sync.Pool

func (p *encoderPools) init(c *config) {
	p[codingGzip].New = func() any {
		w, _ := gzip.NewWriterLevel(io.Discard, c.levels[codingGzip])
		return w
	}
	p[codingDeflate].New = func() any {
		w, _ := zlib.NewWriterLevel(io.Discard, c.levels[codingDeflate])
		return w
	}
	p[codingBrotli].New = func() any {
		// A 256 KiB window instead of 4 MiB: ~2 MiB instead of ~10 MiB per
		// in-flight response, with the same ratio for bodies up to 256 KiB.
		return brotli.NewWriterOptions(io.Discard, brotli.WriterOptions{Quality: c.levels[codingBrotli], LGWin: brotliLGWin})
	}
	p[codingZstd].New = func() any {
		w, _ := zstd.NewWriter(io.Discard,
			zstd.WithEncoderLevel(zstd.EncoderLevelFromZstd(c.levels[codingZstd])),
			zstd.WithEncoderConcurrency(1), // no goroutines per stream
			zstd.WithLowerEncoderMem(true),
			zstd.WithWindowSize(c.zstdWindow))
		return w
	}
}

func (p *encoderPools) get(cd coding, w io.Writer) encoder {
	e := p[cd].Get().(encoder)
	e.Reset(w)
	return e
}

func (p *encoderPools) put(cd coding, e encoder) {
	e.Reset(io.Discard)
	p[cd].Put(e)
}
