package compress

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"strings"

	"github.com/jiec/httpmw/internal/header"
	"github.com/klauspost/compress/zstd"
)

// Content-coding names (RFC 9110 §8.4.1, RFC 8878, RFC 7932).
const (
	Zstd    = "zstd"
	Brotli  = "br"
	Gzip    = "gzip"
	Deflate = "deflate"
)

// Defaults used for zero Config fields.
const (
	DefaultMinSize         = 1024
	DefaultGzipLevel       = 5 // klauspost gzip.DefaultCompression
	DefaultDeflateLevel    = 5
	DefaultBrotliLevel     = 4
	DefaultZstdLevel       = 1 // zstd.SpeedFastest: ~0.5 MiB per stream, faster and smaller than gzip 5
	DefaultZstdWindow      = 128 << 10
	DefaultMaxRequestSize  = 10 << 20
	DefaultMaxRequestRatio = 100

	maxMinSize    = 64 << 10
	maxZstdWindow = 8 << 20 // browsers refuse larger windows (RFC 8878 §3.1.1.1.2, RFC 9659)
	maxJitter     = 4096
)

// Sentinels for the Config fields where 0 means the default.
const (
	// AnySize, as Config.MinSize, compresses bodies of every size.
	AnySize = -1
	// Unlimited, as Config.MaxRequestSize, sets no limit on the size of a
	// decoded request body (MaxRequestRatio still applies).
	Unlimited = -1
)

// DefaultEncodings is the server preference order used when Config.Encodings
// is nil: it breaks ties between codings the client weights equally.
var defaultEncodings = []string{Zstd, Brotli, Gzip, Deflate}

// DefaultEncodings returns the default server preference order
// (zstd, br, gzip, deflate).
func DefaultEncodings() []string { return append([]string(nil), defaultEncodings...) }

// defaultContentTypes are compressible media types. Patterns are
// "type/subtype", "type/*" or "type/*+suffix".
var defaultContentTypes = []string{
	"text/*",
	"application/json", "application/*+json", "application/x-ndjson", "application/jsonl",
	"application/javascript", "application/x-javascript", "application/ecmascript",
	"application/xml", "application/*+xml",
	"application/wasm",
	"application/yaml", "application/x-yaml", "application/toml",
	"application/x-www-form-urlencoded", "application/graphql",
	"application/rtf", "application/x-sh", "application/x-tar",
	"application/vnd.ms-fontobject", "font/ttf", "font/otf", "font/collection",
	"image/svg+xml", "image/x-icon", "image/vnd.microsoft.icon", "image/bmp",
}

// DefaultContentTypes returns the media-type patterns compressed when
// Config.ContentTypes is nil.
func DefaultContentTypes() []string { return append([]string(nil), defaultContentTypes...) }

// Config configures the middleware. The zero value compresses responses of
// 1 KiB or more of textual media types with zstd, br, gzip or deflate, in that
// order of server preference, and leaves request bodies alone.
//
// New copies the Config; changing it afterwards has no effect.
type Config struct {
	// Encodings lists the content codings the middleware may apply to
	// responses, most preferred first ("zstd", "br", "gzip", "deflate"). The
	// client's q-values decide first; this order breaks ties.
	//   - nil: DefaultEncodings (zstd, br, gzip, deflate).
	//   - empty and not nil ([]string{}): no response is compressed (useful
	//     with DecompressRequests alone).
	// With Jitter, Encodings must be set and list only zstd and gzip (the
	// codings with a padding slot): New reports nil, br or deflate as an
	// error rather than silently changing the default.
	Encodings []string

	// Levels per coding; 0 means the default. GzipLevel and DeflateLevel are
	// 1..9 (default 5), BrotliLevel 1..9 (default 4; 10 and 11 cost ~30 ms and
	// ~36 MB per 16 KiB response and are refused), ZstdLevel 1..22 (default 1)
	// mapped with zstd.EncoderLevelFromZstd.
	GzipLevel, DeflateLevel, BrotliLevel, ZstdLevel int

	// ZstdWindow is the zstd window in bytes: a power of two between 1 KiB and
	// 8 MiB (what browsers accept). 0 means 128 KiB, which bounds the memory
	// of each in-flight zstd response.
	ZstdWindow int

	// MinSize is the smallest body that gets compressed. Up to MinSize bytes
	// are buffered before deciding, unless Content-Length is known or the
	// handler flushes.
	//   - 0: DefaultMinSize (1024).
	//   - AnySize (-1): every body, however small, is compressed.
	//   - 1..65536: that many bytes.
	// Other values are an error.
	MinSize int

	// ContentTypes lists the compressible media types: "type/subtype",
	// "type/*" or "type/*+suffix" (e.g. "application/*+json"), compared
	// case-insensitively. nil means DefaultContentTypes. When the response has
	// no Content-Type, it is sniffed from the buffered body
	// (http.DetectContentType) and set before compressed bytes are sent.
	ContentTypes []string

	// Jitter, when > 0, adds 1..Jitter bytes of padding to compressed
	// responses to blur their length (BREACH mitigation, like gzhttp's
	// RandomJitter), its length keyed by a secret hash of the body so that
	// repeating a request yields the same bytes: a zstd skippable frame keyed
	// by the whole body, or a gzip header comment keyed by the first MinSize
	// bytes (held until then: the header precedes the body). br and deflate
	// have no padding slot and may not be listed in Encodings when Jitter is
	// set. At most 4096. Padding blurs, it does not remove, the length side
	// channel: keep secrets out of compressed bodies that reflect input.
	Jitter int

	// DecompressRequests turns on decoding of request bodies sent with
	// Content-Encoding gzip, x-gzip, br, zstd or deflate (also chained, e.g.
	// "gzip, br"). Any other coding is answered with 415 and an
	// Accept-Encoding response header listing the supported ones.
	DecompressRequests bool

	// MaxRequestSize caps a decoded request body in bytes; past it, reads
	// fail and the response is 413.
	//   - 0: DefaultMaxRequestSize (10 MiB).
	//   - Unlimited (-1): no cap (MaxRequestRatio still applies).
	//   - > 0: that many bytes.
	// Other values are an error. It also caps the window a zstd or br
	// request body may declare (see the package doc, Request bodies).
	MaxRequestSize int64

	// MaxRequestRatio caps decoded/encoded bytes of a request body (zip-bomb
	// guard), checked once more than 64 KiB have been decoded. 0 means 100.
	MaxRequestRatio int

	// ErrorHandler writes the 413 and 415 responses of request decompression.
	// err is ErrUnsupportedEncoding, ErrRequestTooLarge or ErrRatio (test with
	// errors.Is). nil writes an RFC 9457 problem+json response.
	ErrorHandler func(w http.ResponseWriter, r *http.Request, err error)
}

// config is the compiled, validated form of Config.
type config struct {
	codings    []coding // server preference order
	gzipAlias  int      // index of gzip in codings or -1 (for "x-gzip")
	levels     [numCodings]int
	zstdWindow int
	minSize    int
	types      []typePattern
	jitter     int
	decompress bool
	maxReq     int64 // math.MaxInt64-1: unlimited
	maxRatio   int64
	// Largest window a request body may declare (zstd, br).
	zstdDecWindow, brDecWindow int
	errorHandler               func(http.ResponseWriter, *http.Request, error)
}

func (c Config) compile() (*config, error) {
	var errs []error
	bad := func(field, problem string, v any) {
		errs = append(errs, fmt.Errorf("compress: %s: %s (value %q)", field, problem, fmt.Sprint(v)))
	}
	cc := &config{gzipAlias: -1, decompress: c.DecompressRequests, errorHandler: c.ErrorHandler}

	if c.Jitter < 0 || c.Jitter > maxJitter {
		bad("Jitter", "must be 0..4096", c.Jitter)
	}
	cc.jitter = c.Jitter

	names := c.Encodings
	if names == nil {
		names = defaultEncodings
		if c.Jitter > 0 {
			bad("Encodings", "must be set with Jitter (zstd and/or gzip: the defaults include br and deflate, which have no padding slot)", "nil")
			names = nil
		}
	}
	for _, n := range names {
		cd, ok := codingByName(n)
		switch {
		case !ok:
			bad("Encodings", "unknown coding, want zstd, br, gzip or deflate", n)
			continue
		case cc.index(cd) >= 0:
			bad("Encodings", "duplicate coding", n)
			continue
		case c.Jitter > 0 && (cd == codingBrotli || cd == codingDeflate):
			bad("Encodings", "coding has no padding slot for Jitter", n)
			continue
		}
		if cd == codingGzip {
			cc.gzipAlias = len(cc.codings)
		}
		cc.codings = append(cc.codings, cd)
	}

	level := func(field string, v, def, lo, hi int) int {
		if v == 0 {
			return def
		}
		if v < lo || v > hi {
			bad(field, fmt.Sprintf("must be %d..%d", lo, hi), v)
		}
		return v
	}
	cc.levels[codingGzip] = level("GzipLevel", c.GzipLevel, DefaultGzipLevel, 1, 9)
	cc.levels[codingDeflate] = level("DeflateLevel", c.DeflateLevel, DefaultDeflateLevel, 1, 9)
	cc.levels[codingBrotli] = level("BrotliLevel", c.BrotliLevel, DefaultBrotliLevel, 1, 9)
	cc.levels[codingZstd] = level("ZstdLevel", c.ZstdLevel, DefaultZstdLevel, 1, 22)

	cc.zstdWindow = c.ZstdWindow
	if cc.zstdWindow == 0 {
		cc.zstdWindow = DefaultZstdWindow
	} else if w := cc.zstdWindow; w < zstd.MinWindowSize || w > maxZstdWindow || w&(w-1) != 0 {
		bad("ZstdWindow", "must be a power of two between 1 KiB and 8 MiB", w)
	}

	switch cc.minSize = c.MinSize; {
	case cc.minSize == 0:
		cc.minSize = DefaultMinSize
	case cc.minSize == AnySize:
		cc.minSize = 0
	case cc.minSize < 0 || cc.minSize > maxMinSize:
		bad("MinSize", "must be 0 (default), AnySize (-1) or 1..65536", c.MinSize)
	}

	types := c.ContentTypes
	if types == nil {
		types = defaultContentTypes
	}
	for _, t := range types {
		p, ok := parseTypePattern(t)
		if !ok {
			bad("ContentTypes", `want "type/subtype", "type/*" or "type/*+suffix"`, t)
			continue
		}
		cc.types = append(cc.types, p)
	}

	switch cc.maxReq = c.MaxRequestSize; {
	case cc.maxReq == 0:
		cc.maxReq = DefaultMaxRequestSize
	case cc.maxReq == Unlimited:
		cc.maxReq = math.MaxInt64 - 1 // Read compares with maxReq+1
	case cc.maxReq < 0:
		bad("MaxRequestSize", "must be 0 (default), Unlimited (-1) or positive", cc.maxReq)
	}
	cc.zstdDecWindow, cc.brDecWindow = decoderWindows(cc.maxReq)
	cc.maxRatio = int64(c.MaxRequestRatio)
	if cc.maxRatio == 0 {
		cc.maxRatio = DefaultMaxRequestRatio
	} else if cc.maxRatio < 2 {
		bad("MaxRequestRatio", "must be at least 2", c.MaxRequestRatio)
	}

	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return cc, nil
}

// index returns the position of cd in the preference order, or -1.
func (c *config) index(cd coding) int {
	for i, x := range c.codings {
		if x == cd {
			return i
		}
	}
	return -1
}

// typePattern is a compiled ContentTypes entry.
type typePattern struct {
	typ, sub string // sub "*" matches any subtype
	suffix   string // "+json" for "type/*+json"
}

func parseTypePattern(s string) (typePattern, bool) {
	typ, sub, ok := strings.Cut(strings.ToLower(header.TrimOWS(s)), "/")
	if !ok || !header.IsToken(typ) || !header.IsToken(sub) || typ == "*" && sub != "*" {
		return typePattern{}, false
	}
	if rest, ok := strings.CutPrefix(sub, "*"); ok && rest != "" {
		if rest[0] != '+' || len(rest) < 2 || strings.Contains(rest, "*") {
			return typePattern{}, false
		}
		return typePattern{typ: typ, suffix: rest}, true
	}
	if strings.Contains(typ+sub, "*") && sub != "*" {
		return typePattern{}, false
	}
	return typePattern{typ: typ, sub: sub}, true
}

// allowed reports whether the Content-Type value ct matches a pattern.
func (c *config) allowed(ct string) bool {
	mt, _ := header.CutParams(ct)
	typ, sub, ok := strings.Cut(mt, "/")
	if !ok {
		return false
	}
	for _, p := range c.types {
		if p.typ != "*" && !strings.EqualFold(p.typ, typ) {
			continue
		}
		switch {
		case p.suffix != "":
			if len(sub) > len(p.suffix) && strings.EqualFold(sub[len(sub)-len(p.suffix):], p.suffix) {
				return true
			}
		case p.sub == "*" || strings.EqualFold(p.sub, sub):
			return true
		}
	}
	return false
}
