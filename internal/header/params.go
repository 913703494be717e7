package header

import "strings"

// NextParam splits the first parameter off a parameter string
// (`name=value; name2="quoted value"`, RFC 9110 §5.6.6). name is returned as
// written (compare it case-insensitively); value is the raw value, still
// quoted if it was a quoted string (see Unquote). ok is false for a malformed
// parameter (no name, no '=', bad token, unterminated quote); rest is then "".
// rest comes back without its leading ';' separators and OWS, so a loop
// `for params != ""` ends after the last parameter even when empty parameters
// (`a=1;;` , RFC 9110 §5.6.6) follow it.
func NextParam(s string) (name, value, rest string, ok bool) {
	s = trimLeadingSemis(s)
	if s == "" {
		return "", "", "", false
	}
	eq := strings.IndexByte(s, '=')
	if eq < 0 {
		return "", "", "", false
	}
	name = TrimOWS(s[:eq])
	if !IsToken(name) {
		return "", "", "", false
	}
	v := s[eq+1:]
	for len(v) > 0 && IsOWS(v[0]) {
		v = v[1:]
	}
	if len(v) > 0 && v[0] == '"' {
		end := quotedEnd(v)
		if end < 0 {
			return "", "", "", false
		}
		value, rest = v[:end], v[end:]
		rest = TrimOWS(rest)
		if rest != "" && rest[0] != ';' {
			return "", "", "", false
		}
		return name, value, trimLeadingSemis(rest), true
	}
	i := strings.IndexByte(v, ';')
	if i < 0 {
		i = len(v)
	}
	value, rest = TrimOWS(v[:i]), v[i:]
	if !IsToken(value) {
		return "", "", "", false
	}
	return name, value, trimLeadingSemis(rest), true
}

func trimLeadingSemis(s string) string {
	for len(s) > 0 && (s[0] == ';' || IsOWS(s[0])) {
		s = s[1:]
	}
	return s
}

func trimTrailingSemis(s string) string {
	for len(s) > 0 && (s[len(s)-1] == ';' || IsOWS(s[len(s)-1])) {
		s = s[:len(s)-1]
	}
	return s
}

// trimSemis removes ';' separators and OWS from both ends of s.
func trimSemis(s string) string { return trimTrailingSemis(trimLeadingSemis(s)) }

// quotedEnd returns the index after the closing quote of the quoted string
// that starts s, or -1.
func quotedEnd(s string) int {
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return -1
}

// Unquote returns the content of a quoted-string (RFC 9110 §5.6.4), or s
// unchanged when it is not quoted. It allocates only when s has escapes.
func Unquote(s string) string {
	if len(s) < 2 || s[0] != '"' || s[len(s)-1] != '"' {
		return s
	}
	s = s[1 : len(s)-1]
	if strings.IndexByte(s, '\\') < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// ParamValueEqualFold reports whether two raw parameter values (tokens or
// quoted strings, as NextParam returns them) are equal, ignoring ASCII case.
// A quoted value equals its unquoted form (RFC 9110 §5.6.6: `a="b"` is
// `a=b`). It does not allocate.
func ParamValueEqualFold(a, b string) bool {
	i, j := 0, 0
	qa, qb := isQuoted(a), isQuoted(b)
	if qa {
		a, i = a[:len(a)-1], 1
	}
	if qb {
		b, j = b[:len(b)-1], 1
	}
	for {
		if i == len(a) || j == len(b) {
			return i == len(a) && j == len(b)
		}
		if qa && a[i] == '\\' && i+1 < len(a) {
			i++
		}
		if qb && b[j] == '\\' && j+1 < len(b) {
			j++
		}
		if lower(a[i]) != lower(b[j]) {
			return false
		}
		i++
		j++
	}
}

func isQuoted(s string) bool { return len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' }

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// ParamsContain reports whether every parameter of want appears in have with
// an equal value (names and values compared as ParamValueEqualFold does),
// which is how a media range's parameters match a media type (RFC 9110
// §12.5.1). n is the number of parameters in want. ok is false when want or
// the part of have it needs is malformed, or when want has more than limit
// parameters (pass have's count: a parameter may appear only once, RFC 6838
// §4.3, so more cannot all match), which bounds the work to
// (limit+1) × limit parameters whatever want holds.
func ParamsContain(have, want string, limit int) (n int, ok bool) {
	for want != "" {
		if n == limit {
			return 0, false
		}
		name, v, rest, pok := NextParam(want)
		if !pok {
			return 0, false
		}
		if !hasParam(have, name, v) {
			return 0, false
		}
		n++
		want = rest
	}
	return n, true
}

// CountParams returns the number of parameters in the parameter string s,
// and false when one is malformed.
func CountParams(s string) (int, bool) {
	n := 0
	for s != "" {
		_, _, rest, ok := NextParam(s)
		if !ok {
			return 0, false
		}
		n++
		s = rest
	}
	return n, true
}

func hasParam(params, name, value string) bool {
	for params != "" {
		n, v, rest, ok := NextParam(params)
		if !ok {
			return false
		}
		if strings.EqualFold(n, name) && ParamValueEqualFold(v, value) {
			return true
		}
		params = rest
	}
	return false
}
