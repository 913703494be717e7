package cors_test

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/jiec/httpmw/cors"
	"github.com/jiec/httpmw/internal/header"
)

var originSeeds = []string{
	"https://example.com", "http://localhost:8080", "https://[2001:db8::1]:8443",
	"http://127.0.0.1", "https://*.example.com", "https://*.example.org:8443",
	"https://example.com/", "HTTPS://example.com", "https://user@example.com",
	"https://example.com:443", "http://0xff000000", "https://*example.com",
	"null", "*", "chrome-extension://abc", "https://a..b", "https://[::1",
	"https://résumé.example", "file:///x", "https://evilexample.com",
	"http://localhost:*", "http://[::1]:*", "https://*.example.com:*", "https://*.github.io",
	"https://[::ffff:7f00:1]", "https://[::ffff:127.0.0.1]", "https://[1:0:0:1:0:0:0:1]",
}

// FuzzParseOrigin checks that every origin the parser accepts is in the
// exact form browsers send (it re-serializes to itself) and that New and the
// matcher agree with the parser.
func FuzzParseOrigin(f *testing.F) {
	for _, s := range originSeeds {
		f.Add(s, strings.Contains(s, "*"))
	}
	f.Fuzz(func(t *testing.T, s string, wildcard bool) {
		scheme, host, port, reason := cors.ParseOrigin(s, wildcard)
		if reason != "" {
			return
		}
		re := scheme + "://" + host
		if port != "" {
			re += ":" + port
		}
		if re != s {
			t.Fatalf("ParseOrigin(%q) accepted a non-canonical form, re-serialized as %q", s, re)
		}
		if strings.ContainsAny(s, "/?#@ \t") && !strings.HasPrefix(s[len(scheme):], "://") {
			t.Fatalf("ParseOrigin(%q) accepted a path, query, fragment or userinfo", s)
		}
		if strings.ToLower(s) != s {
			t.Fatalf("ParseOrigin(%q) accepted uppercase", s)
		}
		m, err := cors.New(cors.Config{Origins: []string{s}, DangerouslyAllowPublicSuffixSubdomains: true, DangerouslyAllowPortWildcards: true})
		if err != nil {
			t.Fatalf("ParseOrigin(%q) accepted it but New rejected it: %v", s, err)
		}
		if port == "*" {
			// Any port and no port; the port is checked, the rest is not.
			base := strings.TrimSuffix(s, ":*")
			if wildcard {
				base = strings.Replace(base, "*", "a", 1)
			}
			if !cors.AllowOrigin(m, base) || !cors.AllowOrigin(m, base+":8080") || cors.AllowOrigin(m, base+":0") || cors.AllowOrigin(m, base+":x") {
				t.Fatalf("port wildcard %q: wrong matches", s)
			}
			return
		}
		if !wildcard {
			if !cors.AllowOrigin(m, s) {
				t.Fatalf("origin %q configured but not allowed", s)
			}
			return
		}
		domain := host[2:]
		suffix := ""
		if port != "" {
			suffix = ":" + port
		}
		if len(domain) <= 250 && !cors.AllowOrigin(m, scheme+"://a."+domain+suffix) {
			t.Fatalf("pattern %q does not match its subdomain", s)
		}
		if cors.AllowOrigin(m, scheme+"://"+domain+suffix) {
			t.Fatalf("pattern %q matches its apex", s)
		}
		if cors.AllowOrigin(m, scheme+"://evil"+domain+suffix) {
			t.Fatalf("pattern %q matches a look-alike domain", s)
		}
	})
}

// FuzzSubdomainMatch checks that the request-time matcher of
// "https://*.example.com" agrees with the origin parser.
func FuzzSubdomainMatch(f *testing.F) {
	for _, s := range originSeeds {
		f.Add(s)
	}
	f.Add("https://a.b.example.com")
	f.Add("https://evil.com/.example.com")
	m, err := cors.New(cors.Config{Origins: []string{"https://*.example.com"}})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, origin string) {
		got := cors.AllowOrigin(m, origin)
		scheme, host, port, reason := cors.ParseOrigin(origin, false)
		want := reason == "" && scheme == "https" && port == "" &&
			strings.HasSuffix(host, ".example.com") && len(origin) <= 512
		if got != want {
			t.Fatalf("origin %q: allowed %t, parser says %t (reason %q)", origin, got, want, reason)
		}
	})
}

// FuzzAllowHeaders checks the bounded Access-Control-Request-Headers parser
// against a naive model: split on commas, trim OWS, count, compare
// case-insensitively.
func FuzzAllowHeaders(f *testing.F) {
	for _, s := range []string{
		"", "authorization", "authorization,content-type", "X-PINGOTHER, Content-Type",
		",,,", strings.Repeat(",", 1024), " authorization ,\tcontent-type", `"authorization"`,
		"authorization,x-other", strings.Repeat("authorization,", 20), "Authorization;q=1",
	} {
		f.Add(s, "")
		f.Add(s, "content-type")
	}
	m, err := cors.New(cors.Config{
		Origins:        []string{"https://example.com"},
		RequestHeaders: []string{"Authorization", "Content-Type", "X-Pingother"},
	})
	if err != nil {
		f.Fatal(err)
	}
	allowed := map[string]bool{"authorization": true, "content-type": true, "x-pingother": true}
	// With "*" under credentials the names are echoed: any token passes.
	star, err := cors.New(cors.Config{
		Origins:        []string{"https://example.com"},
		Credentials:    true,
		RequestHeaders: []string{"*"},
	})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, line1, line2 string) {
		lines := []string{line1}
		if line2 != "" {
			lines = append(lines, line2)
		}
		got := cors.AllowHeaders(m, lines)
		gotStar := cors.AllowHeaders(star, lines)
		want := len(line1)+len(line2) <= header.MaxLen
		wantStar := want
		names, empty := 0, 0
		for _, l := range lines {
			parts := strings.Split(l, ",")
			if l == "" {
				parts = nil
			} else if strings.HasSuffix(l, ",") {
				parts = parts[:len(parts)-1] // a trailing comma ends the list
			}
			for _, p := range parts {
				p = header.TrimOWS(p)
				if p == "" {
					empty++
					continue
				}
				names++
				if !allowed[asciiLower(p)] {
					want = false
				}
				if !header.IsToken(p) {
					wantStar = false
				}
			}
		}
		if empty > cors.MaxEmptyElems || names > cors.MaxElems(m) {
			want = false
		}
		if empty > cors.MaxEmptyElems || names > cors.MaxElems(star) {
			wantStar = false
		}
		if got != want {
			t.Fatalf("AllowHeaders(%q) = %t, model says %t (names %d, empty %d)", lines, got, want, names, empty)
		}
		if gotStar != wantStar {
			t.Fatalf("star: AllowHeaders(%q) = %t, model says %t (names %d, empty %d)", lines, gotStar, wantStar, names, empty)
		}
	})
}

func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// FuzzSerializeIPv6: the WHATWG serializer agrees with RFC 5952 (netip)
// except for IPv4-mapped addresses, which it keeps in hex, and its output
// parses back to the same address.
func FuzzSerializeIPv6(f *testing.F) {
	for _, s := range []string{"::1", "::", "2001:db8::1", "::ffff:127.0.0.1", "1:0:0:1:0:0:0:1", "0:0:1::", "2001:db8:0:1:1:1:1:1"} {
		f.Add(netip.MustParseAddr(s).AsSlice())
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) != 16 {
			return
		}
		a := netip.AddrFrom16([16]byte(b))
		got := cors.SerializeIPv6([16]byte(b))
		if back, err := netip.ParseAddr(got); err != nil || back != a {
			t.Fatalf("%v serialized as %q, which parses as %v (%v)", a, got, back, err)
		}
		if strings.ToLower(got) != got || strings.Contains(got, ".") {
			t.Fatalf("%v serialized as %q: uppercase or dotted", a, got)
		}
		if !a.Is4In6() && got != a.String() {
			t.Fatalf("%v serialized as %q, RFC 5952 says %q", a, got, a.String())
		}
	})
}
