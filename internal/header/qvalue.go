package header

import "strings"

// QMax is the weight of q=1; weights are in thousandths (0..1000).
const QMax = 1000

// ParseQ parses a qvalue (RFC 9110 §12.4.2): "0" or "1" optionally followed by
// '.' and at most three digits, in 0..1. It returns the weight in thousandths.
func ParseQ(s string) (q int, ok bool) {
	if s == "" || len(s) > 5 {
		return 0, false
	}
	switch s[0] {
	case '0':
	case '1':
		q = QMax
	default:
		return 0, false
	}
	if len(s) == 1 {
		return q, true
	}
	if s[1] != '.' {
		return 0, false
	}
	frac, mul := 0, 100
	for i := 2; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		frac += int(c-'0') * mul
		mul /= 10
	}
	if q == QMax && frac != 0 {
		return 0, false
	}
	return q + frac, true
}

// ParseWeighted parses one element of a weighted list such as Accept-Encoding,
// Accept-Language or Accept-Charset: `token [; q=qvalue]`. Other parameters
// are ignored. ok is false when the value is not a token, or a parameter or
// the q value is malformed: RFC 9110 says such an element is to be dropped.
func ParseWeighted(elem string) (value string, q int, ok bool) {
	value, params := CutParams(elem)
	if !IsToken(value) {
		return "", 0, false
	}
	q = QMax
	for params != "" {
		name, v, rest, pok := NextParam(params)
		if !pok {
			return "", 0, false
		}
		if strings.EqualFold(name, "q") {
			if q, ok = ParseQ(v); !ok {
				return "", 0, false
			}
		}
		params = rest
	}
	return value, q, true
}

// NextWeighted parses the first non-empty element of the weighted list s
// (Accept-Language, Accept-Charset, Accept-Encoding) as ParseWeighted does,
// and returns the rest of the list after it (as NextElement would). A plain
// token element is scanned once. When s holds no element it returns ok
// false and rest "".
func NextWeighted(s string) (value string, q int, rest string, ok bool) {
	for len(s) > 0 && (IsOWS(s[0]) || s[0] == ',') {
		s = s[1:]
	}
	i := 0
	for i < len(s) && IsTokenChar(s[i]) {
		i++
	}
	k := i
	for k < len(s) && IsOWS(s[k]) {
		k++
	}
	if i > 0 {
		switch {
		case k == len(s):
			return s[:i], QMax, "", true
		case s[k] == ',':
			return s[:i], QMax, s[k+1:], true
		}
	}
	elem, rest := NextElement(s)
	value, q, ok = ParseWeighted(elem)
	return value, q, rest, ok
}
