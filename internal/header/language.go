package header

// IsLanguageRange reports whether s is a basic language range (RFC 4647
// §2.1, used by Accept-Language, RFC 9110 §12.5.4):
// `1*8ALPHA *("-" 1*8alphanum)` or "*".
func IsLanguageRange(s string) bool {
	return s == "*" || IsLanguageTag(s)
}

// IsLanguageTag reports whether s has the shape of a language tag as HTTP
// compares them: `1*8ALPHA *("-" 1*8alphanum)` (the basic-range syntax of
// RFC 4647 §2.1, which every well-formed BCP 47 tag satisfies).
func IsLanguageTag(s string) bool {
	n, first := 0, true
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '-':
			if n == 0 || i == len(s)-1 {
				return false
			}
			n, first = 0, false
			continue
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case '0' <= c && c <= '9':
			if first {
				return false
			}
		default:
			return false
		}
		if n++; n > 8 {
			return false
		}
	}
	return n > 0
}

// HasLanguagePrefix reports whether the language tag or range prefix equals
// tag or is a prefix of it that ends at a subtag boundary, ignoring ASCII
// case: "en" is a prefix of "en-GB" but not of "eng" (RFC 4647 §3.3.1).
func HasLanguagePrefix(tag, prefix string) bool {
	if len(prefix) > len(tag) || !equalFoldASCII(tag[:len(prefix)], prefix) {
		return false
	}
	return len(prefix) == len(tag) || tag[len(prefix)] == '-'
}

func equalFoldASCII(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		if lower(a[i]) != lower(b[i]) {
			return false
		}
	}
	return true
}
