package trace

import "github.com/google/uuid"

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

// uuidBytes returns the 16 bytes of s when s is a UUID written as 36
// characters with dashes (8-4-4-4-12) or as 32 hex digits, in either case.
// Version and variant bits are not checked: any 128-bit value in UUID
// notation maps to a trace-id.
func uuidBytes(s string) (u [16]byte, ok bool) {
	switch len(s) {
	case 32:
		return u, decodeHex(u[:], s, &hexValue)
	case 36:
		if s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
			return u, false
		}
		j := 0
		for i := 0; i < 36; i += 2 {
			if i == 8 || i == 13 || i == 18 || i == 23 {
				i++
			}
			hi, lo := unhex(s[i]), unhex(s[i+1])
			if hi|lo > 0x0f {
				return u, false
			}
			u[j] = hi<<4 | lo
			j++
		}
		return u, true
	}
	return u, false
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

// unhex returns the value of the hex digit c (either case), or 0xff.
func unhex(c byte) byte { return hexValue[c] }

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

// newUUID returns a new UUID of the given version from github.com/google/uuid
// (crypto/rand): version 4 (RFC 9562 §5.4, 122 random bits) or version 7
// (§5.7: 48-bit Unix milliseconds, a 12-bit sub-millisecond counter that keeps
// ids of one process in order, 62 random bits). Either way the right-most 7
// bytes are random, as FlagRandom promises.
func newUUID(version int) (uuid.UUID, error) {
	if version == 4 {
		return uuid.NewRandom()
	}
	return uuid.NewV7()
}
