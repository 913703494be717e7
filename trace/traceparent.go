package trace

import (
	"encoding/binary"
	"errors"

	"github.com/jiec/httpmw/internal/header"
)

// TraceID is a W3C trace-id: 16 bytes, never all zero when valid.
type TraceID [16]byte

// SpanID is a W3C parent-id / span id: 8 bytes, never all zero when valid.
type SpanID [8]byte

// Flags are the W3C trace-flags.
type Flags byte

const (
	// FlagSampled is the sampled flag: the caller may have recorded trace data.
	FlagSampled Flags = 0x01
	// FlagRandom is the Level 2 random-trace-id flag: at least the right-most
	// 7 bytes of the trace-id were chosen at random.
	FlagRandom Flags = 0x02

	// knownFlags are the flags this implementation understands; the others
	// are reserved and sent as zero (W3C Trace Context §3.2.2.5).
	knownFlags = FlagSampled | FlagRandom
)

// IsZero reports whether all bytes of t are zero (an invalid trace-id).
func (t TraceID) IsZero() bool { return t == TraceID{} }

// String returns t as 32 lowercase hex digits.
func (t TraceID) String() string {
	var b [32]byte
	encodeHex(b[:], t[:])
	return string(b[:])
}

// IsZero reports whether all bytes of s are zero (an invalid span id).
func (s SpanID) IsZero() bool { return s == SpanID{} }

// String returns s as 16 lowercase hex digits.
func (s SpanID) String() string {
	var b [16]byte
	encodeHex(b[:], s[:])
	return string(b[:])
}

// Sampled reports whether the sampled flag is set.
func (f Flags) Sampled() bool { return f&FlagSampled != 0 }

// Random reports whether the random-trace-id flag is set.
func (f Flags) Random() bool { return f&FlagRandom != 0 }

// SpanContext is the W3C Trace Context of a request as this hop sees it.
type SpanContext struct {
	// TraceID identifies the whole trace: kept from a valid incoming
	// traceparent, otherwise new.
	TraceID TraceID
	// SpanID identifies this hop (the server span); it is new for every
	// request.
	SpanID SpanID
	// ParentID is the parent-id received in traceparent, zero when the
	// trace started here.
	ParentID SpanID
	// Flags are the trace-flags, reduced to the known bits.
	Flags Flags
	// TraceState is the validated incoming tracestate, combined into one
	// field value; "" when there was none or it was dropped.
	TraceState string
}

// IsValid reports whether sc has a non-zero trace-id and span id.
func (sc SpanContext) IsValid() bool { return !sc.TraceID.IsZero() && !sc.SpanID.IsZero() }

// IsRemote reports whether the trace was continued from an incoming
// traceparent.
func (sc SpanContext) IsRemote() bool { return !sc.ParentID.IsZero() }

// Traceparent returns the version 00 traceparent naming this hop's span as
// the parent: "00-<trace-id>-<span-id>-<flags>".
func (sc SpanContext) Traceparent() string {
	var b [traceparentLen]byte
	formatTraceparent(&b, &sc.TraceID, &sc.SpanID, sc.Flags)
	return string(b[:])
}

// traceparentLen is the length of a version 00 traceparent.
const traceparentLen = 55

func formatTraceparent(b *[traceparentLen]byte, t *TraceID, s *SpanID, f Flags) {
	b[0], b[1], b[2] = '0', '0', '-'
	encodeHex(b[3:35], t[:])
	b[35] = '-'
	encodeHex(b[36:52], s[:])
	b[52] = '-'
	f &= knownFlags
	b[53], b[54] = hexDigits[f>>4], hexDigits[f&0x0f]
}

func encodeHex(dst, src []byte) {
	for len(src) >= 8 && len(dst) >= 16 { // ids: 8 bytes at a time
		x := binary.BigEndian.Uint64(src)
		binary.BigEndian.PutUint64(dst, hex4(uint32(x>>32)))
		binary.BigEndian.PutUint64(dst[8:], hex4(uint32(x)))
		src, dst = src[8:], dst[16:]
	}
	for i, c := range src {
		dst[2*i] = hexDigits[c>>4]
		dst[2*i+1] = hexDigits[c&0x0f]
	}
}

// hex4 returns the 8 lowercase hex digits of x, the first in the most
// significant byte: each nibble is spread into a byte of its own, then
// '0' is added to every byte, and 'a'-'0'-10 more to those above 9.
func hex4(x uint32) uint64 {
	v := uint64(x)
	v = (v | v<<16) & 0x0000ffff0000ffff
	v = (v | v<<8) & 0x00ff00ff00ff00ff
	v = (v | v<<4) & 0x0f0f0f0f0f0f0f0f
	above9 := (v + 0x0606060606060606) >> 4 & 0x0101010101010101
	return v + 0x3030303030303030 + above9*('a'-'0'-10)
}

var (
	errTraceparentFields  = errors.New("trace: traceparent: not exactly one field line")
	errTraceparentLength  = errors.New("trace: traceparent: wrong length")
	errTraceparentVersion = errors.New("trace: traceparent: invalid version")
	errTraceparentFormat  = errors.New("trace: traceparent: malformed")
	errTraceparentZero    = errors.New("trace: traceparent: all-zero trace-id or parent-id")
)

// parseTraceparent parses the field lines of a traceparent request header
// (W3C Trace Context Level 2 §3.2). It returns the trace-id, the caller's
// parent-id and the flags reduced to the known bits.
//
// Rules, each a reason to restart the trace:
//   - exactly one field line (a repeated traceparent is ambiguous);
//   - leading and trailing OWS (SP, HTAB) are ignored;
//   - version is 2 lowercase hex digits followed by '-', and not "ff";
//   - version 00 is exactly 55 characters;
//   - a higher version is at least 55 characters, parsed with the 00 layout,
//     and the flags are followed by the end or by '-' (§3.2.4);
//   - trace-id (32), parent-id (16) and flags (2) are lowercase hex;
//   - trace-id and parent-id are not all zero.
//
// Unknown flag bits are accepted and cleared (§3.2.2.5: vendors MUST set
// them to zero), so a newer caller's flags never split a trace.
func parseTraceparent(values []string) (t TraceID, parent SpanID, f Flags, err error) {
	if len(values) != 1 {
		return t, parent, 0, errTraceparentFields
	}
	s := header.TrimOWS(values[0])
	if len(s) < traceparentLen {
		return t, parent, 0, errTraceparentLength
	}
	v0, v1 := unhexLower(s[0]), unhexLower(s[1])
	if v0|v1 > 0x0f || s[2] != '-' {
		return t, parent, 0, errTraceparentVersion
	}
	switch v := v0<<4 | v1; {
	case v == 0xff:
		return t, parent, 0, errTraceparentVersion
	case v == 0 && len(s) != traceparentLen:
		return t, parent, 0, errTraceparentLength
	case len(s) > traceparentLen && s[traceparentLen] != '-':
		return t, parent, 0, errTraceparentFormat
	}
	if s[35] != '-' || s[52] != '-' ||
		!decodeHexLower(t[:], s[3:35]) || !decodeHexLower(parent[:], s[36:52]) {
		return t, parent, 0, errTraceparentFormat
	}
	f0, f1 := unhexLower(s[53]), unhexLower(s[54])
	if f0|f1 > 0x0f {
		return t, parent, 0, errTraceparentFormat
	}
	if t.IsZero() || parent.IsZero() {
		return t, parent, 0, errTraceparentZero
	}
	return t, parent, Flags(f0<<4|f1) & knownFlags, nil
}

// unhexLower returns the value of the lowercase hex digit c, or 0xff.
func unhexLower(c byte) byte { return hexLowerValue[c] }

// decodeHexLower decodes len(dst)*2 lowercase hex digits from src.
// (encoding/hex also accepts uppercase, which the spec forbids.)
func decodeHexLower(dst []byte, src string) bool { return decodeHex(dst, src, &hexLowerValue) }
