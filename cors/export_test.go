package cors

import "net/netip"

// ParseOrigin exposes parseOrigin to the black-box tests and fuzz targets.
func ParseOrigin(s string, wildcard bool) (scheme, host, port, reason string) {
	o, reason := parseOrigin(s, wildcard)
	return o.scheme, o.host, o.port, reason
}

// AllowOrigin reports whether m lets origin in.
func AllowOrigin(m *Middleware, origin string) bool { return m.c.allowOrigin(origin) }

// AllowHeaders runs m's Access-Control-Request-Headers check on lines.
func AllowHeaders(m *Middleware, lines []string) bool { return m.c.allowHeaders(lines) }

// MaxElems is the bound on names in one Access-Control-Request-Headers.
func MaxElems(m *Middleware) int { return m.c.maxElems }

const MaxEmptyElems = maxEmptyElems

// SerializeIPv6 exposes the WHATWG IPv6 serializer.
func SerializeIPv6(a16 [16]byte) string { return string(appendIPv6(nil, netip.AddrFrom16(a16))) }
