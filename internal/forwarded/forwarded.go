// Package forwarded reads the client address and protocol that trusted
// proxies record in X-Forwarded-For and Forwarded (RFC 7239). It is the one
// parser of these fields in httpmw (security uses it for HSTS, ratelimit for
// its keys).
//
// Every proxy appends to the right, so the fields are walked right to left:
// while the address an element names is a trusted proxy, the element to its
// left was written by that proxy and the walk goes on; the first untrusted
// address is the client. Elements further left were written by the client
// and are never read, so no client can choose the answer. Several field lines
// form one list (RFC 9110 §5.3).
//
// Work is bounded whatever the input: at most MaxHops elements (empty ones
// included) are examined from the right, and an element longer than
// MaxElementLen ends the walk, so a 1 MB field costs what a short one does.
// An element that does not parse (garbage, "unknown", an obfuscated
// "_hidden" node, a zone) also ends the walk: the answer is then the last
// trusted hop, never an address further left.
package forwarded

import (
	"net/netip"
	"strings"

	"github.com/jiec/httpmw/internal/header"
)

const (
	// MaxHops is how many list elements a walk examines from the right.
	MaxHops = 32
	// MaxElementLen is the longest element read; longer ones are malformed.
	MaxElementLen = 256
)

// Trusted reports whether a is a trusted proxy.
type Trusted func(a netip.Addr) bool

// reverse yields the elements of the comma-separated lists in values from
// the right, commas inside quoted strings not splitting (a '"' preceded by an
// odd run of '\' is escaped). bad is set when it stopped early: an element
// over MaxElementLen, or more than MaxHops elements.
type reverse struct {
	values []string
	line   int // index of the line being read
	end    int // the unread part of values[line] is [:end]
	n      int // elements yielded, empty ones included
	bad    bool
}

func newReverse(values []string) reverse {
	r := reverse{values: values, line: len(values) - 1}
	if r.line >= 0 {
		r.end = len(values[r.line])
	}
	return r
}

// next returns the next element (OWS-trimmed, possibly empty), or ok=false
// at the left end or when the walk went bad.
func (r *reverse) next() (elem string, ok bool) {
	if r.bad || r.line < 0 {
		return "", false
	}
	if r.n++; r.n > MaxHops {
		r.bad = true
		return "", false
	}
	v := r.values[r.line]
	inQuote := false
	for i := r.end - 1; i >= 0; i-- {
		if r.end-i > MaxElementLen {
			r.bad = true
			return "", false
		}
		switch v[i] {
		case '"':
			bs := 0
			for j := i - 1; j >= 0 && v[j] == '\\' && bs <= MaxElementLen; j-- {
				bs++
			}
			if bs%2 == 0 {
				inQuote = !inQuote
			}
		case ',':
			if !inQuote {
				elem, r.end = v[i+1:r.end], i
				return header.TrimOWS(elem), true
			}
		}
	}
	if r.end > MaxElementLen {
		r.bad = true
		return "", false
	}
	elem = v[:r.end]
	r.line--
	if r.line >= 0 {
		r.end = len(r.values[r.line])
	}
	return header.TrimOWS(elem), true
}

// ParseNode parses an address as proxies write it: "192.0.2.43",
// "192.0.2.43:47011", "[2001:db8::1]", "[2001:db8::1]:4711" (RFC 7239 §6),
// and the bare "2001:db8::1" of X-Forwarded-For. A port is 1-5 digits or
// obfuscated ("192.0.2.43:_p1": the address is still the client's). Zones,
// "unknown" and obfuscated "_names" do not parse. IPv4-mapped IPv6
// addresses come back as IPv4.
func ParseNode(node string) (netip.Addr, bool) {
	host := node
	if strings.HasPrefix(node, "[") {
		end := strings.IndexByte(node, ']')
		if end < 0 {
			return netip.Addr{}, false
		}
		host = node[1:end]
		if rest := node[end+1:]; rest != "" && (rest[0] != ':' || !isPort(rest[1:])) {
			return netip.Addr{}, false
		}
		if strings.IndexByte(host, ':') < 0 {
			return netip.Addr{}, false // "[192.0.2.1]" is not a form RFC 7239 has
		}
	} else if i := strings.IndexByte(node, ':'); i >= 0 && strings.IndexByte(node[i+1:], ':') < 0 {
		if !isPort(node[i+1:]) {
			return netip.Addr{}, false
		}
		host = node[:i] // IPv4 with a port; several colons: a bare IPv6
	}
	a, err := netip.ParseAddr(host)
	if err != nil || a.Zone() != "" {
		return netip.Addr{}, false
	}
	return a.Unmap(), true
}

// isPort reports whether s is an RFC 7239 §6 node-port: 1-5 digits, or an
// obfuscated port, "_" and 1*(ALPHA / DIGIT / "." / "_" / "-").
func isPort(s string) bool {
	if len(s) > 1 && s[0] == '_' {
		for i := 1; i < len(s); i++ {
			c := s[i] | 0x20
			if !(c >= 'a' && c <= 'z' || s[i] >= '0' && s[i] <= '9' || s[i] == '.' || s[i] == '_' || s[i] == '-') {
				return false
			}
		}
		return true
	}
	if s == "" || len(s) > 5 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// ClientXFF returns the client address that X-Forwarded-For values report to
// peer, the connection's address: peer itself unless it is trusted; else the
// first untrusted address from the right; else (every hop trusted) the
// leftmost one; the walk stopping early (see the package doc) returns the
// last trusted hop.
func ClientXFF(peer netip.Addr, values []string, trusted Trusted) netip.Addr {
	peer = peer.Unmap()
	if !trusted(peer) {
		return peer
	}
	addr := peer
	r := newReverse(values)
	for {
		e, ok := r.next()
		if !ok {
			return addr
		}
		if e == "" {
			continue
		}
		a, ok := ParseNode(e)
		if !ok {
			return addr
		}
		if addr = a; !trusted(a) {
			return a
		}
	}
}

// ClientForwarded is ClientXFF for the for= parameters of Forwarded (RFC
// 7239 §5.2). An element without for=, or with a malformed parameter list,
// ends the walk.
func ClientForwarded(peer netip.Addr, values []string, trusted Trusted) netip.Addr {
	peer = peer.Unmap()
	if !trusted(peer) {
		return peer
	}
	addr := peer
	r := newReverse(values)
	for {
		e, ok := r.next()
		if !ok {
			return addr
		}
		if e == "" {
			continue
		}
		node, _, ok := parseElement(e)
		if !ok {
			return addr
		}
		a, ok := ParseNode(node)
		if !ok {
			return addr
		}
		if addr = a; !trusted(a) {
			return a
		}
	}
}

// Proto returns the proto parameter (unquoted) of the Forwarded element
// written by the trusted proxy nearest the client: walking from the right,
// the first element whose for= is not a trusted address; when every for= is
// trusted, the leftmost element. It is "" when that element has no proto, is
// malformed, or the walk stopped early (see the package doc). Whether the
// peer itself is trusted is the caller's check.
func Proto(values []string, trusted Trusted) string {
	r := newReverse(values)
	proto := ""
	for {
		e, ok := r.next()
		if !ok {
			if r.bad {
				return ""
			}
			return proto
		}
		if e == "" {
			continue
		}
		node, p, ok := parseElement(e)
		if !ok {
			return ""
		}
		proto = p
		a, ok := ParseNode(node)
		if !ok || !trusted(a) {
			return proto
		}
	}
}

// parseElement parses one Forwarded element (RFC 7239 §4): its for= node
// ("" when absent) and proto ("" when absent), both unquoted. A malformed
// parameter, a repeated for= or proto=, or an empty proto fails it.
func parseElement(elem string) (node, proto string, ok bool) {
	seenFor, seenProto := false, false
	for elem != "" {
		name, value, rest, ok := header.NextParam(elem)
		if !ok {
			return "", "", false
		}
		switch {
		case strings.EqualFold(name, "for"):
			if seenFor {
				return "", "", false
			}
			seenFor, node = true, header.Unquote(value)
		case strings.EqualFold(name, "proto"):
			if seenProto {
				return "", "", false // RFC 7239 §4: a parameter MUST NOT repeat
			}
			seenProto, proto = true, header.Unquote(value)
			if proto == "" {
				return "", "", false
			}
		}
		elem = rest
	}
	return node, proto, true
}
