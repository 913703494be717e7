package ratelimit_test

import (
	"net/netip"
	"testing"

	"github.com/jiec/httpmw/ratelimit"
)

// netipPeer is the general parse peerAddr must agree with: ParseAddrPort,
// else ParseAddr, unmapped and without a zone.
func netipPeer(s string) (netip.Addr, bool) {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap().WithZone(""), true
	}
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap().WithZone(""), true
	}
	return netip.Addr{}, false
}

var remoteAddrs = []struct {
	in   string
	fast bool   // taken by the IPv4 fast path
	want string // the peer address, "" when there is none
}{
	{"198.51.100.7:1234", true, "198.51.100.7"},
	{"0.0.0.0:0", true, "0.0.0.0"},
	{"255.255.255.255:65535", true, "255.255.255.255"},
	{"10.0.0.1:00080", true, "10.0.0.1"},
	{"1.2.3.4:65536", false, ""},
	{"1.2.3.4:123456", false, ""},
	{"1.2.3.4:", false, ""},
	{"1.2.3.4", false, "1.2.3.4"},
	{"01.2.3.4:1", false, ""},
	{"1.2.3.256:1", false, ""},
	{"1.2.3:1", false, ""},
	{"1.2.3.4.5:1", false, ""},
	{"1..3.4:1", false, ""},
	{"1.2.3.4:+1", false, ""},
	{"1.2.3.4:1x", false, ""},
	{"1234.2.3.4:1", false, ""},
	{"[::ffff:1.2.3.4]:80", false, "1.2.3.4"},
	{"[2001:db8::1]:80", false, "2001:db8::1"},
	{"[fe80::1%eth0]:80", false, "fe80::1"},
	{"2001:db8::1", false, "2001:db8::1"},
	{"@", false, ""},
	{"", false, ""},
}

func TestPeerAddrAgreesWithNetip(t *testing.T) {
	for _, tc := range remoteAddrs {
		a, n, fast := ratelimit.IPv4Port(tc.in)
		if fast != tc.fast {
			t.Errorf("%q: fast path %v, want %v", tc.in, fast, tc.fast)
		}
		if fast && (tc.in[:n] != tc.want || netip.AddrFrom4(a).String() != tc.want) {
			t.Errorf("%q: fast path text %q addr %v, want %s", tc.in, tc.in[:n], netip.AddrFrom4(a), tc.want)
		}
		got, ok := ratelimit.PeerAddr(tc.in)
		if ok != (tc.want != "") || (ok && got.String() != tc.want) {
			t.Errorf("%q: PeerAddr = %v %v, want %q", tc.in, got, ok, tc.want)
		}
	}
}

// FuzzRemoteAddr: the IPv4 fast path accepts only what netip accepts, its
// text is the canonical form of netip's address, and peerAddr always
// answers as netip does.
func FuzzRemoteAddr(f *testing.F) {
	for _, tc := range remoteAddrs {
		f.Add(tc.in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, wantOK := netipPeer(s)
		if a, n, ok := ratelimit.IPv4Port(s); ok {
			ap, err := netip.ParseAddrPort(s)
			if err != nil || ap.Addr() != netip.AddrFrom4(a) || s[:n] != ap.Addr().String() {
				t.Fatalf("%q: fast path %v %q, netip %v %v", s, a, s[:n], ap, err)
			}
		}
		got, ok := ratelimit.PeerAddr(s)
		if ok != wantOK || got != want {
			t.Fatalf("%q: PeerAddr = %v %v, netip %v %v", s, got, ok, want, wantOK)
		}
	})
}
