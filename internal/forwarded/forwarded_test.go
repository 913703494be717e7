package forwarded_test

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/jiec/httpmw/internal/forwarded"
)

func trustedIn(prefixes ...string) forwarded.Trusted {
	var ps []netip.Prefix
	for _, s := range prefixes {
		ps = append(ps, netip.MustParsePrefix(s))
	}
	return func(a netip.Addr) bool {
		for _, p := range ps {
			if p.Contains(a) {
				return true
			}
		}
		return false
	}
}

var proxies = trustedIn("10.0.0.0/8", "2001:db8:ffff::/48")

func TestParseNodeAcceptsRFC7239Forms(t *testing.T) {
	tests := []struct{ in, want string }{
		{"192.0.2.43", "192.0.2.43"},
		{"192.0.2.43:47011", "192.0.2.43"},
		{"[2001:db8:cafe::17]", "2001:db8:cafe::17"},
		{"[2001:db8:cafe::17]:4711", "2001:db8:cafe::17"},
		{"2001:db8:cafe::17", "2001:db8:cafe::17"},
		{"::ffff:192.0.2.1", "192.0.2.1"},
		{"[::ffff:192.0.2.1]:80", "192.0.2.1"},
		{"unknown", ""}, {"_hidden", ""}, {"", ""}, {"[2001:db8::1", ""}, {"[2001:db8::1]x", ""},
		{"[2001:db8::1]:", ""}, {"[2001:db8::1]:123456", ""}, {"192.0.2.1:", ""}, {"192.0.2.1:8a", ""},
		{"[192.0.2.1]", ""}, {"fe80::1%eth0", ""}, {"[fe80::1%25eth0]:80", ""}, {"192.0.2.1 ", ""},
	}
	for _, tt := range tests {
		a, ok := forwarded.ParseNode(tt.in)
		got := ""
		if ok {
			got = a.String()
		}
		if got != tt.want {
			t.Errorf("ParseNode(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

type clientCase struct {
	desc   string
	peer   string
	values []string
	want   string
}

var xffCases = []clientCase{
	{"untrusted peer: header ignored", "192.0.2.9", []string{"198.51.100.1"}, "192.0.2.9"},
	{"trusted peer, no header: the peer", "10.0.0.1", nil, "10.0.0.1"},
	{"one trusted hop", "10.0.0.1", []string{"198.51.100.1"}, "198.51.100.1"},
	{"spoofed left entries ignored", "10.0.0.1", []string{"203.0.113.66, 1.2.3.4, 198.51.100.1"}, "198.51.100.1"},
	{"several trusted hops skipped", "10.0.0.1", []string{"203.0.113.66, 198.51.100.1, 10.1.1.1, 10.2.2.2"}, "198.51.100.1"},
	{"hops over several lines", "10.0.0.1", []string{"203.0.113.66", "198.51.100.1, 10.1.1.1", "10.2.2.2"}, "198.51.100.1"},
	{"all trusted: the leftmost", "10.0.0.1", []string{"10.9.9.9, 10.1.1.1"}, "10.9.9.9"},
	{"empty elements skipped", "10.0.0.1", []string{",, 198.51.100.1 ,,", ""}, "198.51.100.1"},
	{"IPv6 client", "10.0.0.1", []string{"2001:db8::7"}, "2001:db8::7"},
	{"IPv6 trusted hop", "2001:db8:ffff::1", []string{"198.51.100.1, 2001:db8:ffff::2"}, "198.51.100.1"},
	{"mapped peer", "::ffff:10.0.0.1", []string{"198.51.100.1"}, "198.51.100.1"},
	{"garbage hop: the last trusted hop, never further left", "10.0.0.1", []string{"198.51.100.1, garbage, 10.1.1.1"}, "10.1.1.1"},
	{"unknown: the trusted peer", "10.0.0.1", []string{"198.51.100.1, unknown"}, "10.0.0.1"},
	{"port accepted", "10.0.0.1", []string{"198.51.100.1:5555"}, "198.51.100.1"},
	{"oversized element stops", "10.0.0.1", []string{"198.51.100.1, " + strings.Repeat("1", 300)}, "10.0.0.1"},
	{"64 KB of client padding on the left does not matter", "10.0.0.1", []string{strings.Repeat("9.9.9.9, ", 8000) + "198.51.100.1"}, "198.51.100.1"},
	{"more than MaxHops trusted hops: the last examined", "10.0.0.1", []string{"198.51.100.1, " + strings.Repeat("10.0.0.2, ", 40) + "10.0.0.3"}, "10.0.0.2"},
}

func TestClientXFF(t *testing.T) {
	for _, tt := range xffCases {
		t.Run(tt.desc, func(t *testing.T) {
			got := forwarded.ClientXFF(netip.MustParseAddr(tt.peer), tt.values, proxies)
			if got.String() != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

var fwdCases = []clientCase{
	{"untrusted peer: header ignored", "192.0.2.9", []string{"for=198.51.100.1"}, "192.0.2.9"},
	{"one trusted hop", "10.0.0.1", []string{"for=198.51.100.1;proto=https"}, "198.51.100.1"},
	{"quoted IPv6 with port", "10.0.0.1", []string{`for="[2001:db8:cafe::17]:4711"`}, "2001:db8:cafe::17"},
	{"case-insensitive parameter name", "10.0.0.1", []string{`For=198.51.100.1`}, "198.51.100.1"},
	{"trusted hops skipped", "10.0.0.1", []string{`for=203.0.113.66, for=198.51.100.1;by=10.0.0.2, for="10.1.1.1:80"`}, "198.51.100.1"},
	{"over two lines", "10.0.0.1", []string{`for=198.51.100.1`, `for="[2001:db8:ffff::9]"`}, "198.51.100.1"},
	{"comma inside a quoted value", "10.0.0.1", []string{`for=203.0.113.66;x="a, for=1.1.1.1", for=198.51.100.1`}, "198.51.100.1"},
	{"escaped quote inside a quoted value", "10.0.0.1", []string{`for=198.51.100.1;x="a\", b"`}, "198.51.100.1"},
	{"client's unterminated quote cannot swallow the proxy's element", "10.0.0.1", []string{`for="1.1.1.1, for=198.51.100.1`}, "198.51.100.1"},
	{"obfuscated node: the last trusted hop", "10.0.0.1", []string{`for=198.51.100.1, for=_hidden`}, "10.0.0.1"},
	{"element without for=", "10.0.0.1", []string{`for=198.51.100.1, proto=https`}, "10.0.0.1"},
	{"repeated for=", "10.0.0.1", []string{`for=198.51.100.1;for=10.0.0.2`}, "10.0.0.1"},
	{"malformed parameters", "10.0.0.1", []string{`for`}, "10.0.0.1"},
	{"unquoted IPv6 is not a token", "10.0.0.1", []string{`for=[2001:db8::1]`}, "10.0.0.1"},
	{"5000 client elements on the left do not matter", "10.0.0.1", []string{strings.Repeat(`for=9.9.9.9;x="a,b", `, 5000) + `for=198.51.100.1`}, "198.51.100.1"},
	{"5000 lines: only the last ones are read", "10.0.0.1", append(make([]string, 5000), `for=198.51.100.1`), "198.51.100.1"},
}

func TestClientForwarded(t *testing.T) {
	for _, tt := range fwdCases {
		t.Run(tt.desc, func(t *testing.T) {
			got := forwarded.ClientForwarded(netip.MustParseAddr(tt.peer), tt.values, proxies)
			if got.String() != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

// Ten forged keys from one untrusted client behind the proxy: none accepted.
func TestForgedEntriesNeverChooseTheClient(t *testing.T) {
	for i := range 10 {
		forged := netip.AddrFrom4([4]byte{203, 0, 113, byte(i)}).String()
		if got := forwarded.ClientXFF(netip.MustParseAddr("10.0.0.1"), []string{forged, "198.51.100.1"}, proxies); got.String() != "198.51.100.1" {
			t.Errorf("forged %s: got %s", forged, got)
		}
		if got := forwarded.ClientForwarded(netip.MustParseAddr("10.0.0.1"), []string{"for=" + forged + ", for=198.51.100.1"}, proxies); got.String() != "198.51.100.1" {
			t.Errorf("forged Forwarded %s: got %s", forged, got)
		}
		if got := forwarded.ClientXFF(netip.MustParseAddr("198.51.100.1"), []string{forged}, proxies); got.String() != "198.51.100.1" {
			t.Errorf("forged %s from an untrusted peer: got %s", forged, got)
		}
	}
}

func TestProto(t *testing.T) {
	tests := []struct {
		values []string
		want   string
	}{
		{[]string{"proto=https"}, "https"},
		{[]string{`for=198.51.100.7;proto=https, for=10.0.0.2;proto=http`}, "https"},
		{[]string{`proto=https, for=198.51.100.7;proto=http`}, "http"},
		{[]string{`for=10.0.0.9;proto=https, for=10.0.0.2;proto=http`}, "https"},
		{[]string{`proto="https";for="[2001:db8::1]:80"`}, "https"},
		{[]string{`proto=https;proto=https`}, ""},
		{[]string{`proto=`}, ""},
		{[]string{``, ``}, ""},
		{[]string{strings.Repeat(",", 100) + "proto=https"}, "https"},
		{[]string{strings.Repeat("for=10.0.0.3;proto=https, ", 40)}, ""}, // over MaxHops
	}
	for _, tt := range tests {
		if got := forwarded.Proto(tt.values, proxies); got != tt.want {
			t.Errorf("Proto(%q) = %q, want %q", tt.values, got, tt.want)
		}
	}
}

func TestClientAllocatesNothing(t *testing.T) {
	peer := netip.MustParseAddr("10.0.0.1")
	xff := []string{"203.0.113.66, 198.51.100.1, 10.1.1.1"}
	fwd := []string{`for=203.0.113.66, for="[2001:db8::1]:80", for=10.1.1.1`}
	if n := testing.AllocsPerRun(100, func() {
		forwarded.ClientXFF(peer, xff, proxies)
		forwarded.ClientForwarded(peer, fwd, proxies)
	}); n != 0 {
		t.Errorf("%v allocations", n)
	}
}
