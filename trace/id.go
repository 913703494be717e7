package trace

import (
	"math/rand/v2"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
)

// maxIDLen is the longest incoming id the middleware accepts.
const maxIDLen = 128

// validID reports whether s is acceptable as an incoming or generated id:
// 1 to maxIDLen characters from A-Z, a-z, 0-9, '-', '_', '.' and ':'. The
// alphabet keeps ids safe to echo in a header and to write in any log format.
func validID(s string) bool {
	if len(s) == 0 || len(s) > maxIDLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !idChar[s[i]] {
			return false
		}
	}
	return true
}

var idChar = func() (t [256]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
		t[c-'a'+'A'] = true
	}
	t['-'], t['_'], t['.'], t[':'] = true, true, true, true
	return t
}()

const hexDigits = "0123456789abcdef"

// encodeUUID writes u in its canonical 36-character form
// (8-4-4-4-12 lowercase hex) to dst.
func encodeUUID(dst *[36]byte, u *[16]byte) {
	j := 0
	for i, b := range u {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			dst[j] = '-'
			j++
		}
		dst[j] = hexDigits[b>>4]
		dst[j+1] = hexDigits[b&0x0f]
		j += 2
	}
}

// hexTraceID returns the trace-id written as s when s is 32 hex digits (in
// either case) and not all zero.
func hexTraceID(s string) (t TraceID, ok bool) {
	if len(s) != 32 || !decodeHex(t[:], s, &hexValue) || t.IsZero() {
		return TraceID{}, false
	}
	return t, true
}

// hexValue and hexLowerValue map a byte to its value as a hex digit (in
// either case, and lowercase only), or 0xff.
var hexValue, hexLowerValue = func() (mixed, lower [256]byte) {
	for i := range mixed {
		mixed[i], lower[i] = 0xff, 0xff
	}
	for c := byte('0'); c <= '9'; c++ {
		mixed[c], lower[c] = c-'0', c-'0'
	}
	for c := byte('a'); c <= 'f'; c++ {
		mixed[c], lower[c] = c-'a'+10, c-'a'+10
		mixed[c-'a'+'A'] = c - 'a' + 10
	}
	return mixed, lower
}()

// decodeHex decodes len(dst)*2 hex digits from src, valued by digit
// (hexValue or hexLowerValue).
func decodeHex(dst []byte, src string, digit *[256]byte) bool {
	src = src[:2*len(dst)]
	for i := range dst {
		hi, lo := digit[src[2*i]], digit[src[2*i+1]]
		if hi|lo > 0x0f {
			return false
		}
		dst[i] = hi<<4 | lo
	}
	return true
}

// newTraceID returns a new trace-id for a trace started here: bytes 0-5 are
// the Unix time in milliseconds ms (ids sort by creation time, to the
// millisecond), bytes 6-15 are uniformly random. So the right-most 7 bytes
// are random as FlagRandom promises, and bytes 8-15, which OpenTelemetry's
// TraceIDRatioBased sampler reads, are uniform. The random bits come from
// math/rand/v2's runtime generator (ChaCha8, seeded from the operating
// system), which does not allocate or lock; trace-ids need to be unique, not
// secret.
func newTraceID(ms int64) (t TraceID) {
	hi := rand.Uint64()
	putUint64(t[:8], uint64(ms)<<16|hi&0xffff)
	putUint64(t[8:], rand.Uint64())
	if t.IsZero() { // only with a clock at the epoch and a zero draw
		t[15] = 1
	}
	return t
}

// milliClock tells the Unix time in milliseconds with one read of the
// monotonic clock (time.Now reads the wall clock too, which costs as much
// again): the time elapsed since an anchor, a time.Now at most one second
// old, is added to the anchor's wall time. The answer is the wall clock's,
// to the nanosecond, except within one second after the wall clock is
// stepped (or the machine resumes from suspend), when it lags by the step
// until the next anchor. The zero milliClock is ready to use.
type milliClock struct{ anchor atomic.Pointer[clockAnchor] }

type clockAnchor struct {
	t        time.Time // with its monotonic reading
	unixNano int64
}

func (c *milliClock) unixMilli() int64 {
	if c == nil {
		return time.Now().UnixMilli()
	}
	if a := c.anchor.Load(); a != nil {
		if d := time.Since(a.t); d >= 0 && d < time.Second {
			return (a.unixNano + int64(d)) / int64(time.Millisecond)
		}
	}
	t := time.Now()
	c.anchor.Store(&clockAnchor{t: t, unixNano: t.UnixNano()})
	return t.UnixMilli()
}

// ratioBound returns the bound below which (trace-id bytes 8-15) >> 1 is
// sampled at ratio r, as OpenTelemetry's TraceIDRatioBased computes it.
func ratioBound(r float64) uint64 {
	if r >= 1 {
		return 1 << 63
	}
	return uint64(r * (1 << 63))
}

// sampledAt reports whether t is sampled under bound (see ratioBound).
func sampledAt(t *TraceID, bound uint64) bool {
	var x uint64
	for _, b := range t[8:] {
		x = x<<8 | uint64(b)
	}
	return x>>1 < bound
}

// newUUID returns a new UUID of the given version from github.com/google/uuid
// (crypto/rand): version 4 (RFC 9562 §5.4, 122 random bits) or version 7
// (§5.7: 48-bit Unix milliseconds, a 12-bit sub-millisecond counter that keeps
// ids of one process in order, 62 random bits). It is a request id only,
// never a trace-id.
func newUUID(version int) (uuid.UUID, error) {
	if version == 4 {
		return uuid.NewRandom()
	}
	return uuid.NewV7()
}
