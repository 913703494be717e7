package cors

import (
	"net/netip"
	"strings"
)

// origin is a parsed serialized origin (Fetch §"origin", WHATWG URL
// "ASCII serialization of an origin"): scheme "://" host [":" port].
// All fields are substrings of the parsed text; host keeps the brackets of an
// IPv6 literal and starts with "*." for a subdomain pattern; port is "*" for a
// port wildcard.
type origin struct {
	scheme, host, port string
}

func (o origin) String() string {
	s := o.scheme + "://" + o.host
	if o.port != "" {
		s += ":" + o.port
	}
	return s
}

// Reasons parseOrigin gives for rejecting its input; constant strings so the
// parser never allocates.
const (
	reasonNoScheme    = "must be scheme://host[:port]"
	reasonScheme      = "scheme must be lowercase ASCII letters, digits, '+', '-' or '.'"
	reasonPath        = "must not contain a path, query, fragment or trailing slash"
	reasonUserinfo    = "must not contain userinfo"
	reasonHost        = "host must be a lowercase ASCII domain name (punycode), a dotted-quad IPv4 or a bracketed IPv6 address"
	reasonIPv6        = "IPv6 address must be in the form browsers send (WHATWG URL serializer: lowercase hex, longest zero run as ::, IPv4-mapped in hex)"
	reasonIPv4        = "IPv4 address must be in canonical dotted-quad form"
	reasonPort        = "port must be a decimal number 1-65535 without leading zeros"
	reasonDefaultPort = "default port must be omitted (browsers never send it)"
	reasonWildcard    = "wildcard allowed only as the first label of a domain name (scheme://*.example.com[:port])"
	reasonOpaque      = "scheme has opaque origins, which browsers serialize as null"
)

const maxSchemeLen = 64

// parseOrigin parses s as a serialized origin, or as a subdomain pattern when
// wildcard is true; a port "*" (a port wildcard) is accepted either way and
// left to the caller to judge. It accepts only the exact form browsers send (Origin
// header) so that a byte-exact comparison is correct: lowercase scheme and
// host, no default port, no path. It returns a constant reason when s is not
// acceptable and never allocates.
func parseOrigin(s string, wildcard bool) (o origin, reason string) {
	i := strings.Index(s, "://")
	if i <= 0 {
		if strings.HasPrefix(s, "*") {
			return o, reasonWildcard
		}
		return o, reasonNoScheme
	}
	o.scheme = s[:i]
	if !validScheme(o.scheme) {
		if strings.Contains(o.scheme, "*") {
			return o, reasonWildcard
		}
		return o, reasonScheme
	}
	switch o.scheme {
	case "file", "data", "blob", "about", "javascript":
		return o, reasonOpaque
	}
	rest := s[i+3:]
	if strings.ContainsAny(rest, "/?#\\") {
		return o, reasonPath
	}
	if strings.IndexByte(rest, '@') >= 0 {
		return o, reasonUserinfo
	}
	// Split host and port.
	if strings.HasPrefix(rest, "[") {
		end := strings.IndexByte(rest, ']')
		if end < 0 {
			return o, reasonHost
		}
		o.host, rest = rest[:end+1], rest[end+1:]
		if rest != "" {
			if rest[0] != ':' {
				return o, reasonHost
			}
			o.port = rest[1:]
			if o.port == "" {
				return o, reasonPort
			}
		}
	} else if c := strings.LastIndexByte(rest, ':'); c >= 0 {
		o.host, o.port = rest[:c], rest[c+1:]
		if o.port == "" {
			return o, reasonPort
		}
	} else {
		o.host = rest
	}
	if o.port != "" && o.port != "*" {
		if strings.Contains(o.port, "*") {
			return o, reasonWildcard
		}
		if !validPort(o.port) {
			return o, reasonPort
		}
		if (o.scheme == "http" && o.port == "80") || (o.scheme == "https" && o.port == "443") {
			return o, reasonDefaultPort
		}
	}
	host := o.host
	if wildcard {
		if !strings.HasPrefix(host, "*.") {
			return o, reasonWildcard
		}
		host = host[2:]
		if strings.Contains(host, "*") {
			return o, reasonWildcard
		}
		if !isDomainName(host) || isNumericLabel(lastLabel(host)) {
			return o, reasonHost
		}
		return o, ""
	}
	if strings.Contains(host, "*") {
		return o, reasonWildcard
	}
	return o, validHost(host)
}

func validScheme(s string) bool {
	if s == "" || len(s) > maxSchemeLen || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '+' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

func validPort(p string) bool {
	if p == "" || len(p) > 5 || p[0] == '0' {
		return false
	}
	n := 0
	for i := 0; i < len(p); i++ {
		if p[i] < '0' || p[i] > '9' {
			return false
		}
		n = n*10 + int(p[i]-'0')
	}
	return n <= 65535
}

// validHost checks a host as the WHATWG URL parser serializes it.
func validHost(h string) string {
	if strings.HasPrefix(h, "[") {
		inner := h[1 : len(h)-1]
		a, err := netip.ParseAddr(inner)
		if err != nil || !a.Is6() || a.Zone() != "" {
			return reasonHost
		}
		// Anything but the URL parser's serialization never matches a
		// real Origin header.
		var buf [maxIPv6Len]byte
		if string(appendIPv6(buf[:0], a)) != inner {
			return reasonIPv6
		}
		return ""
	}
	if !isDomainName(h) {
		return reasonHost
	}
	// The URL parser reads a host whose last label is numeric (or hex) as
	// an IPv4 address and serializes it as a dotted quad.
	if last := lastLabel(h); isNumericLabel(last) {
		a, err := netip.ParseAddr(h)
		if err != nil || !a.Is4() {
			return reasonIPv4
		}
	}
	return ""
}

// maxIPv6Len is the longest serialized IPv6 address (8 groups of 4 hex digits).
const maxIPv6Len = 39

// appendIPv6 appends a as the WHATWG URL standard serializes an IPv6 host
// (§"IPv6 serializer"): eight groups of lowercase hex without leading zeros,
// the first longest run of two or more zero groups written "::". Unlike RFC
// 5952 (and netip), an IPv4-mapped address stays in hex: browsers send
// "[::ffff:7f00:1]", never "[::ffff:127.0.0.1]".
func appendIPv6(b []byte, a netip.Addr) []byte {
	raw := a.As16()
	var g [8]uint16
	for i := range g {
		g[i] = uint16(raw[2*i])<<8 | uint16(raw[2*i+1])
	}
	start, length := -1, 1 // a run must be longer than one group
	for i := 0; i < 8; {
		if g[i] != 0 {
			i++
			continue
		}
		j := i
		for j < 8 && g[j] == 0 {
			j++
		}
		if j-i > length {
			start, length = i, j-i
		}
		i = j
	}
	const hex = "0123456789abcdef"
	for i := 0; i < 8; i++ {
		if i == start {
			b = append(b, ':', ':')
			i += length - 1
			continue
		}
		if i > 0 && i != start+length {
			b = append(b, ':')
		}
		v, started := g[i], false
		for shift := 12; shift >= 0; shift -= 4 {
			d := v >> uint(shift) & 0xf
			if d != 0 || started || shift == 0 {
				b = append(b, hex[d])
				started = true
			}
		}
	}
	return b
}

// browserForm returns the form browsers send for an IPv6 origin that is
// not in it ("https://[::ffff:127.0.0.1]" → "https://[::ffff:7f00:1]"), or
// "" when o has no IPv6 host.
func (o origin) browserForm() string {
	if !strings.HasPrefix(o.host, "[") {
		return ""
	}
	a, err := netip.ParseAddr(o.host[1 : len(o.host)-1])
	if err != nil || !a.Is6() || a.Zone() != "" {
		return ""
	}
	o.host = "[" + string(appendIPv6(nil, a)) + "]"
	return o.String()
}

// isDomainName reports whether h is dot-separated non-empty labels of
// lowercase ASCII letters, digits, '-' and '_', at most 253 bytes, with no
// label starting or ending with '-' (RFC 1123 §2.1).
func isDomainName(h string) bool {
	if h == "" || len(h) > 253 || h[0] == '-' || h[len(h)-1] == '-' {
		return false
	}
	label := 0
	for i := 0; i < len(h); i++ {
		c := h[i]
		switch {
		case c == '.':
			if label == 0 || h[i-1] == '-' || i+1 < len(h) && h[i+1] == '-' {
				return false
			}
			label = 0
			continue
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '-', c == '_':
		default:
			return false
		}
		label++
		if label > 63 {
			return false
		}
	}
	return label > 0
}

func lastLabel(h string) string {
	return h[strings.LastIndexByte(h, '.')+1:]
}

func isNumericLabel(l string) bool {
	if strings.HasPrefix(l, "0x") {
		return true
	}
	for i := 0; i < len(l); i++ {
		if l[i] < '0' || l[i] > '9' {
			return false
		}
	}
	return l != ""
}

// isPotentiallyTrustworthy reports whether o is secure enough for credentialed
// CORS: https or wss, or a loopback host (localhost names per RFC 6761,
// 127.0.0.0/8, ::1), as in the W3C Secure Contexts spec. Other schemes
// (browser extensions, app schemes) are not network-insecure and pass.
func isPotentiallyTrustworthy(o origin) bool {
	if o.scheme != "http" && o.scheme != "ws" {
		return true
	}
	h := strings.TrimPrefix(o.host, "*.")
	if h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return true
	}
	return isLoopbackIP(h)
}

// isLoopbackIP reports whether the host h (IPv6 in brackets) is a loopback
// address as the Secure Contexts spec counts them: 127.0.0.0/8 or ::1. An
// IPv4-mapped "[::ffff:7f00:1]" is not one (netip's IsLoopback says it is).
func isLoopbackIP(h string) bool {
	if strings.HasPrefix(h, "[") {
		a, err := netip.ParseAddr(strings.Trim(h, "[]"))
		return err == nil && a == netip.IPv6Loopback()
	}
	a, err := netip.ParseAddr(h)
	return err == nil && a.Is4() && a.IsLoopback()
}

// isLoopbackHost reports whether a port wildcard is allowed on h without
// DangerouslyAllowPortWildcards: "localhost" or a loopback address.
func isLoopbackHost(h string) bool {
	return h == "localhost" || isLoopbackIP(h)
}

// pattern matches "scheme://host[:port]" origins with a wildcard in the
// first label of host ("https://*.example.com"), in the port
// ("http://localhost:*"), or both.
type pattern struct {
	prefix  string // "https://"
	host    string // ".example.com" (subdomains) or "localhost" (exact host)
	sub     bool   // one or more labels before host
	port    string // "" (default port), ":8443", or "*" for any port
	hostLen int    // length of the host part of a match, excluding the subdomain labels
}

// match reports whether the request origin o matches the pattern. For a
// subdomain pattern the part before host must be one or more non-empty
// domain labels, so "https://evilexample.com" never matches
// "https://*.example.com", nor does the apex "https://example.com". A port
// wildcard matches any valid port and no port (the scheme's default).
func (p pattern) match(o string) bool {
	if !strings.HasPrefix(o, p.prefix) {
		return false
	}
	rest := o[len(p.prefix):]
	if p.port == "*" {
		if i := strings.LastIndexByte(rest, ':'); i >= 0 && !strings.HasSuffix(rest, "]") {
			if !validPort(rest[i+1:]) {
				return false
			}
			rest = rest[:i]
		}
	} else {
		if !strings.HasSuffix(rest, p.port) {
			return false
		}
		rest = rest[:len(rest)-len(p.port)]
	}
	if !p.sub {
		return rest == p.host
	}
	if len(rest) <= len(p.host) || !strings.HasSuffix(rest, p.host) {
		return false
	}
	sub := rest[:len(rest)-len(p.host)]
	return len(sub)+p.hostLen <= 253 && isDomainName(sub)
}
