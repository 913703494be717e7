package forwarded_test

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/jiec/httpmw/internal/forwarded"
)

var kb64 = 64 << 10

// Hostile fields a client sends through a trusted proxy, which appends the
// client's real address (198.51.100.1) on the right: whatever the client
// wrote, that element decides.
var hostile = []struct {
	desc   string
	client []string
}{
	{"64 KB element", []string{strings.Repeat("1", kb64)}},
	{"64 KB of quotes", []string{strings.Repeat(`"`, kb64)}},
	{"64 KB of backslashes and quotes", []string{strings.Repeat(`\\\"`, kb64/4)}},
	{"64 KB of commas", []string{strings.Repeat(",", kb64)}},
	{"64 KB of forged addresses", []string{strings.Repeat("203.0.113.9, ", kb64/13)}},
	{"thousands of lines", strings.Split(strings.Repeat("203.0.113.9\n", 4000), "\n")},
	{"unterminated quote", []string{`"203.0.113.9`}},
	{"NUL and control bytes", []string{"203.0.113.9\x00, \x01\x7f"}},
	{"zone", []string{"fe80::1%eth0"}},
	{"IPv4-mapped forged address", []string{"::ffff:203.0.113.9"}},
	{"port garbage", []string{"203.0.113.9:99999999"}},
	{"mixed-case Forwarded parameters", []string{`FoR="203.0.113.9";PROTO=https`}},
}

func TestHostileClientFieldsNeverChooseTheClient(t *testing.T) {
	peer := netip.MustParseAddr("10.0.0.1")
	want := netip.MustParseAddr("198.51.100.1")
	for _, tt := range hostile {
		t.Run(tt.desc, func(t *testing.T) {
			xff := append(append([]string(nil), tt.client...), "198.51.100.1")
			if got := forwarded.ClientXFF(peer, xff, proxies); got != want {
				t.Errorf("X-Forwarded-For on its own line: %s", got)
			}
			joined := append(append([]string(nil), tt.client...), "")
			joined[len(joined)-1] = joined[len(joined)-2] + ", 198.51.100.1"
			joined = append(joined[:len(joined)-2], joined[len(joined)-1])
			if got := forwarded.ClientXFF(peer, joined, proxies); got != want {
				t.Errorf("X-Forwarded-For appended to the client's line: %s", got)
			}
			fwd := append(append([]string(nil), tt.client...), "for=198.51.100.1")
			if got := forwarded.ClientForwarded(peer, fwd, proxies); got != want {
				t.Errorf("Forwarded: %s", got)
			}
			// Through an untrusted peer the client's text is never read.
			if got := forwarded.ClientXFF(want, tt.client, proxies); got != want {
				t.Errorf("untrusted peer: %s", got)
			}
		})
	}
}

// Whatever the client wrote to the left, a walk through a proxy that
// appends the client's address allocates nothing and reads only the right
// end (64 KB costs what a short field does). (An element that does not
// parse in a trusted position costs netip's error: one allocation.)
func TestHostileFieldsCostNoAllocation(t *testing.T) {
	peer := netip.MustParseAddr("10.0.0.1")
	for _, tt := range hostile {
		xff := append(append([]string(nil), tt.client...), "198.51.100.1")
		fwd := append(append([]string(nil), tt.client...), "for=198.51.100.1;proto=https")
		if n := testing.AllocsPerRun(20, func() {
			forwarded.ClientXFF(peer, xff, proxies)
			forwarded.ClientForwarded(peer, fwd, proxies)
			forwarded.Proto(fwd, proxies)
		}); n != 0 {
			t.Errorf("%s: %v allocations", tt.desc, n)
		}
	}
}

// RFC 7239 §6: a node's port may be obfuscated ("_" and 1+ of ALPHA,
// DIGIT, ".", "_", "-") while its address is real: the address is the
// client's, not a reason to end the walk at the proxy.
func TestObfuscatedPortKeepsTheAddress(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{`192.0.2.43:_p1`, "192.0.2.43"},
		{`[2001:db8:cafe::17]:_a.b-c_d`, "2001:db8:cafe::17"},
		{`192.0.2.43:_`, ""},
		{`192.0.2.43:_a b`, ""},
		{`192.0.2.43:_a!`, ""},
		{`[2001:db8::1]:_`, ""},
	} {
		a, ok := forwarded.ParseNode(tt.in)
		got := ""
		if ok {
			got = a.String()
		}
		if got != tt.want {
			t.Errorf("ParseNode(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	peer := netip.MustParseAddr("10.0.0.1")
	if got := forwarded.ClientForwarded(peer, []string{`for="198.51.100.1:_443"`}, proxies); got.String() != "198.51.100.1" {
		t.Errorf("Forwarded with an obfuscated port: %s", got)
	}
}
