package forwarded_test

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/jiec/httpmw/internal/forwarded"
)

// checkClient: the answer is the peer or an address written in the input; an
// element a trusted proxy appended for an untrusted client decides whatever
// the client wrote to its left; one line or several give the same answer.
func checkClient(t *testing.T, name string, client func(netip.Addr, []string, forwarded.Trusted) netip.Addr, a, b, appended, want string) {
	peer := netip.MustParseAddr("10.0.0.1")
	got := client(peer, []string{a, b}, proxies)
	if got != peer && !written(got, a+","+b) {
		t.Fatalf("%s(%q, %q) = %s, not in the input", name, a, b, got)
	}
	if got := client(peer, []string{a, appended}, proxies); got.String() != want {
		t.Fatalf("%s: client-written %q overrode the proxy's element: %s", name, a, got)
	}
	if got := client(peer, []string{a + ", " + appended}, proxies); got.String() != want {
		t.Fatalf("%s: client-written %q on the proxy's line overrode its element: %s", name, a, got)
	}
	if strings.ContainsAny(a+b, `"\`) {
		return
	}
	if j := client(peer, []string{a + "," + b}, proxies); j != got {
		t.Fatalf("%s: %s on two lines, %s joined", name, got, j)
	}
}

// written reports whether some run of address characters in s parses to a
// (in whatever spelling: "0:0::0" is "::").
func written(a netip.Addr, s string) bool {
	runs := strings.FieldsFunc(s, func(r rune) bool {
		return !strings.ContainsRune("0123456789abcdefABCDEF:.", r)
	})
	for _, run := range runs {
		for _, cand := range []string{run, strings.TrimSuffix(run, ":"), run[:max(strings.LastIndexByte(run, ':'), 0)]} {
			if b, err := netip.ParseAddr(cand); err == nil && b.Unmap() == a {
				return true
			}
		}
	}
	return false
}

func FuzzClientXFF(f *testing.F) {
	for _, tt := range xffCases {
		if len(tt.values) == 2 {
			f.Add(tt.values[0], tt.values[1])
		} else if len(tt.values) == 1 && len(tt.values[0]) < 1000 {
			f.Add(tt.values[0], "")
		}
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		checkClient(t, "ClientXFF", forwarded.ClientXFF, a, b, "198.51.100.1", "198.51.100.1")
	})
}

func FuzzClientForwarded(f *testing.F) {
	for _, tt := range fwdCases {
		f.Add(tt.values[0], "")
	}
	f.Add(`for="`, `for=1.2.3.4\`)
	f.Fuzz(func(t *testing.T, a, b string) {
		checkClient(t, "ClientForwarded", forwarded.ClientForwarded, a, b, `for="[2001:db8::5]:80"`, "2001:db8::5")
		forwarded.Proto([]string{a, b}, proxies)
		if p := forwarded.Proto([]string{a, "for=192.0.2.1;proto=http"}, proxies); p != "http" {
			t.Fatalf("client-written %q overrode the proxy's proto: %q", a, p)
		}
	})
}

// FuzzParseNode: no panic; an accepted node is an address without a zone,
// never IPv4-mapped, written only with address, bracket and port
// characters (an obfuscated port aside), and its own canonical form parses
// back to it.
func FuzzParseNode(f *testing.F) {
	for _, s := range []string{"192.0.2.43", "192.0.2.43:47011", "[2001:db8:cafe::17]:4711", "2001:db8::1", "::ffff:192.0.2.1",
		"[::ffff:192.0.2.1]:80", "unknown", "_hidden", "[2001:db8::1", "fe80::1%eth0", "[fe80::1%25eth0]:80", "1.2.3.4:99999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, node string) {
		a, ok := forwarded.ParseNode(node)
		if !ok {
			return
		}
		if !a.IsValid() || a.Zone() != "" || a.Is4In6() {
			t.Fatalf("ParseNode(%q) = %v", node, a)
		}
		addr := node
		if i := strings.LastIndex(node, ":_"); i >= 0 {
			addr = node[:i] // an obfuscated port
		}
		if strings.Trim(addr, "0123456789abcdefABCDEF:.[]") != "" {
			t.Fatalf("ParseNode(%q) accepted characters outside an address and port", node)
		}
		if b, ok := forwarded.ParseNode(a.String()); !ok || b != a {
			t.Fatalf("ParseNode(%q) = %v, which does not parse back (%v %v)", node, a, b, ok)
		}
	})
}
