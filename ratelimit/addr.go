package ratelimit

import "net/netip"

// ipv4Port parses the common form of an IPv4 peer's RemoteAddr,
// "a.b.c.d:port" in the strict syntax netip.ParseAddrPort accepts (four
// decimal octets without leading zeros, a decimal port up to 65535). It
// returns the address and the length of its text, which is then exactly
// the address's canonical form (netip.Addr.String), so the text itself can
// serve as the key. Any other form (IPv6, a zone, leading zeros, no port)
// reports false and takes netip's general path: this is only a faster
// subset of it, never a different answer.
func ipv4Port(s string) (a [4]byte, hostLen int, ok bool) {
	i := 0
	for f := range 4 {
		if f > 0 {
			if i >= len(s) || s[i] != '.' {
				return a, 0, false
			}
			i++
		}
		start, v := i, 0
		for i < len(s) && i-start < 3 && s[i] >= '0' && s[i] <= '9' {
			v = v*10 + int(s[i]-'0')
			i++
		}
		n := i - start
		if n == 0 || v > 255 || (n > 1 && s[start] == '0') {
			return a, 0, false
		}
		a[f] = byte(v)
	}
	hostLen = i
	if i >= len(s) || s[i] != ':' {
		return a, 0, false
	}
	i++
	port := s[i:]
	if len(port) == 0 || len(port) > 5 {
		return a, 0, false
	}
	p := 0
	for j := 0; j < len(port); j++ {
		c := port[j]
		if c < '0' || c > '9' {
			return a, 0, false
		}
		p = p*10 + int(c-'0')
	}
	if p > 65535 {
		return a, 0, false
	}
	return a, hostLen, true
}

// peerAddr returns the address of RemoteAddr ("ip:port", or a bare IP),
// unmapped and without a zone; false when it holds no IP address.
func peerAddr(ra string) (netip.Addr, bool) {
	if a, _, ok := ipv4Port(ra); ok {
		return netip.AddrFrom4(a), true
	}
	var peer netip.Addr
	if ap, err := netip.ParseAddrPort(ra); err == nil {
		peer = ap.Addr()
	} else if a, err := netip.ParseAddr(ra); err == nil {
		peer = a
	} else {
		return netip.Addr{}, false
	}
	return peer.Unmap().WithZone(""), true
}
