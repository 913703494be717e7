package forwarded_test

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/jiec/httpmw/internal/forwarded"
)

func BenchmarkClient(b *testing.B) {
	peer := netip.MustParseAddr("10.0.0.1")
	for _, bc := range []struct {
		name   string
		fn     func(netip.Addr, []string, forwarded.Trusted) netip.Addr
		values []string
	}{
		{"xff/two-trusted-hops", forwarded.ClientXFF, []string{"203.0.113.66, 198.51.100.1, 10.1.1.1, 10.2.2.2"}},
		{"xff/64KB-client-padding", forwarded.ClientXFF, []string{strings.Repeat("9.9.9.9, ", 8000) + "198.51.100.1"}},
		{"forwarded/quoted-ipv6", forwarded.ClientForwarded, []string{`for=203.0.113.66, for="[2001:db8::1]:4711";proto=https, for=10.1.1.1`}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				bc.fn(peer, bc.values, proxies)
			}
		})
	}
}
