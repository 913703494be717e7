package trace

import (
	"errors"
	"strings"

	"github.com/jiec/httpmw/internal/header"
)

const (
	// maxTraceStateMembers is the most list-members a tracestate may hold
	// (W3C Trace Context §3.3.1.1).
	maxTraceStateMembers = 32
	// maxTraceStateKey and maxTraceStateValue are the key and value limits
	// (§3.3.1.3).
	maxTraceStateKey   = 256
	maxTraceStateValue = 256
	// bigTraceStateMember is the size above which members are dropped first
	// when the combined value must be truncated (§3.3.1.5).
	bigTraceStateMember = 128
	// DefaultTraceStateLimit is the default Config.TraceStateLimit: the
	// length every vendor SHOULD propagate (§3.3.1.5).
	DefaultTraceStateLimit = 512
)

var (
	errTraceStateTooLong = errors.New("trace: tracestate: longer than header.MaxLen")
	errTraceStateMember  = errors.New("trace: tracestate: malformed list-member")
	errTraceStateTooMany = errors.New("trace: tracestate: more than 32 list-members")
)

// parseTraceState validates the field lines of a tracestate request header
// (W3C Trace Context Level 2 §3.3) and returns them as one field value of at
// most limit characters.
//
//   - several field lines are combined in order (RFC 9110 §5.3);
//   - empty and whitespace-only members are allowed and dropped, OWS around
//     members is ignored, an empty header yields "";
//   - a member is key "=" value: key = (lcalpha / DIGIT) 0*255 keychar with
//     keychar = lcalpha / DIGIT / "_" / "-" / "*" / "/" / "@"; value = 1-256
//     printable ASCII characters except ',' and '=', not ending in a space;
//   - more than 32 members, one malformed member, or a combined value longer
//     than header.MaxLen make the whole tracestate invalid (it is dropped);
//   - a key seen again later in the list is dropped: only one entry per key
//     is allowed and the left-most is the most recent position (§3.3.1.4);
//   - when the result exceeds limit, whole members are removed, those longer
//     than 128 characters first, then from the right (§3.3.1.5).
//
// The returned string shares memory with values when it is a single line
// that needed no change.
func parseTraceState(values []string, limit int) (string, error) {
	if len(values) == 0 {
		return "", nil
	}
	if header.TotalLen(values) > header.MaxLen {
		return "", errTraceStateTooLong
	}
	var (
		members [maxTraceStateMembers]string
		n       int                // distinct members kept
		count   int                // non-empty members seen
		clean   = len(values) == 1 // the single line can be returned as is
	)
	for _, v := range values {
		for v != "" {
			var m string
			if i := strings.IndexByte(v, ','); i >= 0 {
				m, v = v[:i], v[i+1:]
				if v == "" {
					clean = false // trailing comma
				}
			} else {
				m, v = v, ""
			}
			if t := header.TrimOWS(m); len(t) != len(m) {
				clean = false
				m = t
			}
			if m == "" {
				clean = false
				continue
			}
			key, ok := validMember(m)
			if !ok {
				return "", errTraceStateMember
			}
			if count++; count > maxTraceStateMembers {
				return "", errTraceStateTooMany
			}
			if hasKey(members[:n], key) {
				clean = false
				continue
			}
			members[n] = m
			n++
		}
	}
	if clean && len(values[0]) <= limit {
		return values[0], nil
	}
	return joinMembers(members[:n], limit), nil
}

// joinMembers joins members with ",", truncated to limit per §3.3.1.5.
func joinMembers(members []string, limit int) string {
	size := func(ms []string) int {
		t := len(ms) - 1
		for _, m := range ms {
			t += len(m)
		}
		return max(t, 0)
	}
	if size(members) > limit {
		// Drop the big members first, keeping order.
		kept := members[:0]
		total := -1
		for _, m := range members {
			if len(m) <= bigTraceStateMember {
				kept = append(kept, m)
				total += len(m) + 1
			}
		}
		members = kept
		// Then drop from the right.
		for len(members) > 0 && total > limit {
			total -= len(members[len(members)-1]) + 1
			members = members[:len(members)-1]
		}
	}
	return strings.Join(members, ",")
}

// hasKey reports whether one of members has the given key.
func hasKey(members []string, key string) bool {
	for _, m := range members {
		if len(m) > len(key) && m[len(key)] == '=' && m[:len(key)] == key {
			return true
		}
	}
	return false
}

// validMember checks one trimmed, non-empty list-member and returns its key.
func validMember(m string) (key string, ok bool) {
	eq := strings.IndexByte(m, '=')
	if eq <= 0 || eq > maxTraceStateKey {
		return "", false
	}
	key, val := m[:eq], m[eq+1:]
	if c := key[0]; !('a' <= c && c <= 'z' || '0' <= c && c <= '9') {
		return "", false
	}
	for i := 1; i < len(key); i++ {
		if !keyChar[key[i]] {
			return "", false
		}
	}
	if len(val) == 0 || len(val) > maxTraceStateValue || val[len(val)-1] == ' ' {
		return "", false
	}
	for i := 0; i < len(val); i++ {
		if c := val[i]; c < 0x20 || c > 0x7e || c == ',' || c == '=' {
			return "", false
		}
	}
	return key, true
}

var keyChar = func() (t [256]bool) {
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	t['_'], t['-'], t['*'], t['/'], t['@'] = true, true, true, true, true
	return t
}()
