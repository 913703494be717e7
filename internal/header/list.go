package header

import (
	"iter"
	"strings"
)

// MaxLen is the longest field value (summed over all lines) the httpmw
// packages parse; longer values are treated as malformed.
const MaxLen = 8 << 10

// MaxElements bounds how many list elements a caller should examine.
const MaxElements = 128

// IsOWS reports whether c is optional white space (SP or HTAB).
func IsOWS(c byte) bool { return c == ' ' || c == '\t' }

// TrimOWS removes leading and trailing optional white space.
func TrimOWS(s string) string {
	for len(s) > 0 && IsOWS(s[0]) {
		s = s[1:]
	}
	for len(s) > 0 && IsOWS(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	return s
}

// NextElement splits the first element off the comma-separated list s
// (RFC 9110 §5.6.1). Commas inside quoted strings do not split. The element
// comes back with OWS trimmed and may be empty; rest is what follows the comma.
// An unterminated quoted string extends to the end of s.
func NextElement(s string) (elem, rest string) {
	// Most lists hold no quoted string: a comma with no quote before it
	// ends the element (IndexByte is vectorised; the loop below is not).
	if i := strings.IndexByte(s, ','); i < 0 {
		if strings.IndexByte(s, '"') < 0 {
			return TrimOWS(s), ""
		}
	} else if strings.IndexByte(s[:i], '"') < 0 {
		return TrimOWS(s[:i]), s[i+1:]
	}
	inQuote := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case inQuote && c == '\\':
			i++ // skip the escaped byte
		case c == '"':
			inQuote = !inQuote
		case c == ',' && !inQuote:
			return TrimOWS(s[:i]), s[i+1:]
		}
	}
	return TrimOWS(s), ""
}

// Elements yields the non-empty elements of the comma-separated lists in
// values (several field lines combine as one list, RFC 9110 §5.3).
func Elements(values []string) iter.Seq[string] {
	return func(yield func(string) bool) {
		for _, v := range values {
			for v != "" {
				var e string
				e, v = NextElement(v)
				if e != "" && !yield(e) {
					return
				}
			}
		}
	}
}

// TotalLen returns the summed length of values.
func TotalLen(values []string) int {
	n := 0
	for _, v := range values {
		n += len(v)
	}
	return n
}

// HasToken reports whether the lists in values contain token, compared
// case-insensitively; parameters after ';' are ignored
// (e.g. HasToken(cacheControl, "no-transform")).
func HasToken(values []string, token string) bool {
	for e := range Elements(values) {
		name, _ := CutParams(e)
		if strings.EqualFold(name, token) {
			return true
		}
	}
	return false
}

// CutParams splits an element into its value and its parameter string, both
// trimmed of OWS; the parameter string is also trimmed of the ';' separators
// around it, so it is "" when only empty parameters follow (RFC 9110 §5.6.6
// allows them: `text/html;;charset=utf-8;`).
func CutParams(elem string) (value, params string) {
	i := strings.IndexByte(elem, ';')
	if i < 0 {
		return TrimOWS(elem), ""
	}
	return TrimOWS(elem[:i]), trimSemis(elem[i+1:])
}

// IsToken reports whether s is a non-empty RFC 9110 token.
func IsToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !IsTokenChar(s[i]) {
			return false
		}
	}
	return true
}

// IsTokenChar reports whether c is a tchar (RFC 9110 §5.6.2).
func IsTokenChar(c byte) bool { return c < 128 && tchar[c] }

var tchar = [128]bool{
	'!': true, '#': true, '$': true, '%': true, '&': true, '\'': true, '*': true,
	'+': true, '-': true, '.': true, '^': true, '_': true, '`': true, '|': true, '~': true,
	'0': true, '1': true, '2': true, '3': true, '4': true, '5': true, '6': true, '7': true, '8': true, '9': true,
	'A': true, 'B': true, 'C': true, 'D': true, 'E': true, 'F': true, 'G': true, 'H': true, 'I': true,
	'J': true, 'K': true, 'L': true, 'M': true, 'N': true, 'O': true, 'P': true, 'Q': true, 'R': true,
	'S': true, 'T': true, 'U': true, 'V': true, 'W': true, 'X': true, 'Y': true, 'Z': true,
	'a': true, 'b': true, 'c': true, 'd': true, 'e': true, 'f': true, 'g': true, 'h': true, 'i': true,
	'j': true, 'k': true, 'l': true, 'm': true, 'n': true, 'o': true, 'p': true, 'q': true, 'r': true,
	's': true, 't': true, 'u': true, 'v': true, 'w': true, 'x': true, 'y': true, 'z': true,
}
