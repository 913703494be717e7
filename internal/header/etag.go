package header

// ETag is an entity tag (RFC 9110 §8.8.3). Opaque includes the double quotes.
type ETag struct {
	Opaque string
	Weak   bool
}

// String formats the tag as it appears in a field.
func (e ETag) String() string {
	if e.Weak {
		return "W/" + e.Opaque
	}
	return e.Opaque
}

// ParseETag parses one entity tag: `"opaque"` or `W/"opaque"` where the
// opaque part holds etagc characters (%x21 / %x23-7E / obs-text).
func ParseETag(s string) (ETag, bool) {
	var e ETag
	if len(s) >= 2 && s[0] == 'W' && s[1] == '/' {
		e.Weak = true
		s = s[2:]
	}
	if len(s) < 2 || s[0] != '"' || s[len(s)-1] != '"' {
		return ETag{}, false
	}
	for i := 1; i < len(s)-1; i++ {
		if c := s[i]; c == '"' || c < 0x21 || c == 0x7f {
			return ETag{}, false
		}
	}
	e.Opaque = s
	return e, true
}

// StrongMatch is the strong comparison of RFC 9110 §8.8.3.2: both strong and
// identical.
func StrongMatch(a, b ETag) bool { return !a.Weak && !b.Weak && a.Opaque == b.Opaque }

// WeakMatch is the weak comparison: opaque parts identical.
func WeakMatch(a, b ETag) bool { return a.Opaque == b.Opaque }

// MatchETags evaluates an If-Match or If-None-Match field (all its lines)
// against the current tag cur. any reports `*`. Malformed elements never
// match. valid is false if the field held no well-formed element at all.
func MatchETags(values []string, cur ETag, weak bool) (matched, any, valid bool) {
	for e := range Elements(values) {
		if e == "*" {
			any, valid = true, true
			continue
		}
		t, ok := ParseETag(e)
		if !ok {
			continue
		}
		valid = true
		if weak && WeakMatch(t, cur) || !weak && StrongMatch(t, cur) {
			matched = true
		}
	}
	return matched, any, valid
}
