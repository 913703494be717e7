package idempotency

import (
	"errors"
	"strings"
)

// Reasons a key is rejected (wrapped in an *Error with ErrInvalidKey).
var (
	errKeyEmpty     = errors.New("the key is empty")
	errKeyTooLong   = errors.New("the key is longer than 255 characters")
	errKeyMultiple  = errors.New("more than one Idempotency-Key field line")
	errKeySyntax    = errors.New("not an sf-string (\"...\") nor a bare key of printable characters")
	errKeyParameter = errors.New("malformed parameter after the key")
)

// maxFieldLength caps how much of the field is looked at: the longest valid
// value is a 255-character string where every character is escaped, plus
// room for parameters.
const maxFieldLength = 2*MaxKeyLength + 2 + 256

// parseKey returns the idempotency key in the field lines values (the
// request's Idempotency-Key lines, at least one).
//
// The draft defines the field as an sf-string Item (RFC 9651 §3.3.3):
// `"8e03978e-..."`, with \" and \\ the only escapes; parameters after it
// are syntax-checked and ignored, as RFC 9651 says of unknown parameters.
// The unquoted form most APIs (Stripe) use is accepted too: 1 to 255
// visible ASCII characters other than '"', ',', ';' and '\'. Both forms
// name the same key (`"k1"` and `k1` are one key). The decoded key is 1 to
// 255 printable ASCII characters (the sf-string form allows spaces).
func parseKey(values []string) (string, error) {
	if len(values) != 1 {
		return "", errKeyMultiple
	}
	s := values[0]
	if len(s) > maxFieldLength {
		return "", errKeyTooLong
	}
	s = strings.Trim(s, " \t")
	if s == "" {
		return "", errKeyEmpty
	}
	if s[0] != '"' {
		return bareKey(s)
	}
	key, rest, err := sfString(s)
	if err != nil {
		return "", err
	}
	if err := sfParams(rest); err != nil {
		return "", err
	}
	return key, nil
}

// bareKey checks the unquoted form.
func bareKey(s string) (string, error) {
	if len(s) > MaxKeyLength {
		return "", errKeyTooLong
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || c == '"' || c == ',' || c == ';' || c == '\\' {
			return "", errKeySyntax
		}
	}
	return s, nil
}

// sfString parses the sf-string that starts s (s[0] == '"') and returns its
// value and what follows the closing quote.
func sfString(s string) (key, rest string, err error) {
	var b []byte // only when there are escapes
	start := 1
	for i := 1; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\':
			if i+1 >= len(s) || (s[i+1] != '"' && s[i+1] != '\\') {
				return "", "", errKeySyntax
			}
			b = append(b, s[start:i]...)
			start = i + 1
			i++
		case c == '"':
			if b != nil {
				key = string(append(b, s[start:i]...))
			} else {
				key = s[1:i]
			}
			switch {
			case key == "":
				return "", "", errKeyEmpty
			case len(key) > MaxKeyLength:
				return "", "", errKeyTooLong
			}
			return key, s[i+1:], nil
		case c < ' ' || c >= 0x7f:
			return "", "", errKeySyntax
		}
	}
	return "", "", errKeySyntax // unterminated
}

// sfParams checks RFC 9651 parameters (`;key=value` after the Item): keys
// are lcalpha or '*' then lcalpha, digit, '_', '-', '.', '*'; values are
// tokens, strings, numbers, booleans or byte sequences (checked loosely:
// a string must be well-formed, anything else must be token-like).
func sfParams(s string) error {
	for {
		s = strings.TrimLeft(s, " \t")
		if s == "" {
			return nil
		}
		if s[0] != ';' {
			return errKeyParameter
		}
		s = strings.TrimLeft(s[1:], " ")
		i := 0
		for i < len(s) && isKeyChar(s[i], i == 0) {
			i++
		}
		if i == 0 {
			return errKeyParameter
		}
		s = s[i:]
		if s == "" || s[0] != '=' {
			continue // boolean true
		}
		s = s[1:]
		if s != "" && s[0] == '"' {
			_, rest, err := sfStringAny(s)
			if err != nil {
				return errKeyParameter
			}
			s = rest
			continue
		}
		j := 0
		for j < len(s) && s[j] != ';' && s[j] != ' ' && s[j] != '\t' {
			c := s[j]
			if c <= ' ' || c >= 0x7f || c == '"' || c == ',' || c == '\\' {
				return errKeyParameter
			}
			j++
		}
		if j == 0 {
			return errKeyParameter
		}
		s = s[j:]
	}
}

// sfStringAny is sfString without the key length rules.
func sfStringAny(s string) (string, string, error) {
	for i := 1; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\':
			if i+1 >= len(s) || (s[i+1] != '"' && s[i+1] != '\\') {
				return "", "", errKeySyntax
			}
			i++
		case c == '"':
			return s[1:i], s[i+1:], nil
		case c < ' ' || c >= 0x7f:
			return "", "", errKeySyntax
		}
	}
	return "", "", errKeySyntax
}

func isKeyChar(c byte, first bool) bool {
	switch {
	case c >= 'a' && c <= 'z', c == '*':
		return true
	case first:
		return false
	default:
		return c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.'
	}
}
