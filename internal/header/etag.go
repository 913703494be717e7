package header

import (
	"iter"
	"strings"
)

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
	for e := range ETags(values) {
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

// NextETag splits the first element off an entity-tag list (If-Match,
// If-None-Match, RFC 9110 §13.1). Unlike NextElement it knows that an entity
// tag has no escapes (a backslash is an ordinary etagc), so `"a\", "b"`
// yields `"a\"` and then `"b"`. The element comes back with OWS trimmed and
// may be empty or malformed (ParseETag checks it); an unterminated tag extends
// to the end of s.
func NextETag(s string) (elem, rest string) {
	for len(s) > 0 && IsOWS(s[0]) {
		s = s[1:]
	}
	i := 0
	switch {
	case strings.HasPrefix(s, "W/\""):
		i = 3
	case strings.HasPrefix(s, "\""):
		i = 1
	}
	if i > 0 {
		j := strings.IndexByte(s[i:], '"')
		if j < 0 {
			return TrimOWS(s), ""
		}
		i += j + 1
	}
	if k := strings.IndexByte(s[i:], ','); k >= 0 {
		return TrimOWS(s[:i+k]), s[i+k+1:]
	}
	return TrimOWS(s), ""
}

// ETags yields the non-empty elements of the entity-tag lists in values (all
// lines of an If-Match or If-None-Match field), split with NextETag.
func ETags(values []string) iter.Seq[string] {
	return func(yield func(string) bool) {
		for _, v := range values {
			for v != "" {
				var e string
				e, v = NextETag(v)
				if e != "" && !yield(e) {
					return
				}
			}
		}
	}
}
